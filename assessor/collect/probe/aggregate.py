"""Aggregation while streaming: one pass over the records, nothing kept per record.

Per operation the tally holds a record count, the set of distinct accounts (lower-cased UPNs: the
mailbox owner ``auditData.MailboxOwnerUPN`` for mailbox events, else ``userPrincipalName`` or
the classic ``UserId`` — this set grows with the users seen, at most the tenant's users plus the
accounts that act on their behalf; about 100 bytes each), the set of GUID actors (apps, or
directory objects that ``--users detail`` may resolve to users), counts of records by system and
unknown actors (records are read in both spellings: :mod:`assessor.collect.probe.records`),
first/last ``createdDateTime`` and, for operations whose client AppIds form the detection
baseline (MailItemsAccessed), a counter of AppIds (a tenant has tens to hundreds of client apps,
not millions). For MailItemsAccessed and Send a
:class:`~assessor.collect.probe.clients.ClientBook` also keeps the per (AppId, ClientAppId) figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from assessor.collect.probe.clients import CLIENT_OPERATIONS, ClientBook, MailboxIndex
from assessor.collect.probe.records import (
    APP_ID_KEYS,
    actor,
    app_id_of,
    audit_data,
    created_of,
    operation_of,
    parse_timestamp,
    workload_of,
)
from assessor.evidence import ActorCounts, AppIdCount, OperationObservation
from assessor.jsontypes import WireObject

APP_ID_OPERATIONS = frozenset({"MailItemsAccessed"})
__all__ = [
    "APP_ID_KEYS",
    "APP_ID_OPERATIONS",
    "OperationTally",
    "ProbeTally",
    "app_id_of",
    "parse_timestamp",
    "user_key",
]
_EMPTY: WireObject = {}


def user_key(record: WireObject) -> str | None:
    """The account a record evidences (lower-cased UPN), or None when the actor is no account."""
    kind, key = actor(record)
    return key if kind == "account" else None


class OperationTally:
    """Running figures for one operation."""

    def __init__(self, track_app_ids: bool, clients: ClientBook | None = None) -> None:
        self.records = 0
        self.clients = clients
        self.users: set[str] = set()  # accounts: UPN-shaped actors
        self.ids: set[str] = set()  # GUID actors: apps, or directory objects (users resolvable with --users detail)
        self.system = 0  # records by system actors
        self.unknown = 0  # records whose actor is not available
        self.app_ids: Counter[str] | None = Counter() if track_app_ids else None
        self.workloads: Counter[str] = Counter()  # records by Workload (a handful of values)
        self._text_bounds: dict[int, list[str]] = {}
        self._first: datetime | None = None
        self._last: datetime | None = None

    def add(self, record: WireObject) -> None:
        self.records += 1
        kind, key = actor(record)
        if kind == "account" and key is not None:
            self.users.add(key)
        elif kind == "id" and key is not None:
            self.ids.add(key)
        elif kind == "system":
            self.system += 1
        else:
            self.unknown += 1
        self._seen_at(created_of(record))
        self.workloads[workload_of(record) or "unknown"] += 1
        if self.clients is not None:  # its pairs also give the AppId counts (see observation)
            self.clients.add(record, audit_data(record) or _EMPTY, key if kind == "account" else None)
        elif self.app_ids is not None:
            app = app_id_of(record)
            if app is not None:
                self.app_ids[app] += 1

    def _seen_at(self, raw: object) -> None:
        """Track first/last seen. UTC ISO strings of one length (``…T10:00:00Z``, ``…T10:00:00.123Z``)
        order lexicographically as they do in time, so they are compared as text and parsed once at
        the end; anything else is parsed on the spot."""
        if isinstance(raw, str) and raw.endswith("Z") and len(raw) >= 20 and raw[10] == "T":
            bounds = self._text_bounds.get(len(raw))
            if bounds is None:
                self._text_bounds[len(raw)] = [raw, raw]
            elif raw < bounds[0]:
                bounds[0] = raw
            elif raw > bounds[1]:
                bounds[1] = raw
            return
        self._include(parse_timestamp(raw))

    def _include(self, when: datetime | None) -> None:
        if when is None:
            return
        if self._first is None or when < self._first:
            self._first = when
        if self._last is None or when > self._last:
            self._last = when

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """(first seen, last seen) over every record added."""
        for low, high in self._text_bounds.values():
            self._include(parse_timestamp(low))
            self._include(parse_timestamp(high))
        self._text_bounds.clear()
        return self._first, self._last

    def observation(self, top: int) -> OperationObservation:
        apps = self.app_ids
        if apps is not None and self.clients is not None:
            apps = Counter(self.clients.app_counts())
        first, last = self.bounds()
        return OperationObservation(
            records=self.records,
            distinct_users=len(self.users),
            first_seen=first,
            last_seen=last,
            top_app_ids=[AppIdCount(app_id=a, count=n) for a, n in apps.most_common(top)] if apps is not None else [],
            distinct_app_ids=len(apps) if apps is not None else None,
            actors=ActorCounts(
                accounts=len(self.users), ids=len(self.ids), system_records=self.system, unknown_records=self.unknown
            ),
            workloads=dict(sorted(self.workloads.items())) if self.records else None,
        )


class ProbeTally:
    """Running figures for every operation the probe asked for (and any other the service returned)."""

    def __init__(
        self, operations: Iterable[str], mailboxes: MailboxIndex | None = None, recent_start: str | None = None
    ) -> None:
        self.total = 0
        self.operations: dict[str, OperationTally] = {}
        self._canonical: dict[str, str] = {}
        self._mailboxes = mailboxes  # with an index, MailItemsAccessed and Send also keep client books
        self._recent_start = recent_start
        for name in operations:
            self._tally(name)

    def _tally(self, name: str) -> OperationTally:
        key = name.lower()
        canonical = self._canonical.get(key)
        if canonical is None:
            canonical = self._canonical[key] = name
            book = (
                ClientBook(name, self._mailboxes, self._recent_start)
                if self._mailboxes is not None and name in CLIENT_OPERATIONS
                else None
            )
            self.operations[name] = OperationTally(name in APP_ID_OPERATIONS, book)
        return self.operations[canonical]

    def add(self, record: WireObject) -> None:
        self.total += 1
        operation = operation_of(record)
        if operation is not None:
            self._tally(operation).add(record)

    def add_page(self, records: Iterable[WireObject]) -> None:
        for record in records:
            self.add(record)

    def client_books(self) -> list[ClientBook]:
        return [t.clients for t in self.operations.values() if t.clients is not None]

    def observations(self, top: int) -> dict[str, OperationObservation]:
        return {name: tally.observation(top) for name, tally in self.operations.items()}
