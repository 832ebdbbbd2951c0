"""The one contract every source of evidence implements.

A *source* is anything that yields evidence sections: Microsoft Graph, the Exchange admin API (with
the ``--import`` files that stand in for it), the audit-log probe, Azure Resource Manager (where the
logs go) and an attestation file. Each has a ``name`` and an async ``collect()`` that returns a
:class:`SourceResult`: every section it is responsible for, each one :class:`Collected` (the value
and where it came from) or :class:`NotCollected` (why, and the permission or role that would fix
it), plus notes for the evidence's ``meta.notes``. "Skipped" is a value, never a missing key or an
empty dict; a denied, throttled or malformed answer never becomes an empty success.

The orchestration (:mod:`assessor.collect.orchestrate`) runs the sources and turns their outcomes
into evidence sections with :func:`section_of`; it depends only on this module's types, so every
source is treated alike.

Sources keep their own typed errors inside (``GraphFailure``, ``ExchangeError``, ``ArmError``,
``ProbeError``); those never cross this boundary: a source turns them into :class:`NotCollected`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar

# Covariant: the outcomes are frozen, so a Collected[Tenant] is a Collected[object] (a mapping of a
# source's differently typed sections reads them as that).
T = TypeVar("T", covariant=True)


@dataclass(frozen=True)
class Collected(Generic[T]):
    """A section that was read (or imported from ``file``): the value and its source."""

    data: T
    source: str | None
    notes: tuple[str, ...] = ()
    at: datetime | None = None  # when it was obtained (None: the collection's start)
    file: str | None = None  # the file it was imported from (provenance ``imported``)


@dataclass(frozen=True)
class NotCollected:
    """A section that could not be read: why, what would fix it, and what was asked."""

    reason: str
    fix: str | None
    source: str | None
    failure: BaseException | None = field(default=None, compare=False)  # the source's own error, for diagnosis
    notes: tuple[str, ...] = ()
    at: datetime | None = None
    requested: bool = True  # False: the user did not ask for it (e.g. the probe without --probe-events)


Outcome = Collected[T] | NotCollected


@dataclass(frozen=True)
class SourceResult(Generic[T]):
    """What one source returns: its sections by evidence name, and notes on how they were read.

    ``T`` is the type of the sections' data: the evidence model of a source's one section (the
    probe's ``SourceResult[AuditProbe]``, ARM's ``SourceResult[LogExport]``), the union of its
    sections' models (Exchange's ``SourceResult[ExchangeData]``, Graph's ``SourceResult[GraphSection]``),
    or ``object`` where only the outcomes are read (:class:`Source`)."""

    sections: Mapping[str, Collected[T] | NotCollected]
    notes: tuple[str, ...] = ()


class Source(Protocol):
    """A source of evidence sections (Graph, Exchange admin API and imports, probe, ARM, attestation)."""

    @property
    def name(self) -> str: ...

    async def collect(self) -> SourceResult[object]:
        """Every section this source is responsible for; raises only for bad input (a usage error),
        never for a service that refused or failed (that is a :class:`NotCollected`)."""
        ...


def provenance(outcome: Collected[object] | NotCollected, at: datetime | None = None) -> dict[str, object]:
    """The evidence ``Provenance`` of an outcome (``at``: when, if the outcome does not say)."""
    when = outcome.at or at
    if isinstance(outcome, Collected):
        if outcome.file is not None:
            return {"status": "imported", "source": outcome.source, "file": outcome.file, "at": outcome.at}
        return {"status": "collected", "source": outcome.source, "at": when}
    out: dict[str, object] = {
        "status": "not_collected",
        "source": outcome.source,
        "reason": outcome.reason,
        "fix": outcome.fix,
        "at": when,
    }
    if not outcome.requested:
        out["requested"] = False
    return out


def section_of(outcome: Collected[object] | NotCollected, at: datetime | None = None) -> dict[str, object]:
    """The evidence ``Section`` (provenance and data) of an outcome."""
    data = outcome.data if isinstance(outcome, Collected) else None
    return {"provenance": provenance(outcome, at), "data": data}
