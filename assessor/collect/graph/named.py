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
from urllib.parse import quote

from assessor.collect.graph.batch import BatchRequest, send_batch
from assessor.collect.graph.client import GraphConnection
from assessor.collect.graph.outcome import GraphFailure
from assessor.collect.graph.users import USER_SELECT, user_record
from assessor.evidence import UserRecord


@dataclass
class NamedUsers:
    found: list[UserRecord] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # 404: no such user
    notes: list[str] = field(default_factory=list)  # lookups that failed otherwise


async def resolve_named_users(conn: GraphConnection, names: Iterable[str]) -> NamedUsers:
    unique = sorted({n.strip() for n in names if n and n.strip()}, key=str.lower)
    out = NamedUsers()
    if not unique:
        return out
    select = ",".join(USER_SELECT)
    requests = [BatchRequest(str(i), f"/users/{quote(name, safe='@')}?$select={select}")
                for i, name in enumerate(unique)]
    try:
        answers = await send_batch(conn, requests)
    except GraphFailure as failure:
        out.notes.append(f"retention-policy users not resolved: {failure.describe()}")
        return out
    for req, name in zip(requests, unique, strict=True):
        res = answers.get(req.id)
        if res is not None and res.ok and isinstance(res.body, dict):
            out.found.append(user_record(res.body))
        elif res is not None and res.status == 404:
            out.unresolved.append(name)
        else:
            reason = res.error(f"GET /users/{name}").describe() if res is not None else "no answer in $batch"
            out.notes.append(f"retention-policy user {name}: {reason}")
    return out


def policy_user_ids(retention_section: dict[str, object] | None) -> list[str]:
    """Every UserIds entry of the collected or imported retention policies (empty when not obtained)."""
    if not retention_section:
        return []
    data = retention_section.get("data")
    if data is None:
        return []
    policies = data.get("policies", []) if isinstance(data, dict) else getattr(data, "policies", [])
    ids: list[str] = []
    for p in policies:
        ids.extend(p.get("user_ids", []) if isinstance(p, dict) else getattr(p, "user_ids", []))
    return ids
