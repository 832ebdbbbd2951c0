"""One fault model for every emulated API: :class:`Fault` rules, applied by the server.

A :class:`Fault` says *which* operations fail (the APIs, a method, path prefixes, operation names,
first or next page), *when* (the first ``times`` matching operations, every ``every``-th one, or
all of them) and *how* (status, code, message, ``Retry-After``, extra headers). The server
compiles each served tenant's rules once (:func:`tenant_faults`; the emulators translate their own
spec keys: :func:`assessor.sandbox.exchange.spec_faults`, :func:`assessor.sandbox.arm.spec_faults`)
into a :class:`FaultPlan` that lives in that server's :class:`~assessor.sandbox.state.TenantState`,
so hit counters are never shared between servers. The plan is consulted at two points of
:func:`assessor.sandbox.api.serve_operation`, for every operation (a top-level request or one
``$batch`` item):

- rules scoped to no API (a spec's tenant-wide ``faults:``, ``--throttle``, a fleet's failing
  tenants) before the emulator reads the request; they answer in Graph's error shape, whatever
  the API (so a failing tenant fails the same way on Graph, Exchange and ARM);
- rules scoped to APIs (an ``exchange:`` spec's ``deny``/``faults``, an ``azure:`` spec's
  ``deny``) once the emulator has resolved the operation (an Exchange cmdlet, an ARM resource
  kind); the API renders them in its own shape (:meth:`assessor.sandbox.api.Api.error`).

Random faults (:mod:`assessor.sandbox.chaos`) are drawn per top-level request by the server
around the same pipeline. Latency (``latency_ms``, ``slow_paths``) is applied per top-level
HTTP request by the server.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from assessor.sandbox.http import SandboxRequest, SandboxResponse, graph_error
from assessor.sandbox.spec import ErrorSpec, FaultSpec, ThrottleSpec

Page = Literal["any", "first", "next"]


@dataclass(frozen=True)
class Fault:
    """One injected failure: where it applies, when it fires, and what it answers."""

    status: int
    code: str | None = None
    message: str | None = None
    retry_after: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    # where: an empty tuple matches everything
    apis: tuple[str, ...] = ()  # "graph", "exchange", "compliance", "arm"; () = every API, before it reads the request
    method: str | None = None
    paths: tuple[str, ...] = ()  # prefixes of the path after the API root (case-insensitive)
    operations: tuple[str, ...] = ()  # the emulator's operation names (Exchange cmdlets, ARM resource kinds)
    page: Page = "any"  # "next": only requests carrying a $skiptoken
    # when: the first `times` matching operations and every `every`-th one; neither = all of them
    times: int | None = None
    every: int | None = None
    # what it is, for counting (e.g. "throttle")
    kind: str = "error"

    @property
    def scoped(self) -> bool:
        """Whether the rule waits for the emulator's operation (it names APIs)."""
        return bool(self.apis)

    def matches(self, request: SandboxRequest, api: str, operation: str | None) -> bool:
        if self.apis and api not in self.apis:
            return False
        if self.method and self.method.upper() != request.method.upper():
            return False
        if self.paths and not any(request.path.lower().startswith(p.lower()) for p in self.paths):
            return False
        if self.operations and operation not in self.operations:
            return False
        is_next = "$skiptoken" in request.query
        return not ((self.page == "first" and is_next) or (self.page == "next" and not is_next))

    def fires(self, nth: int) -> bool:
        """Whether the ``nth`` (1-based) matching operation fails."""
        if self.times is None and self.every is None:
            return True
        return (self.times is not None and nth <= self.times) or bool(self.every and nth % self.every == 0)


class FaultPlan:
    """A tenant's rules with their hit counters (one plan per tenant per server; thread-safe)."""

    def __init__(self, rules: Iterable[Fault] = ()) -> None:
        self.rules: tuple[Fault, ...] = tuple(rules)
        self.operations = 0
        self.fired: Counter[str] = Counter()
        self._seen = [0] * len(self.rules)
        self._lock = threading.Lock()

    def at_request(self, request: SandboxRequest, api: str) -> Fault | None:
        """Count the operation; the first unscoped rule that fires for it, if any."""
        with self._lock:
            self.operations += 1
            return self._first(request, api, None, scoped=False)

    def at_operation(self, request: SandboxRequest, api: str, operation: str) -> Fault | None:
        """The first API-scoped rule that fires for the resolved operation, if any."""
        with self._lock:
            return self._first(request, api, operation, scoped=True)

    def _first(self, request: SandboxRequest, api: str, operation: str | None, *, scoped: bool) -> Fault | None:
        for i, rule in enumerate(self.rules):
            if rule.scoped != scoped or not rule.matches(request, api, operation):
                continue
            self._seen[i] += 1
            if rule.fires(self._seen[i]):
                self.fired[rule.kind] += 1
                return rule
        return None

    def reset(self) -> None:
        with self._lock:
            self.operations = 0
            self.fired.clear()
            self._seen = [0] * len(self.rules)


# --------------------------------------------------------------------------- the spec's tenant-wide faults


THROTTLE_MESSAGE = "Too many requests. Please retry after the given delay."


def error_fault(spec: ErrorSpec) -> Fault:
    return Fault(
        spec.status, spec.code, spec.message, method=spec.method, paths=(spec.path,), times=spec.times, kind="error"
    )


def throttle_fault(spec: ThrottleSpec) -> Fault | None:
    if not spec.first and not spec.every:
        return None  # never fires
    return Fault(
        429,
        "TooManyRequests",
        THROTTLE_MESSAGE,
        retry_after=spec.retry_after,
        paths=tuple(spec.paths),
        times=spec.first or None,
        every=spec.every or None,
        kind="throttle",
    )


def tenant_faults(spec: FaultSpec) -> list[Fault]:
    """The rules of a spec's tenant-wide ``faults:`` (forced errors first, then the throttle)."""
    rules = [error_fault(e) for e in spec.errors]
    throttle = throttle_fault(spec.throttle) if spec.throttle is not None else None
    return [*rules, *([throttle] if throttle is not None else [])]


def parse_throttle(text: str | int | float | ThrottleSpec | None) -> ThrottleSpec | None:
    """``--throttle`` values: ``N`` (the first N operations), a rate ``0<r<1`` (every ⌈1/r⌉-th
    operation), or ``first=N,every=K,retry_after=S`` (``:`` works as well as ``=``)."""
    if text is None or isinstance(text, ThrottleSpec):
        return text
    if isinstance(text, bool):
        raise ValueError("invalid throttle: a boolean")
    if isinstance(text, int) or (isinstance(text, str) and text.strip().isdigit()):
        return ThrottleSpec(first=int(text))
    if isinstance(text, float) or _is_rate(text):
        rate = float(text)
        if not 0 < rate < 1:
            raise ValueError(f"invalid throttle rate {text!r}: use a number between 0 and 1")
        return ThrottleSpec(every=max(1, math.ceil(1 / rate)))
    values: dict[str, int] = {}
    for part in text.split(","):
        key, _sep, value = part.replace(":", "=").partition("=")
        key = key.strip().replace("-", "_")
        if key not in ("first", "every", "retry_after") or not value.strip().isdigit():
            raise ValueError(f"invalid throttle {text!r}: use N, a rate like 0.1, or first=N,every=K,retry_after=S")
        values[key] = int(value)
    return ThrottleSpec(**values)


def _is_rate(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def effective_faults(
    base: FaultSpec,
    latency_ms: int | None = None,
    throttle: ThrottleSpec | None = None,
    errors: list[ErrorSpec] | None = None,
    slow_paths: dict[str, int] | None = None,
) -> FaultSpec:
    """The spec's faults with start-time overrides applied (None keeps the spec's value)."""
    update: dict[str, object] = {}
    if latency_ms is not None:
        update["latency_ms"] = latency_ms
    if throttle is not None:
        update["throttle"] = throttle
    if errors is not None:
        update["errors"] = errors
    if slow_paths is not None:
        update["slow_paths"] = slow_paths
    return base.model_copy(update=update)


def graph_fault(fault: Fault, request: SandboxRequest) -> SandboxResponse:
    """A fault in Graph's error shape (unscoped rules, whatever the API)."""
    headers = dict(fault.headers)
    if fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
    return graph_error(
        fault.status,
        fault.code or "InternalServerError",
        fault.message or f"Injected {fault.status}.",
        request.headers.get("client-request-id"),
        headers,
    )
