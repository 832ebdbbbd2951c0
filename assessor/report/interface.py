"""The renderer interface: an assessment in, one output file (or terminal text) out.

Renderers only present: they never decide a status. Each lives in its own module and is picked
by name from :data:`assessor.report.RENDERERS` by the CLI.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from assessor.engine.model import Report
from assessor.report.prices import PriceList


class RenderError(Exception):
    """A renderer could not produce its output."""


@dataclass(frozen=True)
class RenderOptions:
    """What a renderer may need beyond the report itself."""

    pseudonymize_key: bytes | None = None
    prices: PriceList | None = None
    user_gap_file: Path | None = None
    extra: dict[str, object] = field(default_factory=dict)


class Renderer(ABC):
    #: format name used on the command line (--format)
    name: str
    #: file name written into --output DIR
    filename: str

    @abstractmethod
    def render(self, report: Report, options: RenderOptions) -> str:
        """Return the whole file content as text."""
