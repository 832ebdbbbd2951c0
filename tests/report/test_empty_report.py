"""A report whose figures are all null and which has no findings still renders every format completely."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import date, datetime, timezone
from pathlib import Path

import jsonschema
import pytest

from assessor.engine.model import (
    AuditFigures,
    LicensingFigures,
    ProfileRef,
    Report,
    RequiredRetention,
    RetentionFigures,
    WorkloadRetention,
)
from assessor.engine.registry import load_catalogue
from assessor.report import RENDERERS, RenderOptions
from assessor.report.pseudonymize import pseudonymize_report

# OASIS SARIF 2.1.0 (errata01) JSON schema, as published by the standard
SCHEMA = json.loads((Path(__file__).parent / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


@pytest.fixture
def empty() -> Report:
    return Report(
        tenant={"id": None, "name": None, "cloud": "global"},
        profile=ProfileRef(id="baseline", name="Microsoft baseline", framework="test", as_of="2026-11"),
        generated_at=datetime(2026, 11, 25, 12, tzinfo=timezone.utc),
        assessment_date=date(2026, 11, 25),
        tool_version="0.0.0",
        verdict="pass",
        summary={},
        findings=[],
        licensing=LicensingFigures(error="KeyError: 'skus'"),
        retention=RetentionFigures(
            required=RequiredRetention(searchable_days=180, retrievable_days=180),
            workloads={"Exchange": WorkloadRetention()},
            unavailable="not collected",
        ),
        audit=AuditFigures(),
        events={},
        collection=[],
    )


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_every_format_renders_an_empty_report(fmt: str, empty: Report) -> None:
    text = RENDERERS[fmt]().render(empty, RenderOptions())
    assert text.strip()
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [r["status"] for r in rows] == ["error"] * len(load_catalogue())
    if fmt == "sarif":
        jsonschema.validate(json.loads(text), SCHEMA)
    if fmt == "junit":
        assert len(list(ET.fromstring(text).iter("error"))) == len(load_catalogue())
    if fmt == "html":
        assert "INCOMPLETE" in text  # every check is missing, so nothing can be called a pass


def test_pseudonymising_an_empty_report_is_harmless(empty: Report) -> None:
    assert pseudonymize_report(empty, b"k") == empty
