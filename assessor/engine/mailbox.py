"""Mailbox auditing figures: ingestion, org-wide switch, bypass, and per-logon-type actions.

A logon type listed in a mailbox's ``DefaultAuditSet`` gets Microsoft's managed default actions
(MailItemsAccessed and Send among them); a customised logon type has exactly the actions in its
list and does not receive newly released defaults — that is where MailItemsAccessed goes missing.
"""

from __future__ import annotations

from collections import defaultdict

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


def audited_actions(config: MailboxAuditConfiguration, logon_type: str, kb: Knowledge) -> set[str]:
    actions = {a.strip().lower() for a in config.actions(logon_type)}
    if logon_type in config.default_audit_set:
        actions |= {a.lower() for a in kb.default_actions(logon_type)}
    return actions


def missing_actions(config: MailboxAuditConfiguration, required: dict[str, list[str]],
                    kb: Knowledge) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for lt, actions in required.items():
        have = audited_actions(config, lt, kb)
        lacking = [a for a in actions if a.lower() not in have]
        if lacking:
            out[lt] = lacking
    return out


def mailboxes_auditing(evidence: Evidence, action: str, logon_types: list[str], kb: Knowledge) -> int | None:
    """How many user mailboxes audit `action` for every listed logon type (None when unknown)."""
    mbx = evidence.exchange.mailboxes.data
    org = evidence.exchange.organization_config.data
    if mbx is None:
        return None
    if org is not None and org.audit_disabled:
        return 0
    total = 0
    for config in mbx.configurations:
        if all(action.lower() in audited_actions(config, lt, kb) for lt in logon_types):
            total += config.count
    return total


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
        missing_any = missing_mia = disabled = 0
        for config in mbx.configurations:
            lacking = missing_actions(config, required, kb)
            if lacking:
                missing_any += config.count
            for lt, actions in lacking.items():
                for a in actions:
                    by_action[lt][a] += config.count
            mia = missing_actions(config, {lt: ["MailItemsAccessed"] for lt in LOGON_TYPES}, kb)
            if mia:
                missing_mia += config.count
            if not config.audit_enabled:
                disabled += config.count
        fig["mailboxes_missing_mailitemsaccessed"] = missing_mia
        fig["mailboxes_missing_required_actions"] = missing_any
        fig["mailboxes_audit_disabled"] = disabled
        fig["missing_by_action"] = {lt: dict(v) for lt, v in by_action.items()}
    return AuditFigures.model_validate(fig)
