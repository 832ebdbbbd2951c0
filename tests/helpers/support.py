"""Helpers shared by tests: example evidence, assessing it, finding a check's result."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from assessor.engine.model import Report
from assessor.engine.runner import evaluate
from assessor.evidence import parse_evidence
from assessor.profiles import Profile, load_profile

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ON = date(2026, 11, 25)
STAMP = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def evidence_examples() -> list[Path]:
    """The example evidence files (examples/ also holds manifests and schemas)."""
    return sorted(p for p in EXAMPLES.glob("*.json") if '"assessor.evidence/1"' in p.read_text(encoding="utf-8")[:200])


def example(name: str) -> dict[str, Any]:
    doc = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    doc["meta"].pop("sha256", None)
    return doc


def assess_doc(doc: dict[str, Any], profile: str | Profile = "baseline", on: date = ON) -> Report:
    prof = load_profile(profile) if isinstance(profile, str) else profile
    return evaluate(parse_evidence(copy.deepcopy(doc)), prof, on=on, generated_at=STAMP)


def finding(report: Report, check_id: str) -> Any:
    return next(f for f in report.findings if f.check_id == check_id)


def not_collected(reason: str = "denied in test", fix: str = "Some.Permission") -> dict[str, Any]:
    return {"provenance": {"status": "not_collected", "reason": reason, "fix": fix}}
