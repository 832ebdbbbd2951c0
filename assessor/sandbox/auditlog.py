"""The Purview audit search emulator: ``/security/auditLog/queries`` over a generated tenant.

Routes (paths after ``/{tenant}/v1.0``; :data:`ROUTES`, given to the Graph emulator by the server):

=================================================  ===========================================
``POST /security/auditLog/queries``                create a query (201, status ``notStarted``)
``GET  /security/auditLog/queries``                the tenant's queries
``GET  /security/auditLog/queries/{id}``           the query with its current status
``GET  /security/auditLog/queries/{id}/records``   records, paged with ``@odata.nextLink``
=================================================  ===========================================

Behaviour, driven by the tenant spec's ``audit_log:`` key (:class:`AuditLogSpec`):

- **Lifecycle by elapsed time**: a query is ``notStarted`` for the first tenth of
  ``query_seconds``, ``running`` until ``query_seconds`` have passed, then ``final_status``
  (``succeeded``; ``failed`` or ``cancelled`` inject a failure). Records are served only once the
  query succeeded.
- **Records are generated lazily and deterministically**: record ``i`` of a query is computed from
  its index (operation, day, user, repetition), so a page costs only its own records and a
  1,000,000-record query costs the server no memory. Per operation the spec names the record
  type, the fraction of in-scope users who produce it (evenly spread, ``floor(fraction × eligible)``
  users exactly), how many records each produces per day, and the client AppIds with weights.
- **Filters**: ``operationFilters`` and ``serviceFilters`` (case-insensitive), ``recordTypeFilters``
  validated against ``AuditLogRecordType`` in camelCase or PascalCase (unknown value → 400).
  Filters the sandbox does not emulate (keyword, IP, object id, UPN, administrative unit) are
  answered 400 rather than silently ignored.
- **Global only**: for a tenant whose cloud is not ``global`` the routes answer as a national-cloud
  Graph does for an API it lacks (400, resource not found). The collector must never get here;
  the server's request log lets a test prove it did not.
- **Records look like real ones** (rknightion/graph2otel live captures, tests/conformance):
  ``auditLogRecordType`` and ``userType`` in PascalCase, ``userId`` the classic ``UserKey`` (a
  PUID), ``auditData`` typed ``#microsoft.graph.security.defaultAuditData`` with the classic
  PascalCase fields. ``other_actors_per_day`` adds records by non-user actors: an app's object id
  (``userType: Application``), ``Not Available`` (``System``, ``userId`` a GUID) and
  ``system release`` (``userId: __NULL__``).
- **Beta only**: with ``api: beta`` the v1.0 routes answer 404 ``UnknownError`` with an empty
  message, as real tenants have been seen doing; the routes are always served under ``/beta``.
- ``isRecordCountLimitExceeded`` becomes true when ``record_count_limit`` is set and the query
  matched more records than that (the records are cut at the limit).

Forced 403s and throttling come from the generic fault spec (``faults.errors`` with
``path: /security/auditLog``), applied by the server before these handlers.

Spec example (``tenants/contoso.yaml``)::

    audit_log:
      query_seconds: 2          # simulated service time, creation → succeeded
      page_size: 1000           # records per page
      operations:
        MailItemsAccessed:
          record_type: ExchangeItemAggregated
          users: 0.9            # fraction of in-scope users who produce it
          per_user_per_day: 12
          app_ids: [{app_id: 00000002-0000-0ff1-ce00-000000000000, name: Exchange (OWA), weight: 60}]
"""

from __future__ import annotations

import bisect
import re
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Literal, cast
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assessor.jsontypes import Json, JsonMap, JsonObject, JsonValue
from assessor.knowledge import load_knowledge
from assessor.sandbox import graph
from assessor.sandbox.graph import QueryError, decode_skiptoken, encode_skiptoken
from assessor.sandbox.http import SandboxRequest, SandboxResponse
from assessor.sandbox.spec import SandboxTenant, SpecError, load_spec, rescale

DAY = timedelta(days=1)
MAX_QUERIES = 10_000
FinalStatus = Literal["succeeded", "failed", "cancelled"]
UNEMULATED_FILTERS = (
    "keywordFilter",
    "ipAddressFilters",
    "objectIdFilters",
    "userPrincipalNameFilters",
    "administrativeUnitIdFilters",
)
_MULTIPLIER = 1_000_003  # prime: spreads AppIds over records, exact shares over each weight cycle


# --------------------------------------------------------------------------- spec


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AppIdWeight(_Spec):
    app_id: str
    name: str | None = None
    weight: int = Field(1, ge=1)
    client_app_id: str | None = Field(None, description="ClientAppId when another app calls through AppId")
    access: Literal["delegated", "app_only"] = "delegated"


class IntrusionSpec(_Spec):
    """Extra records of one client reading named mailboxes, only in the last ``recent_days`` days."""

    app_id: str
    client_app_id: str | None = None
    access: Literal["delegated", "app_only"] = "delegated"
    users: list[str] = Field(min_length=1, description="User references segment[i] whose mailboxes it reads")
    recent_days: int = Field(3, ge=1)
    per_user_per_day: int = Field(5, ge=1)


class OperationSpec(_Spec):
    record_type: str
    service: str = "Exchange"
    users: float = Field(1.0, ge=0.0, le=1.0, description="Fraction of eligible (in-scope) users producing it")
    segments: list[str] = Field(default_factory=list, description="Only in-scope users of these segments")
    per_user_per_day: int = Field(1, ge=0)
    other_actors_per_day: int = Field(0, ge=0, description="Records per day by non-user actors (apps, system)")
    app_ids: list[AppIdWeight] = Field(default_factory=list)
    intrusions: list[IntrusionSpec] = Field(default_factory=list)
    final_status: FinalStatus | None = Field(
        None, description="A query asking for this operation ends so (default: the log's final_status)"
    )

    @field_validator("record_type")
    @classmethod
    def _known_record_type(cls, value: str) -> str:
        canonical = canonical_record_type(value)
        if canonical is None:
            raise ValueError(f"unknown audit log record type {value!r}")
        return canonical


class AuditLogSpec(_Spec):
    query_seconds: float = Field(2.0, ge=0.0)
    page_size: int = Field(1000, ge=1, le=10_000)
    final_status: FinalStatus = "succeeded"
    record_count_limit: int | None = Field(None, ge=1)
    retention_days: int = Field(180, ge=1)
    api: Literal["v1.0", "beta"] = Field("v1.0", description="beta: v1.0 answers 404 UnknownError")
    operations: dict[str, OperationSpec] = Field(default_factory=dict)


@lru_cache(maxsize=1)
def _record_types() -> dict[str, str]:
    """Every ``AuditLogRecordType`` member by its lower-cased name → the PascalCase name."""
    from msgraph.generated.models.security.audit_log_record_type import AuditLogRecordType

    # the generated members are written `Name = "Name",`, which a type checker reads as a tuple
    values = [cast(str, member.value) for member in AuditLogRecordType]
    return {value.lower(): value for value in values}


def canonical_record_type(value: str) -> str | None:
    """``exchangeItem`` or ``ExchangeItem`` → ``ExchangeItem``; None when it is no record type."""
    return _record_types().get(value.strip().lower())


def camel(value: str) -> str:
    """The camelCase spelling the documentation uses in responses (``exchangeItemAggregated``)."""
    return value[:1].lower() + value[1:]


# --------------------------------------------------------------------------- per-tenant plans


@dataclass(frozen=True)
class OperationPlan:
    """Which users produce one operation: ``selected`` users spread evenly over eligible ranges."""

    name: str
    spec: OperationSpec
    ranges: tuple[tuple[int, int], ...]
    offsets: tuple[int, ...]
    eligible: int
    selected: int
    weights: tuple[int, ...]

    @property
    def camel_type(self) -> str:
        return camel(self.spec.record_type)

    def user_index(self, k: int) -> int:
        """Tenant index of the k-th producing user (0 ≤ k < selected)."""
        position = k * self.eligible // self.selected
        r = bisect.bisect_right(self.offsets, position) - 1
        return self.ranges[r][0] + position - self.offsets[r]

    def user_indices(self) -> Iterator[int]:
        return (self.user_index(k) for k in range(self.selected))

    def per_day(self) -> int:
        """Records per day by users."""
        return self.selected * self.spec.per_user_per_day

    def all_per_day(self) -> int:
        """Records per day, users' and other actors'."""
        return self.per_day() + self.spec.other_actors_per_day

    def app_id(self, r: int) -> str | None:
        app = self.app(r)
        return app.app_id if app is not None else None

    def app(self, r: int) -> AppIdWeight | None:
        if not self.weights:
            return None
        slot = (r * _MULTIPLIER) % self.weights[-1]
        return self.spec.app_ids[bisect.bisect_right(self.weights, slot)]


@dataclass(frozen=True)
class TenantAuditLog:
    tenant: SandboxTenant
    spec: AuditLogSpec
    plans: dict[str, OperationPlan]

    def plan(self, operation: str) -> OperationPlan | None:
        return self.plans.get(operation.lower())


def audit_log_of(tenant: SandboxTenant) -> TenantAuditLog:
    """The tenant's parsed ``audit_log:`` spec with per-operation user plans (the server keeps one
    per served tenant: :func:`_log`)."""
    try:
        spec = AuditLogSpec.model_validate(tenant.extensions.get("audit_log") or {})
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SpecError(f"{tenant.name}: audit_log.{where}: {first['msg']}") from None
    plans = {name.lower(): _plan(tenant, name, op) for name, op in spec.operations.items()}
    return TenantAuditLog(tenant, spec, plans)


def _in_scope_segments(tenant: SandboxTenant) -> list[tuple[str, int, int]]:
    """(segment name, start, stop) of segments whose users are in scope (enabled members with a mailbox)."""
    mailbox = load_knowledge().mailbox_plan_ids
    out = []
    for seg in tenant.segments:
        has_mailbox = any(
            p["servicePlanId"].lower() in mailbox and p["capabilityStatus"] in ("Enabled", "Warning")
            for p in seg.assigned_plans
        )
        if seg.spec.enabled and seg.spec.type == "Member" and has_mailbox and seg.spec.count:
            out.append((seg.spec.name, seg.start, seg.stop))
    return out


def _plan(tenant: SandboxTenant, name: str, op: OperationSpec) -> OperationPlan:
    known = {s.spec.name for s in tenant.segments}
    unknown = [s for s in op.segments if s not in known]
    if unknown:
        raise SpecError(f"{tenant.name}: audit_log.operations.{name}: unknown segment(s) {', '.join(unknown)}")
    for intrusion in op.intrusions:
        for ref in intrusion.users:
            tenant.resolve_ref(ref)  # a SpecError naming the reference, now rather than on a request
    ranges = tuple(
        (start, stop) for seg, start, stop in _in_scope_segments(tenant) if not op.segments or seg in op.segments
    )
    offsets, total = [], 0
    for start, stop in ranges:
        offsets.append(total)
        total += stop - start
    weights, running = [], 0
    for app in op.app_ids:
        running += app.weight
        weights.append(running)
    selected = int(total * op.users) if op.per_user_per_day else 0
    return OperationPlan(name, op, ranges, tuple(offsets), total, selected, tuple(weights))


def expected_users(tenant: SandboxTenant, operation: str) -> int:
    """How many distinct users produce ``operation`` in any window (0 when the log lacks it)."""
    plan = audit_log_of(tenant).plan(operation)
    return plan.selected if plan else 0


def with_audit_log(tenant: str | SandboxTenant, users: int | None = None, **overrides: object) -> SandboxTenant:
    """A tenant (bundled name or generated) with its ``audit_log:`` keys replaced by ``overrides``.

    For tests and benchmarks: ``with_audit_log("contoso", query_seconds=0.2, page_size=50)``.
    """
    spec = load_spec(tenant) if isinstance(tenant, str) else tenant.spec
    if users is not None:
        spec = rescale(spec, users)
    declared = spec.extensions.get("audit_log") or {}
    if not isinstance(declared, Mapping):
        raise SpecError(f"{spec.name}: audit_log: a mapping is expected")
    current = dict(declared)
    extensions = {**spec.extensions, "audit_log": {**current, **overrides}}
    generated = SandboxTenant(spec.model_copy(update={"extensions": extensions}))
    audit_log_of(generated)  # validate now, not on the first request
    return generated


# --------------------------------------------------------------------------- stored queries


@dataclass(frozen=True)
class Slice:
    """One operation's records inside a query: global indices [offset, offset + count)."""

    plan: OperationPlan
    offset: int
    count: int
    intrusion: IntrusionSpec | None = None  # records of one intrusion instead of the plan's users
    first_day: int = 0  # the window day its records start on (intrusions: the recent days only)


@dataclass
class StoredQuery:
    id: str
    tenant_id: str
    created: float
    body: JsonObject  # the auditLogQuery as posted, less its @odata annotations
    start: datetime
    end: datetime
    days: int
    slices: list[Slice]
    total: int
    limit_exceeded: bool
    query_seconds: float
    final_status: FinalStatus
    page_size: int
    offsets: list[int] = field(default_factory=list)

    id_suffix: str = ""
    start_epoch: int = 0
    day_span: float = 0.0

    def __post_init__(self) -> None:
        self.offsets = [s.offset for s in self.slices]
        self.id_suffix = uuid.UUID(self.id).hex[:12]
        self.start_epoch = int(self.start.timestamp())
        self.day_span = min(DAY, self.end - self.start).total_seconds()

    def status(self, now: float | None = None) -> str:
        elapsed = (time.monotonic() if now is None else now) - self.created
        if elapsed >= self.query_seconds:
            return self.final_status
        return "notStarted" if elapsed < self.query_seconds / 10 else "running"


class QueryStore:
    """The audit queries created in one tenant on one server (the oldest go beyond MAX_QUERIES)."""

    def __init__(self) -> None:
        self._queries: dict[str, StoredQuery] = {}
        self._lock = threading.Lock()

    def add(self, query: StoredQuery) -> None:
        with self._lock:
            if len(self._queries) >= MAX_QUERIES:
                del self._queries[next(iter(self._queries))]
            self._queries[query.id] = query

    def get(self, query_id: str) -> StoredQuery | None:
        with self._lock:
            return self._queries.get(query_id.lower())

    def all(self) -> list[StoredQuery]:
        with self._lock:
            return list(self._queries.values())


def _query_store(_tenant: SandboxTenant) -> QueryStore:
    return QueryStore()


def _queries(request: SandboxRequest) -> QueryStore:
    """The stored queries of the request's tenant on the server that serves it."""
    return request.tenant.local(_query_store)


def _log(request: SandboxRequest) -> TenantAuditLog:
    """The request's tenant's audit log, built once per served tenant."""
    return request.tenant.local(audit_log_of)


def _stored(request: SandboxRequest, query_id: str) -> StoredQuery:
    query = _queries(request).get(query_id)
    if query is None or query.tenant_id != request.tenant.tenant.id:
        raise QueryError("ResourceNotFound", f"Audit log query '{query_id}' was not found.", 404)
    return query


# --------------------------------------------------------------------------- request parsing


def _parse_time(body: Mapping[str, JsonValue], key: str, default: datetime) -> datetime:
    raw = body.get(key)
    if raw is None:
        return default
    if not isinstance(raw, str):
        raise QueryError("BadRequest", f"'{key}' must be a DateTimeOffset string.")
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError("BadRequest", f"Cannot convert '{raw}' to DateTimeOffset for '{key}'.") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _string_list(body: Mapping[str, JsonValue], key: str) -> list[str]:
    raw = body.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise QueryError("BadRequest", f"'{key}' must be a collection of strings.")
    strings = [v for v in raw if isinstance(v, str)]
    if len(strings) != len(raw):
        raise QueryError("BadRequest", f"'{key}' must be a collection of strings.")
    return strings


def _record_type_filters(body: Mapping[str, JsonValue]) -> list[str]:
    """The requested record types in PascalCase, in request order (either spelling accepted)."""
    out: dict[str, None] = {}
    for value in _string_list(body, "recordTypeFilters"):
        canonical = canonical_record_type(value)
        if canonical is None:
            raise QueryError(
                "BadRequest",
                f"Requested value '{value}' was not found in enum 'microsoft.graph.security.auditLogRecordType'.",
            )
        out[canonical] = None
    return list(out)


def _selected_plans(log: TenantAuditLog, body: Mapping[str, JsonValue]) -> list[OperationPlan]:
    for key in UNEMULATED_FILTERS:
        if body.get(key):
            raise QueryError("BadRequest", f"The sandbox does not emulate '{key}'; leave it empty.")
    operations = [o.lower() for o in _string_list(body, "operationFilters")]
    services = {s.lower() for s in _string_list(body, "serviceFilters")}
    service = body.get("serviceFilter")
    if isinstance(service, str):
        services.add(service.lower())
    record_types = _record_type_filters(body)
    names = operations or list(log.plans)
    plans = []
    for name in dict.fromkeys(names):
        plan = log.plans.get(name)
        if plan is None:
            continue
        if record_types and plan.spec.record_type not in record_types:
            continue
        if services and plan.spec.service.lower() not in services:
            continue
        plans.append(plan)
    return plans


def _window_days(log: TenantAuditLog, start: datetime, end: datetime) -> int:
    if end <= start:
        raise QueryError("BadRequest", "filterEndDateTime must be later than filterStartDateTime.")
    seconds = (end - start).total_seconds()
    return max(1, min(round(seconds / DAY.total_seconds()), log.spec.retention_days))


def _new_query(request: SandboxRequest, body: Mapping[str, JsonValue]) -> StoredQuery:
    log = _log(request)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    end = _parse_time(body, "filterEndDateTime", now)
    start = _parse_time(body, "filterStartDateTime", end - DAY)
    days = _window_days(log, start, end)
    slices, offset = [], 0
    plans = _selected_plans(log, body)
    final = next((p.spec.final_status for p in plans if p.spec.final_status is not None), log.spec.final_status)
    for plan in plans:
        count = days * plan.all_per_day()
        slices.append(Slice(plan, offset, count))
        offset += count
        for intrusion in plan.spec.intrusions:
            recent = min(days, intrusion.recent_days)
            count = recent * len(intrusion.users) * intrusion.per_user_per_day
            slices.append(Slice(plan, offset, count, intrusion, days - recent))
            offset += count
    limit = log.spec.record_count_limit
    total = offset if limit is None else min(offset, limit)
    echo = {k: v for k, v in body.items() if not k.startswith("@")}
    return StoredQuery(
        str(uuid.uuid4()),
        request.tenant.tenant.id,
        time.monotonic(),
        echo,
        start,
        end,
        days,
        slices,
        total,
        limit is not None and offset > limit,
        log.spec.query_seconds,
        final,
        log.spec.page_size,
    )


# --------------------------------------------------------------------------- representations


def _stamp(epoch_seconds: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` (UTC) for an epoch second, without building a datetime."""
    t = time.gmtime(epoch_seconds)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _query_json(request: SandboxRequest, query: StoredQuery) -> JsonMap:
    status = query.status()
    done = status == "succeeded"
    body = query.body
    return {
        "@odata.context": f"{request.base_url}/$metadata#security/auditLog/queries/$entity",
        "id": query.id,
        "displayName": body.get("displayName"),
        "filterStartDateTime": _iso(query.start),
        "filterEndDateTime": _iso(query.end),
        "recordTypeFilters": [camel(t) for t in _record_type_filters(body)],
        "keywordFilter": body.get("keywordFilter"),
        "serviceFilters": body.get("serviceFilters") or [],
        "operationFilters": body.get("operationFilters") or [],
        "userPrincipalNameFilters": [],
        "ipAddressFilters": [],
        "objectIdFilters": [],
        "administrativeUnitIdFilters": [],
        "status": status,
        "isRecordCountLimitExceeded": query.limit_exceeded if done else None,
        "approximateReturnedRecordCount": query.total if done else None,
    }


def _puid(tenant_id: str, user_index: int) -> str:
    """A stable 16-hex-digit PUID for a user (the classic ``UserKey``; the record's ``userId``)."""
    return f"1003{(hash_int(tenant_id) + user_index * 7919) % 16**12:012X}"


def hash_int(text: str) -> int:
    return int(uuid.uuid5(uuid.NAMESPACE_URL, text).hex[:12], 16)


# Non-user actors as real records name them: (userPrincipalName, userId, userType, classic UserType)
def _other_actor(tenant: SandboxTenant, j: int) -> tuple[str, str, str, int]:
    kind = j % 3
    if kind == 0:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant.id}/app/{j % 4}")), "__NULL__", "Application", 5
    if kind == 1:
        return "Not Available", str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant.id}/sys/{j % 2}")), "System", 4
    return "system release", "__NULL__", "System", 4


def _record(tenant: SandboxTenant, query: StoredQuery, index: int, users: dict[int, str]) -> JsonMap:
    """Record ``index`` of a query, computed from the index alone."""
    position = bisect.bisect_right(query.offsets, index) - 1
    piece = query.slices[position]
    if piece.intrusion is not None:
        return _intrusion_record(tenant, query, index, position, piece)
    plan, r = piece.plan, index - piece.offset
    per_day, all_per_day = plan.per_day(), plan.all_per_day()
    day, within = divmod(r, all_per_day)
    seconds = query.start_epoch + day * 86_400 + int(query.day_span * within / all_per_day)
    stamp = _stamp(seconds)
    record_id = f"{index:08x}-{position:04x}-4{day % 0x1000:03x}-8{within % 0x1000:03x}-{query.id_suffix}"
    audit_data: dict[str, Json] = {
        "@odata.type": "#microsoft.graph.security.defaultAuditData",
        "CreationTime": stamp,
        "Id": record_id,
        "Operation": plan.name,
        "OrganizationId": tenant.id,
        "ResultStatus": "Succeeded",
        "Workload": plan.spec.service,
        "Version@odata.type": "#Int64",
        "Version": 1,
    }
    if within >= per_day:  # a record by a non-user actor
        principal, user_id, user_type, classic_type = _other_actor(tenant, within - per_day)
        audit_data.update({"UserId": principal, "UserKey": user_id, "UserType@odata.type": "#Int64"})
        audit_data["UserType"] = classic_type
        client_ip = None
    else:
        k = within // plan.spec.per_user_per_day
        user_index = plan.user_index(k)
        upn = users.get(user_index)
        if upn is None:
            upn = users[user_index] = tenant.user(user_index)["userPrincipalName"]
        principal, user_id, user_type = upn, _puid(tenant.id, user_index), "Regular"
        audit_data.update(
            {"UserId": upn, "UserKey": user_id, "UserType@odata.type": "#Int64", "UserType": 0, "MailboxOwnerUPN": upn}
        )
        client_ip = f"203.0.113.{user_index % 254 + 1}"
        app = plan.app(r)
        if app is not None:
            audit_data["AppId"] = app.app_id
            audit_data["ClientAppId"] = app.client_app_id or app.app_id
            if app.access == "app_only":  # no signed-in user: the service principal acts
                principal, user_id, user_type = app.app_id, "__NULL__", "ServicePrincipal"
                audit_data.update({"UserId": principal, "UserKey": user_id, "UserType": 6})
    if plan.spec.service != "Exchange":
        audit_data.pop("MailboxOwnerUPN", None)
    return {
        "id": record_id,
        "createdDateTime": stamp + "Z",
        "auditLogRecordType": plan.spec.record_type,
        "operation": plan.name,
        "organizationId": tenant.id,
        "userType": user_type,
        "userId": user_id,
        "service": plan.spec.service,
        "objectId": None,
        "userPrincipalName": principal,
        "clientIp": client_ip,
        "administrativeUnits": [],
        "auditData": audit_data,
    }


def _intrusion_record(tenant: SandboxTenant, query: StoredQuery, index: int, position: int, piece: Slice) -> JsonMap:
    """Record ``index`` of an intrusion slice: its app reads the named mailboxes in the recent days only."""
    intrusion = piece.intrusion
    assert intrusion is not None
    r = index - piece.offset
    per_day = len(intrusion.users) * intrusion.per_user_per_day
    day, within = divmod(r, per_day)
    target = tenant.user_by_id(tenant.resolve_ref(intrusion.users[within // intrusion.per_user_per_day]))
    upn = target["userPrincipalName"] if target else "unknown@invalid"
    seconds = query.start_epoch + (piece.first_day + day) * 86_400 + int(query.day_span * within / per_day)
    stamp = _stamp(seconds)
    app_only = intrusion.access == "app_only"
    actor = intrusion.app_id if app_only else upn
    audit_data: dict[str, Json] = {
        "@odata.type": "#microsoft.graph.security.defaultAuditData",
        "CreationTime": stamp,
        "Operation": piece.plan.name,
        "UserId": actor,
        "MailboxOwnerUPN": upn,
        "ResultStatus": "Succeeded",
        "Workload": piece.plan.spec.service,
        "AppId": intrusion.app_id,
        "ClientAppId": intrusion.client_app_id or intrusion.app_id,
    }
    return {
        "id": f"{index:08x}-{position:04x}-4{day % 0x1000:03x}-8{within % 0x1000:03x}-{query.id_suffix}",
        "createdDateTime": stamp + "Z",
        "auditLogRecordType": piece.plan.camel_type,
        "operation": piece.plan.name,
        "organizationId": tenant.id,
        "userType": "servicePrincipal" if app_only else "regular",
        "userId": actor,
        "service": piece.plan.spec.service,
        "objectId": None,
        "userPrincipalName": actor,
        "clientIp": "198.51.100.23",
        "administrativeUnits": [],
        "auditData": audit_data,
    }


# --------------------------------------------------------------------------- handlers


def _global_only(request: SandboxRequest) -> None:
    if request.tenant.tenant.cloud != "global":
        raise QueryError("BadRequest", "Resource not found for the segment 'security'.", 400)
    if request.base_url.endswith("/v1.0") and _log(request).spec.api == "beta":
        raise QueryError("UnknownError", "", 404)  # as seen from real tenants where only beta serves it


def _create(request: SandboxRequest, _m: re.Match[str]) -> SandboxResponse:
    _global_only(request)
    body = request.json()
    if not isinstance(body, dict):
        raise QueryError("BadRequest", "The request body must be a JSON object (an auditLogQuery).")
    query = _new_query(request, body)
    _queries(request).add(query)
    return SandboxResponse.json(_query_json(request, query), 201)


def _list(request: SandboxRequest, _m: re.Match[str]) -> SandboxResponse:
    _global_only(request)
    mine = [q for q in _queries(request).all() if q.tenant_id == request.tenant.tenant.id]
    return SandboxResponse.json(
        {
            "@odata.context": f"{request.base_url}/$metadata#security/auditLog/queries",
            "value": [_query_json(request, q) for q in mine],
        }
    )


def _get(request: SandboxRequest, m: re.Match[str]) -> SandboxResponse:
    _global_only(request)
    return SandboxResponse.json(_query_json(request, _stored(request, m["id"])))


def _page_size(request: SandboxRequest, query: StoredQuery) -> int:
    raw = request.query.get("$top")
    if raw is None:
        return query.page_size
    if not raw.isdigit() or int(raw) < 1:
        raise QueryError("BadRequest", f"Invalid page size specified: '{raw}'.")
    return min(int(raw), query.page_size)


def _next_link(request: SandboxRequest, query_id: str, token: str) -> str:
    params = [(k, v) for k, v in request.query.items() if k != "$skiptoken"] + [("$skiptoken", token)]
    text = "&".join(f"{quote(k, safe='$')}={quote(v, safe='')}" for k, v in params)
    return f"{request.base_url}/security/auditLog/queries/{query_id}/records?{text}"


def _records(request: SandboxRequest, m: re.Match[str]) -> SandboxResponse:
    _global_only(request)
    query = _stored(request, m["id"])
    status = query.status()
    if status != "succeeded":
        raise QueryError(
            "BadRequest",
            f"The audit log query has not succeeded (status '{status}'); records are available once it has.",
        )
    token = request.query.get("$skiptoken")
    start = decode_skiptoken(request.tenant.tenant, token, query.id) if token else 0
    stop = min(start + _page_size(request, query), query.total)
    users: dict[int, str] = {}
    tenant = request.tenant.tenant
    page: dict[str, Json] = {
        "@odata.context": f"{request.base_url}/$metadata#security/auditLog/queries('{query.id}')/records",
        "value": [_record(tenant, query, i, users) for i in range(start, stop)],
    }
    if stop < query.total:
        next_token = encode_skiptoken(tenant, stop, query.id)
        page["@odata.nextLink"] = _next_link(request, query.id, next_token)
    return SandboxResponse.json(page)


ROUTES: tuple[graph.Route, ...] = (
    graph.route("POST", r"/security/auditLog/queries", _create),
    graph.route("GET", r"/security/auditLog/queries", _list),
    graph.route("GET", r"/security/auditLog/queries/(?P<id>[^/]+)", _get),
    graph.route("GET", r"/security/auditLog/queries/(?P<id>[^/]+)/records", _records),
)
"""The audit search routes (served by :class:`assessor.sandbox.graph.GraphApi`, on v1.0 and beta)."""

__all__ = [
    "ROUTES",
    "AuditLogSpec",
    "OperationSpec",
    "QueryStore",
    "audit_log_of",
    "canonical_record_type",
    "expected_users",
    "with_audit_log",
]
