"""Renderers: pick by format name. Templated formats (HTML, Markdown) and serializers (JSON, …)."""

from __future__ import annotations

from assessor.report.interface import Renderer, RenderOptions
from assessor.report.json_report import JsonRenderer

RENDERERS: dict[str, type[Renderer]] = {"json": JsonRenderer}

__all__ = ["RENDERERS", "RenderOptions", "Renderer"]
