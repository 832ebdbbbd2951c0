"""findings.csv: one row per catalogue check, for spreadsheets and ticket imports.

Spreadsheet formula injection is neutralised: a cell whose text starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return (also after leading spaces) is prefixed with a single quote, so
a UPN or tenant name such as ``=HYPERLINK("http://x","y")`` is shown as text, never evaluated.

Detail mode's per-user gap list is not a row of this file: the report model carries no per-user
rows. It is streamed to ``user-gaps.csv`` (beside this file) by the users collector while users
are enumerated (``assessor assess --users detail --format csv``), with the same neutralisation.
"""

from __future__ import annotations

import csv
import io
import json

from assessor.csvsafe import neutralise
from assessor.engine.model import Report
from assessor.report.interface import Renderer, RenderOptions
from assessor.report.view import build_view

COLUMNS = (
    "tenant",
    "profile",
    "assessment_date",
    "check_id",
    "title",
    "area",
    "status",
    "severity",
    "message",
    "evidence",
    "remediation",
    "fix",
    "controls",
    "references",
    "in_catalogue",
    "result_missing",
    "profile_version",
    "assumptions",
)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


class CsvRenderer(Renderer):
    name = "csv"
    filename = "findings.csv"

    def render(self, report: Report, options: RenderOptions) -> str:
        view = build_view(report, pseudonymized=options.pseudonymize_key is not None, prices=options.prices)
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(COLUMNS)
        for row in view.rows:
            f = row.finding
            values = (
                view.tenant_name,
                report.profile.id,
                report.assessment_date.isoformat(),
                f.check_id,
                f.title,
                f.area,
                f.status.value,
                f.severity,
                f.message,
                f.evidence,
                f.remediation,
                f.fix,
                "; ".join(f.controls),
                "; ".join(f.references),
                row.meta is not None,
                row.missing,
                report.profile.version,
                "; ".join(f.assumptions),
            )
            writer.writerow([neutralise(_cell(x)) for x in values])
        return buf.getvalue()
