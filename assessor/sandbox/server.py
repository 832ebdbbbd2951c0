"""The sandbox HTTP server: many generated tenants behind one loopback port.

URL layout: ``http://127.0.0.1:PORT/{tenant}/{api-root}/...`` where ``{tenant}`` is the tenant's
GUID (or its bundled name) and ``{api-root}`` selects an emulator from the server's own table
(:func:`default_apis`, built explicitly; ``apis=`` adds or replaces roots for one server):

- ``v1.0`` and ``beta`` → :class:`assessor.sandbox.graph.GraphApi` (Microsoft Graph) over the core
  routes, the service principals' (:mod:`assessor.sandbox.applications`) and the audit search's
  (:mod:`assessor.sandbox.auditlog`). A tenant's Graph base URL is ``http://127.0.0.1:PORT/<tenant-id>/v1.0``;
- ``adminapi`` and ``compliance`` → the Exchange Online admin API and its Security & Compliance
  twin (:mod:`assessor.sandbox.exchange`); the emulator receives the path after the root, e.g.
  ``/beta/{tenant}/InvokeCommand``;
- ``arm`` → Azure Resource Manager (:mod:`assessor.sandbox.arm`).

An emulator is an :class:`assessor.sandbox.api.Api`. The server does, before it: the bearer-token
check (401 with a Graph error body when the ``Authorization: Bearer …`` header is missing),
injected latency, random faults (``chaos=``), and per operation the tenant's fault rules
(:func:`assessor.sandbox.api.serve_operation`, :mod:`assessor.sandbox.faults`). It records every
request (start, end, status) so benchmarks can count requests and sequential rounds.

Everything that changes while serving — tenants, fault plans and their counters, the audit
queries, the request log, chaos state — belongs to one :class:`SandboxServer` (its
:class:`~assessor.sandbox.state.TenantState` objects): two servers in one process share nothing.

In-process use::

    with SandboxServer(["contoso", "fabrikam"]) as server:
        url = server.graph_url("contoso")   # http://127.0.0.1:54321/<id>/v1.0
        ...
        server.stats()                      # requests, peak concurrency, sequential rounds

From the CLI: :func:`serve` (``assessor sandbox serve NAME``) runs until interrupted.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TextIO, TypedDict
from urllib.parse import unquote, urlsplit

from assessor.sandbox import applications, arm, auditlog, exchange, graph
from assessor.sandbox.api import Api, HandlerApi, serve_operation
from assessor.sandbox.chaos import DROP_CONNECTION, Chaos
from assessor.sandbox.faults import Fault, FaultPlan, effective_faults, parse_throttle, tenant_faults
from assessor.sandbox.http import Headers, SandboxRequest, SandboxResponse, graph_error
from assessor.sandbox.spec import ErrorSpec, SandboxTenant, SpecError, ThrottleSpec, load_tenant
from assessor.sandbox.state import TenantState

ApiHandler = Callable[[SandboxRequest], SandboxResponse]
MAX_BODY = 4 * 1024 * 1024


def default_apis() -> dict[str, Api]:
    """The emulators behind each API root, wired here and nowhere else."""
    graph_api = graph.GraphApi((*graph.ROUTES, *applications.ROUTES, *auditlog.ROUTES))
    return {
        "v1.0": graph_api,
        "beta": graph_api,  # the same routes (the audit search is beta-only in some tenants)
        "adminapi": exchange.ExchangeApi(),
        "compliance": exchange.ComplianceApi(),
        "arm": arm.ArmApi(),
    }


def spec_faults(tenant: SandboxTenant) -> list[Fault]:
    """The API-scoped fault rules a tenant's spec declares (its ``exchange:`` and ``azure:`` keys)."""
    return [*exchange.spec_faults(tenant), *arm.spec_faults(tenant)]


def _throttle(value: ThrottleSpec | str | int | None) -> ThrottleSpec | None:
    try:
        return parse_throttle(value)
    except ValueError as err:
        raise SpecError(f"--throttle: {err}") from None


# --------------------------------------------------------------------------- request log


@dataclass(frozen=True)
class RequestRecord:
    start: float
    end: float
    method: str
    path: str
    status: int
    tenant: str


class RequestLog:
    """Thread-safe log of top-level requests with live concurrency tracking."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: list[RequestRecord] = []
        self.in_flight = 0
        self.peak_concurrency = 0

    def begin(self) -> float:
        with self._lock:
            self.in_flight += 1
            self.peak_concurrency = max(self.peak_concurrency, self.in_flight)
        return time.perf_counter()

    def end(self, start: float, method: str, path: str, status: int, tenant: str) -> None:
        record = RequestRecord(start, time.perf_counter(), method, path, status, tenant)
        with self._lock:
            self.in_flight -= 1
            self.records.append(record)

    def reset(self) -> None:
        with self._lock:
            self.records = []
            self.peak_concurrency = self.in_flight

    def snapshot(self, tenant: str | None = None) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self.records if tenant is None or r.tenant == tenant]


class ServerStats(TypedDict):
    """What :meth:`SandboxServer.stats` counts."""

    requests: int  # top-level HTTP requests
    operations: int  # operations served: top-level requests and `$batch` items
    by_status: dict[int, int]  # requests per HTTP status
    peak_concurrency: int
    sequential_rounds: int  # see sequential_rounds()


def sequential_rounds(records: Sequence[RequestRecord]) -> int:
    """The longest chain of requests each starting after the previous one ended.

    Requests that overlap in time were in flight together, so they belong to one round; the
    chain length is the number of round trips a client had to wait for one after another.
    """
    by_start = sorted(records, key=lambda r: r.start)
    by_end = sorted(range(len(by_start)), key=lambda i: by_start[i].end)
    depth = [0] * len(by_start)
    best_done = 0
    pointer = 0
    for i, record in enumerate(by_start):
        while pointer < len(by_end) and by_start[by_end[pointer]].end <= record.start:
            best_done = max(best_done, depth[by_end[pointer]])
            pointer += 1
        depth[i] = best_done + 1
    return max(depth, default=0)


# --------------------------------------------------------------------------- HTTP plumbing


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: object) -> None:
        return

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(graph_error(413, "RequestEntityTooLarge", "Request body too large."))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        response = self.server.sandbox.dispatch(self.command, self.path, dict(self.headers.items()), body)
        if response.status == DROP_CONNECTION:  # chaos: close the socket without answering
            self.close_connection = True
            return
        self._send(response)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def _send(self, response: SandboxResponse) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(response.body)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        super().__init__(address, _Handler)

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket], client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client that gave up (timeout, reset) is not a sandbox error
        super().handle_error(request, client_address)


# --------------------------------------------------------------------------- the server


class SandboxServer:
    """Serves sandbox tenants on 127.0.0.1. Start with :meth:`start` or as a context manager."""

    def __init__(
        self,
        tenants: Iterable[str | SandboxTenant] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: int | None = None,
        throttle: ThrottleSpec | str | int | None = None,
        errors: list[ErrorSpec] | None = None,
        slow_paths: dict[str, int] | None = None,
        chaos: Chaos | None = None,
        apis: Mapping[str, Api | ApiHandler] | None = None,
    ) -> None:
        self.host = host
        self.chaos = chaos  # seeded random faults (assessor.sandbox.chaos), None = off
        self.port = port
        self.log = RequestLog()
        self.apis: dict[str, Api] = default_apis()
        for root, api in (apis or {}).items():  # extra or replaced roots, for this server only
            self.apis[root] = HandlerApi(root, api) if callable(api) else api
        self._states: dict[str, TenantState] = {}
        self._aliases: dict[str, str] = {}
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._overrides = (latency_ms, _throttle(throttle), errors, slow_paths)
        for tenant in tenants:
            self.add_tenant(tenant)

    # ---- tenants

    def add_tenant(
        self,
        tenant: str | SandboxTenant,
        *,
        latency_ms: int | None = None,
        throttle: ThrottleSpec | str | int | None = None,
        errors: list[ErrorSpec] | None = None,
        slow_paths: dict[str, int] | None = None,
        faults: Iterable[Fault] = (),
    ) -> TenantState:
        """Serve another tenant; per-call overrides win over server-wide ones, which win over the spec.

        The tenant's fault rules: the spec's (or the overrides') forced errors and throttle, the
        rules its ``exchange:`` and ``azure:`` keys declare, then ``faults``."""
        generated = load_tenant(tenant) if isinstance(tenant, str) else tenant
        base_latency, base_throttle, base_errors, base_slow = self._overrides
        effective = effective_faults(
            generated.spec.faults,
            latency_ms if latency_ms is not None else base_latency,
            _throttle(throttle) or base_throttle,
            errors if errors is not None else base_errors,
            slow_paths if slow_paths is not None else base_slow,
        )
        plan = FaultPlan([*tenant_faults(effective), *spec_faults(generated), *faults])
        state = TenantState(generated, effective, plan)
        self._states[generated.id] = state
        self._aliases[generated.name.lower()] = generated.id
        return state

    def state(self, tenant: str) -> TenantState:
        key = self._aliases.get(tenant.lower(), tenant.lower())
        try:
            return self._states[key]
        except KeyError:
            raise SpecError(f"the sandbox does not serve tenant {tenant!r}") from None

    @property
    def tenants(self) -> list[SandboxTenant]:
        return [s.tenant for s in self._states.values()]

    # ---- lifecycle

    def start(self) -> str:
        """Start serving in a background thread; returns the base URL (``http://127.0.0.1:PORT``)."""
        if self._httpd is None:
            self._httpd = _HTTPServer((self.host, self.port), self)
            self.port = self._httpd.server_address[1]
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"sandbox-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def graph_url(self, tenant: str) -> str:
        """The Graph v1.0 base URL of a served tenant (by name or id)."""
        return f"{self.base_url}/{self.state(tenant).tenant.id}/v1.0"

    def api_url(self, tenant: str, root: str) -> str:
        return f"{self.base_url}/{self.state(tenant).tenant.id}/{root}"

    def exchange_endpoints(self, tenant: str) -> dict[str, str]:
        """The Exchange and compliance admin API base URLs of a served tenant (``…/adminapi/beta``)."""
        return {
            "exchange_endpoint": f"{self.api_url(tenant, 'adminapi')}/beta",
            "compliance_endpoint": f"{self.api_url(tenant, 'compliance')}/adminapi/beta",
        }

    def arm_endpoints(self, tenant: str) -> dict[str, str]:
        """The Azure Resource Manager base URL of a served tenant (``--arm-endpoint``)."""
        return {"arm_endpoint": self.api_url(tenant, "arm")}

    @staticmethod
    def _slow(state: TenantState, path: str) -> None:
        extra = max((ms for prefix, ms in state.faults.slow_paths.items() if path.startswith(prefix)), default=0)
        if extra:
            time.sleep(extra / 1000)

    # ---- statistics

    def stats(self, tenant: str | None = None) -> ServerStats:
        """Requests, peak concurrency and sequential rounds (for one tenant, or all)."""
        tenant_id = self.state(tenant).tenant.id if tenant else None
        records = self.log.snapshot(tenant_id)
        by_status: dict[int, int] = {}
        for r in records:
            by_status[r.status] = by_status.get(r.status, 0) + 1
        operations = self.state(tenant).operations if tenant else sum(s.operations for s in self._states.values())
        return {
            "requests": len(records),
            "operations": operations,
            "by_status": by_status,
            "peak_concurrency": self.log.peak_concurrency,
            "sequential_rounds": sequential_rounds(records),
        }

    def reset_stats(self) -> None:
        self.log.reset()
        for state in self._states.values():
            state.operations = 0

    # ---- dispatch

    def dispatch(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> SandboxResponse:
        start = self.log.begin()
        response, tenant_id = graph_error(500, "InternalServerError", "Unhandled sandbox error."), ""
        try:
            response, tenant_id = self._dispatch(method, raw_path, Headers(headers), body)
            return response
        finally:
            self.log.end(start, method, raw_path, response.status, tenant_id)

    def _dispatch(self, method: str, raw_path: str, headers: Headers, body: bytes) -> tuple[SandboxResponse, str]:
        parts = urlsplit(raw_path)
        segments = parts.path.split("/", 3)  # ['', tenant, root, rest]
        client_id = headers.get("client-request-id")
        if len(segments) >= 2 and segments[1] in self.apis and len(self._states) == 1:
            # one tenant served: it also answers at the bare API roots (…/v1.0, …/adminapi/beta),
            # the base URLs a real tenant's endpoints have
            only = next(iter(self._states.values())).tenant.id
            return self._dispatch(method, f"/{only}{raw_path}", headers, body)
        if len(segments) < 3:
            return graph_error(404, "NotFound", "Use /{tenant}/v1.0/…", client_id), ""
        tenant_key, root = unquote(segments[1]), segments[2]
        key = self._aliases.get(tenant_key.lower(), tenant_key.lower())
        state = self._states.get(key)
        if state is None:
            return graph_error(
                400, "InvalidTenant", f"Tenant '{tenant_key}' is not served by this sandbox.", client_id
            ), ""
        tenant_id = state.tenant.id
        api = self.apis.get(root)
        if api is None:
            return graph_error(404, "NotFound", f"No emulator for '/{root}'.", client_id), tenant_id
        auth = str(headers.get("authorization", ""))
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            return graph_error(401, "InvalidAuthenticationToken", "Access token is empty.", client_id), tenant_id
        if state.faults.latency_ms:
            time.sleep(state.faults.latency_ms / 1000)
        try:
            query = graph.parse_query(parts.query)
        except graph.QueryError as err:
            return graph_error(err.status, err.code, err.message, client_id), tenant_id
        request = SandboxRequest(
            method.upper(),
            "/" + unquote(segments[3]) if len(segments) > 3 else "/",
            query,
            headers,
            body,
            state,
            f"{self.base_url}/{tenant_id}/{root}",
        )
        self._slow(state, request.path)
        if self.chaos is not None:
            return self.chaos.serve(request, raw_path, lambda: serve_operation(api, request)), tenant_id
        return serve_operation(api, request), tenant_id


def serve(
    name: str | Sequence[str],
    port: int = 0,
    latency_ms: int = 0,
    throttle: ThrottleSpec | str | int | None = None,
    *,
    out: TextIO | None = None,
    ready: Callable[[SandboxServer], None] | None = None,
    stop_event: threading.Event | None = None,
    chaos: Chaos | None = None,
) -> None:
    """Serve one or more tenants (a name, comma-separated names, or ``all``) until interrupted."""

    names = _tenant_names(name)
    server = SandboxServer(names, port=port, latency_ms=latency_ms, throttle=throttle, chaos=chaos)
    stream = out or sys.stdout
    with server:
        for tenant in server.tenants:
            print(
                f"{tenant.name}: {server.graph_url(tenant.id)}  ({tenant.user_count} users, cloud {tenant.cloud})",
                file=stream,
                flush=True,
            )
            ex = server.exchange_endpoints(tenant.id)
            print(
                f"  --exchange-endpoint {ex['exchange_endpoint']}  --compliance-endpoint {ex['compliance_endpoint']}",
                file=stream,
                flush=True,
            )
            print(f"  --arm-endpoint {server.arm_endpoints(tenant.id)['arm_endpoint']}", file=stream, flush=True)
        if len(server.tenants) == 1:
            print(
                f"  (the only tenant also answers at {server.base_url}/v1.0, {server.base_url}/adminapi/beta and "
                f"{server.base_url}/compliance/adminapi/beta)",
                file=stream,
                flush=True,
            )
        print(
            "Any bearer token is accepted (e.g. ASSESSOR_GRAPH_TOKEN=sandbox, ASSESSOR_EXCHANGE_TOKEN=sandbox, "
            "ASSESSOR_COMPLIANCE_TOKEN=sandbox, ASSESSOR_ARM_TOKEN=sandbox). Ctrl-C stops.",
            file=stream,
            flush=True,
        )
        if ready is not None:
            ready(server)
        waiter = stop_event or threading.Event()
        try:
            while not waiter.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass


def _tenant_names(name: str | Sequence[str]) -> list[str]:
    from assessor.sandbox.spec import list_tenants

    if isinstance(name, str):
        if name == "all":
            return list_tenants()
        return [n.strip() for n in name.split(",") if n.strip()]
    return list(name)
