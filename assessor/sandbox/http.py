"""Request/response value types shared by every emulator handler, and Graph-shaped errors.

Handlers are plain functions ``(SandboxRequest) -> SandboxResponse``; they never touch sockets.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, TypeVar, overload
from urllib.parse import urlsplit

from assessor.jsontypes import JsonValue, decode

if TYPE_CHECKING:
    from assessor.sandbox.state import TenantState

T = TypeVar("T")


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only header mapping."""

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items = {k.lower(): v for k, v in (items or {}).items()}

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def get(self, key: str) -> str | None: ...

    @overload
    def get(self, key: str, default: str | T) -> str | T: ...

    def get(self, key: str, default: object = None) -> object:
        return self._items.get(key.lower(), default)


@dataclass(frozen=True)
class SandboxRequest:
    """One operation addressed to a tenant (a top-level HTTP request or one `$batch` item)."""

    method: str
    path: str = field(metadata={"doc": "Path after the API root, e.g. /users/$count"})
    query: Mapping[str, str]
    headers: Headers
    body: bytes
    tenant: TenantState
    base_url: str = field(metadata={"doc": "The API root as the client sees it, e.g. http://h:p/<tenant>/v1.0"})
    in_batch: bool = False

    def json(self) -> JsonValue:
        """The body decoded as JSON (None when it is empty or not JSON)."""
        try:
            return decode(self.body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None


@dataclass(frozen=True)
class SandboxResponse:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, value: object, status: int = 200, headers: Mapping[str, str] | None = None) -> SandboxResponse:
        """A JSON answer; ``value`` is anything :func:`json.dumps` encodes as it stands (a document
        typed by its emulator: a TypedDict, a :mod:`assessor.jsontypes` alias, or a projection)."""
        data = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return cls(status, data, "application/json; odata.metadata=minimal; charset=utf-8", headers or {})

    @classmethod
    def text(cls, value: str, status: int = 200) -> SandboxResponse:
        return cls(status, value.encode("utf-8"), "text/plain; charset=utf-8")

    def decoded(self) -> JsonValue:
        """The body as JSON when it is JSON, else as text (for `$batch` and tests)."""
        if self.content_type.startswith("application/json"):
            return decode(self.body) if self.body else None
        return self.body.decode("utf-8")


def path_after_root(url: str, base_url: str) -> str | None:
    """The path and query of ``url`` after the API root ``base_url`` (``http://h:p/<tenant>/<root>``):
    a relative URL as it is; an absolute one on the same host under ``/<tenant>/<root>`` or, as a
    server with one tenant also answers, under ``/<root>``; None for anything else."""
    if url.startswith("/"):
        return url
    parts, base = urlsplit(url), urlsplit(base_url)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
        return None
    query = f"?{parts.query}" if parts.query else ""
    for root in (base.path.rstrip("/"), "/" + base.path.rstrip("/").rsplit("/", 1)[-1]):
        if parts.path.startswith(root + "/"):
            return parts.path[len(root) :] + query
    return None


def graph_error(
    status: int,
    code: str,
    message: str,
    client_request_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> SandboxResponse:
    """A response with Graph's error body ``{"error": {"code", "message", "innerError"}}``."""
    request_id = str(uuid.uuid4())
    inner = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": request_id,
        "client-request-id": client_request_id or request_id,
    }
    return SandboxResponse.json({"error": {"code": code, "message": message, "innerError": inner}}, status, headers)
