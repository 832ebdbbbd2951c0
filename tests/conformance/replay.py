"""A tiny HTTP server on 127.0.0.1 that answers recorded bodies, so the conformance samples reach
the assessor's real clients (httpx, msgraph-sdk) over real HTTP rather than being handed to a parser."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SAMPLES = Path(__file__).parent / "samples"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


Route = Callable[[str, str, dict[str, str]], Answer | None]  # (method, path with query, headers)


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@dataclass
class Replay:
    base_url: str
    seen: list[tuple[str, str, dict[str, str]]]
    bodies: list[bytes] = field(default_factory=list)  # the request bodies, in the order of `seen`


@contextmanager
def replay(route: Route) -> Iterator[Replay]:
    seen: list[tuple[str, str, dict[str, str]]] = []
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            bodies.append(self.rfile.read(length) if length else b"")
            headers = {k.lower(): v for k, v in self.headers.items()}
            seen.append((self.command, self.path, headers))
            answer = route(self.command, self.path, headers) or Answer(404, b'{"error":{"code":"NotFound"}}')
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for key, value in answer.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = _answer

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Replay(f"http://127.0.0.1:{server.server_address[1]}", seen, bodies)
    finally:
        server.shutdown()
        server.server_close()
