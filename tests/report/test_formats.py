"""Per-format contracts: SARIF against the 2.1.0 schema, JUnit structure, CSV neutralisation, Markdown."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from assessor.csvsafe import neutralise
from assessor.engine.model import Report, Status
from assessor.engine.registry import load_catalogue
from assessor.report import RENDERERS, RenderOptions
from assessor.report.markdown import md
from assessor.report.sarif import level_for

# OASIS SARIF 2.1.0 (errata01) JSON schema, as published by the standard
SCHEMA = json.loads((Path(__file__).parent / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
CASES = [
    ("mixed-e5-e3-priority-trap", "cisa-aa23-193a"),
    ("mixed-e5-e3-priority-trap", "omb-m-21-31-el2"),
    ("gcc-high-no-exchange", "cisa-scuba"),
    ("e3-standard-ingestion-off", "baseline"),
]


def render(fmt: str, report: Report, options: RenderOptions | None = None) -> str:
    return RENDERERS[fmt]().render(report, options or RenderOptions())


@pytest.mark.parametrize(("evidence", "profile"), CASES)
def test_sarif_validates_against_the_2_1_0_schema(
    evidence: str, profile: str, report_for: Callable[[str, str], Report]
) -> None:
    report = report_for(evidence, profile)
    doc = json.loads(render("sarif", report))
    jsonschema.validators.validator_for(SCHEMA)(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)
    run = doc["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [m.id for m in load_catalogue()]
    gaps = [f for f in report.findings if f.status in (Status.FAIL, Status.WARN)]
    assert [r["ruleId"] for r in run["results"]] == [f.check_id for f in gaps]
    for result, f in zip(run["results"], gaps, strict=True):
        assert result["level"] == level_for(f.severity)
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == f.check_id
    undecided = [f.check_id for f in report.findings if f.status in (Status.UNKNOWN, Status.ERROR)]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["associatedRule"]["id"] for n in notes] == undecided


def test_sarif_levels_follow_severity() -> None:
    assert [level_for(s) for s in ("critical", "high", "medium", "low", "info")] == [
        "error",
        "error",
        "warning",
        "note",
        "note",
    ]


def test_sarif_schema_rejects_what_sarif_forbids(report_for: Callable[[str, str], Report]) -> None:
    """The schema has teeth: a wrong level or a stray property fails validation."""
    doc = json.loads(render("sarif", report_for("mixed-e5-e3-priority-trap", "cisa-aa23-193a")))
    doc["runs"][0]["results"][0]["level"] = "critical"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)
    doc["runs"][0]["results"][0]["level"] = "error"
    doc["runs"][0]["results"][0]["severity"] = "high"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)


@pytest.mark.parametrize(("evidence", "profile"), CASES)
def test_junit_has_one_testcase_per_catalogue_check(
    evidence: str, profile: str, report_for: Callable[[str, str], Report]
) -> None:
    report = report_for(evidence, profile)
    root = ET.fromstring(render("junit", report))
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert [c.get("name", "").split(" ")[0] for c in cases] == [m.id for m in load_catalogue()]
    by_id = {f.check_id: f for f in report.findings}
    expected_child = {
        Status.FAIL: "failure",
        Status.WARN: "failure",
        Status.ERROR: "error",
        Status.UNKNOWN: "error",
        Status.NOT_APPLICABLE: "skipped",
        Status.MANUAL: "skipped",
    }
    for case in cases:
        f = by_id[case.get("name", "").split(" ")[0]]
        children = [child.tag for child in case]
        assert children == ([expected_child[f.status]] if f.status in expected_child else [])
        if children and children[0] != "skipped":
            assert case[0].get("message") == f.message
    assert suite.get("tests") == str(len(cases))
    assert suite.get("failures") == str(sum(f.status in (Status.FAIL, Status.WARN) for f in report.findings))
    assert suite.get("errors") == str(sum(f.status in (Status.ERROR, Status.UNKNOWN) for f in report.findings))
    assert suite.get("skipped") == str(sum(f.status in (Status.NOT_APPLICABLE, Status.MANUAL) for f in report.findings))


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", '  =HYPERLINK("x")'])
def test_csv_neutralises_formula_triggers(value: str) -> None:
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["plain", "", "1-2", "a=b", "user@example.com"])
def test_csv_leaves_ordinary_text_alone(value: str) -> None:
    assert neutralise(value) == value


def test_csv_has_one_row_per_catalogue_check(report_for: Callable[[str, str], Report]) -> None:
    report = report_for("mixed-e5-e3-priority-trap", "cisa-aa23-193a")
    rows = list(csv.DictReader(io.StringIO(render("csv", report))))
    assert [r["check_id"] for r in rows] == [m.id for m in load_catalogue()]
    assert {r["status"] for r in rows} == {f.status.value for f in report.findings}
    assert json.loads(rows[0]["evidence"]) == report.findings[0].evidence


def test_markdown_escapes_html_and_table_syntax() -> None:
    assert md("<b>|x|</b>") == "&lt;b&gt;\\|x\\|&lt;/b&gt;"
    assert md("a\nb") == "a b"


def test_markdown_has_every_section(report_for: Callable[[str, str], Report]) -> None:
    text = render("md", report_for("mixed-e5-e3-priority-trap", "cisa-aa23-193a"))
    for heading in (
        "## The biggest gaps",
        "## Fix first",
        "## Findings",
        "## Licensing",
        "## Retention",
        "## Events",
        "## Each check in detail",
        "## Collection log",
    ):
        assert heading in text
    for meta in load_catalogue():
        assert f"### {meta.id} ·" in text
