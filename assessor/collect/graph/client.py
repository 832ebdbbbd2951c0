"""A `GraphServiceClient` with our timeouts, a bounded retry budget and a base-URL override.

The SDK's default retry handler honours ``Retry-After`` without a cap and falls back to a
multi-second back-off when the header is 0. :class:`BoundedRetryHandler` keeps the SDK's
behaviour (429/503/504, ``Retry-After``) but waits as the collection's one retry policy says
(:mod:`assessor.collect.retry`: each wait capped, the total bounded per client), so a throttled
tenant cannot stall a run: when the budget is spent the error reaches the collector, which marks
that section not_collected.
"""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from azure.core.credentials import AccessToken, TokenCredential
from azure.core.credentials_async import AsyncTokenCredential
from kiota_abstractions.request_adapter import RequestAdapter
from kiota_abstractions.request_information import RequestInformation
from kiota_abstractions.serialization import Parsable, ParsableFactory
from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
from kiota_http.kiota_client_factory import KiotaClientFactory
from kiota_http.middleware import RetryHandler
from kiota_http.middleware.options import RetryHandlerOption
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph_core import GraphClientFactory

from assessor.collect.retry import GRAPH_RETRY_STATUSES, RetryBudget, RetryPolicy, retry_after_seconds
from assessor.collect.transport import AiohttpTransport, new_client, scan_transport

if TYPE_CHECKING:
    from assessor.collect.graph.batch import BatchWindow


class BoundedRetryHandler(RetryHandler):
    """RetryHandler whose waits honour ``Retry-After`` (0 included) within a per-client budget."""

    def __init__(self, budget: RetryBudget) -> None:
        super().__init__(RetryHandlerOption(delay=0, max_retries=budget.policy.max_retries))
        self.budget = budget
        self.retry_on_status_codes = set(GRAPH_RETRY_STATUSES)

    def get_delay_time(self, retry_count: int, response: httpx.Response | None = None, delay: float = 0.0) -> float:
        if response is None or response.status_code not in self.retry_on_status_codes:
            return 0.0
        if retry_count >= self.options.max_retry:
            return 0.0
        wait = self.budget.after_answer(retry_count, retry_after_seconds(response.headers.get("Retry-After")))
        if wait is None:
            return RetryHandlerOption.MAX_DELAY  # the handler does not retry at this delay
        return wait


@dataclass(frozen=True)
class GraphSettings:
    base_url: str
    scopes: tuple[str, ...]
    request_timeout: float = 60.0
    connect_timeout: float = 10.0
    max_connections: int = 32
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass
class GraphConnection:
    """The SDK client plus what we need to close and account for it."""

    client: GraphServiceClient
    http: httpx.AsyncClient
    transport: AiohttpTransport | None  # under the SDK's middleware, which does not pass a close on
    budget: RetryBudget
    settings: GraphSettings
    notes: list[str] = field(default_factory=list)  # how the service was read, when it differs from the plan
    batch_window: BatchWindow | None = None  # the `$batch` requests waiting to be posted together

    @property
    def adapter(self) -> RequestAdapter:
        return self.client.request_adapter

    async def aclose(self) -> None:
        try:
            await self.http.aclose()
        finally:
            if self.transport is not None:
                await self.transport.aclose()


class OffloadedCredential:
    """Runs a synchronous credential's ``get_token`` in a worker thread.

    The SDK awaits whatever ``get_token`` returns; azure-identity's sync credentials would
    otherwise block the event loop for a whole token request (and with it every other tenant of
    a bulk run). Static in-memory credentials are passed through unwrapped.
    """

    def __init__(self, inner: TokenCredential) -> None:
        self._inner = inner

    # **kwargs: Any as in azure-core's own TokenCredential.get_token (claims, tenant_id, enable_cae and
    # whatever a credential adds), passed on unchanged
    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return await asyncio.to_thread(self._inner.get_token, *scopes, **kwargs)

    async def close(self) -> None:
        """Nothing to close here: the wrapped credential belongs to whoever built it."""

    async def __aenter__(self) -> OffloadedCredential:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return repr(self._inner)


def _non_blocking(credential: TokenCredential) -> TokenCredential | AsyncTokenCredential:
    if inspect.iscoroutinefunction(getattr(credential, "get_token", None)) or getattr(credential, "in_memory", False):
        return credential
    return OffloadedCredential(credential)


def connect(credential: TokenCredential, settings: GraphSettings) -> GraphConnection:
    """Build a GraphServiceClient for ``settings.base_url`` (no network until the first request)."""
    budget = RetryBudget(settings.retry)
    transport = scan_transport(settings.max_connections)
    timeout = httpx.Timeout(settings.request_timeout, connect=settings.connect_timeout)
    http = new_client(timeout, transport, settings.max_connections)
    middleware = KiotaClientFactory.get_default_middleware(None)
    middleware = [BoundedRetryHandler(budget) if isinstance(m, RetryHandler) else m for m in middleware]
    middleware.append(GraphClientFactory._get_telemetry_handler(None))
    http = GraphClientFactory.create_with_custom_middleware(middleware, client=http)
    # The token goes only to the Graph host itself: a next link (or a guessed one) that points
    # anywhere else is requested without it.
    graph_host = urlsplit(settings.base_url).hostname or ""
    auth = AzureIdentityAuthenticationProvider(
        _non_blocking(credential), scopes=list(settings.scopes), allowed_hosts=[graph_host] if graph_host else []
    )
    adapter = GraphRequestAdapter(auth, client=http)
    client = GraphServiceClient(request_adapter=adapter)
    client.request_adapter.base_url = settings.base_url.rstrip("/")
    return GraphConnection(client, http, transport, budget, settings)


ODATA_ERRORS: dict[str, type[ParsableFactory[Parsable]]] = {"XXX": ODataError}


async def send_bytes(adapter: RequestAdapter, info: RequestInformation) -> bytes | None:
    """Send a request through the SDK's adapter and middleware and return the raw body.

    The URL template is expanded once here: kiota re-expands it on every read of ``info.url``
    (several per request, in the adapter and the middleware), which was a tenth of a bulk scan's
    CPU time.
    """
    info.path_parameters["baseurl"] = adapter.base_url
    info.url = info.url
    raw: bytes | None = await adapter.send_primitive_async(info, "bytes", ODATA_ERRORS)
    return raw
