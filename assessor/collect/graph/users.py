"""User figures: summary mode (`$count` queries in one `$batch`) and detail mode (streamed pages).

Definitions (ARCHITECTURE.md): *in scope* = enabled member with an enabled Exchange Online plan
through an Enabled/Warning SKU, the plan not in ``disabledPlans``; *Premium* = the same for
M365_ADVANCED_AUDITING; *ten-year* = Premium plus the 10-year retention plan.

- Summary mode asks Graph to count: ``assignedPlans/any(a:a/servicePlanId eq <plan> and
  (a/capabilityStatus eq 'Enabled' or a/capabilityStatus eq 'Warning'))`` over the knowledge
  base's plan ids (the same Enabled/Warning rule as detail mode). Six counts, one
  `$batch` (or six concurrent SDK calls), so round trips do not grow with the tenant. A seventh
  count, sent once ``subscribedSkus`` has answered (alongside the role-holder lookups, so no extra
  round), gives the in-scope users with the expanded Standard events: those assigned one of the
  tenant's usable E3/G3- or E5-level SKUs (``assignedLicenses/any(x:x/skuId eq <sku>)``), the
  rule detail mode applies per user.
- Detail mode enumerates ``/users?$select=…&$top=999`` and classifies each user from
  ``assignedLicenses`` and the tenant's ``subscribedSkus``, aggregating while streaming; an
  optional per-user gap list goes to disk (JSON Lines, or CSV by extension).

A count that failed is None; a page chain that broke off yields no counts at all.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Literal
from urllib.parse import quote

from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from msgraph.generated.users.users_request_builder import UsersRequestBuilder

from assessor.collect.graph.batch import BatchRequest, BatchResult, send_batch
from assessor.collect.graph.client import GraphConnection, send_bytes
from assessor.collect.graph.outcome import (
    GRAPH_ERRORS,
    Collected,
    GraphFailure,
    NotCollected,
    failure_from,
    not_collected_from,
)
from assessor.collect.graph.paging import LinkGuard, json_values
from assessor.collect.join import LicenceLevel, UserDirectory
from assessor.csvsafe import neutralise
from assessor.evidence import AssignedLicense, SubscribedSku, UserCounts, UserRecord, Users
from assessor.jsontypes import WireObject
from assessor.knowledge import Knowledge, load_knowledge
from assessor.knowledge.plans import PlanIndex, expanded_level, is_enabled_member
from assessor.vocabulary import EvidenceUsersMode

PERMISSION = "User.Read.All"
COUNT_ENDPOINT = "GET /users/$count"
LIST_ENDPOINT = "GET /users"
USER_SELECT = ("id", "userPrincipalName", "displayName", "accountEnabled", "userType", "assignedLicenses")
PAGE_SIZE = 999
SEND_TICKS = 8
EVENTUAL = {"ConsistencyLevel": "eventual"}
CountVia = Literal["batch", "parallel"]


# --------------------------------------------------------------------------- records


def _get(obj: object, json_key: str, attr: str) -> object:
    return obj.get(json_key) if isinstance(obj, Mapping) else getattr(obj, attr, None)


def _guid(value: object) -> str:
    return str(value).lower()


def _items(value: object) -> Iterable[object]:
    """A JSON array's items; anything else raises the TypeError iterating it would."""
    if not isinstance(value, Iterable):
        raise TypeError(f"'{type(value).__name__}' object is not iterable")
    return value


def user_record(obj: object) -> UserRecord:
    """A `UserRecord` from an SDK `User` model or a Graph JSON dict."""
    licences = _items(_get(obj, "assignedLicenses", "assigned_licenses") or [])
    return UserRecord(
        id=str(_get(obj, "id", "id")),
        user_principal_name=_get(obj, "userPrincipalName", "user_principal_name"),
        display_name=_get(obj, "displayName", "display_name"),
        account_enabled=_get(obj, "accountEnabled", "account_enabled"),
        user_type=_get(obj, "userType", "user_type"),
        assigned_licenses=[
            AssignedLicense(
                sku_id=_guid(_get(lic, "skuId", "sku_id")),
                disabled_plans=[_guid(p) for p in _items(_get(lic, "disabledPlans", "disabled_plans") or [])],
            )
            for lic in licences
        ],
    )


# --------------------------------------------------------------------------- filters


# One rule in both modes (README "Definitions"): a plan counts while its subscription is Enabled or
# in its grace period (Warning) — the summary's assignedPlans filter and the detail mode's
# subscribedSkus states (assessor.engine.licensing.USABLE_SKU_STATES) say the same.
USABLE_PLAN = "(a/capabilityStatus eq 'Enabled' or a/capabilityStatus eq 'Warning')"


def any_enabled_plan(plan_ids: Iterable[str]) -> str:
    clauses = [f"assignedPlans/any(a:a/servicePlanId eq {pid} and {USABLE_PLAN})" for pid in sorted(plan_ids)]
    return clauses[0] if len(clauses) == 1 else "(" + " or ".join(clauses) + ")"


def any_assigned_sku(sku_ids: Iterable[str]) -> str:
    clauses = [f"assignedLicenses/any(x:x/skuId eq {sid})" for sid in sorted(sku_ids)]
    return clauses[0] if len(clauses) == 1 else "(" + " or ".join(clauses) + ")"


ENABLED_MEMBER = "accountEnabled eq true and userType eq 'Member'"


def count_filters(kb: Knowledge) -> dict[str, str | None]:
    """The `$filter` behind each `UserCounts` field (None = all users)."""
    in_scope = f"{ENABLED_MEMBER} and {any_enabled_plan(kb.mailbox_plan_ids)}"
    premium = f"{in_scope} and {any_enabled_plan(kb.premium_plan_ids)}"
    return {
        "total": None,
        "enabled_members": ENABLED_MEMBER,
        "guests": "userType eq 'Guest'",
        "in_scope": in_scope,
        "in_scope_premium": premium,
        "in_scope_premium_ten_year": f"{premium} and {any_enabled_plan(kb.ten_year_plan_ids)}",
    }


def expanded_level_skus(skus: Iterable[SubscribedSku], kb: Knowledge) -> list[str]:
    """The tenant's usable SKUs whose users get the expanded Standard events (E3/G3 level by SKU id,
    or E5 level: an SKU carrying the Premium plan) — `knowledge.plans.expanded_level` over every SKU."""
    index = PlanIndex(list(skus))
    return sorted(
        sku for sku in index.plans_by_sku if expanded_level(sku, index, kb.expanded_event_sku_ids, kb.premium_plan_ids)
    )


def expanded_count_filter(skus: Iterable[SubscribedSku], kb: Knowledge) -> str | None:
    """The `$filter` counting in-scope users with the expanded events; None when the tenant holds no
    usable SKU that carries them (the count is then 0 without asking)."""
    carrying = expanded_level_skus(skus, kb)
    if not carrying:
        return None
    return f"{count_filters(kb)['in_scope']} and {any_assigned_sku(carrying)}"


# --------------------------------------------------------------------------- summary mode


@lru_cache(maxsize=64)  # the same few filters for every tenant of a run
def _count_url(flt: str | None) -> str:
    return "/users/$count" if flt is None else f"/users/$count?$filter={quote(flt, safe='')}"


def _parse_count(text: str, endpoint: str) -> int:
    value = text.strip().lstrip("\ufeff")
    if not value.isdigit():
        raise GraphFailure(endpoint, 200, None, f"count is not a number: {value[:40]!r}", "protocol")
    return int(value)


async def _counts_by_batch(conn: GraphConnection, filters: dict[str, str | None]) -> dict[str, int | GraphFailure]:
    requests = [BatchRequest(name, _count_url(flt), EVENTUAL) for name, flt in filters.items()]
    answers = await send_batch(conn, requests)
    out: dict[str, int | GraphFailure] = {}
    for name in filters:
        res = answers[name]
        endpoint = f"{COUNT_ENDPOINT} ({name})"
        try:
            out[name] = _parse_count(res.text(), endpoint) if res.ok else res.error(endpoint)
        except GraphFailure as failure:
            out[name] = failure
    return out


async def _one_count(conn: GraphConnection, name: str, flt: str | None) -> int | GraphFailure:
    """One `$count` on its own, through the SDK's adapter with the URL built here: the SDK's URL
    template would expand a long ``$filter`` character by character on every read of the URL."""
    endpoint = f"{COUNT_ENDPOINT} ({name})"
    info = RequestInformation(Method.GET, "{+baseurl}", {})
    info.url = str(conn.adapter.base_url).rstrip("/") + _count_url(flt)
    info.headers.try_add("ConsistencyLevel", "eventual")
    info.headers.try_add("Accept", "text/plain")
    try:
        raw = await send_bytes(conn.adapter, info)
    except GRAPH_ERRORS as exc:
        return failure_from(exc, endpoint, conn.settings.request_timeout)
    if not raw:
        return GraphFailure(endpoint, 200, None, "empty count", "protocol")
    try:
        return _parse_count(raw.decode("utf-8", "replace"), endpoint)
    except GraphFailure as failure:
        return failure


async def _counts_in_parallel(conn: GraphConnection, filters: dict[str, str | None]) -> dict[str, int | GraphFailure]:
    values = await asyncio.gather(*(_one_count(conn, n, f) for n, f in filters.items()))
    return dict(zip(filters, values, strict=True))


CountResults = dict[str, int | GraphFailure]


def count_source(via: CountVia) -> str:
    return f"{COUNT_ENDPOINT}?$filter=… (ConsistencyLevel: eventual" + (", in $batch)" if via == "batch" else ")")


@dataclass
class CountRun:
    results: CountResults
    via: CountVia


async def count_users(conn: GraphConnection, via: CountVia = "batch", kb: Knowledge | None = None) -> CountRun:
    """Every `UserCounts` figure by its `$count` query: the number, or the failure of that query."""
    filters = count_filters(kb or load_knowledge())
    if via == "parallel":
        return CountRun(await _counts_in_parallel(conn, filters), via)
    try:
        return CountRun(await _counts_by_batch(conn, filters), via)
    except GRAPH_ERRORS as exc:
        failure = failure_from(exc, "POST /$batch", conn.settings.request_timeout)
        return CountRun(dict.fromkeys(filters, failure), via)


def refused_counts(results: CountResults) -> dict[str, GraphFailure]:
    """The count queries the service refused as a query (400: an unsupported filter, or `$count`
    not supported at all) — as opposed to a missing permission, a throttle or an outage."""
    return {n: r for n, r in results.items() if isinstance(r, GraphFailure) and r.status == 400}


def counts_outcome(run: CountRun) -> Collected[Users] | NotCollected:
    results, source = run.results, count_source(run.via)
    failures = {n: r for n, r in results.items() if isinstance(r, GraphFailure)}
    if len(failures) == len(results):
        worst = next((f for f in failures.values() if f.forbidden), next(iter(failures.values())))
        return not_collected_from(worst, PERMISSION, source)
    counts = UserCounts(**{n: (None if isinstance(r, GraphFailure) else r) for n, r in results.items()})
    notes = tuple(f"user count {n} unknown: {f.describe()}" for n, f in failures.items())
    return Collected(Users(mode=EvidenceUsersMode.SUMMARY, counts=counts), source, notes)


ExpandedCount = int | GraphFailure | str  # the count, the failed query, or why it was not asked


async def count_expanded(
    conn: GraphConnection, skus: list[SubscribedSku] | None, via: CountVia = "batch", kb: Knowledge | None = None
) -> ExpandedCount:
    """Summary mode's count of in-scope users with the expanded Standard events (see the module doc)."""
    if skus is None:
        return "subscribedSkus unavailable: which subscriptions carry the expanded events is not known"
    flt = expanded_count_filter(skus, kb or load_knowledge())
    if flt is None:
        return 0
    if via == "parallel":
        return await _one_count(conn, "in_scope_expanded", flt)
    try:
        return (await _counts_by_batch(conn, {"in_scope_expanded": flt}))["in_scope_expanded"]
    except GRAPH_ERRORS as exc:
        return failure_from(exc, "POST /$batch", conn.settings.request_timeout)


def with_expanded_count(outcome: Collected[Users], expanded: ExpandedCount) -> Collected[Users]:
    """The summary counts with the expanded-events count added where it is whole and consistent."""
    counts = outcome.data.counts
    note: str | None = None
    if isinstance(expanded, GraphFailure):
        note = f"user count in_scope_expanded unknown: {expanded.describe()}"
    elif isinstance(expanded, str):
        note = f"user count in_scope_expanded unknown: {expanded}"
    elif (counts.in_scope is not None and expanded > counts.in_scope) or (
        counts.in_scope_premium is not None and expanded < counts.in_scope_premium
    ):  # eventual consistency between the counts
        note = "user count in_scope_expanded unknown: it fell outside the in-scope and Premium counts"
    else:
        data = outcome.data.model_copy(update={"counts": counts.model_copy(update={"in_scope_expanded": expanded})})
        return Collected(data, f"{outcome.source or COUNT_ENDPOINT} + in_scope_expanded", outcome.notes)
    return Collected(outcome.data, outcome.source, (*outcome.notes, note))


# --------------------------------------------------------------------------- detail mode


@dataclass(frozen=True)
class Coverage:
    in_scope: bool
    premium: bool
    ten_year: bool
    expanded: bool = False  # the expanded Standard events (E3/G3 or E5 level): see engine.licensing


class Classifier:
    """Classifies users as the engine does (`assessor.engine.licensing`: same plan index, same
    definition of an enabled member), cached per distinct licence set for streaming speed."""

    def __init__(self, skus: Iterable[SubscribedSku], kb: Knowledge) -> None:
        self._index = PlanIndex(list(skus))
        self._mailbox = kb.mailbox_plan_ids
        self._premium = kb.premium_plan_ids
        self._ten_year = kb.ten_year_plan_ids
        self._expanded = kb.expanded_event_sku_ids
        self._cache: dict[tuple[tuple[str, tuple[str, ...]], ...], tuple[bool, bool, bool, bool]] = {}

    def level(self, user: UserRecord) -> LicenceLevel:
        """The user's audit licence level, whatever the account's state (a mailbox's defaults follow
        its user's licences): premium (an enabled Premium plan), expanded (E3/G3 or E5 level), basic."""
        flags = self._flags(user)
        return "premium" if flags[1] else "expanded" if flags[3] else "basic"

    def _flags(self, user: UserRecord) -> tuple[bool, bool, bool, bool]:
        key = tuple(sorted((lic.sku_id, tuple(sorted(lic.disabled_plans))) for lic in user.assigned_licenses))
        flags = self._cache.get(key)
        if flags is None:
            plans = self._index.enabled_plans(user)
            expanded = bool(plans & self._premium) or any(
                expanded_level(sku, self._index, self._expanded, self._premium) for sku in self._index.usable_skus(user)
            )
            flags = (bool(plans & self._mailbox), bool(plans & self._premium), bool(plans & self._ten_year), expanded)
            self._cache[key] = flags
        return flags

    def coverage(self, user: UserRecord) -> Coverage:
        flags = self._flags(user)
        in_scope = is_enabled_member(user) and flags[0]
        premium = in_scope and flags[1]
        return Coverage(in_scope, premium, premium and flags[2], in_scope and flags[3])


@dataclass
class Tally:
    total: int = 0
    enabled_members: int = 0
    guests: int = 0
    in_scope: int = 0
    in_scope_premium: int = 0
    in_scope_premium_ten_year: int = 0
    in_scope_expanded: int = 0

    def add(self, user: UserRecord, cov: Coverage) -> None:
        self.total += 1
        self.enabled_members += user.account_enabled is True and user.user_type == "Member"
        self.guests += user.user_type == "Guest"
        self.in_scope += cov.in_scope
        self.in_scope_premium += cov.premium
        self.in_scope_premium_ten_year += cov.ten_year
        self.in_scope_expanded += cov.expanded

    def counts(self) -> UserCounts:
        return UserCounts(**self.__dict__)


GAP_FIELDS = (
    "id",
    "userPrincipalName",
    "accountEnabled",
    "userType",
    "inScope",
    "premium",
    "tenYear",
    "privileged",
    "roles",
)


class GapListWriter:
    """Streams the per-user gap list to a temp file; :meth:`commit` renames it into place."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        self._tmp = Path(tmp)
        self._fh: IO[str] = os.fdopen(fd, "w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._fh) if path.suffix.lower() == ".csv" else None
        if self._csv is not None:
            self._csv.writerow(GAP_FIELDS)
        self.rows = 0

    def write(self, user: UserRecord, cov: Coverage, roles: list[str]) -> None:
        row = {
            "id": user.id,
            "userPrincipalName": user.user_principal_name,
            "accountEnabled": user.account_enabled,
            "userType": user.user_type,
            "inScope": cov.in_scope,
            "premium": cov.premium,
            "tenYear": cov.ten_year,
            "privileged": bool(roles),
            "roles": roles,
        }
        if self._csv is not None:
            cells = [";".join(roles) if k == "roles" else row[k] for k in GAP_FIELDS]
            self._csv.writerow([neutralise(c) if isinstance(c, str) else c for c in cells])
        else:
            self._fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.rows += 1

    def commit(self) -> None:
        self._fh.close()
        os.replace(self._tmp, self.path)

    def discard(self) -> None:
        self._fh.close()
        self._tmp.unlink(missing_ok=True)


def shortfall(server_count: int | None, enumerated: int) -> GraphFailure | None:
    """A stream that ended with fewer users than its @odata.count (beyond 0.1% drift) is incomplete."""
    if server_count is None or server_count - enumerated <= server_count // 1000:
        return None
    return GraphFailure(
        LIST_ENDPOINT,
        200,
        None,
        f"the page stream ended after {enumerated} users while @odata.count said {server_count}: a page was cut short",
        "protocol",
    )


@dataclass
class DetailInputs:
    skus: list[SubscribedSku] | None
    privileged_roles: dict[str, list[str]] = field(default_factory=dict)  # user id -> role names
    gap_list: Path | None = None
    in_scope_keys: set[str] | None = None  # filled with in-scope users' lower-cased UPNs (for the probe)
    in_scope_ids: dict[str, str] | None = None  # in-scope users' object id → lower-cased UPN (for the probe)
    directory: UserDirectory | None = None  # filled with every user's licence level (for the mailbox join)


UsersQuery = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters
UsersPage = Callable[[list[object]], None]  # what the detail collector does with one page's users


async def _get_page(
    conn: GraphConnection, builder: UsersRequestBuilder, config: RequestConfiguration[UsersQuery]
) -> WireObject:
    """One page through the SDK's request builder and middleware, decoded with the json module.

    The SDK's model deserialisation costs milliseconds per user (it builds every `User` field
    map); for tenants of a million users the page is decoded as plain JSON instead.
    """
    info = builder.to_get_request_information(request_configuration=config)
    raw = await send_bytes(conn.adapter, info)
    doc = json.loads(raw or b"{}")
    if not isinstance(doc, dict) or not isinstance(doc.get("value"), list):
        raise GraphFailure(LIST_ENDPOINT, 200, None, "a users page without a value array", "protocol")
    return doc


def _eventual_config(query: UsersQuery | None = None) -> RequestConfiguration[UsersQuery]:
    config: RequestConfiguration[UsersQuery] = RequestConfiguration(query_parameters=query)
    config.headers.add("ConsistencyLevel", "eventual")  # the SDK does not carry it to nextLink requests
    return config


async def _stream_pages(conn: GraphConnection, on_page: UsersPage) -> int | None:
    """Follow the page chain, calling ``on_page(users)``; returns the server's @odata.count.

    The next page is requested as soon as its link is known and the current page is aggregated
    while it is in flight, so client-side work overlaps the round trip. At most two pages
    are held at once: memory stays flat in the number of users.
    """
    params = UsersQuery(select=list(USER_SELECT), top=PAGE_SIZE, count=True)
    page = await _get_page(conn, conn.client.users, _eventual_config(params))
    server_count = page.get("@odata.count")
    while True:
        next_link = page.get("@odata.nextLink")
        if not next_link:
            on_page(json_values(page, LIST_ENDPOINT))
            break
        fetch = asyncio.create_task(_get_page(conn, conn.client.users.with_url(str(next_link)), _eventual_config()))
        try:
            for _ in range(SEND_TICKS):  # let the request reach the wire before the CPU-bound aggregation
                await asyncio.sleep(0)
            on_page(json_values(page, LIST_ENDPOINT))
        except BaseException:
            fetch.cancel()
            raise
        page = await fetch
    return int(server_count) if isinstance(server_count, int) else None


async def collect_user_details(
    conn: GraphConnection, inputs: DetailInputs, kb: Knowledge | None = None
) -> Collected[Users] | NotCollected:
    source = f"{LIST_ENDPOINT}?$select={','.join(USER_SELECT)}&$top={PAGE_SIZE} (all pages)"
    knowledge = kb or load_knowledge()
    classifier = Classifier(inputs.skus or [], knowledge) if inputs.skus is not None else None
    tally = Tally()
    writer = GapListWriter(inputs.gap_list) if inputs.gap_list is not None else None
    loop = LinkGuard(LIST_ENDPOINT)  # a stream that comes back to a page already read (by its first user id)
    directory = inputs.directory if classifier is not None else None

    def on_page(models: list[object]) -> None:
        loop.page(models)
        for model in models:
            user = user_record(model)
            cov = classifier.coverage(user) if classifier else Coverage(False, False, False)
            tally.add(user, cov)
            if directory is not None and classifier is not None:  # a directory is only kept with a classifier
                directory.add(user.id, classifier.level(user))
            if inputs.in_scope_keys is not None and cov.in_scope and user.user_principal_name:
                inputs.in_scope_keys.add(user.user_principal_name.lower())
                if inputs.in_scope_ids is not None:
                    inputs.in_scope_ids[user.id.lower()] = user.user_principal_name.lower()
            roles = inputs.privileged_roles.get(user.id.lower(), [])
            if writer is not None and ((cov.in_scope and not cov.premium) or roles):
                writer.write(user, cov, roles)

    try:
        server_count = await _stream_pages(conn, on_page)
    except asyncio.CancelledError:
        if writer is not None:
            writer.discard()
        raise
    except GRAPH_ERRORS as exc:
        if writer is not None:
            writer.discard()
        return not_collected_from(failure_from(exc, LIST_ENDPOINT, conn.settings.request_timeout), PERMISSION, source)
    short = shortfall(server_count, tally.total)
    if short is not None:
        if writer is not None:
            writer.discard()
        return NotCollected(short.describe(), None, source, short)
    notes: list[str] = []
    if server_count is not None and server_count != tally.total:
        notes.append(f"enumerated {tally.total} users while @odata.count said {server_count} (eventual consistency)")
    counts = tally.counts()
    if classifier is None:
        counts = counts.model_copy(
            update={
                "in_scope": None,
                "in_scope_premium": None,
                "in_scope_premium_ten_year": None,
                "in_scope_expanded": None,
            }
        )
        notes.append("subscribedSkus unavailable: in-scope and Premium counts cannot be computed in detail mode")
    if writer is not None:
        writer.commit()
    if directory is not None:
        directory.freeze()  # only a whole enumeration is used for the join
    users = Users(
        mode=EvidenceUsersMode.DETAIL, counts=counts, records_file=str(inputs.gap_list) if inputs.gap_list else None
    )
    return Collected(users, source, tuple(notes))


async def fetch_users(
    conn: GraphConnection, ids: Iterable[str]
) -> tuple[dict[str, UserRecord], dict[str, BatchResult]]:
    """`GET /users/{id-or-upn}` for each distinct id, in `$batch`es: the records found, and the
    failed answers by id (their status tells a missing user, 404, from a denied or failed read)."""
    unique = sorted({i.lower(): i for i in sorted(ids)}.values())  # user ids and UPNs are case-insensitive
    select = ",".join(USER_SELECT)
    requests = [BatchRequest(str(n), f"/users/{quote(uid, safe='@')}?$select={select}") for n, uid in enumerate(unique)]
    if not requests:
        return {}, {}
    answers = await send_batch(conn, requests)
    found: dict[str, UserRecord] = {}
    failed: dict[str, BatchResult] = {}
    for req, uid in zip(requests, unique, strict=True):
        res = answers[req.id]
        if res.ok and isinstance(res.body, dict):
            found[uid] = user_record(res.body)
        else:
            failed[uid] = res
    return found, failed
