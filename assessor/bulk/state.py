"""The run state file: an append-only JSON-lines journal in the output directory.

Each line is one event: ``run`` (a run started: pid, shard, tenants selected), ``start`` (a tenant's
assessment began), ``done`` or ``failed`` (with the reason). A line is written with one ``write``
on a file opened in append mode, so a process killed at any moment leaves at most one torn last
line, which the reader ignores; ``run``, ``done`` and ``failed`` lines are also fsynced (which
makes every earlier line durable too), so after a power loss at worst a ``start`` line is missing,
and the tenant is then retried as it would be anyway. ``--resume`` skips a tenant whose latest
event is ``done`` (and whose result file is present) and retries every other one.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

EventKind = Literal["run", "start", "done", "failed"]


@dataclass(frozen=True)
class Event:
    kind: EventKind
    tenant: str | None
    at: str
    data: dict[str, object]  # the rest of the journal line, as decoded


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def read_events(path: Path) -> Iterator[Event]:
    """Every complete event of the journal, oldest first (a torn or foreign line is skipped)."""
    try:
        handle = path.open("r", encoding="utf-8")
    except FileNotFoundError:
        return
    with handle:
        for line in handle:
            event = _parse(line)
            if event is not None:
                yield event


def _parse(line: str) -> Event | None:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(raw, dict) or raw.get("event") not in ("run", "start", "done", "failed"):
        return None
    data = {k: v for k, v in raw.items() if k not in ("event", "tenant", "at")}
    return Event(raw["event"], raw.get("tenant"), str(raw.get("at", "")), data)


def latest_status(path: Path) -> dict[str, EventKind]:
    """Each tenant's latest event kind (``start`` means the run died while it was in progress)."""
    status: dict[str, EventKind] = {}
    for event in read_events(path):
        if event.tenant is not None:
            status[event.tenant] = event.kind
    return status


def completions(path: Path) -> dict[str, int]:
    """How many times each tenant was recorded done (a correct resume never exceeds 1)."""
    counts: dict[str, int] = {}
    for event in read_events(path):
        if event.kind == "done" and event.tenant is not None:
            counts[event.tenant] = counts.get(event.tenant, 0) + 1
    return counts


def _ends_torn(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        if handle.tell() == 0:
            return False
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) != b"\n"


class StateJournal:
    """Appends events; safe to call from the event loop and from worker threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        if _ends_torn(path):
            os.write(self._fd, b"\n")  # a killed run left half a line: start on a fresh one

    def record(self, kind: EventKind, tenant: str | None = None, **data: object) -> None:
        line = json.dumps(
            {"event": kind, "tenant": tenant, "at": _now(), **data},
            ensure_ascii=False,
            separators=(",", ":"),
            default=str,
        )
        payload = (line + "\n").encode("utf-8")
        with self._lock:
            os.write(self._fd, payload)
            if kind != "start":  # losing a start line loses nothing: the tenant is retried either way
                os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> StateJournal:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
