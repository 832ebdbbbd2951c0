"""Joining Exchange mailboxes to Entra users: the licence level and role of each mailbox's user.

``Get-Mailbox`` reports a mailbox's Entra object id as ``ExternalDirectoryObjectId``; Graph reports
the same id as the user's ``id``. Mailboxes and users are read concurrently and streamed, so
neither side is kept per row: each side keeps an 8-byte digest of the id (a mailbox group its
members' digests, the user enumeration one sorted array of digests per licence level), and the
join runs once both are read. The group of mailboxes that share exactly the same audit settings
is then split by the users' licence level (``premium``, ``expanded``, ``basic``; ``None`` where
the user is not known), and each part counts the mailboxes of privileged users (and of ``--vip``
users).

Licence levels, as the engine defines them (``assessor.engine.licensing.classify``): *premium* =
the user has an enabled Audit (Premium) plan; *expanded* = an E3/G3- or E5-level SKU (the expanded
Standard events and Microsoft's documented default actions); *basic* = neither (Business plans,
F1/F3, Exchange Online Plan 1/2 alone, A1, or no usable licence).
"""

from __future__ import annotations

import hashlib
import re
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from typing import Literal, Protocol

from assessor.evidence import MailboxAudit

LicenceLevel = Literal["premium", "expanded", "basic"]
LEVELS: tuple[LicenceLevel, ...] = ("premium", "expanded", "basic")
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def directory_id(value: object) -> str | None:
    """A directory object id (GUID, lower-cased), or None when ``value`` is not one."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    return text if _GUID.match(text) else None


def id_digest(object_id: str) -> int:
    """The 8-byte digest both sides keep of a (lower-cased) directory object id."""
    return int.from_bytes(hashlib.blake2b(object_id.encode("ascii"), digest_size=8).digest(), "big")


class UserDirectory:
    """Which licence level each enumerated user has, by id digest: a sorted array per level
    (8 bytes a user). Filled while users stream, then :meth:`freeze`-d for lookups."""

    def __init__(self) -> None:
        self._levels: dict[LicenceLevel, array[int]] = {level: array("Q") for level in LEVELS}
        self.users = 0
        self.complete = False

    def add(self, object_id: str, level: LicenceLevel) -> None:
        oid = directory_id(object_id)
        if oid is not None:
            self._levels[level].append(id_digest(oid))
            self.users += 1

    def freeze(self) -> None:
        """Sort for lookups; marks the directory whole (only a whole enumeration is frozen)."""
        for level in LEVELS:
            self._levels[level] = array("Q", sorted(self._levels[level]))
        self.complete = True

    def level(self, digest: int) -> LicenceLevel | None:
        for level in LEVELS:
            values = self._levels[level]
            i = bisect_left(values, digest)
            if i < len(values) and values[i] == digest:
                return level
        return None


def digests(object_ids: Iterable[str]) -> frozenset[int]:
    return frozenset(id_digest(oid) for oid in (directory_id(i) for i in object_ids) if oid is not None)


class MailboxSet(Protocol):
    """What the join reads of the aggregator that read the whole mailbox set
    (:class:`assessor.collect.exchange.aggregate.MailboxAggregator`)."""

    @property
    def total(self) -> int: ...

    def joined(
        self,
        directory: UserDirectory | None,
        privileged: frozenset[int] | None,
        privileged_roles: list[str] | Literal["all"] | None = None,
    ) -> MailboxAudit: ...


def join_mailboxes(
    data: MailboxAudit,
    aggregator: MailboxSet | None,
    directory: UserDirectory | None,
    holder_ids: Iterable[str] | None,
    privileged_roles: Iterable[str] | None,
) -> MailboxAudit:
    """The ``mailboxes`` section's data with its groups split by licence level and the privileged users'
    mailboxes counted (``aggregator`` read the whole set).

    ``holder_ids``: object ids of the users holding a privileged role (None when the role holders
    were not read); ``privileged_roles``: the role template ids they were read for (None: every
    role). Data the aggregator did not produce (another set) is returned as it is.
    """
    if aggregator is None or data.total_user_mailboxes != aggregator.total:
        return data
    if holder_ids is None:
        return aggregator.joined(directory, None)
    roles: list[str] | Literal["all"] = sorted({r.lower() for r in privileged_roles}) if privileged_roles else "all"
    return aggregator.joined(directory, digests(holder_ids), roles)
