"""Per-tenant failure injection (forced errors, 429 throttling) and the tenant's live state.

Faults are decided per *operation*: every top-level request and every item of a `$batch`.
Latency is applied per top-level HTTP request by the server (a `$batch` costs one latency).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

from assessor.sandbox.http import SandboxRequest, SandboxResponse, graph_error
from assessor.sandbox.spec import ErrorSpec, FaultSpec, SandboxTenant, ThrottleSpec


@dataclass
class TenantState:
    """A served tenant: its generated data, effective faults and operation counters."""

    tenant: SandboxTenant
    faults: FaultSpec
    operations: int = 0
    throttled: int = 0
    _throttle_seen: int = 0
    _error_hits: dict[int, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def check_faults(self, request: SandboxRequest) -> SandboxResponse | None:
        """Count the operation; return the injected failure for it, if any."""
        with self._lock:
            self.operations += 1
            forced = self._forced_error(request)
            if forced is not None:
                return forced
            return self._throttle(request)

    def _forced_error(self, request: SandboxRequest) -> SandboxResponse | None:
        for i, err in enumerate(self.faults.errors):
            if not _matches(err, request):
                continue
            hits = self._error_hits.get(i, 0)
            if err.times is not None and hits >= err.times:
                continue
            self._error_hits[i] = hits + 1
            return graph_error(err.status, err.code, err.message, request.headers.get("client-request-id"))
        return None

    def _throttle(self, request: SandboxRequest) -> SandboxResponse | None:
        spec: ThrottleSpec | None = self.faults.throttle
        if spec is None or (spec.paths and not any(request.path.startswith(p) for p in spec.paths)):
            return None
        self._throttle_seen += 1
        n = self._throttle_seen
        if n <= spec.first or (spec.every and n % spec.every == 0):
            self.throttled += 1
            return graph_error(
                429,
                "TooManyRequests",
                "Too many requests. Please retry after the given delay.",
                request.headers.get("client-request-id"),
                {"Retry-After": str(spec.retry_after)},
            )
        return None


def _matches(err: ErrorSpec, request: SandboxRequest) -> bool:
    if err.method and err.method.upper() != request.method.upper():
        return False
    return request.path.lower().startswith(err.path.lower())


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
