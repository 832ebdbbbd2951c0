"""Microsoft's rules as they apply per user licence (issue 13): default actions and AuditEnabled by
licence, retention by the actor's licence, multi-year policies without the add-on, dated events."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from assessor.profiles import load_profile
from tests.helpers.support import assess_doc, finding, not_collected

BASE = load_profile("baseline")
YEAR = BASE.model_copy(
    update={"retention": BASE.retention.model_copy(update={"searchable_days": 365, "retrievable_days": 365})}
)
SPB = "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46"  # Microsoft 365 Business Premium (licensing CSV)
EXO_PLAN1 = "9aaf7827-d63c-4b61-89c3-182f06f82e5c"  # EXCHANGE_S_STANDARD


def ingesting(doc: dict[str, Any]) -> dict[str, Any]:
    doc["exchange"]["admin_audit_log_config"]["data"]["unified_audit_log_ingestion_enabled"] = True
    return doc


def with_business_seats(doc: dict[str, Any], consumed: int) -> dict[str, Any]:
    doc["skus"]["data"].append(
        {
            "sku_id": SPB,
            "sku_part_number": "SPB",
            "capability_status": "Enabled",
            "consumed_units": consumed,
            "prepaid_units": {"enabled": consumed},
            "service_plans": [{"service_plan_id": EXO_PLAN1, "service_plan_name": "EXCHANGE_S_STANDARD"}],
        }
    )
    return doc


# ---------------------------------------------------------------- rule 2: AuditEnabled on non-E5 mailboxes


def test_non_e5_mailboxes_with_audit_enabled_false_are_not_searchable(e3: dict[str, Any]) -> None:
    doc = ingesting(e3)
    doc["exchange"]["mailboxes"]["data"]["configurations"][0]["audit_enabled"] = False
    report = assess_doc(doc, "baseline")
    assert report.audit.mailboxes_not_searchable == 236
    assert report.audit.mailboxes_missing_mailitemsaccessed == 236
    aud = finding(report, "AUD-04")
    assert aud.status.value == "fail" and "AuditEnabled False" in aud.message
    assert "-AuditEnabled $true" in (aud.remediation or "")
    evt = finding(report, "EVT-01")
    assert evt.status.value == "fail" and "236 do list it but have AuditEnabled False" in evt.message


def test_audit_enabled_false_is_harmless_for_e5_users(e3: dict[str, Any]) -> None:
    doc = ingesting(e3)
    cfg = doc["exchange"]["mailboxes"]["data"]["configurations"][0]
    cfg["audit_enabled"] = False
    cfg["licence"] = "premium"
    report = assess_doc(doc, "baseline")
    assert report.audit.mailboxes_not_searchable == 0
    assert finding(report, "EVT-01").status.value == "pass"


def test_audit_enabled_false_with_unknown_licences_cannot_pass(mixed: dict[str, Any]) -> None:
    """97 of 505 users are Premium and mailboxes carry no licence: whether records are searchable is unknown."""
    for cfg in mixed["exchange"]["mailboxes"]["data"]["configurations"]:
        cfg["audit_enabled"] = False
        cfg["audit_owner"] = ["MailItemsAccessed", "Send", "Update"]
        cfg["default_audit_set"] = ["Admin", "Delegate"]
    report = assess_doc(mixed, "baseline")
    assert report.audit.mailboxes_audit_disabled_licence_unknown == 505
    assert finding(report, "AUD-04").status.value == "warn"
    evt = finding(report, "EVT-01")
    assert evt.status.value == "unknown" and "AuditEnabled False" in evt.message


# ---------------------------------------------------------------- rules 1 and 6: licences without the defaults


def test_reported_actions_decide_and_defaults_need_a_licence_that_has_them(e3: dict[str, Any]) -> None:
    doc = ingesting(e3)
    cfg = doc["exchange"]["mailboxes"]["data"]["configurations"][0]
    assert finding(assess_doc(doc, "baseline"), "EVT-01").status.value == "pass"  # E3 only: documented defaults
    cfg["licence"] = "basic"  # nothing reported, no documented default for the licence: not audited
    report = assess_doc(doc, "baseline")
    assert report.events["MailItemsAccessed"].audited_mailboxes == 0
    assert finding(report, "EVT-01").status.value == "fail"


def test_business_seats_leave_users_without_the_expanded_events(e3: dict[str, Any]) -> None:
    doc = with_business_seats(ingesting(e3), 10)
    report = assess_doc(doc, "baseline")
    assert report.licensing.basic_mailbox_skus == ["SPB"]
    assert report.licensing.users_without_expanded_events is None  # who holds what is not in the evidence
    evt = finding(report, "EVT-01")
    assert evt.status.value == "unknown" and "SPB" in evt.message
    doc["users"]["data"]["counts"]["in_scope_expanded"] = 226
    report = assess_doc(doc, "baseline")
    evt = finding(report, "EVT-01")
    assert evt.status.value == "fail" and evt.message.startswith("10 in-scope users hold no licence")
    assert report.events["MailItemsAccessed"].users_without_event_licence == 10


def test_event_availability_is_dated_per_cloud_and_per_user(mixed: dict[str, Any], gov: dict[str, Any]) -> None:
    march_2024 = date(2024, 3, 1)
    report = assess_doc(mixed, "baseline", on=march_2024)
    fig = report.events["MailItemsAccessed"]
    assert fig.tier_needed == "premium" and fig.users_without_event_licence == 505 - 97
    assert finding(report, "EVT-01").status.value == "fail"
    # US government tenants had the expansion from February 2024
    assert assess_doc(gov, "baseline", on=march_2024).events["MailItemsAccessed"].tier_needed == "standard"
    assert assess_doc(mixed, "baseline").events["MailItemsAccessed"].tier_needed == "standard"


# ---------------------------------------------------------------- rules 4 and 5: retention


def test_multi_year_policy_without_addon_gives_the_licence_default(mixed: dict[str, Any]) -> None:
    doc = copy.deepcopy(mixed)
    doc["exchange"]["retention_policies"]["data"]["policies"] = [
        {
            "name": "teams ten years",
            "priority": 1,
            "retention_duration": "TenYears",
            "record_types": ["MicrosoftTeams"],
        },
        {"name": "mail ten years", "priority": 2, "retention_duration": "TenYears", "record_types": ["ExchangeItem"]},
    ]
    report = assess_doc(doc, YEAR)
    assert report.retention.workloads["Exchange"].effective_days_max == 365
    assert report.retention.workloads["Other"].effective_days_max == 180  # outside the one-year default
    assert report.retention.ten_year_without_addon == ["mail ten years", "teams ten years"]


def test_retention_follows_the_actor_privileged_users_without_a_mailbox(mixed: dict[str, Any]) -> None:
    doc = copy.deepcopy(mixed)
    doc["exchange"]["retention_policies"]["data"]["policies"] = []
    holder = {
        "principal_id": "00000000-0000-4000-8000-00000000ab01",
        "principal_type": "user",
        "role_template_id": "62e90394-69f5-4237-9190-012177145e10",
        "role_name": "Global Administrator",
        "user": {
            "id": "00000000-0000-4000-8000-00000000ab01",
            "user_principal_name": "breakglass@contoso.example",
            "account_enabled": True,
            "user_type": "Member",
            "assigned_licenses": [],
        },
    }
    doc["privileged"]["data"]["holders"].append(holder)
    report = assess_doc(doc, YEAR)
    assert report.retention.privileged_outside_scope == 1
    ex = report.retention.workloads["Exchange"]
    assert ex.users_short == (505 - 97) + 1  # Standard users and the unlicensed Global Administrator
    assert any("breakglass@contoso.example" in c for c in ex.causes)
    assert "guests" in (report.retention.standard_default_actors or "")
    # without the role holders, a requirement beyond the Standard default cannot be decided
    doc["privileged"] = not_collected()
    assert finding(assess_doc(doc, YEAR), "RET-01").status.value == "unknown"
