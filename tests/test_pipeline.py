"""The one pipeline: an attestation is collection, applied before sealing, in assess and in bulk.

Regression for the defect where ``--attest`` was applied after the evidence was sealed and saved:
the report said ``altered`` while ``assessor verify`` said intact, and the saved evidence lacked
the attestation.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from assessor.cli import main
from tests.helpers.support import EXAMPLES

ATTESTATION = EXAMPLES / "attestation.yaml"


def run_cli(*args: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    return int(exit_info.value.code or 0)


def read(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def assert_attested_and_intact(report: dict[str, Any], evidence_path: Path) -> None:
    assert report["evidence_integrity"] == "intact"
    log = {c["section"]: c for c in report["collection"]}
    evidence = read(evidence_path)
    if evidence["log_export"]["data"].get("azure") is None:
        assert log["log_export"]["status"] == "imported" and log["log_export"]["file"] == "attestation.yaml"
        assert evidence["log_export"]["provenance"]["status"] == "imported"
    else:  # read from Azure too (a sandbox tenant with an Azure side): the attestation sits beside the read
        assert log["log_export"]["status"] == "collected"
        assert evidence["log_export"]["data"]["attestation_file"] == "attestation.yaml"
    assert evidence["log_export"]["data"]["siem_retention_days"] == 913
    assert evidence["meta"]["sha256"] == report["evidence_sha256"]  # the report names the saved document
    assert run_cli("verify", str(evidence_path)) == 0


def test_assess_sandbox_with_attestation_stays_intact(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = run_cli(
        "assess", "--sandbox", "contoso", "--attest", str(ATTESTATION), "--format", "json,html", "--output", str(out)
    )
    assert code == 0
    report = read(out / "report.json")
    assert_attested_and_intact(report, out / "evidence.json")
    assert "evidence was altered" not in (out / "report.html").read_text(encoding="utf-8")  # no tamper banner


def test_assess_evidence_file_with_attestation_is_resealed_and_saved(tmp_path: Path) -> None:
    source = tmp_path / "in.json"
    shutil.copy(EXAMPLES / "e3-standard-ingestion-off.json", source)
    assert run_cli("verify", str(source)) == 0
    out = tmp_path / "out"
    code = run_cli(
        "assess", "--evidence", str(source), "--attest", str(ATTESTATION), "--format", "json", "--output", str(out)
    )
    assert code == 0
    assert_attested_and_intact(read(out / "report.json"), out / "evidence.json")
    assert read(source)["log_export"]["provenance"]["status"] != "imported"  # the input is left as it was


def test_an_altered_file_stays_altered_when_attested(tmp_path: Path) -> None:
    doc = read(EXAMPLES / "e3-standard-ingestion-off.json")
    doc["users"]["data"]["counts"]["in_scope_premium"] = doc["users"]["data"]["counts"]["in_scope"]
    source = tmp_path / "tampered.json"
    source.write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "out"
    run_cli("assess", "--evidence", str(source), "--attest", str(ATTESTATION), "--format", "json", "--output", str(out))
    assert read(out / "report.json")["evidence_integrity"] == "altered"  # attesting never launders a change
    assert run_cli("verify", str(out / "evidence.json")) == 1


def test_save_evidence_elsewhere_is_the_assessed_document(tmp_path: Path) -> None:
    evidence = tmp_path / "e.json"
    code = run_cli(
        "assess",
        "--sandbox",
        "gov",
        "--format",
        "json",
        "--output",
        str(tmp_path / "o"),
        "--save-evidence",
        str(evidence),
    )
    assert code == 0
    assert run_cli("verify", str(evidence)) == 0
    report = read(tmp_path / "o" / "report.json")
    assert report["evidence_integrity"] == "intact" and report["evidence_sha256"] == read(evidence)["meta"]["sha256"]
    assert not (tmp_path / "o" / "evidence.json").exists()


def _manifest(path: Path, tenants: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"version": 1, "tenants": tenants}), encoding="utf-8")
    return path


def test_bulk_attestation_prices_and_pseudonyms_go_through_the_pipeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other-attestation.yaml"
    other.write_text("siem_attested: true\nsiem_retention_days: 400\nattested_by: SOC\n", encoding="utf-8")
    manifest = _manifest(tmp_path / "m.yaml", [{"sandbox": "contoso"}, {"sandbox": "gov", "attest": str(other)}])
    out = tmp_path / "out"
    code = run_cli("bulk", str(manifest), "--output", str(out), "--attest", str(ATTESTATION), "--format", "json")
    assert code == 0
    dirs = {read(d / "result.json")["key"]: d for d in out.iterdir() if (d / "result.json").is_file()}
    contoso, gov = dirs["sandbox:contoso"], dirs["sandbox:gov"]
    assert_attested_and_intact(read(contoso / "report.json"), contoso / "evidence.json")
    gov_evidence = read(gov / "evidence.json")
    assert gov_evidence["log_export"]["data"]["siem_retention_days"] == 400  # the tenant's own attestation wins
    assert read(gov / "report.json")["evidence_integrity"] == "intact"

    prices = tmp_path / "prices.yaml"
    prices.write_text("currency: EUR\nskus: {SPE_E5: 54.75}\n", encoding="utf-8")
    monkeypatch.setenv("ASSESSOR_PSEUDONYM_KEY", "k" * 32)
    masked = tmp_path / "masked"
    manifest = _manifest(
        tmp_path / "m2.yaml", [{"sandbox": "contoso", "profile": "omb-m-21-31-el2"}, {"sandbox": "gov"}]
    )
    code = run_cli(
        "bulk",
        str(manifest),
        "--output",
        str(masked),
        "--pseudonymize",
        "--prices",
        str(prices),
        "--format",
        "json,html,md",
    )
    assert code == 0
    tenant_dirs = [d for d in masked.iterdir() if (d / "result.json").is_file()]
    assert tenant_dirs and not any((d / "evidence.json").exists() for d in tenant_dirs)  # real names stay out
    for d in tenant_dirs:
        text = (d / "report.json").read_text(encoding="utf-8") + (d / "report.html").read_text(encoding="utf-8")
        assert "Contoso" not in text and "contoso.com" not in text.lower()
    portfolio = (masked / "portfolio.json").read_text(encoding="utf-8")
    assert "Contoso" not in portfolio
    md = (next(d for d in tenant_dirs if "contoso" in d.name) / "report.md").read_text(encoding="utf-8")
    assert "54.75 EUR" in md


def test_bulk_rejects_a_bad_attestation_before_any_tenant_is_contacted(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("siem_retention_days: -5\n", encoding="utf-8")
    manifest = _manifest(tmp_path / "m.yaml", [{"sandbox": "contoso", "attest": str(bad)}])
    out = tmp_path / "out"
    assert run_cli("bulk", str(manifest), "--output", str(out)) == 2
    assert not out.exists()
