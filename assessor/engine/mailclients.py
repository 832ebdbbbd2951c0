"""Who reads mail, and would a Storm-0558-style intrusion be visible here? (pure: evidence in, figures out)

- :func:`compute_mail_clients`: every (AppId, ClientAppId) pair the probe saw reading or sending
  mail, named from the tenant's service principals, else Microsoft's published first-party list,
  else ``unknown``; unknown and new clients first.
- :func:`compute_mail_permissions`: service principals that can read mail without a user, and
  whether Exchange scopes them.
- :func:`compute_readiness`: the four elements of the verdict; ``visible`` is true only when all
  pass, false when one fails, null when none fails but one is unknown.
"""

from __future__ import annotations

from datetime import datetime

from assessor.engine.mailbox import audits_mailitemsaccessed
from assessor.engine.model import (
    AuditFigures,
    EventFigures,
    MailClientFigure,
    MailPermissionFigure,
    ReadinessElement,
    ReadinessFigures,
    RetentionFigures,
)
from assessor.evidence import Evidence, MailClientObservation, ServicePrincipalRef
from assessor.knowledge import WORKLOADS, Knowledge, load_knowledge
from assessor.knowledge.mail_access import load_mail_access, load_microsoft_apps
from assessor.profiles import Profile

PROBE_FIX = "run with --probe-events DAYS (30 gives a 23-day baseline) and AuditLogsQuery.Read.All"
MIN_BASELINE_DAYS = 7
_PUBLISHER_RANK = {"unknown": 0, "tenant": 1, "microsoft": 2}


def _directory(evidence: Evidence) -> tuple[dict[str, ServicePrincipalRef], bool]:
    """AppId → what the tenant (or Microsoft's list) says it is; and whether the tenant was asked."""
    section = evidence.applications
    refs: dict[str, ServicePrincipalRef] = {}
    asked = section is not None and section.data is not None
    if asked and section is not None and section.data is not None:
        refs = {r.app_id.lower(): r for r in section.data.resolved}
    return refs, asked


def _ref(app_id: str, refs: dict[str, ServicePrincipalRef]) -> ServicePrincipalRef:
    found = refs.get(app_id)
    if found is not None:
        return found
    microsoft = load_microsoft_apps().apps
    if app_id in microsoft:
        return ServicePrincipalRef(
            app_id=app_id, display_name=microsoft[app_id], publisher="microsoft", source="microsoft-list"
        )
    return ServicePrincipalRef(app_id=app_id, publisher="unknown", source="none")


def _access(client: MailClientObservation) -> str | None:
    if client.app_only_records and client.delegated_records:
        return "mixed"
    if client.app_only_records:
        return "app_only"
    if client.delegated_records:
        return "delegated"
    return None


def _recent_only(client: MailClientObservation, recent_start: datetime | None) -> bool | None:
    if recent_start is None or client.first_seen is None:
        return None
    return client.first_seen >= recent_start


def compute_mail_clients(evidence: Evidence) -> list[MailClientFigure] | None:
    """The mail-reading clients (null without probe client figures), unknown and new ones first."""
    probe = evidence.audit_probe.data
    if probe is None or probe.clients is None:
        return None
    refs, asked = _directory(evidence)
    out = []
    for c in probe.clients:
        app = _ref(c.app_id, refs)
        client = _ref(c.client_app_id, refs) if c.client_app_id else None
        publisher = min((app.publisher, client.publisher if client else "microsoft"), key=_PUBLISHER_RANK.__getitem__)
        if client is None:
            publisher = app.publisher
        out.append(
            MailClientFigure(
                app_id=c.app_id,
                client_app_id=c.client_app_id,
                display_name=app.display_name,
                client_display_name=client.display_name if client else None,
                publisher=publisher,
                tenant_checked=asked,
                access=_access(c),
                records=c.records,
                recent_records=c.recent_records,
                operations=dict(c.operations),
                mailboxes=c.mailboxes,
                privileged_mailboxes=c.privileged_mailboxes,
                privileged_reached=list(c.privileged_reached),
                first_seen=c.first_seen,
                last_seen=c.last_seen,
                recent_only=_recent_only(c, probe.recent_start),
            )
        )
    out.sort(key=lambda f: (f.publisher != "unknown", f.recent_only is not True, -f.records, f.app_id))
    return out


def compute_mail_permissions(evidence: Evidence) -> list[MailPermissionFigure] | None:
    section = evidence.applications
    if section is None or section.data is None or section.data.mail_permissions is None:
        return None
    return [
        MailPermissionFigure(
            app_id=p.app_id,
            display_name=p.display_name,
            permissions=list(p.permissions),
            scoped=p.scoped,
            scope=p.scope,
        )
        for p in section.data.mail_permissions
    ]


# --------------------------------------------------------------------------- readiness


def _ingestion(audit: AuditFigures, evidence: Evidence) -> ReadinessElement:
    if audit.ual_ingestion_enabled is True:
        return ReadinessElement(id="ingestion", status="pass", detail="Unified audit log ingestion is on.")
    if audit.ual_ingestion_enabled is False:
        return ReadinessElement(
            id="ingestion",
            status="fail",
            detail="Unified audit log ingestion is off: no MailItemsAccessed record is written at all.",
        )
    prov = evidence.exchange.admin_audit_log_config.provenance
    return ReadinessElement(
        id="ingestion",
        status="unknown",
        detail=f"Whether ingestion is on was not read ({prov.reason}).",
        fix=prov.fix or "Exchange.ManageAsApp + Global Reader",
    )


def _watched_by_settings(
    audit: AuditFigures, evidence: Evidence, privileged_roles: set[str], kb: Knowledge
) -> ReadinessElement | None:
    """The element decided from the mailbox groups' privileged (and VIP) counts — each mailbox joined to
    its user by directory id at collection — where those counts cover the profile's roles. A pass
    needs every group holding such a mailbox to audit MailItemsAccessed (and AuditDisabled read as
    False); a fail needs one that does not, counted over exactly the profile's roles (or a VIP's)."""
    rid = "mailitemsaccessed_privileged"
    mbx = evidence.exchange.mailboxes.data
    if mbx is None or mbx.privileged_roles is None or any(c.privileged is None for c in mbx.configurations):
        return None
    if evidence.vip and any(c.vip is None for c in mbx.configurations):
        return None
    counted = mbx.privileged_roles
    covers = counted == "all" or privileged_roles <= {r.lower() for r in counted}
    exact = counted != "all" and privileged_roles == {r.lower() for r in counted}
    if not covers:
        return None
    vip = " and VIP" if evidence.vip else ""
    watched_priv = watched_vip = bad_priv = bad_vip = unsure = 0
    for config in mbx.configurations:
        priv, vips = config.privileged or 0, config.vip or 0
        if not priv and not vips:
            continue
        watched_priv += priv
        watched_vip += vips
        verdict = audits_mailitemsaccessed(config, evidence, kb)
        if verdict is False:
            bad_priv += priv
            bad_vip += vips
        elif verdict is None:
            unsure += max(priv, vips)
    if bad_vip or (bad_priv and exact):
        parts = [f"{bad_priv} privileged"] if bad_priv and exact else []
        parts += [f"{bad_vip} VIP"] if bad_vip else []
        return ReadinessElement(
            id=rid,
            status="fail",
            detail=f"Mailboxes that do not audit MailItemsAccessed (or whose records are not searchable) belong to "
            f"{' and '.join(parts)} user(s), by their mailbox settings joined to the users' directory ids.",
            fix="Set-Mailbox -AuditOwner/-AuditDelegate/-AuditAdmin @{Add='MailItemsAccessed'} (and -AuditEnabled "
            "$true for users without E5-level licences) on those mailboxes",
        )
    if bad_priv or unsure or audit.org_audit_disabled is not False:
        return None
    tally = f"{watched_priv} privileged" + (f" and {watched_vip} VIP" if evidence.vip else "")
    return ReadinessElement(
        id=rid,
        status="pass",
        detail=f"The settings of every privileged{vip} user's mailbox ({tally}) audit MailItemsAccessed "
        "(mailboxes joined to their users by directory id)."
        if watched_priv or watched_vip
        else f"No privileged{vip} user has a user mailbox (mailboxes joined to their users by directory id).",
    )


def _watched(
    audit: AuditFigures, event: EventFigures | None, evidence: Evidence, privileged_roles: set[str], kb: Knowledge
) -> ReadinessElement:
    rid = "mailitemsaccessed_privileged"
    probe = evidence.audit_probe.data
    watched = probe.watched if probe is not None else None
    vip = " and VIP" if evidence.vip else ""
    if event is not None and event.available is False:
        return ReadinessElement(
            id=rid,
            status="fail",
            detail=f"MailItemsAccessed needs Audit ({event.tier_needed.title()}), which the tenant lacks.",
        )
    if audit.org_audit_disabled is True:
        return ReadinessElement(
            id=rid, status="fail", detail="Mailbox auditing is off organisation-wide (AuditDisabled)."
        )
    if audit.ual_ingestion_enabled is False:
        return ReadinessElement(id=rid, status="fail", detail="Ingestion is off: nothing is recorded for any mailbox.")
    if watched is not None and watched.total and watched.observed == watched.total:
        return ReadinessElement(
            id=rid,
            status="pass",
            detail=f"MailItemsAccessed records arrived for all {watched.total} privileged{vip} mailboxes "
            "in the window.",
        )
    by_settings = _watched_by_settings(audit, evidence, privileged_roles, kb)
    if by_settings is not None and (by_settings.status == "fail" or (event is not None and event.available)):
        return by_settings
    missing = audit.mailboxes_missing_mailitemsaccessed
    if missing == 0 and audit.user_mailboxes and event is not None and event.available:
        return ReadinessElement(
            id=rid,
            status="pass",
            detail=f"Every user mailbox ({audit.user_mailboxes}) audits MailItemsAccessed, "
            f"privileged{vip} ones included.",
        )
    if missing and watched is not None and watched.missing:
        shown = ", ".join(watched.missing[:5])
        return ReadinessElement(
            id=rid,
            status="fail",
            detail=f"{missing} user mailboxes do not audit MailItemsAccessed, and no record arrived for "
            f"{watched.total - watched.observed} of {watched.total} privileged{vip} mailboxes ({shown}).",
        )
    if missing:
        return ReadinessElement(
            id=rid,
            status="unknown",
            detail=f"{missing} user mailboxes do not audit MailItemsAccessed; whether privileged{vip} ones are "
            "among them is not known.",
            fix=PROBE_FIX,
        )
    prov = evidence.exchange.mailboxes.provenance
    return ReadinessElement(
        id=rid,
        status="unknown",
        detail="Neither the mailbox audit settings nor records for every privileged mailbox were obtained"
        + (f" ({prov.reason})." if prov.reason else "."),
        fix=prov.fix or "Exchange.ManageAsApp + Global Reader, or " + PROBE_FIX,
    )


def mail_access_workloads(evidence: Evidence, kb: Knowledge) -> list[str]:
    """The workloads whose retention MailItemsAccessed records get: the Workload the probe's records
    carry (as Microsoft classifies records, e.g. for the Premium default policy), else the event's
    documented workload. A Workload outside the four named ones is kept by the 'Other' rules."""
    probe = evidence.audit_probe.data
    observed = probe.operations.get("MailItemsAccessed") if probe is not None else None
    named = {w.lower(): w for w in WORKLOADS}
    seen = observed.workloads if observed is not None and observed.workloads else {}
    found = sorted({named.get(w.lower(), "Other") for w, n in seen.items() if n and w != "unknown"})
    return found or [kb.events["MailItemsAccessed"].workload]


def _retention(retention: RetentionFigures, profile: Profile, workloads: list[str]) -> ReadinessElement:
    incident = load_mail_access().storm_0558
    needed = max(incident.days_unnoticed, profile.retention.searchable_days)
    why = (
        f"{incident.days_unnoticed} days went by between first access ({incident.first_access}) and "
        f"detection ({incident.detected}); the profile requires {profile.retention.searchable_days}"
    )
    # records of several workloads: the shortest-kept one decides (the reading that cannot falsely pass)
    figures = [retention.workloads.get(w) for w in workloads or ["Exchange"]]
    known = [f for f in figures if f is not None and f.effective_days_min is not None]
    exchange = min(known, key=lambda f: f.effective_days_min or 0) if len(known) == len(figures) else None
    days = exchange.effective_days_min if exchange is not None else None
    label = " and ".join(workloads or ["Exchange"])
    if days is None:
        return ReadinessElement(
            id="retention",
            status="unknown",
            detail=f"The effective retention of {label} records is not known "
            f"({retention.unavailable or retention.error}); "
            f"it must be at least {needed} days ({why}).",
            fix=retention.fix,
        )
    if days >= needed:
        return ReadinessElement(
            id="retention",
            status="pass",
            detail=f"MailItemsAccessed records are kept at least {days} days for every in-scope user; "
            f"{needed} are needed ({why}).",
        )
    # the figure is the shortest in-scope user's: name how many fall short rather than imply all do
    short = exchange.users_short if exchange is not None else None
    who = f"{short} in-scope user(s)" if short else "some in-scope users"
    return ReadinessElement(
        id="retention",
        status="fail",
        detail=f"MailItemsAccessed records of {who} are kept less than {needed} days (as little as {days}); "
        f"{needed} are needed ({why}).",
    )


def _baseline(evidence: Evidence) -> ReadinessElement:
    probe = evidence.audit_probe.data
    prov = evidence.audit_probe.provenance
    if probe is None:
        reason = prov.reason if prov.requested else "the probe was not run"
        return ReadinessElement(
            id="baseline",
            status="unknown",
            detail=f"No client baseline was read from the log ({reason}).",
            fix=PROBE_FIX,
        )
    if probe.clients is None or probe.recent_start is None:
        return ReadinessElement(
            id="baseline",
            status="unknown",
            detail="The probe gave no MailItemsAccessed client figures (its query failed, or older evidence).",
            fix=PROBE_FIX,
        )
    days = (probe.recent_start - probe.window_start).days
    recent = (probe.window_end - probe.recent_start).days
    needed = max(MIN_BASELINE_DAYS, recent)
    seen = sum(c.records - c.recent_records for c in probe.clients)
    if days >= needed and seen:
        return ReadinessElement(
            id="baseline",
            status="pass",
            detail=f"A {days}-day baseline of {len(probe.clients)} mail clients precedes the "
            f"{recent}-day recent window.",
        )
    if not seen and days >= needed:
        return ReadinessElement(
            id="baseline",
            status="fail",
            detail=f"No mail client records in the {days}-day baseline part of the window.",
        )
    return ReadinessElement(
        id="baseline",
        status="fail",
        detail=f"The baseline covers {days} days before the {recent}-day recent window; at least {needed} are needed.",
        fix=f"run with --probe-events {needed + recent} (or a shorter --recent-days)",
    )


def compute_readiness(
    evidence: Evidence,
    profile: Profile,
    audit: AuditFigures,
    retention: RetentionFigures,
    events: dict[str, EventFigures],
) -> ReadinessFigures:
    elements = [
        _ingestion(audit, evidence),
        _watched(
            audit,
            events.get("MailItemsAccessed"),
            evidence,
            {r.template_id.lower() for r in profile.privileged_roles},
            load_knowledge(),
        ),
        _retention(retention, profile, mail_access_workloads(evidence, load_knowledge())),
        _baseline(evidence),
    ]
    statuses = {e.status for e in elements}
    visible = False if "fail" in statuses else (None if "unknown" in statuses else True)
    return ReadinessFigures(visible=visible, elements=elements)
