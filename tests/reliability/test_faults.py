"""Each chaos fault kind against the real msgraph-sdk/httpx collectors and the engine.

For every kind: the run ends within its bound, the hit evidence is not_collected with a reason,
the checks that need it are unknown/error, and nothing the tool reports differs from the
fault-free truth (no false pass, no partial figure, no altered section) — see tests/helpers/chaos.py.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from assessor.collect import RetryPolicy, collect
from assessor.knowledge import load_knowledge
from assessor.pipeline import collect_options
from assessor.profiles import KNOWN_EVENTS
from assessor.sandbox import SandboxServer, load_tenant
from assessor.sandbox.chaos import FAULT_KINDS, Chaos, ChaosConfig, ChaosError
from tests.helpers.chaos import (
    BOUND_SECONDS,
    FAST_RETRY,
    ChaosRun,
    assess,
    chaos_statuses,
    passes_on_missing_evidence,
    run_chaos,
    statuses,
    untruths,
)
from tests.helpers.support import fresh_python

EXCHANGE = "/beta/"  # the Exchange admin API path after /adminapi (every cmdlet)


@dataclass(frozen=True)
class Case:
    kind: str
    paths: tuple[str, ...]
    section: str | None  # the evidence section the fault must leave not_collected
    reason: str  # a fragment of its recorded reason
    undecided: tuple[str, ...] = ()  # checks that must then be unknown/error
    null_figures: tuple[str, ...] = ()  # licensing figures that must then be null
    options: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case("throttle", ("/users",), "users", "429", ("RET-01",), ("users_total", "users_in_scope")),
    Case("throttle_bare", ("/users",), "users", "429", ("RET-01",), ("users_total",)),
    # the SKUs travel as one item of the first `$batch`: the item is what fails
    Case("http_500", ("/subscribedSkus",), "skus", "500", ("LIC-01", "LIC-04"), ("audit_tier",)),
    Case("http_503", ("/roleManagement", "/directoryRoles"), "privileged", "503", ("LIC-03",), ("privileged_users",)),
    Case("http_504", ("/users",), "users", "504", ("RET-01",), ("users_total",)),
    Case("reset", (EXCHANGE,), "exchange.mailboxes", "could not be reached", ("AUD-01", "AUD-02", "AUD-04")),
    # transport faults hit the whole `$batch` the SKUs travel in
    Case("timeout", ("/$batch",), "skus", "timed out", ("LIC-01",), ("audit_tier",), {"timeout_seconds": 1.0}),
    Case("malformed_json", ("/$batch",), "skus", "malformed batch response", ("LIC-01",), ("audit_tier",)),
    Case("truncated_page", ("/users",), "users", "users", ("RET-01",), ("users_total", "users_in_scope")),
    Case("truncated_page", (EXCHANGE,), "exchange.admin_audit_log_config", "no 'value' array", ("AUD-01",)),
    Case(
        "truncated_page",
        ("/roleManagement", "/directoryRoles"),
        "privileged",
        "without a value array",
        ("LIC-03",),
        ("privileged_users",),
    ),
    Case("loop_next_link", ("/users",), "users", "loop", ("RET-01",), ("users_total", "users_in_scope")),
    Case("loop_next_link", (EXCHANGE,), "exchange.mailboxes", "loop", ("AUD-04",)),
    # a role-assignable group whose members cannot be read: the holder list would be partial
    Case(
        "http_500", ("/groups",), "privileged", "members of a role-assignable group", ("LIC-03",), ("privileged_users",)
    ),
    Case("truncated_page", ("/groups",), "privileged", "without a value array", ("LIC-03",), ("privileged_users",)),
    # the compliance API's regional host (after discovery at the front door)
    Case("http_500", ("/region/",), "exchange.retention_policies", "500", ("RET-01", "RET-02")),
    Case("malformed_json", ("/$batch",), "privileged", "malformed batch response", ("LIC-03",), ("privileged_users",)),
]


def _check_bounded_and_truthful(run: ChaosRun) -> None:
    assert run.seconds < BOUND_SECONDS, f"took {run.seconds:.1f} s"
    assert run.evidence is not None, run.failure
    assert untruths(run) == []


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.kind}-{c.paths[0].strip('/')}")
def test_fault_kind(case: Case) -> None:
    config = ChaosConfig.only(case.kind, 1.0, seed=7, paths=case.paths, **case.options)
    run = run_chaos(config)
    assert run.injected.get(case.kind, 0) > 0, "the fault was injected"
    _check_bounded_and_truthful(run)
    assert run.evidence is not None and run.report is not None
    if case.section is not None:
        prov = run.evidence.section(case.section).provenance
        assert prov.status == "not_collected"
        assert case.reason in (prov.reason or ""), prov.reason
    found = statuses(run.report)
    assert all(found[c] in ("unknown", "error") for c in case.undecided), {c: found[c] for c in case.undecided}
    for name in case.null_figures:
        assert getattr(run.report.licensing, name) is None, name


def test_slow_responses_change_nothing() -> None:
    run = run_chaos(ChaosConfig.only("slow", 1.0, seed=7, slow_seconds=0.02))
    _check_bounded_and_truthful(run)
    assert run.evidence is not None
    assert run.injected["slow"] > 5
    assert all(
        s.provenance.status == "collected"
        for n, s in run.evidence.sections().items()
        if n not in ("audit_probe", "log_export")
    )


def test_token_expiring_mid_run() -> None:
    run = run_chaos(ChaosConfig(seed=7, expire_after=8))
    _check_bounded_and_truthful(run)
    assert run.evidence is not None and run.injected["expired_token"] > 0
    reasons = [s.provenance.reason or "" for s in run.evidence.sections().values()]
    assert any("not authenticated" in r and "401" in r for r in reasons)


def test_tenant_timeout_bounds_exchange_too() -> None:
    """Every Exchange request stalls; the Exchange part gives up at --tenant-timeout like the Graph part."""
    config = ChaosConfig.only("timeout", 1.0, seed=7, paths=(EXCHANGE, "/adminapi/", "/region/"), timeout_seconds=5.0)
    policy = RetryPolicy(max_retries=4, max_wait_per_retry=1.0, max_total_wait=10.0, backoff_base=0.01)
    run = run_chaos(config, tenant_timeout=2.0, request_timeout=1.0, retry=policy)
    assert run.evidence is not None
    assert run.seconds < 2.0 + 1.5, f"took {run.seconds:.1f} s"
    for name in ("exchange.mailboxes", "exchange.retention_policies"):
        assert "timed out" in (run.evidence.section(name).provenance.reason or "")
    assert run.evidence.users.provenance.status == "collected"
    assert untruths(run) == []


def test_summary_mode_batch_throttled() -> None:
    run = run_chaos(ChaosConfig.only("throttle", 1.0, seed=7, paths=("/$batch",)), detail=False)
    assert run.evidence is not None and run.report is not None
    assert run.evidence.users.provenance.status == "not_collected"
    assert run.report.licensing.users_in_scope is None
    assert not [f for f in run.report.findings if f.status.value == "pass" and "users" in f.message.lower()]


@pytest.mark.parametrize("seed", range(1, 7))
def test_every_fault_at_random(seed: int) -> None:
    """All kinds at once, 30% of requests, expiring token on odd seeds: the tool only ever knows less."""
    config = ChaosConfig.uniform(
        0.3, seed=seed, timeout_seconds=1.0, slow_seconds=0.02, expire_after=40 if seed % 2 else None
    )
    run = run_chaos(config)
    assert run.seconds < BOUND_SECONDS
    assert sum(run.injected.values()) > 0
    assert untruths(run) == []
    if run.evidence is None:
        assert run.failure and "collection failed" in run.failure


@pytest.mark.parametrize("seed", [104, 112])
def test_seeds_that_found_bugs(seed: int) -> None:
    """112: an Exchange nextLink back to page 1 counted page 1 twice (bypass associations 2785, truth 1785);
    104: the directoryRoles fallback after a 500 (same holders, another source)."""
    config = ChaosConfig.uniform(0.45, seed=seed, timeout_seconds=0.8, slow_seconds=0.01)
    run = run_chaos(config)
    assert run.seconds < BOUND_SECONDS
    assert untruths(run) == []


# --------------------------------------------------------------------------- the chaos module itself


_STATUSES_THERE = "import json; from tests.helpers.chaos import chaos_statuses; print(json.dumps(chaos_statuses(1)))"


def test_chaos_is_deterministic_per_seed() -> None:
    """One seed draws the same faults in another interpreter (another hash seed); another seed differs."""
    here = chaos_statuses(1)
    assert len(set(here)) >= 4, here  # faults of several kinds were drawn, not 60 plain answers
    assert json.loads(fresh_python(_STATUSES_THERE, hash_seed="97")) == here
    assert chaos_statuses(2) != here


def test_chaos_selects_tenants_and_validates_rates() -> None:
    chaos = Chaos(ChaosConfig.only("http_500", tenants=["contoso"]))
    assert chaos.selects("x", "Contoso") and not chaos.selects("y", "fabrikam")
    with pytest.raises(ChaosError):
        ChaosConfig(rates={"nonsense": 0.1})
    with pytest.raises(ChaosError):
        ChaosConfig(rates=dict.fromkeys(FAULT_KINDS, 0.5))


# --------------------------------------------------------------------------- the audit-log probe


@pytest.mark.parametrize(
    ("kind", "rate", "reason"),
    [
        ("loop_next_link", 1.0, "paging loop"),
        ("truncated_page", 1.0, "without a 'value' list"),
        ("http_500", 0.3, "500"),
    ],
)
def test_probe_faults_leave_observations_unknown(kind: str, rate: float, reason: str) -> None:
    """The audit search (create, poll, record pages) under faults: no partial observation counts."""
    config = ChaosConfig.only(kind, rate, seed=1, paths=("/security",))
    with SandboxServer([load_tenant("contoso")], chaos=Chaos(config)) as server:
        options = collect_options(
            server,
            "contoso",
            no_exchange=True,
            probe_events_days=7,
            probe_timeout=8.0,
            request_timeout=0.5,
            retry=FAST_RETRY,
        )
        evidence = asyncio.run(asyncio.wait_for(collect(options), BOUND_SECONDS))
    prov, probe = evidence.audit_probe.provenance, evidence.audit_probe.data
    if prov.status == "not_collected":  # every query failed
        assert reason in (prov.reason or ""), prov.reason
        failed_ops = {load_knowledge().events[name].operation for name in KNOWN_EVENTS}
    else:  # queries fail one by one: the failed ones carry the reason and count nothing
        assert probe is not None
        failed = [q for q in probe.queries if q.error]
        assert failed and any(reason in (q.error or "") for q in failed), probe.queries
        failed_ops = {op for q in failed for op in q.operations}
        assert not failed_ops & set(probe.operations)
    report = assess(evidence)
    kb = load_knowledge()
    for name, figures in report.events.items():
        if kb.events[name].operation in failed_ops:
            assert figures.observed_users is None and figures.probe_unavailable, name
    assert passes_on_missing_evidence(report, evidence) == []
    assert "MailItemsAccessed" in failed_ops  # the busiest query always meets the fault here
    assert statuses(report)["EVT-01"] in ("unknown", "error", "fail")


def test_sandbox_serve_chaos_options() -> None:
    from assessor.sandbox.chaos import chaos_for_serve

    assert chaos_for_serve(None, 0.1) is None
    chaos = chaos_for_serve(3, 0.2)
    assert chaos is not None and abs(sum(chaos.config.rates.values()) - 0.2) < 1e-9 and chaos.config.seed == 3
    with pytest.raises(ChaosError, match="--chaos-rate"):
        chaos_for_serve(3, 1.5)
