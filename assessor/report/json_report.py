"""report.json: the assessor.report/1 contract, for automation."""

from __future__ import annotations

from assessor.engine.model import Report
from assessor.fileio import dumps_pretty
from assessor.report.interface import Renderer, RenderOptions


class JsonRenderer(Renderer):
    name = "json"
    filename = "report.json"

    def render(self, report: Report, options: RenderOptions) -> str:
        return dumps_pretty(report.to_json_dict()) + "\n"
