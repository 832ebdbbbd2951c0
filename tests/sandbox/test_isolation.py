"""Each server owns its state, and the sandbox is wired explicitly.

Two servers in one process share no counters, fault plans, audit queries or API roots; importing
a sandbox module registers nothing (its top level holds definitions and constants only).
"""

from __future__ import annotations

import ast
from typing import Any

import httpx

from assessor.sandbox import Fault, SandboxServer
from assessor.sandbox.auditlog import with_audit_log
from assessor.sandbox.http import SandboxRequest, SandboxResponse
from assessor.sandbox.spec import ThrottleSpec
from tests.helpers.support import ROOT

AUTH = {"Authorization": "Bearer sandbox"}
WINDOW = {"filterStartDateTime": "2026-11-18T00:00:00Z", "filterEndDateTime": "2026-11-25T00:00:00Z"}
ORG_CONFIG = {"CmdletInput": {"CmdletName": "Get-OrganizationConfig", "Parameters": {}}}
ONCE_503 = Fault(503, apis=("exchange",), operations=("Get-OrganizationConfig",), times=1)


def _server(**kwargs: Any) -> SandboxServer:
    server = SandboxServer(throttle=ThrottleSpec(first=1, retry_after=0, paths=["/organization"]), **kwargs)
    server.add_tenant(with_audit_log("contoso", query_seconds=0), faults=[ONCE_503])
    return server


def _invoke(http: httpx.Client, server: SandboxServer) -> int:
    base = server.exchange_endpoints("contoso")["exchange_endpoint"]
    tenant = server.state("contoso").tenant.id
    return http.post(f"{base}/{tenant}/InvokeCommand", json=ORG_CONFIG, headers=AUTH).status_code


def test_two_servers_in_one_process_share_no_state() -> None:
    def echo(request: SandboxRequest) -> SandboxResponse:
        return SandboxResponse.json({"path": request.path})

    with _server(apis={"echo": echo}) as a, _server() as b, httpx.Client() as http:
        org_a, org_b = f"{a.graph_url('contoso')}/organization", f"{b.graph_url('contoso')}/organization"
        # throttle counters: each server throttles its own first /organization
        assert [http.get(org_a, headers=AUTH).status_code for _ in range(2)] == [429, 200]
        assert [http.get(org_b, headers=AUTH).status_code for _ in range(2)] == [429, 200]
        # an API-scoped rule with `times`: spent on one server, still armed on the other
        assert [_invoke(http, a), _invoke(http, a)] == [503, 200]
        assert [_invoke(http, b), _invoke(http, b)] == [503, 200]
        # audit queries live in the server that created them
        created = http.post(f"{a.graph_url('contoso')}/security/auditLog/queries", json=WINDOW, headers=AUTH)
        assert created.status_code == 201, created.text
        query = created.json()["id"]
        listed_a = http.get(f"{a.graph_url('contoso')}/security/auditLog/queries", headers=AUTH).json()["value"]
        listed_b = http.get(f"{b.graph_url('contoso')}/security/auditLog/queries", headers=AUTH).json()["value"]
        assert [q["id"] for q in listed_a] == [query] and listed_b == []
        other = http.get(f"{b.graph_url('contoso')}/security/auditLog/queries/{query}", headers=AUTH)
        assert other.status_code == 404
        # API roots given to one server only
        assert http.get(f"{a.api_url('contoso', 'echo')}/x", headers=AUTH).json() == {"path": "/x"}
        assert http.get(f"{b.api_url('contoso', 'echo')}/x", headers=AUTH).status_code == 404
        # request logs and counters
        assert a.stats("contoso")["requests"] == b.stats("contoso")["requests"] == 7
        assert a.state("contoso").throttled == b.state("contoso").throttled == 1
        assert a.state("contoso").plan.fired == b.state("contoso").plan.fired == {"throttle": 1, "error": 1}


def _registrations(name: str, source: str) -> list[str]:
    """Top-level statements of a module that run for their effect (a call, a ``global`` rebinding)."""
    tree = ast.parse(source)
    found = [
        f"{name}:{node.lineno}: {ast.unparse(node)}"
        for node in tree.body
        if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant)
    ]
    found += [f"{name}:{n.lineno}: global {', '.join(n.names)}" for n in ast.walk(tree) if isinstance(n, ast.Global)]
    return found


def test_importing_a_sandbox_module_registers_nothing() -> None:
    """Module top levels hold imports, definitions and constant assignments: routes are data the
    server wires (assessor.sandbox.server.default_apis), never registered as an import's side effect."""
    found = []
    for path in sorted((ROOT / "assessor" / "sandbox").glob("*.py")):
        found += _registrations(path.name, path.read_text(encoding="utf-8"))
    assert found == []


def test_the_registration_check_can_fail() -> None:
    source = 'ROUTES = []\nROUTES.append("x")\n\ndef register():\n    global ROUTES\n'
    assert _registrations("m.py", source) == ["m.py:2: ROUTES.append('x')", "m.py:5: global ROUTES"]
