"""The sandbox: a Graph (and, later, Exchange admin API) emulator over generated tenants.

- :mod:`assessor.sandbox.spec` — tenant specs and the lazy user generator
  (:func:`load_tenant`, :func:`list_tenants`, :class:`SandboxTenant`).
- :mod:`assessor.sandbox.server` — :class:`SandboxServer` (in-process) and :func:`serve` (CLI).
- :mod:`assessor.sandbox.graph` — the Graph v1.0 routes; :func:`assessor.sandbox.graph.add_route`.

The sandbox imports nothing from collection: :func:`assessor.pipeline.collect_options` gives the
options that collect a served tenant through the real SDK with a static token.
"""

from __future__ import annotations

from assessor.sandbox.server import SandboxServer, register_api, serve
from assessor.sandbox.spec import SandboxTenant, SpecError, list_tenants, load_tenant

__all__ = [
    "SandboxServer",
    "SandboxTenant",
    "SpecError",
    "list_tenants",
    "load_tenant",
    "register_api",
    "serve",
]
