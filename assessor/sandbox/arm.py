"""Azure Resource Manager emulator: where a sandbox tenant's logs go.

Serves, under ``/{tenant}/arm`` (the base URL ``--arm-endpoint`` takes), the GETs the Azure
collector makes, in ARM's shapes:

- ``/subscriptions`` and ``/providers/microsoft.aadiam/diagnosticSettings`` (lists, paged by
  ``nextLink`` when the spec's ``page_size`` is small);
- ``/subscriptions/{s}/providers/Microsoft.OperationalInsights/workspaces`` and each workspace;
- ``{workspace}/tables/{table}`` (``retentionInDays``, ``totalRetentionInDays``,
  ``archiveRetentionInDays``; 404 for a table the workspace does not have);
- ``{workspace}/providers/Microsoft.SecurityInsights/dataConnectors`` (404 when Sentinel is not
  enabled on the workspace);
- ``{account}/managementPolicies/default`` (404 without a lifecycle policy) and the
  ``insights-logs-*`` containers' ``immutabilityPolicies/default``.

Every call needs ``api-version`` (400 ``MissingApiVersionParameter`` otherwise). A spec with
``deny: 403`` answers ``AuthorizationFailed`` for everything but the subscription list, which —
as ARM does for a principal without roles — is empty (the denial is a fault rule of the server's,
:func:`spec_faults`, scoped to the resource kinds of :data:`ACTIONS`). A tenant without an ``azure:`` section has
no subscription and no diagnostic setting.

Spec (the tenant YAML's ``azure:`` key)::

    azure:
      page_size: 1
      deny: 403                      # optional
      subscriptions:
        - id: <GUID>
          name: SOC
          workspaces:
            - {name: soc-law, resource_group: soc, retention_days: 90,
               tables: {SigninLogs: 730, AuditLogs: 730, OfficeActivity: 730},
               sentinel: true, office365: {exchange: true, sharepoint: true, teams: true}}
          storage_accounts:
            - {name: auditarchive, resource_group: soc, delete_after_days: 400, immutability_days: 180}
      diagnostic_settings:
        - {name: to-sentinel, workspace: soc-law, storage_account: auditarchive,
           categories: [SignInLogs, AuditLogs]}
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assessor.jsontypes import Json, JsonMap
from assessor.sandbox.api import Operation
from assessor.sandbox.faults import Fault
from assessor.sandbox.http import SandboxRequest, SandboxResponse
from assessor.sandbox.spec import SandboxTenant, SpecError

LOG_CONTAINERS = ("insights-logs-signinlogs", "insights-logs-auditlogs")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Office365Spec(_Spec):
    exchange: bool = True
    sharepoint: bool = True
    teams: bool = True


class WorkspaceSpec(_Spec):
    name: str = Field(pattern=r"^[A-Za-z0-9-]{4,63}$")
    resource_group: str = "monitoring"
    retention_days: int = Field(30, ge=0)
    tables: dict[str, int] = Field(default_factory=dict, description="Table → total retention days")
    sentinel: bool = False
    office365: Office365Spec | None = None


class StorageSpec(_Spec):
    name: str = Field(pattern=r"^[a-z0-9]{3,24}$")
    resource_group: str = "monitoring"
    delete_after_days: int | None = Field(None, ge=1)
    immutability_days: int | None = Field(None, ge=1)


class SubscriptionSpec(_Spec):
    id: str
    name: str = "Azure subscription"
    workspaces: list[WorkspaceSpec] = Field(default_factory=list)
    storage_accounts: list[StorageSpec] = Field(default_factory=list)


class SettingSpec(_Spec):
    name: str
    workspace: str | None = None
    storage_account: str | None = None
    event_hub: str | None = None
    categories: list[str] = Field(default_factory=list)


class AzureSpec(_Spec):
    page_size: int = Field(100, ge=1)
    deny: Literal[403] | None = None
    subscriptions: list[SubscriptionSpec] = Field(default_factory=list)
    diagnostic_settings: list[SettingSpec] = Field(default_factory=list)


def azure_spec(tenant: SandboxTenant) -> AzureSpec:
    raw = tenant.extensions.get("azure") or {}
    try:
        return AzureSpec.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        raise SpecError(f"{tenant.name}: azure.{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None


# --------------------------------------------------------------------------- resources


def _rg(sub: SubscriptionSpec, group: str) -> str:
    return f"/subscriptions/{sub.id}/resourceGroups/{group}"


def workspace_id(sub: SubscriptionSpec, ws: WorkspaceSpec) -> str:
    return f"{_rg(sub, ws.resource_group)}/providers/Microsoft.OperationalInsights/workspaces/{ws.name}"


def storage_id(sub: SubscriptionSpec, account: StorageSpec) -> str:
    return f"{_rg(sub, account.resource_group)}/providers/Microsoft.Storage/storageAccounts/{account.name}"


def _find_workspace(spec: AzureSpec, name: str) -> tuple[SubscriptionSpec, WorkspaceSpec] | None:
    for sub in spec.subscriptions:
        for ws in sub.workspaces:
            if ws.name.lower() == name.lower():
                return sub, ws
    return None


def _find_storage(spec: AzureSpec, name: str) -> tuple[SubscriptionSpec, StorageSpec] | None:
    for sub in spec.subscriptions:
        for account in sub.storage_accounts:
            if account.name.lower() == name.lower():
                return sub, account
    return None


def _workspace_doc(sub: SubscriptionSpec, ws: WorkspaceSpec) -> JsonMap:
    return {
        "id": workspace_id(sub, ws),
        "name": ws.name,
        "type": "Microsoft.OperationalInsights/workspaces",
        "location": "westeurope",
        "properties": {
            "retentionInDays": ws.retention_days,
            "sku": {"name": "PerGB2018"},
            "provisioningState": "Succeeded",
        },
    }


def _setting_doc(spec: AzureSpec, setting: SettingSpec) -> JsonMap:
    props: dict[str, Json] = {
        "logs": [
            {"category": c, "enabled": True, "retentionPolicy": {"days": 0, "enabled": False}}
            for c in setting.categories
        ]
    }
    if setting.workspace:
        found = _find_workspace(spec, setting.workspace)
        props["workspaceId"] = workspace_id(*found) if found else setting.workspace
    if setting.storage_account:
        found_sa = _find_storage(spec, setting.storage_account)
        props["storageAccountId"] = storage_id(*found_sa) if found_sa else setting.storage_account
    if setting.event_hub:
        props["eventHubAuthorizationRuleId"] = setting.event_hub
        props["eventHubName"] = "entra-logs"
    return {
        "id": f"/providers/microsoft.aadiam/diagnosticSettings/{setting.name}",
        "type": "microsoft.aadiam/diagnosticSettings",
        "name": setting.name,
        "properties": props,
    }


def _table_doc(ws_id: str, ws: WorkspaceSpec, table: str, total: int) -> JsonMap:
    interactive = min(ws.retention_days, total)
    return {
        "id": f"{ws_id}/tables/{table}",
        "name": table,
        "type": "Microsoft.OperationalInsights/workspaces/tables",
        "properties": {
            "retentionInDays": interactive,
            "totalRetentionInDays": total,
            "archiveRetentionInDays": total - interactive,
            "plan": "Analytics",
            "retentionInDaysAsDefault": interactive == ws.retention_days,
            "totalRetentionInDaysAsDefault": total == ws.retention_days,
            "provisioningState": "Succeeded",
        },
    }


def _connectors(ws_id: str, ws: WorkspaceSpec, tenant_id: str) -> list[JsonMap]:
    out: list[JsonMap] = [
        {
            "id": f"{ws_id}/providers/Microsoft.SecurityInsights/dataConnectors/aad-alerts",
            "name": "aad-alerts",
            "type": "Microsoft.SecurityInsights/dataConnectors",
            "kind": "AzureActiveDirectory",
            "properties": {"tenantId": tenant_id, "dataTypes": {"alerts": {"state": "Enabled"}}},
        }
    ]
    if ws.office365 is not None:
        state = {True: "Enabled", False: "Disabled"}
        out.append(
            {
                "id": f"{ws_id}/providers/Microsoft.SecurityInsights/dataConnectors/office365",
                "name": "office365",
                "type": "Microsoft.SecurityInsights/dataConnectors",
                "kind": "Office365",
                "etag": '"0300bf09-0000-0000-0000-5c37296e0000"',
                "properties": {
                    "tenantId": tenant_id,
                    "dataTypes": {
                        "exchange": {"state": state[ws.office365.exchange]},
                        "sharePoint": {"state": state[ws.office365.sharepoint]},
                        "teams": {"state": state[ws.office365.teams]},
                    },
                },
            }
        )
    return out


def _lifecycle_doc(sa_id: str, account: StorageSpec) -> JsonMap:
    return {
        "id": f"{sa_id}/managementPolicies/default",
        "name": "DefaultManagementPolicy",
        "type": "Microsoft.Storage/storageAccounts/managementPolicies",
        "properties": {
            "policy": {
                "rules": [
                    {
                        "enabled": True,
                        "name": "delete-old-logs",
                        "type": "Lifecycle",
                        "definition": {
                            "actions": {
                                "baseBlob": {"delete": {"daysAfterModificationGreaterThan": account.delete_after_days}}
                            },
                            "filters": {"blobTypes": ["appendBlob", "blockBlob"], "prefixMatch": ["insights-logs-"]},
                        },
                    }
                ]
            }
        },
    }


# --------------------------------------------------------------------------- responses


def arm_error(status: int, code: str, message: str) -> SandboxResponse:
    return SandboxResponse.json({"error": {"code": code, "message": message}}, status)


def _denied(path: str, action: str) -> SandboxResponse:
    return arm_error(
        403,
        "AuthorizationFailed",
        "The client '6b1f7c02-1b9e-4b8e-9a71-3c0c3f1e2d44' with object id '6b1f7c02-1b9e-4b8e-9a71-3c0c3f1e2d44' "
        f"does not have authorization to perform action '{action}' over scope '{path}' or the scope is invalid. "
        "If access was recently granted, please refresh your credentials.",
    )


def _not_found(path: str) -> SandboxResponse:
    return arm_error(404, "ResourceNotFound", f"The Resource '{path}' was not found.")


def _page(request: SandboxRequest, path: str, items: Sequence[JsonMap], size: int) -> SandboxResponse:
    try:
        start = int(request.query.get("$skiptoken") or 0)
    except ValueError:
        return arm_error(400, "InvalidSkipToken", "The skip token is not valid.")
    chunk = items[start : start + size]
    doc: dict[str, Json] = {"value": chunk}
    if start + size < len(items):
        query = urlencode({"api-version": request.query.get("api-version", ""), "$skiptoken": start + size})
        doc["nextLink"] = f"{request.base_url}{path}?{query}"
    return SandboxResponse.json(doc)


_RG = r"/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<rg>[^/]+)/providers"
_WS = _RG + r"/microsoft\.operationalinsights/workspaces/(?P<ws>[^/]+)"
_SA = _RG + r"/microsoft\.storage/storageaccounts/(?P<sa>[^/]+)"
ROUTES: list[tuple[str, re.Pattern[str]]] = [
    ("subscriptions", re.compile(r"^/subscriptions/?$")),
    ("settings", re.compile(r"^/providers/microsoft\.aadiam/diagnosticsettings/?$")),
    (
        "workspaces",
        re.compile(r"^/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.operationalinsights/workspaces/?$"),
    ),
    ("workspace", re.compile(f"^{_WS}/?$")),
    ("table", re.compile(f"^{_WS}/tables/(?P<table>[^/]+)/?$")),
    ("connectors", re.compile(f"^{_WS}/providers/microsoft\\.securityinsights/dataconnectors/?$")),
    ("lifecycle", re.compile(f"^{_SA}/managementpolicies/default/?$")),
    (
        "immutability",
        re.compile(f"^{_SA}/blobservices/default/containers/(?P<c>[^/]+)/immutabilitypolicies/default/?$"),
    ),
]
ACTIONS = {
    "settings": "microsoft.aadiam/diagnosticSettings/read",
    "workspaces": "Microsoft.OperationalInsights/workspaces/read",
    "workspace": "Microsoft.OperationalInsights/workspaces/read",
    "table": "Microsoft.OperationalInsights/workspaces/tables/read",
    "connectors": "Microsoft.SecurityInsights/dataConnectors/read",
    "lifecycle": "Microsoft.Storage/storageAccounts/managementPolicies/read",
    "immutability": "Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies/read",
}


def spec_faults(tenant: SandboxTenant) -> list[Fault]:
    """The fault rules of a tenant's ``azure:`` spec: ``deny: 403`` on every resource kind but the
    subscription list."""
    if azure_spec(tenant).deny is None:
        return []
    return [Fault(403, "AuthorizationFailed", apis=("arm",), operations=tuple(ACTIONS), kind="deny")]


@dataclass(frozen=True)
class _Target:
    path: str  # the request's path without a trailing slash
    groups: dict[str, str]  # the route's named groups (lower case)


def _target(operation: Operation) -> _Target:
    """The resource an ARM operation addresses (what :meth:`ArmApi.resolve` parsed)."""
    if not isinstance(operation.detail, _Target):
        raise TypeError(f"an ARM operation carries {type(operation.detail).__name__}, not its target")
    return operation.detail


class ArmApi:
    """Root ``arm``: Azure Resource Manager GETs for the request's tenant."""

    name = "arm"

    def resolve(self, request: SandboxRequest) -> Operation | SandboxResponse:
        if request.method != "GET":
            return arm_error(405, "MethodNotAllowed", "The sandbox's ARM emulator only reads.")
        if not request.query.get("api-version"):
            return arm_error(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        path = request.path.rstrip("/") or "/"
        low = path.lower()
        for name, pattern in ROUTES:
            match = pattern.match(low)
            if match is not None:
                return Operation(name, _Target(path, match.groupdict()))
        return arm_error(404, "InvalidResourceType", f"The resource type could not be found for path '{path}'.")

    def answer(self, request: SandboxRequest, operation: Operation) -> SandboxResponse:
        target = _target(operation)
        return _serve(operation.name, target.groups, request, azure_spec(request.tenant.tenant), target.path)

    def error(self, fault: Fault, request: SandboxRequest, operation: Operation) -> SandboxResponse:
        target = _target(operation)
        if fault.status == 403 and fault.code == "AuthorizationFailed" and fault.message is None:
            return _denied(target.path, ACTIONS.get(operation.name, "*/read"))
        return arm_error(
            fault.status, fault.code or "InternalServerError", fault.message or f"Injected {fault.status}."
        )


def _serve(name: str, g: dict[str, str], request: SandboxRequest, spec: AzureSpec, path: str) -> SandboxResponse:
    tenant_id = request.tenant.tenant.id
    if name == "subscriptions":
        subs = [] if spec.deny is not None else spec.subscriptions
        items = [
            {
                "id": f"/subscriptions/{s.id}",
                "subscriptionId": s.id,
                "tenantId": tenant_id,
                "displayName": s.name,
                "state": "Enabled",
                "authorizationSource": "RoleBased",
            }
            for s in subs
        ]
        return _page(request, path, items, spec.page_size)
    if name == "settings":
        return _page(request, path, [_setting_doc(spec, s) for s in spec.diagnostic_settings], spec.page_size)
    sub = next((s for s in spec.subscriptions if s.id.lower() == g["sub"]), None)
    if sub is None:
        return arm_error(404, "SubscriptionNotFound", f"The subscription '{g['sub']}' could not be found.")
    if name == "workspaces":
        return _page(request, path, [_workspace_doc(sub, w) for w in sub.workspaces], spec.page_size)
    if "ws" in g:
        ws = next(
            (w for w in sub.workspaces if w.name.lower() == g["ws"] and w.resource_group.lower() == g["rg"]), None
        )
        if ws is None:
            return _not_found(path)
        ws_id = workspace_id(sub, ws)
        if name == "workspace":
            return SandboxResponse.json(_workspace_doc(sub, ws))
        if name == "table":
            table = next((t for t in ws.tables if t.lower() == g["table"]), None)
            return (
                _not_found(path)
                if table is None
                else SandboxResponse.json(_table_doc(ws_id, ws, table, ws.tables[table]))
            )
        if not ws.sentinel:
            return _not_found(path)
        return _page(request, path, _connectors(ws_id, ws, tenant_id), spec.page_size)
    account = next((a for a in sub.storage_accounts if a.name == g["sa"] and a.resource_group.lower() == g["rg"]), None)
    if account is None:
        return _not_found(path)
    sa_id = storage_id(sub, account)
    if name == "lifecycle":
        if account.delete_after_days is None:
            return arm_error(404, "ManagementPolicyNotFound", "No ManagementPolicy found for account " + account.name)
        return SandboxResponse.json(_lifecycle_doc(sa_id, account))
    if account.immutability_days is None or g["c"] not in LOG_CONTAINERS:
        return _not_found(path)
    return SandboxResponse.json(
        {
            "id": f"{sa_id}/blobServices/default/containers/{g['c']}/immutabilityPolicies/default",
            "name": "default",
            "type": "Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies",
            "properties": {"immutabilityPeriodSinceCreationInDays": account.immutability_days, "state": "Locked"},
        }
    )
