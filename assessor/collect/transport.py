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

- **The URL as httpx built it**: handed over already encoded, so no reserved character is
  re-quoted or decoded on the way (a ``$skiptoken`` or a quoted UPN reaches the service as sent).
- **Header names and values as httpx holds them** (original case); a header aiohttp refuses (a
  control character) is an :class:`httpx.LocalProtocolError`, like h11's refusal.

Where aiohttp differs and httpx's own transport is kept instead: **proxies**. When the
environment (or the system settings :func:`urllib.request.getproxies` reads) names a proxy,
:func:`new_client` builds the client without this transport, so httpx mounts the proxies and
honours ``NO_PROXY`` exactly as before. One difference remains: httpcore checks that a pooled
connection is still open before reusing it, aiohttp does not, so a server that closes a kept-alive
connection at the instant the next request goes out fails that request (a transport error the
clients retry or report, never a pass); idle connections are dropped after 5 s, httpx's default.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator
from functools import lru_cache

import aiohttp
import httpx
from yarl import URL

from assessor.collect.tls import shared_tls_context
from assessor.trace import trace_hooks

DEFAULT_MAX_CONNECTIONS = 100  # httpx's default pool size
KEEPALIVE_SECONDS = 5.0  # httpx's default keep-alive expiry


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
    if isinstance(exc, ValueError) and not isinstance(exc, aiohttp.ClientError):
        return httpx.LocalProtocolError(
            "the request could not be written (a header or the URL was refused)", request=request
        )
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(text, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(text, request=request)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError(text, request=request)
    return httpx.ReadError(text, request=request)  # ClientOSError and the rest: the connection broke


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends through one aiohttp session (created on first use)."""

    def __init__(self, max_connections: int = DEFAULT_MAX_CONNECTIONS) -> None:
        self._limit = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("the HTTP transport was used after it was closed")
        connector = aiohttp.TCPConnector(
            limit=self._limit, keepalive_timeout=KEEPALIVE_SECONDS, ssl=shared_tls_context()
        )
        return aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session = self._session or self._open()
        content = await request.aread()
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw]
        try:
            async with session.request(
                request.method,
                URL(str(request.url), encoded=True),
                headers=headers,
                data=content or None,
                allow_redirects=False,
                timeout=_timeout(request),
                compress=False,
            ) as answer:
                body = await answer.read()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
            raise _mapped(exc, request) from None
        extensions: dict[str, object] = {"http_version": b"HTTP/1.1"}
        if answer.reason:
            extensions["reason_phrase"] = answer.reason.encode("latin-1", "replace")
        return httpx.Response(
            answer.status, headers=list(answer.raw_headers), stream=_Body(body), request=request, extensions=extensions
        )

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


@lru_cache(maxsize=1)
def proxied() -> bool:
    """Whether the environment (or the system settings) names an HTTP proxy. Read once per process
    (reading walks the whole environment, and a run does not change it; ``cache_clear`` re-reads)."""
    return any(scheme in urllib.request.getproxies() for scheme in ("http", "https", "all"))


def scan_transport(max_connections: int = DEFAULT_MAX_CONNECTIONS) -> AiohttpTransport | None:
    """The transport for a collector's client: None (httpx's own) when a proxy is configured."""
    return None if proxied() else AiohttpTransport(max_connections)


def new_client(
    timeout: httpx.Timeout,
    transport: AiohttpTransport | None = None,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
) -> httpx.AsyncClient:
    """An httpx client for a collector: trace hooks attached, redirects not followed, sending through
    ``transport`` (a new one when not given, httpx's own under a proxy). Closing the client closes
    its transport — except under the Graph SDK, whose middleware wraps the transport and does not
    pass the close on: the Graph connection closes its transport itself."""
    chosen = transport if transport is not None else scan_transport(max_connections)
    return httpx.AsyncClient(
        transport=chosen,
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        timeout=timeout,
        follow_redirects=False,
        verify=shared_tls_context(),
        event_hooks=trace_hooks(),
    )
