"""Licensing gap figures: who is in scope, who is Premium-covered, and what closes the gap.

A user is *in scope* when they are an enabled member whose licences give them an enabled
Exchange Online plan, and *Premium-covered* when the same holds for M365_ADVANCED_AUDITING.
A plan counts only through an SKU the tenant holds in Enabled or Warning state and only when the
assignment's ``disabledPlans`` does not list it. The tenant's own ``subscribedSkus`` answer says
which plans each SKU carries; the bundled SKU catalogue is only for names and recommendations.
"""

from __future__ import annotations

from dataclasses import dataclass

from assessor.engine.model import LicensingFigures, Recommendation
from assessor.evidence import Evidence, SubscribedSku, UserRecord
from assessor.knowledge import Knowledge
from assessor.knowledge.plans import USABLE_SKU_STATES, PlanIndex, expanded_level, is_enabled_member
from assessor.profiles import Profile
from assessor.vocabulary import EvidenceUsersMode

__all__ = ["USABLE_SKU_STATES", "PlanIndex", "UserClass", "classify", "compute_licensing", "is_enabled_member"]

TROUBLED_SKU_STATES = frozenset({"Warning", "Suspended", "LockedOut"})


@dataclass(frozen=True)
class UserClass:
    in_scope: bool
    premium: bool
    ten_year: bool
    expanded: bool = False  # the expanded Standard events and documented default actions (E3/G3 or E5 level)


def classify(user: UserRecord, index: PlanIndex, kb: Knowledge) -> UserClass:
    plans = index.enabled_plans(user)
    premium = bool(plans & kb.premium_plan_ids)
    return UserClass(
        in_scope=is_enabled_member(user) and bool(plans & kb.mailbox_plan_ids),
        premium=premium,
        ten_year=premium and bool(plans & kb.ten_year_plan_ids),
        expanded=premium
        or any(
            expanded_level(sku, index, kb.expanded_event_sku_ids, kb.premium_plan_ids)
            for sku in index.usable_skus(user)
        ),
    )


def basic_mailbox_skus(skus: list[SubscribedSku], kb: Knowledge) -> list[str]:
    """Usable, assigned SKUs that give a mailbox but neither Premium nor the expanded events
    (Business plans, F1/F3, Exchange Online Plan 1/2 alone, A1 …): their users' mailboxes have no
    documented MailItemsAccessed or Send default."""
    return sorted(
        s.sku_part_number or s.sku_id
        for s in skus
        if s.capability_status in USABLE_SKU_STATES
        and s.consumed_units > 0
        and _sku_carries(s, kb.mailbox_plan_ids)
        and not _sku_carries(s, kb.premium_plan_ids)
        and s.sku_id.lower() not in kb.expanded_event_sku_ids
    )


def users_without_expanded_events(evidence: Evidence, kb: Knowledge) -> int | None:
    """In-scope users whose licences carry neither Premium nor the expanded Standard events: from the
    evidence's count, else from per-user records, else 0 when the tenant holds no SKU that could leave
    a user without them (None: not decidable from this evidence)."""
    users, skus = evidence.users.data, evidence.skus.data
    if users is None or users.counts.in_scope is None:
        return None
    if users.counts.in_scope_expanded is not None:
        return users.counts.in_scope - users.counts.in_scope_expanded
    if skus is None:
        return None
    if users.records is not None and users.mode == EvidenceUsersMode.DETAIL:
        index = PlanIndex(skus)
        classes = [classify(u, index, kb) for u in users.records]
        scoped = [k for k in classes if k.in_scope]
        if len(scoped) == users.counts.in_scope:
            return sum(1 for k in scoped if not k.expanded)
    if users.counts.in_scope == users.counts.in_scope_premium or not basic_mailbox_skus(skus, kb):
        return 0
    return None


def _sku_carries(sku: SubscribedSku, plan_ids: frozenset[str]) -> bool:
    return any(p.service_plan_id.lower() in plan_ids for p in sku.service_plans)


def tenant_tier(skus: list[SubscribedSku], kb: Knowledge) -> str:
    usable = [s for s in skus if s.capability_status in USABLE_SKU_STATES]
    if any(_sku_carries(s, kb.premium_plan_ids) for s in usable):
        return "premium"
    if usable:
        return "standard"
    return "none"


def entra_level(skus: list[SubscribedSku], kb: Knowledge) -> str:
    usable = [s for s in skus if s.capability_status in USABLE_SKU_STATES]
    plans = kb.entra_plan_ids
    if any(_sku_carries(s, plans["p2"]) for s in usable):
        return "p2"
    if any(_sku_carries(s, plans["p1"]) for s in usable):
        return "p1"
    return "free"


def privileged_user_classes(
    evidence: Evidence, profile: Profile, index: PlanIndex | None, kb: Knowledge
) -> dict[str, tuple[UserRecord | None, UserClass | None]]:
    """Distinct enabled users holding a privileged role, with their class (None when unknowable)."""
    assert evidence.privileged.data is not None
    wanted = {r.template_id.lower() for r in profile.privileged_roles}
    out: dict[str, tuple[UserRecord | None, UserClass | None]] = {}
    for holder in evidence.privileged.data.holders:
        if holder.role_template_id.lower() not in wanted or holder.principal_type != "user":
            continue
        user = holder.user
        if user is not None and user.account_enabled is False:
            continue
        klass = classify(user, index, kb) if (user is not None and index is not None) else None
        out.setdefault(holder.principal_id, (user, klass))
    return out


def _premium_skus(skus: list[SubscribedSku], kb: Knowledge) -> list[dict[str, object]]:
    rows = []
    for s in skus:
        if _sku_carries(s, kb.premium_plan_ids):
            rows.append(
                {
                    "sku_part_number": s.sku_part_number or s.sku_id,
                    "capability_status": s.capability_status,
                    "enabled_units": s.prepaid_units.enabled,
                    "consumed_units": s.consumed_units,
                    "unassigned": max(0, s.prepaid_units.enabled - s.consumed_units)
                    if s.capability_status in USABLE_SKU_STATES
                    else 0,
                }
            )
    return rows


def _recommend(
    needed: int | None, unassigned: int | None, profile: Profile, evidence: Evidence, kb: Knowledge, scope_label: str
) -> Recommendation:
    if needed is None:
        return Recommendation(
            seats_needed=None,
            assign_unassigned=None,
            buy=None,
            text="Seats needed cannot be computed: licensing or user evidence is missing.",
        )
    if needed == 0:
        return Recommendation(
            seats_needed=0, assign_unassigned=0, buy=0, text=f"No Premium audit seats needed for {scope_label}."
        )
    free = min(needed, unassigned) if unassigned is not None else None
    buy = needed - free if free is not None else None
    gov = evidence.tenant.cloud in ("gcc", "gcc-high", "dod")
    options: list[dict[str, object]] = []
    if free:
        options.append(
            {
                "option": "assign",
                "seats": free,
                "cost": "none",
                "text": f"Assign {free} unassigned Premium-audit seat(s) already paid for.",
            }
        )
    if buy:
        upgrade_parts = kb.purchase_options["premium_upgrade_gov" if gov else "premium_upgrade"]
        for kind, parts in (("add-on", kb.purchase_options["premium_addon"]), ("upgrade", upgrade_parts)):
            for part in parts:
                sku = kb.sku_by_part_number(part)
                options.append(
                    {
                        "option": kind,
                        "seats": buy,
                        "sku_part_number": part,
                        "display_name": sku.display_name if sku else part,
                    }
                )
    parts_txt = []
    if free:
        parts_txt.append(f"assign {free} unassigned seat(s) at no cost")
    if buy:
        parts_txt.append(f"buy {buy} seat(s) (E5 Compliance / Purview Suite add-on, or an E5/G5 upgrade)")
    if free is None:
        parts_txt.append("unassigned seats unknown")
    return Recommendation(
        seats_needed=needed,
        assign_unassigned=free,
        buy=buy,
        options=options,
        text=f"{needed} {scope_label} lack Premium audit: " + "; then ".join(parts_txt) + ".",
    )


def compute_licensing(evidence: Evidence, profile: Profile, kb: Knowledge) -> LicensingFigures:
    skus = evidence.skus.data
    users = evidence.users.data
    index = PlanIndex(skus) if skus is not None else None
    fig: dict[str, object] = {}
    if skus is not None:
        fig["audit_tier"] = tenant_tier(skus, kb)
        fig["entra"] = entra_level(skus, kb)
        premium_rows = _premium_skus(skus, kb)
        fig["premium_skus"] = premium_rows
        fig["premium_audit_seats_unassigned"] = sum(int(r["unassigned"]) for r in premium_rows)  # type: ignore[call-overload]
        fig["suspended_or_warning_skus"] = [
            {
                "sku_part_number": s.sku_part_number or s.sku_id,
                "capability_status": s.capability_status,
                "premium_audit": _sku_carries(s, kb.premium_plan_ids),
            }
            for s in skus
            if s.capability_status in TROUBLED_SKU_STATES
        ]
    if users is not None:
        c = users.counts
        fig["users_total"] = c.total
        fig["users_in_scope"] = c.in_scope
        if c.in_scope is not None and c.in_scope_premium is not None:
            fig["users_without_premium_audit"] = c.in_scope - c.in_scope_premium
        fig["ten_year_addon_users"] = c.in_scope_premium_ten_year
        fig["users_without_expanded_events"] = users_without_expanded_events(evidence, kb)
    if skus is not None:
        fig["basic_mailbox_skus"] = basic_mailbox_skus(skus, kb)
    if evidence.privileged.data is not None:
        holders = privileged_user_classes(evidence, profile, index, kb)
        fig["privileged_users"] = len(holders)
        if all(k is not None for _, k in holders.values()):
            lacking = [(uid, u) for uid, (u, k) in holders.items() if k is not None and not k.premium]
            fig["privileged_users_without_premium_audit"] = len(lacking)
            fig["privileged_without_premium"] = [
                {
                    "id": uid,
                    "user_principal_name": u.user_principal_name if u else None,
                    "display_name": u.display_name if u else None,
                }
                for uid, u in lacking
            ]
    unassigned = fig.get("premium_audit_seats_unassigned")
    if profile.premium_scope == "all":
        needed = fig.get("users_without_premium_audit")
        label = "in-scope users"
    elif profile.premium_scope == "privileged":
        needed = fig.get("privileged_users_without_premium_audit")
        label = "privileged users"
    else:
        needed, label = 0, "this profile (Premium not required)"
    fig["recommendation"] = _recommend(
        needed if isinstance(needed, int) else None,
        unassigned if isinstance(unassigned, int) else None,
        profile,
        evidence,
        kb,
        label,
    )
    return LicensingFigures.model_validate(fig)
