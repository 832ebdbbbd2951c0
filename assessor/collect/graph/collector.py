"""Runs the Graph collectors of one tenant concurrently, under a per-tenant deadline.

Summary mode: organization, subscribedSkus, role assignments and the `$count` queries start
together and travel in one `$batch` (round 1, beside the beta role definitions); role-holder
lookups and the expanded-events count (which needs the SKUs) follow in the next (round 2): the
collectors share their posts through the connection's :class:`~assessor.collect.graph.batch.BatchWindow`.
Detail mode adds the users page chain once SKUs and role holders are known (so each user can be
classified and flagged).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from assessor.collect.graph.client import GraphConnection
from assessor.collect.graph.directory import collect_organization, collect_skus
from assessor.collect.graph.outcome import Collected, NotCollected, Outcome
from assessor.collect.graph.roles import collect_privileged, collect_role_definitions
from assessor.collect.graph.users import (
    CountVia,
    DetailInputs,
    ExpandedCount,
    collect_user_details,
    count_expanded,
    count_users,
    counts_outcome,
    refused_counts,
    with_expanded_count,
)
from assessor.collect.join import UserDirectory
from assessor.evidence import PrivilegedRoles, RoleDefinitions, SubscribedSku, Tenant, Users
from assessor.vocabulary import Cloud, UsersMode

SECTIONS = ("tenant", "skus", "privileged", "users", "role_definitions")
T = TypeVar("T")

GraphSection = Tenant | list[SubscribedSku] | PrivilegedRoles | Users | RoleDefinitions
"""What one Graph section holds: the sections differ in type, so a mapping of them (by evidence name)
holds :data:`GraphOutcome` values, each narrowed by ``isinstance`` where its data is read."""
GraphOutcome = Outcome[GraphSection]


@dataclass(frozen=True)
class GraphPlan:
    cloud: Cloud = Cloud.GLOBAL
    users_mode: UsersMode = UsersMode.SUMMARY
    count_via: CountVia = "batch"
    user_list_path: Path | None = None
    privileged_roles: Sequence[str] | None = None
    tenant_timeout: float = 900.0
    track_in_scope: bool = False  # detail mode: return the in-scope users' UPNs and ids (for the probe)


@dataclass(frozen=True)
class GraphResult:
    """The four Graph sections, each typed by what it holds."""

    tenant: Outcome[Tenant]
    skus: Outcome[list[SubscribedSku]]
    privileged: Outcome[PrivilegedRoles]
    users: Outcome[Users]
    connection_notes: list[str] = field(default_factory=list)
    in_scope_keys: frozenset[str] | None = None  # with track_in_scope: in-scope users' lower-cased UPNs
    in_scope_ids: dict[str, str] | None = None  # with track_in_scope: their object id → lower-cased UPN
    directory: UserDirectory | None = None  # users enumerated whole: each one's licence level (mailbox join)
    role_definitions: Outcome[RoleDefinitions] | None = None  # Entra's isPrivileged flag (Graph beta)

    @property
    def outcomes(self) -> dict[str, GraphOutcome]:
        """The sections by evidence name (in the order they are collected)."""
        out: dict[str, GraphOutcome] = {
            "tenant": self.tenant,
            "skus": self.skus,
            "privileged": self.privileged,
            "users": self.users,
        }
        if self.role_definitions is not None:
            out["role_definitions"] = self.role_definitions
        return out

    def notes(self) -> list[str]:
        return [
            *(f"graph: {n}" for n in self.connection_notes),
            *(f"{name}: {note}" for name, o in self.outcomes.items() for note in o.notes),
        ]


def _holder_roles(outcome: Outcome[PrivilegedRoles]) -> dict[str, list[str]]:
    if not isinstance(outcome, Collected):
        return {}
    roles: dict[str, list[str]] = {}
    for h in outcome.data.holders:
        if h.principal_type == "user":
            name = h.role_name or h.role_template_id
            bucket = roles.setdefault(h.principal_id.lower(), [])
            if name not in bucket:
                bucket.append(name)
    return roles


@dataclass
class _InScope:
    """The in-scope users the detail collector enumerates (filled while the pages stream)."""

    keys: set[str] = field(default_factory=set)
    ids: dict[str, str] = field(default_factory=dict)


async def _details(
    conn: GraphConnection,
    plan: GraphPlan,
    skus_task: asyncio.Task[Outcome[list[SubscribedSku]]],
    roles_task: asyncio.Task[Outcome[PrivilegedRoles]],
    in_scope: _InScope | None,
    directory: UserDirectory | None = None,
) -> Outcome[Users]:
    skus, privileged = await asyncio.gather(asyncio.shield(skus_task), asyncio.shield(roles_task))
    inputs = DetailInputs(
        skus=skus.data if isinstance(skus, Collected) else None,
        privileged_roles=_holder_roles(privileged),
        gap_list=plan.user_list_path,
        in_scope_keys=in_scope.keys if in_scope is not None else None,
        in_scope_ids=in_scope.ids if in_scope is not None else None,
        directory=directory,
    )
    return await collect_user_details(conn, inputs)


async def _summary(
    conn: GraphConnection,
    plan: GraphPlan,
    skus_task: asyncio.Task[Outcome[list[SubscribedSku]]],
    roles_task: asyncio.Task[Outcome[PrivilegedRoles]],
    in_scope: _InScope | None,
    directory: UserDirectory | None = None,
) -> Outcome[Users]:
    """The `$count` figures; where the service refuses those queries (a server or cloud without
    advanced queries on `assignedPlans`), the same figures by enumerating users instead."""

    async def expanded() -> ExpandedCount:
        skus = await asyncio.shield(skus_task)
        return await count_expanded(conn, skus.data if isinstance(skus, Collected) else None, plan.count_via)

    expanded_task = asyncio.create_task(expanded())
    try:
        run = await count_users(conn, plan.count_via)
    except BaseException:
        expanded_task.cancel()
        raise
    refused = refused_counts(run.results)
    if not refused:
        outcome = counts_outcome(run)
        if not isinstance(outcome, Collected):
            expanded_task.cancel()
            return outcome
        return with_expanded_count(outcome, await expanded_task)
    expanded_task.cancel()
    details = await _details(conn, replace(plan, user_list_path=None), skus_task, roles_task, in_scope, directory)
    first = next(iter(refused.values()))
    note = (
        f"$count queries refused ({', '.join(refused)}: {first.describe()}); the figures come from "
        "enumerating users instead"
    )
    if isinstance(details, Collected):
        return Collected(details.data, details.source, (note, *details.notes))
    return replace(details, notes=(note, *details.notes))


async def collect_graph(conn: GraphConnection, plan: GraphPlan) -> GraphResult:
    tenant = asyncio.create_task(collect_organization(conn, plan.cloud))
    skus = asyncio.create_task(collect_skus(conn))
    privileged = asyncio.create_task(collect_privileged(conn, plan.privileged_roles))
    definitions = asyncio.create_task(collect_role_definitions(conn))
    in_scope = _InScope() if plan.track_in_scope else None
    directory = UserDirectory()  # filled only when users are enumerated (detail mode, or refused counts)
    if plan.users_mode == UsersMode.DETAIL:
        users = asyncio.create_task(_details(conn, plan, skus, privileged, in_scope, directory))
    else:
        users = asyncio.create_task(_summary(conn, plan, skus, privileged, in_scope, directory))
    _done, pending = await asyncio.wait((tenant, skus, privileged, users, definitions), timeout=plan.tenant_timeout)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)

    def finished(task: asyncio.Task[Outcome[T]], name: str) -> Outcome[T]:
        if task in pending:
            return NotCollected(f"timed out: the tenant's collection exceeded {plan.tenant_timeout:g} s", None, name)
        return task.result()

    return GraphResult(
        finished(tenant, "tenant"),
        finished(skus, "skus"),
        finished(privileged, "privileged"),
        finished(users, "users"),
        list(conn.notes),
        frozenset(in_scope.keys) if in_scope is not None else None,
        in_scope.ids if in_scope is not None else None,
        directory if directory.complete and users not in pending else None,
        finished(definitions, "role_definitions"),
    )
