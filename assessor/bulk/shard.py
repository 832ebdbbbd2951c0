"""Deterministic partition of a manifest across N independent runs (``--shard I/N``, I from 0).

A tenant's shard is the SHA-256 of its key modulo N: stable across machines, Python versions and
manifest order, so a Kubernetes Indexed Job (``JOB_COMPLETION_INDEX``) or a CI matrix can run the
shards with no coordination, and adding a tenant never moves the others.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from assessor.errors import UsageError

T = TypeVar("T")
_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, key: str) -> bool:
        return shard_of(key, self.count) == self.index


def parse_shard(text: str) -> Shard:
    """``I/N`` with 0 ≤ I < N (I is 0-based, like a Kubernetes completion index)."""
    match = _SHARD.match(text)
    if not match:
        raise UsageError(f"--shard: {text!r} is not of the form I/N (e.g. 0/4)")
    index, count = int(match[1]), int(match[2])
    if count < 1 or count > 100_000:
        raise UsageError(f"--shard: N must be between 1 and 100000, not {count}")
    if index >= count:
        raise UsageError(f"--shard: I is 0-based and must be below N ({index}/{count}: use 0…{count - 1})")
    return Shard(index, count)


def shard_of(key: str, count: int) -> int:
    digest = hashlib.sha256(key.strip().lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def partition(items: Iterable[T], keys: Iterable[str], shard: Shard | None) -> list[T]:
    """The items whose key falls in ``shard`` (all of them when no shard is given)."""
    pairs = list(zip(items, keys, strict=True))
    if shard is None:
        return [item for item, _ in pairs]
    return [item for item, key in pairs if shard.holds(key)]
