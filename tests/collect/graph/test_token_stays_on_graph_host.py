"""The bearer token goes to the Graph host only: a next link to any other host is followed without it."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from assessor.collect.auth import StaticTokenCredential
from assessor.collect.graph.client import GraphSettings, connect
from assessor.collect.graph.paging import get_json_page

SECRET = "tok-canary-7f3a"


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str, str | None]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        host = self.headers.get("Host", "")
        type(self).seen.append((host.split(":")[0], self.path, self.headers.get("Authorization")))
        port = self.server.server_address[1]
        body = {"value": [{"id": "1"}], "@odata.nextLink": f"http://localhost:{port}/v1.0/users?page=2"}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_next_link_to_another_host_gets_no_token() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]

    async def go() -> None:
        cred = StaticTokenCredential({"graph": SECRET})
        conn = connect(
            cred,
            GraphSettings(base_url=f"http://127.0.0.1:{port}/v1.0", scopes=("https://graph.microsoft.com/.default",)),
        )
        try:
            first = await get_json_page(conn, conn.client.users.to_get_request_information(), "GET /users")
            link = first["@odata.nextLink"]
            await get_json_page(conn, conn.client.users.with_url(link).to_get_request_information(), "GET /users")
        finally:
            await conn.aclose()

    try:
        asyncio.run(go())
    finally:
        server.shutdown()
    (host1, _p1, auth1), (host2, _p2, auth2) = _Recorder.seen[:2]
    assert host1 == "127.0.0.1" and auth1 == f"Bearer {SECRET}"
    assert host2 == "localhost" and auth2 is None
