"""A service that echoes the bearer token in its error body: the token reaches no evidence, report or error."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from assessor.collect import collect
from assessor.collect.auth import StaticTokenCredential
from assessor.engine.runner import evaluate
from assessor.errors import CollectionError
from assessor.evidence import evidence_to_dict
from assessor.pipeline import collect_options
from assessor.profiles import load_profile
from assessor.report import RENDERERS, RenderOptions
from assessor.sandbox import SandboxServer, load_tenant

CANARIES = {"graph": "CANARY-GRAPH-7f3a9c1e", "exchange": "CANARY-EXO-5b2d8e4f", "compliance": "CANARY-COMP-9a1c3b7d"}


class _Echo(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        auth = self.headers.get("Authorization", "")
        body = json.dumps(
            {
                "error": {
                    "code": "Forbidden",
                    "message": f"Denied for {auth}",
                    "details": [{"message": f"token {auth.split()[-1] if auth else ''} refused"}],
                }
            }
        )
        data = body.encode()
        if self.path.endswith("/$batch"):  # refuse the $batch, quoting the token as a confused proxy might
            self.send_response(400)
        else:
            self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer


@pytest.fixture()
def echo() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def _no_canary(text: str, where: str) -> None:
    for canary in CANARIES.values():
        assert canary not in text, f"{canary} leaked into {where}"


def test_echoed_exchange_token_reaches_no_output(echo: str) -> None:
    with SandboxServer([load_tenant("contoso")]) as sandbox:
        options = collect_options(
            sandbox,
            "contoso",
            credential=StaticTokenCredential(CANARIES),
            exchange_endpoint=f"{echo}/adminapi/beta",
            compliance_endpoint=f"{echo}/compliance/adminapi/beta",
        )
        evidence = asyncio.run(collect(options))
    assert evidence.exchange.mailboxes.provenance.status == "not_collected"
    assert "403" in (evidence.exchange.mailboxes.provenance.reason or "")
    assert any("$batch answered 400" in note for note in evidence.meta.notes)  # then one POST per cmdlet
    _no_canary(json.dumps(evidence_to_dict(evidence)), "evidence")
    report = evaluate(
        evidence,
        load_profile("cisa-scuba"),
        on=evidence.meta.collected_at.date(),  # type: ignore[union-attr]
        generated_at=evidence.meta.collected_at,
    )  # type: ignore[arg-type]
    for name, renderer in RENDERERS.items():
        _no_canary(renderer().render(report, RenderOptions()), name)


def test_echoed_graph_token_reaches_no_error_text(echo: str) -> None:
    with SandboxServer([load_tenant("contoso")]) as sandbox:
        options = collect_options(
            sandbox,
            "contoso",
            credential=StaticTokenCredential(CANARIES),
            graph_endpoint=f"{echo}/v1.0",
            no_exchange=True,
        )
    with pytest.raises(CollectionError) as err:
        asyncio.run(collect(options))
    assert "403" in str(err.value)
    _no_canary(str(err.value), "the collection error")


def test_redact_patterns_and_registered_values() -> None:
    from assessor.redact import REDACTED, redact, register_secret

    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJyb2xlcyI6WyJVc2VyLlJlYWQuQWxsIl19.c2lnbmF0dXJl"
    assert redact(f"header was Authorization: Bearer {jwt}") == f"header was Authorization: Bearer {REDACTED}"
    assert jwt not in redact(f"token={jwt}")
    register_secret("s3cr3t-value-for-test")
    assert redact("client secret s3cr3t-value-for-test rejected") == f"client secret {REDACTED} rejected"
    register_secret("abc")  # too short to register: ordinary words stay readable
    assert redact("abc def") == "abc def"
