"""Renderers: pick by format name. Templated formats (HTML, Markdown) and serializers (JSON, …)."""

from __future__ import annotations

from assessor.report.csv_report import CsvRenderer
from assessor.report.html import HtmlRenderer
from assessor.report.interface import Renderer, RenderOptions
from assessor.report.json_report import JsonRenderer
from assessor.report.junit import JUnitRenderer
from assessor.report.markdown import MarkdownRenderer
from assessor.report.sarif import SarifRenderer

RENDERERS: dict[str, type[Renderer]] = {
    "html": HtmlRenderer,
    "md": MarkdownRenderer,
    "json": JsonRenderer,
    "csv": CsvRenderer,
    "sarif": SarifRenderer,
    "junit": JUnitRenderer,
}

__all__ = ["RENDERERS", "RenderOptions", "Renderer"]
