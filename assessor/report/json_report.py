"""report.json: the assessor.report/1 contract, for automation."""

from __future__ import annotations

import json

from assessor.engine.model import Report
from assessor.report.interface import Renderer, RenderOptions


class JsonRenderer(Renderer):
    name = "json"
    filename = "report.json"

    def render(self, report: Report, options: RenderOptions) -> str:
        return json.dumps(report.to_json_dict(), indent=2, ensure_ascii=False) + "\n"
