"""junit.xml: one test case per catalogue check, for CI dashboards.

fail and warn → <failure>; error and unknown → <error> (the check could not be decided);
not_applicable and manual → <skipped> with the reason; pass → a plain test case.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from assessor.engine.model import Report, Status
from assessor.report.interface import Renderer, RenderOptions
from assessor.report.view import ReportView, Row, build_view

# Characters XML 1.0 cannot carry at all.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value: str) -> str:
    return _INVALID_XML.sub("\ufffd", value)


def _details(row: Row) -> str:
    f = row.finding
    lines = [f.message]
    if f.evidence:
        lines.append("Evidence: " + json.dumps(f.evidence, ensure_ascii=False, sort_keys=True, default=str))
    if f.remediation:
        lines.append("Remediation: " + f.remediation)
    if f.fix:
        lines.append("To decide it: " + f.fix)
    if f.controls:
        lines.append("Controls: " + ", ".join(f.controls))
    return xml_text("\n".join(lines))


def _testcase(suite: ET.Element, row: Row, classname: str) -> tuple[str | None, ET.Element]:
    f = row.finding
    case = ET.SubElement(
        suite,
        "testcase",
        {"classname": classname + "." + f.area, "name": xml_text(f"{f.check_id} {f.title}"), "time": "0"},
    )
    kind: str | None = None
    if f.status in (Status.FAIL, Status.WARN):
        kind = "failure"
        el = ET.SubElement(case, "failure", {"message": xml_text(f.message), "type": f"{f.status.value}:{f.severity}"})
        el.text = _details(row)
    elif f.status in (Status.ERROR, Status.UNKNOWN):
        kind = "error"
        el = ET.SubElement(case, "error", {"message": xml_text(f.message), "type": f.status.value})
        el.text = _details(row)
    elif f.status in (Status.NOT_APPLICABLE, Status.MANUAL):
        kind = "skipped"
        ET.SubElement(case, "skipped", {"message": xml_text(f"{f.status.value}: {f.message}")})
    return kind, case


def build_junit(view: ReportView) -> ET.Element:
    report = view.report
    root = ET.Element("testsuites", {"name": "assessor"})
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": xml_text(f"{report.profile.id} · {view.tenant_name}"),
            "timestamp": report.generated_at.strftime("%Y-%m-%dT%H:%M:%S"),
            "hostname": xml_text(str(report.tenant.get("default_domain") or report.tenant.get("id") or "tenant")),
        },
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("profile", report.profile.id),
        ("profile_version", report.profile.version or ""),
        ("profile_text", report.profile.text or ""),
        ("profile_verified", "true" if report.profile.verified else "false"),
        ("privileged_definition", report.profile.privileged_definition or ""),
        ("tenant", view.tenant_name),
        ("verdict", view.verdict),
        ("assessment_date", report.assessment_date.isoformat()),
        ("tool_version", report.tool_version),
        ("evidence_sha256", report.evidence_sha256 or ""),
        ("evidence_integrity", report.evidence_integrity or ""),
    ):
        ET.SubElement(props, "property", {"name": name, "value": xml_text(value)})
    tally = {"failure": 0, "error": 0, "skipped": 0}
    for row in view.rows:
        kind, _ = _testcase(suite, row, "assessor." + report.profile.id)
        if kind:
            tally[kind] += 1
    counts = {
        "tests": str(len(view.rows)),
        "failures": str(tally["failure"]),
        "errors": str(tally["error"]),
        "skipped": str(tally["skipped"]),
        "time": "0",
    }
    suite.attrib.update(counts)
    root.attrib.update({k: v for k, v in counts.items() if k != "skipped"})
    return root


class JUnitRenderer(Renderer):
    name = "junit"
    filename = "junit.xml"

    def render(self, report: Report, options: RenderOptions) -> str:
        view = build_view(report, pseudonymized=options.pseudonymize_key is not None, prices=options.prices)
        root = build_junit(view)
        ET.indent(root, space="  ")
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
