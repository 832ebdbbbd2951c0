"""The portfolio: totals, order, hostile names escaped and defused, and the tag filter in a real browser."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import pytest

from assessor.bulk.portfolio import build_portfolio, portfolio_csv, portfolio_html, write_portfolio
from assessor.bulk.progress import LogProgress, RichProgress, progress_for
from assessor.bulk.runner import TenantResult

CHROMIUM = Path("/usr/bin/chromium")
HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def _result(
    key: str,
    *,
    status: str = "done",
    users: int | None = 0,
    fails: int = 0,
    tags: tuple[str, ...] = (),
    name: str | None = None,
    reason: str | None = None,
) -> TenantResult:
    checks: dict[str, Any] = {f"LIC-0{i + 1}": {"status": "fail", "severity": "high"} for i in range(fails)}
    checks["AUD-01"] = {"status": "pass", "severity": "high"}
    summary = (
        {}
        if status == "failed"
        else {
            "verdict": "fail" if fails else "pass",
            "counts": {"fail": fails, "pass": 1},
            "checks": checks,
            "users_in_scope": 100,
            "users_without_premium_audit": users,
            "privileged_users_without_premium_audit": 1,
            "premium_audit_seats_unassigned": 3,
            "seats_to_buy": 2,
            "seats_to_assign": 3,
            "report": "report.html",
            "at_or_above_fail_on": False,
        }
    )
    return TenantResult(
        key=key,
        name=name or key,
        tenant=key,
        dir=key,
        tags=list(tags),
        profile="baseline",
        status=status,
        reason=reason,
        duration_s=1.0,
        finished_at="2026-11-25T12:00:00+00:00",  # type: ignore[arg-type]
        summary=summary,
    )


def _results() -> list[TenantResult]:
    return [
        _result("small.example", users=5, fails=1, tags=("eu",)),
        _result("big.example", users=50, fails=1, tags=("us", "gold")),
        _result("same-users-more-fails.example", users=5, fails=2, tags=("eu",)),
        _result("unknown.example", users=None, tags=("us",)),
        _result("broken.example", status="failed", reason="timed out after 30 s", tags=("eu",)),
    ]


def test_totals_and_largest_gaps_first() -> None:
    doc = build_portfolio(_results())
    assert [r["key"] for r in doc["tenants"]] == [
        "big.example",
        "same-users-more-fails.example",
        "small.example",
        "unknown.example",
        "broken.example",
    ]
    totals = doc["totals"]
    assert totals["tenants"] == 5 and totals["assessed"] == 4 and totals["failed"] == 1
    assert totals["users_without_premium_audit"] == 60 and totals["users_without_premium_audit_unknown"] == 1
    assert totals["seats_to_buy"] == 8 and totals["seats_to_assign"] == 12
    assert doc["failures"] == [{"tenant": "broken.example", "name": "broken.example", "reason": "timed out after 30 s"}]
    assert doc["checks"] == ["AUD-01", "LIC-01", "LIC-02"]


def test_hostile_names_are_escaped_and_defused() -> None:
    results = [
        _result("evil.example", name=HOSTILE),
        _result("formula.example", name='=HYPERLINK("http://x")'),
        _result("bad.example", status="failed", reason=HOSTILE),
    ]
    doc = build_portfolio(results)
    html = portfolio_html(doc)
    assert "<script>alert" not in html and "<img src=x" not in html and "&lt;script&gt;" in html
    assert html.count("<script>") == 1, "only the filter script"
    rows = list(csv.DictReader(io.StringIO(portfolio_csv(doc))))
    assert next(r for r in rows if r["tenant"] == "formula.example")["name"].startswith("'=")


def test_progress_is_rich_on_a_terminal_and_plain_otherwise(tmp_path: Path) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(progress_for(3, Tty()), RichProgress)
    plain = io.StringIO()
    progress = progress_for(2, plain)
    assert isinstance(progress, LogProgress)
    progress.finished(_result("a.example"))
    progress.finished(_result("b.example", status="failed", reason="401"))
    assert plain.getvalue().splitlines() == ["[1/2] done a.example (1.0 s)", "[2/2] failed b.example (1.0 s): 401"]


@pytest.mark.browser
def test_tag_filter_in_a_real_browser(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(f"{CHROMIUM} is missing under CI")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    write_portfolio(_results(), tmp_path)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        try:
            page = browser.new_page()
            messages: list[str] = []
            page.on("console", lambda m: messages.append(m.text))
            page.on("pageerror", lambda e: messages.append(str(e)))
            page.goto((tmp_path / "portfolio.html").as_uri())
            assert page.inner_text("#shown") == "5 of 5 tenants"
            page.select_option("#tag", "eu")
            assert page.inner_text("#shown") == "3 of 5 tenants"
            visible = page.locator("table.heat tbody tr:not([hidden]) td.name a").all_inner_texts()
            assert visible == ["same-users-more-fails.example", "small.example"]
            assert page.locator("a[href='big.example/report.html']").count() == 1
            assert messages == [], "no console errors (the CSP lets the inline style and script run)"
        finally:
            browser.close()
