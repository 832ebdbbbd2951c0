"""EXP checks: logs leave the tenant for the retrievable period."""

from __future__ import annotations

from assessor.engine.context import CheckContext
from assessor.engine.model import Outcome, Status
from assessor.engine.registry import check


@check("EXP-01")
def logs_forwarded(ctx: CheckContext) -> Outcome:
    r = ctx.figures.retention
    need = r.required.retrievable_days
    mins = [w.effective_days_min for w in r.workloads.values() if w.effective_days_min is not None]
    short = [w.users_short_retrievable for w in r.workloads.values()]
    ev: dict[str, object] = {"required_retrievable_days": need}
    if not r.unavailable and mins and all(s == 0 for s in short):
        return Outcome(
            Status.PASS,
            f"Purview itself keeps every in-scope user's records at least {need} days; "
            "export is not needed for the retrievable period.",
            ev,
        )
    export = ctx.evidence.log_export.data
    if export is None:
        prov = ctx.evidence.log_export.provenance
        return Outcome(
            Status.UNKNOWN,
            f"Logs must be retrievable {need} days; whether they are forwarded is not known ({prov.reason}).",
            ev,
            fix=prov.fix or "an export attestation (assessor evidence log_export section)",
        )
    ev.update(
        {
            "siem_attested": export.siem_attested,
            "siem_retention_days": export.siem_retention_days,
            "attested_by": export.attested_by,
        }
    )
    if export.siem_attested and (export.siem_retention_days or 0) >= need:
        return Outcome(
            Status.PASS,
            f"Forwarding to a SIEM/archive kept {export.siem_retention_days} days is "
            f"attested{' by ' + export.attested_by if export.attested_by else ''}.",
            ev,
        )
    if export.siem_attested:
        return Outcome(
            Status.FAIL,
            f"Logs are forwarded, but kept {export.siem_retention_days} days, less than the required {need}.",
            ev,
        )
    return Outcome(
        Status.FAIL,
        f"No forwarding of the audit log is attested, and Purview keeps less than {need} days for some users.",
        ev,
    )
