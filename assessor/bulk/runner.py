"""The bulk scheduler: assess many tenants concurrently under a bound, each one isolated.

The loop knows nothing about Graph or reports: it is given jobs and an ``assess`` coroutine
function (:class:`Assess`) and guarantees, per tenant:

- at most ``concurrency`` tenants are in progress at once (Graph throttling is per tenant, so
  concurrency across tenants is safe);
- a tenant that fails, times out (``tenant_timeout``) or has a bad credential is recorded as
  ``failed`` with its reason, and the others go on;
- ``result.json`` (the tenant's portfolio row) is written atomically in the tenant's directory,
  then the journal records ``done`` or ``failed`` — so a run killed at any moment is resumed by
  re-assessing exactly the tenants that were not recorded done.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, Protocol, TypedDict, cast

from assessor.bulk.manifest import Row
from assessor.bulk.paths import RESULT_FILE
from assessor.bulk.state import StateJournal
from assessor.errors import AssessorError
from assessor.evidence import write_json_atomic

ResultStatus = Literal["done", "failed"]
RESULT_SCHEMA = "assessor.bulk-result/1"


@dataclass(frozen=True)
class TenantJob:
    """One tenant to assess and the directory its outputs go to."""

    row: Row
    directory: Path

    @property
    def key(self) -> str:
        return self.row.entry.key


class CheckState(TypedDict):
    status: str
    severity: str


class TenantSummary(TypedDict, total=False):
    """The figures of one assessed tenant that the portfolio rolls up (empty for a failed tenant;
    read back from ``result.json``, so readers still check what they use)."""

    tenant_id: str | None
    display_name: str | None
    verdict: str
    counts: dict[str, int]
    checks: dict[str, CheckState]
    audit_tier: str | None
    users_in_scope: int | None
    users_without_premium_audit: int | None
    privileged_users_without_premium_audit: int | None
    premium_audit_seats_unassigned: int | None
    seats_to_buy: int | None
    seats_to_assign: int | None
    report: str | None
    files: list[str]
    settings_sha256: str


class ResultDoc(TypedDict):
    """``result.json``: a :class:`TenantResult` with its schema id."""

    schema: str
    key: str
    name: str
    tenant: str
    dir: str
    tags: list[str]
    profile: str
    status: ResultStatus
    reason: str | None
    duration_s: float
    finished_at: str
    summary: TenantSummary


@dataclass(frozen=True)
class TenantResult:
    """A tenant's portfolio row: who, how it went, and (when assessed) the figures of its report."""

    key: str
    name: str
    tenant: str
    dir: str
    tags: list[str]
    profile: str
    status: ResultStatus
    reason: str | None
    duration_s: float
    finished_at: str
    summary: TenantSummary = field(default_factory=TenantSummary)

    def to_json(self) -> ResultDoc:
        return cast(ResultDoc, {"schema": RESULT_SCHEMA, **asdict(self)})  # asdict: the fields, deep-copied

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> TenantResult:  # decoded result.json, checked by the caller
        fields = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw}
        return cls(**fields)


Assess = Callable[[TenantJob], Awaitable[TenantSummary]]


class Progress(Protocol):
    """What the scheduler tells a progress display."""

    def started(self, job: TenantJob) -> None: ...

    def finished(self, result: TenantResult) -> None: ...


class NoProgress:
    def started(self, job: TenantJob) -> None:
        return None

    def finished(self, result: TenantResult) -> None:
        return None


@dataclass(frozen=True)
class Schedule:
    concurrency: int
    tenant_timeout: float


def _failure_reason(err: BaseException, timeout: float) -> str:
    if isinstance(err, asyncio.TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(err, AssessorError):
        return str(err)
    return f"{type(err).__name__}: {err}"


def _result(
    job: TenantJob, status: ResultStatus, reason: str | None, started: float, summary: TenantSummary
) -> TenantResult:
    entry = job.row.entry
    name = entry.name or summary.get("display_name") or entry.label
    return TenantResult(
        key=entry.key,
        name=name,
        tenant=entry.tenant,
        dir=job.directory.name,
        tags=list(entry.tags),
        profile=entry.profile,
        status=status,
        reason=reason,
        duration_s=round(time.perf_counter() - started, 3),
        finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        summary=summary,
    )


def failed_result(job: TenantJob, reason: str) -> TenantResult:
    """The result of a tenant that could not be assessed at all (e.g. its worker process died)."""
    return _result(job, "failed", reason, time.perf_counter(), {})


async def assess_isolated(job: TenantJob, assess: Assess, schedule: Schedule, journal: StateJournal) -> TenantResult:
    """Assess one tenant; any failure of this tenant is recorded, never raised."""
    journal.record("start", job.key, dir=job.directory.name)
    started = time.perf_counter()
    try:
        summary = await asyncio.wait_for(assess(job), schedule.tenant_timeout)
        result = _result(job, "done", None, started, summary)
    except (asyncio.TimeoutError, AssessorError, OSError) as err:
        result = _result(job, "failed", _failure_reason(err, schedule.tenant_timeout), started, {})
    except Exception as err:  # isolation: an unexpected error of one tenant is recorded with its type
        result = _result(job, "failed", _failure_reason(err, schedule.tenant_timeout), started, {})
    write_json_atomic(job.directory / RESULT_FILE, result.to_json())
    journal.record(result.status, job.key, reason=result.reason, duration_s=result.duration_s)
    return result


# Python's cyclic garbage collector, tuned for a scan: without this it took about a fifth of a bulk
# scan's CPU. Each tenant leaves tens of thousands of short-lived containers (requests, tasks,
# decoded JSON, models), so the default first threshold (700 allocations) ran a collection several
# times per tenant, and every full collection walked the hundreds of thousands of long-lived
# objects the SDK and the models create at import.
GC_THRESHOLDS = (20_000, 20, 20)


@contextmanager
def collector_tuned_for_scan() -> Iterator[None]:
    """While a scan runs: what exists before it (modules, classes, schemas, templates) is moved out
    of the collector's sight (``gc.freeze``), and collections run less often. Restored afterwards."""
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


async def run_jobs(
    jobs: Sequence[TenantJob],
    assess: Assess,
    schedule: Schedule,
    journal: StateJournal,
    progress: Progress | None = None,
) -> list[TenantResult]:
    """Assess every job with at most ``schedule.concurrency`` in flight; results in job order."""
    display = progress or NoProgress()
    results: dict[str, TenantResult] = {}
    pending: Iterator[TenantJob] = iter(jobs)

    async def worker() -> None:
        for job in pending:  # the shared iterator hands each job to exactly one worker
            display.started(job)
            result = await assess_isolated(job, assess, schedule, journal)
            results[job.key] = result
            display.finished(result)

    workers = max(1, min(schedule.concurrency, len(jobs)))
    with collector_tuned_for_scan():
        await asyncio.gather(*(worker() for _ in range(workers)))
    return [results[job.key] for job in jobs]


def read_result(directory: Path) -> TenantResult | None:
    """A tenant directory's ``result.json``, or None when absent or unreadable."""
    import json

    path = directory / RESULT_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(raw, dict) or raw.get("schema") != RESULT_SCHEMA:
        return None
    return TenantResult.from_json(raw)
