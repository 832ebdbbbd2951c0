"""The event probe: does the unified audit log actually hold the events the profile requires?

:func:`run_probe` creates Purview audit log queries for the required operations over the last
``days`` days, polls them with back-off until they succeed, streams their records and aggregates
them on the fly into an :class:`~assessor.evidence.AuditProbe` section. By default every operation
gets its own query, all running concurrently: the service runs them in parallel, and a high-volume
operation (MailItemsAccessed) reaching the record-count limit cannot hide a low-volume one.

Each query's figures are whole or absent: a query that failed or was cancelled, a 401/403 (the
app may hold the AuditLogsQuery permission of one workload only), an unreachable service or the
probe timeout drop that query's counts and record why in its ``error``, while the other queries
still count — never a partial count presented as the window's figures. When every query fails the
section is ``not_collected`` with the reason (and the query ids and statuses reached). Outside the
Global cloud the API does not exist, and the probe returns ``not_collected`` without a request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from msgraph import GraphServiceClient

from assessor.collect.interface import Collected, NotCollected
from assessor.collect.probe.aggregate import ProbeTally
from assessor.collect.probe.clients import ClientBooks, MailboxIndex, stamp_of
from assessor.collect.probe.errors import ProbeError, ProbeForbidden, ProbeTimeout
from assessor.collect.probe.service import (
    CREATE,
    GET_QUERY,
    GET_RECORDS,
    AuditApi,
    PollPolicy,
    QueryRequest,
    QueryState,
    create_query,
    record_pages,
    wait_until_succeeded,
)
from assessor.collect.probe.sink import RecordSink
from assessor.errors import UsageError
from assessor.evidence import AuditProbe, ProbeQuery
from assessor.knowledge import KNOWN_EVENTS, Knowledge, load_knowledge
from assessor.vocabulary import Cloud

# DOMAIN.md, "Microsoft Graph surface": the audit search exists in the Global cloud only
# (Learn lists GCC/"US Government L4", DoD and 21Vianet as unavailable).
AUDIT_SEARCH_CLOUDS = frozenset({Cloud.GLOBAL})
MAX_DAYS = 180
DEFAULT_TIMEOUT = 600.0
ALL_LOGS_PERMISSION = "AuditLogsQuery.Read.All"
WORKLOAD_PERMISSIONS = {
    "Exchange": "AuditLogsQuery-Exchange.Read.All",
    "SharePoint": "AuditLogsQuery-SharePoint.Read.All",
    "OneDrive": "AuditLogsQuery-OneDrive.Read.All",
    "AzureActiveDirectory": "AuditLogsQuery-Entra.Read.All",
}
SOURCE = f"{CREATE}; {GET_QUERY}; {GET_RECORDS}"


def source_for(versions: Sequence[str], fell_back: str | None = None) -> str:
    """The provenance source naming the Graph version(s) that answered."""
    named = " and ".join(f"/{v}" for v in versions) or "/v1.0"
    text = f"{SOURCE} on Graph {named}"
    if fell_back is not None:
        text += f" (v1.0 answered 404, so beta was asked: {fell_back[:160]})"
    return text


@dataclass(frozen=True)
class ProbeSettings:
    """How the probe runs (the window and time bound are arguments of :func:`run_probe`)."""

    combine: bool = False
    service_filters: bool = False  # narrow each query to its events' workloads (serviceFilters)
    page_size: int | None = None
    top_app_ids: int = 10
    recent_days: int = 7  # --recent-days: the recent part of the window; the rest is the client baseline
    poll: PollPolicy = field(default_factory=PollPolicy)
    display_name: str = "m365-audit-assessor event probe"


@dataclass
class _Progress:
    """What the queries reached so far (for the reason when the probe cannot finish)."""

    queries: dict[str, QueryState] = field(default_factory=dict)
    operations: dict[str, tuple[str, ...]] = field(default_factory=dict)
    pages: int = 0

    def update(self, state: QueryState, operations: tuple[str, ...] | None = None) -> None:
        self.queries[state.id] = state
        if operations is not None:
            self.operations[state.id] = operations

    def describe(self) -> str:
        if not self.queries:
            return "no query was created"
        parts = [f"{qid} ({'+'.join(self.operations.get(qid, ()))}): {s.status}" for qid, s in self.queries.items()]
        return "queries " + ", ".join(parts) + f"; {self.pages} record pages read"


# --------------------------------------------------------------------------- inputs


def operations_for(required_events: Sequence[str], kb: Knowledge | None = None) -> list[str]:
    """The audit operations behind a profile's required events (e.g. MailItemsAccessed, Send)."""
    events = (kb or load_knowledge()).events
    return [events[name].operation for name in required_events]


def all_event_operations(kb: Knowledge | None = None) -> list[str]:
    """The operations of every event the assessor knows (evidence that serves any profile offline)."""
    events = (kb or load_knowledge()).events
    return [events[name].operation for name in KNOWN_EVENTS]


def permission_for(operations: Sequence[str], kb: Knowledge | None = None) -> str:
    """The permission that lets the probe read these operations, with the per-workload alternatives."""
    by_operation = {e.operation: e.workload for e in (kb or load_knowledge()).events.values()}
    per_workload: dict[str, list[str]] = {}
    for op in operations:
        workload = by_operation.get(op)
        if workload in WORKLOAD_PERMISSIONS:
            per_workload.setdefault(WORKLOAD_PERMISSIONS[workload], []).append(op)
    if not per_workload:
        return ALL_LOGS_PERMISSION
    alternatives = "; ".join(f"{perm} for {', '.join(ops)}" for perm, ops in per_workload.items())
    return f"{ALL_LOGS_PERMISSION} (or per workload: {alternatives})"


def _services(operations: Sequence[str], kb: Knowledge) -> tuple[str, ...]:
    """The workloads (the records' Workload, Graph's ``service``) of these operations' events: Microsoft
    classifies audit records by workload, not by record type names (MailItemsAccessed records come as
    more than one record type)."""
    by_operation = {e.operation: e.workload for e in kb.events.values()}
    return tuple(dict.fromkeys(by_operation[op] for op in operations if op in by_operation))


def _check_days(days: int) -> None:
    if not 1 <= days <= MAX_DAYS:
        raise UsageError(
            f"--probe-events: DAYS must be between 1 and {MAX_DAYS} (the audit log keeps at most "
            f"180 days for most users), not {days}"
        )


# --------------------------------------------------------------------------- outcomes

ProbeOutcome = Collected[AuditProbe] | NotCollected


def not_collected(reason: str, fix: str | None, at: datetime, source: str = SOURCE) -> NotCollected:
    return NotCollected(reason, fix, source, at=at)


def _outside_global(cloud: str, at: datetime) -> NotCollected:
    return not_collected(
        f"the Purview audit search API (/security/auditLog/queries) exists only in the Global cloud; this "
        f"tenant is in {cloud}, so the log was not probed",
        "search the audit log in the Purview portal or with Search-UnifiedAuditLog and attach the result",
        at,
        source="none (not called outside the Global cloud)",
    )


# --------------------------------------------------------------------------- the run


@dataclass
class _QueryRun:
    """One query of the probe: its own tally, so a query that fails leaves no partial counts behind."""

    request: QueryRequest
    permission: str
    tally: ProbeTally
    state: QueryState | None = None
    error: ProbeError | None = None

    def on_status(self, state: QueryState) -> None:
        self.state = state


async def _run_query(
    client: GraphServiceClient,
    run: _QueryRun,
    settings: ProbeSettings,
    sink: RecordSink,
    progress: _Progress,
    api: AuditApi | None = None,
) -> None:
    run.state = await create_query(client, run.request, run.permission, api)
    progress.update(run.state, run.request.operations)

    def on_status(state: QueryState) -> None:
        run.on_status(state)
        progress.update(state)

    state = await wait_until_succeeded(client, run.state, settings.poll, run.permission, on_status, api)
    pages_of = record_pages(client, state.id, run.permission, settings.page_size, state.version, api)
    async with contextlib.aclosing(pages_of) as pages:
        async for page in pages:
            run.tally.add_page(page)
            sink.write_page(page)
            progress.pages += 1


async def _run_all(
    client: GraphServiceClient,
    runs: list[_QueryRun],
    settings: ProbeSettings,
    sink: RecordSink,
    progress: _Progress,
    timeout: float,
    api: AuditApi | None = None,
) -> None:
    """Run the queries concurrently and independently, all bounded by ``timeout``: one query failing
    (say, a workload the app has no AuditLogsQuery permission for) does not void the others."""
    tasks = {asyncio.ensure_future(_run_query(client, run, settings, sink, progress, api)): run for run in runs}
    try:
        _done, pending = await asyncio.wait(tasks, timeout=timeout)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task, run in tasks.items():
        if task in pending:
            status = run.state.status if run.state else "not created"
            run.error = ProbeTimeout(
                f"the audit search did not finish within the probe timeout of {timeout:g} s (query status {status!r})",
                "raise --probe-timeout, or shorten --probe-events DAYS",
            )
            continue
        exc = task.exception()
        if isinstance(exc, ProbeError):
            run.error = exc
        elif exc is not None:
            raise exc


def _requests(
    operations: list[str], start: datetime, end: datetime, settings: ProbeSettings, kb: Knowledge
) -> list[QueryRequest]:
    groups = [operations] if settings.combine else [[op] for op in operations]
    return [
        QueryRequest(tuple(g), start, end, _services(g, kb) if settings.service_filters else (), settings.display_name)
        for g in groups
    ]


def _probe(
    start: datetime, end: datetime, runs: list[_QueryRun], top: int, books: ClientBooks | None = None
) -> AuditProbe:
    queries = [
        ProbeQuery(
            id=r.state.id if r.state else None,
            status=r.state.status if r.state else "not created",
            operations=list(r.request.operations),
            record_count_limit_exceeded=r.state.record_count_limit_exceeded if r.state else None,
            error=r.error.reason if r.error else None,
            fix=r.error.fix if r.error else None,
        )
        for r in runs
    ]
    whole = [r.tally for r in runs if r.error is None]
    return AuditProbe(
        window_start=start,
        window_end=end,
        queries=queries,
        total_records=sum(t.total for t in whole),
        operations={op: obs for t in whole for op, obs in t.observations(top).items()},
        recent_start=books.recent_start if books is not None else None,
        clients=books.observations() if books is not None and books.books else None,
        distinct_clients=books.distinct_pairs() if books is not None and books.books else None,
    )


@dataclass(frozen=True)
class ProbeRun:
    """The ``audit_probe`` section's outcome, and what the collection needs from the probe beyond it."""

    outcome: ProbeOutcome
    observed: dict[str, frozenset[str]] = field(default_factory=dict)  # operation → accounts and ids seen
    books: ClientBooks | None = None  # per-client books (privileged/VIP reach is added later)


async def run_probe(
    client: GraphServiceClient,
    *,
    cloud: str,
    operations: Sequence[str],
    days: int,
    timeout: float = DEFAULT_TIMEOUT,
    keep_records: Path | None = None,
    settings: ProbeSettings | None = None,
    now: datetime | None = None,
    kb: Knowledge | None = None,
    with_accounts: bool = False,
) -> ProbeRun:
    """Probe the audit log for ``operations`` over the last ``days`` days.

    ``timeout`` bounds the whole probe (creating, waiting for and reading every query). With
    ``keep_records`` the raw records are written there as JSON Lines (only when the probe finished).
    The last ``settings.recent_days`` days are the recent part of the window (the rest is the client
    baseline); the run returns the per-client books (for privileged/VIP reach later) and, with
    ``with_accounts``, the accounts behind each operation's figures (for the in-scope intersection).
    Raises :class:`~assessor.errors.UsageError` for a window outside 1–180 days; every failure of
    the service becomes a :class:`~assessor.collect.interface.NotCollected` outcome.
    """
    _check_days(days)
    settings = settings or ProbeSettings()
    knowledge = kb or load_knowledge()
    end = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    start = end - timedelta(days=days)
    if cloud not in AUDIT_SEARCH_CLOUDS:
        return ProbeRun(_outside_global(cloud, end))
    ops = list(dict.fromkeys(operations))
    if not ops:
        return ProbeRun(not_collected("the profile requires no audit events, so there was nothing to probe", None, end))
    progress = _Progress()
    recent_start = max(start, end - timedelta(days=settings.recent_days))
    mailboxes = MailboxIndex()
    api = AuditApi(client)
    runs = [
        _QueryRun(
            r, permission_for(r.operations, knowledge), ProbeTally(r.operations, mailboxes, stamp_of(recent_start))
        )
        for r in _requests(ops, start, end, settings, knowledge)
    ]
    with RecordSink(keep_records) as sink:
        await _run_all(client, runs, settings, sink, progress, timeout, api)
        failed = [r.error for r in runs if r.error is not None]
        if not failed:
            sink.commit()  # raw records only from a probe whose every query finished
    if len(failed) == len(runs):
        first = failed[0]
        fix = first.fix
        if all(isinstance(e, ProbeForbidden) for e in failed):
            fix = f"grant the Microsoft Graph application permission {permission_for(ops, knowledge)} (admin consent)"
        return ProbeRun(not_collected(f"{first.reason} ({progress.describe()})", fix, end))
    observed: dict[str, frozenset[str]] = {}
    if with_accounts:  # the accounts behind distinct_users, for the in-scope intersection
        for run in runs:
            if run.error is None:
                for name, tally in run.tally.operations.items():
                    observed[name] = frozenset(tally.users | tally.ids)
    books = ClientBooks(mailboxes, recent_start, [b for r in runs if r.error is None for b in r.tally.client_books()])
    versions = sorted({r.state.version for r in runs if r.state is not None and r.error is None})
    probe = _probe(start, end, runs, settings.top_app_ids, books)
    return ProbeRun(Collected(probe, source_for(versions, api.fell_back), at=end), observed, books)
