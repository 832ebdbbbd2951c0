"""Each check's pass, fail and unknown paths, over plain evidence documents."""

from __future__ import annotations

from typing import Any

import pytest

from assessor.engine.registry import load_catalogue
from assessor.profiles import Profile, load_profile
from tests.helpers.support import assess_doc, finding, not_collected

ALL_IDS = [m.id for m in load_catalogue()]


def profile_with(**changes: Any) -> Profile:
    """The baseline profile with every check selected, plus changes."""
    base = load_profile("baseline").model_dump()
    base["checks"] = {cid: {"severity": "high", "controls": [f"TEST-{cid}"]} for cid in ALL_IDS}
    base.update(changes)
    return Profile.model_validate(base)


ALL = profile_with()


def status(doc: dict[str, Any], check_id: str, profile: Profile = ALL) -> str:
    return finding(assess_doc(doc, profile), check_id).status.value


# ---------------------------------------------------------------- AUD


def test_aud01_paths(mixed: dict[str, Any], e3: dict[str, Any]) -> None:
    assert status(mixed, "AUD-01") == "pass"
    assert status(e3, "AUD-01") == "fail"
    mixed["exchange"]["admin_audit_log_config"] = not_collected()
    f = finding(assess_doc(mixed, ALL), "AUD-01")
    assert f.status.value == "unknown" and f.fix == "Some.Permission"


def test_aud01_records_show_the_past_not_the_present(mixed: dict[str, Any]) -> None:
    """Records show ingestion was on until the newest of them, not that it is on now: unknown."""
    mixed["exchange"]["admin_audit_log_config"] = not_collected()
    mixed["audit_probe"] = {
        "provenance": {"status": "collected", "source": "probe"},
        "data": {
            "window_start": "2026-11-18T00:00:00Z",
            "window_end": "2026-11-25T00:00:00Z",
            "total_records": 40,
            "queries": [{"id": "q1", "status": "succeeded", "operations": ["MailItemsAccessed"]}],
            "operations": {
                "MailItemsAccessed": {"records": 40, "distinct_users": 4, "last_seen": "2026-11-24T22:00:00Z"}
            },
        },
    }
    f = finding(assess_doc(mixed, ALL), "AUD-01")
    assert f.status.value == "unknown" and "on until 2026-11-24T22:00:00" in f.message
    assert f.fix == "Some.Permission"
    mixed["exchange"]["admin_audit_log_config"] = {
        "provenance": {"status": "collected"},
        "data": {"unified_audit_log_ingestion_enabled": True},
    }
    mixed["audit_probe"]["data"]["total_records"] = 0
    mixed["audit_probe"]["data"]["operations"] = {}
    f = finding(assess_doc(mixed, ALL), "AUD-01")
    assert f.status.value == "warn" and "not even of MailItemsAccessed" in f.message
    # an empty off-by-default event, or a failed query, says nothing about ingestion
    queries = mixed["audit_probe"]["data"]["queries"]
    queries[0]["operations"] = ["SearchQueryInitiatedExchange"]
    assert status(mixed, "AUD-01") == "pass"
    queries[0]["operations"] = ["MailItemsAccessed"]
    queries.append({"id": "q2", "status": "failed", "operations": ["Send"], "error": "query ended 'failed'"})
    assert status(mixed, "AUD-01") == "pass"


def test_aud02_paths(mixed: dict[str, Any]) -> None:
    assert status(mixed, "AUD-02") == "pass"
    mixed["exchange"]["organization_config"]["data"]["audit_disabled"] = True
    report = assess_doc(mixed, ALL)
    assert finding(report, "AUD-02").status.value == "fail"
    assert finding(report, "AUD-04").status.value == "fail"  # org-wide off overrides every mailbox
    assert report.events["MailItemsAccessed"].audited_mailboxes == 0
    mixed["exchange"]["organization_config"] = not_collected()
    assert status(mixed, "AUD-02") == "unknown"


def test_aud03_paths(mixed: dict[str, Any], e3: dict[str, Any]) -> None:
    assert status(mixed, "AUD-03") == "pass"
    f = finding(assess_doc(e3, ALL), "AUD-03")
    assert f.status.value == "fail" and "svc-backup@northwind.example" in f.message
    e3["exchange"]["bypass"] = not_collected()
    assert status(e3, "AUD-03") == "unknown"


def test_aud04_customised_owner_lacks_mailitemsaccessed(mixed: dict[str, Any]) -> None:
    report = assess_doc(mixed, ALL)
    f = finding(report, "AUD-04")
    assert f.status.value == "fail"
    assert report.audit.mailboxes_missing_mailitemsaccessed == 16
    assert report.audit.missing_by_action == {"Owner": {"MailItemsAccessed": 16, "Send": 16}}


def test_aud04_default_set_has_defaults_and_search_only_when_required(e3: dict[str, Any]) -> None:
    assert status(e3, "AUD-04") == "pass"  # default audit set: MailItemsAccessed and Send are on
    search = profile_with(required_events=["MailItemsAccessed", "Send", "SearchQueryInitiatedExchange"])
    report = assess_doc(e3, search)
    assert finding(report, "AUD-04").status.value == "fail"  # SearchQueryInitiated is never a default
    assert report.audit.missing_by_action == {"Owner": {"SearchQueryInitiated": 236}}
    # adding an action customises the logon type: Get-Mailbox then reports the whole list, defaults included
    cfg = e3["exchange"]["mailboxes"]["data"]["configurations"][0]
    cfg["default_audit_set"] = ["Admin", "Delegate"]
    cfg["audit_owner"] = ["MailItemsAccessed", "Send", "SearchQueryInitiated", "Update"]
    assert status(e3, "AUD-04", search) == "pass"
    # the reported actions decide, not a default list: a reported list without Send lacks Send
    cfg["default_audit_set"] = ["Admin", "Delegate", "Owner"]
    cfg["audit_owner"] = ["MailItemsAccessed", "SearchQueryInitiated"]
    assert finding(assess_doc(e3, search), "AUD-04").status.value == "fail"


def test_aud04_customised_with_action_listed_passes(mixed: dict[str, Any]) -> None:
    cfg = mixed["exchange"]["mailboxes"]["data"]["configurations"][1]
    cfg["audit_owner"] += ["MailItemsAccessed", "Send"]
    assert status(mixed, "AUD-04") == "pass"
    mixed["exchange"]["mailboxes"] = not_collected()
    assert status(mixed, "AUD-04") == "unknown"


def test_aud04_cis_full_lists(mixed: dict[str, Any]) -> None:
    report = assess_doc(mixed, "cis-m365")
    f = finding(report, "AUD-04")
    assert f.status.value == "fail"
    assert report.audit.missing_by_action is not None
    assert "MailboxLogin" in report.audit.missing_by_action["Owner"]
    assert f.controls == ["CIS 6.1.2"]


# ---------------------------------------------------------------- LIC


def test_lic01_paths(mixed: dict[str, Any], e3: dict[str, Any]) -> None:
    assert status(mixed, "LIC-01") == "pass"
    assert status(e3, "LIC-01") == "fail"
    e3["skus"] = not_collected(fix="LicenseAssignment.Read.All")
    f = finding(assess_doc(e3, ALL), "LIC-01")
    assert f.status.value == "unknown" and f.fix == "LicenseAssignment.Read.All"


def test_lic02_paths(mixed: dict[str, Any]) -> None:
    prof = profile_with(premium_scope="all")
    report = assess_doc(mixed, prof)
    assert finding(report, "LIC-02").status.value == "fail"
    assert report.licensing.users_without_premium_audit == 408
    assert report.licensing.recommendation is not None and report.licensing.recommendation.buy == 400
    mixed["users"]["data"]["counts"]["in_scope_premium"] = 505
    mixed["users"]["data"]["counts"]["in_scope"] = 505
    assert status(mixed, "LIC-02", prof) == "pass"
    assert status(mixed, "LIC-02", profile_with(premium_scope="privileged")) == "not_applicable"
    mixed["users"] = not_collected()
    assert status(mixed, "LIC-02", prof) == "unknown"


def test_lic03_privileged_on_e3(mixed: dict[str, Any]) -> None:
    report = assess_doc(mixed, ALL)
    f = finding(report, "LIC-03")
    assert f.status.value == "fail"
    assert report.licensing.privileged_users == 3  # the service principal is not a user
    assert report.licensing.privileged_users_without_premium_audit == 2
    assert "ceo-admin@contoso.example" in f.message


def test_lic03_pass_and_unknown(mixed: dict[str, Any]) -> None:
    holders = mixed["privileged"]["data"]["holders"]
    mixed["privileged"]["data"]["holders"] = [
        h for h in holders if "E5" in (h.get("user") or {}).get("display_name", "")
    ]
    assert status(mixed, "LIC-03") == "pass"
    mixed["privileged"]["data"]["holders"][0]["user"] = None  # licences of a holder unreadable
    assert status(mixed, "LIC-03") == "unknown"
    mixed["privileged"] = not_collected(fix="RoleManagement.Read.Directory")
    f = finding(assess_doc(mixed, ALL), "LIC-03")
    assert f.status.value == "unknown" and f.fix == "RoleManagement.Read.Directory"


def test_lic04_unassigned_seats_and_suspended(mixed: dict[str, Any], gov: dict[str, Any]) -> None:
    f = finding(assess_doc(mixed, ALL), "LIC-04")
    assert f.status.value == "warn"
    assert "8 paid Premium-audit seat(s) are unassigned" in f.message
    assert "INFORMATION_PROTECTION_COMPLIANCE (Suspended)" in f.message
    assert status(gov, "LIC-04") == "pass"
    gov["skus"] = not_collected()
    assert status(gov, "LIC-04") == "unknown"


def test_lic05_paths(mixed: dict[str, Any]) -> None:
    assert status(mixed, "LIC-05") == "pass"
    for s in mixed["skus"]["data"]:
        s["service_plans"] = [
            p for p in s["service_plans"] if p["service_plan_name"] not in ("AAD_PREMIUM", "AAD_PREMIUM_P2")
        ]
    assert status(mixed, "LIC-05") == "fail"
    mixed["skus"] = not_collected()
    assert status(mixed, "LIC-05") == "unknown"


# ---------------------------------------------------------------- RET


def test_ret01_priority_trap_fails_with_policy_named(mixed: dict[str, Any]) -> None:
    report = assess_doc(mixed, ALL)
    f = finding(report, "RET-01")
    assert f.status.value == "fail"
    assert "'Exchange short-term (pilot)' (priority 1, 7 days) overrides 'All Exchange one year'" in f.message
    assert report.retention.workloads["Exchange"].effective_days_min == 7
    assert report.retention.workloads["Exchange"].users_short == 505  # Standard users too: 7 < 180


def test_ret01_pass_and_unknown(e3: dict[str, Any], gov: dict[str, Any]) -> None:
    f = finding(assess_doc(e3, ALL), "RET-01")  # the example's ingestion is off: nothing is retained
    assert f.status.value == "fail" and "no records are being written" in f.message
    assert "UnifiedAuditLogIngestionEnabled $true" in (f.remediation or "")
    e3["exchange"]["admin_audit_log_config"]["data"]["unified_audit_log_ingestion_enabled"] = True
    assert status(e3, "RET-01") == "pass"  # Standard 180 days meets the baseline's 180
    f = finding(assess_doc(gov, ALL), "RET-01")
    assert f.status.value == "unknown"
    assert f.fix is not None and "Organization Configuration" in f.fix


def test_ret02_paths(mixed: dict[str, Any]) -> None:
    assert status(mixed, "RET-02") == "pass"
    assert status(mixed, "RET-02", profile_with(retention={"searchable_days": 365, "retrievable_days": 365})) == "fail"
    mixed["users"] = not_collected()
    assert status(mixed, "RET-02") == "unknown"


def test_ret03_paths(mixed: dict[str, Any], e3: dict[str, Any]) -> None:
    # The 10-year policy names counsel@, who lacks the add-on: flagged even when not required.
    f = finding(assess_doc(mixed, ALL), "RET-03")
    assert f.status.value == "fail" and "Legal hold ten years" in f.message
    long = profile_with(retention={"searchable_days": 180, "retrievable_days": 913})
    assert status(e3, "RET-03") == "not_applicable"
    assert status(e3, "RET-03", long) == "unknown"  # export evidence not collected
    e3["log_export"] = {
        "provenance": {"status": "imported", "file": "attest.json"},
        "data": {"siem_attested": True, "siem_retention_days": 1000},
    }
    f = finding(assess_doc(e3, long), "RET-03")  # ingestion is off: nothing is written to export
    assert f.status.value == "fail" and f.caused_by == "AUD-01"
    e3["exchange"]["admin_audit_log_config"]["data"]["unified_audit_log_ingestion_enabled"] = True
    assert status(e3, "RET-03", long) == "pass"
    e3["log_export"]["data"]["siem_retention_days"] = 400
    assert status(e3, "RET-03", long) == "fail"


def test_ret04_paths(e3: dict[str, Any]) -> None:
    assert status(e3, "RET-04") == "pass"  # P1: 30 days meets 30
    long = profile_with(entra_log_days=90)
    assert status(e3, "RET-04", long) == "unknown"
    e3["log_export"] = {
        "provenance": {"status": "collected"},
        "data": {
            "entra_diagnostic_settings": [
                {
                    "name": "la",
                    "destinations": ["workspace"],
                    "categories": ["SignInLogs", "AuditLogs"],
                    "retention_days": 365,
                }
            ]
        },
    }
    assert status(e3, "RET-04", long) == "pass"
    e3["log_export"]["data"]["entra_diagnostic_settings"][0]["categories"] = ["AuditLogs"]
    assert status(e3, "RET-04", long) == "fail"


# ---------------------------------------------------------------- EVT / EXP


def probe(ops: dict[str, tuple[int, int]]) -> dict[str, Any]:
    return {
        "provenance": {"status": "collected", "source": "POST /security/auditLog/queries"},
        "data": {
            "window_start": "2026-11-18T00:00:00Z",
            "window_end": "2026-11-25T00:00:00Z",
            "total_records": sum(r for r, _ in ops.values()),
            "queries": [{"id": "q", "status": "succeeded", "operations": list(ops)}],
            "operations": {op: {"records": r, "distinct_users": u} for op, (r, u) in ops.items()},
        },
    }


@pytest.mark.parametrize(("check_id", "event"), [("EVT-01", "MailItemsAccessed"), ("EVT-02", "Send")])
def test_evt_paths(e3: dict[str, Any], check_id: str, event: str) -> None:
    assert status(e3, check_id) == "fail"  # the example's ingestion is off: nothing is recorded
    e3["exchange"]["admin_audit_log_config"]["data"]["unified_audit_log_ingestion_enabled"] = True
    assert status(e3, check_id) == "pass"  # configured, not probed
    e3["audit_probe"] = probe({event: (0, 0)})
    f = finding(assess_doc(e3, ALL), check_id)
    assert f.status.value == "warn" and "no " + event in f.message
    assert status(e3, check_id, profile_with(missing_event_status="fail")) == "fail"
    e3["audit_probe"] = probe({event: (50, 20)})
    report = assess_doc(e3, ALL)
    assert finding(report, check_id).status.value == "pass"
    assert report.events[event].observed_users == 20
    e3["exchange"]["mailboxes"] = not_collected()
    e3["audit_probe"] = not_collected()
    assert status(e3, check_id) == "unknown"


def test_evt01_fails_for_customised_mailboxes(mixed: dict[str, Any]) -> None:
    f = finding(assess_doc(mixed, ALL), "EVT-01")
    assert f.status.value == "fail" and f.message.startswith("16 of 505")


@pytest.mark.parametrize(
    ("check_id", "event"), [("EVT-03", "SearchQueryInitiatedExchange"), ("EVT-04", "SearchQueryInitiatedSharePoint")]
)
def test_search_events(e3: dict[str, Any], check_id: str, event: str) -> None:
    e3["exchange"]["admin_audit_log_config"]["data"]["unified_audit_log_ingestion_enabled"] = True
    assert status(e3, check_id) == "not_applicable"  # baseline does not ask for search events
    prof = profile_with(required_events=["MailItemsAccessed", event])
    f = finding(assess_doc(e3, prof), check_id)
    assert f.status.value == "fail" and "off by default" in f.message
    e3["exchange"]["mailboxes"]["data"]["configurations"][0]["audit_owner"] = ["SearchQueryInitiated"]
    assert status(e3, check_id, prof) == "pass"
    e3["skus"] = not_collected()
    assert status(e3, check_id, prof) == "unknown"


def test_exp01_paths(mixed: dict[str, Any], e3: dict[str, Any]) -> None:
    long = profile_with(retention={"searchable_days": 180, "retrievable_days": 365})
    assert status(mixed, "EXP-01", long) == "pass"  # attested 365 days
    assert status(e3, "EXP-01", long) == "unknown"
    e3["log_export"] = {"provenance": {"status": "imported", "file": "a.json"}, "data": {"siem_attested": False}}
    assert status(e3, "EXP-01", long) == "fail"
    assert status(e3, "EXP-01") == "pass"  # baseline: 180 retrievable days met in Purview


# ---------------------------------------------------------------- engine guarantees


def test_every_catalogue_check_gets_one_finding(mixed: dict[str, Any]) -> None:
    report = assess_doc(mixed, ALL)
    assert [f.check_id for f in report.findings] == ALL_IDS
    assert len(ALL_IDS) == 19


def test_raising_check_becomes_error(mixed: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from assessor.engine import registry as reg

    checks = reg.registry()
    broken = next(c for c in checks if c.meta.id == "AUD-02")

    def boom(ctx: Any) -> Any:
        raise RuntimeError("kaboom")

    patched = tuple(reg.RegisteredCheck(c.meta, boom) if c is broken else c for c in checks)
    monkeypatch.setattr("assessor.engine.runner.registry", lambda: patched)
    report = assess_doc(mixed, ALL)
    f = finding(report, "AUD-02")
    assert f.status.value == "error" and "kaboom" in f.message
    assert finding(report, "AUD-01").status.value == "pass"


def test_not_collected_sections_make_figures_null_and_checks_not_pass(gov: dict[str, Any]) -> None:
    report = assess_doc(gov, ALL)
    assert report.audit.ual_ingestion_enabled is None
    assert report.audit.mailboxes_missing_mailitemsaccessed is None
    assert report.audit.bypass_mailboxes is None
    assert report.retention.workloads["Exchange"].effective_days_min is None
    assert report.events["MailItemsAccessed"].audited_mailboxes is None
    for cid in ("AUD-01", "AUD-02", "AUD-03", "AUD-04", "RET-01", "RET-02", "EVT-01", "EVT-02"):
        assert finding(report, cid).status.value == "unknown", cid
    assert report.verdict == "incomplete"


def test_evt_unknown_when_requested_probe_failed(e3: dict[str, Any]) -> None:
    e3["exchange"]["admin_audit_log_config"]["data"]["unified_audit_log_ingestion_enabled"] = True
    e3["audit_probe"] = not_collected("the audit search API exists in the Global cloud only", "AuditLogsQuery.Read.All")
    f = finding(assess_doc(e3, ALL), "EVT-01")
    assert f.status.value == "unknown" and "Global cloud only" in f.message
    e3["audit_probe"]["provenance"]["requested"] = False  # not asked for: configuration alone decides
    assert status(e3, "EVT-01") == "pass"


def test_evt_lower_bound_and_coverage(e3: dict[str, Any]) -> None:
    e3["exchange"]["admin_audit_log_config"]["data"]["unified_audit_log_ingestion_enabled"] = True
    e3["audit_probe"] = probe({"MailItemsAccessed": (5000, 300)})  # 300 accounts, 236 in-scope users
    e3["audit_probe"]["data"]["queries"][0]["record_count_limit_exceeded"] = True
    report = assess_doc(e3, ALL)
    fig = report.events["MailItemsAccessed"]
    assert fig.lower_bound and fig.coverage_pct is None  # more accounts than users: not computable from counts
    assert "at least 300" in finding(report, "EVT-01").message
    e3["audit_probe"]["data"]["operations"]["MailItemsAccessed"]["in_scope_users"] = 177  # known (detail mode)
    fig = assess_doc(e3, ALL).events["MailItemsAccessed"]
    assert fig.observed_in_scope_users == 177 and fig.coverage_pct == 75.0 and not fig.coverage_upper_bound
    e3["audit_probe"]["data"]["operations"]["MailItemsAccessed"].update(distinct_users=118, in_scope_users=None)
    fig = assess_doc(e3, ALL).events["MailItemsAccessed"]
    assert fig.coverage_pct == 50.0 and fig.coverage_upper_bound
    # actors named only by an object id may be users: the upper bound counts them too
    e3["audit_probe"]["data"]["operations"]["MailItemsAccessed"]["actors"] = {
        "accounts": 118,
        "ids": 59,
        "system_records": 3,
        "unknown_records": 2,
    }
    fig = assess_doc(e3, ALL).events["MailItemsAccessed"]
    assert fig.coverage_pct == 75.0 and fig.coverage_upper_bound and fig.observed_users == 118
    assert (fig.observed_ids, fig.observed_system_records, fig.observed_unknown_records) == (59, 3, 2)


def test_aud04_samples_only_affected_mailboxes(mixed: dict[str, Any]) -> None:
    f = finding(assess_doc(mixed, ALL), "AUD-04")
    assert f.evidence["sample_mailboxes"] == ["legacy-finance@contoso.example", "old-hr@contoso.example"]


# ------------------------------------------------- no pass from settings that were not (all) read


@pytest.mark.parametrize("check_id", ["EVT-01", "EVT-02"])
def test_evt_fails_when_ingestion_is_off_and_is_unknown_when_unread(e3: dict[str, Any], check_id: str) -> None:
    f = finding(assess_doc(e3, ALL), check_id)
    assert f.status.value == "fail" and "ingestion is disabled" in f.message
    e3["exchange"]["admin_audit_log_config"] = not_collected("no token", "Exchange.ManageAsApp")
    f = finding(assess_doc(e3, ALL), check_id)
    assert f.status.value == "unknown" and "ingestion setting was not read" in f.message
    assert f.fix == "Exchange.ManageAsApp"


@pytest.mark.parametrize("check_id", ["AUD-04", "EVT-01", "EVT-02"])
def test_no_pass_when_the_org_switch_was_not_read(e3: dict[str, Any], check_id: str) -> None:
    e3["exchange"]["admin_audit_log_config"]["data"]["unified_audit_log_ingestion_enabled"] = True
    assert status(e3, check_id) == "pass"
    e3["exchange"]["organization_config"] = not_collected("401 from Exchange", "Exchange.ManageAsApp")
    f = finding(assess_doc(e3, ALL), check_id)
    assert f.status.value == "unknown" and "AuditDisabled" in f.message and f.fix == "Exchange.ManageAsApp"


@pytest.mark.parametrize("check_id", ["AUD-04", "EVT-01", "EVT-02"])
def test_no_pass_from_an_empty_mailbox_list(e3: dict[str, Any], check_id: str) -> None:
    e3["exchange"]["admin_audit_log_config"]["data"]["unified_audit_log_ingestion_enabled"] = True
    data = e3["exchange"]["mailboxes"]["data"]
    data["total_user_mailboxes"], data["configurations"] = 0, []
    f = finding(assess_doc(e3, ALL), check_id)
    assert f.status.value == "unknown" and "no user mailbox" in f.message


def test_records_in_the_log_never_stand_in_for_unread_settings(e3: dict[str, Any]) -> None:
    """Records prove the event flows for the accounts seen, not for the others: without the mailbox
    settings (or the ingestion switch) EVT-01 is unknown with the observed coverage, never pass."""
    for name in ("admin_audit_log_config", "organization_config", "mailboxes"):
        e3["exchange"][name] = not_collected()
    e3["audit_probe"] = probe({"MailItemsAccessed": (50, 20)})
    f = finding(assess_doc(e3, ALL), "EVT-01")
    assert f.status.value == "unknown" and "observed for 20 users" in f.message and "% of in-scope users" in f.message
    assert "mailbox audit settings were not read" in f.message


def test_a_partial_mailbox_list_is_not_a_pass(e3: dict[str, Any]) -> None:
    e3["exchange"]["admin_audit_log_config"]["data"]["unified_audit_log_ingestion_enabled"] = True
    data = e3["exchange"]["mailboxes"]["data"]
    data["total_user_mailboxes"] = 1000
    data["configurations"][0]["count"] = 1000
    e3["users"]["data"]["counts"]["in_scope"] = 1200
    e3["users"]["data"]["counts"]["enabled_members"] = max(e3["users"]["data"]["counts"]["enabled_members"], 1200)
    e3["users"]["data"]["counts"]["total"] = max(e3["users"]["data"]["counts"]["total"], 1250)
    report = assess_doc(e3, ALL)
    aud = finding(report, "AUD-04")
    assert aud.status.value == "warn" and "200 have no mailbox" in aud.message and "ResultSize Unlimited" in aud.message
    evt = finding(report, "EVT-01")
    assert evt.status.value == "unknown" and "only 1000 user mailboxes" in evt.message
