"""Service principals and their app role grants, as Graph serves them (Application.Read.All).

Routes (paths after ``/{tenant}/v1.0``; :data:`ROUTES`, given to the Graph emulator by the server):

=============================================================  =================================
``GET /servicePrincipals``                                      ``$filter`` on ``appId``/``id``
                                                                (``eq``, ``in`` with ≤ 15 values),
                                                                ``$select``, ``$top``
``GET /servicePrincipals(appId='…')/appRoleAssignedTo``          app role grants on a resource
``GET /servicePrincipals/{id}/appRoleAssignedTo``
=============================================================  =================================

A tenant's service principals are its spec's ``service_principals`` (their ``mail_permissions``
become app role assignments on Microsoft Graph or Office 365 Exchange Online) plus the two
Microsoft resource applications every tenant has, owned by Microsoft's tenant.
"""

from __future__ import annotations

import re
from typing import TypedDict

from assessor.knowledge.mail_access import load_mail_access
from assessor.sandbox import graph
from assessor.sandbox.graph import QueryError
from assessor.sandbox.http import SandboxRequest, SandboxResponse
from assessor.sandbox.odata import parse_filter
from assessor.sandbox.spec import SandboxTenant

MICROSOFT_OWNER = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
RESOURCES = {
    "00000003-0000-0000-c000-000000000000": "Microsoft Graph",
    "00000002-0000-0ff1-ce00-000000000000": "Office 365 Exchange Online",
}
FILTERABLE: dict[str, frozenset[str] | None] = {"appId": None, "id": None, "displayName": None}
PROPERTIES = frozenset({"id", "appId", "displayName", "appOwnerOrganizationId", "servicePrincipalType"})


def _resource_id(tenant: SandboxTenant, app_id: str) -> str:
    return f"{tenant.id.split('-')[0]}-0005-4000-8000-{int(app_id[:8], 16):012x}"


class ServicePrincipal(TypedDict):
    """A service principal as Graph lists it (the properties the emulator knows)."""

    id: str
    appId: str | None
    displayName: str
    appOwnerOrganizationId: str
    servicePrincipalType: str


class AppRoleAssignment(TypedDict):
    """An app role granted on a resource application (Graph ``appRoleAssignment``)."""

    id: str
    appRoleId: str
    principalId: str
    principalType: str
    principalDisplayName: str
    resourceId: str
    resourceDisplayName: str


def service_principals(tenant: SandboxTenant) -> list[ServicePrincipal]:
    out: list[ServicePrincipal] = [
        {
            "id": _resource_id(tenant, app),
            "appId": app,
            "displayName": name,
            "appOwnerOrganizationId": MICROSOFT_OWNER,
            "servicePrincipalType": "Application",
        }
        for app, name in RESOURCES.items()
    ]
    for p in tenant.principals.values():
        if p.kind == "servicePrincipal":
            out.append(
                {
                    "id": p.id,
                    "appId": p.app_id,
                    "displayName": p.display_name,
                    "appOwnerOrganizationId": tenant.id,
                    "servicePrincipalType": "Application",
                }
            )
    return out


def _grants(tenant: SandboxTenant, resource_app: str) -> list[AppRoleAssignment]:
    roles = {r.name.lower(): r for r in load_mail_access().mail_app_roles if r.resource_app_id == resource_app}
    resource = _resource_id(tenant, resource_app)
    out: list[AppRoleAssignment] = []
    for p in tenant.principals.values():
        for name in p.mail_permissions:
            role = roles.get(name.lower())
            if role is None:
                continue
            out.append(
                {
                    "id": f"grant-{p.id[-6:]}-{role.id[:8]}",
                    "appRoleId": role.id,
                    "principalId": p.id,
                    "principalType": "ServicePrincipal",
                    "principalDisplayName": p.display_name,
                    "resourceId": resource,
                    "resourceDisplayName": RESOURCES[resource_app],
                }
            )
    return out


def _list(request: SandboxRequest, _m: re.Match[str]) -> SandboxResponse:
    graph._only(request, {"$filter", "$select", "$top"})
    tenant = request.tenant.tenant
    raw = request.query.get("$filter")
    flt = parse_filter(raw, FILTERABLE) if raw else None
    fields = graph._select(request, PROPERTIES, "servicePrincipal")
    top = graph._top(request)
    found = [sp for sp in service_principals(tenant) if flt is None or flt(sp)][:top]
    value = found if fields is None else [graph._project(sp, fields) for sp in found]
    return SandboxResponse.json({"@odata.context": graph._context(request, "servicePrincipals"), "value": value})


def _assigned_to(request: SandboxRequest, m: re.Match[str]) -> SandboxResponse:
    graph._only(request, {"$top", "$select"})
    tenant = request.tenant.tenant
    key = (m["key"] or "").lower()
    sps = service_principals(tenant)
    found = next((sp for sp in sps if _key_of(sp, bool(m["by_app"])).lower() == key), None)
    if found is None:
        raise QueryError("Request_ResourceNotFound", f"Resource '{m['key']}' does not exist.", 404)
    app_id = found["appId"]
    value = _grants(tenant, app_id) if app_id is not None and app_id in RESOURCES else []
    return SandboxResponse.json(
        {"@odata.context": graph._context(request, "servicePrincipals/appRoleAssignedTo"), "value": value}
    )


def _key_of(sp: ServicePrincipal, by_app: bool) -> str:
    """What a route addresses a service principal by: its appId, or its object id."""
    if not by_app:
        return sp["id"]
    if sp["appId"] is None:  # only Microsoft's and the spec's applications are listed, each with an appId
        raise ValueError(f"service principal {sp['id']} has no appId")
    return sp["appId"]


ROUTES: tuple[graph.Route, ...] = (
    graph.route("GET", r"/servicePrincipals", _list),
    graph.route("GET", r"/servicePrincipals\((?P<by_app>appId=)?'?(?P<key>[^')]+)'?\)/appRoleAssignedTo", _assigned_to),
    graph.route("GET", r"/servicePrincipals/(?P<key>[^/]+)/appRoleAssignedTo(?P<by_app>)", _assigned_to),
)
"""The service-principal routes (served by :class:`assessor.sandbox.graph.GraphApi` with the core routes)."""
