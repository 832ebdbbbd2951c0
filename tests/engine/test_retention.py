"""Effective retention per user: priority, scoping, Premium applicability, the 10-year add-on."""

from __future__ import annotations

import copy
from typing import Any

from assessor.profiles import load_profile
from tests.helpers.support import assess_doc, finding

BASE = load_profile("baseline")
YEAR = BASE.model_copy(
    update={"retention": BASE.retention.model_copy(update={"searchable_days": 365, "retrievable_days": 365})}
)


def with_policies(doc: dict[str, Any], policies: list[dict[str, Any]]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    doc["exchange"]["retention_policies"]["data"]["policies"] = policies
    return doc


def test_premium_default_is_one_year_for_core_and_180_for_other(mixed: dict[str, Any]) -> None:
    report = assess_doc(with_policies(mixed, []), YEAR)
    ex = report.retention.workloads["Exchange"]
    # Premium users get 365, Standard users 180: the minimum over in-scope users is 180.
    assert ex.effective_days_min == 180 and ex.effective_days_max == 365
    assert ex.users_short == 505 - 97
    assert report.retention.workloads["Other"].effective_days_max == 180


def test_seven_day_priority_one_wins_over_one_year(mixed: dict[str, Any]) -> None:
    report = assess_doc(mixed, "baseline")
    ex = report.retention.workloads["Exchange"]
    assert ex.effective_days_min == 7
    # every in-scope user: the shorter policy applies to Standard users too (it is shorter than their default)
    assert ex.users_short == 505
    assert report.retention.overridden_policies[0]["policy"] == "Exchange short-term (pilot)"
    assert report.retention.overridden_policies[0]["overrides"] == "All Exchange one year"
    # swap the priorities: the one-year policy now wins, nobody falls short of 180
    pols = mixed["exchange"]["retention_policies"]["data"]["policies"]
    pols[0]["priority"], pols[1]["priority"] = 5, 1
    fixed = assess_doc(mixed, "baseline")
    assert fixed.retention.workloads["Exchange"].users_short == 0
    assert finding(fixed, "RET-01").status.value == "pass"


def test_a_shorter_policy_shortens_non_premium_users_a_longer_one_does_not_extend(e3: dict[str, Any]) -> None:
    """Learn: non-Premium records follow the highest-priority policy — the licence default or a matching
    policy. Read so that it cannot falsely pass: shorter applies, longer does not extend."""
    doc = with_policies(
        e3, [{"name": "short", "priority": 1, "retention_duration": "SevenDays", "record_types": ["ExchangeItem"]}]
    )
    report = assess_doc(doc, "baseline")
    assert report.retention.workloads["Exchange"].effective_days_min == 7
    assert report.retention.workloads["Exchange"].users_short == 236
    assert report.retention.workloads["SharePoint"].effective_days_min == 180
    longer = with_policies(
        e3, [{"name": "long", "priority": 1, "retention_duration": "TwelveMonths", "record_types": ["ExchangeItem"]}]
    )
    assert assess_doc(longer, YEAR).retention.workloads["Exchange"].effective_days_max == 180


def test_record_type_scoping(mixed: dict[str, Any]) -> None:
    doc = with_policies(
        mixed,
        [{"name": "teams 7d", "priority": 1, "retention_duration": "SevenDays", "record_types": ["MicrosoftTeams"]}],
    )
    report = assess_doc(doc, "baseline")
    assert report.retention.workloads["Exchange"].users_short == 0
    assert report.retention.workloads["Other"].effective_days_min == 7
    assert report.retention.workloads["Other"].users_short == 505  # Standard users too: 7 < 180
    assert finding(report, "RET-02").status.value == "fail"
    assert finding(report, "RET-01").status.value == "pass"


def test_operation_scoped_policy_only_shortens_those_operations(mixed: dict[str, Any]) -> None:
    doc = with_policies(
        mixed,
        [
            {
                "name": "mia 30d",
                "priority": 1,
                "retention_duration": "OneMonth",
                "record_types": ["ExchangeItemAggregated"],
                "operations": ["MailItemsAccessed"],
            }
        ],
    )
    report = assess_doc(doc, "baseline")
    assert report.retention.workloads["Exchange"].effective_days_min == 30
    assert report.retention.workloads["SharePoint"].users_short == 0


def test_policy_scoped_to_named_user(mixed: dict[str, Any]) -> None:
    doc = with_policies(
        mixed,
        [
            {
                "name": "counsel 7d",
                "priority": 1,
                "retention_duration": "SevenDays",
                "user_ids": ["COUNSEL@contoso.example"],
            }
        ],
    )
    report = assess_doc(doc, "baseline")
    for workload in ("Exchange", "SharePoint", "Other"):
        w = report.retention.workloads[workload]
        assert w.users_short == 1, workload
        assert w.effective_days_min == 7
    assert any("counsel@contoso.example" in c for c in report.retention.workloads["Exchange"].causes)


def test_user_scoped_shorter_policy_applies_to_a_non_premium_named_user(mixed: dict[str, Any]) -> None:
    mixed["users"]["data"]["named"][0]["assigned_licenses"][0]["disabled_plans"] = [
        "2f442157-a11c-46b9-ae5b-6e39ff4e5849"
    ]
    mixed["users"]["data"]["counts"]["in_scope_premium"] = 96
    doc = with_policies(
        mixed,
        [
            {
                "name": "counsel 7d",
                "priority": 1,
                "retention_duration": "SevenDays",
                "user_ids": ["counsel@contoso.example"],
            }
        ],
    )
    report = assess_doc(doc, "baseline")
    assert report.retention.workloads["Exchange"].users_short == 1
    assert report.retention.workloads["Exchange"].effective_days_min == 7


def test_ten_years_without_addon_is_capped_to_one_year(mixed: dict[str, Any]) -> None:
    doc = with_policies(
        mixed,
        [{"name": "all ten years", "priority": 1, "retention_duration": "TenYears", "record_types": ["ExchangeItem"]}],
    )
    long = BASE.model_copy(
        update={"retention": BASE.retention.model_copy(update={"searchable_days": 730, "retrievable_days": 730})}
    )
    report = assess_doc(doc, long)
    assert report.retention.ten_year_without_addon == ["all ten years"]
    assert report.retention.workloads["Exchange"].effective_days_max == 365
    # with the add-on counted for all Premium users, the policy gives ten years for ExchangeItem
    doc["users"]["data"]["counts"]["in_scope_premium_ten_year"] = 97
    addon = assess_doc(doc, long)
    assert addon.retention.ten_year_without_addon == []
    assert addon.retention.workloads["Exchange"].effective_days_max == 365  # other Exchange record types
    assert not any("capped" in c for c in addon.retention.workloads["Exchange"].causes)


def test_disabled_and_pending_deletion_policies_are_ignored(mixed: dict[str, Any]) -> None:
    pols = mixed["exchange"]["retention_policies"]["data"]["policies"]
    pols[0]["enabled"] = False
    assert assess_doc(mixed, "baseline").retention.workloads["Exchange"].users_short == 0
    pols[0]["enabled"] = True
    pols[0]["mode"] = "PendingDeletion"
    assert assess_doc(mixed, "baseline").retention.workloads["Exchange"].users_short == 0


def test_standard_default_was_90_days_before_2023_10_17(e3: dict[str, Any]) -> None:
    from datetime import date

    report = assess_doc(e3, "baseline", on=date(2023, 10, 1))
    assert report.retention.workloads["Exchange"].effective_days_min == 90
    assert assess_doc(e3, "baseline", on=date(2023, 10, 17)).retention.workloads["Exchange"].effective_days_min == 180


def test_unresolved_policy_users_make_retention_unknown(mixed: dict[str, Any]) -> None:
    doc = with_policies(
        mixed,
        [{"name": "vip 7d", "priority": 1, "retention_duration": "SevenDays", "user_ids": ["vip@contoso.example"]}],
    )
    report = assess_doc(doc, "baseline")
    assert report.retention.unavailable is not None and "vip@contoso.example" in report.retention.unavailable
    assert report.retention.workloads["Exchange"].effective_days_min is None
    assert finding(report, "RET-01").status.value == "unknown"
    doc["users"]["data"]["unresolved_names"] = ["vip@contoso.example"]  # looked up: no such user
    report = assess_doc(doc, "baseline")
    assert finding(report, "RET-01").status.value == "pass"


def _give_counsel_the_ten_year_addon(doc: dict[str, Any]) -> None:
    doc["skus"]["data"].append(
        {
            "sku_id": "c2e41e49-e2a2-4c55-832a-cf13ffba1d6a",
            "sku_part_number": "10_ALR_ADDON",
            "capability_status": "Enabled",
            "applies_to": "User",
            "consumed_units": 1,
            "prepaid_units": {"enabled": 5},
            "service_plans": [
                {
                    "service_plan_id": "7d16094b-4db8-41ff-a182-372a90a85407",
                    "service_plan_name": "10_ALR",
                    "provisioning_status": "Success",
                    "applies_to": "User",
                }
            ],
        }
    )
    doc["users"]["data"]["named"][0]["assigned_licenses"].append(
        {"sku_id": "c2e41e49-e2a2-4c55-832a-cf13ffba1d6a", "disabled_plans": []}
    )


def test_named_addon_holder_when_the_addon_count_is_unknown(mixed: dict[str, Any]) -> None:
    """A `$count` that failed (null) must not turn a named add-on holder into an inconsistency."""
    _give_counsel_the_ten_year_addon(mixed)
    mixed["users"]["data"]["counts"]["in_scope_premium_ten_year"] = None
    doc = with_policies(
        mixed,
        [
            {
                "name": "counsel 10y",
                "priority": 1,
                "retention_duration": "TenYears",
                "user_ids": ["counsel@contoso.example"],
            }
        ],
    )
    report = assess_doc(doc, YEAR)
    for cid in ("RET-01", "RET-02"):
        assert finding(report, cid).status.value != "error", finding(report, cid).message
    exchange = report.retention.workloads["Exchange"]
    assert exchange.effective_days_max == 3650  # the named add-on holder's ten years
    assert exchange.users_short == 505 - 97  # only the Standard users fall short of 365 days


def test_a_user_named_twice_is_refused_in_evidence(mixed: dict[str, Any]) -> None:
    import pytest

    from assessor.errors import EvidenceError
    from assessor.evidence import parse_evidence

    mixed["users"]["data"]["named"].append(copy.deepcopy(mixed["users"]["data"]["named"][0]))
    with pytest.raises(EvidenceError, match="listed more than once"):
        parse_evidence(mixed)
