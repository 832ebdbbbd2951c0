"""How a failed Graph read becomes a :class:`NotCollected` (the collection's one result type,
:mod:`assessor.collect.interface`).

A collector returns :class:`Collected` or :class:`NotCollected`; "skipped" is a value, never an
empty dict. :func:`failure_from` turns any exception the SDK, httpx, azure-identity or asyncio
raises at the boundary into a :class:`GraphFailure` that names the endpoint and what to fix.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TypeVar

import httpx
from azure.core.exceptions import AzureError
from kiota_abstractions.api_error import APIError

from assessor.collect.interface import Collected, NotCollected, Outcome
from assessor.collect.retry import GRAPH_RETRY_STATUSES
from assessor.redact import redact

__all__ = [
    "GRAPH_ERRORS",
    "THROTTLE_STATUSES",
    "Collected",
    "GraphFailure",
    "NotCollected",
    "Outcome",
    "failure_from",
    "not_collected_from",
]

T = TypeVar("T")

THROTTLE_STATUSES = GRAPH_RETRY_STATUSES


@dataclass(eq=False)
class GraphFailure(Exception):
    """A Graph read that failed, with what went wrong (never a token or secret)."""

    endpoint: str
    status: int | None
    code: str | None
    message: str
    kind: str = "http"  # http | timeout | network | auth | protocol

    def __post_init__(self) -> None:
        self.message = redact(self.message)  # a service may echo what it was sent

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        if self.kind == "timeout":
            return f"{self.endpoint} timed out ({self.message})"
        if self.kind == "network":
            return f"{self.endpoint} could not be reached ({self.message})"
        if self.kind == "auth":
            return f"no access token for {self.endpoint} ({self.message})"
        if self.kind == "protocol":
            return f"{self.endpoint} answered something unexpected ({self.message})"
        code = f" {self.code}" if self.code else ""
        if self.status in THROTTLE_STATUSES:
            return f"{self.endpoint} answered {self.status}{code} and retries within the budget did not succeed"
        return f"{self.endpoint} answered {self.status}{code}: {self.message}"

    @property
    def forbidden(self) -> bool:
        return self.status == 403


# Everything a Graph read can raise at the boundary (SDK API errors, transport, token, parsing).
GRAPH_ERRORS: tuple[type[BaseException], ...] = (
    GraphFailure,
    APIError,
    httpx.HTTPError,
    AzureError,  # ClientAuthenticationError, and ServiceRequestError when the sign-in endpoint is unreachable
    asyncio.TimeoutError,
    TimeoutError,
    ValueError,
    KeyError,
    TypeError,
)


def _odata_code(err: APIError) -> str | None:
    inner = getattr(err, "error", None)
    return getattr(inner, "code", None) if inner is not None else None


def failure_from(exc: BaseException, endpoint: str, timeout: float | None = None) -> GraphFailure:
    """Classify an exception raised while reading ``endpoint``."""
    if isinstance(exc, GraphFailure):
        return exc
    if isinstance(exc, APIError):
        message = (exc.primary_message or type(exc).__name__).splitlines()[0][:300]
        return GraphFailure(endpoint, exc.response_status_code, _odata_code(exc), message)
    if isinstance(exc, (httpx.TimeoutException, asyncio.TimeoutError, TimeoutError)):
        after = f"no answer within {timeout:g} s" if timeout else "no answer in time"
        return GraphFailure(endpoint, None, None, after, "timeout")
    if isinstance(exc, httpx.TransportError):
        return GraphFailure(endpoint, None, None, type(exc).__name__, "network")
    if isinstance(exc, AzureError):
        first = (exc.message or type(exc).__name__).splitlines()[0][:200]
        return GraphFailure(endpoint, None, None, first, "auth")
    if isinstance(exc, (ValueError, KeyError, TypeError)):
        return GraphFailure(endpoint, None, None, f"{type(exc).__name__}: {str(exc)[:200]}", "protocol")
    raise exc


def not_collected_from(failure: GraphFailure, permission: str, source: str) -> NotCollected:
    """The provenance for a failed read: 403 names the permission, other failures say what happened."""
    if failure.forbidden:
        fix = f"grant the Microsoft Graph application permission {permission} (admin consent)"
        return NotCollected(f"permission missing: {failure.describe()}; needs {permission}", fix, source, failure)
    if failure.status == 401 or failure.kind == "auth":
        return NotCollected(
            f"not authenticated: {failure.describe()}",
            f"check the credential or token (it needs {permission})",
            source,
            failure,
        )
    return NotCollected(failure.describe(), None, source, failure)
