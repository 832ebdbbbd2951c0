"""What an emulated API is to the server, and the one path every operation takes through it.

An :class:`Api` is one emulator (Graph, the Exchange admin API, its compliance twin, ARM) behind
an API root of the URL (``/{tenant}/{root}/…``). The server builds its table of roots explicitly
(:func:`assessor.sandbox.server.default_apis`); nothing registers itself on import.

:func:`serve_operation` is the path of one operation — a top-level request or one ``$batch``
item — and the only place faults (:mod:`assessor.sandbox.faults`) are applied:

1. the tenant's unscoped fault rules (before the emulator reads the request; Graph's error shape);
2. :meth:`Api.resolve`: the emulator reads what is asked (an Exchange cmdlet, an ARM resource
   kind) or answers by itself (a redirect, a malformed call);
3. the tenant's rules scoped to this API and operation, rendered by :meth:`Api.error`;
4. :meth:`Api.answer`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from assessor.sandbox.faults import Fault, graph_fault
from assessor.sandbox.http import SandboxRequest, SandboxResponse


@dataclass(frozen=True)
class Operation:
    """What a request asks an emulator for: a name fault rules can match, and the parsed request."""

    name: str  # a Graph path, an Exchange cmdlet, an ARM resource kind
    # the emulator's own parse of the request: its type is the emulator's business, which narrows
    # it back (isinstance) when it answers
    detail: object = None


class Api(Protocol):
    """One emulated API. ``name`` is what fault rules scope to (``graph``, ``exchange``, ``compliance``, ``arm``)."""

    @property
    def name(self) -> str: ...

    def resolve(self, request: SandboxRequest) -> Operation | SandboxResponse: ...

    def answer(self, request: SandboxRequest, operation: Operation) -> SandboxResponse: ...

    def error(self, fault: Fault, request: SandboxRequest, operation: Operation) -> SandboxResponse: ...


def serve_operation(api: Api, request: SandboxRequest) -> SandboxResponse:
    """Answer one operation: faults, then the emulator (see the module docstring)."""
    plan = request.tenant.plan
    fault = plan.at_request(request, api.name)
    if fault is not None:
        return graph_fault(fault, request)
    resolved = api.resolve(request)
    if isinstance(resolved, SandboxResponse):
        return resolved
    fault = plan.at_operation(request, api.name, resolved.name)
    if fault is not None:
        return api.error(fault, request, resolved)
    return api.answer(request, resolved)


Handler = Callable[[SandboxRequest], SandboxResponse]


class HandlerApi:
    """An API answered by one function (a seam for tests and small emulators): no operations of
    its own, so only unscoped fault rules apply to it; errors in Graph's shape."""

    def __init__(self, name: str, handler: Handler) -> None:
        self._name = name
        self._handler = handler

    @property
    def name(self) -> str:
        return self._name

    def resolve(self, request: SandboxRequest) -> Operation:
        return Operation(request.path)

    def answer(self, request: SandboxRequest, operation: Operation) -> SandboxResponse:
        return self._handler(request)

    def error(self, fault: Fault, request: SandboxRequest, operation: Operation) -> SandboxResponse:
        return graph_fault(fault, request)
