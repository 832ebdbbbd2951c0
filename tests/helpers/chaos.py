"""Helpers for the reliability tests: collect under chaos, evaluate, and compare with the truth.

The oracle is the same tenant collected without faults. Under faults the tool may know less,
never something else: a section marked collected must hold exactly the fault-free data, a figure
is either null or the fault-free value, and a finding is either the fault-free status or
unknown/error. A pass that the fault-free run does not give is a false pass.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import cache
from typing import Any

from assessor.collect import RetryPolicy, collect
from assessor.engine.model import Report
from assessor.engine.registry import registry
from assessor.engine.runner import evaluate
from assessor.errors import CollectionError
from assessor.evidence import Evidence
from assessor.pipeline import collect_options
from assessor.profiles import load_profile
from assessor.sandbox import SandboxServer, load_tenant
from assessor.sandbox.chaos import Chaos, ChaosConfig

ON = date(2026, 11, 25)
STAMP = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
PROFILE = "omb-m-21-31"
USERS = 2100  # three /users pages of 999, so paging faults have pages to hit
FAST_RETRY = RetryPolicy(max_retries=2, max_wait_per_retry=0.2, max_total_wait=1.0, backoff_base=0.01)
REQUEST_TIMEOUT = 0.5
TENANT_TIMEOUT = 8.0
BOUND_SECONDS = 25.0  # a whole collect + evaluate under any fault
UNDECIDED = frozenset({"unknown", "error"})
FIGURE_GROUPS = ("licensing", "retention", "audit", "events")
NOT_FIGURES = frozenset({"error", "recommendation", "notes", "causes", "unavailable", "fix", "probe_unavailable"})


@dataclass
class Figures:
    """What the reliability tests injected and found, printed at the end of the run (conftest)."""

    injected: Counter[str] = field(default_factory=Counter)
    runs: int = 0
    false_passes: int = 0
    untruths: int = 0
    lines: list[str] = field(default_factory=list)
    auth_modes: dict[str, int] = field(default_factory=dict)  # mode → canary hits


FIGURES = Figures()


@dataclass(frozen=True)
class ChaosRun:
    evidence: Evidence | None  # None when collection failed entirely (CollectionError)
    failure: str | None
    report: Report | None
    seconds: float
    injected: Mapping[str, int]


def _options(server: SandboxServer, name: str, detail: bool, overrides: Mapping[str, Any]) -> Any:
    values: dict[str, Any] = {
        "users_mode": "detail" if detail else "summary",
        "request_timeout": REQUEST_TIMEOUT,
        "tenant_timeout": TENANT_TIMEOUT,
        "retry": FAST_RETRY,
        **server.exchange_endpoints(name),
        **overrides,
    }
    return collect_options(server, name, **values)


def assess(evidence: Evidence) -> Report:
    return evaluate(evidence, load_profile(PROFILE), on=ON, generated_at=STAMP)


def run_chaos(config: ChaosConfig | None, *, detail: bool = True, **overrides: Any) -> ChaosRun:
    """Collect contoso (rescaled) through the real SDK from a sandbox in chaos mode, then evaluate."""
    chaos = Chaos(config) if config is not None else None
    with SandboxServer([load_tenant("contoso", users=USERS)], chaos=chaos) as server:
        started = time.perf_counter()
        try:
            evidence: Evidence | None = asyncio.run(
                asyncio.wait_for(collect(_options(server, "contoso", detail, overrides)), BOUND_SECONDS)
            )
            failure = None
        except CollectionError as err:
            evidence, failure = None, str(err)
        seconds = time.perf_counter() - started
    report = assess(evidence) if evidence is not None else None
    if chaos is not None:
        FIGURES.injected.update(chaos.injected)
        FIGURES.runs += 1
    return ChaosRun(evidence, failure, report, seconds, dict(chaos.injected) if chaos else {})


@cache
def truth(detail: bool = True) -> tuple[Evidence, Report]:
    run = run_chaos(None, detail=detail)
    assert run.evidence is not None and run.report is not None
    return run.evidence, run.report


# --------------------------------------------------------------------------- the oracle


def statuses(report: Report) -> dict[str, str]:
    return {f.check_id: f.status.value for f in report.findings}


def false_passes(report: Report, true_report: Report) -> list[str]:
    """Checks that pass under faults but not without them."""
    true = statuses(true_report)
    return [cid for cid, status in statuses(report).items() if status == "pass" and true[cid] != "pass"]


def wrong_findings(report: Report, true_report: Report) -> list[str]:
    """Findings that are neither the fault-free status nor unknown/error."""
    true = statuses(true_report)
    return [
        f"{cid}: {status} (truth {true[cid]})"
        for cid, status in statuses(report).items()
        if status != true[cid] and status not in UNDECIDED
    ]


def passes_on_missing_evidence(report: Report, evidence: Evidence) -> list[str]:
    needs = {rc.meta.id: rc.meta.needs for rc in registry()}
    return [
        f"{f.check_id} needs {name}"
        for f in report.findings
        if f.status.value == "pass"
        for name in needs[f.check_id]
        if evidence.section(name).data is None
    ]


def _leaves(value: Any, path: str = "", declared_unknown: bool = False) -> Iterator[tuple[str, Any]]:
    """Figure leaves; under a group that says it is unavailable, empty lists are not claims."""
    if isinstance(value, dict):
        unknown = declared_unknown or bool(value.get("unavailable") or value.get("error"))
        for key, item in value.items():
            if key not in NOT_FIGURES:
                yield from _leaves(item, f"{path}.{key}", unknown)
    elif not (declared_unknown and value == []):
        yield path, value


def wrong_figures(report: Report, true_report: Report) -> list[str]:
    """Figures that are neither null nor the fault-free value (partial counts presented as whole)."""
    out: list[str] = []
    got_all, want_all = report.model_dump(mode="json"), true_report.model_dump(mode="json")
    for group in FIGURE_GROUPS:
        got = dict(_leaves(got_all[group], group))
        want = dict(_leaves(want_all[group], group))
        out += [
            f"{path}={value!r} (truth {want.get(path)!r})"
            for path, value in got.items()
            if value is not None and value != want.get(path)
        ]
    return out


def _data(evidence: Evidence, name: str) -> Any:
    data = evidence.section(name).data
    if isinstance(data, list):
        return [d.model_dump(mode="json") for d in data]
    if data is None:
        return None
    # which endpoint answered (roleAssignments, or the directoryRoles fallback) is not a claim about the tenant
    return data.model_dump(mode="json", exclude={"source"} if name == "privileged" else None)


def _differs(got: Any, want: Any) -> bool:
    """Whether collected data claims something the truth does not (a null where the truth has a value is
    knowing less, not a claim)."""
    if got is None:
        return False
    if isinstance(got, dict) and isinstance(want, dict):
        return got.keys() != want.keys() or any(_differs(got[k], want[k]) for k in got)
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        return any(_differs(g, w) for g, w in zip(got, want, strict=True))
    return bool(got != want)


SETTINGS = ("audit_enabled", "default_audit_set", "audit_owner", "audit_delegate", "audit_admin")


def _unsplit(data: Any) -> Any:
    """Mailbox groups merged back across licence levels (what a run knows when the users' licences were
    not read: the join with the users splits each group of settings by licence level), samples dropped."""
    merged: dict[str, dict[str, Any]] = {}
    for config in data["configurations"]:
        key = repr([config[k] for k in SETTINGS])
        into = merged.setdefault(key, {**{k: config[k] for k in SETTINGS}, "count": 0, "privileged": 0, "vip": 0})
        into["count"] += config["count"]
        for part in ("privileged", "vip"):
            into[part] = None if into[part] is None or config.get(part) is None else into[part] + config[part]
    return {**data, "configurations": sorted(merged.values(), key=repr)}


def _mailboxes_differ(got: Any, want: Any) -> bool:
    """The mailbox groups claim something the truth does not: knowing less is a group not split by
    licence level (users not read), or a privileged count that is null (role holders not read)."""
    if not _differs(got, want):
        return False
    if got is None or want is None or any(c.get("licence") is not None for c in got["configurations"]):
        return True
    return _differs(_unsplit(got), _unsplit(want))


def wrong_sections(evidence: Evidence, true_evidence: Evidence) -> list[str]:
    """Sections marked collected whose data differs from the fault-free data."""
    return [
        name
        for name in evidence.sections()
        if evidence.section(name).provenance.status == "collected"
        and (_mailboxes_differ if name == "exchange.mailboxes" else _differs)(
            _data(evidence, name), _data(true_evidence, name)
        )
    ]


def unexplained(evidence: Evidence) -> list[str]:
    """not_collected sections without a reason."""
    return [
        name
        for name, s in evidence.sections().items()
        if s.provenance.status == "not_collected" and not (s.provenance.reason or "").strip()
    ]


def untruths(run: ChaosRun, detail: bool = True) -> list[str]:
    """Everything a chaos run got wrong compared with the truth (empty = it only knew less)."""
    if run.evidence is None or run.report is None:
        return []
    true_evidence, true_report = truth(detail)
    FIGURES.false_passes += len(false_passes(run.report, true_report))
    found = [
        *(f"false pass {c}" for c in false_passes(run.report, true_report)),
        *(f"finding {c}" for c in wrong_findings(run.report, true_report)),
        *(f"pass without evidence {c}" for c in passes_on_missing_evidence(run.report, run.evidence)),
        *(f"figure {c}" for c in wrong_figures(run.report, true_report)),
        *(f"section {c} differs from the truth" for c in wrong_sections(run.evidence, true_evidence)),
        *(f"section {c} not_collected without a reason" for c in unexplained(run.evidence)),
    ]
    FIGURES.untruths += len(found)
    return found


def chaos_statuses(seed: int, rates: float = 0.5) -> list[int]:
    """The statuses of 60 distinct requests to contoso under uniform chaos with ``seed`` (0: dropped)."""
    server = SandboxServer(
        [load_tenant("contoso")], chaos=Chaos(ChaosConfig.uniform(rates, seed=seed, slow_seconds=0, timeout_seconds=0))
    )
    headers = {"Authorization": "Bearer x"}
    tenant = server.state("contoso").tenant.id
    return [server.dispatch("GET", f"/{tenant}/v1.0/subscribedSkus?i={i}", headers, b"").status for i in range(60)]
