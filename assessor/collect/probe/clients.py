"""Who reads mail: per (AppId, ClientAppId) figures for MailItemsAccessed and Send, while streaming.

Per pair the book keeps a record count, records per operation, app-only and delegated counts,
first/last seen (as canonical ``YYYY-MM-DDTHH:MM:SSZ`` text, which orders as time does), the
records in the recent part of the window, and a bitmap of the mailboxes it touched. Mailbox keys
(``auditData.MailboxOwnerUPN``, else the acting user; lower-cased) are numbered once in a
:class:`MailboxIndex` shared by the operations, so a pair costs one bit per mailbox of the tenant
(10,000 mailboxes: 1.25 kB per pair) whatever the number of records. A tenant has tens to
hundreds of pairs; past :data:`MAX_PAIRS` further pairs are only counted, never stored.

Access kind of a record (the reading that cannot hide app-only access as a user's):

- **app-only** when the record's ``userType`` (camelCase or PascalCase, or the Management
  Activity API's number in ``auditData.UserType``) is Application or ServicePrincipal, or when the
  actor is no user (its id is a GUID, not a UPN);
- **delegated** when the actor is a user principal name (``…@…``) of a regular/admin user;
- otherwise undetermined (counted in neither).

Privileged and VIP reach is decided after collection, when the privileged users are known
(:meth:`ClientBook.reach`), from the same bitmaps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from assessor.collect.probe.records import created_of, parse_timestamp, pick
from assessor.evidence import MailClientObservation, WatchedMailboxes
from assessor.jsontypes import WireObject

CLIENT_OPERATIONS = frozenset({"MailItemsAccessed", "Send"})
MAX_PAIRS = 2_000
MAX_REACHED_LISTED = 20
APP_ONLY_USER_TYPES = frozenset({"application", "serviceprincipal", "5", "6"})
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def canonical_stamp(raw: object) -> str | None:
    """A ``createdDateTime`` as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC, whole seconds); None if unparseable."""
    if isinstance(raw, str) and len(raw) == 20 and raw[10] == "T" and raw[19] == "Z":
        return raw  # the common shape: no conversion
    when = parse_timestamp(raw)
    return stamp_of(when) if when is not None else None


def stamp_of(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_stamp(stamp: str | None) -> datetime | None:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) if stamp else None


def access_kind(record: WireObject, data: WireObject) -> str | None:
    """``app_only``, ``delegated`` or None (undetermined) for one record."""
    kind = pick(record, "userType")
    if kind is None:
        kind = data.get("UserType")
    if kind is not None and str(kind).lower() in APP_ONLY_USER_TYPES:
        return "app_only"
    actor = pick(record, "userPrincipalName") or pick(record, "userId") or data.get("UserId")
    if isinstance(actor, str):
        if "@" in actor:
            return "delegated"
        if _GUID.match(actor):
            return "app_only"
    return None


class MailboxIndex:
    """Mailbox key → a small integer, shared by every operation's book."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.bits: dict[str, tuple[int, int]] = {}  # key → (byte, mask) of its bit, for the hot path

    def of(self, key: str) -> int:
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = len(self.ids)
            self.bits[key] = (found >> 3, 1 << (found & 7))
        return found

    def bit(self, key: str) -> tuple[int, int]:
        self.of(key)
        return self.bits[key]


def _set_bit(bitmap: bytearray, i: int) -> None:
    byte = i >> 3
    if byte >= len(bitmap):
        bitmap.extend(bytes(byte - len(bitmap) + 64))
    bitmap[byte] |= 1 << (i & 7)


def _bits(bitmap: bytearray) -> int:
    return int.from_bytes(bitmap, "little").bit_count()


@dataclass
class PairTally:
    records: int = 0
    app_only: int = 0
    delegated: int = 0
    recent: int = 0
    first: str | None = None
    last: str | None = None
    operations: dict[str, int] = field(default_factory=dict)
    mailboxes: bytearray = field(default_factory=bytearray)

    def merge(self, other: PairTally) -> None:
        self.records += other.records
        self.app_only += other.app_only
        self.delegated += other.delegated
        self.recent += other.recent
        for name, n in other.operations.items():
            self.operations[name] = self.operations.get(name, 0) + n
        if other.first is not None and (self.first is None or other.first < self.first):
            self.first = other.first
        if other.last is not None and (self.last is None or other.last > self.last):
            self.last = other.last
        if len(other.mailboxes) > len(self.mailboxes):
            self.mailboxes.extend(bytes(len(other.mailboxes) - len(self.mailboxes)))
        for i, byte in enumerate(other.mailboxes):
            if byte:
                self.mailboxes[i] |= byte


class ClientBook:
    """One operation's pairs (a failed query's book is dropped whole, like its other figures).

    :meth:`add` runs once per record: it caches the pair by the raw (AppId, ClientAppId) strings and
    the access kind by the raw ``userType``, so the common record costs a few dictionary lookups."""

    def __init__(self, operation: str, index: MailboxIndex, recent_start: str | None) -> None:
        self.operation = operation
        self.index = index
        self.recent_start = recent_start or "~"  # "~" sorts after every timestamp: nothing is recent
        self.pairs: dict[tuple[str, str | None], PairTally] = {}
        self.untracked_pairs: set[tuple[str, str | None]] = set()
        self.untracked_records = 0
        self.untracked_apps: dict[str, int] = {}  # records of pairs past the cap, by AppId
        self.without_app_id = 0
        self.unpaired_mailboxes = bytearray()  # mailboxes of records without any AppId
        self._by_raw: dict[tuple[str | None, str | None], PairTally | None] = {}
        self._kinds: dict[str | int | None, str | None] = {}

    def _pair_for(self, raw: tuple[str | None, str | None]) -> PairTally | None:
        """The tally of a raw (AppId, ClientAppId); None when it has no AppId or is past the cap."""
        app, client = raw
        app = app.lower() if isinstance(app, str) and app else None
        client = client.lower() if isinstance(client, str) and client else None
        if app is None:
            if client is None:
                return None
            app, client = client, None
        elif client == app:
            client = None
        key = (app, client)
        pair = self.pairs.get(key)
        if pair is None:
            if len(self.pairs) >= MAX_PAIRS:
                if len(self.untracked_pairs) < 100 * MAX_PAIRS:
                    self.untracked_pairs.add(key)
                return None
            pair = self.pairs[key] = PairTally()
        if len(self._by_raw) < 4 * MAX_PAIRS:
            self._by_raw[raw] = pair
        return pair

    def add(self, record: WireObject, data: WireObject, mailbox: str | None) -> None:
        app, client = data.get("AppId"), data.get("ClientAppId")
        raw = (app if app.__class__ is str else None, client if client.__class__ is str else None)
        pair = self._by_raw.get(raw)
        if pair is None:
            pair = self._pair_for(raw)
            if pair is None:
                if raw[0] or raw[1]:
                    self.untracked_records += 1
                    app_key = (raw[0] or raw[1] or "").lower()
                    self.untracked_apps[app_key] = self.untracked_apps.get(app_key, 0) + 1
                else:
                    self.without_app_id += 1
                if mailbox is not None:
                    _set_bit(self.unpaired_mailboxes, self.index.of(mailbox))
                return
        pair.records += 1
        user_type = record.get("userType")
        if user_type is None:  # the classic export's spelling, else the audit data's own field
            user_type = record.get("UserType")
            if user_type is None:
                user_type = data.get("UserType")
        if user_type.__class__ not in (str, int):
            user_type = None
        kind = self._kinds.get(user_type, "?")
        if kind == "?":
            kind = self._kinds[user_type] = (
                "app_only" if user_type is not None and str(user_type).lower() in APP_ONLY_USER_TYPES else None
            )
        if kind is None:  # a user type: delegated when the actor is a user principal name
            actor = record.get("userPrincipalName")
            kind = "delegated" if actor.__class__ is str and "@" in actor else access_kind(record, data)
        if kind == "delegated":
            pair.delegated += 1
        elif kind == "app_only":
            pair.app_only += 1
        stamp = record.get("createdDateTime")
        if stamp is None:  # PascalCase exports (CreatedDateTime, CreationTime)
            stamp = created_of(record)
        if not (stamp.__class__ is str and len(stamp) == 20 and stamp[19] == "Z"):
            stamp = canonical_stamp(stamp)
        if stamp is not None:
            if pair.first is None or stamp < pair.first:
                pair.first = stamp
            if pair.last is None or stamp > pair.last:
                pair.last = stamp
            if stamp >= self.recent_start:
                pair.recent += 1
        if mailbox is not None:
            bit = self.index.bits.get(mailbox)
            if bit is None:
                bit = self.index.bit(mailbox)
            byte, mask = bit
            bitmap = pair.mailboxes
            if byte >= len(bitmap):
                bitmap.extend(bytes(byte - len(bitmap) + 64))
            bitmap[byte] |= mask

    def app_counts(self) -> dict[str, int]:
        """Records per AppId (the ClientAppId when AppId is absent), as the MailItemsAccessed baseline counts them."""
        out = dict(self.untracked_apps)
        for (app, _client), pair in self.pairs.items():
            out[app] = out.get(app, 0) + pair.records
        return out

    def mailboxes(self) -> bytearray:
        """Every mailbox with a record of this operation (tracked pairs, untracked and AppId-less ones)."""
        out = bytearray(self.unpaired_mailboxes)
        for pair in self.pairs.values():
            if len(pair.mailboxes) > len(out):
                out.extend(bytes(len(pair.mailboxes) - len(out)))
            for i, byte in enumerate(pair.mailboxes):
                if byte:
                    out[i] |= byte
        return out


@dataclass
class ClientBooks:
    """The books of the queries that finished whole, merged across operations."""

    index: MailboxIndex
    recent_start: datetime | None
    books: list[ClientBook] = field(default_factory=list)

    def merged(self) -> dict[tuple[str, str | None], PairTally]:
        out: dict[tuple[str, str | None], PairTally] = {}
        for book in self.books:
            for key, pair in book.pairs.items():
                target = out.get(key)
                if target is None:
                    target = out[key] = PairTally()
                target.merge(pair)
                target.operations[book.operation] = target.operations.get(book.operation, 0) + pair.records
        return out

    def distinct_pairs(self) -> int:
        keys: set[tuple[str, str | None]] = set()
        for book in self.books:
            keys.update(book.pairs)
            keys.update(book.untracked_pairs)
        return len(keys)

    def observations(self, watched: Iterable[str] | None = None) -> list[MailClientObservation]:
        """Every tracked pair, most records first; with ``watched`` (privileged and VIP mailbox keys)
        also the watched mailboxes each pair reached."""
        positions = self._watched_positions(watched)
        names = {i: k for k, i in self.index.ids.items()} if positions is not None else {}
        out = []
        for (app, client), pair in sorted(
            self.merged().items(), key=lambda kv: (-kv[1].records, kv[0][0], kv[0][1] or "")
        ):
            reached: list[int] | None = None
            if positions is not None:
                reached = [
                    p for p in positions if (p >> 3) < len(pair.mailboxes) and pair.mailboxes[p >> 3] >> (p & 7) & 1
                ]
            out.append(
                MailClientObservation(
                    app_id=app,
                    client_app_id=client,
                    records=pair.records,
                    operations=dict(sorted(pair.operations.items())),
                    mailboxes=_bits(pair.mailboxes),
                    app_only_records=pair.app_only,
                    delegated_records=pair.delegated,
                    first_seen=_parse_stamp(pair.first),
                    last_seen=_parse_stamp(pair.last),
                    recent_records=pair.recent,
                    privileged_mailboxes=len(reached) if reached is not None else None,
                    privileged_reached=sorted(names[p] for p in reached)[:MAX_REACHED_LISTED] if reached else [],
                )
            )
        return out

    def watched_mailboxes(
        self, watched: Iterable[str], operation: str = "MailItemsAccessed"
    ) -> WatchedMailboxes | None:
        """How many watched mailboxes have records of ``operation`` (None when it was not read whole)."""
        book = next((b for b in self.books if b.operation == operation), None)
        if book is None:
            return None
        keys = sorted({k.lower() for k in watched})
        seen, missing = 0, []
        observed = book.mailboxes()
        for key in keys:
            p = self.index.ids.get(key)
            if p is not None and (p >> 3) < len(observed) and observed[p >> 3] >> (p & 7) & 1:
                seen += 1
            else:
                missing.append(key)
        return WatchedMailboxes(total=len(keys), observed=seen, missing=missing[:MAX_REACHED_LISTED])

    def _watched_positions(self, watched: Iterable[str] | None) -> list[int] | None:
        if watched is None:
            return None
        return sorted({self.index.ids[k.lower()] for k in watched if k.lower() in self.index.ids})
