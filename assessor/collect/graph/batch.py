"""`POST /$batch`, posted through the SDK's request adapter (auth, retry, telemetry middleware).

msgraph-core's batch helpers drop JSON bodies in current releases, so requests are serialised
here. Up to 20 requests go in one batch; larger lists are split and the batches posted
concurrently. Items answered 429/503/504 are re-posted after their ``Retry-After`` (capped, and
charged to the connection's retry budget: :mod:`assessor.collect.retry`); the rest keep their own
status.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kiota_abstractions.api_error import APIError
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation

from assessor.collect.graph.client import GraphConnection, send_bytes
from assessor.collect.graph.outcome import THROTTLE_STATUSES, GraphFailure, failure_from
from assessor.collect.retry import retry_after_seconds

MAX_BATCH = 20
ENDPOINT = "POST /$batch"


@dataclass(frozen=True)
class BatchRequest:
    id: str
    url: str  # relative to the version root, e.g. "/users/$count?$filter=..."
    headers: Mapping[str, str] = field(default_factory=dict)
    method: str = "GET"

    def payload(self) -> dict[str, Any]:
        item: dict[str, Any] = {"id": self.id, "method": self.method, "url": self.url}
        if self.headers:
            item["headers"] = dict(self.headers)
        return item


@dataclass(frozen=True)
class BatchResult:
    id: str
    status: int
    headers: Mapping[str, str]
    body: Any

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


async def send_batch(conn: GraphConnection, requests: Sequence[BatchRequest]) -> dict[str, BatchResult]:
    """Send any number of requests as concurrent `$batch` posts; results by request id."""
    ids = [r.id for r in requests]
    if len(set(ids)) != len(ids):
        raise ValueError("batch request ids must be unique")
    chunks = [requests[i : i + MAX_BATCH] for i in range(0, len(requests), MAX_BATCH)]
    answers = await asyncio.gather(*(_post_with_item_retries(conn, c) for c in chunks))
    merged: dict[str, BatchResult] = {}
    for answer in answers:
        merged.update(answer)
    return merged
