"""AUD checks: is activity logged at all — ingestion, org-wide mailbox auditing, bypass, actions."""

from __future__ import annotations

from datetime import datetime

from assessor.engine.context import CheckContext
from assessor.engine.mailbox import EXCHANGE_READ_FIX, licence_of, missing_actions, unread_for_settings
from assessor.engine.model import Outcome, Status
from assessor.engine.registry import check

SAMPLE = 10


@check("AUD-01")
def ual_ingestion_enabled(ctx: CheckContext) -> Outcome:
    enabled = ctx.figures.audit.ual_ingestion_enabled
    probe = ctx.evidence.audit_probe.data
    observed = probe.total_records if probe is not None else None
    ev: dict[str, object] = {"ual_ingestion_enabled": enabled, "probe_records": observed}
    if enabled is False:
        return Outcome(Status.FAIL, "Unified audit log ingestion is disabled: no activity is being recorded.", ev)
    if enabled is True:
        silent = _silent_default_events(ctx)
        if silent:
            return Outcome(
                Status.WARN,
                "Ingestion reads as enabled, but the probe found no record at all in its "
                f"window, not even of {', '.join(silent)}, which are on by default: check that recording "
                "really started and that the probe's account can search the log.",
                ev,
            )
        return Outcome(Status.PASS, "Unified audit log ingestion is enabled.", ev)
    prov = ctx.evidence.exchange.admin_audit_log_config.provenance
    if observed:
        newest = _newest_record(ctx)
        ev["newest_record"] = newest.isoformat() if newest else None
        until = f" until {newest.isoformat()}" if newest else ""
        return Outcome(
            Status.UNKNOWN,
            f"Ingestion setting not collected ({prov.reason}); {observed} audit records in the probe window "
            f"show ingestion was on{until}, not that it is on now: switching it off leaves older records "
            "behind, and records arrive up to a day late.",
            ev,
            fix=prov.fix or EXCHANGE_READ_FIX,
        )
    return Outcome(
        Status.UNKNOWN,
        f"Ingestion setting not collected ({prov.reason}) and no probe records to infer it from.",
        ev,
        fix=prov.fix or EXCHANGE_READ_FIX,
    )


def _newest_record(ctx: CheckContext) -> datetime | None:
    probe = ctx.evidence.audit_probe.data
    seen = [o.last_seen for o in probe.operations.values() if o.last_seen] if probe is not None else []
    return max(seen) if seen else None


def _silent_default_events(ctx: CheckContext) -> list[str]:
    """On-by-default operations whose probe query finished with zero records, when every query of the
    probe finished and none found anything (otherwise an empty result says nothing about ingestion:
    off-by-default events are often legitimately empty, and failed queries counted nothing)."""
    probe = ctx.evidence.audit_probe.data
    if probe is None or probe.total_records or any(q.error for q in probe.queries):
        return []
    on_by_default = {e.operation for e in ctx.kb.events.values() if e.default_on}
    return sorted({op for q in probe.queries for op in q.operations if op in on_by_default})


@check("AUD-02")
def org_mailbox_auditing_on(ctx: CheckContext) -> Outcome:
    disabled = ctx.figures.audit.org_audit_disabled
    ev = {"org_audit_disabled": disabled}
    if disabled:
        return Outcome(Status.FAIL, "AuditDisabled is True: mailbox auditing is off for every mailbox.", ev)
    return Outcome(Status.PASS, "Mailbox auditing is on by default for the organisation (AuditDisabled False).", ev)


@check("AUD-03")
def no_audit_bypass(ctx: CheckContext) -> Outcome:
    fig = ctx.figures.audit
    ids = fig.bypass_identities or []
    total = ctx.evidence.exchange.bypass.data.total_associations if ctx.evidence.exchange.bypass.data else None
    ev = {"bypass_mailboxes": fig.bypass_mailboxes, "associations_checked": total, "bypassed": ids[:SAMPLE]}
    if ids:
        more = f" (and {len(ids) - SAMPLE} more)" if len(ids) > SAMPLE else ""
        return Outcome(
            Status.FAIL,
            f"{len(ids)} account(s) bypass mailbox auditing: "
            f"{', '.join(ids[:SAMPLE])}{more}. Nothing they do in mailboxes is logged.",
            ev,
        )
    return Outcome(Status.PASS, f"None of the {total} audit bypass associations is enabled.", ev)


@check("AUD-04")
def mailbox_actions_audited(ctx: CheckContext) -> Outcome:
    fig = ctx.figures.audit
    ev = {
        "user_mailboxes": fig.user_mailboxes,
        "mailboxes_missing_required_actions": fig.mailboxes_missing_required_actions,
        "mailboxes_missing_mailitemsaccessed": fig.mailboxes_missing_mailitemsaccessed,
        "missing_by_action": fig.missing_by_action,
        "required_actions": fig.required_actions,
        "mailboxes_audit_disabled": fig.mailboxes_audit_disabled,
        "mailboxes_not_searchable": fig.mailboxes_not_searchable,
        "org_audit_disabled": fig.org_audit_disabled,
    }
    if fig.org_audit_disabled:
        return Outcome(
            Status.FAIL,
            "Mailbox auditing is off organisation-wide (AuditDisabled True), so no "
            "mailbox audits anything regardless of its own settings.",
            ev,
        )
    missing = fig.mailboxes_missing_required_actions or 0
    if missing:
        parts = [
            f"{lt}: " + ", ".join(f"{a} ({n})" for a, n in sorted(actions.items()))
            for lt, actions in sorted((fig.missing_by_action or {}).items())
        ]
        configs = ctx.evidence.exchange.mailboxes.data.configurations if ctx.evidence.exchange.mailboxes.data else []
        lacking = [
            c for c in configs if missing_actions(c, fig.required_actions, ctx.kb, licence_of(c, ctx.evidence, ctx.kb))
        ]
        ev["sample_mailboxes"] = [s for c in lacking for s in c.sample][:SAMPLE]  # type: ignore[assignment]
        return Outcome(
            Status.FAIL,
            f"{missing} of {fig.user_mailboxes} user mailboxes do not audit every required "
            f"action; missing per logon type — {'; '.join(parts)}.",
            ev,
        )
    hidden = fig.mailboxes_not_searchable or 0
    doubtful = fig.mailboxes_defaults_unconfirmed or 0
    if hidden:
        return Outcome(
            Status.FAIL,
            f"{hidden} of {fig.user_mailboxes} user mailboxes have AuditEnabled False while their users lack "
            "E5-level licences: Learn says audit searches return such mailboxes' records only when auditing "
            "was explicitly enabled on the mailbox, so nothing done in them can be found.",
            ev,
            remediation="Set-Mailbox -Identity <mbx> -AuditEnabled $true for each (if it already shows True, set "
            "it False and then True again); or give the users E5-level audit licensing.",
        )
    in_scope = ctx.figures.licensing.users_in_scope
    unread = unread_for_settings(ctx.evidence, fig, in_scope, ingestion=False, partial=False)
    if unread:
        return Outcome(
            Status.UNKNOWN,
            f"No listed user mailbox lacks a required action, but {'; '.join(t for t, _ in unread)}.",
            ev,
            fix=unread[0][1],
        )
    if doubtful:
        skus = ", ".join(ctx.figures.licensing.basic_mailbox_skus or []) or "unknown SKUs"
        return Outcome(
            Status.UNKNOWN,
            f"{doubtful} user mailboxes report no audit actions and rely on Microsoft's defaults, which apply "
            f"only for licences that have them (E3/E5 level); the tenant also assigns SKUs without them ({skus}) "
            "and the evidence does not say which users hold which.",
            ev,
            fix="collect with --users detail (per-user licences), or export Get-Mailbox with its audit lists",
        )
    listed = fig.user_mailboxes or 0
    if in_scope and listed < in_scope:
        cut = " Exactly 1000 listed: Get-Mailbox stops there without -ResultSize Unlimited." if listed == 1000 else ""
        return Outcome(
            Status.WARN,
            f"All {listed} listed user mailboxes audit the required actions, but the "
            f"tenant has {in_scope} in-scope users: {in_scope - listed} have no mailbox in the evidence "
            "(a partial export, or mailboxes still on-premises) and were not checked." + cut,
            ev,
        )
    if fig.mailboxes_audit_disabled:
        unsure = fig.mailboxes_audit_disabled_licence_unknown or 0
        why = (
            f" For {unsure} of them the evidence does not show whether their users hold E5-level licences; "
            "without them, audit searches do not return their records."
            if unsure
            else ""
        )
        return Outcome(
            Status.WARN,
            f"All mailboxes list the required actions, but {fig.mailboxes_audit_disabled} have AuditEnabled "
            f"False.{why}",
            ev,
            remediation="Set-Mailbox -Identity <mbx> -AuditEnabled $true (if it already shows True, set it False "
            "and then True again).",
        )
    return Outcome(
        Status.PASS, f"All {fig.user_mailboxes} user mailboxes audit the required actions for every logon type.", ev
    )
