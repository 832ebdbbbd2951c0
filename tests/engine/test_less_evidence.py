"""Less evidence may make a verdict less sure, never different: dropping any one evidence section
must never turn a check's fail (or warn) into a pass, for any bundled example and profile."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from assessor.engine.registry import SECTIONS
from assessor.profiles import builtin_profile_ids
from tests.helpers.support import assess_doc, evidence_examples, example, not_collected

EXAMPLES = [p.stem for p in evidence_examples()]
GAPS = {"fail", "warn"}


def _drop(doc: dict[str, Any], section: str) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    where = out
    *parents, leaf = section.split(".")
    for name in parents:
        where = where[name]
    where[leaf] = not_collected(f"{section} dropped by the test")
    return out


def _statuses(doc: dict[str, Any], profile: str) -> dict[str, str]:
    return {f.check_id: f.status.value for f in assess_doc(doc, profile).findings}


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("profile", builtin_profile_ids())
def test_dropping_a_section_never_turns_a_gap_into_a_pass(name: str, profile: str) -> None:
    doc = example(name)
    full = _statuses(doc, profile)
    wrong = []
    for section in SECTIONS:
        less = _statuses(_drop(doc, section), profile)
        wrong += [
            f"{cid}: {full[cid]} -> pass without {section}" for cid in full if full[cid] in GAPS and less[cid] == "pass"
        ]
    assert not wrong, "; ".join(wrong)


def _with_probe(doc: dict[str, Any]) -> dict[str, Any]:
    """The example as if the event probe had found every event for a few accounts."""
    out = copy.deepcopy(doc)
    ops = ["MailItemsAccessed", "Send", "SearchQueryInitiatedExchange", "SearchQueryInitiatedSharePoint"]
    out["audit_probe"] = {
        "provenance": {"status": "collected", "source": "test probe"},
        "data": {
            "window_start": "2026-11-18T00:00:00Z",
            "window_end": "2026-11-25T00:00:00Z",
            "total_records": 40 * len(ops),
            "queries": [{"id": f"q{i}", "status": "succeeded", "operations": [op]} for i, op in enumerate(ops)],
            "operations": {
                op: {
                    "records": 40,
                    "distinct_users": 4,
                    "first_seen": "2026-11-18T01:00:00Z",
                    "last_seen": "2026-11-24T23:00:00Z",
                }
                for op in ops
            },
        },
    }
    return out


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("profile", ["baseline", "cisa-aa23-193a"])
def test_probe_records_never_stand_in_for_missing_settings(name: str, profile: str) -> None:
    doc = _with_probe(example(name))
    full = _statuses(doc, profile)
    wrong = []
    for section in SECTIONS:
        if section == "audit_probe":
            continue
        less = _statuses(_drop(doc, section), profile)
        wrong += [
            f"{cid}: {full[cid]} -> pass without {section}" for cid in full if full[cid] in GAPS and less[cid] == "pass"
        ]
    assert not wrong, "; ".join(wrong)


def test_the_examples_have_gaps_to_lose() -> None:
    """The property above tests something only where fails exist (examples of settings and probe gaps)."""
    for name in ("mixed-e5-e3-priority-trap", "e3-standard-ingestion-off"):
        assert "fail" in _statuses(example(name), "baseline").values()
    assert _statuses(_with_probe(example("mixed-e5-e3-priority-trap")), "baseline")["EVT-01"] == "fail"
