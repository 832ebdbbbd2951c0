"""The sandbox: emulators of Graph, the Exchange admin API, the audit search and ARM over generated tenants.

- :mod:`assessor.sandbox.spec` — tenant specs and the lazy user generator
  (:func:`load_tenant`, :func:`list_tenants`, :class:`SandboxTenant`).
- :mod:`assessor.sandbox.server` — :class:`SandboxServer` (in-process) and :func:`serve` (CLI); the
  server wires the emulators (:func:`assessor.sandbox.server.default_apis`) and owns all state.
- :mod:`assessor.sandbox.api` — what an emulator is (:class:`~assessor.sandbox.api.Api`) and the one
  path of an operation; :mod:`assessor.sandbox.faults` — the one fault model of every API.
- :mod:`assessor.sandbox.graph`, :mod:`~assessor.sandbox.applications`, :mod:`~assessor.sandbox.auditlog`,
  :mod:`~assessor.sandbox.exchange`, :mod:`~assessor.sandbox.arm` — the emulators (routes are data;
  importing a module registers nothing).

The sandbox imports nothing from collection: :func:`assessor.pipeline.collect_options` gives the
options that collect a served tenant through the real SDK with a static token.
"""

from __future__ import annotations

from assessor.sandbox.faults import Fault
from assessor.sandbox.server import SandboxServer, serve
from assessor.sandbox.spec import SandboxTenant, SpecError, list_tenants, load_tenant

__all__ = [
    "Fault",
    "SandboxServer",
    "SandboxTenant",
    "SpecError",
    "list_tenants",
    "load_tenant",
    "serve",
]
