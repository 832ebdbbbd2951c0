"""--pseudonymize: one pass over the Report; stable keyed hashes; no names left in any format."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from assessor.cli import cli
from assessor.engine.model import Report
from assessor.report import RENDERERS, RenderOptions
from assessor.report.pseudonymize import KEY_ENV, Pseudonymizer, pseudonymize_report, resolve_key

ROOT = Path(__file__).resolve().parents[2]
KEY = b"k1"
# Every personal or organisation name in the example evidence that reaches a report.
NAMES = (
    "Contoso",
    "contoso",
    "ceo-admin",
    "mail-admin",
    "counsel@",
    "Global Admin (E3)",
    "Exchange Admin (E3)",
    "b1e2c3d4-0000-4000-8000-0000000c0501",
    "00000000-0000-4000-8000-000000000b01",
)
NORTHWIND = ("Northwind", "northwind", "svc-backup", "svc-archiver")


@pytest.fixture
def mixed_report(report_for: Callable[[str, str], Report]) -> Report:
    return report_for("mixed-e5-e3-priority-trap", "cisa-aa23-193a")


def _all_formats(report: Report) -> dict[str, str]:
    options = RenderOptions(pseudonymize_key=KEY)
    return {fmt: cls().render(report, options) for fmt, cls in RENDERERS.items()}


def test_no_name_survives_in_any_format(mixed_report: Report) -> None:
    before = _all_formats(mixed_report)
    assert all(any(n in text for n in NAMES) for text in before.values())
    after = _all_formats(pseudonymize_report(mixed_report, KEY))
    for fmt, text in after.items():
        leaked = [n for n in NAMES if n in text]
        assert not leaked, f"{fmt} still shows {leaked}"


def test_bypass_identities_are_pseudonymised(report_for: Callable[[str, str], Report]) -> None:
    report = pseudonymize_report(report_for("e3-standard-ingestion-off", "cisa-scuba"), KEY)
    text = json.dumps(report.to_json_dict())
    assert not [n for n in NORTHWIND if n in text]
    assert report.audit.bypass_identities and all(i.startswith("user-") for i in report.audit.bypass_identities)


def test_pseudonyms_are_stable_per_key_and_differ_between_keys(mixed_report: Report) -> None:
    a1 = pseudonymize_report(mixed_report, KEY)
    a2 = pseudonymize_report(mixed_report, KEY)
    b = pseudonymize_report(mixed_report, b"another key")
    assert a1 == a2
    assert a1.tenant["name"] != b.tenant["name"]
    upns = [u["user_principal_name"] for u in a1.licensing.privileged_without_premium or []]
    lic03 = next(f for f in a1.findings if f.check_id == "LIC-03")
    assert lic03.evidence["users"] == upns  # the same person has the same pseudonym everywhere
    assert all(u in lic03.message for u in upns)


def test_structure_and_decisions_are_untouched(mixed_report: Report) -> None:
    p = pseudonymize_report(mixed_report, KEY)
    assert [(f.check_id, f.status, f.severity, f.references, f.controls) for f in p.findings] == [
        (f.check_id, f.status, f.severity, f.references, f.controls) for f in mixed_report.findings
    ]
    assert p.summary == mixed_report.summary and p.verdict == mixed_report.verdict
    assert p.licensing.recommendation == mixed_report.licensing.recommendation  # SKU names are not people
    assert p.licensing.premium_skus == mixed_report.licensing.premium_skus


def test_matching_is_case_insensitive_and_keyed() -> None:
    p = Pseudonymizer(b"key")
    assert p.identity("Adele@Contoso.example") == p.identity("adele@contoso.example")
    assert p.identity("adele@contoso.example").startswith("user-")
    assert p.identity("Adele Vance").startswith("name-")
    assert Pseudonymizer(b"other").identity("adele@contoso.example") != p.identity("adele@contoso.example")


def test_key_comes_from_the_environment_or_is_random() -> None:
    assert resolve_key({KEY_ENV: "secret"}) == (b"secret", True)
    key1, stable1 = resolve_key({})
    key2, _ = resolve_key({})
    assert not stable1 and len(key1) == 32 and key1 != key2


def test_cli_pseudonymises_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    monkeypatch.setenv(KEY_ENV, "cli-key")
    out = tmp_path / "out"
    args = [
        "assess",
        "--evidence",
        str(ROOT / "examples/mixed-e5-e3-priority-trap.json"),
        "--profile",
        "cisa-aa23-193a",
        "--date",
        "2026-11-25",
        "--format",
        "console,html,md,json,csv,sarif,junit",
        "--output",
        str(out),
        "--pseudonymize",
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert not [n for n in NAMES if n in result.stdout]
    files = sorted(p.name for p in out.iterdir())
    assert files == ["findings.csv", "junit.xml", "report.html", "report.json", "report.md", "report.sarif"]
    for path in out.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not [n for n in NAMES if n in text], path.name
    again = tmp_path / "again"
    CliRunner().invoke(cli, [*args[:-3], "--output", str(again), "--pseudonymize"])
    first = json.loads((out / "report.json").read_text(encoding="utf-8"))
    second = json.loads((again / "report.json").read_text(encoding="utf-8"))
    assert first["tenant"] == second["tenant"]
