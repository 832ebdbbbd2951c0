"""Read where the logs go from Azure Resource Manager: the ``log_export`` evidence section.

Reads (all GET; ARM shapes as documented for these api-versions):

1. ``/subscriptions?api-version=2022-12-01`` — the subscriptions the credential can see (unless
   ``--azure-subscription`` names them) and, alongside,
   ``/providers/microsoft.aadiam/diagnosticSettings?api-version=2017-04-01`` — the tenant-level
   Entra diagnostic settings: ``properties.logs[]`` (``category``, ``enabled``, legacy
   ``retentionPolicy``) and the destinations ``workspaceId``, ``storageAccountId``,
   ``eventHubAuthorizationRuleId`` / ``eventHubName``.
2. Per subscription, ``…/providers/Microsoft.OperationalInsights/workspaces?api-version=2022-10-01``
   (``properties.retentionInDays``); a destination workspace outside them is read directly.
3. Per workspace, Sentinel's data connectors
   ``{workspace}/providers/Microsoft.SecurityInsights/dataConnectors?api-version=2023-02-01``
   (kind ``Office365``: ``properties.dataTypes.exchange|sharePoint|teams.state``), and the tables
   that matter ``{workspace}/tables/{SigninLogs|AuditLogs|OfficeActivity}?api-version=2022-10-01``
   (``retentionInDays``, ``totalRetentionInDays``, ``archiveRetentionInDays``): all three, alongside
   the connectors, for workspaces a diagnostic setting sends to; elsewhere OfficeActivity only once
   a connector forwards to the workspace.
4. Per destination storage account, the lifecycle policy ``{account}/managementPolicies/default``
   (``daysAfterModificationGreaterThan`` / ``daysAfterCreationGreaterThan`` delete rules that
   reach the ``insights-logs-*`` containers; none: kept until deleted) and the immutability policy
   of the ``insights-logs-signinlogs`` / ``insights-logs-auditlogs`` containers.

Least privilege: Azure RBAC *Reader* on the subscriptions holding the workspaces and storage
accounts (it includes the Sentinel connector and table reads), and *Reader* at scope
``/providers/Microsoft.aadiam`` for the Entra diagnostic settings (a tenant-level resource; the
Maester project documents this assignment, made by a Global Administrator after elevating
access; Microsoft's documentation names no read-only role for it). Anything refused is recorded
as a gap naming the role; nothing is assumed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from assessor.collect.azure.client import ArmClient, ArmError
from assessor.evidence import AzureExport, DiagnosticSetting, ExportDestination, Office365Connector, ReadGap
from assessor.jsontypes import WireObject

API_SUBSCRIPTIONS = "2022-12-01"
API_AADIAM = "2017-04-01"
API_WORKSPACES = "2022-10-01"
API_SENTINEL = "2023-02-01"
API_STORAGE = "2023-01-01"
AADIAM_SETTINGS = "/providers/microsoft.aadiam/diagnosticSettings"
ENTRA_TABLES = ("SigninLogs", "AuditLogs")
UAL_TABLE = "OfficeActivity"
LOG_CONTAINERS = ("insights-logs-signinlogs", "insights-logs-auditlogs")
USABLE_SUBSCRIPTION_STATES = frozenset({"enabled", "warned", "pastdue"})

FIX_AADIAM = (
    "Azure RBAC Reader at scope /providers/Microsoft.aadiam (assigned by a Global Administrator after elevating access)"
)
FIX_SUBSCRIPTIONS = "Reader on the Azure subscriptions that hold the Log Analytics workspaces and storage accounts"


def fix_for_resource(resource_id: str) -> str:
    parts = resource_id.strip("/").split("/")
    sub = parts[1] if len(parts) > 1 and parts[0].lower() == "subscriptions" else "?"
    return f"Reader on subscription {sub} (or on the resource {parts[-1]})"


@dataclass
class AzureRead:
    """The result: the evidence data (or why nothing could be read) and what it cost."""

    data: AzureExport | None
    reason: str | None = None
    fix: str | None = None
    notes: list[str] = field(default_factory=list)


def _gap(what: str, err: ArmError, fix: str | None) -> ReadGap:
    """What could not be read; a refusal names the role, anything else asks to retry."""
    refused = err.forbidden or err.kind == "auth"
    return ReadGap(what=what, reason=err.describe(), fix=fix if refused else "retry later")


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def parse_diagnostic_setting(item: WireObject) -> DiagnosticSetting:
    props = item.get("properties") if isinstance(item.get("properties"), dict) else {}
    assert isinstance(props, dict)
    categories: list[str] = []
    legacy: int | None = None
    for log in props.get("logs") or []:
        if not isinstance(log, dict) or log.get("enabled") is not True:
            continue
        category = log.get("category") or log.get("categoryGroup")
        if isinstance(category, str):
            categories.append(category)
        policy = log.get("retentionPolicy")
        if isinstance(policy, dict) and policy.get("enabled") is True and _int(policy.get("days")):
            days = _int(policy.get("days"))
            legacy = days if legacy is None or (days is not None and days < legacy) else legacy
    destinations = [
        v
        for v in (props.get("workspaceId"), props.get("storageAccountId"), props.get("eventHubAuthorizationRuleId"))
        if isinstance(v, str) and v
    ]
    hub = props.get("eventHubName")
    return DiagnosticSetting(
        name=str(item.get("name") or "(unnamed)"),
        destinations=destinations,
        categories=categories,
        retention_days=legacy,
        event_hub_name=hub if isinstance(hub, str) and hub else None,
    )


def parse_office365_connector(item: WireObject) -> Office365Connector | None:
    if str(item.get("kind") or "").lower() != "office365":
        return None
    props = item.get("properties") if isinstance(item.get("properties"), dict) else {}
    types = props.get("dataTypes") if isinstance(props, dict) and isinstance(props.get("dataTypes"), dict) else {}
    assert isinstance(types, dict)

    def enabled(name: str) -> bool:
        entry = types.get(name)
        return isinstance(entry, dict) and str(entry.get("state") or "").lower() == "enabled"

    return Office365Connector(
        name=str(item.get("name") or "(unnamed)"),
        exchange=enabled("exchange"),
        sharepoint=enabled("sharePoint"),
        teams=enabled("teams"),
    )


def lifecycle_delete_days(policy: WireObject) -> int | None:
    """The shortest age at which an enabled lifecycle rule deletes blobs in the diagnostic-log
    containers (``insights-logs-*``); None when no rule deletes them."""
    props = policy.get("properties") if isinstance(policy.get("properties"), dict) else {}
    body = props.get("policy") if isinstance(props, dict) and isinstance(props.get("policy"), dict) else {}
    shortest: int | None = None
    for rule in body.get("rules") or [] if isinstance(body, dict) else []:
        if not isinstance(rule, dict) or rule.get("enabled") is False:
            continue
        definition = rule.get("definition") if isinstance(rule.get("definition"), dict) else {}
        assert isinstance(definition, dict)
        filters = definition.get("filters") if isinstance(definition.get("filters"), dict) else {}
        assert isinstance(filters, dict)
        prefixes = [p for p in filters.get("prefixMatch") or [] if isinstance(p, str)]
        blob_types = [t.lower() for t in filters.get("blobTypes") or [] if isinstance(t, str)]
        if blob_types and "appendblob" not in blob_types:
            continue  # diagnostic logs are append blobs
        if prefixes and not any(_prefix_reaches_logs(p) for p in prefixes):
            continue
        actions = definition.get("actions") if isinstance(definition.get("actions"), dict) else {}
        base = (
            actions.get("baseBlob") if isinstance(actions, dict) and isinstance(actions.get("baseBlob"), dict) else {}
        )
        delete = base.get("delete") if isinstance(base, dict) and isinstance(base.get("delete"), dict) else {}
        assert isinstance(delete, dict)
        for key in ("daysAfterModificationGreaterThan", "daysAfterCreationGreaterThan"):
            days = _int(delete.get(key))
            if days is not None and (shortest is None or days < shortest):
                shortest = days
    return shortest


def _prefix_reaches_logs(prefix: str) -> bool:
    p = prefix.lower()
    return any(c.startswith(p) or p.startswith(c) for c in LOG_CONTAINERS)


class AzureCollector:
    """Reads one tenant's Azure side through an :class:`ArmClient`."""

    def __init__(self, client: ArmClient, subscriptions: tuple[str, ...] = ()) -> None:
        self.client = client
        self.wanted = subscriptions
        self.gaps: list[ReadGap] = []

    async def run(self) -> AzureRead:
        subs_result, settings_result = await asyncio.gather(
            self._subscriptions(), self._settings(), return_exceptions=True
        )
        if isinstance(subs_result, BaseException) and not isinstance(subs_result, ArmError):
            raise subs_result
        if isinstance(settings_result, BaseException) and not isinstance(settings_result, ArmError):
            raise settings_result
        settings = None if isinstance(settings_result, ArmError) else settings_result
        subscriptions = [] if isinstance(subs_result, ArmError) else subs_result
        if isinstance(settings_result, ArmError):
            self.gaps.append(_gap(AADIAM_SETTINGS, settings_result, FIX_AADIAM))
        if isinstance(subs_result, ArmError):
            self.gaps.append(_gap("/subscriptions", subs_result, FIX_SUBSCRIPTIONS))
        auth = [r for r in (subs_result, settings_result) if isinstance(r, ArmError) and r.kind == "auth"]
        if len(auth) == 2:
            return AzureRead(
                None, f"Azure Resource Manager refused the credential ({auth[0].message})", FIX_SUBSCRIPTIONS
            )
        if not subscriptions and not settings:
            return self._nothing(settings_result)
        destinations = await self._destinations(subscriptions, settings or [])
        data = AzureExport(
            endpoint=self.client.base_url,
            subscriptions=subscriptions,
            entra_diagnostic_settings=settings,
            destinations=destinations,
            gaps=self.gaps,
        )
        return AzureRead(data)

    def _nothing(self, settings_result: list[DiagnosticSetting] | ArmError) -> AzureRead:
        if isinstance(settings_result, ArmError):
            return AzureRead(
                None,
                "the credential sees no Azure subscription and may not read the Entra diagnostic settings "
                f"({settings_result.describe()})",
                f"{FIX_AADIAM}; {FIX_SUBSCRIPTIONS}",
            )
        scope = "the given --azure-subscription" if self.wanted else "any Azure subscription"
        return AzureRead(
            None,
            f"the credential cannot see {scope} and the tenant has no Entra diagnostic setting: "
            "no Azure side to read (a tenant without Azure, or a credential without Azure roles)",
            f"if the tenant has Azure subscriptions: {FIX_SUBSCRIPTIONS}, and {FIX_AADIAM}",
        )

    # ---- step 1

    async def _subscriptions(self) -> list[str]:
        if self.wanted:
            return list(dict.fromkeys(s.lower() for s in self.wanted))
        items = await self.client.list("/subscriptions", API_SUBSCRIPTIONS)
        out = []
        for item in items:
            sub = item.get("subscriptionId")
            state = str(item.get("state") or "Enabled").lower()
            if isinstance(sub, str) and state in USABLE_SUBSCRIPTION_STATES:
                out.append(sub.lower())
        return list(dict.fromkeys(out))

    async def _settings(self) -> list[DiagnosticSetting]:
        items = await self.client.list(AADIAM_SETTINGS, API_AADIAM)
        return [parse_diagnostic_setting(i) for i in items]

    # ---- steps 2–4

    async def _destinations(
        self, subscriptions: list[str], settings: list[DiagnosticSetting]
    ) -> list[ExportDestination]:
        targets: dict[str, str] = {}  # lower id -> id as given
        for s in settings:
            for dest in s.destinations:
                targets.setdefault(dest.lower(), dest)
        listed = await asyncio.gather(*(self._workspaces(sub) for sub in subscriptions))
        workspaces: dict[str, tuple[str, WireObject]] = {}  # lower id -> (id as listed, the listed workspace)
        for items in listed:
            for ws in items:
                ws_id = ws.get("id")
                if isinstance(ws_id, str):
                    workspaces.setdefault(ws_id.lower(), (ws_id, ws))
        jobs = []
        for key, (ws_id, ws) in workspaces.items():
            jobs.append(self._workspace(ws_id, ws, key in targets))
        for key, dest_id in targets.items():
            kind = _kind(dest_id)
            if kind == "log_analytics" and key not in workspaces:
                jobs.append(self._workspace(dest_id, None, True))
            elif kind == "storage":
                jobs.append(self._storage(dest_id))
            elif kind == "event_hub":
                jobs.append(_event_hub(dest_id))
        return list(await asyncio.gather(*jobs))

    async def _workspaces(self, subscription: str) -> list[WireObject]:
        path = f"/subscriptions/{subscription}/providers/Microsoft.OperationalInsights/workspaces"
        try:
            return await self.client.list(path, API_WORKSPACES)
        except ArmError as err:
            self.gaps.append(_gap(f"workspaces of subscription {subscription}", err, fix_for_resource(path)))
            return []

    async def _workspace(self, ws_id: str, listed: WireObject | None, entra_target: bool) -> ExportDestination:
        unread: list[ReadGap] = []
        fix = fix_for_resource(ws_id)
        doc = listed
        if doc is None:
            try:
                doc = await self.client.get(ws_id, API_WORKSPACES)
            except ArmError as err:
                unread.append(_gap(ws_id, err, fix))
        retention = None
        if doc is not None:
            props = doc.get("properties")
            retention = _int(props.get("retentionInDays")) if isinstance(props, dict) else None
        tables: dict[str, int] = {}
        interactive: dict[str, int] = {}
        # a workspace Entra logs go to is usually the Sentinel one too: read its three tables alongside
        # the connectors (one round); elsewhere OfficeActivity only once a connector forwards to it
        wanted = (*ENTRA_TABLES, UAL_TABLE) if entra_target else ()
        connectors, *_ = await asyncio.gather(
            self._connectors(ws_id, unread), *(self._table(ws_id, t, tables, interactive, unread) for t in wanted)
        )
        if connectors and UAL_TABLE not in wanted:
            await self._table(ws_id, UAL_TABLE, tables, interactive, unread)
        return ExportDestination(
            kind="log_analytics",
            id=ws_id,
            retention_days=retention,
            # the reads finish in any order: sorted, so the same tenant gives the same evidence (and digest)
            tables=dict(sorted(tables.items())),
            interactive_days=dict(sorted(interactive.items())),
            sentinel_office365=connectors,
            unread=sorted(unread, key=lambda gap: (gap.what, gap.reason)),
        )

    async def _connectors(self, ws_id: str, unread: list[ReadGap]) -> list[Office365Connector] | None:
        try:
            items = await self.client.list(f"{ws_id}/providers/Microsoft.SecurityInsights/dataConnectors", API_SENTINEL)
        except ArmError as err:
            if err.not_found:
                return []  # Sentinel is not enabled on this workspace: nothing forwarded to it
            unread.append(_gap(f"{ws_id} (Sentinel data connectors)", err, fix_for_resource(ws_id)))
            return None
        found = [parse_office365_connector(i) for i in items]
        return [c for c in found if c is not None]

    async def _table(
        self, ws_id: str, table: str, tables: dict[str, int], interactive: dict[str, int], unread: list[ReadGap]
    ) -> None:
        try:
            doc = await self.client.get(f"{ws_id}/tables/{table}", API_WORKSPACES)
        except ArmError as err:
            if not err.not_found:  # a table that does not exist holds nothing: no retention to report
                unread.append(_gap(f"{ws_id} (table {table})", err, fix_for_resource(ws_id)))
            return
        props = doc.get("properties") if isinstance(doc.get("properties"), dict) else {}
        assert isinstance(props, dict)
        days = _int(props.get("retentionInDays"))
        total = _int(props.get("totalRetentionInDays"))
        if total is None and days is not None:
            total = days + (_int(props.get("archiveRetentionInDays")) or 0)
        if days is not None:
            interactive[table] = days
        if total is not None:
            tables[table] = total
        else:
            unread.append(ReadGap(what=f"{ws_id} (table {table})", reason="the answer carries no retention"))

    async def _storage(self, account_id: str) -> ExportDestination:
        unread: list[ReadGap] = []
        fix = fix_for_resource(account_id)
        retention: int | None = None
        kept = False
        try:
            policy = await self.client.get(f"{account_id}/managementPolicies/default", API_STORAGE)
            retention = lifecycle_delete_days(policy)
            kept = retention is None
        except ArmError as err:
            if err.not_found:
                kept = True  # no lifecycle policy: nothing deletes the logs
            else:
                unread.append(_gap(f"{account_id} (lifecycle management policy)", err, fix))
        immutable = await asyncio.gather(*(self._immutability(account_id, c, unread) for c in LOG_CONTAINERS))
        known = [d for d in immutable if d is not None]
        return ExportDestination(
            kind="storage",
            id=account_id,
            retention_days=retention,
            kept_until_deleted=kept,
            immutability_days=min(known) if known else None,
            unread=unread,
        )

    async def _immutability(self, account_id: str, container: str, unread: list[ReadGap]) -> int | None:
        path = f"{account_id}/blobServices/default/containers/{container}/immutabilityPolicies/default"
        try:
            doc = await self.client.get(path, API_STORAGE)
        except ArmError as err:
            if not err.not_found:
                unread.append(_gap(f"{account_id} (immutability of {container})", err, fix_for_resource(account_id)))
            return None
        props = doc.get("properties") if isinstance(doc.get("properties"), dict) else {}
        return _int(props.get("immutabilityPeriodSinceCreationInDays")) if isinstance(props, dict) else None


async def _event_hub(rule_id: str) -> ExportDestination:
    return ExportDestination(kind="event_hub", id=rule_id)


def _kind(resource_id: str) -> str:
    low = resource_id.lower()
    if "/microsoft.operationalinsights/workspaces/" in low:
        return "log_analytics"
    if "/microsoft.storage/storageaccounts/" in low:
        return "storage"
    return "event_hub"
