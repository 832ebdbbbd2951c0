"""Shards partition exactly; tenant directories never escape the output; the journal survives a kill."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assessor.bulk.paths import safe_dir_name, tenant_dir
from assessor.bulk.shard import Shard, parse_shard, partition, shard_of
from assessor.bulk.state import StateJournal, completions, latest_status, read_events
from assessor.errors import UsageError

KEYS = [str(uuid.UUID(int=i * 7919 + 17)) for i in range(1000)] + [f"tenant{i}.example.com" for i in range(200)]


@pytest.mark.parametrize("count", [1, 2, 3, 7, 16])
def test_shards_cover_every_tenant_exactly_once(count: int) -> None:
    shards = [partition(KEYS, KEYS, Shard(i, count)) for i in range(count)]
    flat = [key for shard in shards for key in shard]
    assert sorted(flat) == sorted(KEYS) and len(flat) == len(set(flat))
    if count > 1:  # roughly even
        assert min(map(len, shards)) > len(KEYS) / count * 0.7


def test_shard_is_stable_and_order_independent() -> None:
    """Machines running --shard i/n, and a --resume after an upgrade, must agree on every tenant's
    shard: it is pinned here, not compared with itself within one process."""
    assert [shard_of(k, 5) for k in KEYS[:10]] == [0, 2, 1, 4, 4, 1, 3, 1, 4, 0]
    assert [shard_of(k, 5) for k in KEYS[1000:1010]] == [3, 4, 3, 4, 4, 4, 4, 2, 4, 3]
    every = json.dumps([shard_of(k, 5) for k in KEYS]).encode()
    assert hashlib.sha256(every).hexdigest() == "b4a000670a4d1f74d830906d9d3ba0186da3c938d9c610a391be54f47e293b22"
    assert partition(list(reversed(KEYS)), list(reversed(KEYS)), Shard(1, 4)) == list(
        reversed(partition(KEYS, KEYS, Shard(1, 4)))
    )
    assert shard_of("Contoso.COM", 9) == shard_of("contoso.com", 9)


@pytest.mark.parametrize("text", ["1", "4/4", "-1/3", "a/b", "1/0"])
def test_bad_shard_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="--shard"):
        parse_shard(text)


def test_parse_shard() -> None:
    assert parse_shard(" 2 / 5 ") == Shard(2, 5)


@pytest.mark.parametrize(
    "key",
    [
        "../../x",
        "..",
        "/etc/passwd",
        "a/../../b",
        "C:\\win",
        ".hidden",
        "",
        "portfolio.json",
        "sandbox:contoso",
        "x" * 500,
        "\x00nul",
    ],
)
def test_tenant_dir_never_escapes(tmp_path: Path, key: str) -> None:
    path = tenant_dir(tmp_path, key)
    assert path.parent == tmp_path.resolve()
    assert path.name not in ("", ".", "..", "portfolio.json")
    assert "/" not in path.name and not path.name.startswith(".")


@given(st.text(min_size=1, max_size=120))
def test_safe_dir_names_are_safe_and_distinct(key: str) -> None:
    name = safe_dir_name(key)
    assert name and "/" not in name and "\\" not in name and not name.startswith(".")
    assert safe_dir_name(key + "x") != name


def test_plain_keys_keep_their_name() -> None:
    assert safe_dir_name("contoso.onmicrosoft.com") == "contoso.onmicrosoft.com"
    assert safe_dir_name("../x") != safe_dir_name("__x")


def test_journal_ignores_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "state.jsonl"
    with StateJournal(path) as journal:
        journal.record("start", "a")
        journal.record("done", "a", duration_s=1.0)
        journal.record("start", "b")
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"event":"done","tenant":"b","at":"2026')  # killed mid-write
    assert latest_status(path) == {"a": "done", "b": "start"}
    with StateJournal(path) as journal:
        journal.record("done", "b")
    assert completions(path) == {"a": 1, "b": 1}
    assert [e.kind for e in read_events(path)] == ["start", "done", "start", "done"]
