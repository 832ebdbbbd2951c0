"""A served tenant's live state, one per tenant per server: nothing here is shared between servers.

:class:`TenantState` holds the generated tenant, its latency settings, its compiled
:class:`~assessor.sandbox.faults.FaultPlan` (rules and hit counters) and the emulators' own
per-tenant state (:meth:`TenantState.local`: the audit search's stored queries, the Exchange view
of the tenant, …), so two servers in one process never see each other's counters, faults or
queries.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar, cast

from assessor.sandbox.faults import FaultPlan
from assessor.sandbox.spec import FaultSpec, SandboxTenant

T = TypeVar("T")


class TenantState:
    """A served tenant: its generated data, latency settings, fault plan and emulator state."""

    def __init__(self, tenant: SandboxTenant, faults: FaultSpec, plan: FaultPlan) -> None:
        self.tenant = tenant
        self.faults = faults  # latency_ms and slow_paths (applied per HTTP request by the server)
        self.plan = plan
        self._locals: dict[Callable[[SandboxTenant], object], object] = {}
        self._lock = threading.Lock()

    @property
    def operations(self) -> int:
        """Operations served (top-level requests and `$batch` items)."""
        return self.plan.operations

    @operations.setter
    def operations(self, value: int) -> None:
        self.plan.operations = value

    @property
    def throttled(self) -> int:
        """Operations answered 429 by a throttle rule."""
        return self.plan.fired["throttle"]

    def local(self, make: Callable[[SandboxTenant], T]) -> T:
        """This tenant's value of ``make`` on this server, made on first use (one per ``make``)."""
        with self._lock:
            if make not in self._locals:
                self._locals[make] = make(self.tenant)
            return cast(T, self._locals[make])
