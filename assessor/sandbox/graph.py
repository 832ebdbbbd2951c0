"""The Microsoft Graph v1.0 emulator: documented response shapes over a generated tenant.

Routes (paths after ``/{tenant}/v1.0``):

====================================================  ==========================================
``GET /organization``                                 tenant, verifiedDomains
``GET /subscribedSkus``                               ``$select`` only
``GET /users``                                        ``$select $top(≤999) $filter $count`` paging
``GET /users/$count``                                 text/plain; needs ``ConsistencyLevel``
``GET /users/{id|upn}``                               ``$select``
``GET /users/{id}/licenseDetails``                    (for the naive per-user comparison)
``GET /roleManagement/directory/roleAssignments``     ``$expand=principal``, ``$filter``
``GET /directoryRoles``, ``/directoryRoles/{id}/members``   no query options (fallback path)
``GET /groups/{id}/members[/microsoft.graph.user]``   ``$select``; also ``transitiveMembers``
``POST /$batch``                                      ≤ 20 requests, each with its own status
====================================================  ==========================================

The routes are data (:data:`ROUTES`, :func:`route`); :class:`GraphApi` serves the table the server
gives it — these routes plus those of :mod:`assessor.sandbox.applications` and
:mod:`assessor.sandbox.auditlog` — in order, and answers ``$batch`` itself (each item is one
operation through :func:`assessor.sandbox.api.serve_operation`, faults included).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict
from urllib.parse import parse_qsl, quote, urlsplit

from assessor.jsontypes import JsonObject, JsonValue
from assessor.sandbox.api import Operation, serve_operation
from assessor.sandbox.faults import Fault, graph_fault
from assessor.sandbox.http import Headers, SandboxRequest, SandboxResponse, graph_error
from assessor.sandbox.odata import FilterExpr, UnsupportedQuery, parse_filter
from assessor.sandbox.spec import SandboxTenant

Handler = Callable[[SandboxRequest, "re.Match[str]"], SandboxResponse]
MAX_TOP = 999
DEFAULT_TOP = 100
MAX_BATCH = 20

USER_PROPERTIES = frozenset(
    {
        "id",
        "userPrincipalName",
        "displayName",
        "givenName",
        "surname",
        "mail",
        "jobTitle",
        "mobilePhone",
        "officeLocation",
        "preferredLanguage",
        "businessPhones",
        "accountEnabled",
        "userType",
        "assignedLicenses",
        "assignedPlans",
    }
)
USER_DEFAULT = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
USER_FILTERABLE: dict[str, frozenset[str] | None] = {
    "id": None,
    "userPrincipalName": None,
    "accountEnabled": None,
    "userType": None,
    "displayName": None,
    "assignedPlans": frozenset({"servicePlanId", "capabilityStatus", "service"}),
    "assignedLicenses": frozenset({"skuId"}),
}
PER_USER_PROPERTIES = frozenset({"id", "userPrincipalName", "displayName"})
ROLE_ASSIGNMENT_FILTERABLE: dict[str, frozenset[str] | None] = {
    "roleDefinitionId": None,
    "principalId": None,
    "directoryScopeId": None,
}
SKU_PROPERTIES = frozenset(
    {
        "accountId",
        "accountName",
        "appliesTo",
        "capabilityStatus",
        "consumedUnits",
        "id",
        "prepaidUnits",
        "servicePlans",
        "skuId",
        "skuPartNumber",
        "subscriptionIds",
    }
)


class QueryError(Exception):
    """A query the emulator answers with a 400 Graph error."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def route(method: str, pattern: str, handler: Handler) -> Route:
    """A Graph route: a regex over the path after /v1.0, anchored at both ends, case-insensitive."""
    return Route(method.upper(), re.compile(f"^{pattern}$", re.IGNORECASE), handler)


class BatchResponse(TypedDict):
    """One item of a ``$batch`` answer's ``responses``."""

    id: str
    status: int
    headers: dict[str, str]
    body: JsonValue  # the item's JSON answer, or its body base64-encoded when it is not JSON


class GraphApi:
    """Microsoft Graph (v1.0 and beta roots) over an explicit route table, matched in order."""

    name = "graph"

    def __init__(self, routes: Sequence[Route]) -> None:
        self.routes: tuple[Route, ...] = (*routes, route("POST", r"/\$batch", self._batch))

    def resolve(self, request: SandboxRequest) -> Operation:
        return Operation(request.path.rstrip("/") or "/")

    def error(self, fault: Fault, request: SandboxRequest, operation: Operation) -> SandboxResponse:
        return graph_fault(fault, request)

    def answer(self, request: SandboxRequest, operation: Operation) -> SandboxResponse:
        path = operation.name
        for candidate in self.routes:
            m = candidate.pattern.match(path)
            if m and candidate.method == request.method.upper():
                try:
                    return candidate.handler(request, m)
                except QueryError as err:
                    return graph_error(err.status, err.code, err.message, request.headers.get("client-request-id"))
                except UnsupportedQuery as err:
                    return graph_error(
                        400, "Request_UnsupportedQuery", str(err), request.headers.get("client-request-id")
                    )
        segment = path.strip("/").split("/")[0] or "/"
        return graph_error(
            400,
            "BadRequest",
            f"Resource not found for the segment '{segment}'.",
            request.headers.get("client-request-id"),
        )

    # ---- $batch

    def _batch(self, request: SandboxRequest, _m: re.Match[str]) -> SandboxResponse:
        if request.in_batch:
            raise QueryError("BadRequest", "A batch request cannot contain another batch.")
        body = request.json()
        items = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise QueryError("BadRequest", "Invalid batch payload format.")
        if len(items) > MAX_BATCH:
            raise QueryError("BadRequest", f"Number of requests exceeds the limit of {MAX_BATCH}.")
        ids = [str(i.get("id")) if isinstance(i, dict) else "" for i in items]
        if len(set(ids)) != len(ids) or "" in ids or "None" in ids:
            raise QueryError("BadRequest", "Every batch request needs a unique id.")
        objects = [i for i in items if isinstance(i, dict)]  # all of them: any other item has no id
        return SandboxResponse.json({"responses": [self._batch_item(request, item) for item in objects]})

    def _batch_item(self, outer: SandboxRequest, item: JsonObject) -> BatchResponse:
        url = str(item.get("url", ""))
        parts = urlsplit(url if url.startswith("/") else "/" + url)
        headers = {str(k): str(v) for k, v in _header_items(item.get("headers"))}
        if "authorization" in outer.headers:
            headers.setdefault("Authorization", outer.headers["authorization"])
        sub = SandboxRequest(
            method=str(item.get("method", "GET")).upper(),
            path=parts.path,
            query=_query(parts.query),
            headers=Headers(headers),
            body=b"",
            tenant=outer.tenant,
            base_url=outer.base_url,
            in_batch=True,
        )
        response = serve_operation(self, sub)
        out_headers = {"Content-Type": response.content_type, **response.headers}
        if response.content_type.startswith("application/json"):
            content = response.decoded()
        else:  # Graph base64-encodes bodies that are not JSON
            content = base64.b64encode(response.body).decode("ascii")
        return {"id": str(item["id"]), "status": response.status, "headers": out_headers, "body": content}


def _header_items(headers: JsonValue) -> Iterable[tuple[str, JsonValue]]:
    """The name/value pairs of a ``$batch`` item's ``headers`` object (absent or empty: none)."""
    if not headers:
        return ()
    if not isinstance(headers, dict):
        raise TypeError(f"a $batch item's headers are {type(headers).__name__}, not an object")
    return headers.items()


# --------------------------------------------------------------------------- query helpers


def _only(request: SandboxRequest, allowed: set[str]) -> None:
    for key in request.query:
        if key.startswith("$") and key.lower() not in allowed:
            raise QueryError(
                "Request_UnsupportedQuery", f"The query parameter '{key}' is not supported on this resource."
            )


def _select(request: SandboxRequest, known: frozenset[str], entity: str) -> tuple[str, ...] | None:
    raw = request.query.get("$select")
    if raw is None:
        return None
    fields = tuple(f.strip() for f in raw.split(",") if f.strip())
    for f in fields:
        if f not in known:
            raise QueryError(
                "Request_BadRequest",
                f"Could not find a property named '{f}' on type 'microsoft.graph.{entity}'.",
            )
    return fields


def _project(obj: Mapping[str, object], fields: tuple[str, ...]) -> dict[str, object]:
    out = {f: obj.get(f) for f in fields}
    if "@odata.type" in obj:
        out = {"@odata.type": obj["@odata.type"], **out}
    return out


def _eventual(request: SandboxRequest) -> bool:
    return str(request.headers.get("ConsistencyLevel", "")).lower() == "eventual"


def _top(request: SandboxRequest) -> int:
    raw = request.query.get("$top")
    if raw is None:
        return DEFAULT_TOP
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_TOP:
        raise QueryError(
            "Request_BadRequest",
            f"Invalid page size specified: '{raw}'. Must be between 1 and {MAX_TOP} inclusive.",
        )
    return int(raw)


def _bool_option(request: SandboxRequest, name: str) -> bool:
    raw = request.query.get(name)
    if raw is None:
        return False
    if raw.lower() not in ("true", "false"):
        raise QueryError("Request_BadRequest", f"Invalid value '{raw}' for query option {name}.")
    return raw.lower() == "true"


def _context(request: SandboxRequest, entity_set: str) -> str:
    return f"{request.base_url}/$metadata#{entity_set}"


# --------------------------------------------------------------------------- paging tokens


def _token_digest(tenant: SandboxTenant, index: int, signature: str) -> str:
    return hashlib.sha256(f"{tenant.id}|{index}|{signature}".encode()).hexdigest()[:16]


def encode_skiptoken(tenant: SandboxTenant, index: int, signature: str) -> str:
    raw = f"{index}:{_token_digest(tenant, index, signature)}".encode()
    return "RFNwdA" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_skiptoken(tenant: SandboxTenant, token: str, signature: str) -> int:
    bad = QueryError("Request_BadRequest", "Invalid or expired $skiptoken.")
    if not token.startswith("RFNwdA"):
        raise bad
    body = token[len("RFNwdA") :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise bad from None
    index_text, _, digest = raw.partition(":")
    if not index_text.isdigit() or digest != _token_digest(tenant, int(index_text), signature):
        raise bad
    return int(index_text)


def _next_link(request: SandboxRequest, collection: str, token: str) -> str:
    params = [(k, v) for k, v in request.query.items() if k != "$skiptoken"] + [("$skiptoken", token)]
    query = "&".join(f"{quote(k, safe='$')}={quote(v, safe='')}" for k, v in params)
    return f"{request.base_url}{collection}?{query}"


# --------------------------------------------------------------------------- organization, SKUs


def _organization(request: SandboxRequest, _m: re.Match[str]) -> SandboxResponse:
    _only(request, {"$select"})
    org = request.tenant.tenant.organization()
    return SandboxResponse.json({"@odata.context": _context(request, "organization"), "value": [org]})


def _subscribed_skus(request: SandboxRequest, _m: re.Match[str]) -> SandboxResponse:
    _only(request, {"$select"})
    fields = _select(request, SKU_PROPERTIES, "subscribedSku")
    skus = request.tenant.tenant.subscribed_skus()
    value = [_project(s, fields) for s in skus] if fields else skus
    return SandboxResponse.json({"@odata.context": _context(request, "subscribedSkus"), "value": value})


# --------------------------------------------------------------------------- users


def _user_filter(request: SandboxRequest) -> FilterExpr | None:
    raw = request.query.get("$filter")
    return parse_filter(raw, USER_FILTERABLE) if raw is not None else None


def matching_indices(tenant: SandboxTenant, flt: FilterExpr | None, start: int = 0) -> Iterator[int]:
    """User indices from ``start`` that satisfy ``flt``; whole segments are decided at once when
    the filter only reads properties shared by every user of a segment."""
    per_user = flt is not None and bool(flt.properties & PER_USER_PROPERTIES)
    for seg in tenant.segments:
        if seg.stop <= start:
            continue
        first = max(start, seg.start)
        if flt is None:
            yield from range(first, seg.stop)
        elif not per_user:
            if seg.spec.count and flt(tenant.user(seg.start)):
                yield from range(first, seg.stop)
        else:
            yield from (i for i in range(first, seg.stop) if flt(tenant.user(i)))


def count_matching(tenant: SandboxTenant, flt: FilterExpr | None) -> int:
    if flt is None:
        return tenant.user_count
    if flt.properties & PER_USER_PROPERTIES:
        return sum(1 for _ in matching_indices(tenant, flt))
    return sum(s.spec.count for s in tenant.segments if s.spec.count and flt(tenant.user(s.start)))


def _require_advanced(request: SandboxRequest, flt: FilterExpr | None, count: bool) -> None:
    if count and not _eventual(request):
        raise QueryError("Request_BadRequest", "$count is not currently supported.")
    if flt is not None and flt.advanced and not (count and _eventual(request)):
        raise QueryError(
            "Request_UnsupportedQuery",
            "Unsupported Query. This query needs the "
            "'ConsistencyLevel: eventual' header and $count=true (advanced query).",
        )


def _list_users(request: SandboxRequest, _m: re.Match[str]) -> SandboxResponse:
    _only(request, {"$select", "$top", "$filter", "$count", "$skiptoken"})
    tenant = request.tenant.tenant
    fields = _select(request, USER_PROPERTIES, "user") or USER_DEFAULT
    top = _top(request)
    flt = _user_filter(request)
    count = _bool_option(request, "$count")
    _require_advanced(request, flt, count)
    signature = f"{request.query.get('$filter', '')}|{request.query.get('$select', '')}|{top}"
    token = request.query.get("$skiptoken")
    start = decode_skiptoken(tenant, token, signature) if token else 0
    page: list[dict[str, object]] = []
    more = False
    for index in matching_indices(tenant, flt, start):
        if len(page) == top:
            more = True
            break
        page.append(_project(tenant.user(index), fields))
        last = index
    body: dict[str, object] = {"@odata.context": _context(request, f"users({','.join(fields)})")}
    if count and token is None:
        body["@odata.count"] = count_matching(tenant, flt)
    if more:
        body["@odata.nextLink"] = _next_link(request, "/users", encode_skiptoken(tenant, last + 1, signature))
    body["value"] = page
    return SandboxResponse.json(body)


def _count_users(request: SandboxRequest, _m: re.Match[str]) -> SandboxResponse:
    _only(request, {"$filter", "$search"})
    if "$search" in request.query:
        raise QueryError("Request_UnsupportedQuery", "$search is not supported by the sandbox.")
    if not _eventual(request):
        raise QueryError(
            "Request_UnsupportedQuery",
            "Raw count (/$count) is not supported because the "
            "'ConsistencyLevel:eventual' header is missing. Refer to "
            "https://aka.ms/graph-docs/advanced-queries for more information",
        )
    return SandboxResponse.text(str(count_matching(request.tenant.tenant, _user_filter(request))))


def _get_user(request: SandboxRequest, m: re.Match[str]) -> SandboxResponse:
    _only(request, {"$select"})
    user = request.tenant.tenant.user_by_id(m["id"])
    if user is None:
        raise QueryError(
            "Request_ResourceNotFound",
            f"Resource '{m['id']}' does not exist or one of its queried reference-property objects are not present.",
            404,
        )
    fields = _select(request, USER_PROPERTIES, "user") or USER_DEFAULT
    body = {"@odata.context": _context(request, "users/$entity"), **_project(user, fields)}
    return SandboxResponse.json(body)


def _license_details(request: SandboxRequest, m: re.Match[str]) -> SandboxResponse:
    _only(request, {"$select"})
    tenant = request.tenant.tenant
    user = tenant.user_by_id(m["id"])
    if user is None:
        raise QueryError("Request_ResourceNotFound", f"Resource '{m['id']}' does not exist.", 404)
    skus = {s["skuId"]: s for s in tenant.subscribed_skus()}
    value = []
    for lic in user["assignedLicenses"]:
        sku = skus[lic["skuId"]]
        plans = [
            {
                **p,
                "provisioningStatus": "Disabled" if p["servicePlanId"] in lic["disabledPlans"] else "Success",
            }
            for p in sku["servicePlans"]
        ]
        value.append(
            {
                "id": f"{user['id']}_{sku['skuId']}",
                "skuId": sku["skuId"],
                "skuPartNumber": sku["skuPartNumber"],
                "servicePlans": plans,
            }
        )
    return SandboxResponse.json({"@odata.context": _context(request, "users('…')/licenseDetails"), "value": value})


# --------------------------------------------------------------------------- roles and groups


def _default_object(obj: Mapping[str, object]) -> Mapping[str, object]:
    """A directory object as returned by `$expand` or `/members`: default properties only."""
    if obj["@odata.type"] == "#microsoft.graph.user":
        return _project(obj, USER_DEFAULT)
    return obj


def _role_assignments(request: SandboxRequest, _m: re.Match[str]) -> SandboxResponse:
    _only(request, {"$filter", "$expand", "$select"})
    tenant = request.tenant.tenant
    expand = request.query.get("$expand")
    if expand not in (None, "principal"):
        raise QueryError("Request_UnsupportedQuery", f"Expanding '{expand}' is not supported by the sandbox.")
    raw_filter = request.query.get("$filter")
    flt = parse_filter(raw_filter, ROLE_ASSIGNMENT_FILTERABLE) if raw_filter else None
    if flt is not None and flt.advanced:
        raise QueryError("Request_UnsupportedQuery", "Unsupported filter on roleAssignments.")
    value = []
    for a in tenant.role_assignments:
        item: dict[str, object] = {
            "id": a.id,
            "roleDefinitionId": a.role_template_id,
            "principalId": a.principal_id,
            "directoryScopeId": "/",
        }
        if flt is not None and not flt(item):
            continue
        if expand:
            principal = tenant.directory_object(a.principal_id)
            item["principal"] = _default_object(principal) if principal else None
        value.append(item)
    return SandboxResponse.json(
        {"@odata.context": _context(request, "roleManagement/directory/roleAssignments"), "value": value}
    )


# Built-in directory role definitions and Entra's own privileged flag, as the permissions reference
# ("Microsoft Entra built-in roles", the PRIVILEGED label) gives them; built-in definitions carry
# their template id as id. Served with isPrivileged on beta only, as Graph does (v1.0 answers 400 to
# selecting it).
ROLE_DEFINITIONS: tuple[tuple[str, str, bool], ...] = (
    ("62e90394-69f5-4237-9190-012177145e10", "Global Administrator", True),
    ("29232cdf-9323-42fd-ade2-1d097af3e4de", "Exchange Administrator", False),
    ("194ae4cb-b126-40b2-bd5b-6091b380977d", "Security Administrator", True),
    ("17315797-102d-40b4-93e0-432062caca18", "Compliance Administrator", False),
    ("e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator", True),
    ("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "Application Administrator", True),
    ("158c047a-c907-4556-b7ef-446551a6b5f7", "Cloud Application Administrator", True),
    ("7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "Privileged Authentication Administrator", True),
    ("c4e39bd9-1100-46d3-8c65-fb160da0071f", "Authentication Administrator", True),
    ("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator", True),
    ("8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2", "Hybrid Identity Administrator", True),
    ("f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader", True),
    ("5d6b6bb7-de71-4623-b4af-96380a352509", "Security Reader", True),
    ("729827e3-9c14-49f7-bb1b-9608f156bbb8", "Helpdesk Administrator", True),
    ("966707d0-3269-4727-9be2-8c3a10f19b9d", "Password Administrator", True),
    ("b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", "Conditional Access Administrator", True),
    ("f28a1f50-f6e7-4571-818b-6a12f2af6b6c", "SharePoint Administrator", False),
    ("69091246-20e8-4a56-aa4d-066075b2a7a8", "Teams Administrator", False),
    ("88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "Directory Readers", False),
)
ROLE_DEFINITION_PROPERTIES = frozenset(
    {"id", "displayName", "description", "isBuiltIn", "isEnabled", "templateId", "version", "isPrivileged"}
)


def _role_definitions(request: SandboxRequest, _m: re.Match[str]) -> SandboxResponse:
    _only(request, {"$select", "$filter"})
    beta = request.base_url.rstrip("/").endswith("/beta")
    known = ROLE_DEFINITION_PROPERTIES if beta else ROLE_DEFINITION_PROPERTIES - {"isPrivileged"}
    fields = _select(request, known, "unifiedRoleDefinition")
    if "$filter" in request.query:
        raise QueryError("Request_UnsupportedQuery", "Filtering role definitions is not supported by the sandbox.")
    value = []
    for template_id, name, privileged in ROLE_DEFINITIONS:
        item: dict[str, object] = {
            "id": template_id,
            "displayName": name,
            "description": f"{name} (sandbox)",
            "isBuiltIn": True,
            "isEnabled": True,
            "templateId": template_id,
            "version": "1",
        }
        if beta:
            item["isPrivileged"] = privileged
        value.append(_project(item, fields) if fields else item)
    return SandboxResponse.json(
        {"@odata.context": _context(request, "roleManagement/directory/roleDefinitions"), "value": value}
    )


def _directory_roles(request: SandboxRequest, _m: re.Match[str]) -> SandboxResponse:
    _only(request, set())
    return SandboxResponse.json(
        {
            "@odata.context": _context(request, "directoryRoles"),
            "value": request.tenant.tenant.directory_roles,
        }
    )


def _directory_role_members(request: SandboxRequest, m: re.Match[str]) -> SandboxResponse:
    _only(request, set())
    tenant = request.tenant.tenant
    role = next((r for r in tenant.directory_roles if r["id"] == m["id"].lower()), None)
    if role is None:
        raise QueryError("Request_ResourceNotFound", f"Resource '{m['id']}' does not exist.", 404)
    members = [
        tenant.directory_object(a.principal_id)
        for a in tenant.role_assignments
        if a.role_template_id == role["roleTemplateId"]
    ]
    value = [_default_object(o) for o in members if o is not None]
    return SandboxResponse.json({"@odata.context": _context(request, "directoryObjects"), "value": value})


def _group_members(request: SandboxRequest, m: re.Match[str]) -> SandboxResponse:
    _only(request, {"$select", "$top"})
    tenant = request.tenant.tenant
    group = tenant.principals.get(m["id"].lower())
    if group is None or group.kind != "group":
        raise QueryError("Request_ResourceNotFound", f"Resource '{m['id']}' does not exist.", 404)
    fields = _select(request, USER_PROPERTIES, "user")
    members = [tenant.directory_object(mid) for mid in group.member_ids]
    if m["cast"]:
        members = [o for o in members if o is not None and o["@odata.type"] == "#microsoft.graph.user"]
    value = [(_project(o, fields) if fields else _default_object(o)) for o in members if o is not None]
    return SandboxResponse.json({"@odata.context": _context(request, "directoryObjects"), "value": value})


def _query(raw: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        if key in out:
            raise QueryError("Request_BadRequest", f"Query option '{key}' was specified more than once.")
        out[key] = value
    return out


parse_query = _query

ROUTES: tuple[Route, ...] = (
    route("GET", r"/organization", _organization),
    route("GET", r"/subscribedSkus", _subscribed_skus),
    route("GET", r"/users", _list_users),
    route("GET", r"/users/\$count", _count_users),
    route("GET", r"/users/(?P<id>[^/]+)/licenseDetails", _license_details),
    route("GET", r"/users/(?P<id>[^/$][^/]*)", _get_user),
    route("GET", r"/roleManagement/directory/roleAssignments", _role_assignments),
    route("GET", r"/roleManagement/directory/roleDefinitions", _role_definitions),
    route("GET", r"/directoryRoles", _directory_roles),
    route("GET", r"/directoryRoles/(?P<id>[^/]+)/members", _directory_role_members),
    route(
        "GET",
        r"/groups/(?P<id>[^/]+)/(?:transitiveMembers|members)(?P<cast>/(?:microsoft\.)?graph\.user)?",
        _group_members,
    ),
)
"""The core Graph routes (``$batch`` is :class:`GraphApi`'s own)."""
