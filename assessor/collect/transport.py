"""The HTTP clients every collector builds: httpx's API over aiohttp's connection handling.

The collectors speak httpx (the Graph SDK requires an ``httpx.AsyncClient``, and the Exchange,
compliance and Azure clients use it directly). Under it, each request used to go through
httpcore, h11 and anyio — about 1 ms of CPU per request in a bulk scan, the largest cost left per
tenant. aiohttp (already installed: the SDK's Azure authentication package depends on it) parses
HTTP in C on the asyncio loop itself, so :class:`AiohttpTransport` hands each request to an
``aiohttp.ClientSession`` and gives httpx back an ordinary response:

- **One answer, read whole.** The body is read inside the transport (every caller reads whole
  JSON answers anyway), so every network error surfaces here and is raised as the httpx exception
  that names it: the clients' retry and error code keeps seeing only httpx types.
- **httpx keeps the protocol decisions.** Redirects are never followed here (``follow_redirects``
  stays with httpx and the callers), bodies are handed back undecoded (httpx decodes gzip), cookies
  are left to httpx (aiohttp's jar is off), and aiohttp adds no headers of its own.
- **Timeouts** come from the request as httpx sets them: ``connect`` bounds establishing the
  connection, ``read`` each wait for data, ``pool`` the wait for a free connection.
- **TLS** uses the one verifying context of :mod:`assessor.collect.tls`.

Proxies named in the environment keep httpx's own transport (httpx mounts them per scheme), so
``HTTPS_PROXY`` works as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import httpx

from assessor.collect.tls import shared_tls_context
from assessor.trace import trace_hooks


class _Body(httpx.AsyncByteStream):
    """A body already read: handed to httpx as a stream so it decodes and times it as usual."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._body:
            yield self._body


def _timeout(request: httpx.Request) -> aiohttp.ClientTimeout:
    limits = request.extensions.get("timeout") or {}
    return aiohttp.ClientTimeout(
        total=None, connect=limits.get("pool"), sock_connect=limits.get("connect"), sock_read=limits.get("read")
    )


def _mapped(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception for an aiohttp/asyncio failure (its text names no header or body)."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(text, request=request)
    if isinstance(exc, aiohttp.SocketTimeoutError | asyncio.TimeoutError | TimeoutError):
        return httpx.ReadTimeout(text, request=request)
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(text, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(text, request=request)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError(text, request=request)
    return httpx.ReadError(text, request=request)  # ClientOSError and the rest: the connection broke


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends through one aiohttp session (created on first use)."""

    def __init__(self, max_connections: int | None = None) -> None:
        self._limit = max_connections or 0  # 0: aiohttp's "no limit"
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self._limit, ssl=shared_tls_context())
        return aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session = self._session or self._open()
        content = await request.aread()
        try:
            async with session.request(
                request.method,
                str(request.url),
                headers=list(request.headers.multi_items()),
                data=content or None,
                allow_redirects=False,
                timeout=_timeout(request),
                compress=False,
            ) as answer:
                body = await answer.read()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise _mapped(exc, request) from None
        extensions: dict[str, object] = {"http_version": b"HTTP/1.1"}
        if answer.reason:
            extensions["reason_phrase"] = answer.reason.encode("latin-1", "replace")
        return httpx.Response(
            answer.status, headers=list(answer.raw_headers), stream=_Body(body), request=request, extensions=extensions
        )

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


def new_client(timeout: httpx.Timeout, transport: AiohttpTransport | None = None) -> httpx.AsyncClient:
    """An httpx client for a collector: trace hooks attached, redirects not followed, sending through
    ``transport`` (a new one when not given). Closing the client closes its transport — except
    under the Graph SDK, whose middleware wraps the transport and does not pass the close on: the
    Graph connection closes its transport itself."""
    return httpx.AsyncClient(
        transport=transport or AiohttpTransport(),
        timeout=timeout,
        follow_redirects=False,
        verify=shared_tls_context(),
        event_hooks=trace_hooks(),
    )
