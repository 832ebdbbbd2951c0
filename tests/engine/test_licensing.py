"""Premium coverage: disabledPlans, SKU state, seats."""

from __future__ import annotations

from typing import Any

from assessor.engine.licensing import PlanIndex, classify
from assessor.evidence import SubscribedSku, UserRecord
from assessor.knowledge import load_knowledge
from tests.helpers.support import assess_doc, finding

KB = load_knowledge()
PREMIUM = "2f442157-a11c-46b9-ae5b-6e39ff4e5849"


def _skus(doc: dict[str, Any]) -> list[SubscribedSku]:
    return [SubscribedSku.model_validate(s) for s in doc["skus"]["data"]]


def _e5_user(doc: dict[str, Any], disabled: list[str] | None = None, enabled: bool = True) -> UserRecord:
    e5 = next(s for s in doc["skus"]["data"] if s["sku_part_number"] == "SPE_E5")
    return UserRecord.model_validate(
        {
            "id": "u1",
            "account_enabled": enabled,
            "user_type": "Member",
            "assigned_licenses": [{"sku_id": e5["sku_id"], "disabled_plans": disabled or []}],
        }
    )


def test_disabled_plans_remove_premium(mixed: dict[str, Any]) -> None:
    index = PlanIndex(_skus(mixed))
    assert classify(_e5_user(mixed), index, KB).premium
    user = _e5_user(mixed, [PREMIUM.upper()])
    k = classify(user, index, KB)
    assert k.in_scope and not k.premium


def test_disabled_account_and_guest_not_in_scope(mixed: dict[str, Any]) -> None:
    index = PlanIndex(_skus(mixed))
    assert not classify(_e5_user(mixed, enabled=False), index, KB).in_scope
    guest = _e5_user(mixed).model_copy(update={"user_type": "Guest"})
    assert not classify(guest, index, KB).in_scope


def test_suspended_sku_does_not_count(mixed: dict[str, Any]) -> None:
    for s in mixed["skus"]["data"]:
        if s["sku_part_number"] == "SPE_E5":
            s["capability_status"] = "Suspended"
    index = PlanIndex(_skus(mixed))
    assert not classify(_e5_user(mixed), index, KB).premium
    report = assess_doc(mixed, "baseline")
    # the suspended add-on and suspended E5 carry Premium, but neither counts
    assert report.licensing.audit_tier == "standard"
    assert report.licensing.premium_audit_seats_unassigned == 0
    assert finding(report, "LIC-03").status.value == "fail"
    assert report.licensing.privileged_users_without_premium_audit == 3


def test_warning_sku_still_counts_but_is_flagged(mixed: dict[str, Any]) -> None:
    for s in mixed["skus"]["data"]:
        if s["sku_part_number"] == "SPE_E5":
            s["capability_status"] = "Warning"
    report = assess_doc(mixed, "baseline")
    assert report.licensing.audit_tier == "premium"
    assert {"sku_part_number": "SPE_E5", "capability_status": "Warning", "premium_audit": True} in (
        report.licensing.suspended_or_warning_skus or []
    )
    assert "SPE_E5 (Warning)" in finding(report, "LIC-04").message


def test_recommendation_assigns_free_seats_first(mixed: dict[str, Any]) -> None:
    rec = assess_doc(mixed, "baseline").licensing.recommendation
    assert rec is not None
    assert (rec.seats_needed, rec.assign_unassigned, rec.buy) == (2, 2, 0)
    assert rec.options[0]["option"] == "assign"


def test_gov_recommends_g5(gov: dict[str, Any]) -> None:
    from assessor.profiles import load_profile

    report = assess_doc(gov, load_profile("omb-m-21-31-el2"))
    rec = report.licensing.recommendation
    assert rec is not None and rec.buy == 870 - 5
    assert any(o.get("sku_part_number") == "M365_G5_GCC" for o in rec.options)
