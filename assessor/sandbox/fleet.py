"""A fleet of many small sandbox tenants behind one :class:`SandboxServer`, for bulk scans.

Tenant ``i`` of a fleet is generated from a small template (a few E5 and E3 users, an unlicensed
account, a guest, two administrators) with its own GUID and name ``{prefix}-{i:04d}``; its user
mix varies a little with ``i`` so the portfolio has something to rank. A share of the tenants is
made to fail, spread evenly and deterministically, cycling through four kinds:

- ``401``: every Graph operation answers 401 InvalidAuthenticationToken (a bad credential);
- ``403``: every operation answers 403 Authorization_RequestDenied (consent never granted);
- ``timeout``: every request stalls ``stall_seconds`` (longer than a sane ``--tenant-timeout``);
- ``429``: every operation answers 429 with Retry-After (a throttling storm).

Serve one from the command line (prints the base URL, then serves until interrupted)::

    python -m assessor.sandbox.fleet --count 1000 --latency-ms 100 --failing 0.1 --port 8080
"""

from __future__ import annotations

import argparse
import contextlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, TypedDict

from assessor.jsontypes import Json, JsonMap
from assessor.sandbox.server import SandboxServer
from assessor.sandbox.spec import ErrorSpec, SandboxTenant, ThrottleSpec, parse_spec

FailureKind = Literal["401", "403", "timeout", "429"]
FAILURE_KINDS: tuple[FailureKind, ...] = ("401", "403", "timeout", "429")
_NAMESPACE = uuid.UUID("5d7e4b0c-2f4a-4c8e-9a51-3b1f0e6c7d21")


@dataclass(frozen=True)
class FleetSpec:
    count: int
    prefix: str = "fleet"
    users: int = 20
    failing: float = 0.0
    stall_seconds: float = 30.0

    def name(self, index: int) -> str:
        return f"{self.prefix}-{index:04d}"

    def names(self) -> list[str]:
        return [self.name(i) for i in range(self.count)]


def failure_kind(spec: FleetSpec, index: int) -> FailureKind | None:
    """Which failure tenant ``index`` is made to have: the failing share is spread evenly."""
    if spec.failing <= 0:
        return None
    step_before = int(index * spec.failing)
    step_after = int((index + 1) * spec.failing)
    if step_after == step_before:
        return None
    return FAILURE_KINDS[step_before % len(FAILURE_KINDS)]


def template(spec: FleetSpec, index: int) -> JsonMap:
    """The generator spec of tenant ``index`` (a small mixed E5/E3 tenant)."""
    name = spec.name(index)
    e5 = max(1, spec.users // 4 + index % 5)
    no_audit = 1 + index % 3
    admins = 2
    e3 = max(1, spec.users - e5 - no_audit - admins - 2)
    return {
        "id": str(uuid.uuid5(_NAMESPACE, f"{spec.prefix}/{index}")),
        "name": name,
        "display_name": f"Fleet Customer {index:04d}",
        "domains": [f"{name}.onmicrosoft.com", f"{name}.example"],
        "default_domain": f"{name}.example",
        "skus": [{"part": "SPE_E5", "units": e5 + no_audit + index % 4}, {"part": "SPE_E3", "units": e3 + admins + 5}],
        "users": [
            {"name": "admins", "count": admins, "licenses": [{"sku": "SPE_E3"}]},
            {"name": "e5", "count": e5, "licenses": [{"sku": "SPE_E5"}]},
            {
                "name": "e5-no-audit",
                "count": no_audit,
                "licenses": [{"sku": "SPE_E5", "disabled_plans": ["M365_ADVANCED_AUDITING"]}],
            },
            {"name": "e3", "count": e3, "licenses": [{"sku": "SPE_E3"}]},
            {"name": "unlicensed", "count": 1},
            {"name": "guests", "count": 1, "type": "Guest"},
        ],
        "roles": [
            {"role": "Global Administrator", "users": ["admins[0]", "e5[0]"]},
            {"role": "Exchange Administrator", "users": ["admins[1]"]},
        ],
    }


def fleet_tenant(spec: FleetSpec, index: int) -> SandboxTenant:
    return SandboxTenant(parse_spec(template(spec, index), f"fleet tenant {index}"))


class _Overrides(TypedDict, total=False):
    """The :meth:`SandboxServer.add_tenant` options that make a fleet tenant fail."""

    errors: list[ErrorSpec]
    latency_ms: int
    throttle: ThrottleSpec


def _fault_overrides(spec: FleetSpec, kind: FailureKind | None) -> _Overrides:
    if kind == "401":
        return {
            "errors": [
                ErrorSpec(
                    path="/",
                    status=401,
                    code="InvalidAuthenticationToken",
                    message="Access token validation failure. Invalid audience.",
                )
            ]
        }
    if kind == "403":
        return {"errors": [ErrorSpec(path="/", status=403)]}
    if kind == "timeout":
        return {"latency_ms": int(spec.stall_seconds * 1000)}
    if kind == "429":
        return {"throttle": ThrottleSpec(every=1, retry_after=1)}
    return {}


def add_fleet(server: SandboxServer, spec: FleetSpec) -> list[str]:
    """Serve every tenant of the fleet on ``server``; returns their names in order."""
    for index in range(spec.count):
        server.add_tenant(fleet_tenant(spec, index), **_fault_overrides(spec, failure_kind(spec, index)))
    return spec.names()


def failing_names(spec: FleetSpec) -> dict[str, FailureKind]:
    return {spec.name(i): kind for i in range(spec.count) if (kind := failure_kind(spec, i)) is not None}


def manifest_rows(spec: FleetSpec, base_url: str | None = None, exchange: bool = True) -> Iterator[JsonMap]:
    """Manifest entries for the fleet: ``sandbox: NAME`` (in-process), or endpoints + token auth
    against an external fleet server at ``base_url`` (Exchange and compliance too unless ``exchange`` is off)."""
    for index in range(spec.count):
        tags = ["fleet", f"group-{index % 4}"]
        if base_url is None:
            yield {"sandbox": spec.name(index), "name": f"Fleet Customer {index:04d}", "tags": tags}
            continue
        tenant_id = str(uuid.uuid5(_NAMESPACE, f"{spec.prefix}/{index}"))
        row: dict[str, Json] = {
            "id": tenant_id,
            "name": f"Fleet Customer {index:04d}",
            "tags": tags,
            "auth": {"mode": "token"},
            "graph_endpoint": f"{base_url}/{tenant_id}/v1.0",
        }
        if exchange:
            row["exchange_endpoint"] = f"{base_url}/{tenant_id}/adminapi/beta"
            row["compliance_endpoint"] = f"{base_url}/{tenant_id}/compliance/adminapi/beta"
        else:
            row["no_exchange"] = True
        yield row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m assessor.sandbox.fleet", description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--prefix", default="fleet")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--failing", type=float, default=0.0)
    parser.add_argument("--stall-seconds", type=float, default=30.0)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    spec = FleetSpec(args.count, args.prefix, args.users, args.failing, args.stall_seconds)
    server = SandboxServer(latency_ms=args.latency_ms, port=args.port)
    add_fleet(server, spec)
    with server:
        print(server.base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
