"""Which service plans a user's licences give them, by Microsoft's rules.

A plan counts only through an SKU the tenant holds in Enabled or Warning state, and only when the
assignment's ``disabledPlans`` does not list it; the tenant's own ``subscribedSkus`` answer says
which plans each SKU carries. Used alike by the engine (figures) and by collection (the detail-mode
per-user list), so both classify users the same way.
"""

from __future__ import annotations

from assessor.evidence import SubscribedSku, UserRecord

USABLE_SKU_STATES = frozenset({"Enabled", "Warning"})


class PlanIndex:
    """Which plans each usable SKU of this tenant carries."""

    def __init__(self, skus: list[SubscribedSku]) -> None:
        self.plans_by_sku: dict[str, frozenset[str]] = {
            s.sku_id.lower(): frozenset(p.service_plan_id.lower() for p in s.service_plans)
            for s in skus
            if s.capability_status in USABLE_SKU_STATES
        }

    def usable_skus(self, user: UserRecord) -> set[str]:
        return {lic.sku_id.lower() for lic in user.assigned_licenses if lic.sku_id.lower() in self.plans_by_sku}

    def enabled_plans(self, user: UserRecord) -> set[str]:
        plans: set[str] = set()
        for lic in user.assigned_licenses:
            carried = self.plans_by_sku.get(lic.sku_id.lower())
            if carried:
                disabled = {d.lower() for d in lic.disabled_plans}
                plans |= carried - disabled
        return plans


def is_enabled_member(user: UserRecord) -> bool:
    return user.account_enabled is True and (user.user_type or "Member") == "Member"


def expanded_level(sku_id: str, index: PlanIndex, expanded_skus: frozenset[str], premium_plans: frozenset[str]) -> bool:
    """Whether an SKU gives the expanded Audit (Standard) events: E3/G3 level by SKU id, or E5 level (an
    SKU that carries the Premium plan, even where the assignment switches that plan off: the user still
    holds an E5-level licence)."""
    return sku_id in expanded_skus or bool(index.plans_by_sku.get(sku_id, frozenset()) & premium_plans)
