"""report.json: the assessor.report/1 contract, for automation."""

from __future__ import annotations

from assessor.engine.model import Report
from assessor.report.interface import Renderer, RenderOptions


class JsonRenderer(Renderer):
    name = "json"
    filename = "report.json"

    def render(self, report: Report, options: RenderOptions) -> str:
        # The report's JSON document (``to_json_dict``) written as ``json.dumps(indent=2,
        # ensure_ascii=False)`` would write it, serialised in one pass by pydantic-core
        # (no intermediate dict): the bulk scan writes one per tenant.
        return report.model_dump_json(indent=2, by_alias=True) + "\n"
