"""A real browser: Debian's chromium driven by Playwright loads the HTML report from file://.

No console errors, no network requests besides the file itself, the findings table sorts and
filters by clicking, hostile names do not execute, and a screenshot of the summary is saved.
Skipped only when /usr/bin/chromium is absent outside CI; under CI=true a missing browser fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assessor.engine.model import Report
from assessor.report import RENDERERS, RenderOptions
from tests.helpers.report import SCRIPT, hostile_doc
from tests.helpers.support import assess_doc

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SUMMARY_COPY = Path("/tmp/report-summary.png")  # a well-known place to look at the screenshot

pytestmark = pytest.mark.browser


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if _in_ci():
            pytest.fail(f"{CHROMIUM} is missing under CI: install it (apt-get install -y chromium)")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium); the browser test runs in CI")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


class Page:
    """A page with every console message, page error, request and dialog recorded."""

    def __init__(self, browser: Any, path: Path, scheme: str = "light") -> None:
        self.url = path.resolve().as_uri()
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
        self.page = self.context.new_page()
        self.page.set_default_timeout(5000)
        self.console: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(self.url, wait_until="load")

    def assert_quiet(self) -> None:
        assert [m for m in self.console if m[0] in ("error", "warning")] == []
        assert self.errors == []
        assert self.requests == [self.url], "the report must not fetch anything"
        assert self.dialogs == []

    def sort_button(self, header: str) -> Any:
        return self.page.locator("#findings-table thead button.sort", has_text=header)

    def statuses(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "#findings-table tbody tr", "rows => rows.map(r => r.getAttribute('data-status'))"
        )

    def visible_checks(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "#findings-table tbody tr:not([hidden])", "rows => rows.map(r => r.getAttribute('data-check'))"
        )

    def checks(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "#findings-table tbody tr", "rows => rows.map(r => r.getAttribute('data-check'))"
        )


def _write(report: Report, tmp_path: Path, name: str = "report.html") -> Path:
    path = tmp_path / name
    path.write_text(RENDERERS["html"]().render(report, RenderOptions()), encoding="utf-8")
    return path


def test_report_loads_sorts_filters_and_screenshots(
    browser: Any, tmp_path: Path, report_for: Callable[[str, str], Report]
) -> None:
    report = report_for("mixed-e5-e3-priority-trap", "cisa-aa23-193a")
    p = Page(browser, _write(report, tmp_path))
    page = p.page
    assert page.title().startswith("Audit log assessment · Contoso Ltd")
    assert page.locator("#summary .verdict-word").inner_text().strip() == "✗ FAIL"

    # sort by check id (ascending, then descending) by clicking the header
    ids = sorted(f.check_id for f in report.findings)
    p.sort_button("Check").click()
    assert p.checks() == ids
    assert page.locator("#findings-table th").nth(2).get_attribute("aria-sort") == "ascending"
    p.sort_button("Check").click()
    assert p.checks() == ids[::-1]
    # sort by status: fail rows first
    p.sort_button("Status").click()
    assert p.statuses()[0] == "fail" and p.statuses()[-1] == "not_applicable"

    # filter: turn "pass" off by clicking its chip, then text-filter
    total = len(report.findings)
    page.locator("button.chip[data-status='pass']").click()
    passing = {f.check_id for f in report.findings if f.status.value == "pass"}
    assert set(p.visible_checks()) == {f.check_id for f in report.findings} - passing
    assert page.locator("#findings-shown").inner_text() == f"Showing {total - len(passing)} of {total} checks"
    page.locator("#findings-search").fill("MailItemsAccessed")
    assert "EVT-01" in p.visible_checks() and "LIC-01" not in p.visible_checks()
    page.locator("#findings-search").fill("")
    page.get_by_role("button", name="gaps only").click()
    gaps = {f.check_id for f in report.findings if f.status.value in ("fail", "warn", "unknown", "error")}
    assert set(p.visible_checks()) == gaps
    page.get_by_role("button", name="show all").click()
    assert len(p.visible_checks()) == total

    # the details of a finding open from the table link
    page.locator("#findings-table a[href='#finding-EVT-01']").click()
    assert page.locator("#finding-EVT-01").get_attribute("open") is not None

    page.evaluate("window.scrollTo(0, 0)")
    shot = tmp_path / "report-summary.png"
    page.locator("#summary").screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    shutil.copyfile(shot, SUMMARY_COPY)
    page.locator("#glance").screenshot(path=str(tmp_path / "report-glance.png"))
    p.assert_quiet()
    p.context.close()


def test_dark_mode_and_print(browser: Any, tmp_path: Path, report_for: Callable[[str, str], Report]) -> None:
    path = _write(report_for("gcc-high-no-exchange", "cisa-scuba"), tmp_path)
    p = Page(browser, path, scheme="dark")
    page = p.page
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert bg == "rgb(17, 21, 28)"
    page.locator("#summary").screenshot(path=str(tmp_path / "report-summary-dark.png"))
    page.emulate_media(media="print")
    assert page.locator(".filters").is_hidden()
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    p.assert_quiet()
    p.context.close()


def test_hostile_names_do_not_run(browser: Any, tmp_path: Path) -> None:
    report = assess_doc(hostile_doc(), "cisa-aa23-193a")
    p = Page(browser, _write(report, tmp_path, "hostile.html"))
    assert SCRIPT in p.page.locator("header h1").inner_text()
    assert p.page.locator("script").count() == 1
    p.assert_quiet()
    p.context.close()
