"""What limits app-only mail access in Exchange Online (read only when the probe runs).

=============================================================  ===============================
``Get-ApplicationAccessPolicy``                                 legacy policies: RestrictAccess
                                                                or DenyAccess for an AppId to a
                                                                mail-enabled group's members
``Get-ManagementRoleAssignment -RoleAssigneeType ServicePrincipal``  RBAC for Applications grants
``Get-ServicePrincipal``                                        Exchange's pointers to Entra
                                                                service principals (AppId)
=============================================================  ===============================

An application access policy limits the app's Entra-granted mail permissions (Graph ``Mail.*``,
EWS ``full_access_as_app``) to its scope. RBAC for Applications grants are Exchange's own: a
grant scoped to a management scope or administrative unit reaches only those mailboxes, but it
does not narrow a tenant-wide Entra grant the app also holds (the grants add up). Both are read
with Exchange.ManageAsApp + a role that can view them (Global Reader / View-Only Organization
Management); the same cmdlets' ``ConvertTo-Json`` exports can be imported instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from assessor.collect.exchange.client import ExchangeClient, ExchangeError
from assessor.evidence import MailPermission
from assessor.jsontypes import WireObject
from assessor.knowledge.mail_access import load_mail_access

POLICY_CMDLET = "Get-ApplicationAccessPolicy"
ASSIGNMENT_CMDLET = "Get-ManagementRoleAssignment"
PRINCIPAL_CMDLET = "Get-ServicePrincipal"
FIX = (
    "Exchange.ManageAsApp + Global Reader (or export Get-ApplicationAccessPolicy, "
    "Get-ManagementRoleAssignment and Get-ServicePrincipal with ConvertTo-Json and --import them)"
)


@dataclass(frozen=True)
class AccessPolicy:
    app_ids: tuple[str, ...]
    access_right: str
    scope: str


@dataclass(frozen=True)
class RoleGrant:
    app_id: str | None
    assignee: str
    role: str
    scope: str
    scoped: bool


@dataclass
class AppScoping:
    policies: list[AccessPolicy] = field(default_factory=list)
    grants: list[RoleGrant] = field(default_factory=list)
    source: str = ""


def _text(row: WireObject, *keys: str) -> str:
    for key in keys:
        value = row.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def parse_policies(rows: Iterable[object]) -> list[AccessPolicy]:
    out = []
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        raw = row.get("AppId") if row.get("AppId") is not None else row.get("AppID")
        ids = raw if isinstance(raw, list) else [raw]
        app_ids = tuple(str(a).strip().lower() for a in ids if isinstance(a, str) and a.strip())
        if app_ids:
            scope = _text(row, "ScopeName", "PolicyScopeGroupId", "ScopeIdentity") or "a mail-enabled security group"
            out.append(AccessPolicy(app_ids, _text(row, "AccessRight") or "RestrictAccess", scope))
    return out


def parse_grants(assignments: Iterable[object], principals: Iterable[object]) -> list[RoleGrant]:
    """RBAC for Applications grants of mail roles, with the AppId of their service principal."""
    app_by_key: dict[str, str] = {}
    for sp in principals:
        if not isinstance(sp, Mapping):
            continue
        app = _text(sp, "AppId").lower()
        if app:
            for key in ("Identity", "Name", "ObjectId", "ServiceId", "DisplayName", "Id"):
                value = _text(sp, key)
                if value:
                    app_by_key[value.lower()] = app
    mail_roles = {r.lower() for r in load_mail_access().exchange_mail_roles}
    out = []
    for row in assignments:
        if not isinstance(row, Mapping) or _text(row, "Role").lower() not in mail_roles:
            continue
        if row.get("Enabled") is False:
            continue
        assignee = _text(row, "RoleAssignee", "RoleAssigneeName", "User")
        write_scope = _text(row, "RecipientWriteScope") or "Organization"
        resource = _text(row, "CustomResourceScope", "CustomRecipientWriteScope", "RecipientAdministrativeUnitScope")
        scoped = write_scope.lower() != "organization" or bool(resource)
        scope = resource or write_scope
        out.append(RoleGrant(app_by_key.get(assignee.lower()), assignee, _text(row, "Role"), scope, scoped))
    return out


async def read_app_scoping(client: ExchangeClient) -> AppScoping:
    """The three cmdlets, side by side (so their first pages share the client's ``$batch``); raises
    the ExchangeError of the first of them, in this order, that failed (the caller records why
    scoping is unknown)."""
    answers = await asyncio.gather(
        client.invoke(POLICY_CMDLET),
        client.invoke(ASSIGNMENT_CMDLET, {"RoleAssigneeType": "ServicePrincipal"}),
        client.invoke(PRINCIPAL_CMDLET),
        return_exceptions=True,
    )
    for answer in answers:
        if isinstance(answer, BaseException):
            raise answer
    policies, assignments, principals = (a for a in answers if not isinstance(a, BaseException))
    where = f"{client.base_url}/{client.settings.tenant}/InvokeCommand"
    source = f"{POLICY_CMDLET}, {ASSIGNMENT_CMDLET}, {PRINCIPAL_CMDLET} via {where}"
    return AppScoping(parse_policies(policies), parse_grants(assignments, principals), source)


async def try_read_app_scoping(client: ExchangeClient) -> AppScoping | str:
    try:
        return await read_app_scoping(client)
    except ExchangeError as err:
        return f"{err.describe()}; needs {FIX}"


def apply_scoping(permissions: list[MailPermission], scoping: AppScoping | None) -> list[MailPermission]:
    """Each Entra mail grant marked scoped (a policy names its AppId) or not; RBAC grants appended.

    Without scoping evidence every ``scoped`` stays None (unknown), never False."""
    if scoping is None:
        return permissions
    limited: dict[str, AccessPolicy] = {}
    for policy in scoping.policies:
        for app in policy.app_ids:
            limited.setdefault(app, policy)
    out = []
    for perm in permissions:
        match = limited.get(perm.app_id or "")
        scope = f"{match.access_right} to {match.scope} (application access policy)" if match else None
        out.append(perm.model_copy(update={"scoped": match is not None, "scope": scope}))
    by_app: dict[str, MailPermission] = {}
    for grant in scoping.grants:
        key = grant.app_id or grant.assignee.lower()
        entry = by_app.get(key)
        permission = f"Exchange RBAC {grant.role}"
        scope = f"{grant.scope} (RBAC for Applications)"
        if entry is None:
            by_app[key] = MailPermission(
                app_id=grant.app_id,
                display_name=grant.assignee,
                permissions=[permission],
                scoped=grant.scoped,
                scope=scope if grant.scoped else None,
            )
        else:
            by_app[key] = entry.model_copy(
                update={
                    "permissions": sorted({*entry.permissions, permission}),
                    "scoped": bool(entry.scoped) and grant.scoped,
                }
            )
    return out + list(by_app.values())
