"""Server behaviour: several tenants, fault injection, request accounting, the dispatch seam, serve()."""

from __future__ import annotations

import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from assessor.sandbox.faults import parse_throttle
from assessor.sandbox.http import SandboxRequest, SandboxResponse
from assessor.sandbox.server import RequestRecord, SandboxServer, sequential_rounds, serve
from assessor.sandbox.spec import ErrorSpec, SpecError, ThrottleSpec

from .conftest import AUTH, EVENTUAL


def test_one_process_serves_several_tenants() -> None:
    with SandboxServer(["contoso", "gov"]) as server, httpx.Client() as http:
        names = {
            http.get(f"{server.graph_url(t)}/organization", headers=AUTH).json()["value"][0]["displayName"]
            for t in ("contoso", "gov")
        }
        assert names == {"Contoso Ltd", "Agency (GCC High)"}
        assert server.graph_url("contoso").endswith("/8b4e2f10-3c7d-4a51-9e26-5f0c1a7d3b42/v1.0")


def test_throttle_first_n_with_retry_after() -> None:
    with SandboxServer(["contoso"], throttle=ThrottleSpec(first=2, retry_after=7)) as server, httpx.Client() as http:
        url = f"{server.graph_url('contoso')}/organization"
        first = http.get(url, headers=AUTH)
        assert first.status_code == 429 and first.headers["Retry-After"] == "7"
        assert first.json()["error"]["code"] == "TooManyRequests"
        assert http.get(url, headers=AUTH).status_code == 429
        assert http.get(url, headers=AUTH).status_code == 200


def test_batch_items_can_be_throttled_individually() -> None:
    throttle = ThrottleSpec(first=1, retry_after=0, paths=["/users/$count"])
    with SandboxServer(["contoso"], throttle=throttle) as server, httpx.Client() as http:
        items = [
            {"id": str(i), "method": "GET", "url": "/users/$count", "headers": {"ConsistencyLevel": "eventual"}}
            for i in range(3)
        ]
        body = http.post(f"{server.graph_url('contoso')}/$batch", json={"requests": items}, headers=AUTH).json()
        statuses = sorted(r["status"] for r in body["responses"])
        assert statuses == [200, 200, 429]
        throttled = next(r for r in body["responses"] if r["status"] == 429)
        assert throttled["headers"]["Retry-After"] == "0"


def test_forced_errors_per_endpoint_and_times() -> None:
    errors = [
        ErrorSpec(path="/subscribedSkus", status=503, code="ServiceUnavailable", times=1),
        ErrorSpec(path="/roleManagement/", status=403),
    ]
    with SandboxServer(["contoso"], errors=errors) as server, httpx.Client() as http:
        url = server.graph_url("contoso")
        assert http.get(f"{url}/subscribedSkus", headers=AUTH).status_code == 503
        assert http.get(f"{url}/subscribedSkus", headers=AUTH).status_code == 200
        denied = http.get(f"{url}/roleManagement/directory/roleAssignments", headers=AUTH)
        assert denied.status_code == 403 and denied.json()["error"]["code"] == "Authorization_RequestDenied"


def test_gov_spec_denies_role_endpoints() -> None:
    with SandboxServer(["gov"]) as server, httpx.Client() as http:
        url = server.graph_url("gov")
        assert http.get(f"{url}/roleManagement/directory/roleAssignments", headers=AUTH).status_code == 403
        assert http.get(f"{url}/users/$count", headers=EVENTUAL).text == "480"


def test_latency_and_concurrency_tracking() -> None:
    # Each request is held in the server until all eight are inside it (a barrier, not a sleep that a
    # loaded machine can outlast), so the true peak is exactly 8 and every request overlaps the others:
    # one round. A server that answered one request at a time breaks the barrier (500s).
    inside = threading.Barrier(8, timeout=60)

    def hold(request: SandboxRequest) -> SandboxResponse:
        inside.wait()
        return SandboxResponse.json({"path": request.path})

    with SandboxServer(["contoso"], latency_ms=60, apis={"hold-test": hold}) as server:
        held = f"{server.api_url('contoso', 'hold-test')}/x"
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda _: httpx.get(held, headers=AUTH, timeout=90).status_code, range(8)))
        assert statuses == [200] * 8
        concurrent = server.stats("contoso")
        assert concurrent["requests"] == 8 and concurrent["peak_concurrency"] == 8
        assert concurrent["sequential_rounds"] == 1
        server.reset_stats()
        url = f"{server.graph_url('contoso')}/organization"
        start = time.perf_counter()
        with httpx.Client() as http:
            for _ in range(3):
                http.get(url, headers=AUTH)
        assert time.perf_counter() - start >= 0.18
        assert server.stats("contoso")["sequential_rounds"] == 3


def test_sequential_rounds_is_the_longest_chain() -> None:
    def rec(start: float, end: float) -> RequestRecord:
        return RequestRecord(start, end, "GET", "/", 200, "t")

    assert sequential_rounds([]) == 0
    assert sequential_rounds([rec(0, 1), rec(0.1, 1.1), rec(0.2, 0.9)]) == 1
    assert sequential_rounds([rec(0, 1), rec(1.1, 2), rec(2.1, 3), rec(0.5, 2.5)]) == 3


def test_dispatch_seam_for_other_apis() -> None:
    def echo(request: SandboxRequest) -> SandboxResponse:
        return SandboxResponse.json({"path": request.path, "tenant": request.tenant.tenant.name})

    with SandboxServer(["contoso"], apis={"echo-test": echo}) as server:
        body = httpx.get(f"{server.api_url('contoso', 'echo-test')}/beta/x/InvokeCommand", headers=AUTH).json()
        assert body == {"path": "/beta/x/InvokeCommand", "tenant": "contoso"}
        assert httpx.get(f"{server.base_url}/contoso/nothing/x", headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    "text, expected",
    [
        ("3", ThrottleSpec(first=3)),
        ("first:2", ThrottleSpec(first=2)),
        ("0.25", ThrottleSpec(every=4)),
        ("every=5,retry_after=0", ThrottleSpec(every=5, retry_after=0)),
    ],
)
def test_throttle_option_parsing(text: str, expected: ThrottleSpec) -> None:
    assert parse_throttle(text) == expected


def test_bad_throttle_is_a_usage_error() -> None:
    with pytest.raises(SpecError, match="--throttle"):
        SandboxServer(["contoso"], throttle="sometimes")


def test_serve_prints_urls_and_stops() -> None:
    out = io.StringIO()
    stop = threading.Event()
    seen: list[str] = []

    def ready(server: SandboxServer) -> None:
        seen.append(httpx.get(f"{server.graph_url('contoso')}/users/$count", headers=EVENTUAL).text)
        stop.set()

    serve("contoso,gov", port=0, latency_ms=0, throttle=None, out=out, ready=ready, stop_event=stop)
    assert seen == ["232"]
    assert "contoso: http://127.0.0.1:" in out.getvalue() and "gov:" in out.getvalue()


def test_one_tenant_answers_at_the_bare_api_roots(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`assessor collect` pointed at …/v1.0 and …/adminapi/beta (a real tenant's shape) works."""
    import json
    import os
    import subprocess
    import sys

    with SandboxServer(["contoso"]) as server:
        tenant = server.tenants[0]
        env = {
            **os.environ,
            "ASSESSOR_GRAPH_TOKEN": "t",
            "ASSESSOR_EXCHANGE_TOKEN": "t",
            "ASSESSOR_COMPLIANCE_TOKEN": "t",
        }
        out = tmp_path / "e.json"
        res = subprocess.run(
            [
                sys.executable,
                "-m",
                "assessor",
                "collect",
                "--tenant",
                tenant.id,
                "--auth",
                "token",
                "--graph-endpoint",
                f"{server.base_url}/v1.0",
                "--exchange-endpoint",
                f"{server.base_url}/adminapi/beta",
                "--compliance-endpoint",
                f"{server.base_url}/compliance/adminapi/beta",
                "--output",
                str(out),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        with SandboxServer(["contoso", "fabrikam"]) as two:  # with two tenants the prefix is needed
            r = httpx.get(f"{two.base_url}/v1.0/organization", headers=AUTH)
            assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidTenant"
    assert res.returncode == 0, res.stderr
    doc = json.loads(out.read_text())
    assert doc["users"]["data"]["counts"]["in_scope"] == 197
    statuses = {name: doc["exchange"][name]["provenance"]["status"] for name in doc["exchange"]}
    assert set(statuses.values()) == {"collected"}, statuses
