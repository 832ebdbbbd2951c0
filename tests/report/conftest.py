"""Fixtures of the report tests: deterministic reports from the example evidence, golden files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from assessor.engine.model import Report
from tests.helpers.support import assess_doc, example

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
GOLDEN_VERSION = "0.0.0-golden"  # pinned so a version bump does not churn the golden files


def deterministic(report: Report) -> Report:
    return report.model_copy(update={"tool_version": GOLDEN_VERSION})


@pytest.fixture
def report_for() -> Callable[[str, str], Report]:
    def make(evidence: str, profile: str) -> Report:
        return deterministic(assess_doc(example(evidence), profile))

    return make


def check_golden(name: str, text: str) -> None:
    """Compare with tests/report/golden/<name>; UPDATE_GOLDEN=1 rewrites the file instead."""
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
        return
    assert path.exists(), f"golden file {path.name} missing: run UPDATE_GOLDEN=1 pytest tests/report"
    expected = path.read_bytes().decode("utf-8")  # no newline translation: CSV uses CRLF
    assert text == expected, f"{path.name} differs from the golden file; if intended, re-run with UPDATE_GOLDEN=1"


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    return check_golden
