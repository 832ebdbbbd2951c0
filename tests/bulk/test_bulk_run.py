"""End-to-end bulk runs against the in-process sandbox: isolation, resume after SIGKILL, shards + merge."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from assessor.bulk.paths import STATE_FILE, tenant_dir
from assessor.bulk.state import completions, read_events
from tests.helpers.bulk import comparable, fleet_manifest, portfolio, run_cli

ROOT = Path(__file__).resolve().parents[2]


FLEET_RUN = ("--concurrency", "8")


def _slowest_healthy_tenant(tmp_path: Path) -> float:
    """Seconds the slowest tenant takes when the same fleet, all healthy, runs the same way (same
    processes, same concurrency) on this machine as loaded now, fresh worker processes included."""
    manifest = fleet_manifest(tmp_path / "healthy.yaml", 8, extra=[{"sandbox": "contoso", "name": "Contoso"}])
    out = tmp_path / "healthy"
    assert run_cli("bulk", str(manifest), "--output", str(out), *FLEET_RUN, "--format", "json") == 0
    rows = portfolio(out)["tenants"]
    assert len(rows) == 9 and {r["status"] for r in rows} == {"done"}
    return max(float(r["duration_s"]) for r in rows)


def test_failing_tenants_are_isolated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The tenant timeout must exceed a healthy tenant's time on this machine as loaded now: measured,
    # not guessed (a fixed 4 s timed healthy tenants out on a loaded 2-core machine); twice the slowest
    # healthy tenant of the same run without failures. The stall is far longer than that timeout, so
    # a run that waited for the stalled tenant instead of timing it out shows in its wall time.
    timeout = max(4, math.ceil(2 * _slowest_healthy_tenant(tmp_path)))
    stall = 4 * max(15, timeout)
    manifest = fleet_manifest(
        tmp_path / "m.yaml",
        8,
        failing=0.5,
        stall=stall,
        extra=[{"sandbox": "contoso", "name": "Contoso", "tags": ["gold"]}],
    )
    out = tmp_path / "out"
    started = time.monotonic()
    code = run_cli("bulk", str(manifest), "--output", str(out), *FLEET_RUN, "--tenant-timeout", str(timeout))
    elapsed = time.monotonic() - started
    assert elapsed < stall, "the run waited for the stalled tenant instead of timing it out"
    assert code == 3, "some tenants failed → exit 3"
    doc = portfolio(out)
    assert doc["totals"]["tenants"] == 9 and doc["totals"]["failed"] == 4, doc["failures"]
    assert doc["totals"]["failed"] == 4 and doc["totals"]["assessed"] == 5
    reasons = {f["tenant"]: f["reason"] for f in doc["failures"]}
    assert "401" in reasons["sandbox:fleet-0001"] and "403" in reasons["sandbox:fleet-0003"]
    assert reasons["sandbox:fleet-0005"] == f"timed out after {timeout} s"
    assert "429 TooManyRequests" in reasons["sandbox:fleet-0007"]
    for row in doc["tenants"]:
        directory = out / row["dir"]
        result = json.loads((directory / "result.json").read_text(encoding="utf-8"))
        assert result["status"] == row["status"]
        if row["status"] == "done":
            evidence = json.loads((directory / "evidence.json").read_text(encoding="utf-8"))
            assert evidence["schema"] == "assessor.evidence/1"
            assert json.loads((directory / "report.json").read_text(encoding="utf-8"))["findings"]
            assert (directory / "report.html").read_text(encoding="utf-8").startswith("<!")
        else:
            assert not (directory / "evidence.json").exists()
    assert not list(out.rglob("*.tmp"))
    contoso = next(r for r in doc["tenants"] if r["key"] == "sandbox:contoso")
    assert contoso["summary"]["users_without_premium_audit"] > 0 and contoso["summary"]["report"] == "report.html"
    assert doc["tenants"][0]["key"] == "sandbox:contoso", "largest gap first"
    html = (out / "portfolio.html").read_text(encoding="utf-8")
    assert 'href="sandbox_contoso-' in html and f"timed out after {timeout} s" in html
    assert (out / "portfolio.csv").read_text(encoding="utf-8").count("\n") == 10
    assert "failed sandbox:fleet-0001" in capsys.readouterr().err


def test_only_tags_and_refusing_a_used_output(tmp_path: Path) -> None:
    manifest = fleet_manifest(tmp_path / "m.yaml", 6)
    out = tmp_path / "out"
    assert run_cli("bulk", str(manifest), "--output", str(out), "--only", "group-1", "--format", "json") == 0
    doc = portfolio(out)
    assert [r["key"] for r in doc["tenants"]] == ["sandbox:fleet-0001", "sandbox:fleet-0004"] or sorted(
        r["key"] for r in doc["tenants"]
    ) == ["sandbox:fleet-0001", "sandbox:fleet-0004"]
    assert not list(out.rglob("report.html"))
    assert run_cli("bulk", str(manifest), "--output", str(out)) == 2


def test_manifest_error_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "m.csv"
    bad.write_text(
        "domain,auth,client_id,secret_env\ncontoso.com,secret,11111111-1111-1111-1111-111111111111,"
        "NOT_SET_ANYWHERE_42\n",
        encoding="utf-8",
    )
    assert run_cli("bulk", str(bad), "--output", str(tmp_path / "out")) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "tenant 1 (line 2), field auth.secret_env" in err
    assert not (tmp_path / "out").exists(), "nothing is written before validation passes"


def _wait_for_done(state: Path, at_least: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(completions(state).values()) >= at_least:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {at_least} tenants done within {timeout} s")


def test_resume_after_sigkill_loses_none_and_repeats_none(tmp_path: Path) -> None:
    count = 14
    manifest = fleet_manifest(tmp_path / "m.yaml", count, latency_ms=120)
    out = tmp_path / "out"
    state = out / STATE_FILE
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "assessor", "bulk", str(manifest), "--output", str(out), "--concurrency", "2"]
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_done(state, 3, 60)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(10)
    first = completions(state)
    assert 3 <= len(first) < count, "killed mid-run"
    in_flight = {e.tenant for e in read_events(state) if e.kind == "start"} - set(first)
    stamps = {key: (tenant_dir(out, key) / "evidence.json").stat().st_mtime_ns for key in first}
    resumed = subprocess.run(
        [*cmd[:-2], "--concurrency", "8", "--resume"], env=env, capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, resumed.stderr
    done = completions(state)
    assert set(done) == {f"sandbox:fleet-{i:04d}" for i in range(count)}, "no tenant lost"
    assert set(done.values()) == {1}, "no tenant done twice"
    second_run_starts = [e.tenant for e in _events_after_last_run(state) if e.kind == "start"]
    assert not set(second_run_starts) & set(first), "done tenants are skipped"
    assert in_flight <= set(second_run_starts), "tenants cut off mid-assessment are redone"
    assert all((tenant_dir(out, k) / "evidence.json").stat().st_mtime_ns == t for k, t in stamps.items())
    assert f"{count} tenants ({len(first)} already done), 0 failed" in resumed.stderr
    assert portfolio(out)["totals"]["assessed"] == count


def _events_after_last_run(state: Path) -> list:
    events = list(read_events(state))
    last_run = max(i for i, e in enumerate(events) if e.kind == "run")
    return events[last_run + 1 :]


def test_merge_of_shards_equals_a_single_run(tmp_path: Path) -> None:
    manifest = fleet_manifest(tmp_path / "m.yaml", 9, failing=0.12, extra=[{"sandbox": "contoso", "tags": ["gold"]}])
    args = ["--date", "2026-11-25", "--format", "json,html"]
    single = tmp_path / "single"
    assert run_cli("bulk", str(manifest), "--output", str(single), *args) == 3
    shards = [tmp_path / f"shard{i}" for i in range(3)]
    for i, directory in enumerate(shards):
        run_cli("bulk", str(manifest), "--output", str(directory), "--shard", f"{i}/3", *args)
    sizes = [portfolio(d)["totals"]["tenants"] for d in shards]
    assert sum(sizes) == 10 and all(sizes)
    merged = tmp_path / "merged"
    assert run_cli("merge", *map(str, shards), "--output", str(merged)) == 3
    assert comparable(portfolio(merged)) == comparable(portfolio(single))
    assert (merged / "portfolio.csv").read_text(encoding="utf-8") == (single / "portfolio.csv").read_text(
        encoding="utf-8"
    )
    for row in portfolio(merged)["tenants"]:
        assert (merged / row["dir"] / "result.json").is_file()
        if row["status"] == "done":
            assert (merged / row["dir"] / "report.html").is_file()


def test_resume_retries_failed_tenants_only(tmp_path: Path) -> None:
    manifest = fleet_manifest(tmp_path / "m.yaml", 4, failing=0.25)
    out = tmp_path / "out"
    assert run_cli("bulk", str(manifest), "--output", str(out), "--format", "json") == 3
    assert run_cli("bulk", str(manifest), "--output", str(out), "--format", "json", "--resume") == 3
    retried = [e.tenant for e in _events_after_last_run(out / STATE_FILE) if e.kind == "start"]
    assert retried == ["sandbox:fleet-0003"], "only the failed tenant is tried again"
    assert completions(out / STATE_FILE) == {f"sandbox:fleet-000{i}": 1 for i in range(3)}
    assert portfolio(out)["totals"] == {**portfolio(out)["totals"], "tenants": 4, "assessed": 3, "failed": 1}


def test_fail_on_is_the_one_given_now_on_resume_and_merge(tmp_path: Path) -> None:
    """Stored results are re-judged with the current --fail-on (a CI gate must not pass on an old threshold)."""
    manifest = fleet_manifest(tmp_path / "m.yaml", 1, extra=[{"sandbox": "contoso"}])
    out = tmp_path / "out"
    base = ["bulk", str(manifest), "--output", str(out), "--format", "json", "--date", "2026-11-25"]
    assert run_cli(*base) == 0  # --fail-on none
    assert run_cli(*base, "--resume", "--fail-on", "high") == 1  # contoso has high-severity failures
    assert run_cli(*base, "--resume") == 0
    merged = tmp_path / "merged"
    assert run_cli("merge", str(out), "--output", str(merged)) == 0
    assert run_cli("merge", str(out), "--output", str(merged), "--fail-on", "high") == 1


def test_resume_reassesses_a_tenant_whose_settings_changed(tmp_path: Path) -> None:
    manifest = fleet_manifest(tmp_path / "m.yaml", 2)
    out = tmp_path / "out"
    base = ["bulk", str(manifest), "--output", str(out), "--format", "json", "--date", "2026-11-25"]
    assert run_cli(*base) == 0
    doc = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    doc["tenants"][1]["profile"] = "cis-m365"  # fleet-0001 now answers to another profile
    manifest.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    run_cli(*base, "--resume")
    rerun = [e.tenant for e in _events_after_last_run(out / STATE_FILE) if e.kind == "start"]
    assert rerun == ["sandbox:fleet-0001"]
    rows = {row["key"]: row for row in portfolio(out)["tenants"]}
    assert rows["sandbox:fleet-0001"]["profile"] == "cis-m365"
    report = json.loads((out / rows["sandbox:fleet-0001"]["dir"] / "report.json").read_text(encoding="utf-8"))
    assert report["profile"]["id"] == "cis-m365"
    run_cli(*base[:-2], "--date", "2026-11-26", "--resume")  # a new date re-assesses everyone
    assert len([e for e in _events_after_last_run(out / STATE_FILE) if e.kind == "start"]) == 2


def test_a_partial_portfolio_says_which_part(tmp_path: Path) -> None:
    manifest = fleet_manifest(tmp_path / "m.yaml", 3)
    out = tmp_path / "out"
    run_cli("bulk", str(manifest), "--output", str(out), "--format", "json", "--only", "group-1")
    assert portfolio(out)["selection"] == "tenants tagged group-1"
    assert "Part of the manifest only" in (out / "portfolio.html").read_text(encoding="utf-8")
    whole = tmp_path / "whole"
    run_cli("bulk", str(manifest), "--output", str(whole), "--format", "json")
    assert portfolio(whole)["selection"] is None
