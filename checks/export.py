"""EXP checks: the unified audit log stays retrievable for the profile's period, in Purview or forwarded."""

from __future__ import annotations

import math

from assessor.engine.context import CheckContext
from assessor.engine.export import (
    Copy,
    Days,
    Reach,
    attested_entra_reach,
    describe_days,
    destination_label,
    entra_reach,
    ual_forwarding,
)
from assessor.engine.model import Outcome, Status
from assessor.engine.registry import check
from assessor.evidence import LogExport

CONNECTOR_SCOPE = "Sentinel's Office 365 connector forwards Exchange, SharePoint/OneDrive and Teams records only"


class Forward:
    """How long the forwarded copy of one workload's records is kept (known absent, unknown, or days)."""

    def __init__(self, reach: Reach | None, known: bool, origin: str, note: str | None = None) -> None:
        self.reach = reach  # None with known=True: not forwarded
        self.known = known
        self.origin = origin
        self.note = note

    def meets(self, need: int) -> bool | None:
        if self.reach is None:
            return False if self.known else None
        return self.reach.meets(need)

    def describe(self) -> str:
        if self.reach is None:
            return self.note or ("not forwarded" if self.known else "forwarding not known")
        parts = [
            f"{destination_label(c.destination)} {describe_days(c.days)}"
            + (f" ({c.why_unknown})" if c.why_unknown else "")
            for c in self.reach.copies
        ]
        return f"forwarded ({self.origin}) to " + ", ".join(parts)

    @property
    def days(self) -> Days:
        return self.reach.best if self.reach is not None else None


def _single(days: Days, label: str) -> Reach:
    return Reach([Copy(None, label, "attested", days)])


def forwards(export: LogExport) -> dict[str, Forward]:
    """Per workload, the forwarded copy: read from Sentinel and Entra diagnostic settings, else attested."""
    ual = ual_forwarding(export)
    out: dict[str, Forward] = {}
    entra = entra_reach(export)
    entra_origin = "read"
    if entra is None:
        entra, entra_origin = attested_entra_reach(export), "attested"
    if ual is not None and ual.forwarded is not None:
        scope = len(export.azure.subscriptions) if export.azure is not None else 0
        absent = f"not forwarded to any Sentinel workspace the credential can read ({scope} subscription(s))"
        for workload in ("Exchange", "SharePoint", "OneDrive"):
            out[workload] = Forward(ual.workloads.get(workload), True, "read", absent)
        other = f"not forwarded ({CONNECTOR_SCOPE})" if ual.workloads else absent
        out["Other"] = Forward(None, True, "read", other)
    elif export.siem_attested:
        days: Days = float(export.siem_retention_days) if export.siem_retention_days is not None else None
        label = f"SIEM/archive attested{' by ' + export.attested_by if export.attested_by else ''}"
        for workload in ("Exchange", "SharePoint", "OneDrive", "Other"):
            out[workload] = Forward(_single(days, label), True, "attested")
    else:
        known = export.azure is None  # an attestation (nothing read) that forwards nothing
        for workload in ("Exchange", "SharePoint", "OneDrive", "Other"):
            out[workload] = Forward(None, known, "attested" if known else "none")
    if entra is not None:
        out["AzureActiveDirectory"] = Forward(
            entra["AuditLogs"] if entra["AuditLogs"].copies else None, True, entra_origin
        )
    elif export.siem_attested and "Other" in out and out["Other"].origin == "attested":
        out["AzureActiveDirectory"] = Forward(out["Other"].reach, True, "attested")
    else:
        out["AzureActiveDirectory"] = Forward(None, False, "none")
    return out


@check("EXP-01")
def logs_forwarded(ctx: CheckContext) -> Outcome:
    r = ctx.figures.retention
    need = r.required.retrievable_days
    ev: dict[str, object] = {"required_retrievable_days": need}
    purview: dict[str, bool | None] = {
        w: None if r.unavailable or v.users_short_retrievable is None else v.users_short_retrievable == 0
        for w, v in r.workloads.items()
    }
    if purview and all(ok is True for ok in purview.values()):
        return Outcome(
            Status.PASS,
            f"Purview itself keeps every in-scope user's records at least {need} days; "
            "export is not needed for the retrievable period.",
            ev,
        )
    section = ctx.evidence.log_export
    export = section.data
    if export is None:
        prov = section.provenance
        return Outcome(
            Status.UNKNOWN,
            f"Logs must be retrievable {need} days; whether they are forwarded is not known ({prov.reason}).",
            ev,
            fix=prov.fix or "Reader on the subscriptions holding the Log Analytics workspaces, or an attestation",
        )
    fwd = forwards(export)
    export_fig = ctx.figures.export
    ev.update(
        {
            "source": export_fig.source,
            "ual_forwarded": export_fig.ual_forwarded,
            "ual_forward_retention_days": export_fig.ual_forward_retention_days,
            "attested_by": export.attested_by,
        }
    )
    if export_fig.ual_source == "read" and export.siem_attested:
        ev["attestation_overridden"] = True  # a read value wins over the attested one
    verdicts: dict[str, bool | None] = {}
    held_text: dict[str, str] = {}
    for workload, purview_ok in purview.items():
        forward_ok = fwd.get(workload, Forward(None, False, "none")).meets(need)
        if purview_ok is True or forward_ok is True:
            verdicts[workload] = True
        elif purview_ok is False and forward_ok is False:
            verdicts[workload] = False
        else:
            verdicts[workload] = None
        held = r.workloads[workload]
        held_text[workload] = (
            f"{workload} (Purview unknown)"
            if purview_ok is None
            else f"{workload} (Purview min {held.effective_days_min} days, {held.users_short_retrievable} users short)"
            if not purview_ok
            else workload
        )

    def lines(workloads: list[str]) -> str:
        groups: dict[str, list[str]] = {}
        for w in workloads:
            text = fwd[w].describe() if w in fwd else "forwarding not known"
            groups.setdefault(text, []).append(held_text[w])
        return "; ".join(f"{', '.join(ws)}: {text}" for text, ws in groups.items())

    ev["workloads"] = {
        w: {
            "purview_ok": purview[w],
            "forwarded_days": _json_days(fwd[w].days) if w in fwd else None,
            "forward_source": fwd[w].origin if w in fwd else "none",
            "retrievable": verdicts[w],
        }
        for w in purview
    }
    short = [w for w, v in verdicts.items() if v is False]
    open_ = [w for w, v in verdicts.items() if v is None]
    if short:
        return Outcome(
            Status.FAIL,
            f"Records are not retrievable for {need} days — {lines(short)}.",
            ev,
        )
    if open_:
        fix = _fix_for(export_fig.unread) or "Reader on the subscriptions holding the Log Analytics workspaces"
        return Outcome(
            Status.UNKNOWN,
            f"Whether records stay retrievable {need} days cannot be decided — {lines(open_)}.",
            ev,
            fix=fix,
        )
    groups: dict[str, list[str]] = {}
    for workload, ok in purview.items():
        text = "Purview keeps them" if ok else fwd[workload].describe()
        groups.setdefault(text, []).append(workload)
    summary = "; ".join(f"{', '.join(ws)}: {text}" for text, ws in groups.items())
    return Outcome(Status.PASS, f"Every workload's records stay retrievable {need} days — {summary}.", ev)


def _json_days(days: Days) -> int | str | None:
    if days is None:
        return None
    return "kept until deleted" if math.isinf(days) else int(days)


def _fix_for(unread: list[str]) -> str | None:
    fixes = [u.split("(fix: ", 1)[1].rstrip(")") for u in unread if "(fix: " in u]
    return "; ".join(dict.fromkeys(fixes)) or None
