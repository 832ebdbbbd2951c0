"""The collectors' HTTP transport (httpx over aiohttp) against real sockets on 127.0.0.1.

Each server here is a few lines of asyncio speaking raw HTTP/1.1, so what reaches the wire and
what a broken peer does to the client are both under the test's control.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from assessor.collect.transport import AiohttpTransport, new_client, proxied, scan_transport

Handler = Callable[[bytes, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A server on 127.0.0.1 that hands each request (head and body) to ``handler``; yields its
    base URL and the raw requests it received."""
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                body = await reader.readexactly(length) if length else b""
                seen.append(head + body)
                await handler(head + body, writer)
                if writer.is_closing():
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        server.close()
        await server.wait_closed()


def answer(status: int, body: bytes, *headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status} Reason", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coro)


def test_request_and_answer_pass_through_unchanged() -> None:
    payload = json.dumps({"value": [1, 2]}).encode()

    async def handler(_request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(
            answer(
                200,
                gzip.compress(payload),
                "Content-Encoding: gzip",
                "Content-Type: application/json",
                "Set-Cookie: a=1",
                "Set-Cookie: b=2",
            )
        )
        await writer.drain()

    async def main() -> None:
        async with raw_server(handler) as (base, seen):
            client = new_client(httpx.Timeout(5.0))
            async with client:
                response = await client.post(
                    f"{base}/adminapi/beta/t/InvokeCommand?$select=A,B",
                    content=b'{"CmdletInput":{}}',
                    headers={"Authorization": "Bearer x", "X-AnchorMailbox": "APP:y"},
                )
                assert response.status_code == 200
                assert response.json() == {"value": [1, 2]}  # httpx decoded the gzip body
                assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
                assert response.reason_phrase == "Reason"
                assert response.elapsed.total_seconds() >= 0
                # a second request reuses the kept-alive connection
                again = await client.get(f"{base}/next")
                assert again.status_code == 200
            head = seen[0].split(b"\r\n\r\n")[0].decode().lower().split("\r\n")
            assert head[0] == "post /adminapi/beta/t/invokecommand?$select=a,b http/1.1"
            assert "authorization: bearer x" in head and "x-anchormailbox: app:y" in head
            assert seen[0].endswith(b'{"CmdletInput":{}}')
            assert sum(line.startswith("content-length:") for line in head) == 1
            assert not any(line.startswith("cookie:") for line in seen[1].decode().lower().split("\r\n"))
            assert len(seen) == 2

    run(main())


def test_redirects_are_handed_back_not_followed() -> None:
    async def handler(_request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(answer(302, b"", "Location: http://127.0.0.1:1/elsewhere"))
        await writer.drain()

    async def main() -> None:
        async with raw_server(handler) as (base, seen), new_client(httpx.Timeout(5.0)) as client:
            response = await client.get(f"{base}/EXOModuleFile")
            assert response.status_code == 302
            assert response.headers["location"] == "http://127.0.0.1:1/elsewhere"
            assert len(seen) == 1

    run(main())


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_refused_connection_is_a_connect_error() -> None:
    async def main() -> None:
        async with new_client(httpx.Timeout(5.0)) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(f"http://127.0.0.1:{_closed_port()}/")

    run(main())


def test_silent_server_is_a_read_timeout() -> None:
    async def handler(_request: bytes, _writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    async def main() -> None:
        async with raw_server(handler) as (base, _), new_client(httpx.Timeout(0.3)) as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.get(f"{base}/slow")

    run(main())


async def _cut_mid_answer(_request: bytes, writer: asyncio.StreamWriter) -> None:
    writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"value": [')
    await writer.drain()
    writer.close()


async def _closed_without_answer(_request: bytes, writer: asyncio.StreamWriter) -> None:
    writer.close()


@pytest.mark.parametrize("handler", [_cut_mid_answer, _closed_without_answer], ids=["mid-answer", "no-answer"])
def test_peer_closing_is_a_transport_error_not_a_timeout(handler: Handler) -> None:
    async def main() -> None:
        async with raw_server(handler) as (base, _), new_client(httpx.Timeout(5.0)) as client:
            with pytest.raises(httpx.TransportError) as caught:
                await client.get(f"{base}/cut")
            assert not isinstance(caught.value, httpx.TimeoutException)

    run(main())


def test_closing_releases_the_session() -> None:
    async def handler(_request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(answer(200, b"{}"))
        await writer.drain()

    async def main() -> None:
        transport = AiohttpTransport(max_connections=2)
        async with raw_server(handler) as (base, _):
            client = new_client(httpx.Timeout(5.0), transport)
            assert (await client.get(f"{base}/")).status_code == 200
            session = transport._session
            assert session is not None and not session.closed
            await client.aclose()
            assert session.closed and transport._session is None
            await transport.aclose()  # a second close is harmless

    run(main())


def test_the_url_and_header_names_reach_the_wire_as_httpx_built_them() -> None:
    async def handler(_request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(answer(200, b"{}"))
        await writer.drain()

    target = (
        "/v1.0/users/a%2Fb%3Ac%27d%40e?$filter=userPrincipalName%20eq%20'a%23b%27%27f%25g%3Fh%2Fi'"
        "&$skiptoken=X%2BY%2FZ%3D%3D&u=%7E%41"
    )

    async def main() -> None:
        async with raw_server(handler) as (base, seen), new_client(httpx.Timeout(5.0)) as client:
            request = client.build_request("GET", f"{base}{target}", headers={"X-AnchorMailbox": "APP:x"})
            assert (await client.send(request)).status_code == 200
            line, *headers = seen[0].split(b"\r\n\r\n")[0].decode().split("\r\n")
            assert line == f"GET {request.url.raw_path.decode()} HTTP/1.1"
            assert "X-AnchorMailbox: APP:x" in headers

    run(main())


def test_a_header_the_wire_refuses_is_a_local_protocol_error() -> None:
    async def handler(_request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(answer(200, b"{}"))
        await writer.drain()

    async def main() -> None:
        async with raw_server(handler) as (base, seen), new_client(httpx.Timeout(5.0)) as client:
            with pytest.raises(httpx.LocalProtocolError) as caught:
                await client.get(f"{base}/", headers={"X-Injected": "a\r\nSet-Cookie: b"})
            assert "Set-Cookie" not in str(caught.value)
            assert seen == []

    run(main())


def test_a_closed_transport_is_not_reopened() -> None:
    async def main() -> None:
        transport = AiohttpTransport()
        await transport.aclose()
        with pytest.raises(RuntimeError, match="after it was closed"):
            await transport.handle_async_request(httpx.Request("GET", "http://127.0.0.1:1/"))

    run(main())


def test_a_configured_proxy_keeps_httpx_own_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx mounts environment proxies only when it builds its own transport: under a proxy the
    collectors' clients are built without aiohttp, and the proxy (and NO_PROXY) apply as before."""
    try:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        proxied.cache_clear()
        assert scan_transport() is not None
        monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
        monkeypatch.setenv("NO_PROXY", "localhost")
        proxied.cache_clear()
        assert scan_transport() is None
        client = new_client(httpx.Timeout(5.0))
        assert not isinstance(client._transport, AiohttpTransport)
        mounted = {str(pattern.pattern): transport for pattern, transport in client._mounts.items()}
        assert mounted["https://"] is not None and mounted["all://localhost"] is None
    finally:
        proxied.cache_clear()  # read again, after the environment is restored, by the next client
