"""Reports iterate over the catalogue: a check with no finding shows as error in every format."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable

from assessor.engine.model import Report, Status
from assessor.report import RENDERERS, RenderOptions
from assessor.report.view import MISSING_RESULT, build_view


def _without(report: Report, check_id: str) -> Report:
    return report.model_copy(update={"findings": [f for f in report.findings if f.check_id != check_id]})


def test_view_shows_a_deleted_finding_as_error(report_for: Callable[[str, str], Report]) -> None:
    report = _without(report_for("mixed-e5-e3-priority-trap", "cisa-aa23-193a"), "AUD-02")
    view = build_view(report)
    row = next(r for r in view.rows if r.finding.check_id == "AUD-02")
    assert row.missing and row.status == Status.ERROR and row.finding.message == MISSING_RESULT
    assert view.missing_ids == ("AUD-02",)
    assert view.counts["error"] == 1


def test_a_clean_report_missing_a_check_is_incomplete_not_pass(report_for: Callable[[str, str], Report]) -> None:
    report = report_for("mixed-e5-e3-priority-trap", "cisa-aa23-193a")
    passing = [f for f in report.findings if f.status == Status.PASS]
    clean = report.model_copy(update={"findings": passing[1:], "verdict": "pass"})
    assert build_view(clean).verdict == "incomplete"


def test_every_format_shows_the_missing_check(report_for: Callable[[str, str], Report]) -> None:
    report = _without(report_for("mixed-e5-e3-priority-trap", "cisa-aa23-193a"), "AUD-02")
    out = {fmt: RENDERERS[fmt]().render(report, RenderOptions()) for fmt in ("html", "md", "csv", "sarif", "junit")}

    assert 'data-status="error" data-check="AUD-02"' in out["html"]
    assert 'id="finding-AUD-02"' in out["html"]
    assert "AUD-02 · ⚠ Error" in out["md"]

    row = next(r for r in csv.DictReader(io.StringIO(out["csv"])) if r["check_id"] == "AUD-02")
    assert (row["status"], row["result_missing"]) == ("error", "true")

    notes = json.loads(out["sarif"])["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any(n["associatedRule"]["id"] == "AUD-02" and n["level"] == "error" for n in notes)

    case = next(c for c in ET.fromstring(out["junit"]).iter("testcase") if c.get("name", "").startswith("AUD-02 "))
    assert case.find("error") is not None


def test_a_finding_outside_the_catalogue_is_still_shown(report_for: Callable[[str, str], Report]) -> None:
    report = report_for("mixed-e5-e3-priority-trap", "cisa-aa23-193a")
    extra = report.findings[0].model_copy(update={"check_id": "AUD-99", "title": "A check from a newer tool"})
    report = report.model_copy(update={"findings": [*report.findings, extra]})
    view = build_view(report)
    assert view.rows[-1].finding.check_id == "AUD-99" and view.rows[-1].meta is None
    assert "AUD-99" in RENDERERS["html"]().render(report, RenderOptions())
