"""Hostile names from the tenant come out inert: escaped in HTML and Markdown, neutralised in CSV."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

import pytest

from assessor.csvsafe import FORMULA_TRIGGERS
from assessor.engine.model import Report
from assessor.report import RENDERERS, RenderOptions
from tests.helpers.report import FORMULA, SCRIPT, hostile_doc
from tests.helpers.support import assess_doc


@pytest.fixture(scope="module")
def hostile() -> Report:
    report = assess_doc(hostile_doc(), "cisa-aa23-193a")
    assert report.tenant["name"].startswith(SCRIPT)
    assert any(
        SCRIPT in (u.get("user_principal_name") or "") for u in report.licensing.privileged_without_premium or []
    )
    return report


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts = 0
        self.handlers: list[str] = []
        self.csp: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        if tag == "meta" and ("http-equiv", "Content-Security-Policy") in attrs:
            self.csp = dict(attrs).get("content")


def test_html_escapes_script_and_formula(hostile: Report) -> None:
    html = RENDERERS["html"]().render(hostile, RenderOptions())
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    parser = _Scripts()
    parser.feed(html)
    assert parser.scripts == 1, "only the report's own inline script"
    assert parser.handlers == []
    assert parser.csp is not None and parser.csp.startswith("default-src 'none';")
    assert "'unsafe-inline'" not in parser.csp


def test_markdown_escapes_script(hostile: Report) -> None:
    text = RENDERERS["md"]().render(hostile, RenderOptions())
    assert "<script" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_csv_neutralises_formulas(hostile: Report) -> None:
    text = RENDERERS["csv"]().render(hostile, RenderOptions())
    rows = list(csv.reader(io.StringIO(text)))
    cells = [cell for row in rows for cell in row]
    assert all(not cell.lstrip(" ").startswith(FORMULA_TRIGGERS) for cell in cells)
    tenant_cells = [row[0] for row in rows[1:]]
    assert set(tenant_cells) == {f"{SCRIPT} {FORMULA}"}  # text, never a formula (starts with <)
    lic03 = next(row for row in rows if row[3] == "LIC-03")
    assert FORMULA in lic03[8]  # the message names the user; it is inside text, not at a cell start


def test_csv_quotes_a_formula_at_the_start_of_a_cell(hostile: Report) -> None:
    report = hostile.model_copy(update={"tenant": {**hostile.tenant, "name": FORMULA}})
    rows = list(csv.reader(io.StringIO(RENDERERS["csv"]().render(report, RenderOptions()))))
    assert {row[0] for row in rows[1:]} == {"'" + FORMULA}


def test_junit_and_sarif_carry_the_text_safely(hostile: Report) -> None:
    import json
    import xml.etree.ElementTree as ET

    root = ET.fromstring(RENDERERS["junit"]().render(hostile, RenderOptions()))
    assert SCRIPT in root.find("testsuite").get("name", "")  # type: ignore[union-attr]
    doc = json.loads(RENDERERS["sarif"]().render(hostile, RenderOptions()))
    assert doc["runs"][0]["properties"]["tenant"].startswith(SCRIPT)


def test_terminal_escapes_and_bidi_overrides_are_made_visible() -> None:
    from assessor.report.console import render_console
    from tests.helpers.report import hostile_doc as make

    doc = make()
    doc["tenant"]["name"] = "Evil\x1b]0;pwned\x07\x1b[31mCorp\u202etxt.exe"
    report = assess_doc(doc, "baseline")
    assert report.tenant["name"] == "Evil\\u001b]0;pwned\\u0007\\u001b[31mCorp\\u202etxt.exe"
    outputs = {name: r().render(report, RenderOptions()) for name, r in RENDERERS.items()}
    outputs["console"] = render_console(report)
    for name, text in outputs.items():
        assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text, name
