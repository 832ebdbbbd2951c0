"""bulk --workers N: the same tenants, results, journal and portfolio as one process."""

from __future__ import annotations

from pathlib import Path

from assessor.bulk.state import read_events
from assessor.bulk.workers import deal
from tests.helpers.bulk import comparable, fleet_manifest, portfolio, run_cli


def test_jobs_are_dealt_round_robin_without_empty_shares() -> None:
    jobs = list(range(7))
    assert deal(jobs, 3) == [(0, 3, 6), (1, 4), (2, 5)]  # type: ignore[arg-type]
    assert deal(jobs[:2], 4) == [(0,), (1,)]  # type: ignore[arg-type]


def test_workers_give_the_same_portfolio_and_one_journal(tmp_path: Path) -> None:
    manifest = fleet_manifest(tmp_path / "m.yaml", 6, failing=0.34)
    one, two = tmp_path / "one", tmp_path / "two"
    assert run_cli("bulk", str(manifest), "--output", str(one), "--workers", "1") == 3
    assert run_cli("bulk", str(manifest), "--output", str(two), "--workers", "2", "--concurrency", "4") == 3
    assert comparable(portfolio(two)) == comparable(portfolio(one))
    events = list(read_events(two / "bulk-state.jsonl"))
    run = [e for e in events if e.kind == "run"]
    assert len(run) == 1 and run[0].data["workers"] == 2
    keys = {f"sandbox:fleet-{i:04d}" for i in range(6)}
    assert {e.tenant for e in events if e.kind == "start"} == keys
    finished = [e.tenant for e in events if e.kind in ("done", "failed")]
    assert sorted(finished) == sorted(keys), "each tenant finished exactly once, in the one journal"


def test_workers_must_be_positive(tmp_path: Path) -> None:
    manifest = fleet_manifest(tmp_path / "m.yaml", 2)
    assert run_cli("bulk", str(manifest), "--output", str(tmp_path / "o"), "--workers", "0") == 2
