"""`POST /$batch`, posted through the SDK's request adapter (auth, retry, telemetry middleware).

msgraph-core's batch helpers drop JSON bodies in current releases, so requests are serialised
here. Up to 20 requests go in one batch; larger lists are split and the batches posted
concurrently. Items answered 429/503/504 are re-posted after their ``Retry-After`` (capped, and
charged to the connection's retry budget: :mod:`assessor.collect.retry`); the rest keep their own
status.

Collectors that run side by side share their batches: :func:`send_batch` hands its requests to the
connection's :class:`BatchWindow`, which waits a few event-loop turns for the other collectors'
requests and posts them all together (the tenant, the SKUs, the role assignments and the user
counts of one tenant travel in one `$batch`). Each caller gets its own answers back, under its own
ids, or the exception of a post its requests were in.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from kiota_abstractions.api_error import APIError
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation

from assessor.collect.graph.client import GraphConnection, send_bytes
from assessor.collect.graph.outcome import THROTTLE_STATUSES, GraphFailure, failure_from
from assessor.collect.retry import retry_after_seconds
from assessor.collect.window import TurnWindow
from assessor.jsontypes import WireObject

MAX_BATCH = 20
ENDPOINT = "POST /$batch"


@dataclass(frozen=True)
class BatchRequest:
    id: str
    url: str  # relative to the version root, e.g. "/users/$count?$filter=..."
    headers: Mapping[str, str] = field(default_factory=dict)
    method: str = "GET"

    def payload(self) -> dict[str, str | dict[str, str]]:
        """The request as one item of a `$batch` body's ``requests`` array."""
        item: dict[str, str | dict[str, str]] = {"id": self.id, "method": self.method, "url": self.url}
        if self.headers:
            item["headers"] = dict(self.headers)
        return item


@dataclass(frozen=True)
class BatchResult:
    id: str
    status: int
    headers: Mapping[str, str]
    body: object  # the item's decoded JSON body (an object, a scalar, or a base64 string), None when absent

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def content_type(self) -> str:
        for key, value in self.headers.items():
            if key.lower() == "content-type":
                return str(value).lower()
        return ""

    def text(self) -> str:
        """The body as text: JSON scalars as-is, non-JSON bodies base64-decoded (as Graph sends them)."""
        if isinstance(self.body, (int, float)):
            return str(self.body)
        if not isinstance(self.body, str):
            return json.dumps(self.body)
        if self.content_type().startswith("application/json"):
            return self.body
        try:
            return base64.b64decode(self.body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return self.body

    def error(self, endpoint: str) -> GraphFailure:
        err = self.body.get("error") if isinstance(self.body, dict) else None
        code = err.get("code") if isinstance(err, dict) else None
        message = err.get("message") if isinstance(err, dict) else None
        return GraphFailure(endpoint, self.status, code, str(message or f"HTTP {self.status}")[:300])

    def page(self, endpoint: str) -> WireObject:
        """The answer as a collection page: a failed answer raises its failure, an answer without a
        ``value`` array a protocol failure (never read as an empty collection)."""
        if not self.ok:
            raise self.error(endpoint)
        if not isinstance(self.body, dict) or not isinstance(self.body.get("value"), list):
            raise GraphFailure(endpoint, self.status, None, "a page without a value array", "protocol")
        return self.body

    def retry_after(self) -> float | None:
        for key, value in self.headers.items():
            if key.lower() == "retry-after":
                return retry_after_seconds(str(value))
        return None


async def _post(conn: GraphConnection, items: Sequence[BatchRequest]) -> list[BatchResult]:
    info = RequestInformation(Method.POST, "{+baseurl}/$batch", {})
    info.headers.try_add("Accept", "application/json")
    body = json.dumps({"requests": [i.payload() for i in items]}).encode("utf-8")
    info.set_stream_content(body, "application/json")
    raw = await send_bytes(conn.adapter, info)
    try:
        doc = json.loads(raw or b"{}")
        responses = doc["responses"]
        return [BatchResult(str(r["id"]), int(r["status"]), r.get("headers") or {}, r.get("body")) for r in responses]
    except (ValueError, KeyError, TypeError) as err:
        raise GraphFailure(
            ENDPOINT, None, None, f"malformed batch response ({type(err).__name__})", "protocol"
        ) from None


# `$batch` answered with one of these as a whole: a service without JSON batching (an emulator, a
# proxy), not a refusal of the requests inside. They are then sent one by one.
NO_BATCH_STATUSES = frozenset({400, 404, 405, 501})
NO_BATCH_NOTE = "{failure}: requests were sent one by one instead of in $batch"


async def _send_one(conn: GraphConnection, item: BatchRequest) -> BatchResult:
    """One request outside `$batch`, answered in the shape of a batch item."""
    info = RequestInformation(Method[item.method.upper()], "{+baseurl}", {})
    info.url = str(conn.adapter.base_url).rstrip("/") + item.url
    for key, value in item.headers.items():
        info.headers.try_add(key, value)
    try:
        raw = await send_bytes(conn.adapter, info)
    except APIError as exc:
        inner = getattr(exc, "error", None)
        error = {
            "code": getattr(inner, "code", None),
            "message": getattr(inner, "message", None) or exc.primary_message,
        }
        return BatchResult(item.id, exc.response_status_code or 500, {}, {"error": error})
    try:
        return BatchResult(item.id, 200, {"Content-Type": "application/json"}, json.loads(raw or b"null"))
    except (ValueError, UnicodeDecodeError):  # a non-JSON body travels base64-encoded, as Graph batches it
        return BatchResult(item.id, 200, {"Content-Type": "text/plain"}, base64.b64encode(raw or b"").decode())


async def _post_or_send_singly(conn: GraphConnection, items: Sequence[BatchRequest]) -> list[BatchResult]:
    try:
        return await _post(conn, items)
    except APIError as exc:
        if exc.response_status_code not in NO_BATCH_STATUSES:
            raise
        failure = failure_from(exc, ENDPOINT)
    note = NO_BATCH_NOTE.format(failure=failure.describe())
    if note not in conn.notes:
        conn.notes.append(note)
    return list(await asyncio.gather(*(_send_one(conn, item) for item in items)))


async def _post_with_item_retries(conn: GraphConnection, items: Sequence[BatchRequest]) -> dict[str, BatchResult]:
    pending = list(items)
    results: dict[str, BatchResult] = {}
    policy = conn.settings.retry
    for attempt in range(policy.max_retries + 1):
        answered = {r.id: r for r in await _post_or_send_singly(conn, pending)}
        missing = [i.id for i in pending if i.id not in answered]
        if missing:
            raise GraphFailure(ENDPOINT, None, None, f"batch answer lacks request ids {missing}", "protocol")
        results.update(answered)
        retry = [i for i in pending if answered[i.id].status in THROTTLE_STATUSES]
        if not retry or attempt == policy.max_retries:
            break
        asked = (answered[i.id].retry_after() for i in retry)
        wait = conn.budget.after_answer(attempt, max(policy.backoff(attempt) if a is None else a for a in asked))
        if wait is None:
            break
        await asyncio.sleep(wait)
        pending = retry
    return results


@dataclass
class _Caller:
    """One `send_batch` call waiting in a window: its requests and where its answers go."""

    requests: Sequence[BatchRequest]
    answers: asyncio.Future[dict[str, BatchResult]]


class BatchWindow:
    """Gathers the `$batch` requests a connection's collectors send within a few event-loop turns of
    each other and posts them together.

    Collectors that start together (or resume on the same answer) reach :func:`send_batch` within a
    turn or two, each through its own chain of coroutines; the window stays open for
    :attr:`TURNS` turns after the first request, then posts everything waiting in as few batches of
    :data:`MAX_BATCH` as fit (a caller's requests kept together where they fit in one), the batches
    concurrently. A request that misses the window goes in the next one: batching changes how many
    posts are made, never an answer.
    """

    TURNS = 4

    def __init__(self, conn: GraphConnection) -> None:
        self._conn = conn
        self._window: TurnWindow[_Caller] = TurnWindow(self.TURNS, self._fly, lambda c: not c.answers.done())

    def submit(self, requests: Sequence[BatchRequest]) -> asyncio.Future[dict[str, BatchResult]]:
        caller = _Caller(requests, asyncio.get_running_loop().create_future())
        self._window.submit(caller)
        return caller.answers

    async def _fly(self, callers: list[_Caller]) -> None:
        chunks = _chunks(callers)
        try:
            posted = await asyncio.gather(
                *(_post_with_item_retries(self._conn, [item for _c, item in chunk]) for chunk in chunks),
                return_exceptions=True,
            )
        except asyncio.CancelledError:
            for caller in callers:
                caller.answers.cancel()
            raise
        answers: dict[int, dict[str, BatchResult]] = {id(c): {} for c in callers}
        errors: dict[int, BaseException] = {}
        for chunk, result in zip(chunks, posted, strict=True):
            for caller, item in chunk:
                if isinstance(result, BaseException):
                    errors.setdefault(id(caller), result)
                else:
                    original = item.id.split(".", 1)[1]
                    answers[id(caller)][original] = replace(result[item.id], id=original)
        for caller in callers:
            if caller.answers.done():
                continue
            error = errors.get(id(caller))
            if error is None:
                caller.answers.set_result(answers[id(caller)])
            elif isinstance(error, asyncio.CancelledError):
                caller.answers.cancel()
            else:
                caller.answers.set_exception(error)


def _chunks(callers: Sequence[_Caller]) -> list[list[tuple[_Caller, BatchRequest]]]:
    """The waiting requests in batches of at most :data:`MAX_BATCH`, each renamed ``{caller}.{id}``
    (ids are unique within one caller only); a caller's requests start a new batch rather than
    straddle two when they would fit in one."""
    chunks: list[list[tuple[_Caller, BatchRequest]]] = [[]]
    for n, caller in enumerate(callers):
        size = len(caller.requests)
        if chunks[-1] and len(chunks[-1]) + size > MAX_BATCH and size <= MAX_BATCH:
            chunks.append([])
        for request in caller.requests:
            if len(chunks[-1]) == MAX_BATCH:
                chunks.append([])
            chunks[-1].append((caller, replace(request, id=f"{n}.{request.id}")))
    return [c for c in chunks if c]


def window_of(conn: GraphConnection) -> BatchWindow:
    if conn.batch_window is None:
        conn.batch_window = BatchWindow(conn)
    return conn.batch_window


async def send_batch(conn: GraphConnection, requests: Sequence[BatchRequest]) -> dict[str, BatchResult]:
    """Send any number of requests in `$batch` posts (shared with the requests other collectors of
    this connection send at the same time); results by request id."""
    ids = [r.id for r in requests]
    if len(set(ids)) != len(ids):
        raise ValueError("batch request ids must be unique")
    if not requests:
        return {}
    return await window_of(conn).submit(requests)
