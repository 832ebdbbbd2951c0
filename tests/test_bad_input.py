"""The bad-input corpus: every hostile or malformed evidence file is exit 2, one line naming file and field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.support import ROOT

CORPUS = Path(__file__).resolve().parent / "corpus" / "evidence"
EXPECTED = {
    "empty.json": "not valid JSON",
    "null.json": "must be a JSON object",
    "string.json": "must be a JSON object",
    "truncated.json": "not valid JSON",
    "old-version.json": "schema: expected",
    "missing-exchange.json": "exchange: Field required",
    "count-not-int.json": "users.data.counts.total",
    "tenant-id-too-long.json": "tenant.id",
    "unknown-cloud.json": "tenant.cloud",
    "not-collected-without-reason.json": "skus.provenance",
    "operations-with-several-record-types.json": "exactly one RecordType",
    "too-many-policies.json": "exchange.retention_policies.data.policies",
    "bad-principal-type.json": "privileged.data.holders[0].principal_type",
    "bad-probe-dates.json": "audit_probe.data.window_start",
    "deep-nesting.json": "nested too deeply",
    "duplicate-schema-key.json": "schema: expected",
    "tenant-id-path-separators.json": "tenant.id",
}


def test_corpus_is_complete() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_evidence_exit_2_one_line(name: str, tmp_path: Path) -> None:
    path = CORPUS / name
    out = tmp_path / "out"
    res = subprocess.run(
        [sys.executable, "-m", "assessor", "assess", "--evidence", str(path), "--format", "json", "--output", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert str(path) in lines[0]
    assert EXPECTED[name] in lines[0]
    assert not out.exists(), "no partial output may be left behind"


def test_huge_file_is_refused_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assessor import evidence
    from assessor.errors import EvidenceError

    big = tmp_path / "big.json"
    big.write_bytes(b" " * 2048)
    monkeypatch.setattr(evidence, "MAX_EVIDENCE_BYTES", 1024)
    with pytest.raises(EvidenceError, match="larger than"):
        evidence.load_evidence(big)
