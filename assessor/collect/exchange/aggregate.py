"""Streaming aggregation of per-mailbox and per-account rows into bounded evidence.

Memory is bounded by the number of *distinct* audit configurations (a handful in real tenants),
not by the number of mailboxes: each row is folded into its group and dropped. Bypass
associations keep only the bypassed accounts plus a count of all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from assessor.collect.exchange.normalize import (
    USER_MAILBOX,
    BypassRow,
    FieldError,
    MailboxSettings,
    Row,
    bypass_row,
    mailbox_identity,
    mailbox_settings,
    recipient_type,
    settings_key,
)

SAMPLE_SIZE = 3
DETAIL_LIMIT = 10_000  # identities kept per deviating group in detail mode


@dataclass
class _Group:
    count: int = 0
    sample: list[str] = field(default_factory=list)


def _deviates(settings: MailboxSettings) -> bool:
    """Customised (some logon type not on defaults) or auditing switched off for the mailbox."""
    return not settings.audit_enabled or len(settings.default_audit_set) < 3


def add_rows(add: Callable[[Any], None], rows: Iterable[Any], where: str = "") -> None:
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

    def __init__(self, *, detail: bool = False, sample_size: int = SAMPLE_SIZE, unique: bool = False) -> None:
        self.detail = detail
        self.sample_size = sample_size
        self.groups: dict[MailboxSettings, _Group] = {}
        self.total = 0
        self.skipped_other_types = 0
        self._seen: dict[tuple[Any, ...], MailboxSettings] = {}
        self._identities: _Identities | None = _Identities("mailbox") if unique else None

    def _settings(self, row: Row) -> MailboxSettings:
        key = settings_key(row)
        cached = self._seen.get(key) if key is not None else None
        if cached is None:
            cached = mailbox_settings(row)
            if key is not None and len(self._seen) < 10_000:
                self._seen[key] = cached
        return cached

    def add(self, raw: Any) -> None:
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
        limit = DETAIL_LIMIT if self.detail and _deviates(settings) else self.sample_size
        if len(group.sample) < limit:
            identity = mailbox_identity(row)
            if identity is not None:
                group.sample.append(identity)

    def add_all(self, rows: Iterable[Any], where: str = "") -> None:
        add_rows(self.add, rows, where)

    def result(self) -> dict[str, Any]:
        """The ``MailboxAudit`` evidence data (largest groups first, then by settings)."""
        ordered = sorted(self.groups.items(), key=lambda kv: (-kv[1].count, repr(kv[0])))
        return {
            "total_user_mailboxes": self.total,
            "configurations": [
                {
                    "audit_enabled": s.audit_enabled,
                    "default_audit_set": list(s.default_audit_set),
                    "audit_owner": list(s.audit_owner),
                    "audit_delegate": list(s.audit_delegate),
                    "audit_admin": list(s.audit_admin),
                    "count": g.count,
                    "sample": g.sample,
                }
                for s, g in ordered
            ],
        }


class BypassAggregator:
    """Counts every bypass association and keeps only the ones with AuditBypassEnabled true."""

    def __init__(self, *, unique: bool = False) -> None:
        self.total = 0
        self.bypassed: list[str] = []
        self._identities: _Identities | None = _Identities("association") if unique else None

    def add(self, raw: Any) -> None:
        row: BypassRow = bypass_row(raw)
        if self._identities is not None:
            self._identities.add(row.identity)
        self.total += 1
        if row.bypassed:
            self.bypassed.append(row.identity)

    def add_all(self, rows: Iterable[Any], where: str = "") -> None:
        add_rows(self.add, rows, where)

    def result(self) -> dict[str, Any]:
        return {
            "total_associations": self.total,
            "bypassed": [{"identity": name} for name in sorted(self.bypassed, key=str.lower)],
        }
