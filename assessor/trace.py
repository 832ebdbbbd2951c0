"""``--trace FILE``: one JSON line per HTTP exchange, describing its shape and never its content.

A line holds what diagnoses a first run against a real tenant — and can be turned into a
conformance sample — without anything that identifies the tenant's people or grants access::

    {"t": "2026-11-30T06:01:02.345Z", "tenant": "t1", "method": "GET", "host": "graph.microsoft.com",
     "path": "/v1.0/users/{id}/memberOf", "query": ["$select", "$top"], "status": 200, "ms": 84.2,
     "bytes": 5231, "shape": {"keys": ["@odata.context", "@odata.nextLink", "value"],
     "counts": {"value": 100}, "annotations": ["@odata.context", "@odata.nextLink", "@odata.type"]}}

- **Never written**: header values (tokens, cookies), query option values, request and response
  bodies, and any path segment that can name someone or something: GUIDs, UPNs, domains, quoted
  keys and long opaque tokens become ``{id}``, ``{upn}``, ``{domain}``.
- **Shape** of a JSON answer: its top-level keys, the length of every top-level list, and the
  annotation names (``@odata.*``, ``@adminapi.*``, ``…@odata.type``) at the top level and in the
  first items of its lists. A non-JSON answer is described by its size and whether it is text.

The hooks are attached to every httpx client the collectors build (Graph, Exchange, compliance)
and do nothing while no trace is open.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TypedDict
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx

from assessor.errors import UsageError

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DOMAIN = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_OPAQUE = re.compile(r"^[A-Za-z0-9_\-+/=%.~]{24,}$")
_QUOTED = re.compile(r"'[^']*'")
_KEEP = re.compile(r"^(v1\.0|beta|(microsoft\.)?graph\.[A-Za-z.]+|\$[a-z]+)$")
MAX_ANNOTATIONS = 40
ITEMS_INSPECTED = 20
START = "assessor_trace_start"

# the label of the tenant whose collection is running in this task (bulk traces many at once)
trace_label: ContextVar[str | None] = ContextVar("assessor_trace_label", default=None)


def tenant_label(key: str) -> str:
    """A label for a tenant's lines in a bulk trace that names no one: ``t-`` and a short hash of
    its manifest key (the MSP can compute it; a reader of the trace cannot reverse it)."""
    return "t-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]


class TraceWriter:
    """An open ``--trace`` file: one JSON object per line, written under a lock."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle
        self._lock = threading.Lock()
        self.lines = 0

    def write(self, entry: Mapping[str, object]) -> None:
        line = json.dumps(entry, ensure_ascii=True, separators=(",", ":"), sort_keys=False)
        with self._lock:
            self._handle.write(line + "\n")
            self._handle.flush()
            self.lines += 1


class ForwardingWriter:
    """A trace sink that hands every line to ``send`` (a bulk worker process forwards its lines to
    the parent, which alone owns the ``--trace`` file)."""

    def __init__(self, send: Callable[[Mapping[str, object]], None]) -> None:
        self._send = send
        self.lines = 0

    def write(self, entry: Mapping[str, object]) -> None:
        self._send(dict(entry))
        self.lines += 1


_ACTIVE: TraceWriter | ForwardingWriter | None = None
_ACTIVE_LOCK = threading.Lock()


def active_writer() -> TraceWriter | ForwardingWriter | None:
    """The sink of the trace open in this process, if any."""
    return _ACTIVE


@contextmanager
def forwarding(send: Callable[[Mapping[str, object]], None] | None) -> Iterator[None]:
    """In a worker process: trace lines go to ``send`` (or nowhere when None, even if the process
    inherited its parent's open trace by fork)."""
    global _ACTIVE
    writer = ForwardingWriter(send) if send is not None else None
    with _ACTIVE_LOCK:
        previous, _ACTIVE = _ACTIVE, writer
    try:
        yield
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE = previous


@contextmanager
def tracing(path: Path | None) -> Iterator[TraceWriter | None]:
    """Open ``path`` for the duration of a command (nothing when None)."""
    global _ACTIVE
    if path is None:
        yield None
        return
    try:
        handle = path.open("w", encoding="utf-8")
    except OSError as err:
        raise UsageError(f"--trace: cannot write {path} ({err.strerror or type(err).__name__})") from None
    writer = TraceWriter(handle)
    with _ACTIVE_LOCK:
        previous, _ACTIVE = _ACTIVE, writer
    try:
        yield writer
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE = previous
        handle.close()


# --------------------------------------------------------------------------- redaction


# Azure Resource Manager collections whose next segment is a name the tenant chose (resource group,
# workspace, storage account, diagnostic setting, connector…): never written
_ARM_NAMED = frozenset(
    {
        "resourcegroups",
        "workspaces",
        "storageaccounts",
        "diagnosticsettings",
        "dataconnectors",
        "namespaces",
        "eventhubs",
        "authorizationrules",
        "containers",
    }
)


def redact_path(path: str) -> str:
    """The path with every segment that may identify someone or something replaced."""
    out: list[str] = []
    for raw in path.split("/"):
        segment = unquote(raw)
        named = bool(out) and out[-1].lower() in _ARM_NAMED
        out.append("{name}" if named and segment else _segment(segment))
    return "/".join(out)


def _segment(segment: str) -> str:
    if not segment or _KEEP.match(segment):
        return segment
    if "=" in segment and "(" not in segment:  # roleTemplateId=…, alternate keys
        name, _, _value = segment.partition("=")
        return f"{_segment(name)}={{id}}"
    if "'" in segment:  # queries('…'), EXOBanner('AutogenSession'), users('ann@contoso.com')
        return _QUOTED.sub("'{id}'", segment)
    if "@" in segment:
        return "{upn}"
    if _GUID.search(segment):
        return _GUID.sub("{id}", segment)
    if _DOMAIN.match(segment):
        return "{domain}"
    if _OPAQUE.match(segment):
        return "{id}"
    return segment


def query_names(query: str) -> list[str]:
    """The names of the query options, never their values."""
    return sorted({_segment(name) for name, _value in parse_qsl(query, keep_blank_values=True)})


# --------------------------------------------------------------------------- shapes


class BodyShape(TypedDict, total=False):
    """What a trace line says about a response body: never a value, only its form."""

    kind: str  # when not a JSON object: empty, array, non-JSON text/binary, or the JSON type
    keys: list[str]
    counts: dict[str, int]  # list lengths by key ("" for a top-level array)
    annotations: list[str]


class Redirect(TypedDict):
    host: str
    path: str


class TraceEntry(TypedDict, total=False):
    """One ``--trace`` line."""

    t: str
    tenant: str
    method: str
    host: str
    path: str
    query: list[str]
    status: int
    ms: float | None
    bytes: int
    shape: BodyShape
    redirect: Redirect


def _annotations(doc: Mapping[object, object]) -> set[str]:
    return {k for k in doc if isinstance(k, str) and "@" in k}


def shape_of(body: bytes, content_type: str) -> BodyShape:
    """Top-level keys, list lengths and annotation names of a JSON body; size and kind otherwise."""
    if not body:
        return {"kind": "empty"}
    try:
        doc = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        text = "text" if content_type.startswith("text/") or b"\x00" not in body[:512] else "binary"
        return {"kind": f"non-JSON {text}"}
    if isinstance(doc, list):
        return {"kind": "array", "counts": {"": len(doc)}}
    if not isinstance(doc, dict):
        return {"kind": type(doc).__name__}
    annotations = _annotations(doc)
    counts: dict[str, int] = {}
    for key, value in doc.items():
        if isinstance(value, list):
            counts[key] = len(value)
            for item in value[:ITEMS_INSPECTED]:
                if isinstance(item, dict):
                    annotations |= _annotations(item)
        elif isinstance(value, dict) and key == "error":
            annotations |= {f"error.{k}" for k in value if isinstance(k, str)}
    shape: BodyShape = {"keys": sorted(k for k in doc if isinstance(k, str) and "@" not in k)}
    if counts:
        shape["counts"] = counts
    if annotations:
        shape["annotations"] = sorted(annotations)[:MAX_ANNOTATIONS]
    return shape


# --------------------------------------------------------------------------- httpx hooks


async def _on_request(request: httpx.Request) -> None:
    if _ACTIVE is not None:
        request.extensions[START] = time.perf_counter()


async def _on_response(response: httpx.Response) -> None:
    writer = _ACTIVE
    if writer is None:
        return
    body = await response.aread()
    request = response.request
    started = request.extensions.get(START)
    url = urlsplit(str(request.url))
    entry: TraceEntry = {
        "t": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    label = trace_label.get()
    if label is not None:
        entry["tenant"] = label
    entry.update(
        {
            "method": request.method,
            "host": url.netloc.rsplit("@", 1)[-1],
            "path": redact_path(url.path),
            "query": query_names(url.query),
            "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1) if isinstance(started, float) else None,
            "bytes": len(body),
            "shape": shape_of(body, response.headers.get("content-type", "")),
        }
    )
    if response.status_code in (301, 302, 303, 307, 308):
        location = urlsplit(response.headers.get("location", ""))
        entry["redirect"] = {"host": location.netloc, "path": redact_path(location.path)}
    writer.write(entry)


def trace_hooks() -> dict[str, list[Callable[..., Awaitable[None]]]]:
    """httpx ``event_hooks`` that trace every exchange while a trace is open."""
    return {"request": [_on_request], "response": [_on_response]}
