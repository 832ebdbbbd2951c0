"""The sandbox: a Graph (and, later, Exchange admin API) emulator over generated tenants.

- :mod:`assessor.sandbox.spec` — tenant specs and the lazy user generator
  (:func:`load_tenant`, :func:`list_tenants`, :class:`SandboxTenant`).
- :mod:`assessor.sandbox.server` — :class:`SandboxServer` (in-process) and :func:`serve` (CLI).
- :mod:`assessor.sandbox.graph` — the Graph v1.0 routes; :func:`assessor.sandbox.graph.add_route`.

:func:`collect_options` gives the `CollectOptions` for collecting a served tenant through the
real SDK with a static token (what ``assessor assess --sandbox NAME`` does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assessor.sandbox.server import SandboxServer, register_api, serve
from assessor.sandbox.spec import SandboxTenant, SpecError, list_tenants, load_tenant

if TYPE_CHECKING:
    from assessor.collect import CollectOptions

SANDBOX_TOKEN = "sandbox-token"  # noqa: S105 - the emulator accepts any bearer token

__all__ = [
    "SandboxServer",
    "SandboxTenant",
    "SpecError",
    "collect_options",
    "list_tenants",
    "load_tenant",
    "register_api",
    "serve",
]


def collect_options(server: SandboxServer, name: str, **overrides: Any) -> CollectOptions:
    """Options that collect tenant ``name`` from a running ``server`` with a static sandbox token."""
    from assessor.collect import CollectOptions
    from assessor.collect.auth import AuthOptions, StaticTokenCredential

    tenant = server.state(name).tenant
    credential = StaticTokenCredential({"graph": SANDBOX_TOKEN, "exchange": SANDBOX_TOKEN, "compliance": SANDBOX_TOKEN})
    values: dict[str, Any] = {
        "tenant": tenant.id,
        "cloud": tenant.cloud,
        "auth": AuthOptions(mode="token"),
        "graph_endpoint": server.graph_url(tenant.id),
        "credential": credential,
        "collector": "sandbox",
    }
    values.update(overrides)
    return CollectOptions(**values)
