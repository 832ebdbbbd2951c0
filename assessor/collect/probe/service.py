"""The Purview audit search API through msgraph-sdk (``/security/auditLog/queries``).

The API is documented on v1.0, but has been seen answering 404 ``UnknownError`` there in tenants
where ``/beta`` works (rknightion/graph2otel, live 2026-07-16; invictus-ir/Microsoft-Extractor-Suite
queries beta). :class:`AuditApi` asks v1.0 first; a 404 to creating a query switches to beta (same
request builders, beta URLs) for that query and every later one. Which version answered is kept
with each query and named in the evidence's provenance.

Create and poll use the SDK's typed request builders and models (``AuditLogQuery``). Record pages
are fetched through the same request builders and request adapter (auth, retry, telemetry
middleware) but read as raw JSON: the SDK's typed parse of ``auditLogRecord`` builds a model per
record with a discriminated ``auditData`` object, several times the cost of the aggregation
itself, and the probe needs only a few fields of each record.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TypeVar
from urllib.parse import urlsplit

import httpx
from azure.core.exceptions import AzureError
from kiota_abstractions.api_error import APIError
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.request_information import RequestInformation
from msgraph import GraphServiceClient
from msgraph.generated.models.security.audit_log_query import AuditLogQuery
from msgraph.generated.models.security.audit_log_query_status import AuditLogQueryStatus
from msgraph.generated.security.audit_log.queries.item.audit_log_query_item_request_builder import (
    AuditLogQueryItemRequestBuilder,
)
from msgraph.generated.security.audit_log.queries.item.records.records_request_builder import RecordsRequestBuilder
from msgraph.generated.security.audit_log.queries.queries_request_builder import QueriesRequestBuilder

from assessor.collect.graph.client import send_bytes
from assessor.collect.paging import PageGuard
from assessor.collect.probe.errors import ProbeError, ProbeForbidden, ProbeHttpError, QueryEnded
from assessor.jsontypes import WireObject

CREATE = "POST /security/auditLog/queries"
GET_QUERY = "GET /security/auditLog/queries/{id}"
GET_RECORDS = "GET /security/auditLog/queries/{id}/records"
TERMINAL_FAILURES = frozenset({"failed", "cancelled", "unknownFutureValue"})
T = TypeVar("T")


@dataclass(frozen=True)
class PollPolicy:
    """Back-off between status polls: ``initial`` seconds, times ``factor`` each poll, capped."""

    initial: float = 1.0
    factor: float = 1.25
    maximum: float = 5.0

    def delays(self) -> Iterator[float]:
        delay = self.initial
        while True:
            yield delay
            delay = min(delay * self.factor, self.maximum)


@dataclass(frozen=True)
class QueryRequest:
    operations: tuple[str, ...]
    start: datetime
    end: datetime
    services: tuple[str, ...] = ()  # serviceFilters: the workloads (Exchange, SharePoint …) to narrow to
    display_name: str | None = None


@dataclass(frozen=True)
class QueryState:
    id: str
    status: str
    record_count_limit_exceeded: bool | None
    version: str = "v1.0"


class AuditApi:
    """Which Graph version serves the audit search for this tenant: v1.0 until it answers 404."""

    def __init__(self, client: GraphServiceClient) -> None:
        base = str(client.request_adapter.base_url or "").rstrip("/")
        self.version = "v1.0"
        self.v1_base = base
        self.beta_base = base[: -len("/v1.0")] + "/beta" if base.endswith("/v1.0") else None
        self.fell_back: str | None = None  # what v1.0 answered, when beta was used instead

    def base(self, version: str) -> str:
        return self.beta_base if version == "beta" and self.beta_base else self.v1_base

    def versions(self) -> str:
        return "beta" if self.version == "beta" else "v1.0"


# --------------------------------------------------------------------------- error translation


def _api_failure(exc: APIError, endpoint: str, permission: str) -> ProbeError:
    status = exc.response_status_code
    inner = getattr(exc, "error", None)
    code = getattr(inner, "code", None)
    message = (getattr(inner, "message", None) or exc.primary_message or type(exc).__name__).splitlines()[0][:300]
    answered = f"{endpoint} answered {status}{' ' + code if code else ''}: {message}"
    if status in (401, 403):
        return ProbeForbidden(
            f"permission missing: {answered}; needs {permission}",
            f"grant the Microsoft Graph application permission {permission} (admin consent)",
        )
    return ProbeHttpError(answered, status=status)


def translate(exc: BaseException, endpoint: str, permission: str) -> ProbeError:
    """Classify an exception raised while calling ``endpoint`` (unknown kinds are re-raised)."""
    if isinstance(exc, ProbeError):
        return exc
    if isinstance(exc, APIError):
        return _api_failure(exc, endpoint, permission)
    if isinstance(exc, httpx.TimeoutException):
        return ProbeHttpError(f"{endpoint} did not answer in time ({type(exc).__name__})")
    if isinstance(exc, httpx.HTTPError):
        return ProbeHttpError(f"{endpoint} could not be reached ({type(exc).__name__})")
    if isinstance(exc, AzureError):  # a refused token, or an unreachable sign-in endpoint
        first = (exc.message or type(exc).__name__).splitlines()[0][:200]
        return ProbeForbidden(
            f"no access token for {endpoint} ({first})", f"check the credential (it needs {permission})"
        )
    if isinstance(exc, (ValueError, KeyError, TypeError)):
        return ProbeHttpError(f"{endpoint} answered something unexpected ({type(exc).__name__}: {str(exc)[:200]})")
    raise exc


# A dropped connection on a read (status poll, record page) is retried this often, after these
# pauses; creating a query (POST) is never repeated, so one probe never starts two searches.
TRANSPORT_RETRY_DELAYS = (0.5, 2.0)


async def _call(make: Callable[[], Awaitable[T]], endpoint: str, permission: str, idempotent: bool = False) -> T:
    delays = iter(TRANSPORT_RETRY_DELAYS if idempotent else ())
    while True:
        try:
            return await make()
        except httpx.TransportError as exc:
            delay = next(delays, None)
            if delay is None:
                raise translate(exc, endpoint, permission) from None
            await asyncio.sleep(delay)
        except (ProbeError, APIError, httpx.HTTPError, AzureError, ValueError, KeyError, TypeError) as exc:
            raise translate(exc, endpoint, permission) from None


# --------------------------------------------------------------------------- create and poll


def _status(query: AuditLogQuery | None) -> str:
    status = query.status if query is not None else None
    if isinstance(status, AuditLogQueryStatus):
        return str(status.value)
    return "unknown" if status is None else str(status)


def _queries(client: GraphServiceClient, api: AuditApi | None, version: str) -> QueriesRequestBuilder:
    builder = client.security.audit_log.queries
    if api is None or version == "v1.0":
        return builder
    return builder.with_url(f"{api.base(version)}/security/auditLog/queries")


async def create_query(
    client: GraphServiceClient, request: QueryRequest, permission: str, api: AuditApi | None = None
) -> QueryState:
    body = AuditLogQuery(
        display_name=request.display_name,
        filter_start_date_time=request.start,
        filter_end_date_time=request.end,
        operation_filters=list(request.operations),
        service_filters=list(request.services) or None,
    )
    version = api.version if api is not None else "v1.0"
    try:
        created = await _call(lambda: _queries(client, api, version).post(body), CREATE, permission)
    except ProbeHttpError as err:
        if api is None or version != "v1.0" or err.status != 404 or api.beta_base is None:
            raise
        # v1.0 answers 404 where the API is served only on beta: ask beta, and keep asking it
        api.version, api.fell_back = "beta", err.reason
        version = "beta"
        created = await _call(lambda: _queries(client, api, version).post(body), f"{CREATE} (beta)", permission)
    if created is None or not created.id:
        raise ProbeHttpError(f"{CREATE} answered without a query id")
    return QueryState(created.id, _status(created), created.is_record_count_limit_exceeded, version)


def _query_builder(
    client: GraphServiceClient, query_id: str, version: str, api: AuditApi | None
) -> AuditLogQueryItemRequestBuilder:
    builder = client.security.audit_log.queries.by_audit_log_query_id(query_id)
    if api is None or version == "v1.0":
        return builder
    return builder.with_url(f"{api.base(version)}/security/auditLog/queries/{query_id}")


async def get_query(
    client: GraphServiceClient, query_id: str, permission: str, version: str = "v1.0", api: AuditApi | None = None
) -> QueryState:
    endpoint = GET_QUERY.format(id=query_id)
    query = await _call(
        lambda: _query_builder(client, query_id, version, api).get(),
        endpoint,
        permission,
        idempotent=True,
    )
    return QueryState(query_id, _status(query), query.is_record_count_limit_exceeded if query else None, version)


async def wait_until_succeeded(
    client: GraphServiceClient,
    state: QueryState,
    poll: PollPolicy,
    permission: str,
    on_status: Callable[[QueryState], None],
    api: AuditApi | None = None,
) -> QueryState:
    """Poll with back-off until the query succeeds; raise :class:`QueryEnded` on a terminal failure.

    The caller bounds the total time (the probe timeout cancels this coroutine).
    """
    delays = poll.delays()
    while state.status != "succeeded":
        if state.status in TERMINAL_FAILURES:
            raise QueryEnded(
                f"audit log query {state.id} ended with status {state.status!r}",
                "run the probe again; if it keeps failing, search the log in the Purview portal",
            )
        await asyncio.sleep(next(delays))
        state = await get_query(client, state.id, permission, state.version, api)
        on_status(state)
    return state


# --------------------------------------------------------------------------- records


# `"@odata.nextLink": "<JSON string>"` as a member of some object (inside a JSON string value the
# quotes would be escaped, so record text cannot match).
_NEXT_LINK = re.compile(rb'"@odata\.nextLink"\s*:\s*("(?:[^"\\]|\\.)*")')
_PEEK_BYTES = 4096


def peek_next_link(raw: bytes | None) -> str | None:
    """A cheap guess at the page's ``@odata.nextLink`` from its first or last bytes, before decoding.

    Graph writes the link before or after ``value``; looking only at the two ends keeps this O(1)
    in the page size. The guess only starts the next request early: the decoded page decides.
    """
    if not raw:
        return None
    for chunk in (raw[-_PEEK_BYTES:], raw[:_PEEK_BYTES]):
        found = _NEXT_LINK.search(chunk)
        if found is not None:
            try:
                link = json.loads(found.group(1))
            except ValueError:
                return None
            return link if isinstance(link, str) and link else None
    return None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _decode_page(raw: bytes | None, endpoint: str) -> tuple[list[WireObject], str | None]:
    if not raw:
        return [], None
    try:
        page = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ProbeHttpError(f"{endpoint} answered a page that is not JSON ({type(err).__name__})") from None
    if not isinstance(page, dict) or not isinstance(page.get("value"), list):
        raise ProbeHttpError(f"{endpoint} answered a page without a 'value' list")
    link = page.get("@odata.nextLink")
    return page["value"], link if isinstance(link, str) and link else None


async def record_pages(
    client: GraphServiceClient,
    query_id: str,
    permission: str,
    page_size: int | None = None,
    version: str = "v1.0",
    api: AuditApi | None = None,
) -> AsyncGenerator[list[WireObject], None]:
    """Yield each page of the query's records, following ``@odata.nextLink``.

    The next page is requested before the current one is decoded (from a peek at the raw bytes,
    confirmed by the decoded link), so the service prepares it while this one is decoded and
    aggregated (at most two pages in memory). A repeated link is a paging loop: an error.
    Use with ``contextlib.aclosing`` so an abandoned iteration cancels the prefetch.
    """
    endpoint = GET_RECORDS.format(id=query_id)
    builder = client.security.audit_log.queries.by_audit_log_query_id(query_id).records
    if api is not None and version != "v1.0":
        top = f"?%24top={page_size}" if page_size else ""
        builder = builder.with_url(f"{api.base(version)}/security/auditLog/queries/{query_id}/records{top}")
    params = RecordsRequestBuilder.RecordsRequestBuilderGetQueryParameters(top=page_size)
    adapter = client.request_adapter

    def fetch(info: RequestInformation) -> asyncio.Future[bytes | None]:
        send = partial(send_bytes, adapter, info)
        return asyncio.ensure_future(_call(send, endpoint, permission, idempotent=True))

    pending: asyncio.Future[bytes | None] | None = fetch(
        builder.to_get_request_information(RequestConfiguration(query_parameters=params) if page_size else None)
    )
    guard = PageGuard(lambda why: ProbeHttpError(f"{endpoint}: {why}"))
    origin = _origin(str(adapter.base_url))
    try:
        while pending is not None:
            raw = await pending
            pending = None
            # Ask for the next page before decoding this one (decoding is most of the client's work),
            # so the service prepares page N+1 while page N is decoded and aggregated.
            guessed = peek_next_link(raw)
            if guessed is not None and _origin(guessed) == origin:
                pending = fetch(builder.with_url(guessed).to_get_request_information())
            records, link = await asyncio.to_thread(_decode_page, raw, endpoint)
            if pending is not None and link != guessed:  # the guess was wrong: drop it
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, ProbeError):
                    await pending
                pending = None
            guard.page(records)  # a link back to page 1 (whose URL the SDK built) shows as a repeated record
            if link is not None:
                guard.follow(link)
                if pending is None:
                    pending = fetch(builder.with_url(link).to_get_request_information())
            yield records
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, ProbeError):
                await pending
