"""Progress of a bulk run: a ``rich`` display on a terminal, plain log lines otherwise."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from assessor.bulk.runner import TenantJob, TenantResult


class LogProgress:
    """One line per finished tenant: ``[12/300] done contoso.com (1.4 s)`` or ``failed … : reason``."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.finished_count = 0
        self.failed_count = 0

    def started(self, job: TenantJob) -> None:
        return None

    def finished(self, result: TenantResult) -> None:
        self.finished_count += 1
        if result.status == "failed":
            self.failed_count += 1
            tail = f": {result.reason}"
        else:
            tail = ""
        print(
            f"[{self.finished_count}/{self.total}] {result.status} {result.key} ({result.duration_s:.1f} s){tail}",
            file=self.stream,
            flush=True,
        )

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class RichProgress:
    """A live bar with done/failed/running counts and an ETA."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.console = Console(file=stream or sys.stderr)
        self._progress = Progress(
            TextColumn("[bold]tenants"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "[green]{task.fields[done]} done[/] [red]{task.fields[failed]} failed[/] {task.fields[running]} running"
            ),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
        )
        self._task = self._progress.add_task("bulk", total=total, done=0, failed=0, running=0)
        self._counts = {"done": 0, "failed": 0, "running": 0}

    def started(self, job: TenantJob) -> None:
        self._counts["running"] += 1
        self._refresh()

    def finished(self, result: TenantResult) -> None:
        self._counts["running"] -= 1
        self._counts[result.status] += 1
        if result.status == "failed":
            self._progress.console.print(
                f"[red]failed[/] {escape(result.key)}: {escape(result.reason or '')}", highlight=False
            )
        self._progress.advance(self._task)
        self._refresh()

    def _refresh(self) -> None:
        counts = self._counts
        self._progress.update(self._task, done=counts["done"], failed=counts["failed"], running=counts["running"])

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()


def progress_for(total: int, stream: TextIO | None = None) -> LogProgress | RichProgress:
    target = stream or sys.stderr
    return RichProgress(total, target) if target.isatty() else LogProgress(total, target)
