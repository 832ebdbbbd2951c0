"""Helpers shared by tests: example evidence, assessing it, finding a check's result."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from assessor.collect.interface import Collected, NotCollected, section_of
from assessor.engine.model import Report
from assessor.engine.runner import evaluate
from assessor.evidence import ExchangeEvidence, parse_evidence
from assessor.profiles import Profile, load_profile

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ON = date(2026, 11, 25)
STAMP = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def exchange_document(outcomes: Mapping[str, Collected[Any] | NotCollected]) -> dict[str, Any]:
    """A source's Exchange outcomes as the evidence's ``exchange`` part (Section documents by name)."""
    return {name: section_of(outcome) for name, outcome in outcomes.items()}


def exchange_evidence_of(outcomes: Mapping[str, Collected[Any] | NotCollected]) -> ExchangeEvidence:
    """The five Exchange outcomes as the evidence's validated ``ExchangeEvidence``."""
    return ExchangeEvidence.model_validate(exchange_document(outcomes))


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


def fresh_python(code: str, *args: str, hash_seed: str, timeout: float = 300) -> str:
    """Run ``code`` in a new interpreter and return what it printed.

    ``PYTHONHASHSEED=hash_seed`` makes hash-dependent set and dict orders differ from this
    process's, so a determinism check compares two processes, not one process with itself. The
    repository root is importable there (``tests.helpers…`` works)."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout
