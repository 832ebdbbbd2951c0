"""The probe inside collect() and the CLI: evidence, report.json figures, and no call outside Global."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from assessor.collect import CollectOptions, collect_sync
from assessor.collect.auth import StaticTokenCredential
from tests.helpers.probe import audit_requests
from tests.helpers.support import ROOT


def _options(server: Any, tenant: str, cloud: str, **extra: Any) -> CollectOptions:
    state = server.state(tenant).tenant
    token = StaticTokenCredential({"graph": "sandbox"})
    return CollectOptions(
        tenant=state.id,
        cloud=cloud,
        graph_endpoint=server.graph_url(tenant),
        credential=token,
        no_exchange=True,
        collector="sandbox",
        **extra,
    )


def test_collect_in_gcc_high_makes_no_audit_search_call(serve: Any) -> None:
    server = serve("gov")
    evidence = collect_sync(_options(server, "gov", "gcc-high", probe_events_days=7))
    probe = evidence.audit_probe.provenance
    assert probe.status == "not_collected" and "Global cloud" in (probe.reason or "")
    assert evidence.skus.provenance.status == "collected"  # the rest of collection went ahead
    assert audit_requests(server) == []


def test_collect_without_probe_days_does_not_probe(serve: Any) -> None:
    from assessor.sandbox.auditlog import with_audit_log

    server = serve(with_audit_log("contoso", query_seconds=0))
    evidence = collect_sync(_options(server, "contoso", "global"))
    assert evidence.audit_probe.provenance.status == "not_collected"
    assert "not requested" in (evidence.audit_probe.provenance.reason or "")
    assert audit_requests(server) == []


def test_cli_assess_sandbox_reports_observed_users(tmp_path: Path) -> None:
    records = tmp_path / "records.jsonl"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "assessor",
            "assess",
            "--sandbox",
            "contoso",
            "--profile",
            "cisa-aa23-193a",
            "--probe-events",
            "2",
            "--keep-records",
            str(records),
            "--format",
            "json",
            "--output",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert res.returncode in (0, 1), res.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    events = report["events"]
    assert events["MailItemsAccessed"]["observed_users"] == 177
    assert events["MailItemsAccessed"]["coverage_pct"] == round(100 * 177 / 197, 1)
    assert events["SearchQueryInitiatedExchange"]["observed_users"] == 0
    evt03 = next(f for f in report["findings"] if f["check_id"] == "EVT-03")
    assert evt03["status"] == "fail"  # the profile's missing_event_status
    total = (177 * 12 + 147 * 4 + 19 * 2) * 2
    assert len(records.read_text().splitlines()) == total


def test_detail_mode_counts_observed_in_scope_users_exactly(tmp_path: Path) -> None:
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "assessor",
            "assess",
            "--sandbox",
            "contoso",
            "--users",
            "detail",
            "--probe-events",
            "2",
            "--format",
            "json",
            "--output",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert res.returncode in (0, 1), res.stderr
    events = json.loads((tmp_path / "out" / "report.json").read_text())["events"]
    mia = events["MailItemsAccessed"]
    assert mia["observed_users"] == mia["observed_in_scope_users"] == 177  # the sandbox logs in-scope users only
    assert mia["coverage_pct"] == round(100 * 177 / 197, 1) and mia["coverage_upper_bound"] is False
    evidence = json.loads((tmp_path / "out" / "evidence.json").read_text())
    assert evidence["audit_probe"]["data"]["operations"]["MailItemsAccessed"]["in_scope_users"] == 177
