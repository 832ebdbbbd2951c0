"""The whole path through the CLI: `assess`/`collect` with --auth token against the emulator on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assessor.cli import main
from assessor.collect.exchange import COMPLIANCE_FIX, EXCHANGE_FIX
from assessor.sandbox.server import SandboxServer
from tests.helpers.support import EXAMPLES

TOKENS = {"ASSESSOR_GRAPH_TOKEN": "g", "ASSESSOR_EXCHANGE_TOKEN": "e", "ASSESSOR_COMPLIANCE_TOKEN": "c"}


@pytest.fixture(scope="module")
def live() -> Iterator[SandboxServer]:
    with SandboxServer(["contoso", "gov"]) as srv:
        yield srv


@pytest.fixture(autouse=True)
def tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in TOKENS.items():
        monkeypatch.setenv(key, value)


def run(*args: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    return int(exit_info.value.code or 0)


def endpoint_args(server: SandboxServer, tenant: str) -> list[str]:
    ex = server.exchange_endpoints(tenant)
    state = server.state(tenant).tenant
    return [
        "--tenant",
        state.id,
        "--cloud",
        state.cloud,
        "--auth",
        "token",
        "--graph-endpoint",
        server.graph_url(tenant),
        "--exchange-endpoint",
        ex["exchange_endpoint"],
        "--compliance-endpoint",
        ex["compliance_endpoint"],
    ]


def assess(server: SandboxServer, tenant: str, out: Path, *extra: str) -> dict[str, Any]:
    code = run(
        "assess",
        *endpoint_args(server, tenant),
        "--format",
        "json",
        "--output",
        str(out),
        "--date",
        "2026-11-25",
        *extra,
    )
    assert code == 0
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["check_id"]: f for f in report["findings"]}


def test_contoso_report_figures_are_exact(live: SandboxServer, tmp_path: Path) -> None:
    report = assess(live, "contoso", tmp_path)
    audit = report["audit"]
    assert audit["ual_ingestion_enabled"] is True and audit["org_audit_disabled"] is False
    assert audit["bypass_mailboxes"] == 2
    assert audit["mailboxes_missing_mailitemsaccessed"] == 12
    assert audit["user_mailboxes"] == report["licensing"]["users_in_scope"] == 197
    exchange = report["retention"]["workloads"]["Exchange"]
    # the 7-day priority-1 policy governs every in-scope user's ExchangeItem records: the Premium-covered
    # users' (highest priority wins) and everyone else's (a policy shorter than their default applies)
    assert exchange["effective_days_min"] == 7 and exchange["users_short"] == 197
    findings = by_id(report)
    assert findings["RET-01"]["status"] == "fail"
    assert "'Mailbox noise 7 days' (priority 1, 7 days) overrides 'Exchange one year'" in findings["RET-01"]["message"]
    assert findings["AUD-03"]["status"] == "fail" and findings["AUD-04"]["status"] == "fail"
    assert findings["AUD-01"]["status"] == "pass"


def test_exchange_401_leaves_aud_unknown_while_graph_checks_run(live: SandboxServer, tmp_path: Path) -> None:
    report = assess(live, "gov", tmp_path, "--save-evidence", str(tmp_path / "evidence.json"))
    findings = by_id(report)
    for check in ("AUD-01", "AUD-03", "AUD-04"):
        assert findings[check]["status"] == "unknown", check
    for check in ("LIC-01", "LIC-05", "RET-04"):  # LIC-03/04 are unknown in gov: its roles answer 403
        assert findings[check]["status"] in ("pass", "fail", "warn"), check
    assert report["audit"]["mailboxes_missing_mailitemsaccessed"] is None
    evidence = json.loads((tmp_path / "evidence.json").read_text(encoding="utf-8"))
    assert evidence["exchange"]["mailboxes"]["provenance"]["fix"] == EXCHANGE_FIX
    assert evidence["exchange"]["retention_policies"]["provenance"]["fix"] == COMPLIANCE_FIX


def test_collect_with_imports_as_file_list(live: SandboxServer, tmp_path: Path) -> None:
    files = sorted(str(p) for p in (EXAMPLES / "exchange-export").glob("*.json"))
    out = tmp_path / "evidence.json"
    code = run("collect", *endpoint_args(live, "contoso"), "--no-exchange", "--import", *files, "--output", str(out))
    assert code == 0
    exchange = json.loads(out.read_text(encoding="utf-8"))["exchange"]
    assert {s["provenance"]["status"] for s in exchange.values()} == {"imported"}
    assert exchange["mailboxes"]["provenance"]["file"] == "Mailbox.json"


def test_bad_import_is_one_line_exit_2(live: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "Mailbox.json"
    bad.write_text('[{"UserPrincipalName": "a@b", "RecipientTypeDetails": "UserMailbox"}]', encoding="utf-8")
    live.reset_stats()
    code = run("collect", *endpoint_args(live, "contoso"), "--import", str(bad), "--output", str(tmp_path / "e.json"))
    assert code == 2
    assert capsys.readouterr().err.strip() == "assessor: Mailbox.json: [0].AuditEnabled: missing"
    assert live.stats()["requests"] == 0  # refused before any network call
