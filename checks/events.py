"""EVT checks: each required event is available at the tenant's tier, audited, and observed in the log."""

from __future__ import annotations

from assessor.engine.context import CheckContext
from assessor.engine.mailbox import unread_for_settings
from assessor.engine.mailclients import PROBE_FIX
from assessor.engine.model import MailClientFigure, Outcome, Status
from assessor.engine.registry import check


def _event(ctx: CheckContext, name: str) -> Outcome:
    fig = ctx.figures.events[name]
    user_mailboxes = ctx.figures.audit.user_mailboxes
    ev = fig.model_dump(mode="json") | {"user_mailboxes": user_mailboxes}
    if name not in ctx.profile.required_events:
        return Outcome(Status.NOT_APPLICABLE, f"{name} is not required by the {ctx.profile.name} profile.", ev)
    if fig.available is None:
        return Outcome(
            Status.UNKNOWN,
            "The tenant's audit tier is unknown (subscriptions not collected).",
            ev,
            fix="LicenseAssignment.Read.All",
        )
    if fig.available is False:
        return Outcome(Status.FAIL, f"{name} needs Audit ({fig.tier_needed.title()}), which the tenant lacks.", ev)
    event = ctx.kb.events[name]
    audit = ctx.figures.audit
    if audit.ual_ingestion_enabled is False:
        return Outcome(
            Status.FAIL,
            f"Unified audit log ingestion is disabled (AUD-01): no {name} record is "
            "written, whatever the mailbox settings say.",
            ev,
            remediation="Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled $true (Exchange Online "
            "PowerShell), then verify records arrive with a Purview audit search.",
            caused_by="AUD-01",
        )
    unconfirmed = fig.audited_mailboxes_unconfirmed or 0
    if fig.audited_mailboxes is not None and user_mailboxes and fig.audited_mailboxes + unconfirmed < user_mailboxes:
        missing = user_mailboxes - fig.audited_mailboxes - unconfirmed
        hidden = fig.mailboxes_not_searchable or 0
        default_note = "" if event.default_on else " It is off by default and must be added to AuditOwner."
        if hidden:
            default_note += (
                f" Of them, {hidden} do list it but have AuditEnabled False while their users lack E5-level "
                "licences, so audit searches do not return their records (Set-Mailbox -AuditEnabled $true; "
                "if it already shows True, set it False and True again)."
            )
        scope = (
            f"for every logon type ({', '.join(event.logon_types)})"
            if len(event.logon_types) > 1
            else f"for the {event.logon_types[0]} logon type"
        )
        seen = (
            f" The log shows it for {fig.observed_users} users, from the mailboxes that do audit it."
            if fig.observed_users
            else ""
        )
        return Outcome(
            Status.FAIL,
            f"{missing} of {user_mailboxes} user mailboxes do not audit "
            f"{event.mailbox_action} {scope}.{default_note}{seen}",
            ev,
            caused_by="AUD-04" if "AUD-04" in ctx.profile.checks else None,
        )
    lacking = fig.users_without_event_licence
    if lacking:
        return Outcome(
            Status.FAIL,
            f"{lacking} in-scope users hold no licence that carries {name} on {ctx.on.isoformat()}: "
            + _licence_reason(ctx, fig.tier_needed),
            ev,
            remediation=_licence_fix(ctx, fig.tier_needed),
            caused_by="LIC-02" if fig.tier_needed == "premium" and "LIC-02" in ctx.profile.checks else None,
        )
    if fig.probe_unavailable is not None:
        prov = ctx.evidence.audit_probe.provenance
        probe = ctx.evidence.audit_probe.data
        failed = [q for q in (probe.queries if probe else []) if event.operation in q.operations and q.error]
        return Outcome(
            Status.UNKNOWN,
            f"The event probe was requested but gave no observations "
            f"({fig.probe_unavailable}); whether {name} arrives in the log is not known.",
            ev,
            fix=(failed[0].fix if failed else None) or prov.fix or "AuditLogsQuery.Read.All (Global cloud only)",
        )
    doubt = _licence_doubt(ctx, fig.users_without_event_licence, unconfirmed, name)
    if fig.observed_users is None:
        if doubt and fig.audited_mailboxes is not None:
            return Outcome(
                Status.UNKNOWN,
                f"{name} is available and in the audit settings of {fig.audited_mailboxes} user mailboxes, "
                f"but {doubt[0]}.",
                ev,
                fix=doubt[1],
            )
        if fig.audited_mailboxes is None:
            prov = ctx.evidence.exchange.mailboxes.provenance
            return Outcome(
                Status.UNKNOWN,
                f"{name} is available, but neither mailbox settings ({prov.reason}) nor the audit log were read.",
                ev,
                fix=prov.fix or "Exchange.ManageAsApp + Global Reader, or AuditLogsQuery.Read.All",
            )
        unread = unread_for_settings(
            ctx.evidence, ctx.figures.audit, ctx.figures.licensing.users_in_scope, ingestion=True, partial=True
        )
        if unread:
            return Outcome(
                Status.UNKNOWN,
                f"{name} is available and in the audit settings of "
                f"{fig.audited_mailboxes} user mailboxes, but {'; '.join(t for t, _ in unread)}: "
                "whether it is recorded is not known (or run with --probe-events DAYS).",
                ev,
                fix=unread[0][1],
            )
        return Outcome(
            Status.PASS,
            f"{name} is available and audited by all {fig.audited_mailboxes} user mailboxes "
            "(not verified in the log: run with --probe-events DAYS).",
            ev,
        )
    if fig.observed_users == 0:
        probe = ctx.evidence.audit_probe.data
        days = (probe.window_end - probe.window_start).days if probe else "?"
        return Outcome(
            Status(ctx.profile.missing_event_status),
            f"{name} should be logged, but no {name} record arrived in the last {days} days. Check "
            "that the users' licences include the event, that mailboxes keep the default audit set, "
            "and search the log in Purview for the operation.",
            ev,
        )
    cov = _coverage(fig.coverage_pct, fig.coverage_upper_bound)
    bound = " at least" if fig.lower_bound else ""
    seen = f"observed for{bound} {fig.observed_users} users{cov}"
    gaps = _settings_gaps(ctx, fig.audited_mailboxes)
    if doubt:
        gaps.append(doubt)
    if gaps:
        return Outcome(
            Status.UNKNOWN,
            f"{name} is available and {seen}, but {'; '.join(t for t, _ in gaps)}. Records prove the event "
            "is logged for the accounts seen, not for the others, and not that it still is.",
            ev,
            fix=gaps[0][1],
        )
    return Outcome(Status.PASS, f"{name} is available, audited by mailbox settings, and {seen}.", ev)


def _coverage(pct: float | None, upper_bound: bool) -> str:
    if pct is None:
        return " (coverage of in-scope users not computable)"
    return f" ({'at most ' if upper_bound else ''}{pct}% of in-scope users)"


def _settings_gaps(ctx: CheckContext, audited: int | None) -> list[tuple[str, str]]:
    """What a pass needs beyond observed records: the whole mailbox list with its settings and the
    ingestion switch as it is now (records show only that it was on until the newest of them)."""
    if audited is None:
        prov = ctx.evidence.exchange.mailboxes.provenance
        return [
            (
                f"the mailbox audit settings were not read ({prov.reason}), so mailboxes that do not audit "
                "it cannot be ruled out",
                prov.fix or "Exchange.ManageAsApp + Global Reader",
            )
        ]
    return unread_for_settings(
        ctx.evidence, ctx.figures.audit, ctx.figures.licensing.users_in_scope, ingestion=True, partial=True
    )


@check("EVT-01")
def mail_items_accessed(ctx: CheckContext) -> Outcome:
    return _event(ctx, "MailItemsAccessed")


@check("EVT-02")
def send(ctx: CheckContext) -> Outcome:
    return _event(ctx, "Send")


@check("EVT-03")
def search_exchange(ctx: CheckContext) -> Outcome:
    return _event(ctx, "SearchQueryInitiatedExchange")


@check("EVT-04")
def search_sharepoint(ctx: CheckContext) -> Outcome:
    return _event(ctx, "SearchQueryInitiatedSharePoint")


def _licence_reason(ctx: CheckContext, tier_needed: str) -> str:
    if tier_needed == "premium":
        return "on this date the event is logged only for users with Audit (Premium) (E5 level)."
    skus = ctx.figures.licensing.basic_mailbox_skus or []
    held = f" (assigned here: {', '.join(skus)})" if skus else ""
    return (
        "it is logged for users with E3/E5 (G3/G5) level licences; nothing documents it for Business plans, "
        f"F1/F3, Exchange Online plans alone or A1{held}."
    )


def _licence_doubt(ctx: CheckContext, lacking: int | None, unconfirmed: int, name: str) -> tuple[str, str] | None:
    """Why a pass would rest on licences the evidence does not show (as what, fix)."""
    if lacking is None:
        skus = ", ".join(ctx.figures.licensing.basic_mailbox_skus or []) or "unknown SKUs"
        return (
            f"whether every in-scope user's licence carries {name} is not known: the tenant assigns SKUs that "
            f"give a mailbox without it ({skus})",
            "collect with --users detail (per-user licences), or import users with in_scope_expanded",
        )
    if unconfirmed:
        return (
            f"{unconfirmed} mailboxes that audit {name} have AuditEnabled False and the evidence does not say "
            "whether their users hold E5-level licences (without them, audit searches do not return their records)",
            "Set-Mailbox -AuditEnabled $true on those mailboxes, or collect per-user licences (--users detail)",
        )
    return None


def _licence_fix(ctx: CheckContext, tier_needed: str) -> str:
    rec = ctx.figures.licensing.recommendation
    if tier_needed == "premium" and rec is not None:
        return rec.text
    return "Give these users an E3/E5 (G3/G5) level licence, or Audit (Premium), so the event is logged for them."


# --------------------------------------------------------------------------- EVT-05: who reads mail


def _pair(c: MailClientFigure) -> str:
    name = c.display_name or "an application unknown to the tenant and to Microsoft"
    via = f" via client {c.client_display_name or c.client_app_id}" if c.client_app_id else ""
    return f"{name} ({c.app_id}{via})"


@check("EVT-05")
def unexpected_mail_readers(ctx: CheckContext) -> Outcome:
    """No unexpected application reads mail: clients resolved, new clients on privileged mailboxes, unscoped apps."""
    figures = ctx.figures
    clients, permissions = figures.mail_clients, figures.mail_permissions
    prov = ctx.evidence.audit_probe.provenance
    ev: dict[str, object] = {
        "clients": len(clients) if clients is not None else None,
        "unknown": [c.model_dump(mode="json") for c in clients or [] if c.publisher == "unknown"][:10],
    }
    if clients is None:
        reason = prov.reason if ctx.evidence.audit_probe.data is None else "its MailItemsAccessed query gave no figures"
        return Outcome(
            Status.UNKNOWN,
            f"Which applications read mail is not known: the audit log was not probed ({reason}).",
            ev,
            fix=PROBE_FIX,
        )
    recent_unknown = [c for c in clients if c.publisher == "unknown" and c.recent_records and c.tenant_checked]
    if recent_unknown:
        worst = recent_unknown[0]
        reach = f", {worst.privileged_mailboxes} of them privileged or VIP" if worst.privileged_mailboxes else ""
        return Outcome(
            Status.FAIL,
            f"{len(recent_unknown)} mail client(s) that are neither the tenant's nor Microsoft's read mail in the "
            f"recent window, e.g. {_pair(worst)}: {worst.recent_records} records, {worst.mailboxes} mailboxes{reach}.",
            ev,
            remediation="Investigate the AppId in the Entra sign-in logs and the MailItemsAccessed records "
            "(Purview audit search on the AppId/ClientAppId); revoke its sessions and credentials if unexpected.",
        )
    unchecked = [c for c in clients if c.publisher == "unknown" and c.recent_records and not c.tenant_checked]
    new_privileged = [c for c in clients if c.recent_only and c.privileged_mailboxes]
    unscoped = [p for p in permissions or [] if p.scoped is False]
    warnings = []
    if new_privileged:
        c = new_privileged[0]
        warnings.append(
            f"{len(new_privileged)} client(s) first seen in the recent window read privileged or VIP mailboxes, e.g. "
            f"{_pair(c)} reached {c.privileged_mailboxes} ({', '.join(c.privileged_reached[:3])})"
        )
    if unscoped:
        names = ", ".join(f"{p.display_name or p.app_id} ({', '.join(p.permissions)})" for p in unscoped[:3])
        warnings.append(
            f"{len(unscoped)} application(s) can read every mailbox without a user and no application access "
            f"policy or RBAC scope limits them: {names}"
        )
    ev |= {"new_on_privileged": len(new_privileged), "unscoped_app_only": [p.model_dump() for p in unscoped][:10]}
    if warnings:
        return Outcome(
            Status.WARN,
            "; ".join(warnings) + ".",
            ev,
            remediation="Confirm each new client with its owner; scope app-only mail permissions with RBAC for "
            "Applications (New-ManagementRoleAssignment -App … -CustomResourceScope …) or an application "
            "access policy, or remove them.",
        )
    gaps = []
    fix = None
    if unchecked:
        gaps.append(
            f"{len(unchecked)} client(s) are not in Microsoft's list and the tenant's applications were not read"
        )
        fix = "Application.Read.All"
    if any(c.recent_only and c.privileged_mailboxes is None for c in clients):
        gaps.append("privileged users were not read, so the reach of new clients is not known")
        fix = fix or "RoleManagement.Read.Directory"
    if permissions is None:
        apps = ctx.evidence.applications
        why = apps.data.mail_permissions_unavailable if apps is not None and apps.data is not None else None
        gaps.append(f"app-only mail permissions were not read ({why or 'no applications section'})")
        fix = fix or "Application.Read.All"
    elif any(p.scoped is None for p in permissions):
        apps = ctx.evidence.applications
        why = apps.data.scoping_unavailable if apps is not None and apps.data is not None else None
        gaps.append(f"whether Exchange scopes the app-only mail permissions is not known ({why})")
        fix = fix or "Exchange.ManageAsApp + Global Reader"
    if gaps:
        return Outcome(Status.UNKNOWN, "No unexpected mail client found, but " + "; ".join(gaps) + ".", ev, fix=fix)
    return Outcome(
        Status.PASS,
        f"All {len(clients)} mail clients are the tenant's or Microsoft's, none new on privileged mailboxes, and "
        f"every app-only mail permission ({len(permissions or [])}) is scoped.",
        ev,
    )
