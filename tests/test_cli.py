"""The command line as a user runs it: a real subprocess, exit codes, one-line errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.support import EXAMPLES, ROOT, evidence_examples

REPORT_KEYS = {
    "schema",
    "tenant",
    "profile",
    "generated_at",
    "tool_version",
    "summary",
    "findings",
    "licensing",
    "retention",
    "audit",
    "events",
    "mail_clients",
    "mail_permissions",
    "readiness",
}
LICENSING_KEYS = {
    "audit_tier",
    "users_total",
    "users_in_scope",
    "users_without_premium_audit",
    "privileged_users",
    "privileged_users_without_premium_audit",
    "premium_audit_seats_unassigned",
    "suspended_or_warning_skus",
    "recommendation",
}
FINDING_KEYS = {
    "check_id",
    "title",
    "status",
    "severity",
    "message",
    "evidence",
    "remediation",
    "references",
    "controls",
}


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assessor", *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


@pytest.mark.parametrize("example", [p.name for p in evidence_examples()])
def test_assess_examples_write_full_report(example: str, tmp_path: Path) -> None:
    res = run(
        "assess",
        "--evidence",
        str(EXAMPLES / example),
        "--format",
        "json,console",
        "--output",
        str(tmp_path),
        "--date",
        "2026-11-25",
    )
    assert res.returncode == 0, res.stderr
    doc = json.loads((tmp_path / "report.json").read_text())
    assert set(doc) >= REPORT_KEYS
    assert doc["schema"] == "assessor.report/1"
    assert set(doc["licensing"]) >= LICENSING_KEYS
    assert set(doc["retention"]["workloads"]) == {"Exchange", "SharePoint", "OneDrive", "AzureActiveDirectory", "Other"}
    for w in doc["retention"]["workloads"].values():
        assert {"effective_days_min", "users_short"} <= set(w)
    assert {"searchable_days", "retrievable_days"} <= set(doc["retention"]["required"])
    assert {
        "ual_ingestion_enabled",
        "org_audit_disabled",
        "bypass_mailboxes",
        "mailboxes_missing_mailitemsaccessed",
    } <= set(doc["audit"])
    assert set(doc["events"]) == {
        "MailItemsAccessed",
        "Send",
        "SearchQueryInitiatedExchange",
        "SearchQueryInitiatedSharePoint",
    }
    for e in doc["events"].values():
        assert {"available", "audited_mailboxes", "observed_users"} <= set(e)
    assert len(doc["findings"]) == 19
    for f in doc["findings"]:
        assert set(f) >= FINDING_KEYS
    assert "Check" in res.stdout and "verdict" in res.stdout


def test_fail_on_exit_code(tmp_path: Path) -> None:
    ev = str(EXAMPLES / "e3-standard-ingestion-off.json")
    assert run("assess", "--evidence", ev, "--format", "console", "--fail-on", "high").returncode == 1
    assert run("assess", "--evidence", ev, "--format", "console", "--fail-on", "none").returncode == 0


def test_checks_lists_all_19() -> None:
    res = run("checks")
    assert res.returncode == 0
    ids = [line.split()[0] for line in res.stdout.splitlines() if line[:3] in ("AUD", "LIC", "RET", "EVT", "EXP")]
    assert len(set(ids)) == 19


def test_profiles_and_schema() -> None:
    assert "omb-m-21-31-el3" in run("profiles").stdout
    schema = json.loads(run("schema", "evidence").stdout)
    assert "properties" in schema and "tenant" in schema["properties"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{", "not valid JSON"),
        ('{"schema": "assessor.evidence/1"}', "tenant: Field required"),
        ('{"schema": "other/9"}', "schema: expected"),
    ],
)
def test_malformed_evidence_is_one_line_exit_2(tmp_path: Path, content: str, fragment: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    out = tmp_path / "out"
    res = run("assess", "--evidence", str(bad), "--format", "json", "--output", str(out))
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr
    assert str(bad) in lines[0] and fragment in lines[0]
    assert not out.exists()


def test_bad_input_keeps_existing_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert (
        run(
            "assess",
            "--evidence",
            str(EXAMPLES / "e3-standard-ingestion-off.json"),
            "--format",
            "json",
            "--output",
            str(out),
        ).returncode
        == 0
    )
    before = (out / "report.json").read_text()
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    assert run("assess", "--evidence", str(bad), "--format", "json", "--output", str(out)).returncode == 2
    assert (out / "report.json").read_text() == before


@pytest.mark.parametrize(
    "args",
    [
        ("assess", "--evidence", "nope.json"),
        ("assess", "--evidence", "examples/e3-standard-ingestion-off.json", "--format", "pdf"),
        ("assess", "--evidence", "examples/e3-standard-ingestion-off.json", "--profile", "nope"),
        ("assess", "--evidence", "examples/e3-standard-ingestion-off.json", "--date", "yesterday"),
        ("assess", "--evidence", "examples/e3-standard-ingestion-off.json", "--format", "json"),
        ("assess", "--bogus"),
        ("schema", "nothing"),
        # collection options where nothing is collected would be silently ignored: refused instead
        ("assess", "--evidence", "examples/e3-standard-ingestion-off.json", "--tenant", "contoso.com"),
        ("assess", "--evidence", "examples/e3-standard-ingestion-off.json", "--users", "detail"),
        ("assess", "--sandbox", "contoso", "--auth", "secret"),
        ("assess", "--sandbox", "contoso", "--graph-endpoint", "http://127.0.0.1:9/v1.0"),
    ],
)
def test_usage_errors_exit_2_one_line(args: tuple[str, ...]) -> None:
    res = run(*args)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr


def test_verify(tmp_path: Path) -> None:
    src = EXAMPLES / "mixed-e5-e3-priority-trap.json"
    assert run("verify", str(src)).returncode == 0
    doc = json.loads(src.read_text())
    doc["users"]["data"]["counts"]["in_scope_premium"] = 505
    doc["users"]["data"]["counts"]["in_scope"] = 505
    tampered = tmp_path / "t.json"
    tampered.write_text(json.dumps(doc))
    res = run("verify", str(tampered))
    assert res.returncode == 1 and "altered" in res.stdout


def test_attestation_feeds_export_checks(tmp_path: Path) -> None:
    res = run(
        "assess",
        "--evidence",
        str(EXAMPLES / "e3-standard-ingestion-off.json"),
        "--profile",
        "omb-m-21-31",
        "--attest",
        str(ROOT / "examples" / "attestation.yaml"),
        "--format",
        "json",
        "--output",
        str(tmp_path),
    )
    assert res.returncode == 0, res.stderr
    doc = json.loads((tmp_path / "report.json").read_text())
    by_id = {f["check_id"]: f for f in doc["findings"]}
    assert by_id["EXP-01"]["status"] == "pass"
    assert by_id["RET-04"]["status"] == "pass"
    log = {c["section"]: c for c in doc["collection"]}
    assert log["log_export"]["status"] == "imported" and log["log_export"]["file"] == "attestation.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text("siem_retention_days: -5\n")
    res = run(
        "assess",
        "--evidence",
        str(EXAMPLES / "e3-standard-ingestion-off.json"),
        "--attest",
        str(bad),
        "--format",
        "console",
    )
    assert res.returncode == 2 and "siem_retention_days" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_detail_mode_csv_writes_the_per_user_gap_list(tmp_path: Path) -> None:
    res = run(
        "assess",
        "--sandbox",
        "contoso",
        "--users",
        "detail",
        "--format",
        "csv,json",
        "--output",
        str(tmp_path),
        "--date",
        "2026-11-25",
    )
    assert res.returncode == 0, res.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    with (tmp_path / "user-gaps.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    lic = report["licensing"]
    # the gap list: every in-scope user without Premium audit, plus every privileged user
    in_scope = [r for r in rows if r["inScope"] == "True"]
    assert sum(r["premium"] == "False" for r in in_scope) == lic["users_without_premium_audit"] > 0
    assert all(r["premium"] == "False" or r["privileged"] == "True" for r in rows)
    privileged_gap = {r["id"] for r in in_scope if r["privileged"] == "True" and r["premium"] == "False"}
    assert privileged_gap == {u["id"] for u in lic["privileged_without_premium"]}
    assert f"wrote {tmp_path / 'user-gaps.csv'}" in res.stderr


def test_pseudonymized_gap_list_matches_the_report(tmp_path: Path) -> None:
    env = {**os.environ, "ASSESSOR_PSEUDONYM_KEY": "test-key"}
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
            "--format",
            "csv,json",
            "--output",
            str(tmp_path),
            "--pseudonymize",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
        env=env,
    )
    assert res.returncode == 0, res.stderr
    text = (tmp_path / "user-gaps.csv").read_text()
    assert "@contoso.com" not in text and "8b4e2f10-" not in text
    # nothing in the shareable output folder holds a real name: evidence.json is not written there
    assert not (tmp_path / "evidence.json").exists() and "--save-evidence" in res.stderr
    for path in tmp_path.iterdir():
        assert "@contoso.com" not in path.read_text(), path.name
    report = json.loads((tmp_path / "report.json").read_text())
    rows = {r["id"]: r for r in csv.DictReader(text.splitlines())}
    for user in report["licensing"]["privileged_without_premium"]:
        assert rows[user["id"]]["userPrincipalName"] == user["user_principal_name"]


def test_assessing_altered_evidence_warns(tmp_path: Path) -> None:
    doc = json.loads((EXAMPLES / "mixed-e5-e3-priority-trap.json").read_text())
    assert doc["meta"]["sha256"]
    res = run(
        "assess",
        "--evidence",
        str(EXAMPLES / "mixed-e5-e3-priority-trap.json"),
        "--format",
        "json",
        "--output",
        str(tmp_path / "a"),
    )
    assert res.returncode == 0 and "warning" not in res.stderr
    doc["tenant"]["name"] = "Someone Else"
    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps(doc))
    res = run("assess", "--evidence", str(altered), "--format", "json,html", "--output", str(tmp_path / "b"))
    assert res.returncode == 0
    assert "warning" in res.stderr and "altered after collection" in res.stderr
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    assert report["evidence_integrity"] == "altered"
    assert report["evidence_sha256"] != doc["meta"]["sha256"]  # the digest of what was assessed
    assert "the evidence was altered after collection" in (tmp_path / "b" / "report.html").read_text()
    intact = json.loads((tmp_path / "a" / "report.json").read_text())
    assert intact["evidence_integrity"] == "intact" and intact["evidence_sha256"] == doc["meta"]["sha256"]


def test_live_report_names_the_saved_evidence_digest(tmp_path: Path) -> None:
    res = run("assess", "--sandbox", "contoso", "--format", "json", "--output", str(tmp_path))
    assert res.returncode == 0, res.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    evidence = json.loads((tmp_path / "evidence.json").read_text())
    assert report["evidence_integrity"] == "intact"
    assert report["evidence_sha256"] == evidence["meta"]["sha256"]


def test_collect_params_type_names_every_collection_option() -> None:
    """``CollectParams`` (the type of the collection options' values) has one key per click option."""
    from assessor.cli import _COLLECT_PARAM_NAMES, CollectParams

    assert set(CollectParams.__annotations__) == set(_COLLECT_PARAM_NAMES)
