"""Who the mail clients are, and who can read mail without a user (``Application.Read.All``).

Round 1, one ``$batch`` (split into posts of 20, sent concurrently):

- ``GET /servicePrincipals?$filter=appId in ('…',…)`` with at most 15 AppIds per request (Graph's
  limit for ``in``), for every AppId the probe saw reading or sending mail;
- ``GET /servicePrincipals(appId='…')/appRoleAssignedTo`` for Microsoft Graph and Office 365
  Exchange Online: every application permission granted on them, filtered here to the mail app
  roles (``knowledge/mail_access.yaml``).

Round 2, one more ``$batch``: the service principals holding a mail app role that round 1 did not
already return (``$filter=id in (…)``, 15 per request), and any next pages. So resolving any number
of AppIds takes a constant two rounds (more only when a grant list is longer than a page).

An AppId the tenant has no service principal for is looked up in the bundled list of Microsoft's
first-party applications, else it is ``unknown``. A service principal owned by Microsoft's
tenants (``appOwnerOrganizationId``) counts as Microsoft's, not the tenant's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from assessor.collect.graph.batch import BatchRequest, BatchResult, send_batch
from assessor.collect.graph.client import GraphConnection
from assessor.collect.graph.outcome import GRAPH_ERRORS, Collected, GraphFailure, NotCollected, failure_from
from assessor.collect.graph.paging import LinkGuard
from assessor.evidence import Applications, MailPermission, ServicePrincipalRef
from assessor.jsontypes import WireObject
from assessor.knowledge.mail_access import MailAccess, MicrosoftApps, load_mail_access, load_microsoft_apps

PERMISSION = "Application.Read.All"
IN_LIMIT = 15  # values per `in` clause
SELECT = "id,appId,displayName,appOwnerOrganizationId"
SOURCE = "POST /$batch: GET /servicePrincipals?$filter=appId in (…); GET /servicePrincipals(appId=…)/appRoleAssignedTo"
MAX_ROUNDS = 20  # bound on following next pages


@dataclass
class _Run:
    requests: int = 0
    rounds: int = 0
    principals: dict[str, WireObject] = field(default_factory=dict)  # object id → service principal
    failures: list[GraphFailure] = field(default_factory=list)

    async def batch(self, conn: GraphConnection, items: Sequence[BatchRequest]) -> dict[str, BatchResult]:
        if not items:
            return {}
        self.requests += len(items)
        self.rounds += 1
        return await send_batch(conn, items)


def _quoted(values: Iterable[str]) -> str:
    return ",".join("'" + v.replace("'", "''") + "'" for v in values)


def _chunks(values: Sequence[str], size: int) -> list[Sequence[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _filter_request(rid: str, prop: str, values: Sequence[str]) -> BatchRequest:
    flt = quote(f"{prop} in ({_quoted(values)})", safe="(),'=")
    return BatchRequest(rid, f"/servicePrincipals?$filter={flt}&$select={SELECT}")


def _relative(conn: GraphConnection, link: str) -> str:
    """A ``@odata.nextLink`` as a path under the version root (what a batch item carries)."""
    base = str(conn.adapter.base_url).rstrip("/")
    if link.startswith(base):
        return link[len(base) :]
    parts = urlsplit(link)
    path = parts.path
    for marker in ("/v1.0", "/beta"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return path + (f"?{parts.query}" if parts.query else "")


def _values(result: BatchResult, endpoint: str) -> tuple[list[WireObject], str | None]:
    if not result.ok:
        raise result.error(endpoint)
    body = result.body
    if not isinstance(body, dict) or not isinstance(body.get("value"), list):
        raise GraphFailure(endpoint, result.status, None, "the answer has no 'value' array", "protocol")
    link = body.get("@odata.nextLink")
    return [v for v in body["value"] if isinstance(v, dict)], link if isinstance(link, str) and link else None


async def _collect_pages(
    conn: GraphConnection, run: _Run, first: dict[str, BatchResult], endpoints: dict[str, str]
) -> dict[str, list[WireObject]]:
    """Rows of every request in ``first``, following next pages a round at a time."""
    rows: dict[str, list[WireObject]] = {rid: [] for rid in first}
    pending = dict(first)
    guards = {rid: LinkGuard(endpoints[rid]) for rid in first}
    follows = 0
    for _ in range(MAX_ROUNDS):
        follow: list[BatchRequest] = []
        for rid, result in pending.items():
            base_id = rid.split("#", 1)[0]
            values, link = _values(result, endpoints[base_id])
            rows[base_id].extend(values)
            if link is not None:
                follows += 1
                follow.append(BatchRequest(f"{base_id}#{follows}", _relative(conn, guards[base_id].follow(link))))
        if not follow:
            return rows
        pending = await run.batch(conn, follow)
    raise GraphFailure("GET /servicePrincipals", None, None, f"more than {MAX_ROUNDS} pages", "protocol")


def _publisher(sp: WireObject | None, app_id: str, kb: MailAccess, ms: MicrosoftApps) -> ServicePrincipalRef:
    if sp is not None:
        owner = str(sp.get("appOwnerOrganizationId") or "").lower() or None
        microsoft = owner in kb.microsoft_tenants or app_id in ms.apps
        return ServicePrincipalRef(
            app_id=app_id,
            display_name=sp.get("displayName") or ms.apps.get(app_id),
            publisher="microsoft" if microsoft else "tenant",
            source="tenant",
            owner_organization_id=owner,
            object_id=str(sp.get("id") or "").lower() or None,
        )
    if app_id in ms.apps:
        return ServicePrincipalRef(
            app_id=app_id, display_name=ms.apps[app_id], publisher="microsoft", source="microsoft-list"
        )
    return ServicePrincipalRef(app_id=app_id, display_name=None, publisher="unknown", source="none")


def resolve_offline(app_ids: Iterable[str]) -> list[ServicePrincipalRef]:
    """Without Graph: the Microsoft list only (everything else unknown)."""
    kb, ms = load_mail_access(), load_microsoft_apps()
    return [_publisher(None, a.lower(), kb, ms) for a in dict.fromkeys(app_ids)]


def _grants(rows: list[WireObject], roles: dict[str, str]) -> dict[str, tuple[object, list[str]]]:
    """principal id → (display name as answered, mail permissions) over app role assignments of
    service principals; the name is validated where it becomes a `MailPermission`."""
    out: dict[str, tuple[object, list[str]]] = {}
    for row in rows:
        role = roles.get(str(row.get("appRoleId") or "").lower())
        principal = str(row.get("principalId") or "").lower()
        if role is None or not principal or str(row.get("principalType") or "ServicePrincipal") != "ServicePrincipal":
            continue
        name, held = out.get(principal, (row.get("principalDisplayName"), []))
        if role not in held:
            held.append(role)
        out[principal] = (name, held)
    return out


async def resolve_applications(conn: GraphConnection, app_ids: Sequence[str]) -> Collected[Applications] | NotCollected:
    """Resolve ``app_ids`` and read the mail app role grants; never raises for a Graph failure."""
    kb, ms = load_mail_access(), load_microsoft_apps()
    wanted = list(dict.fromkeys(a.lower() for a in app_ids))
    run = _Run()
    endpoints: dict[str, str] = {}
    items: list[BatchRequest] = []
    for i, chunk in enumerate(_chunks(wanted, IN_LIMIT)):
        rid = f"sp{i}"
        endpoints[rid] = "GET /servicePrincipals?$filter=appId in (…)"
        items.append(_filter_request(rid, "appId", chunk))
    resources = {r.resource_app_id for r in kb.mail_app_roles}
    for j, resource in enumerate(sorted(resources)):
        rid = f"grants{j}"
        endpoints[rid] = f"GET /servicePrincipals(appId='{resource}')/appRoleAssignedTo"
        items.append(BatchRequest(rid, f"/servicePrincipals(appId='{resource}')/appRoleAssignedTo?$top=999"))
    try:
        first = await run.batch(conn, items)
    except GRAPH_ERRORS as exc:
        return _refused(failure_from(exc, "POST /$batch"), wanted, run)
    lookups = {rid: r for rid, r in first.items() if rid.startswith("sp")}
    grants = {rid: r for rid, r in first.items() if rid.startswith("grants")}
    try:
        found = await _collect_pages(conn, run, lookups, endpoints)
    except GRAPH_ERRORS as exc:
        return _refused(failure_from(exc, "GET /servicePrincipals"), wanted, run)
    by_app: dict[str, WireObject] = {}
    for rows in found.values():
        for sp in rows:
            app = str(sp.get("appId") or "").lower()
            if app:
                by_app[app] = sp
                run.principals[str(sp.get("id") or "").lower()] = sp
    resolved = [_publisher(by_app.get(a), a, kb, ms) for a in wanted]
    permissions, unavailable = await _mail_permissions(conn, run, grants, endpoints, kb)
    data = Applications(
        resolved=resolved,
        microsoft_list=ms.describe(),
        mail_permissions=permissions,
        mail_permissions_unavailable=unavailable,
        requests=run.requests,
        rounds=run.rounds,
    )
    return Collected(data, SOURCE)


async def _mail_permissions(
    conn: GraphConnection,
    run: _Run,
    grants: dict[str, BatchResult],
    endpoints: dict[str, str],
    kb: MailAccess,
) -> tuple[list[MailPermission] | None, str | None]:
    roles = {r.id.lower(): f"{r.resource} {r.name}" for r in kb.mail_app_roles}
    try:
        rows = await _collect_pages(conn, run, grants, endpoints)
    except GRAPH_ERRORS as exc:
        failure = failure_from(exc, "GET /servicePrincipals(appId=…)/appRoleAssignedTo")
        need = f"; needs {PERMISSION}" if failure.forbidden else ""
        return None, f"{failure.describe()}{need}"
    held = _grants([r for rs in rows.values() for r in rs], roles)
    missing = [p for p in held if p not in run.principals]
    if missing:
        items = [_filter_request(f"holder{i}", "id", chunk) for i, chunk in enumerate(_chunks(missing, IN_LIMIT))]
        endpoints.update({i.id: "GET /servicePrincipals?$filter=id in (…)" for i in items})
        try:
            found = await _collect_pages(conn, run, await run.batch(conn, items), endpoints)
        except GRAPH_ERRORS as exc:
            return None, failure_from(exc, "GET /servicePrincipals?$filter=id in (…)").describe()
        for sps in found.values():
            for sp in sps:
                run.principals[str(sp.get("id") or "").lower()] = sp
    out = []
    for principal, (name, perms) in sorted(held.items(), key=lambda kv: (str(kv[1][0] or ""), kv[0])):
        sp = run.principals.get(principal) or {}
        out.append(
            MailPermission(
                app_id=str(sp.get("appId") or "").lower() or None,
                object_id=principal,
                display_name=sp.get("displayName") or name,
                permissions=sorted(perms),
            )
        )
    return out, None


def _refused(failure: GraphFailure, wanted: list[str], run: _Run) -> NotCollected:
    if failure.forbidden:
        return NotCollected(
            f"permission missing: {failure.describe()}; needs {PERMISSION} (AppIds named from Microsoft's list only)",
            f"grant the Microsoft Graph application permission {PERMISSION} (admin consent)",
            SOURCE,
            failure,
        )
    return NotCollected(f"{failure.describe()} (AppIds named from Microsoft's list only)", None, SOURCE, failure)
