"""Mailbox auditing figures: ingestion, org-wide switch, bypass, and per-logon-type actions.

A logon type listed in a mailbox's ``DefaultAuditSet`` gets Microsoft's managed default actions
(MailItemsAccessed and Send among them); a customised logon type has exactly the actions in its
list and does not receive newly released defaults — that is where MailItemsAccessed goes missing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from assessor.engine.licensing import USABLE_SKU_STATES, users_without_expanded_events
from assessor.engine.model import AuditFigures
from assessor.evidence import Evidence, MailboxAuditConfiguration
from assessor.knowledge import Knowledge
from assessor.profiles import Profile

LOGON_TYPES = ("Owner", "Delegate", "Admin")


def required_actions(profile: Profile, kb: Knowledge) -> dict[str, list[str]]:
    """Per logon type, the mailbox actions the profile needs audited."""
    if profile.mailbox_actions is not None:
        explicit = profile.mailbox_actions.model_dump()
        derived = {lt: set(explicit.get(lt, [])) for lt in LOGON_TYPES}
    else:
        derived = {lt: set() for lt in LOGON_TYPES}
    for name in profile.required_events:
        event = kb.events[name]
        if event.mailbox_action:
            for lt in event.logon_types:
                derived[lt].add(event.mailbox_action)
    return {lt: sorted(actions) for lt, actions in derived.items()}


@dataclass(frozen=True)
class MailboxLicence:
    """What a mailbox group's licence decides, each None when the evidence cannot tell."""

    premium: bool | None  # E5 level: its records are searchable whatever AuditEnabled says
    documented_defaults: bool | None  # Microsoft-managed defaults (MailItemsAccessed, Send) apply


def licence_of(config: MailboxAuditConfiguration, evidence: Evidence, kb: Knowledge) -> MailboxLicence:
    """The group's own licence level, else what the tenant's licensing decides for every mailbox."""
    if config.licence is not None:
        premium = config.licence == "premium"
        return MailboxLicence(premium, config.licence != "basic")
    users, skus = evidence.users.data, evidence.skus.data
    counts = users.counts if users is not None else None
    premium_known: bool | None = None
    if counts is not None and counts.in_scope and counts.in_scope_premium is not None:
        if counts.in_scope_premium == counts.in_scope:
            premium_known = True
        elif counts.in_scope_premium == 0:
            premium_known = False
    documented: bool | None = None
    if premium_known or users_without_expanded_events(evidence, kb) == 0:
        documented = True
    elif skus is not None and not any(
        s.capability_status in USABLE_SKU_STATES
        and (
            s.sku_id.lower() in kb.expanded_event_sku_ids
            or any(p.service_plan_id.lower() in kb.premium_plan_ids for p in s.service_plans)
        )
        for s in skus
    ):
        documented = False
    return MailboxLicence(premium_known, documented)


def audited_actions(
    config: MailboxAuditConfiguration, logon_type: str, kb: Knowledge, licence: MailboxLicence
) -> set[str]:
    """The actions Get-Mailbox reports for the logon type; where it reports none and the logon type
    keeps the default set, Microsoft's documented defaults — only for a licence that has them."""
    actions = {a.strip().lower() for a in config.actions(logon_type)}
    if not actions and logon_type in config.default_audit_set and licence.documented_defaults:
        actions = {a.lower() for a in kb.default_actions(logon_type)}
    return actions


def records_searchable(config: MailboxAuditConfiguration, licence: MailboxLicence) -> bool | None:
    """Learn: mailbox audit records of users without E5-level licences are returned by audit searches
    only when auditing was explicitly enabled on the mailbox (AuditEnabled True)."""
    if config.audit_enabled or licence.premium:
        return True
    return None if licence.premium is None else False


def missing_actions(
    config: MailboxAuditConfiguration, required: dict[str, list[str]], kb: Knowledge, licence: MailboxLicence
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for lt, actions in required.items():
        have = audited_actions(config, lt, kb, licence)
        lacking = [a for a in actions if a.lower() not in have]
        if lacking:
            out[lt] = lacking
    return out


@dataclass(frozen=True)
class EventAuditing:
    audited: int  # audit the action and their records are searchable
    unconfirmed: int  # audit the action, AuditEnabled False, licence unknown: searchable or not
    not_searchable: int  # audit the action, but AuditEnabled False without E5-level licence


def mailboxes_auditing(evidence: Evidence, action: str, logon_types: list[str], kb: Knowledge) -> EventAuditing | None:
    """How many user mailboxes audit `action` for every listed logon type (None when unknown)."""
    mbx = evidence.exchange.mailboxes.data
    org = evidence.exchange.organization_config.data
    if mbx is None:
        return None
    if org is not None and org.audit_disabled:
        return EventAuditing(0, 0, 0)
    audited = unconfirmed = hidden = 0
    for config in mbx.configurations:
        licence = licence_of(config, evidence, kb)
        if not all(action.lower() in audited_actions(config, lt, kb, _if_documented(licence)) for lt in logon_types):
            continue
        proven = all(action.lower() in audited_actions(config, lt, kb, licence) for lt in logon_types)
        searchable = records_searchable(config, licence)
        if searchable and proven:
            audited += config.count
        elif searchable is False:
            hidden += config.count
        else:  # the action rests on a default or a searchability the licence evidence cannot confirm
            unconfirmed += config.count
    return EventAuditing(audited, unconfirmed, hidden)


def audits_mailitemsaccessed(config: MailboxAuditConfiguration, evidence: Evidence, kb: Knowledge) -> bool | None:
    """Whether the group's mailboxes audit MailItemsAccessed for every logon type with searchable
    records: True, False (a setting or the licence rules it out), None (rests on what the licence
    evidence cannot confirm)."""
    licence = licence_of(config, evidence, kb)
    could = all("mailitemsaccessed" in audited_actions(config, lt, kb, _if_documented(licence)) for lt in LOGON_TYPES)
    searchable = records_searchable(config, licence)
    if not could or searchable is False:
        return False
    proven = all("mailitemsaccessed" in audited_actions(config, lt, kb, licence) for lt in LOGON_TYPES)
    return True if proven and searchable else None


def _if_documented(licence: MailboxLicence) -> MailboxLicence:
    """The licence as if its unknown default actions were documented (what the settings would give)."""
    return licence if licence.documented_defaults is not None else MailboxLicence(licence.premium, True)


def compute_audit(evidence: Evidence, profile: Profile, kb: Knowledge) -> AuditFigures:
    ex = evidence.exchange
    required = required_actions(profile, kb)
    fig: dict[str, object] = {"required_actions": required}
    if ex.admin_audit_log_config.data is not None:
        fig["ual_ingestion_enabled"] = ex.admin_audit_log_config.data.unified_audit_log_ingestion_enabled
    if ex.organization_config.data is not None:
        fig["org_audit_disabled"] = ex.organization_config.data.audit_disabled
    if ex.bypass.data is not None:
        fig["bypass_mailboxes"] = len(ex.bypass.data.bypassed)
        fig["bypass_identities"] = [b.identity for b in ex.bypass.data.bypassed]
    mbx = ex.mailboxes.data
    if mbx is not None:
        fig["user_mailboxes"] = mbx.total_user_mailboxes
        by_action: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        missing_any = missing_mia = disabled = hidden = unconfirmed = defaults_unconfirmed = 0
        for config in mbx.configurations:
            licence = licence_of(config, evidence, kb)
            lacking = missing_actions(config, required, kb, _if_documented(licence))
            if lacking:
                missing_any += config.count
            elif missing_actions(config, required, kb, licence):
                defaults_unconfirmed += config.count
            for lt, actions in lacking.items():
                for a in actions:
                    by_action[lt][a] += config.count
            searchable = records_searchable(config, licence)
            mia = missing_actions(
                config, {lt: ["MailItemsAccessed"] for lt in LOGON_TYPES}, kb, _if_documented(licence)
            )
            if mia or searchable is False:
                missing_mia += config.count
            if not config.audit_enabled:
                disabled += config.count
                if searchable is False:
                    hidden += config.count
                elif searchable is None:
                    unconfirmed += config.count
        fig["mailboxes_missing_mailitemsaccessed"] = missing_mia
        fig["mailboxes_missing_required_actions"] = missing_any
        fig["mailboxes_audit_disabled"] = disabled
        fig["mailboxes_not_searchable"] = hidden
        fig["mailboxes_audit_disabled_licence_unknown"] = unconfirmed
        fig["mailboxes_defaults_unconfirmed"] = defaults_unconfirmed
        fig["missing_by_action"] = {lt: dict(v) for lt, v in by_action.items()}
    return AuditFigures.model_validate(fig)


EXCHANGE_READ_FIX = "Exchange.ManageAsApp + Global Reader"
MAILBOX_LIST_FIX = "collect Get-Mailbox again (or export it with examples/export-exchange-audit.ps1)"


def unread_for_settings(
    evidence: Evidence, audit: AuditFigures, in_scope: int | None, *, ingestion: bool, partial: bool
) -> list[tuple[str, str]]:
    """What a pass from mailbox settings alone also needs and the evidence lacks, as (what, fix):
    the ingestion switch (when ``ingestion``), the organisation-wide AuditDisabled switch, a mailbox
    list at all, and (when ``partial``) a mailbox for every in-scope user."""
    ex = evidence.exchange
    out: list[tuple[str, str]] = []
    if ingestion and audit.ual_ingestion_enabled is None:
        prov = ex.admin_audit_log_config.provenance
        out.append((f"the ingestion setting was not read ({prov.reason})", prov.fix or EXCHANGE_READ_FIX))
    if not audit.user_mailboxes and in_scope:
        out.append((f"the evidence lists no user mailbox for {in_scope} in-scope users", MAILBOX_LIST_FIX))
    elif partial and in_scope and audit.user_mailboxes is not None and audit.user_mailboxes < in_scope:
        out.append(
            (
                f"only {audit.user_mailboxes} user mailboxes are in the evidence for {in_scope} in-scope users",
                "collect Get-Mailbox for every user mailbox (-ResultSize Unlimited), or run --probe-events",
            )
        )
    if audit.org_audit_disabled is None:
        prov = ex.organization_config.provenance
        out.append(
            (
                f"the organisation-wide AuditDisabled switch was not read ({prov.reason}); when it is True no "
                "mailbox audits anything",
                prov.fix or EXCHANGE_READ_FIX,
            )
        )
    return out
