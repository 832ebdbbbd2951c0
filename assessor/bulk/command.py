"""``assessor bulk`` and ``assessor merge``: validate everything, then schedule, then roll up.

Exit codes of both commands: 0 every tenant assessed and no finding at or above ``--fail-on``;
1 every tenant assessed and some finding at or above it; 2 usage or manifest error (one line,
before any tenant is contacted); 3 some tenants could not be assessed (their reasons are in the
portfolio's failures, in ``<tenant>/result.json`` and in the state journal). 3 wins over 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol, TextIO

from assessor.bulk.manifest import Manifest, Row, SandboxConfig, check_references, load_manifest, select
from assessor.bulk.paths import STATE_FILE, tenant_dir
from assessor.bulk.portfolio import write_portfolio
from assessor.bulk.progress import progress_for
from assessor.bulk.runner import Schedule, TenantJob, TenantResult, read_result, run_jobs
from assessor.bulk.settings import PipelineSettings, SandboxResolver, settings_fingerprint
from assessor.bulk.shard import Shard, partition
from assessor.bulk.state import StateJournal, latest_status
from assessor.bulk.workers import AssessFactory, WorkerTask, run_in_workers
from assessor.collect.attestation import load_attestation
from assessor.engine.model import gaps_at_or_above
from assessor.errors import EvidenceError, ManifestError, ProfileError, UsageError
from assessor.profiles import Profile, load_profile
from assessor.trace import active_writer

EXIT_OK, EXIT_FINDINGS, EXIT_SOME_FAILED = 0, 1, 3


@dataclass(frozen=True)
class BulkRequest:
    manifest: Path
    output: Path
    formats: Sequence[str]
    on: date
    concurrency: int = 16
    workers: int = 1  # processes (the CLI defaults to the CPU count)
    tenant_timeout: float = 900.0
    resume: bool = False
    shard: Shard | None = None
    only: tuple[str, ...] = ()
    fail_on: str = "none"
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ), repr=False)
    attestation: Path | None = None  # --attest: every tenant without its own ``attest:``
    prices: Mapping[str, object] | None = None  # --prices, as loaded (only fingerprinted here)
    pseudonymize: bool = False


class SandboxProvider(Protocol):
    """The sandbox, as bulk needs it: which names it serves, and serving some for a run (the caller
    wires the concrete emulator in; bulk does not import it)."""

    def names(self, config: SandboxConfig) -> set[str]: ...

    def serve(
        self, config: SandboxConfig, names: Sequence[str]
    ) -> contextlib.AbstractContextManager[SandboxResolver]: ...


@dataclass(frozen=True)
class BulkOutcome:
    results: list[TenantResult]
    skipped: int
    exit_code: int


def stored_gaps_at_or_above(summary: Mapping[str, object], fail_on: str) -> bool:
    """:func:`gaps_at_or_above` over a tenant's stored per-check statuses (``result.json``)."""
    checks = summary.get("checks")
    pairs = [
        (str(c.get("status")), str(c.get("severity")))
        for c in (checks.values() if isinstance(checks, Mapping) else ())
        if isinstance(c, Mapping)
    ]
    return gaps_at_or_above(pairs, fail_on)


def exit_code(results: Sequence[TenantResult], fail_on: str) -> int:
    if any(r.status == "failed" for r in results):
        return EXIT_SOME_FAILED
    if any(stored_gaps_at_or_above(r.summary, fail_on) for r in results):
        return EXIT_FINDINGS
    return EXIT_OK


# --------------------------------------------------------------------------- validation (no network)


def load_profiles(manifest: Manifest) -> dict[str, Profile]:
    """Every profile the manifest names, loaded up front; an unknown one names its first row."""
    profiles: dict[str, Profile] = {}
    for row in manifest.rows:
        name = row.entry.profile
        if name in profiles:
            continue
        try:
            profiles[name] = load_profile(name)
        except ProfileError as err:
            raise ManifestError(f"{manifest.origin}: {row.where()}, field profile: {err}") from None
    return profiles


def plan_jobs(rows: Sequence[Row], output: Path, shard: Shard | None) -> list[TenantJob]:
    chosen = partition(rows, [r.entry.key for r in rows], shard)
    return [TenantJob(row, tenant_dir(output, row.entry.key)) for row in chosen]


def split_done(
    jobs: Sequence[TenantJob], state_path: Path, fingerprint: Callable[[TenantJob], str] | None = None
) -> tuple[list[TenantJob], list[TenantResult]]:
    """For --resume: the jobs still to run, and the results of those already recorded done.

    A done tenant whose settings changed since (manifest entry, profile content, date, formats —
    see :func:`settings_fingerprint`) is assessed again rather than reported with stale results.
    """
    status = latest_status(state_path)
    todo: list[TenantJob] = []
    done: list[TenantResult] = []
    for job in jobs:
        previous = read_result(job.directory) if status.get(job.key) == "done" else None
        stale = (
            previous is not None
            and fingerprint is not None
            and previous.summary.get("settings_sha256") != fingerprint(job)
        )
        if previous is not None and previous.status == "done" and not stale:
            done.append(previous)
        else:
            todo.append(job)
    return todo, done


def check_attestations(manifest: Manifest, rows: Sequence[Row], default: Path | None) -> None:
    """Every attestation a tenant will use is read and validated before any tenant is contacted."""
    if default is not None:
        load_attestation(default)  # an error names the file: it came from --attest
    for row in rows:
        if row.entry.attest is not None:
            try:
                load_attestation(row.entry.attest)
            except EvidenceError as err:
                raise ManifestError(f"{manifest.origin}: {row.where()}, field attest: {err}") from None


# --------------------------------------------------------------------------- bulk


def _open_state(output: Path, resume: bool) -> Path:
    state_path = output / STATE_FILE
    if state_path.exists() and not resume:
        raise UsageError(
            f"{output} holds a previous bulk run; pass --resume to continue it, or use an empty --output directory"
        )
    output.mkdir(parents=True, exist_ok=True)
    return state_path


def run_bulk(
    request: BulkRequest,
    assess_with: AssessFactory,
    sandbox: SandboxProvider | None = None,
    stream: TextIO | None = None,
) -> BulkOutcome:
    """Validate the manifest and references, assess the selected tenants with the pipeline
    ``assess_with`` builds, write the portfolio."""
    if request.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if request.workers < 1:
        raise UsageError("--workers must be at least 1")
    if request.tenant_timeout <= 0:
        raise UsageError("--tenant-timeout must be positive")
    manifest = load_manifest(request.manifest)
    profiles = load_profiles(manifest)
    wants_sandbox = any(r.entry.sandbox for r in manifest.rows)
    if wants_sandbox and sandbox is None:
        raise UsageError(f"{manifest.origin}: this run cannot serve sandbox tenants")
    names = sandbox.names(manifest.sandbox) if sandbox is not None and wants_sandbox else None
    check_references(manifest, request.environ, set(profiles), names)
    rows = select(manifest, request.only)
    if not rows:
        raise UsageError(f"--only {' '.join(request.only)}: no tenant of the manifest carries these tags")
    check_attestations(manifest, rows, request.attestation)
    state_path = _open_state(request.output, request.resume)
    jobs = plan_jobs(rows, request.output, request.shard)
    settings = PipelineSettings(
        formats=request.formats,
        on=request.on,
        tenant_timeout=request.tenant_timeout,
        environ=request.environ,
        attestation=request.attestation,
        prices=request.prices,
        pseudonymize=request.pseudonymize,
    )

    def fingerprint(job: TenantJob) -> str:
        return settings_fingerprint(job.row.entry, profiles[job.row.entry.profile], settings)

    todo, done = split_done(jobs, state_path, fingerprint) if request.resume else (jobs, [])
    with StateJournal(state_path) as journal:
        journal.record(
            "run",
            None,
            pid=os.getpid(),
            shard=str(request.shard) if request.shard else None,
            selected=len(jobs),
            to_run=len(todo),
            resumed=len(done),
            workers=min(request.workers, len(todo)) or 1,
        )
        run = _Run(manifest, settings, profiles, request, assess_with, sandbox)
        fresh = run.execute(todo, journal, stream)
    by_key = {r.key: r for r in [*done, *fresh]}
    results = [by_key[j.key] for j in jobs]
    parts = [f"tenants tagged {' or '.join(request.only)}"] if request.only else []
    parts += [f"shard {request.shard}"] if request.shard else []
    write_portfolio(results, request.output, selection="; ".join(parts) or None)
    return BulkOutcome(results, len(done), exit_code(results, request.fail_on))


@dataclass(frozen=True)
class _Run:
    manifest: Manifest
    settings: PipelineSettings
    profiles: Mapping[str, Profile]
    request: BulkRequest
    assess_with: AssessFactory
    sandbox: SandboxProvider | None

    @contextlib.contextmanager
    def serving(self, jobs: Sequence[TenantJob]) -> Iterator[SandboxResolver | None]:
        wanted = sorted({j.row.entry.sandbox for j in jobs if j.row.entry.sandbox})
        if not wanted or self.sandbox is None:
            yield None
            return
        with self.sandbox.serve(self.manifest.sandbox, wanted) as resolve:
            yield resolve

    def execute(self, jobs: Sequence[TenantJob], journal: StateJournal, stream: TextIO | None) -> list[TenantResult]:
        if not jobs:
            return []
        workers = min(self.request.workers, len(jobs))
        schedule = Schedule(self.request.concurrency, self.request.tenant_timeout)
        with self.serving(jobs) as resolver:
            if workers > 1:
                return self._in_workers(jobs, workers, resolver, journal, stream)
            with progress_for(len(jobs), stream or sys.stderr) as progress:
                assess = self.assess_with(self.settings, self.profiles, resolver)
                return asyncio.run(run_jobs(jobs, assess, schedule, journal, progress))

    def _in_workers(
        self,
        jobs: Sequence[TenantJob],
        workers: int,
        resolver: SandboxResolver | None,
        journal: StateJournal,
        stream: TextIO | None,
    ) -> list[TenantResult]:
        names = sorted({j.row.entry.sandbox for j in jobs if j.row.entry.sandbox})
        served = {name: resolver(name) for name in names} if resolver is not None else {}

        def task(share: tuple[TenantJob, ...], count: int) -> WorkerTask:
            # the run's concurrency is shared among the workers
            schedule = Schedule(max(1, self.request.concurrency // count), self.request.tenant_timeout)
            return WorkerTask(
                share,
                schedule,
                journal.path,
                self.settings,
                self.profiles,
                served,
                self.assess_with,
                trace=active_writer() is not None,
            )

        return run_in_workers(jobs, workers, task, journal, lambda: progress_for(len(jobs), stream or sys.stderr))
