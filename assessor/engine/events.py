"""Per-event figures: available at the tenant's tier, audited by mailbox settings, observed in the log."""

from __future__ import annotations

from datetime import date

from assessor.engine.mailbox import mailboxes_auditing
from assessor.engine.model import EventFigures, LicensingFigures
from assessor.evidence import Evidence
from assessor.knowledge import KNOWN_EVENTS, Knowledge
from assessor.profiles import Profile


def compute_events(
    evidence: Evidence, profile: Profile, kb: Knowledge, licensing: LicensingFigures, on: date
) -> dict[str, EventFigures]:
    out: dict[str, EventFigures] = {}
    probe = evidence.audit_probe.data
    in_scope = licensing.users_in_scope
    for name in KNOWN_EVENTS:
        event = kb.events[name]
        needed = event.tier_needed(on, evidence.tenant.cloud)
        tier = licensing.audit_tier
        available: bool | None
        if tier is None:
            available = None
        elif needed == "standard":
            available = tier in ("standard", "premium")
        else:
            available = tier == "premium"
        auditing = (
            mailboxes_auditing(evidence, event.mailbox_action, event.logon_types, kb) if event.mailbox_action else None
        )
        fig: dict[str, object] = {
            "required": name in profile.required_events,
            "tier_needed": needed,
            "available": available,
            "audited_mailboxes": auditing.audited if auditing else None,
            "audited_mailboxes_unconfirmed": auditing.unconfirmed if auditing else None,
            "mailboxes_not_searchable": auditing.not_searchable if auditing else None,
            "users_without_event_licence": _users_without(needed, licensing),
        }
        asked = [q for q in probe.queries if event.operation in q.operations] if probe is not None else []
        queried = any(q.error is None for q in asked)
        prov = evidence.audit_probe.provenance
        if probe is None and prov.requested:
            fig["probe_unavailable"] = prov.reason
        elif asked and not queried:  # this event's query failed while others succeeded
            fig["probe_unavailable"] = next(q.error for q in asked if q.error)
        if probe is not None and queried:
            obs = probe.operations.get(event.operation)
            users = obs.distinct_users if obs else 0
            fig["observed_users"] = users
            fig["observed_records"] = obs.records if obs else 0
            fig["lower_bound"] = any(q.record_count_limit_exceeded and q.error is None for q in asked)
            if obs:
                fig["first_seen"], fig["last_seen"] = obs.first_seen, obs.last_seen
                fig["distinct_app_ids"] = obs.distinct_app_ids
                total = obs.records or 1
                fig["top_app_ids"] = [
                    {"app_id": a.app_id, "count": a.count, "share_pct": round(100.0 * a.count / total, 1)}
                    for a in obs.top_app_ids
                ]
            ids = 0
            if obs and obs.actors is not None:
                ids = obs.actors.ids
                fig["observed_ids"] = ids
                fig["observed_system_records"] = obs.actors.system_records
                fig["observed_unknown_records"] = obs.actors.unknown_records
            counted = obs.in_scope_users if obs and obs.in_scope_users is not None else None
            fig["observed_in_scope_users"] = counted
            if in_scope and counted is not None:
                fig["coverage_pct"] = round(100.0 * counted / in_scope, 1)
            elif in_scope and users + ids <= in_scope:
                # from counts alone: accounts outside the in-scope population (shared mailboxes,
                # service accounts) may be among them, and actors named only by an object id may be
                # users: accounts plus ids is an upper bound
                fig["coverage_pct"] = round(100.0 * (users + ids) / in_scope, 1)
                fig["coverage_upper_bound"] = True
            # more accounts than in-scope users: coverage is not computable without --users detail
        out[name] = EventFigures.model_validate(fig)
    return out


def _users_without(needed: str, licensing: LicensingFigures) -> int | None:
    """In-scope users whose licences do not carry the event: availability is per user licence."""
    if needed == "premium":
        return licensing.users_without_premium_audit
    return licensing.users_without_expanded_events
