"""Less evidence may make a verdict less sure, never different: dropping any one evidence section
must never turn a check's fail (or warn) into a pass, for any bundled example and profile."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from assessor.engine.registry import SECTIONS
from assessor.profiles import Profile, builtin_profile_ids, load_profile
from tests.helpers.support import assess_doc, evidence_examples, example, not_collected

EXAMPLES = [p.stem for p in evidence_examples()]
GAPS = {"fail", "warn"}
# the checks' own sections, and the optional ones reports and the privileged definition read
DROPPABLE = (*SECTIONS, "role_definitions", "applications", "vip")
ENTRA_FLAG = "baseline, privileged by Entra's isPrivileged"


@pytest.fixture(scope="module")
def entra_profile(tmp_path_factory: pytest.TempPathFactory) -> Profile:
    """The baseline with rule 8's option: privileged users are the holders of roles Entra flags."""
    path = tmp_path_factory.mktemp("profiles") / "baseline-entra.yaml"
    raw = {"extends": "baseline", "id": "baseline-entra", "privileged_source": "entra-isprivileged"}
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return load_profile(str(path))


def _drop(doc: dict[str, Any], section: str) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    where = out
    *parents, leaf = section.split(".")
    for name in parents:
        where = where[name]
    # the VIP list is a plain list, not a section: without --vip it is absent
    where[leaf] = None if section == "vip" else not_collected(f"{section} dropped by the test")
    return out


def _statuses(doc: dict[str, Any], profile: str | Profile) -> dict[str, str]:
    return {f.check_id: f.status.value for f in assess_doc(doc, profile).findings}


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("profile", [*builtin_profile_ids(), ENTRA_FLAG])
def test_dropping_a_section_never_turns_a_gap_into_a_pass(name: str, profile: str, entra_profile: Profile) -> None:
    doc = example(name)
    chosen = entra_profile if profile == ENTRA_FLAG else profile
    full = _statuses(doc, chosen)
    wrong = []
    for section in DROPPABLE:
        less = _statuses(_drop(doc, section), chosen)
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
