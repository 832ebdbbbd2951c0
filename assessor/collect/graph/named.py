"""Resolve the users that audit retention policies name in their UserIds.

Retention is decided per user: a policy scoped to named users applies only to them, so the
engine must know each named user's licences. Summary mode never enumerates users, so each name
is looked up on its own (in `$batch`es). A 404 means the name matches no user (recorded as
unresolved); any other failure leaves the name unaccounted for, and the engine then reports
retention as unknown rather than guessing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from assessor.collect.graph.client import GraphConnection
from assessor.collect.graph.outcome import GraphFailure
from assessor.collect.graph.users import fetch_users
from assessor.evidence import RetentionPolicies, UserRecord


@dataclass
class NamedUsers:
    found: list[UserRecord] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # 404: no such user
    notes: list[str] = field(default_factory=list)  # lookups that failed otherwise


async def resolve_named_users(conn: GraphConnection, names: Iterable[str]) -> NamedUsers:
    out = NamedUsers()
    try:
        found, failed = await fetch_users(conn, (n.strip() for n in names if n and n.strip()))
    except GraphFailure as failure:
        out.notes.append(f"retention-policy users not resolved: {failure.describe()}")
        return out
    by_id: dict[str, UserRecord] = {}
    for user in found.values():  # one user named by UPN and by object id is looked up twice: keep one
        by_id.setdefault(user.id.lower(), user)
    out.found = list(by_id.values())
    for name, res in failed.items():
        if res.status == 404:
            out.unresolved.append(name)
        else:
            out.notes.append(f"retention-policy user {name}: {res.error(f'GET /users/{name}').describe()}")
    return out


def policy_user_ids(policies: RetentionPolicies | None) -> list[str]:
    """Every UserIds entry of the collected or imported retention policies (empty when not obtained)."""
    return [uid for p in policies.policies for uid in p.user_ids] if policies is not None else []
