"""``bulk --workers N``: the tenants of one run shared among N worker processes.

Python runs one tenant's parsing, evaluation and rendering at a time per process, so a large scan
is bound by one core long before it is bound by the services' latency. The parent process
validates, plans and serves any sandbox tenants as before; each worker gets a share of the jobs
(dealt round-robin, so slow and fast tenants mix), its share of ``--concurrency``, and runs the
usual scheduler (:func:`~assessor.bulk.runner.run_jobs`) over it. Workers append to the run's one
journal (one ``write`` per line on a file opened in append mode, so lines never interleave) and
write each tenant's files as before; they send each start and result to the parent, which shows
progress and writes the one portfolio. A worker that dies leaves its unfinished tenants recorded
``failed`` with the reason, never silently missing.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Literal

from assessor.bulk.paths import RESULT_FILE
from assessor.bulk.runner import Assess, Progress, Schedule, TenantJob, TenantResult, failed_result, run_jobs
from assessor.bulk.settings import PipelineSettings, SandboxResolver, SandboxTarget
from assessor.bulk.state import StateJournal
from assessor.evidence import write_json_atomic
from assessor.profiles import Profile
from assessor.trace import active_writer, forwarding

PR_SET_PDEATHSIG = 1  # linux/prctl.h

# What a worker tells the parent: a tenant started, a tenant's result, or a trace line to write.
Message = (
    tuple[Literal["started"], str]
    | tuple[Literal["finished"], TenantResult]
    | tuple[Literal["trace"], Mapping[str, object]]
)

AssessFactory = Callable[[PipelineSettings, Mapping[str, Profile], SandboxResolver | None], Assess]


@dataclass(frozen=True)
class WorkerTask:
    """Everything one worker process needs (picklable: sent to a fresh interpreter)."""

    jobs: tuple[TenantJob, ...]
    schedule: Schedule
    state_path: Path
    settings: PipelineSettings
    profiles: Mapping[str, Profile]
    sandbox: Mapping[str, SandboxTarget]  # resolved by the parent, which serves them
    assess_with: AssessFactory
    trace: bool = False  # the parent has a --trace file open: forward this worker's lines to it


def deal(jobs: Sequence[TenantJob], workers: int) -> list[tuple[TenantJob, ...]]:
    """Jobs dealt round-robin into at most ``workers`` non-empty shares."""
    shares = [tuple(jobs[i::workers]) for i in range(min(workers, len(jobs)))]
    return [s for s in shares if s]


class _QueueProgress:
    """A worker's progress: every start and result goes to the parent."""

    def __init__(self, channel: Queue[Message]) -> None:
        self.channel = channel

    def started(self, job: TenantJob) -> None:
        self.channel.put(("started", job.key))

    def finished(self, result: TenantResult) -> None:
        self.channel.put(("finished", result))


def _die_with(parent: int) -> None:
    """A worker never outlives the bulk process: killed with it (Linux: the kernel's parent-death
    signal; elsewhere a watchdog thread), so a killed run has no orphan still recording tenants."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def work(task: WorkerTask, channel: Queue[Message], parent: int) -> None:
    """A worker process: assess its share of the tenants (the journal opened in append mode)."""
    _die_with(parent)
    resolver: SandboxResolver | None = task.sandbox.__getitem__ if task.sandbox else None
    assess = task.assess_with(task.settings, task.profiles, resolver)
    send = (lambda entry: channel.put(("trace", entry))) if task.trace else None
    with forwarding(send), StateJournal(task.state_path) as journal:
        asyncio.run(run_jobs(task.jobs, assess, task.schedule, journal, _QueueProgress(channel)))


def _context() -> ForkContext | SpawnContext:
    """Fork where that is safe (Linux, no other thread yet: cheap, modules already imported);
    otherwise spawn a fresh interpreter (a serving sandbox or a progress display is a thread)."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return ForkContext()
    return SpawnContext()


def run_in_workers(
    jobs: Sequence[TenantJob],
    workers: int,
    make_task: Callable[[tuple[TenantJob, ...], int], WorkerTask],
    journal: StateJournal,
    display: Callable[[], AbstractContextManager[Progress]],
) -> list[TenantResult]:
    """Assess ``jobs`` in ``workers`` processes; results in job order, one for every job.

    The workers are started before the progress display (a thread on a terminal), so they can be
    forked from a process that has no other thread."""
    shares = deal(jobs, workers)
    context = _context()
    channel: Queue[Message] = context.Queue()
    processes = [
        context.Process(
            target=work, args=(make_task(share, len(shares)), channel, os.getpid()), name=f"assessor-bulk-{i}"
        )
        for i, share in enumerate(shares)
    ]
    for process in processes:
        process.start()
    with display() as progress:
        return _gather(jobs, shares, processes, channel, journal, progress)


def _gather(
    jobs: Sequence[TenantJob],
    shares: Sequence[tuple[TenantJob, ...]],
    processes: Sequence[BaseProcess],
    channel: Queue[Message],
    journal: StateJournal,
    progress: Progress,
) -> list[TenantResult]:
    by_key = {j.key: j for j in jobs}
    results: dict[str, TenantResult] = {}
    try:
        while len(results) < len(jobs):
            try:
                kind, payload = channel.get(timeout=0.5)
            except queue.Empty:
                if any(p.is_alive() for p in processes):
                    continue
                try:  # every worker has exited: take what is left in the channel, then stop
                    kind, payload = channel.get(timeout=0.5)
                except queue.Empty:
                    break
            if kind == "trace" and isinstance(payload, dict):
                writer = active_writer()
                if writer is not None:
                    writer.write(payload)
            elif kind == "started" and isinstance(payload, str) and payload in by_key:
                progress.started(by_key[payload])
            elif kind == "finished" and isinstance(payload, TenantResult):
                results[payload.key] = payload
                progress.finished(payload)
    finally:
        for process in processes:
            if process.is_alive() and len(results) < len(jobs):
                process.terminate()
            process.join()
    for share, process in zip(shares, processes, strict=True):
        for job in share:
            if job.key not in results:  # its worker died before finishing it
                reason = f"the worker process assessing it exited with code {process.exitcode}"
                result = failed_result(job, reason)
                write_json_atomic(job.directory / RESULT_FILE, result.to_json())
                journal.record("failed", job.key, reason=reason, duration_s=result.duration_s)
                results[job.key] = result
                progress.finished(result)
    return [results[j.key] for j in jobs]
