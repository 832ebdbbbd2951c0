"""Chaos mode: seeded, per-tenant random faults injected around the sandbox's handlers.

A :class:`Chaos` is given to :class:`~assessor.sandbox.server.SandboxServer` (``chaos=``). For
every top-level request of a selected tenant it draws one fault kind (or none) from the
configured rates and applies it:

- ``throttle`` / ``throttle_bare``: 429 with / without ``Retry-After``;
- ``http_500`` / ``http_503`` / ``http_504``: a Graph-shaped server error;
- ``reset``: the connection is closed without any response;
- ``timeout``: the server sleeps ``timeout_seconds`` (past the client's timeout), then closes;
- ``slow``: the server sleeps ``slow_seconds``, then answers normally;
- ``malformed_json``: a 200 whose JSON body is cut in the middle;
- ``truncated_page``: a 200 page missing its ``value`` array, or (for ``$count=true`` streams,
  where a client can notice) with ``value`` cut short and its ``@odata.nextLink`` dropped;
- ``loop_next_link``: a page whose ``@odata.nextLink`` points back to the first page link the
  server issued for that path (a paging loop).

Inside a ``$batch`` (Graph's, and the Exchange admin API's) every item is drawn for on its own too
(an item's path after the API root is matched against ``paths``; an Exchange item's draw and page
stream also depend on its body, which names the cmdlet), as the service answers each item with its
own status: an item gets the
status kinds (``throttle``, ``throttle_bare``, ``http_5xx``) as its own error answer, and
``truncated_page`` / ``loop_next_link`` altering its page; the transport kinds (``reset``,
``timeout``, ``slow``, ``malformed_json``) only ever hit a whole request.

Independently, ``expire_after=N`` answers 401 "token expired" to every top-level request of a
tenant after its N-th (an expired token mid-run).

The error kinds are :class:`~assessor.sandbox.faults.Fault` values answered like the server's
unscoped fault rules (Graph's error shape, whatever the API): chaos differs from them only in
drawing *which* requests fail at random.

Determinism: the draw for a request depends only on the seed, the tenant, the request (method,
path, query, body) and how many times that same request was seen before — not on thread timing —
so one seed replays the same faults for the same request sequence.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal, TypedDict, get_args
from urllib.parse import urlsplit

from assessor.errors import UsageError
from assessor.jsontypes import JsonObject, JsonValue, decode
from assessor.sandbox.faults import Fault, graph_fault
from assessor.sandbox.http import SandboxRequest, SandboxResponse, path_after_root

FaultKind = Literal[
    "throttle",
    "throttle_bare",
    "http_500",
    "http_503",
    "http_504",
    "reset",
    "timeout",
    "slow",
    "malformed_json",
    "truncated_page",
    "loop_next_link",
]
FAULT_KINDS: Final[tuple[FaultKind, ...]] = get_args(FaultKind)
EXPIRED: Final = "expired_token"
#: The status of a response that tells the HTTP layer to close the socket without answering.
DROP_CONNECTION: Final = 0
_STATUS = {
    "http_500": (500, "InternalServerError"),
    "http_503": (503, "ServiceUnavailable"),
    "http_504": (504, "GatewayTimeout"),
}
EXPIRED_FAULT: Final = Fault(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
_AFTER: Final[frozenset[str]] = frozenset({"malformed_json", "truncated_page", "loop_next_link"})
_ITEM_PAGE_KINDS: Final[frozenset[str]] = frozenset({"truncated_page", "loop_next_link"})


if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack is 3.11+; only the type checker reads it


class ChaosError(UsageError):
    """A chaos configuration that cannot be used."""


class ChaosOptions(TypedDict, total=False):
    """The fields of a :class:`ChaosConfig` besides its rates (for :meth:`ChaosConfig.only` and
    :meth:`ChaosConfig.uniform`)."""

    seed: int
    tenants: Collection[str] | None
    paths: Collection[str] | None
    retry_after: int
    timeout_seconds: float
    slow_seconds: float
    expire_after: int | None


@dataclass(frozen=True)
class ChaosConfig:
    """Which faults, how often (probability per request, summed ≤ 1), and for which tenants."""

    seed: int = 0
    rates: Mapping[str, float] = field(default_factory=dict)
    tenants: Collection[str] | None = None  # tenant ids or names (None = every tenant)
    paths: Collection[str] | None = None  # only requests whose path after the API root starts so
    retry_after: int = 0
    timeout_seconds: float = 2.0
    slow_seconds: float = 0.2
    expire_after: int | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.rates) - set(FAULT_KINDS))
        if unknown:
            raise ChaosError(f"unknown chaos fault kind(s) {unknown}; use {list(FAULT_KINDS)}")
        if any(r < 0 for r in self.rates.values()) or sum(self.rates.values()) > 1.0 + 1e-9:
            raise ChaosError("chaos rates must be ≥ 0 and sum to at most 1")
        if self.expire_after is not None and self.expire_after < 0:
            raise ChaosError("expire_after must be ≥ 0")

    @classmethod
    def only(cls, kind: str, rate: float = 1.0, **kwargs: Unpack[ChaosOptions]) -> ChaosConfig:
        """Every request of a selected tenant gets ``kind`` with probability ``rate``."""
        return cls(rates={kind: rate}, **kwargs)

    @classmethod
    def uniform(cls, total: float, **kwargs: Unpack[ChaosOptions]) -> ChaosConfig:
        """Every fault kind with the same probability; ``total`` is their sum."""
        return cls(rates={k: total / len(FAULT_KINDS) for k in FAULT_KINDS}, **kwargs)


Inner = Callable[[], SandboxResponse]


@dataclass(frozen=True)
class _Draw:
    kind: FaultKind | None
    expired: bool
    variant: float


@dataclass(frozen=True)
class _Where:
    raw_path: str  # path and query as requested
    stream: str  # the page stream the request belongs to
    own_url: str  # the URL the client requested


@dataclass
class _TenantChaos:
    requests: int = 0
    seen: Counter[str] = field(default_factory=Counter)
    first_links: dict[str, str] = field(default_factory=dict)


class Chaos:
    """Decides and applies faults; thread-safe; counts what it injected (``injected``)."""

    def __init__(self, config: ChaosConfig) -> None:
        self.config = config
        self.injected: Counter[str] = Counter()
        self._selected = {t.lower() for t in config.tenants} if config.tenants is not None else None
        self._tenants: dict[str, _TenantChaos] = {}
        self._lock = threading.Lock()

    def selects(self, tenant_id: str, tenant_name: str) -> bool:
        return self._selected is None or tenant_id.lower() in self._selected or tenant_name.lower() in self._selected

    def _on_path(self, path: str) -> bool:
        paths = self.config.paths
        return paths is None or any(path.startswith(p) for p in paths)

    # ---- the hook

    def serve(self, request: SandboxRequest, raw_path: str, inner: Inner) -> SandboxResponse:
        """The response for ``request``: a fault, or ``inner()`` possibly altered afterwards."""
        tenant = request.tenant.tenant
        if not self.selects(tenant.id, tenant.name):
            return inner()
        if request.method == "POST" and (request.path == "/$batch" or request.path.lower().endswith("/$batch")):
            response = self._serve_request(request, raw_path, inner) if self._on_path(request.path) else inner()
            return self._batch_items(tenant.id, request, response)
        if not self._on_path(request.path):
            return inner()
        return self._serve_request(request, raw_path, inner)

    def _serve_request(self, request: SandboxRequest, raw_path: str, inner: Inner) -> SandboxResponse:
        tenant = request.tenant.tenant
        draw = self._draw(tenant.id, request, raw_path)
        if draw.expired:
            self._count(EXPIRED)
            return graph_fault(EXPIRED_FAULT, request)
        if draw.kind is not None and draw.kind not in _AFTER:
            return self._before(draw.kind, request, inner)
        response = inner()
        stream = _stream_key(raw_path, request.body)
        doc = self._observe(tenant.id, stream, response)
        if draw.kind is None:
            return response
        where = _Where(raw_path, stream, _origin(request.base_url) + raw_path)
        return self._after(draw, tenant.id, where, response, doc)

    # ---- drawing

    def _draw(self, tenant_id: str, request: SandboxRequest, raw_path: str) -> _Draw:
        key = f"{request.method} {raw_path} {hashlib.sha256(request.body).hexdigest()[:16]}"
        with self._lock:
            state = self._tenants.setdefault(tenant_id, _TenantChaos())
            state.requests += 1
            count = state.requests
        limit = self.config.expire_after
        if limit is not None and count > limit:
            return _Draw(None, True, 0.0)
        return self._roll(tenant_id, key)

    def _roll(self, tenant_id: str, key: str) -> _Draw:
        """The fault kind (or none) for the nth time ``key`` is seen: seeded, independent of timing."""
        with self._lock:
            state = self._tenants.setdefault(tenant_id, _TenantChaos())
            nth = state.seen[key]
            state.seen[key] += 1
        rng = random.Random(f"{self.config.seed}|{tenant_id}|{key}|{nth}")  # noqa: S311 (replayable, not secret)
        roll, variant = rng.random(), rng.random()
        edge = 0.0
        for kind in FAULT_KINDS:
            edge += self.config.rates.get(kind, 0.0)
            if roll < edge:
                return _Draw(kind, False, variant)
        return _Draw(None, False, variant)

    # ---- faults inside a $batch

    def _batch_items(self, tenant_id: str, request: SandboxRequest, response: SandboxResponse) -> SandboxResponse:
        """A batch answer with each item drawn for as its own operation (status and page kinds)."""
        doc = _json_object(response.body) if response.status == 200 else None
        asked = _json_object(request.body)
        answers = doc.get("responses") if doc is not None else None
        items = asked.get("requests") if asked is not None else None
        if doc is None or not isinstance(answers, list) or not isinstance(items, list):
            return response
        by_id: dict[str, JsonObject] = {str(i.get("id")): i for i in items if isinstance(i, dict)}
        changed = False
        out: list[JsonValue] = []
        for answer in answers:
            faulted = None
            if isinstance(answer, dict):
                item = by_id.get(str(answer.get("id")))
                faulted = self._batch_item(tenant_id, request, item, answer) if item is not None else None
            changed = changed or faulted is not None
            out.append(answer if faulted is None else faulted)
        return SandboxResponse.json({**doc, "responses": out}, 200, response.headers) if changed else response

    def _batch_item(
        self, tenant_id: str, request: SandboxRequest, item: JsonObject, answer: JsonObject
    ) -> JsonObject | None:
        raw_path = _item_path(str(item.get("url", "")), request.base_url)
        if not self._on_path(urlsplit(raw_path).path):
            return None
        # a Graph item is a GET of its URL; an Exchange item is a POST whose body names the cmdlet
        body = item.get("body")
        key = f"GET {raw_path}" if body is None else f"{item.get('method', 'POST')} {raw_path} {_digest(body)}"
        draw = self._roll(tenant_id, f"{key} item")
        fault = self._status_fault(draw.kind)
        if fault is not None:
            error = graph_fault(fault, request)
            headers: JsonObject = {"Content-Type": error.content_type, **error.headers}
            return {"id": answer.get("id"), "status": error.status, "headers": headers, "body": error.decoded()}
        body = answer.get("body")
        if draw.kind not in _ITEM_PAGE_KINDS or answer.get("status") != 200 or not isinstance(body, dict):
            return None
        stream = f"{raw_path.split('?', 1)[0]}{'' if body is None else ' ' + _digest(body)} item"
        self._remember_first_link(tenant_id, stream, body)
        altered = self._page_fault(draw, tenant_id, _Where(raw_path, stream, request.base_url + raw_path), body)
        return None if altered is None else {**answer, "body": altered}

    def _count(self, kind: str) -> None:
        with self._lock:
            self.injected[kind] += 1

    # ---- faults before the handler

    def _before(self, kind: FaultKind, request: SandboxRequest, inner: Inner) -> SandboxResponse:
        fault = self._status_fault(kind)
        if fault is not None:
            return graph_fault(fault, request)
        self._count(kind)
        if kind == "reset":
            return SandboxResponse(DROP_CONNECTION)
        if kind == "timeout":
            time.sleep(self.config.timeout_seconds)
            return SandboxResponse(DROP_CONNECTION)
        time.sleep(self.config.slow_seconds)  # slow
        return inner()

    def _status_fault(self, kind: FaultKind | None) -> Fault | None:
        """The error answer of a status kind (throttling, a server error), counted; None for others."""
        if kind in ("throttle", "throttle_bare"):
            retry_after = self.config.retry_after if kind == "throttle" else None
            fault = Fault(429, "TooManyRequests", "Too many requests.", retry_after=retry_after)
        elif kind is not None and kind in _STATUS:
            status, code = _STATUS[kind]
            fault = Fault(status, code, f"Injected {status}.")
        else:
            return None
        self._count(kind)
        return fault

    # ---- faults applied to the handler's answer

    def _remember_first_link(self, tenant_id: str, stream: str, doc: JsonObject) -> None:
        link = doc.get("@odata.nextLink")
        if isinstance(link, str):
            with self._lock:
                self._tenants[tenant_id].first_links.setdefault(stream, link)

    def _page_fault(self, draw: _Draw, tenant_id: str, where: _Where, doc: JsonObject) -> JsonObject | None:
        """A page cut short or missing its value (``truncated_page``), or pointing back at an earlier
        page (``loop_next_link``), counted; None when the page has no value array to alter."""
        values = doc.get("value")
        if not isinstance(values, list):
            return None
        if draw.kind == "truncated_page":
            counted = request_counts(where.raw_path)
            altered: JsonObject | None = _truncate(doc, values, drop_value=not counted or draw.variant < 0.5)
        else:
            altered = self._loop(doc, tenant_id, where.stream, where.own_url)
        if altered is not None:
            self._count(str(draw.kind))
        return altered

    def _observe(self, tenant_id: str, stream: str, response: SandboxResponse) -> JsonObject | None:
        """Decode a JSON page and remember the first ``@odata.nextLink`` issued for its path."""
        if response.status != 200 or not response.content_type.startswith("application/json"):
            return None
        doc = _json_object(response.body)
        if doc is not None:
            self._remember_first_link(tenant_id, stream, doc)
        return doc

    def _after(
        self,
        draw: _Draw,
        tenant_id: str,
        where: _Where,
        response: SandboxResponse,
        doc: JsonObject | None,
    ) -> SandboxResponse:
        if doc is None:
            return response
        if draw.kind == "malformed_json":
            self._count(draw.kind)
            return SandboxResponse(
                200, response.body[: max(1, len(response.body) // 2)], response.content_type, response.headers
            )
        altered = self._page_fault(draw, tenant_id, where, doc)
        return response if altered is None else SandboxResponse.json(altered, 200, response.headers)

    def _loop(self, doc: JsonObject, tenant_id: str, stream: str, own_url: str) -> JsonObject | None:
        """Point the next link back at the stream's second page, or (on page 1) at page 1 itself."""
        link = doc.get("@odata.nextLink")
        if not isinstance(link, str):
            return None
        with self._lock:
            first = self._tenants[tenant_id].first_links.get(stream)
        return {**doc, "@odata.nextLink": own_url if first in (None, link) else first}


def _item_path(url: str, base_url: str) -> str:
    """A $batch item's path and query after the API root: Graph items carry it relative, Exchange
    items the whole URL (the same as the request a single call would make)."""
    rest = path_after_root(url, base_url)
    if rest is not None:
        return rest
    return "/" + url


def _digest(value: JsonValue) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _stream_key(raw_path: str, body: bytes) -> str:
    """One page stream: the path without its query, plus the body (Exchange cmdlets share a path)."""
    return f"{raw_path.split('?', 1)[0]} {hashlib.sha256(body).hexdigest()[:16]}"


def request_counts(raw_path: str) -> bool:
    """Whether a page request asked for ``$count=true`` (so a page cut short can be noticed)."""
    query = raw_path.partition("?")[2].lower()
    return "%24count=true" in query or "$count=true" in query


def _truncate(doc: JsonObject, values: list[JsonValue], drop_value: bool) -> JsonObject:
    """A page missing its value, or (for counted streams) with value cut short and no next link
    (``values``: the page's ``value`` list).

    A page cut short that carries no total cannot be told from a genuine last page by any
    client, so it is only injected where the stream's ``@odata.count`` lets it be noticed.
    """
    out = {k: v for k, v in doc.items() if k != "@odata.nextLink"}
    if drop_value or len(values) < 2:
        out.pop("value")
    else:
        out["value"] = values[: len(values) // 2]
    return out


def _json_object(body: bytes) -> JsonObject | None:
    try:
        doc = decode(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def chaos_for_serve(seed: int | None, rate: float) -> Chaos | None:
    """``assessor sandbox serve --chaos SEED --chaos-rate R``: every fault kind, R of all requests in total."""
    if seed is None:
        return None
    if not 0 < rate <= 1:
        raise ChaosError(f"--chaos-rate {rate:g}: use a share of requests between 0 and 1")
    return Chaos(ChaosConfig.uniform(rate, seed=seed))
