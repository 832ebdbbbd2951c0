"""RET checks: effective retention per in-scope user against the profile's required days."""

from __future__ import annotations

from assessor.engine.context import CheckContext
from assessor.engine.export import Reach, attested_entra_reach, describe_days, destination_label, entra_reach
from assessor.engine.mailbox import EXCHANGE_READ_FIX
from assessor.engine.model import Outcome, Status
from assessor.engine.registry import check

CORE_WORKLOADS = ("Exchange", "SharePoint", "OneDrive", "AzureActiveDirectory")
ONE_YEAR = 365


def _unavailable(ctx: CheckContext) -> Outcome | None:
    r = ctx.figures.retention
    if r.unavailable:
        return Outcome(
            Status.UNKNOWN,
            f"Effective retention cannot be computed: {r.unavailable}.",
            {"reason": r.unavailable},
            fix=r.fix,
        )
    return None


def _records_written(ctx: CheckContext, what: str, ev: dict[str, object]) -> Outcome | None:
    """Retention needs records: with ingestion off nothing is written, so nothing is retained; with
    ingestion unread, a retention pass would rest on an unknown (AUD-01 decides it). ``what`` says
    what the settings alone would achieve."""
    enabled = ctx.figures.audit.ual_ingestion_enabled
    if enabled is True:
        return None
    if enabled is False:
        return Outcome(
            Status.FAIL,
            f"{what}, but unified audit log ingestion is disabled (AUD-01): no records are being written, so "
            "none are retained.",
            ev,
            remediation="Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled $true (Exchange Online PowerShell)",
            caused_by="AUD-01",
        )
    prov = ctx.evidence.exchange.admin_audit_log_config.provenance
    return Outcome(
        Status.UNKNOWN,
        f"{what}, but whether records are written at all is not known: the ingestion setting was not "
        f"read ({prov.reason}), and records are retained only if they are written (AUD-01).",
        ev,
        fix=prov.fix or EXCHANGE_READ_FIX,
        caused_by="AUD-01",
    )


def _workloads_meet(ctx: CheckContext, workloads: tuple[str, ...], what: str) -> Outcome:
    early = _unavailable(ctx)
    if early:
        return early
    r = ctx.figures.retention
    need = r.required.searchable_days
    rows = {w: r.workloads[w] for w in workloads}
    ev: dict[str, object] = {
        "required_searchable_days": need,
        "effective_days_min": {w: v.effective_days_min for w, v in rows.items()},
        "users_short": {w: v.users_short for w, v in rows.items()},
        "overridden_policies": r.overridden_policies,
    }
    short = {w: v for w, v in rows.items() if v.users_short}
    if not short:
        unwritten = _records_written(ctx, f"{what}: the policies would keep records at least {need} days", ev)
        if unwritten is not None:
            return unwritten
        return Outcome(
            Status.PASS,
            f"{what}: every in-scope user's records are retained at least {need} days "
            f"(minimum {min((v.effective_days_min or 0) for v in rows.values())} days).",
            ev,
        )
    causes = sorted({c for v in short.values() for c in v.causes})
    ev["causes"] = causes
    # every short user is short because of a policy, and a year suffices: editing policies fixes it
    # with no licence (beyond a year needs the 10-year add-on)
    ev["settings_fix"] = need <= 365 and all(v.users_short_by_policy == v.users_short for v in short.values())
    worst = max(v.users_short or 0 for v in short.values())
    lines = ", ".join(f"{w} {v.effective_days_min} days ({v.users_short} users short)" for w, v in short.items())
    override = ""
    if r.overridden_policies:
        o = r.overridden_policies[0]
        override = (
            f" A shorter higher-priority policy wins: '{o['policy']}' (priority {o['priority']}, "
            f"{o['days']} days) overrides '{o['overrides']}' (priority {o['overridden_priority']}, "
            f"{o['overridden_days']} days)."
        )
    return Outcome(
        Status.FAIL,
        f"{what}: up to {worst} in-scope users fall short of {need} days — {lines}."
        f"{override} Causes: {'; '.join(causes)}.",
        ev,
    )


@check("RET-01")
def core_workloads_retained(ctx: CheckContext) -> Outcome:
    return _workloads_meet(ctx, CORE_WORKLOADS, "Exchange/SharePoint/OneDrive/Entra")


@check("RET-02")
def other_record_types_retained(ctx: CheckContext) -> Outcome:
    return _workloads_meet(ctx, ("Other",), "Other record types")


def _export_covers(ctx: CheckContext, days: int) -> bool | None:
    """Whether the forwarded unified audit log (read, else attested) is kept `days` long
    (None: export evidence not collected, or its retention is not known)."""
    if ctx.evidence.log_export.data is None:
        return None
    fig = ctx.figures.export
    if fig.ual_forwarded is None:
        return None
    if not fig.ual_forwarded:
        return False
    kept = fig.ual_forward_retention_days
    return None if kept is None else kept >= days


@check("RET-03")
def long_retention_backed(ctx: CheckContext) -> Outcome:
    r = ctx.figures.retention
    need = max(r.required.searchable_days, r.required.retrievable_days)
    ev: dict[str, object] = {
        "required_days": need,
        "ten_year_without_addon": r.ten_year_without_addon,
        "ten_year_addon_users": ctx.figures.licensing.ten_year_addon_users,
    }
    if need <= ONE_YEAR and not r.ten_year_without_addon:
        return Outcome(Status.NOT_APPLICABLE, f"The profile requires no retention beyond one year ({need} days).", ev)
    if r.ten_year_without_addon:
        return Outcome(
            Status.FAIL,
            "Multi-year policies cover users without the 10-year add-on, whose records are "
            f"kept at most one year: {', '.join(r.ten_year_without_addon)}.",
            ev,
        )
    early = _unavailable(ctx)
    if early:
        return early
    in_tenant_short = sum(w.users_short_retrievable or 0 for w in r.workloads.values())
    ev["users_short_of_retrievable"] = in_tenant_short
    if in_tenant_short == 0:
        unwritten = _records_written(ctx, f"Purview would keep every in-scope user's records {need} days", ev)
        if unwritten is not None:
            return unwritten
        return Outcome(
            Status.PASS,
            f"Every in-scope user's records are kept {need} days in Purview (10-year add-on and policies).",
            ev,
        )
    covered = _export_covers(ctx, need)
    ev["export_covers"] = covered
    if covered:
        unwritten = _records_written(ctx, "An attested export would keep the logs", ev)
        if unwritten is not None:
            return unwritten
        return Outcome(
            Status.PASS,
            f"Purview keeps less than {need} days for some users, but the forwarded copy "
            f"({ctx.figures.export.ual_source}) keeps logs {ctx.figures.export.ual_forward_retention_days} days.",
            ev,
        )
    if covered is None:
        prov = ctx.evidence.log_export.provenance
        return Outcome(
            Status.UNKNOWN,
            f"Purview retention falls short of {need} days and log export evidence was not collected ({prov.reason}).",
            ev,
            fix=prov.fix or "an export attestation",
        )
    return Outcome(Status.FAIL, f"Neither Purview retention nor a forwarded copy keeps logs {need} days.", ev)


@check("RET-04")
def entra_logs_kept(ctx: CheckContext) -> Outcome:
    need = ctx.profile.entra_log_days
    if need is None:
        need = ctx.profile.retention.searchable_days
    level = ctx.figures.licensing.entra or "free"
    in_tenant = int(ctx.kb.entra_log_retention["days"][level])
    ev: dict[str, object] = {"required_days": need, "entra": level, "in_tenant_days": in_tenant}
    if in_tenant >= need:
        return Outcome(Status.PASS, f"Entra keeps sign-in and audit logs {in_tenant} days (required {need}).", ev)
    export = ctx.evidence.log_export.data
    if export is None:
        prov = ctx.evidence.log_export.provenance
        return Outcome(
            Status.UNKNOWN,
            f"Entra keeps logs {in_tenant} days in the tenant, less than {need}; "
            f"diagnostic settings were not collected ({prov.reason}).",
            ev,
            fix=prov.fix or "Reader at /providers/Microsoft.aadiam, or an attestation (--attest) listing the settings",
        )
    reach = entra_reach(export)
    origin = "read"
    if reach is None:
        reach, origin = attested_entra_reach(export), "attested"
    ev["source"] = origin if reach is not None else "none"
    if reach is None:
        gap = next((g for g in (export.azure.gaps if export.azure else []) if "diagnostic" in g.what.lower()), None)
        if gap is not None:
            return Outcome(
                Status.UNKNOWN,
                f"Entra keeps logs {in_tenant} days in the tenant, less than {need}; its diagnostic settings "
                f"could not be read ({gap.reason}).",
                ev,
                fix=gap.fix,
            )
        return Outcome(
            Status.FAIL,
            f"Entra keeps logs {in_tenant} days and no diagnostic setting exports SignInLogs "
            f"and AuditLogs for {need} days.",
            ev,
        )
    ev["copies"] = {
        category: [{"setting": c.setting, "destination": c.destination, "days": _days_json(c.days)} for c in r.copies]
        for category, r in reach.items()
    }
    verdicts = {category: r.meets(need) for category, r in reach.items()}
    if all(v is True for v in verdicts.values()):
        best = "; ".join(f"{c} {_best_copy(r)}" for c, r in reach.items())
        return Outcome(
            Status.PASS,
            f"Entra sign-in and audit logs are exported ({origin}) and kept at least {need} days: {best}.",
            ev,
        )
    unsent = [c for c, r in reach.items() if not r.copies]
    if unsent:
        return Outcome(
            Status.FAIL,
            f"Entra keeps logs {in_tenant} days and no diagnostic setting ({origin}) sends "
            f"{' or '.join(unsent)} anywhere; {need} days are required.",
            ev,
        )
    short = [c for c, v in verdicts.items() if v is False]
    if short:
        named = "; ".join(
            f"{c} reach only "
            + ", ".join(f"{destination_label(x.destination)} ({describe_days(x.days)})" for x in reach[c].copies)
            for c in short
        )
        return Outcome(
            Status.FAIL,
            f"Entra logs are exported ({origin}) but kept less than the required {need} days: {named}.",
            ev,
            remediation="Raise the retention of the tables SigninLogs and AuditLogs (or the storage lifecycle "
            f"rule) of the destination to at least {need} days, or add a destination that keeps them that long.",
        )
    unknown = [x for c, v in verdicts.items() if v is None for x in reach[c].unknown]
    why = "; ".join(dict.fromkeys(f"{destination_label(x.destination)}: {x.why_unknown}" for x in unknown))
    return Outcome(
        Status.UNKNOWN,
        f"Entra logs are exported ({origin}), but how long their destination keeps them is not known: {why}.",
        ev,
        fix="Reader on the subscription holding the destination (Log Analytics tables, storage lifecycle rules); "
        "for an event hub, attest the receiver's retention",
    )


def _days_json(days: float | None) -> int | str | None:
    if days is None:
        return None
    return "kept until deleted" if days == float("inf") else int(days)


def _best_copy(reach: Reach) -> str:
    known = [c for c in reach.copies if c.days is not None]
    top = max(known, key=lambda c: c.days or 0)
    return f"in {destination_label(top.destination)} ({describe_days(top.days)}, setting {top.setting})"
