"""RET checks: effective retention per in-scope user against the profile's required days."""

from __future__ import annotations

from assessor.engine.context import CheckContext
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
    """Whether attested export keeps logs `days` long (None: export evidence not collected)."""
    export = ctx.evidence.log_export.data
    if export is None:
        return None
    return bool(export.siem_attested and (export.siem_retention_days or 0) >= days)


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
            f"Purview keeps less than {need} days for some users, but an attested export "
            f"keeps logs {ctx.evidence.log_export.data.siem_retention_days} days.",  # type: ignore[union-attr]
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
    return Outcome(Status.FAIL, f"Neither Purview retention nor an attested export keeps logs {need} days.", ev)


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
            fix=prov.fix or "an attestation (--attest) listing the Entra diagnostic settings",
        )
    good = [
        d.name
        for d in export.entra_diagnostic_settings
        if {"SignInLogs", "AuditLogs"} <= set(d.categories)
        and d.destinations
        and (d.retention_days is None or d.retention_days == 0 or d.retention_days >= need)
    ]
    ev["diagnostic_settings"] = [d.name for d in export.entra_diagnostic_settings]
    if good:
        return Outcome(Status.PASS, f"Entra logs are exported by diagnostic setting(s) {', '.join(good)}.", ev)
    return Outcome(
        Status.FAIL,
        f"Entra keeps logs {in_tenant} days and no diagnostic setting exports SignInLogs "
        f"and AuditLogs for {need} days.",
        ev,
    )
