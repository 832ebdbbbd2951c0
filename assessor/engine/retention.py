"""Effective audit-log retention per in-scope user, per workload.

Records are kept by the licence of the actor that generated them. For a Premium-covered actor's
records of a record type (and operation), the effective retention is the highest-priority enabled
custom policy that matches the record type, operation and user (a multi-year duration only with
the 10-year add-on, else the licence default), else the Premium default (1 year for the record
types Learn lists for Exchange/SharePoint/OneDrive/Entra, 180 days for the rest — 90 before
2023-10-17). Any other actor gets the Standard default (180 days, 90 before 2023-10-17),
shortened — never lengthened — by the highest-priority matching policy. Privileged users outside
the in-scope population (administrators without a mailbox, guest administrators) are counted.

Users are grouped by what decides their retention — Premium or not, add-on or not, and the set
of policies that name them — so the work is (classes × record types × policies), independent
of the number of users.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from assessor.engine.licensing import PlanIndex, classify, privileged_user_classes
from assessor.engine.model import RequiredRetention, RetentionFigures, WorkloadRetention
from assessor.errors import EvidenceError
from assessor.evidence import Evidence, RetentionPolicy
from assessor.knowledge import WORKLOADS, Knowledge
from assessor.profiles import Profile

ANY_OTHER = "(any other record type)"
ANY_OPERATION = "(any other operation)"


@dataclass(frozen=True)
class RetentionClass:
    """Users who necessarily get the same retention."""

    label: str
    count: int
    premium: bool
    ten_year: bool
    named_by: frozenset[str]  # names of policies whose UserIds list this user


@dataclass(frozen=True)
class Decision:
    days: int
    policy: RetentionPolicy | None  # None: the tier default decided
    capped: bool  # a multi-year policy capped for lack of the add-on
    shadowed: RetentionPolicy | None  # a longer lower-priority policy that lost to `policy`


def _policy_names_user(policy: RetentionPolicy, ids: set[str]) -> bool:
    return any(u.strip().lower() in ids for u in policy.user_ids)


def _active(policies: Iterable[RetentionPolicy]) -> list[RetentionPolicy]:
    return sorted(
        (p for p in policies if p.enabled and (p.mode or "").lower() != "pendingdeletion"), key=lambda p: p.priority
    )


def unaccounted_names(evidence: Evidence, policies: list[RetentionPolicy]) -> list[str]:
    """UserIds named by active policies that the evidence neither resolved nor found absent."""
    users = evidence.users.data
    assert users is not None
    known = {x.lower() for u in users.named for x in (u.id, u.user_principal_name) if x}
    known |= {n.strip().lower() for n in users.unresolved_names}
    return sorted({u.strip() for p in policies for u in p.user_ids if u.strip().lower() not in known})


def build_classes(evidence: Evidence, policies: list[RetentionPolicy], kb: Knowledge) -> list[RetentionClass]:
    """Split in-scope users into classes; users named by policies are classified one by one."""
    users = evidence.users.data
    assert users is not None
    c = users.counts
    if c.in_scope is None or c.in_scope_premium is None:
        raise EvidenceError("users.counts: in_scope and in_scope_premium are needed for retention")
    ten = c.in_scope_premium_ten_year
    if ten is None:
        # Without the add-on count, credit nobody with it: never more retention than proven.
        ten = 0
    remaining = {
        "standard": c.in_scope - c.in_scope_premium,
        "premium": c.in_scope_premium - ten,
        "premium_ten_year": ten,
    }
    classes: list[RetentionClass] = []
    scoped = [p for p in policies if p.user_ids]
    if scoped:
        if evidence.skus.data is None:
            raise EvidenceError("skus: needed to classify users named by retention policies")
        index = PlanIndex(evidence.skus.data)
        seen: set[str] = set()
        for user in users.named:
            if user.id.lower() in seen:  # named twice (by UPN and by id): one user, one class
                continue
            seen.add(user.id.lower())
            ids = {x.lower() for x in (user.id, user.user_principal_name) if x}
            named_by = frozenset(p.name for p in scoped if _policy_names_user(p, ids))
            if not named_by:
                continue
            k = classify(user, index, kb)
            if not k.in_scope:
                continue
            key = "premium_ten_year" if k.ten_year else ("premium" if k.premium else "standard")
            if key == "premium_ten_year" and c.in_scope_premium_ten_year is None:
                key = "premium"  # the add-on count is unknown, so the pools hold every Premium user there
            remaining[key] -= 1
            classes.append(RetentionClass(user.user_principal_name or user.id, 1, k.premium, k.ten_year, named_by))
    if min(remaining.values()) < 0:
        raise EvidenceError("users: named users are not consistent with the aggregated counts")
    classes[:0] = [
        RetentionClass("in-scope users on Audit (Standard)", remaining["standard"], False, False, frozenset()),
        RetentionClass("Premium-covered users", remaining["premium"], True, False, frozenset()),
        RetentionClass("Premium users with the 10-year add-on", remaining["premium_ten_year"], True, True, frozenset()),
    ]
    return [k for k in classes if k.count > 0]


def _matches(policy: RetentionPolicy, record_type: str, operation: str, klass: RetentionClass) -> bool:
    if policy.record_types and record_type.lower() not in {r.lower() for r in policy.record_types}:
        return False
    if policy.operations and operation.lower() not in {o.lower() for o in policy.operations}:
        return False
    return not (policy.user_ids and policy.name not in klass.named_by)


def decide(
    record_type: str,
    operation: str,
    workload: str,
    klass: RetentionClass,
    policies: list[RetentionPolicy],
    kb: Knowledge,
    on: date,
) -> Decision:
    """The effective retention of one class's records of one record type and operation."""
    default = kb.premium_default_days(workload, on) if klass.premium else kb.standard_default_days(on)
    matching = [p for p in policies if _matches(p, record_type, operation, klass)]
    if not matching:
        return Decision(default, None, False, None)
    winner = matching[0]
    days = kb.duration_days(winner.retention_duration)
    if days is None:
        raise EvidenceError(
            f"retention policy {winner.name!r}: unknown RetentionDuration {winner.retention_duration!r}"
        )
    if not klass.premium:
        # Learn: such records follow "the highest priority retention policy" — the licence default or
        # a matching policy. The reading that cannot falsely pass: a shorter policy applies, a longer
        # one does not extend the Standard default.
        return Decision(days, winner, False, None) if days < default else Decision(default, None, False, None)
    capped = False
    if winner.retention_duration in kb.ten_year.durations_needing_addon and not klass.ten_year:
        # without the add-on a multi-year policy gives the licence default: one year for the Premium
        # default's core record types, 180 days for the others
        days, capped = min(days, kb.premium_default_days(workload, on)), True
    longer = [p for p in matching[1:] if (kb.duration_days(p.retention_duration) or 0) > days]
    return Decision(days, winner, capped, longer[0] if longer else None)


def _contexts(workload: str, policies: list[RetentionPolicy], kb: Knowledge) -> list[tuple[str, str]]:
    """(record type, operation) pairs that can differ in retention within a workload."""
    types = list(kb.record_types_of(workload)) if workload != "Other" else [ANY_OTHER]
    for p in policies:
        for rt in p.record_types:
            if kb.workload_of(rt) == workload and rt.lower() not in {t.lower() for t in types}:
                types.append(rt)
    pairs: list[tuple[str, str]] = []
    for rt in types:
        ops = {o for p in policies if rt.lower() in {r.lower() for r in p.record_types} for o in p.operations}
        pairs.extend((rt, op) for op in sorted(ops))
        pairs.append((rt, ANY_OPERATION))
    return pairs


def _describe(decision: Decision, required: int, default_label: str) -> str:
    if decision.policy is None:
        return f"{default_label} default of {decision.days} days is below the required {required}"
    p = decision.policy
    text = f"policy {p.name!r} (priority {p.priority}, {p.retention_duration} = {decision.days} days)"
    if decision.capped:
        text += " is capped at one year without the 10-year add-on"
    if decision.shadowed is not None:
        s = decision.shadowed
        text += (
            f" overrides the longer policy {s.name!r} (priority {s.priority}, {s.retention_duration}): "
            f"the highest-priority matching policy wins even when shorter"
        )
    return text


def compute_retention(evidence: Evidence, profile: Profile, kb: Knowledge, on: date) -> RetentionFigures:
    required = RequiredRetention(
        searchable_days=profile.retention.searchable_days, retrievable_days=profile.retention.retrievable_days
    )
    empty = {w: WorkloadRetention() for w in WORKLOADS}
    users = evidence.users.data
    if users is None:
        prov = evidence.users.provenance
        return RetentionFigures(
            required=required,
            workloads=empty,
            unavailable=f"users evidence not collected ({prov.reason})",
            fix=prov.fix,
        )
    counts = users.counts
    if counts.in_scope is None or counts.in_scope_premium is None:
        return RetentionFigures(
            required=required, workloads=empty, unavailable="in-scope user counts are unknown", fix="User.Read.All"
        )
    section = evidence.exchange.retention_policies
    if section.data is None:
        prov = section.provenance
        return RetentionFigures(
            required=required,
            workloads=empty,
            fix=prov.fix,
            unavailable=f"retention policies not collected ({prov.reason}); custom policies govern Premium-covered "
            "users, and a matching policy shorter than the Standard default shortens everyone else's retention",
        )
    policies = _active(section.data.policies)
    outside = privileged_outside_scope(evidence, profile, kb)
    if outside is None and required.searchable_days > kb.standard_default_days(on):
        prov = evidence.privileged.provenance
        return RetentionFigures(
            required=required,
            workloads=empty,
            fix=prov.fix or "RoleManagement.Read.Directory",
            unavailable=f"privileged role holders not collected ({prov.reason}); administrators without a "
            "mailbox or Premium keep their records only the Standard default "
            f"({kb.standard_default_days(on)} days), less than the required {required.searchable_days}",
        )
    missing = unaccounted_names(evidence, policies)
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        return RetentionFigures(
            required=required,
            workloads=empty,
            fix="User.Read.All",
            unavailable=f"users named by retention policies could not be looked up ({shown}), so whom those "
            "policies govern is unknown",
        )
    classes = build_classes(evidence, policies, kb) + _outside_classes(outside or [], policies)
    workloads: dict[str, WorkloadRetention] = {}
    overridden: dict[tuple[str, str], dict[str, object]] = {}
    capped: set[str] = set()
    for workload in WORKLOADS:
        contexts = _contexts(workload, policies, kb)
        lo: int | None = None
        hi: int | None = None
        short = short_retrievable = by_policy = 0
        causes: list[str] = []
        for klass in classes:
            worst: Decision | None = None
            for rt, op in contexts:
                d = decide(rt, op, workload, klass, policies, kb, on)
                if d.capped and d.policy is not None:
                    capped.add(d.policy.name)
                if d.shadowed is not None and d.policy is not None and d.days < required.searchable_days:
                    overridden.setdefault(
                        (d.policy.name, d.shadowed.name),
                        {
                            "policy": d.policy.name,
                            "priority": d.policy.priority,
                            "days": d.days,
                            "overrides": d.shadowed.name,
                            "overridden_priority": d.shadowed.priority,
                            "overridden_days": kb.duration_days(d.shadowed.retention_duration),
                        },
                    )
                if worst is None or d.days < worst.days:
                    worst = d
            if worst is None:
                continue
            lo = worst.days if lo is None else min(lo, worst.days)
            hi = worst.days if hi is None else max(hi, worst.days)
            if worst.days < required.searchable_days:
                short += klass.count
                if worst.policy is not None and not worst.capped:
                    by_policy += klass.count  # a policy decided it: re-prioritise or lengthen, no licence
                tier = "Audit (Premium)" if klass.premium else "Audit (Standard)"
                cause = f"{klass.count} {klass.label}: " + _describe(worst, required.searchable_days, tier)
                causes.append(cause)
            if worst.days < required.retrievable_days:
                short_retrievable += klass.count
        workloads[workload] = WorkloadRetention(
            effective_days_min=lo,
            effective_days_max=hi,
            users_short=short if classes else 0,
            users_short_retrievable=short_retrievable if classes else 0,
            users_short_by_policy=by_policy if classes else 0,
            causes=causes,
        )
    return RetentionFigures(
        required=required,
        workloads=workloads,
        overridden_policies=list(overridden.values()),
        ten_year_without_addon=sorted(capped),
        policies_considered=len(policies),
        privileged_outside_scope=len(outside) if outside is not None else None,
        standard_default_actors=_standard_actors_note(counts.guests, kb.standard_default_days(on)),
    )


def _standard_actors_note(guests: int | None, days: int) -> str:
    who = f"the tenant's {guests} guests" if guests else "guests"
    return (
        f"Records are kept by the licence of whoever generated them: activity of {who}, applications and "
        f"service principals is kept at the Standard default ({days} days), shortened by a matching shorter policy."
    )


def privileged_outside_scope(evidence: Evidence, profile: Profile, kb: Knowledge) -> list[PrivilegedActor] | None:
    """Privileged users who are not in-scope mailbox users (no mailbox, a guest administrator …): their
    records are kept by their own licence, so retention figures include them. None: not collected."""
    if evidence.privileged.data is None:
        return None
    index = PlanIndex(evidence.skus.data) if evidence.skus.data is not None else None
    out: list[PrivilegedActor] = []
    for uid, (user, klass) in privileged_user_classes(evidence, profile, index, kb).items():
        if klass is not None and klass.in_scope:
            continue  # already in the in-scope pools
        ids = {x.lower() for x in (uid, user.id if user else None, user.user_principal_name if user else None) if x}
        label = (user.user_principal_name if user else None) or uid
        premium = klass.premium if klass is not None else False  # licences unknown: never credit Premium
        ten_year = klass.ten_year if klass is not None else False
        out.append(PrivilegedActor(label, frozenset(ids), premium, ten_year))
    return out


@dataclass(frozen=True)
class PrivilegedActor:
    label: str
    ids: frozenset[str]
    premium: bool
    ten_year: bool


def _outside_classes(actors: list[PrivilegedActor], policies: list[RetentionPolicy]) -> list[RetentionClass]:
    scoped = [p for p in policies if p.user_ids]
    return [
        RetentionClass(
            f"privileged user without an in-scope mailbox ({a.label})",
            1,
            a.premium,
            a.ten_year,
            frozenset(p.name for p in scoped if _policy_names_user(p, set(a.ids))),
        )
        for a in actors
    ]
