"""LIC checks: who is covered by Audit (Premium), and which seats close the gap."""

from __future__ import annotations

from assessor.engine.context import CheckContext
from assessor.engine.model import Outcome, Status
from assessor.engine.registry import check


@check("LIC-01")
def tenant_has_premium(ctx: CheckContext) -> Outcome:
    lic = ctx.figures.licensing
    ev = {"audit_tier": lic.audit_tier, "premium_skus": lic.premium_skus}
    if lic.audit_tier == "premium":
        return Outcome(
            Status.PASS, "The tenant holds an Enabled/Warning subscription that carries Audit (Premium).", ev
        )
    return Outcome(
        Status.FAIL,
        f"The tenant's audit tier is {lic.audit_tier}: no Enabled subscription carries M365_ADVANCED_AUDITING.",
        ev,
    )


@check("LIC-02")
def all_in_scope_users_premium(ctx: CheckContext) -> Outcome:
    lic = ctx.figures.licensing
    ev = {
        "users_in_scope": lic.users_in_scope,
        "users_without_premium_audit": lic.users_without_premium_audit,
        "premium_audit_seats_unassigned": lic.premium_audit_seats_unassigned,
    }
    if ctx.profile.premium_scope != "all":
        return Outcome(
            Status.NOT_APPLICABLE,
            f"The profile requires Premium for {ctx.profile.premium_scope} "
            f"users only ({lic.users_without_premium_audit} in-scope users lack it).",
            ev,
        )
    if lic.users_without_premium_audit is None:
        return Outcome(Status.UNKNOWN, "In-scope user counts are not available.", ev, fix="User.Read.All")
    if lic.users_without_premium_audit == 0:
        return Outcome(Status.PASS, f"All {lic.users_in_scope} in-scope users are Premium-covered.", ev)
    rec = lic.recommendation.text if lic.recommendation else None
    return Outcome(
        Status.FAIL,
        f"{lic.users_without_premium_audit} of {lic.users_in_scope} in-scope users lack Audit (Premium) coverage.",
        ev,
        remediation=rec,
    )


@check("LIC-03")
def privileged_users_premium(ctx: CheckContext) -> Outcome:
    lic = ctx.figures.licensing
    names = [u.get("user_principal_name") or u.get("id") for u in (lic.privileged_without_premium or [])]
    ev = {
        "privileged_users": lic.privileged_users,
        "privileged_users_without_premium_audit": lic.privileged_users_without_premium_audit,
        "users": names[:25],
        "roles": [r.name for r in ctx.profile.privileged_roles],
    }
    if ctx.profile.premium_scope == "none":
        return Outcome(Status.NOT_APPLICABLE, "The profile does not require Audit (Premium).", ev)
    if lic.privileged_users_without_premium_audit is None:
        return Outcome(
            Status.UNKNOWN, "Licences of some privileged role holders could not be read.", ev, fix="User.Read.All"
        )
    if lic.privileged_users_without_premium_audit == 0:
        return Outcome(Status.PASS, f"All {lic.privileged_users} privileged users are Premium-covered.", ev)
    free = lic.premium_audit_seats_unassigned or 0
    hint = f" {min(free, len(names))} could be covered now from unassigned seats." if free else ""
    return Outcome(
        Status.FAIL,
        f"{lic.privileged_users_without_premium_audit} of {lic.privileged_users} privileged "
        f"users lack Audit (Premium): {', '.join(str(n) for n in names[:10])}.{hint}",
        ev,
    )


@check("LIC-04")
def premium_seats_used(ctx: CheckContext) -> Outcome:
    lic = ctx.figures.licensing
    troubled = [s for s in (lic.suspended_or_warning_skus or []) if s.get("premium_audit")]
    free = lic.premium_audit_seats_unassigned or 0
    gap = {"all": lic.users_without_premium_audit, "privileged": lic.privileged_users_without_premium_audit, "none": 0}[
        ctx.profile.premium_scope
    ]
    ev = {
        "premium_audit_seats_unassigned": free,
        "gap_users": gap,
        "troubled_premium_skus": troubled,
        "premium_skus": lic.premium_skus,
    }
    problems = []
    if free and gap:
        problems.append(
            f"{free} paid Premium-audit seat(s) are unassigned while {gap} user(s) in the profile's "
            f"scope lack coverage: assigning {min(free, gap)} closes that much of the gap at no cost"
        )
    if troubled:
        problems.append(
            "Premium-carrying subscription(s) not healthy: "
            + ", ".join(f"{s['sku_part_number']} ({s['capability_status']})" for s in troubled)
        )
    if problems:
        return Outcome(Status.WARN, "; ".join(problems) + ".", ev)
    if gap is None:
        return Outcome(
            Status.UNKNOWN,
            "Cannot tell whether unassigned seats would close a gap: user or role evidence is missing.",
            ev,
            fix="User.Read.All, RoleManagement.Read.Directory",
        )
    return Outcome(
        Status.PASS,
        f"No Premium seat is left unassigned while a gap exists ({free} unassigned), and "
        "Premium subscriptions are healthy.",
        ev,
    )


@check("LIC-05")
def entra_premium_present(ctx: CheckContext) -> Outcome:
    level = ctx.figures.licensing.entra
    ev = {"entra": level}
    if level in ("p1", "p2"):
        return Outcome(
            Status.PASS,
            f"Entra ID {level.upper()} is present: sign-in logs are kept 30 days and can be read and exported.",
            ev,
        )
    return Outcome(Status.FAIL, "No Entra ID P1/P2: sign-in logs are kept 7 days and cannot be read via the API.", ev)
