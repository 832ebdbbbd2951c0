"""The evidence loader: valid documents load, anything else is an EvidenceError naming the field."""

from __future__ import annotations

import contextlib
import copy
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessor.errors import EvidenceError
from assessor.evidence import (
    dumps_pretty,
    evidence_to_dict,
    integrity,
    load_evidence,
    parse_evidence,
    save_evidence,
    seal,
    sealed_document,
    verify_seal,
)
from tests.helpers.support import evidence_examples, example


@pytest.mark.parametrize("path", evidence_examples(), ids=lambda p: p.name)
def test_examples_load_and_are_sealed(path: Path) -> None:
    load_evidence(path)
    ok, message = verify_seal(json.loads(path.read_text()))
    assert ok, message


def test_wrong_schema_version(mixed: dict[str, Any]) -> None:
    mixed["schema"] = "assessor.evidence/2"
    with pytest.raises(EvidenceError, match=r"schema: expected 'assessor\.evidence/1'"):
        parse_evidence(mixed)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["tenant"].pop("id"), "tenant.id"),
        (lambda d: d["skus"]["data"][0].update(capability_status="Bogus"), "skus.data[0].capability_status"),
        (lambda d: d["users"]["data"]["counts"].update(in_scope=-1), "users.data.counts.in_scope"),
        (lambda d: d["exchange"]["bypass"]["provenance"].update(status="maybe"), "exchange.bypass.provenance.status"),
        (
            lambda d: d["exchange"]["retention_policies"]["data"]["policies"][0].update(priority=0),
            "exchange.retention_policies.data.policies[0].priority",
        ),
        (lambda d: d.update(unexpected=1), "unexpected"),
    ],
)
def test_error_names_the_field(mixed: dict[str, Any], mutate: Any, field: str) -> None:
    mutate(mixed)
    with pytest.raises(EvidenceError) as err:
        parse_evidence(mixed, origin="x.json")
    assert str(err.value).startswith(f"x.json: {field}")


def test_inconsistent_documents_are_rejected(mixed: dict[str, Any]) -> None:
    bad = copy.deepcopy(mixed)
    bad["users"]["data"]["counts"]["in_scope_premium"] = 999  # premium > in-scope
    with pytest.raises(EvidenceError, match="inconsistent"):
        parse_evidence(bad)
    bad = copy.deepcopy(mixed)
    bad["exchange"]["mailboxes"]["data"]["total_user_mailboxes"] = 1
    with pytest.raises(EvidenceError, match="add up"):
        parse_evidence(bad)
    bad = copy.deepcopy(mixed)
    bad["exchange"]["bypass"] = {
        "provenance": {"status": "not_collected", "reason": "x"},
        "data": {"total_associations": 1},
    }
    with pytest.raises(EvidenceError, match="must not carry data"):
        parse_evidence(bad)
    bad = copy.deepcopy(mixed)
    pol = bad["exchange"]["retention_policies"]["data"]["policies"]
    pol[1]["priority"] = pol[0]["priority"]
    with pytest.raises(EvidenceError, match="share priority"):
        parse_evidence(bad)


def test_file_level_errors(tmp_path: Path) -> None:
    for content, expected in [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00", "UTF-8"),
        (b"[]", "JSON object"),
        (b"[" * 100000, "nested too deeply|not valid JSON"),
    ]:
        p = tmp_path / "e.json"
        p.write_bytes(content)
        with pytest.raises(EvidenceError, match=expected):
            load_evidence(p)
    with pytest.raises(EvidenceError, match="cannot read"):
        load_evidence(tmp_path / "missing.json")


def test_seal_detects_tampering(tmp_path: Path) -> None:
    doc = parse_evidence(example("e3-standard-ingestion-off"))
    path = tmp_path / "e.json"
    save_evidence(doc, path)
    raw = json.loads(path.read_text())
    assert verify_seal(raw)[0]
    raw["exchange"]["admin_audit_log_config"]["data"]["unified_audit_log_ingestion_enabled"] = True
    ok, message = verify_seal(raw)
    assert not ok and "altered" in message


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_arbitrary_json_is_evidence_error(value: Any) -> None:
    with pytest.raises(EvidenceError):
        parse_evidence(value)


SECTION_PATHS = [
    ("tenant",),
    ("skus",),
    ("users", "data", "counts"),
    ("privileged", "data"),
    ("exchange", "mailboxes", "data"),
    ("exchange", "retention_policies", "data", "policies"),
    ("audit_probe",),
    ("meta",),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SECTION_PATHS), json_values)
def test_mutated_example_never_raises_anything_but_evidence_error(path: tuple[str, ...], value: Any) -> None:
    doc = example("mixed-e5-e3-priority-trap")
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with contextlib.suppress(EvidenceError):
        parse_evidence(doc)


@pytest.mark.parametrize("path", evidence_examples(), ids=lambda p: p.name)
def test_sealed_document_is_the_dump_of_the_sealed_evidence(path: Path) -> None:
    """The document the seal makes in passing is written as is: byte for byte (key order included)
    what dumping the sealed evidence gives, and its recorded digest verifies."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["meta"]["sha256"] = None
    unsealed = parse_evidence(raw)
    sealed, proof = sealed_document(unsealed)
    assert dumps_pretty(proof.document) == dumps_pretty(evidence_to_dict(sealed))
    assert sealed == seal(unsealed) and proof.digest == sealed.meta.sha256
    assert verify_seal(json.loads(dumps_pretty(proof.document)))[0]


@pytest.mark.parametrize("path", evidence_examples()[:2], ids=lambda p: p.name)
def test_integrity_against_the_sealed_document(path: Path) -> None:
    """Given what sealing made, the check still serialises the evidence: exactly the sealed content
    is intact with the recorded digest; anything else is digested afresh, as without the proof."""
    sealed, proof = sealed_document(load_evidence(path))
    assert integrity(sealed, proof) == integrity(sealed) == (sealed.meta.sha256, "intact")

    changed = sealed.model_copy(update={"tenant": sealed.tenant.model_copy(update={"id": "someone-else"})})
    digest, state = integrity(changed, proof)
    assert state == "altered" and (digest, state) == integrity(changed)

    # another recorded seal is not vouched for by this proof
    reseal = sealed.model_copy(update={"meta": sealed.meta.model_copy(update={"sha256": "0" * 64})})
    assert integrity(reseal, proof) == integrity(reseal) and integrity(reseal, proof)[1] == "altered"
    unsealed = sealed.model_copy(update={"meta": sealed.meta.model_copy(update={"sha256": None})})
    assert integrity(unsealed, proof)[1] == "unsealed"


def test_integrity_proof_is_exact_about_types() -> None:
    """A nested list is mutable inside the frozen models: a count replaced after sealing by a float of
    the same value compares equal as a dict but encodes differently — it must read altered."""
    sealed, proof = sealed_document(parse_evidence(example("e3-standard-ingestion-off")))
    assert sealed.skus.data
    skus = sealed.skus.data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydantic warns when serialising the float where an int belongs
        skus[0] = skus[0].model_copy(update={"consumed_units": float(skus[0].consumed_units)})
        assert integrity(sealed, proof) == integrity(sealed)
        assert integrity(sealed, proof)[1] == "altered"
