"""RET-04, EXP-01 and the report's export figures over evidence read from Azure (and attestations)."""

from __future__ import annotations

from typing import Any

from assessor.engine.registry import load_catalogue
from assessor.profiles import Profile, load_profile
from tests.helpers.support import assess_doc, finding


def profile_with(**changes: Any) -> Profile:
    """The baseline profile with every check selected, plus changes."""
    base = load_profile("baseline").model_dump()
    base["checks"] = {m.id: {"severity": "high"} for m in load_catalogue()}
    base.update(changes)
    return Profile.model_validate(base)


SUB = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/soc/providers"
LAW = f"{SUB}/Microsoft.OperationalInsights/workspaces/soc-law"
STORAGE = f"{SUB}/Microsoft.Storage/storageAccounts/auditarchive"
HUB = f"{SUB}/Microsoft.EventHub/namespaces/ns/authorizationRules/RootManageSharedAccessKey"

ENTRA = profile_with(entra_log_days=365, retention={"searchable_days": 180, "retrievable_days": 365})


def workspace(days: int = 730, sentinel: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "log_analytics",
        "id": LAW,
        "retention_days": 90,
        "tables": {"SigninLogs": days, "AuditLogs": days, "OfficeActivity": days},
        "sentinel_office365": sentinel,
        **extra,
    }


O365 = {"name": "o365", "exchange": True, "sharepoint": True, "teams": True}


def read(
    doc: dict[str, Any], settings: list[dict[str, Any]] | None, destinations: list[dict[str, Any]], **azure: Any
) -> dict[str, Any]:
    doc["log_export"] = {
        "provenance": {"status": "collected", "source": "Azure Resource Manager"},
        "data": {
            "azure": {
                "subscriptions": ["11111111-1111-4111-8111-111111111111"],
                "entra_diagnostic_settings": settings,
                "destinations": destinations,
                **azure,
            }
        },
    }
    return doc


def setting(
    *destinations: str, categories: tuple[str, ...] = ("SignInLogs", "AuditLogs"), **extra: Any
) -> dict[str, Any]:
    return {"name": "to-soc", "destinations": list(destinations), "categories": list(categories), **extra}


def check(doc: dict[str, Any], check_id: str, profile: Any = ENTRA) -> Any:
    return finding(assess_doc(doc, profile), check_id)


# ---------------------------------------------------------------- RET-04


def test_ret04_passes_on_a_workspace_that_keeps_entra_tables_long_enough(e3: dict[str, Any]) -> None:
    f = check(read(e3, [setting(LAW)], [workspace(730)]), "RET-04")
    assert f.status.value == "pass" and "(read)" in f.message and "soc-law" in f.message
    assert f.evidence["source"] == "read"


def test_ret04_fails_naming_the_short_destination(e3: dict[str, Any]) -> None:
    f = check(read(e3, [setting(LAW)], [workspace(90)]), "RET-04")
    assert f.status.value == "fail"
    assert "workspace soc-law (90 days)" in f.message and "365" in f.message


def test_ret04_table_retention_decides_not_the_workspace_default(e3: dict[str, Any]) -> None:
    ws = workspace(730)
    ws["retention_days"] = 730
    ws["tables"]["SigninLogs"] = 30  # a shorter per-table setting wins over the workspace default
    f = check(read(e3, [setting(LAW)], [ws]), "RET-04")
    assert f.status.value == "fail" and "SignInLogs" in f.message


def test_ret04_fails_when_no_setting_sends_sign_ins(e3: dict[str, Any]) -> None:
    f = check(read(e3, [setting(LAW, categories=("AuditLogs",))], [workspace()]), "RET-04")
    assert f.status.value == "fail" and "SignInLogs" in f.message
    f = check(read(e3, [], [workspace()]), "RET-04")
    assert f.status.value == "fail"


def test_ret04_unknown_when_the_destination_cannot_be_read(e3: dict[str, Any]) -> None:
    unread = workspace()
    unread["tables"] = {}
    unread["unread"] = [{"what": LAW, "reason": "403 AuthorizationFailed", "fix": "Reader on the subscription"}]
    f = check(read(e3, [setting(LAW)], [unread]), "RET-04")
    assert f.status.value == "unknown" and "403" in f.message and f.fix
    f = check(read(e3, [setting(HUB)], []), "RET-04")  # an event hub streams on: retention unknowable
    assert f.status.value == "unknown" and "event hub" in f.message


def test_ret04_storage_lifecycle_and_legacy_retention(e3: dict[str, Any]) -> None:
    storage = {"kind": "storage", "id": STORAGE, "retention_days": 400}
    assert check(read(e3, [setting(STORAGE)], [storage]), "RET-04").status.value == "pass"
    short_legacy = setting(STORAGE, retention_days=200)  # the setting's own retention deletes earlier
    assert check(read(e3, [short_legacy], [storage]), "RET-04").status.value == "fail"
    forever = {"kind": "storage", "id": STORAGE, "kept_until_deleted": True}
    report = assess_doc(read(e3, [setting(STORAGE)], [forever]), ENTRA)
    assert finding(report, "RET-04").status.value == "pass"
    assert report.export.entra_export_kept_until_deleted and report.export.entra_export_retention_days is None


def test_ret04_longest_copy_counts(e3: dict[str, Any]) -> None:
    storage = {"kind": "storage", "id": STORAGE, "retention_days": 800}
    f = check(read(e3, [setting(LAW, STORAGE)], [workspace(90), storage]), "RET-04")
    assert f.status.value == "pass" and "auditarchive" in f.message


def test_ret04_unknown_when_settings_unreadable_naming_the_role(e3: dict[str, Any]) -> None:
    gap = {
        "what": "/providers/microsoft.aadiam/diagnosticSettings",
        "reason": "403 AuthorizationFailed",
        "fix": "Reader at scope /providers/Microsoft.aadiam",
    }
    f = check(read(e3, None, [workspace()], gaps=[gap]), "RET-04")
    assert f.status.value == "unknown" and f.fix == "Reader at scope /providers/Microsoft.aadiam"


def test_ret04_read_wins_over_attested(e3: dict[str, Any]) -> None:
    doc = read(e3, [setting(LAW)], [workspace(90)])
    doc["log_export"]["data"]["entra_diagnostic_settings"] = [setting("Log Analytics: soc", retention_days=999)]
    f = check(doc, "RET-04")
    assert f.status.value == "fail" and f.evidence["source"] == "read"


# ---------------------------------------------------------------- EXP-01


def test_exp01_passes_when_sentinel_keeps_office_activity_long_enough(mixed: dict[str, Any]) -> None:
    doc = read(mixed, [setting(LAW)], [workspace(730, [O365])])
    f = check(doc, "EXP-01")
    assert f.status.value == "fail"  # Other record types are not forwarded by the Office 365 connector
    assert "Other" in f.message and "Office 365 connector" in f.message
    assert f.evidence["workloads"]["Exchange"]["retrievable"] is True
    # when Purview keeps the other record types long enough, the forwarded copy closes the rest
    long_other = profile_with(retention={"searchable_days": 90, "retrievable_days": 180})
    assert check(doc, "EXP-01", long_other).status.value == "pass"


def test_exp01_fails_without_connector_and_names_what_is_short(mixed: dict[str, Any]) -> None:
    f = check(read(mixed, [setting(LAW)], [workspace(90, [])]), "EXP-01")
    assert f.status.value == "fail" and "Exchange" in f.message and "not forwarded" in f.message
    report = assess_doc(read(mixed, [setting(LAW)], [workspace(90, [])]), ENTRA)
    assert report.export.ual_forwarded is False and report.export.source == "read"


def test_exp01_short_forwarded_copy_fails(mixed: dict[str, Any]) -> None:
    f = check(read(mixed, [setting(LAW)], [workspace(90, [O365])]), "EXP-01")
    assert f.status.value == "fail" and "soc-law 90 days" in f.message


def test_exp01_unknown_when_connectors_unreadable(mixed: dict[str, Any]) -> None:
    ws = workspace(730, None, unread=[{"what": LAW, "reason": "403", "fix": "Microsoft Sentinel Reader"}])
    f = check(read(mixed, [setting(LAW)], [ws]), "EXP-01")
    assert f.status.value == "unknown" and "Microsoft Sentinel Reader" in (f.fix or "")


def test_exp01_read_value_wins_over_attested(mixed: dict[str, Any]) -> None:
    doc = read(mixed, [setting(LAW)], [workspace(90, [])])
    doc["log_export"]["data"].update({"siem_attested": True, "siem_retention_days": 3650, "attested_by": "SOC"})
    f = check(doc, "EXP-01")
    assert f.status.value == "fail" and f.evidence.get("attestation_overridden") is True


def test_export_figures_contract(mixed: dict[str, Any]) -> None:
    report = assess_doc(
        read(
            mixed,
            [setting(LAW, STORAGE)],
            [workspace(730, [O365]), {"kind": "storage", "id": STORAGE, "retention_days": 30}],
        ),
        ENTRA,
    )
    e = report.to_json_dict()["export"]
    for key in (
        "entra_diagnostic_settings",
        "destinations",
        "ual_forwarded",
        "ual_forward_retention_days",
        "entra_export_retention_days",
        "source",
    ):
        assert key in e
    assert e["source"] == "read" and e["ual_forwarded"] is True and e["ual_forward_retention_days"] == 730
    assert e["entra_export_retention_days"] == 730
    assert e["entra_diagnostic_settings"][0] == {
        "name": "to-soc",
        "categories": ["SignInLogs", "AuditLogs"],
        "destinations": [LAW, STORAGE],
        "source": "read",
    }
    kinds = {d["kind"]: d for d in e["destinations"]}
    assert kinds["log_analytics"]["tables"]["OfficeActivity"] == 730 and kinds["storage"]["retention_days"] == 30


def test_export_not_collected_is_none(e3: dict[str, Any]) -> None:
    e = assess_doc(e3, ENTRA).export
    assert e.source == "none" and e.ual_forwarded is None and e.entra_export_retention_days is None
