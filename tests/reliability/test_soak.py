"""Soak: a 200-tenant bulk scan (assessor.bulk's runner, pipeline and state journal) in chaos mode.

Counts tenants completed and failed (with reasons), and asserts zero crashes (no exception other
than the tool's typed errors and timeouts), zero lost outputs (every tenant has evidence + reports
or a recorded failure) and zero false passes (each tenant's findings against a fault-free scan of
the same fleet). The figures are printed (``pytest -s``) for the README's reliability section.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from assessor.bulk.command import load_profiles, plan_jobs
from assessor.bulk.paths import RESULT_FILE, STATE_FILE
from assessor.bulk.portfolio import write_portfolio
from assessor.bulk.runner import Schedule, TenantJob, TenantResult, run_jobs
from assessor.bulk.settings import EVIDENCE_FILE, PipelineSettings, SandboxTarget
from assessor.bulk.state import StateJournal, read_events
from assessor.errors import AssessorError
from assessor.pipeline import BulkAssess
from assessor.sandbox import SandboxServer
from assessor.sandbox.chaos import Chaos, ChaosConfig
from assessor.sandbox.fleet import FleetSpec, add_fleet, failing_names, template
from tests.helpers.chaos import FIGURES, ON

TENANTS = 200
CONCURRENCY = 16
TENANT_TIMEOUT = 10.0
SOAK_SECONDS = 100.0
CHAOS = ChaosConfig.uniform(0.15, seed=2026, timeout_seconds=1.0, slow_seconds=0.05, expire_after=16)
FORMATS = ("json", "csv")
USERS = 12
FLEET_PERIOD = 60  # fleet tenant i has the data of tenant i % 60 (its variations cycle 5, 3, 4)
FLEET_FAILING = 0.04  # besides chaos, 8 tenants always fail: 401, 403, stalled (timeout), 429 storm


@dataclass
class Soak:
    results: list[TenantResult]
    crashes: list[str] = field(default_factory=list)
    injected: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def _manifest(path: Path, spec: FleetSpec) -> Path:
    doc = {
        "version": 1,
        "sandbox": {"fleet": {"count": spec.count, "users": spec.users}},
        "tenants": [{"sandbox": name} for name in spec.names()],
    }
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def _resolver(server: SandboxServer) -> Any:
    def resolve(name: str) -> SandboxTarget:
        tenant = server.state(name).tenant
        return SandboxTarget(tenant.id, server.graph_url(name), tenant.cloud, server.exchange_endpoints(tenant.id))

    return resolve


def _guarded(pipeline: BulkAssess, crashes: list[str]) -> Any:
    """The bulk pipeline, noting any exception that is not a typed tool error or a timeout (a crash)."""

    async def assess(job: TenantJob) -> dict[str, Any]:
        try:
            return await pipeline(job)
        except (AssessorError, asyncio.TimeoutError, asyncio.CancelledError):
            raise
        except Exception as err:
            crashes.append(f"{job.key}: {type(err).__name__}: {err}")
            raise

    return assess


def bulk_scan(out: Path, chaos: ChaosConfig | None, spec: FleetSpec) -> Soak:
    from assessor.bulk.manifest import load_manifest

    manifest = load_manifest(_manifest(out.parent / f"{out.name}.yaml", spec))
    jobs = plan_jobs(manifest.rows, out, None)
    engine = Chaos(chaos) if chaos is not None else None
    server = SandboxServer(chaos=engine)
    add_fleet(server, spec)
    settings = PipelineSettings(formats=FORMATS, on=ON, tenant_timeout=TENANT_TIMEOUT)
    soak = Soak(results=[])
    started = time.perf_counter()
    with server, StateJournal(out / STATE_FILE) as journal:
        pipeline = BulkAssess(settings, load_profiles(manifest), _resolver(server))
        soak.results = asyncio.run(
            run_jobs(jobs, _guarded(pipeline, soak.crashes), Schedule(CONCURRENCY, TENANT_TIMEOUT), journal)
        )
    soak.seconds = time.perf_counter() - started
    write_portfolio(soak.results, out)
    soak.injected = engine.injected if engine is not None else Counter()
    return soak


def lost_outputs(out: Path, results: list[TenantResult]) -> list[str]:
    """Tenants with neither evidence + report nor a recorded failure (in result.json and the journal)."""
    final = {e.tenant: e.kind for e in read_events(out / STATE_FILE) if e.kind in ("done", "failed")}
    lost = []
    for r in results:
        directory = out / r.dir
        recorded = json.loads((directory / RESULT_FILE).read_text(encoding="utf-8"))["status"] == r.status
        if r.status == "done":
            ok = (directory / EVIDENCE_FILE).is_file() and (directory / "report.json").is_file()
        else:
            ok = bool(r.reason) and not (directory / EVIDENCE_FILE).exists()
        if not (ok and recorded and final.get(r.key) == r.status):
            lost.append(r.key)
    return lost


def _statuses(out: Path, result: TenantResult) -> dict[str, str]:
    report = json.loads((out / result.dir / "report.json").read_text(encoding="utf-8"))
    return {f["check_id"]: f["status"] for f in report["findings"]}


def _same_class(name: str) -> str:
    """The key of the fault-free tenant with the same data (fleet data repeats every FLEET_PERIOD)."""
    return f"sandbox:fleet-{int(name.rsplit('-', 1)[1]) % FLEET_PERIOD:04d}"


def false_passes(chaos_out: Path, chaos: Soak, truth_out: Path, truth: Soak) -> list[str]:
    truth_by_key = {r.key: r for r in truth.results}
    out = []
    for r in chaos.results:
        if r.status != "done":
            continue
        true = _statuses(truth_out, truth_by_key[_same_class(r.key)])
        out += [
            f"{r.key} {cid} (truth {true[cid]})"
            for cid, s in _statuses(chaos_out, r).items()
            if s == "pass" and true[cid] != "pass"
        ]
    return out


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Soak, Path, Soak]]:
    base = tmp_path_factory.mktemp("soak")
    truth = bulk_scan(base / "truth", None, FleetSpec(FLEET_PERIOD, users=USERS))
    chaos = bulk_scan(
        base / "chaos", CHAOS, FleetSpec(TENANTS, users=USERS, failing=FLEET_FAILING, stall_seconds=TENANT_TIMEOUT * 3)
    )
    yield base / "chaos", chaos, base / "truth", truth


def test_soak_200_tenants_in_chaos_mode(scans: tuple[Path, Soak, Path, Soak]) -> None:
    out, soak, truth_out, truth = scans
    done = [r for r in soak.results if r.status == "done"]
    failed = [r for r in soak.results if r.status == "failed"]
    reasons = Counter(_reason_kind(r.reason or "") for r in failed)
    lost = lost_outputs(out, soak.results)
    wrong = false_passes(out, soak, truth_out, truth)
    FIGURES.lines.append(
        f"soak: {TENANTS} tenants, {len(done)} completed, {len(failed)} failed {dict(reasons)}, "
        f"{len(soak.crashes)} crashes, {len(lost)} lost outputs, {len(wrong)} false passes, "
        f"{sum(soak.injected.values())} faults injected in {soak.seconds:.0f} s"
    )
    print(
        f"\nSOAK {TENANTS} tenants, concurrency {CONCURRENCY}, {soak.seconds:.1f} s: completed {len(done)}, "
        f"failed {len(failed)} {dict(reasons)}, crashes {len(soak.crashes)}, lost outputs {len(lost)}, "
        f"false passes {len(wrong)}; faults injected {sum(soak.injected.values())} {dict(sorted(soak.injected.items()))}"
    )
    assert len(soak.results) == TENANTS
    assert all(r.status == "done" for r in truth.results), "the fault-free scan completes every tenant"
    broken = set(failing_names(FleetSpec(TENANTS, failing=FLEET_FAILING)))
    assert {f"sandbox:{n}" for n in broken} <= {r.key for r in failed}, "a broken tenant never completes"
    assert soak.crashes == []
    assert lost == []
    assert wrong == []
    assert all(r.reason for r in failed)
    assert sum(soak.injected.values()) > TENANTS
    assert soak.seconds < SOAK_SECONDS
    assert not list(out.rglob("*.tmp"))


def _reason_kind(reason: str) -> str:
    """A short label for a failure reason (for the printed tally)."""
    for marker in ("timed out", "401", "403", "429", "500", "503", "504", "could not be reached", "unexpected"):
        if marker in reason:
            return marker
    return reason[:40]


def test_fleet_data_repeats_with_the_truth_period() -> None:
    """The soak's truth relies on it: tenant i and i + FLEET_PERIOD differ only in names."""
    spec = FleetSpec(TENANTS, users=USERS)

    def data(i: int) -> dict[str, Any]:
        return {
            k: v
            for k, v in template(spec, i).items()
            if k not in ("id", "name", "display_name", "domains", "default_domain")
        }

    assert all(data(i) == data(i + FLEET_PERIOD) for i in range(TENANTS - FLEET_PERIOD))
