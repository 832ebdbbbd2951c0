"""Bulk-scan benchmark: many small sandbox tenants with injected latency, one `assessor bulk` command.

    python benchmarks/bulk.py                      # 1,000 tenants, 100 ms, concurrency 64, 0% and 10% failing,
                                                   # with 1 worker process and with one per CPU
    python benchmarks/bulk.py --tenants 200 --failing 0.1 --workers 1 --workers 4 --json out.json

For each scenario the fleet is served by ONE sandbox server in its own process (so the figures are
those of the bulk process alone, as against real Graph), and `assessor bulk` runs in a child process
whose CPU time (its worker processes included) and peak RSS are read with ``wait4``. Each scenario
runs once per ``--workers`` value (default: 1 and the CPU count). Reported:

- wall time of the scan (journal: first tenant start → last tenant finish) and of the whole process;
- the ideal: tenants × sequential rounds per tenant × latency ÷ concurrency, where the rounds are
  measured on one fleet tenant (the longest chain of requests a tenant's collection waits for one
  after another), and the ratio wall ÷ ideal (target ≤ 1.5) for 1 and for N workers;
- peak RSS of the bulk process (target ≤ 500 MB) and CPU seconds per tenant.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assessor.bulk.state import read_events  # noqa: E402
from assessor.sandbox.fleet import FleetSpec, fleet_tenant, manifest_rows  # noqa: E402


@dataclass(frozen=True)
class Scenario:
    tenants: int
    latency_ms: int
    concurrency: int
    failing: float
    users: int
    tenant_timeout: float
    formats: str
    workers: int = 1
    exchange: bool = True


@dataclass(frozen=True)
class Figures:
    scenario: Scenario
    rounds_per_tenant: int
    ideal_s: float
    scan_wall_s: float
    process_wall_s: float
    ratio: float
    peak_rss_mb: float
    cpu_s: float
    cpu_s_per_tenant: float
    server_cpu_s: float
    done: int
    failed: int
    exit_code: int


def sequential_rounds(users: int, latency_ms: int, exchange: bool) -> int:
    """Round trips one fleet tenant's collection waits for in sequence (measured, not assumed)."""
    from assessor.collect import CollectOptions, collect
    from assessor.collect.auth import AuthOptions, StaticTokenCredential
    from assessor.sandbox.server import SandboxServer

    spec = FleetSpec(1, "rounds", users)
    with SandboxServer(latency_ms=latency_ms) as server:
        tenant = fleet_tenant(spec, 0)
        server.add_tenant(tenant)
        endpoints = server.exchange_endpoints(tenant.id) if exchange else {}
        options = CollectOptions(
            tenant=tenant.id,
            auth=AuthOptions(mode="token"),
            no_exchange=not exchange,
            graph_endpoint=server.graph_url(tenant.id),
            exchange_endpoint=endpoints.get("exchange_endpoint"),
            compliance_endpoint=endpoints.get("compliance_endpoint"),
            credential=StaticTokenCredential({"graph": "b", "exchange": "b", "compliance": "b"}),
        )
        asyncio.run(collect(options))  # warm-up: imports and first connections
        server.reset_stats()
        asyncio.run(collect(options))
        return int(server.stats()["sequential_rounds"])


def start_fleet(scenario: Scenario) -> tuple[subprocess.Popen[str], str]:
    cmd = [
        sys.executable,
        "-m",
        "assessor.sandbox.fleet",
        "--count",
        str(scenario.tenants),
        "--users",
        str(scenario.users),
        "--failing",
        str(scenario.failing),
        "--latency-ms",
        str(scenario.latency_ms),
        "--stall-seconds",
        str(scenario.tenant_timeout * 3),
    ]
    server = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env())
    assert server.stdout is not None
    base_url = server.stdout.readline().strip()
    if not base_url.startswith("http://"):
        server.kill()
        raise RuntimeError(f"the fleet server did not start: {base_url!r}")
    return server, base_url


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ASSESSOR_GRAPH_TOKEN": "bench-token",
        "ASSESSOR_EXCHANGE_TOKEN": "bench-token",
        "ASSESSOR_COMPLIANCE_TOKEN": "bench-token",
    }


def write_manifest(path: Path, scenario: Scenario, base_url: str) -> None:
    spec = FleetSpec(scenario.tenants, users=scenario.users, failing=scenario.failing)
    doc = {"version": 1, "tenants": list(manifest_rows(spec, base_url, scenario.exchange))}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def scan_wall(states: list[Path]) -> tuple[float, int, int]:
    """Seconds from the first tenant start to the last tenant finish (over all shards); done, failed."""
    events = [e for state in states for e in read_events(state) if e.tenant is not None]
    stamps = [datetime.fromisoformat(e.at) for e in events]
    done = sum(1 for e in events if e.kind == "done")
    failed = sum(1 for e in events if e.kind == "failed")
    return (max(stamps) - min(stamps)).total_seconds(), done, failed


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a running process has used so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def failure_reasons(states: list[Path]) -> dict[str, int]:
    """Failure reasons with tenant ids masked, counted."""
    out: dict[str, int] = {}
    for event in (e for state in states for e in read_events(state)):
        if event.kind == "failed":
            reason = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<tenant>", str(event.data.get("reason")))
            out[reason] = out.get(reason, 0) + 1
    return out


@dataclass(frozen=True)
class Usage:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    exit_code: int


def run_processes(commands: list[list[str]]) -> Usage:
    """Run commands in parallel; wall time, summed CPU, the largest peak RSS, the worst exit code."""
    started = time.perf_counter()
    children = [
        subprocess.Popen(cmd, cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for cmd in commands
    ]
    cpu, rss, codes = 0.0, 0.0, []
    for child in children:
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        cpu += usage.ru_utime + usage.ru_stime
        rss = max(rss, usage.ru_maxrss / 1024)
        codes.append(child.returncode)
    return Usage(time.perf_counter() - started, cpu, rss, max(codes))


def bulk_command(manifest: Path, output: Path, scenario: Scenario) -> list[str]:
    """One `assessor bulk` with ``--workers`` processes sharing ``--concurrency``."""
    return [
        sys.executable,
        "-m",
        "assessor",
        "bulk",
        str(manifest),
        "--output",
        str(output),
        "--concurrency",
        str(scenario.concurrency),
        "--workers",
        str(scenario.workers),
        "--tenant-timeout",
        str(scenario.tenant_timeout),
        "--format",
        scenario.formats,
    ]


def measure(scenario: Scenario, rounds: int) -> Figures:
    server, base_url = start_fleet(scenario)
    try:
        with tempfile.TemporaryDirectory(prefix="bulk-bench-") as tmp:
            manifest = Path(tmp) / "manifest.yaml"
            output = Path(tmp) / "out"
            write_manifest(manifest, scenario, base_url)
            usage = run_processes([bulk_command(manifest, output, scenario)])
            states = [output / "bulk-state.jsonl"]
            wall, done, failed = scan_wall(states)
            reasons = failure_reasons(states)
        server_cpu = process_cpu(server.pid)
    finally:
        server.terminate()
        server.wait(10)
    for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  failed ×{count}: {reason}", flush=True)
    ideal = scenario.tenants * rounds * scenario.latency_ms / 1000 / scenario.concurrency
    ratio = round(wall / ideal, 2) if ideal else float("inf")
    return Figures(
        scenario,
        rounds,
        round(ideal, 2),
        round(wall, 2),
        round(usage.wall_s, 2),
        ratio,
        round(usage.peak_rss_mb, 1),
        round(usage.cpu_s, 1),
        round(usage.cpu_s / scenario.tenants, 4),
        round(server_cpu, 1),
        done,
        failed,
        usage.exit_code,
    )


def show(figures: Figures) -> str:
    s = figures.scenario
    return (
        f"{s.tenants} tenants, {s.latency_ms} ms latency, concurrency {s.concurrency}, "
        f"{s.failing:.0%} failing, {'Graph + Exchange' if s.exchange else 'Graph only'}, formats {s.formats}, "
        f"{s.workers} worker(s): scan {figures.scan_wall_s} s "
        f"(process {figures.process_wall_s} s) vs ideal {figures.ideal_s} s "
        f"({s.tenants} × {figures.rounds_per_tenant} rounds × {s.latency_ms} ms ÷ {s.concurrency}) → "
        f"ratio {figures.ratio}; peak RSS {figures.peak_rss_mb} MB; CPU {figures.cpu_s} s "
        f"= {figures.cpu_s_per_tenant * 1000:.0f} ms/tenant (sandbox server {figures.server_cpu_s} s); "
        f"{figures.done} done, {figures.failed} failed, "
        f"exit {figures.exit_code}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--failing", type=float, action="append", help="share failing (repeatable; default 0, 0.1)")
    parser.add_argument("--tenant-timeout", type=float, default=30.0)
    parser.add_argument("--formats", default="json,html")
    parser.add_argument("--no-exchange", action="store_true", help="Graph only (no Exchange/compliance admin API)")
    parser.add_argument(
        "--workers",
        type=int,
        action="append",
        help="bulk --workers (repeatable; default: 1 and the CPU count)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    rounds = sequential_rounds(args.users, args.latency_ms, not args.no_exchange)
    results: list[dict[str, Any]] = []
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    for failing in args.failing or [0.0, 0.1]:
        for workers in args.workers or sorted({1, cpus}):
            scenario = Scenario(
                args.tenants,
                args.latency_ms,
                args.concurrency,
                failing,
                args.users,
                args.tenant_timeout,
                args.formats,
                workers,
                not args.no_exchange,
            )
            figures = measure(scenario, rounds)
            print(show(figures), flush=True)
            results.append(asdict(figures))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
