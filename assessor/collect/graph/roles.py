"""Privileged role holders: `roleAssignments?$expand=principal`, falling back to `directoryRoles`.

Each holder carries its principal type from ``@odata.type``. User holders get a `UserRecord`
(with assignedLicenses) from one `$batch` of `/users/{id}` lookups; group holders are expanded to
their member users (`/groups/{id}/members/microsoft.graph.user`), each recorded with ``via_group``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from urllib.parse import quote, urlencode

from assessor.collect.graph.batch import BatchRequest, send_batch
from assessor.collect.graph.client import GraphConnection
from assessor.collect.graph.outcome import (
    GRAPH_ERRORS,
    Collected,
    GraphFailure,
    NotCollected,
    failure_from,
    not_collected_from,
)
from assessor.collect.graph.paging import LinkGuard, get_json_page, json_values, page_values, rest_of_pages
from assessor.collect.graph.users import USER_SELECT, fetch_users, user_record
from assessor.evidence import PrivilegedRoles, RoleDefinition, RoleDefinitions, RoleHolder, UserRecord
from assessor.jsontypes import WireObject
from assessor.knowledge import load_knowledge

ASSIGNMENTS_ENDPOINT = "GET /roleManagement/directory/roleAssignments?$expand=principal"
DEFINITION_SELECT = "id,displayName,isPrivileged,templateId"
DEFINITIONS_ENDPOINT = f"GET /beta/roleManagement/directory/roleDefinitions?$select={DEFINITION_SELECT}"
DIRECTORY_ROLES_ENDPOINT = "GET /directoryRoles"
PERMISSION = "RoleManagement.Read.Directory"
_TYPES = {
    "#microsoft.graph.user": "user",
    "#microsoft.graph.group": "group",
    "#microsoft.graph.servicePrincipal": "servicePrincipal",
}
EXTRA_ROLE_NAMES = {
    "f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
    "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
    "5d6b6bb7-de71-4623-b4af-96380a352509": "Security Reader",
}


@dataclass(frozen=True)
class Assignment:
    principal_id: str
    principal_type: str
    role_template_id: str


def role_names() -> dict[str, str]:
    names = dict(EXTRA_ROLE_NAMES)
    names.update({r.template_id: r.name for r in load_knowledge().default_privileged_roles()})
    return names


def principal_type(obj: object) -> str:
    """The holder kind of an SDK directory object (by its ``odata_type``)."""
    odata_type = getattr(obj, "odata_type", None)
    return _TYPES.get(str(odata_type), "unknown")


# --------------------------------------------------------------------------- reading assignments


def _assignment(a: object) -> Assignment:
    principal_id, role_id = (a.get("principalId"), a.get("roleDefinitionId")) if isinstance(a, dict) else (None, None)
    if not isinstance(a, dict) or not principal_id or not role_id:
        # a holder that cannot be named would make the list silently shorter
        raise GraphFailure(
            ASSIGNMENTS_ENDPOINT, 200, None, "an assignment without principalId or roleDefinitionId", "protocol"
        )
    principal = a.get("principal") or {}
    if not isinstance(principal, dict):  # a holder whose type cannot be read could be a user left out
        raise GraphFailure(
            ASSIGNMENTS_ENDPOINT, 200, None, "an assignment whose principal is not an object", "protocol"
        )
    kind = _TYPES.get(str(principal.get("@odata.type")), "unknown")
    return Assignment(str(principal_id).lower(), kind, str(role_id).lower())


async def _assignment_pages(conn: GraphConnection, page: WireObject) -> list[Assignment]:
    """The assignments of a first page and of every page its next links lead to."""
    return [_assignment(a) for a in await rest_of_pages(conn, page, ASSIGNMENTS_ENDPOINT)]


async def _all_assignments(conn: GraphConnection) -> list[Assignment]:
    url = "/roleManagement/directory/roleAssignments?$expand=principal"
    answer = (await send_batch(conn, [BatchRequest("all", url)]))["all"]
    return await _assignment_pages(conn, answer.page(ASSIGNMENTS_ENDPOINT))


@lru_cache(maxsize=256)
def _role_query(role: str) -> str:
    return "/roleManagement/directory/roleAssignments?" + urlencode(
        {"$expand": "principal", "$filter": f"roleDefinitionId eq '{role}'"}, quote_via=quote
    )


async def read_role_assignments(conn: GraphConnection, roles: Sequence[str] | None) -> list[Assignment]:
    """Every assignment, or those of ``roles``: one filtered query per role, all in one `$batch`
    (a constant number of round trips however many roles), next pages followed one by one."""
    if not roles:
        return await _all_assignments(conn)
    wanted = list(dict.fromkeys(r.lower() for r in roles))  # the profile's order, once each
    answers = await send_batch(conn, [BatchRequest(f"r{i}", _role_query(r)) for i, r in enumerate(wanted)])
    pages = [answers[f"r{i}"].page(ASSIGNMENTS_ENDPOINT) for i in range(len(wanted))]
    lists = await asyncio.gather(*(_assignment_pages(conn, page) for page in pages))
    return [a for sub in lists for a in sub]


async def read_directory_roles(conn: GraphConnection, roles: Sequence[str] | None) -> list[Assignment]:
    """The fallback: activated directory roles and their members (no query options, no paging)."""
    answer = await conn.client.directory_roles.get()
    wanted = {r.lower() for r in roles} if roles else None
    active = [
        (r.id, r.role_template_id)
        for r in page_values(answer, DIRECTORY_ROLES_ENDPOINT)
        if r.id and r.role_template_id and (wanted is None or r.role_template_id.lower() in wanted)
    ]

    async def members(role_id: str, template_id: str) -> list[Assignment]:
        endpoint = f"GET /directoryRoles/{role_id}/members"
        page = await conn.client.directory_roles.by_directory_role_id(role_id).members.get()
        values = page_values(page, endpoint)
        anonymous = sum(1 for m in values if not getattr(m, "id", None))
        if anonymous:
            # Microsoft's documented example answers members without an id: such a holder cannot
            # be looked up, so the holder list is not whole (never silently shorter)
            raise GraphFailure(
                endpoint,
                200,
                None,
                f"{anonymous} member(s) without an id: the role's holders cannot all be identified",
                "protocol",
            )
        return [Assignment(str(m.id).lower(), principal_type(m), template_id.lower()) for m in values]

    lists = await asyncio.gather(*(members(role_id, template_id) for role_id, template_id in active))
    return [a for sub in lists for a in sub]


# --------------------------------------------------------------------------- resolving holders


async def lookup_users(conn: GraphConnection, ids: Iterable[str]) -> tuple[dict[str, UserRecord], list[str]]:
    """`/users/{id}` for each id in `$batch`es; returns records, and notes for holders that no
    longer exist (404). Any other failed lookup fails the read: a holder whose licences are unknown
    would otherwise count as a holder outside the audit scope (never a shorter or guessed list)."""
    found, failed = await fetch_users(conn, ids)
    for uid, res in failed.items():
        if res.status != 404:
            raise res.error(f"GET /users/{uid} (a role holder's licences)")
    notes = [f"role holder {uid}: {res.error(f'GET /users/{uid}').describe()}" for uid, res in failed.items()]
    return found, notes


async def group_member_users(conn: GraphConnection, group_id: str) -> list[UserRecord]:
    """The user members of a role-assignable group: the first page in the `$batch` the role
    holders' lookups go in, the next pages one by one."""
    endpoint = f"GET /groups/{group_id}/members (members of a role-assignable group)"
    query = urlencode({"$select": ",".join(USER_SELECT), "$top": "999"}, quote_via=quote, safe=",")
    url = f"/groups/{quote(group_id, safe='')}/members/microsoft.graph.user?{query}"
    answer = (await send_batch(conn, [BatchRequest("members", url)]))["members"]
    return [user_record(u) for u in await rest_of_pages(conn, answer.page(endpoint), endpoint)]


async def _expand_groups(
    conn: GraphConnection, assignments: list[Assignment], names: dict[str, str]
) -> tuple[list[RoleHolder], list[str]]:
    groups = sorted({a.principal_id for a in assignments if a.principal_type == "group"})
    results = await asyncio.gather(*(group_member_users(conn, g) for g in groups), return_exceptions=True)
    members: dict[str, list[UserRecord]] = {}
    notes: list[str] = []
    for gid, result in zip(groups, results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, GRAPH_ERRORS):
                raise result
            # without the members of one role group the holder list is partial: fail the section
            raise failure_from(result, f"GET /groups/{gid}/members (members of a role-assignable group)")
        members[gid] = result
    holders = [
        RoleHolder(
            principal_id=u.id,
            principal_type="user",
            role_template_id=a.role_template_id,
            role_name=names.get(a.role_template_id),
            via_group=a.principal_id,
            user=u,
        )
        for a in assignments
        if a.principal_type == "group"
        for u in members.get(a.principal_id, [])
    ]
    return holders, notes


async def resolve_holders(conn: GraphConnection, assignments: list[Assignment]) -> tuple[list[RoleHolder], list[str]]:
    names = role_names()
    user_ids = [a.principal_id for a in assignments if a.principal_type == "user"]
    (users, notes), (group_holders, group_notes) = await asyncio.gather(
        lookup_users(conn, user_ids), _expand_groups(conn, assignments, names)
    )
    holders = [
        RoleHolder(
            principal_id=a.principal_id,
            principal_type=a.principal_type,
            role_template_id=a.role_template_id,
            role_name=names.get(a.role_template_id),
            user=users.get(a.principal_id) if a.principal_type == "user" else None,
        )
        for a in assignments
    ]
    return holders + group_holders, notes + group_notes


# --------------------------------------------------------------------------- the collector


async def collect_privileged(
    conn: GraphConnection, roles: Sequence[str] | None = None
) -> Collected[PrivilegedRoles] | NotCollected:
    """Role holders (optionally only of ``roles`` template ids), with licences for user holders."""
    source, endpoint = "roleAssignments", ASSIGNMENTS_ENDPOINT
    fallback_note: str | None = None
    try:
        assignments = await read_role_assignments(conn, roles)
    except GRAPH_ERRORS as exc:
        first = failure_from(exc, ASSIGNMENTS_ENDPOINT, conn.settings.request_timeout)
        try:
            assignments = await read_directory_roles(conn, roles)
            source, endpoint = "directoryRoles", "GET /directoryRoles + /directoryRoles/{id}/members"
        except GRAPH_ERRORS as exc2:
            second = failure_from(exc2, DIRECTORY_ROLES_ENDPOINT, conn.settings.request_timeout)
            return _both_failed(first, second)
        fallback_note = f"roleAssignments unavailable ({first.describe()}); used the directoryRoles fallback"
    try:
        holders, notes = await resolve_holders(conn, assignments)
    except GRAPH_ERRORS as exc:
        failure = failure_from(exc, "POST /$batch (role holder users)", conn.settings.request_timeout)
        return not_collected_from(failure, "User.Read.All", endpoint)
    all_notes = tuple(n for n in [fallback_note, *notes] if n)
    read: list[str] | Literal["all"] = sorted({r.lower() for r in roles}) if roles else "all"
    return Collected(PrivilegedRoles(source=source, holders=holders, roles_read=read), endpoint, all_notes)


# --------------------------------------------------------------------------- Entra's privileged flag


def _beta_url(conn: GraphConnection) -> str | None:
    base = str(conn.adapter.base_url or "").rstrip("/")
    return base[: -len("/v1.0")] + "/beta" if base.endswith("/v1.0") else None


def _definition(raw: object) -> RoleDefinition:
    if not isinstance(raw, dict) or not raw.get("id"):
        raise GraphFailure(DEFINITIONS_ENDPOINT, 200, None, "a role definition without an id", "protocol")
    flag = raw.get("isPrivileged")
    template = raw.get("templateId")
    return RoleDefinition(
        id=str(raw["id"]).lower(),
        template_id=str(template).lower() if template else None,
        display_name=raw.get("displayName") if isinstance(raw.get("displayName"), str) else None,
        is_privileged=flag if isinstance(flag, bool) else None,
    )


async def collect_role_definitions(conn: GraphConnection) -> Collected[RoleDefinitions] | NotCollected:
    """Every directory role definition with Entra's own ``isPrivileged`` flag. The flag is served on
    Graph beta only (v1.0 answers 400 to selecting it); a definition answered without it keeps the flag
    unknown, so a profile that uses the flag cannot decide from it."""
    beta = _beta_url(conn)
    if beta is None:
        failure = GraphFailure(
            DEFINITIONS_ENDPOINT, None, None, "no Graph beta endpoint beside this base URL", "protocol"
        )
        return NotCollected(failure.describe(), None, DEFINITIONS_ENDPOINT, failure)
    builder = conn.client.role_management.directory.role_definitions
    url = f"{beta}/roleManagement/directory/roleDefinitions?$select={DEFINITION_SELECT}"
    guard = LinkGuard(DEFINITIONS_ENDPOINT)
    definitions: list[RoleDefinition] = []
    try:
        while True:
            page = await get_json_page(conn, builder.with_url(url).to_get_request_information(), DEFINITIONS_ENDPOINT)
            definitions.extend(_definition(d) for d in guard.page(json_values(page, DEFINITIONS_ENDPOINT)))
            link = page.get("@odata.nextLink")
            if not link:
                break
            url = guard.follow(str(link))
    except GRAPH_ERRORS as exc:
        failure = failure_from(exc, DEFINITIONS_ENDPOINT, conn.settings.request_timeout)
        return not_collected_from(failure, PERMISSION, DEFINITIONS_ENDPOINT)
    unflagged = sum(1 for d in definitions if d.is_privileged is None)
    notes = (f"{unflagged} role definition(s) answered without isPrivileged",) if unflagged else ()
    return Collected(RoleDefinitions(definitions=definitions), DEFINITIONS_ENDPOINT, notes)


def _both_failed(first: GraphFailure, second: GraphFailure) -> NotCollected:
    outcome = not_collected_from(
        first if first.forbidden or not second.forbidden else second, PERMISSION, ASSIGNMENTS_ENDPOINT
    )
    reason = f"{outcome.reason}; fallback {second.describe()}"
    return NotCollected(reason, outcome.fix, ASSIGNMENTS_ENDPOINT, first)
