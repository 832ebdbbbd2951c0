"""Where the logs go through the command line, the attestation merge and the bulk manifest."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assessor.bulk.manifest import parse_csv_manifest, parse_yaml_manifest
from assessor.collect.attestation import load_attestation
from assessor.errors import AssessorError, EvidenceError
from tests.helpers.support import ROOT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assessor", *args], capture_output=True, text=True, timeout=600, cwd=ROOT, check=False
    )


def test_sandbox_contoso_reads_azure_and_keeps_the_attestation_beside_it(tmp_path: Path) -> None:
    attest = ROOT / "examples" / "attestation.yaml"
    res = run(
        "assess",
        "--sandbox",
        "contoso",
        "--profile",
        "cisa-scuba",
        "--attest",
        str(attest),
        "--format",
        "console,json,md,html",
        "--output",
        str(tmp_path),
    )
    assert res.returncode in (0, 1), res.stderr
    doc = json.loads((tmp_path / "report.json").read_text())
    export = doc["export"]
    assert export["source"] == "read" and export["ual_forwarded"] is True
    assert export["ual_forward_retention_days"] == 730 and export["entra_export_retention_days"] == 730
    assert {d["kind"] for d in export["destinations"]} == {"log_analytics", "storage"}
    log = {c["section"]: c for c in doc["collection"]}
    assert log["log_export"]["status"] == "collected"
    evidence = json.loads((tmp_path / "evidence.json").read_text())
    assert evidence["log_export"]["data"]["azure"]["subscriptions"]
    assert "Where the logs go: unified audit log forwarded (read from Azure), kept 730 days" in res.stdout
    assert "## Where the logs go" in (tmp_path / "report.md").read_text()
    assert 'id="export"' in (tmp_path / "report.html").read_text()


def test_sandbox_gov_403_is_not_collected_and_no_azure_skips(tmp_path: Path) -> None:
    res = run("assess", "--sandbox", "gov", "--format", "json", "--output", str(tmp_path / "a"))
    assert res.returncode in (0, 1), res.stderr
    log = {c["section"]: c for c in json.loads((tmp_path / "a" / "report.json").read_text())["collection"]}
    assert log["log_export"]["status"] == "not_collected" and "/providers/Microsoft.aadiam" in log["log_export"]["fix"]
    res = run("assess", "--sandbox", "gov", "--no-azure", "--format", "json", "--output", str(tmp_path / "b"))
    log = {c["section"]: c for c in json.loads((tmp_path / "b" / "report.json").read_text())["collection"]}
    assert "--no-azure" in log["log_export"]["reason"]


def test_bad_azure_options_are_one_line_exit_2() -> None:
    for args in (
        ["--arm-endpoint", "http://arm.example.com"],
        ["--azure-subscription", "not-a-guid"],
    ):
        res = run("collect", "--tenant", "contoso.com", "--auth", "token", "--output", "/tmp/x.json", *args)
        assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    res = run("assess", "--sandbox", "contoso", "--arm-endpoint", "http://127.0.0.1:1/arm")
    assert res.returncode == 2 and "--sandbox" in res.stderr


def test_an_attestation_cannot_claim_what_was_read(tmp_path: Path) -> None:
    forged = tmp_path / "forged.yaml"
    forged.write_text("siem_attested: true\nazure: {subscriptions: []}\n")
    with pytest.raises(EvidenceError, match="azure"):
        load_attestation(forged)


def test_manifest_azure_fields_yaml_and_csv() -> None:
    manifest = parse_yaml_manifest(
        "tenants:\n"
        "  - {sandbox: contoso, no_azure: true}\n"
        "  - {sandbox: fabrikam, azure_subscriptions: [9A0C4E12-2B7D-4C55-B1E8-0F6D3A7C5E90],"
        " arm_endpoint: 'https://management.usgovcloudapi.net'}\n"
    )
    first, second = (r.entry for r in manifest.rows)
    assert first.no_azure and second.azure_subscriptions == ("9a0c4e12-2b7d-4c55-b1e8-0f6d3a7c5e90",)
    csv = parse_csv_manifest("sandbox,no_azure,azure_subscriptions\ncontoso,yes,11111111-1111-4111-8111-111111111111\n")
    assert csv.rows[0].entry.no_azure and csv.rows[0].entry.azure_subscriptions
    with pytest.raises(AssessorError, match="arm_endpoint"):
        parse_yaml_manifest("tenants:\n  - {sandbox: contoso, arm_endpoint: 'http://arm.example.com'}\n")
    with pytest.raises(AssessorError, match="azure_subscriptions"):
        parse_yaml_manifest("tenants:\n  - {sandbox: contoso, azure_subscriptions: [nope]}\n")
