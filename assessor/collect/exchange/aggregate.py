"""Streaming aggregation of per-mailbox and per-account rows into bounded evidence.

Memory is bounded by the number of *distinct* audit configurations (a handful in real tenants),
not by the number of mailboxes: each row is folded into its group and dropped, keeping only an
8-byte digest of its Entra object id (``ExternalDirectoryObjectId``) for the join with the users'
licences and roles (:mod:`assessor.collect.join`). Bypass associations keep only the bypassed
accounts plus a count of all.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from assessor.collect.exchange.normalize import (
    USER_MAILBOX,
    BypassRow,
    FieldError,
    MailboxSettings,
    Row,
    SettingsKey,
    bypass_row,
    mailbox_identity,
    mailbox_settings,
    recipient_type,
    settings_key,
)
from assessor.collect.join import LicenceLevel, UserDirectory, directory_id, id_digest
from assessor.evidence import BypassAssociation, MailboxAudit, MailboxAuditBypass, MailboxAuditConfiguration

SAMPLE_SIZE = 3
DETAIL_LIMIT = 10_000  # identities kept per deviating group in detail mode
POOL_SIZE = 64  # identities kept per group, so each licence level's part still has a sample
NO_ID = -1  # a mailbox without a directory object id (its user cannot be told)


@dataclass
class _Group:
    count: int = 0
    pool: list[tuple[int, str]] = field(default_factory=list)  # (id digest or NO_ID, identity)
    members: array[int] = field(default_factory=lambda: array("Q"))  # id digests of the mailboxes' users
    without_id: int = 0
    vip: list[int] = field(default_factory=list)  # id digests (or NO_ID) of the --vip mailboxes


def _deviates(settings: MailboxSettings) -> bool:
    """Customised (some logon type not on defaults) or auditing switched off for the mailbox."""
    return not settings.audit_enabled or len(settings.default_audit_set) < 3


@dataclass
class _Part:
    """The mailboxes of one group whose users share a licence level (or the whole group)."""

    count: int = 0
    members: array[int] = field(default_factory=lambda: array("Q"))
    sample: list[str] = field(default_factory=list)
    vip: int = 0


def add_rows(add: Callable[[object], None], rows: Iterable[object], where: str = "") -> None:
    """``add`` each row; a field error names the row (``where[i].Field``)."""
    for i, raw in enumerate(rows):
        try:
            add(raw)
        except FieldError as err:
            raise FieldError(f"{where}[{i}].{err.field}", err.message) from None


class _Identities:
    """Refuses an identity seen before (case-insensitive): a row repeated in an export (two exports
    pasted together, a re-run appended) would otherwise be counted twice. Keeps 8-byte digests."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._seen: set[bytes] = set()

    def add(self, identity: str | None) -> None:
        if not identity:
            return
        digest = hashlib.blake2b(identity.strip().lower().encode("utf-8"), digest_size=8).digest()
        if digest in self._seen:
            raise FieldError("Identity", f"{self.what} {identity!r} appears more than once")
        self._seen.add(digest)


class MailboxAggregator:
    """Folds Get-Mailbox rows into :class:`~assessor.evidence.MailboxAuditConfiguration` groups.

    Only ``RecipientTypeDetails == UserMailbox`` rows count (shared, room and equipment mailboxes
    are skipped and counted separately). In detail mode every identity of a deviating group is
    kept (up to :data:`DETAIL_LIMIT`), otherwise a small sample per group.
    """

    def __init__(
        self,
        *,
        detail: bool = False,
        sample_size: int = SAMPLE_SIZE,
        unique: bool = False,
        vip: Iterable[str] | None = None,
    ) -> None:
        self.detail = detail
        self.sample_size = sample_size
        self.vip = frozenset(v.strip().lower() for v in vip) if vip is not None else None
        self.groups: dict[MailboxSettings, _Group] = {}
        self.total = 0
        self.skipped_other_types = 0
        self._seen: dict[SettingsKey, MailboxSettings] = {}
        self._identities: _Identities | None = _Identities("mailbox") if unique else None

    def _settings(self, row: Row) -> MailboxSettings:
        key = settings_key(row)
        cached = self._seen.get(key) if key is not None else None
        if cached is None:
            cached = mailbox_settings(row)
            if key is not None and len(self._seen) < 10_000:
                self._seen[key] = cached
        return cached

    def add(self, raw: object) -> None:
        row = Row(raw)
        if recipient_type(row) != USER_MAILBOX:
            self.skipped_other_types += 1
            return
        settings = self._settings(row)
        if self._identities is not None:
            self._identities.add(mailbox_identity(row))
        group = self.groups.setdefault(settings, _Group())
        group.count += 1
        self.total += 1
        oid = directory_id(row.get("ExternalDirectoryObjectId"))
        digest = id_digest(oid) if oid is not None else NO_ID
        if oid is not None:
            group.members.append(digest)
        else:
            group.without_id += 1
        identity = mailbox_identity(row)
        if self.vip and self._is_vip(row, oid, identity):
            group.vip.append(digest)
        if len(group.pool) < max(self._limit(settings), POOL_SIZE) and identity is not None:
            group.pool.append((digest, identity))

    def _limit(self, settings: MailboxSettings) -> int:
        return DETAIL_LIMIT if self.detail and _deviates(settings) else self.sample_size

    def _is_vip(self, row: Row, oid: str | None, identity: str | None) -> bool:
        assert self.vip is not None
        names = {oid, identity, row.get("UserPrincipalName"), row.get("PrimarySmtpAddress")}
        return any(isinstance(n, str) and n.strip().lower() in self.vip for n in names)

    def add_all(self, rows: Iterable[object], where: str = "") -> None:
        add_rows(self.add, rows, where)

    def result(self) -> MailboxAudit:
        """The ``MailboxAudit`` evidence (largest groups first, then by settings)."""
        return self.joined(None, None)

    def joined(
        self,
        directory: UserDirectory | None,
        privileged: frozenset[int] | None,
        privileged_roles: list[str] | Literal["all"] | None = None,
    ) -> MailboxAudit:
        """The ``MailboxAudit`` evidence with each group split by its users' licence level (from a
        whole user ``directory``; without one a group stays whole with no level) and the mailboxes of
        ``privileged`` users (id digests; the roles they hold: ``privileged_roles``) counted per part.
        A part holding a mailbox without a directory id gets no privileged count: whose it is cannot
        be told."""
        parts: list[tuple[MailboxSettings, LicenceLevel | None, _Part]] = []
        split = directory is not None and directory.complete
        for settings, group in self.groups.items():
            for level, part in self._parts(group, directory if split else None).items():
                parts.append((settings, level, part))
        parts.sort(key=lambda p: (-p[2].count, repr(p[0]), p[1] or ""))
        configurations = [
            MailboxAuditConfiguration(
                audit_enabled=settings.audit_enabled,
                default_audit_set=list(settings.default_audit_set),
                audit_owner=list(settings.audit_owner),
                audit_delegate=list(settings.audit_delegate),
                audit_admin=list(settings.audit_admin),
                count=part.count,
                sample=part.sample[: self._limit(settings)],
                licence=level,
                privileged=(
                    sum(1 for d in part.members if d in privileged)
                    if privileged is not None and len(part.members) == part.count
                    else None
                ),
                vip=part.vip if self.vip is not None else None,
            )
            for settings, level, part in parts
        ]
        return MailboxAudit(
            total_user_mailboxes=self.total, configurations=configurations, privileged_roles=privileged_roles
        )

    def _parts(self, group: _Group, directory: UserDirectory | None) -> dict[LicenceLevel | None, _Part]:
        """The group's mailboxes by licence level (one part, level None, without a directory)."""

        def level_of(digest: int) -> LicenceLevel | None:
            return directory.level(digest) if directory is not None and digest != NO_ID else None

        if directory is None:
            pool = [identity for _d, identity in group.pool]
            return {None: _Part(group.count, group.members, pool, len(group.vip))}
        parts: dict[LicenceLevel | None, _Part] = {}
        for digest in group.members:
            target = parts.setdefault(level_of(digest), _Part())
            target.count += 1
            target.members.append(digest)
        if group.without_id:
            parts.setdefault(None, _Part()).count += group.without_id
        for digest, identity in group.pool:
            parts.setdefault(level_of(digest), _Part()).sample.append(identity)
        for digest in group.vip:
            parts.setdefault(level_of(digest), _Part()).vip += 1
        return parts


@dataclass
class MailboxSink:
    """Where one collection's mailbox reader leaves the aggregator of the attempt that read the whole
    set (a restarted paging chain starts a fresh one); the collection returns it for the join with
    the users (:meth:`MailboxAggregator.joined`)."""

    aggregator: MailboxAggregator | None = None


class BypassAggregator:
    """Counts every bypass association and keeps only the ones with AuditBypassEnabled true."""

    def __init__(self, *, unique: bool = False) -> None:
        self.total = 0
        self.bypassed: list[str] = []
        self._identities: _Identities | None = _Identities("association") if unique else None

    def add(self, raw: object) -> None:
        row: BypassRow = bypass_row(raw)
        if self._identities is not None:
            self._identities.add(row.identity)
        self.total += 1
        if row.bypassed:
            self.bypassed.append(row.identity)

    def add_all(self, rows: Iterable[object], where: str = "") -> None:
        add_rows(self.add, rows, where)

    def result(self) -> MailboxAuditBypass:
        bypassed = [BypassAssociation(identity=name) for name in sorted(self.bypassed, key=str.lower)]
        return MailboxAuditBypass(total_associations=self.total, bypassed=bypassed)
