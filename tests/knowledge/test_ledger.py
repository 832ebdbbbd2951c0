"""The assumption ledger: every knowledge entry is sourced, dated and rated; every verdict names what it assumes."""

from __future__ import annotations

from click.testing import CliRunner

from assessor.cli import cli
from assessor.engine.registry import catalogue_ids
from assessor.knowledge import load_knowledge
from assessor.profiles import builtin_profile_ids, load_profile
from tests.helpers.support import assess_doc, example


def test_every_knowledge_entry_has_source_date_and_confidence() -> None:
    kb = load_knowledge()
    entries = kb.ledger()
    assert len(entries) > 20
    for e in entries:
        assert e.source and e.from_ is not None and e.confidence is not None, e.name


def test_every_assumption_names_existing_checks() -> None:
    kb = load_knowledge()
    ids = [a.id for a in kb.assumptions]
    assert len(ids) == len(set(ids))
    for a in kb.assumptions:
        assert a.checks and set(a.checks) <= catalogue_ids(), a.id


def test_findings_list_their_assumptions_and_the_report_lists_the_ledger() -> None:
    report = assess_doc(example("mixed-e5-e3-priority-trap"), "baseline")
    ret = next(f for f in report.findings if f.check_id == "RET-01")
    assert "RET-SHORTER-POLICY" in ret.assumptions and "RET-ACTOR" in ret.assumptions
    listed = {a.id: a for a in report.assumptions}
    assert "RET-SHORTER-POLICY" in listed and "RET-01" in listed["RET-SHORTER-POLICY"].checks
    assert listed["RET-SHORTER-POLICY"].confidence == "unverified"
    # a check the profile does not select rests on nothing
    na = [f for f in report.findings if f.status.value == "not_applicable"]
    assert na and all(not f.assumptions for f in na)
    doc = report.to_json_dict()
    assert set(doc["assumptions"][0]) == {"id", "statement", "source", "holds_from", "confidence", "checks"}


def test_profiles_name_the_text_they_encode() -> None:
    for pid in builtin_profile_ids():
        p = load_profile(pid)
        assert p.version and p.text, pid
        assert all(r.reason for r in p.privileged_roles), pid
    assert load_profile("omb-m-26-14").verified is False
    aa23 = load_profile("cisa-aa23-193a")  # the advisory's own text was not at hand: secondary quotations
    assert aa23.verified is False and "secondary" in aa23.text and "MailItemsAccessed" in aa23.text
    scuba = load_profile("cisa-scuba")
    mapped = {cid for cid, s in scuba.checks.items() if "MS.EXO.13.1v1" in s.controls}
    assert mapped == {"AUD-02"}  # MS.EXO.13.1 decides AuditDisabled only
    released = load_profile("cisa-scuba-v1.8.0")
    assert released.retention.searchable_days == 365 and released.retention.retrievable_days == 913


def test_knowledge_command_prints_the_ledger() -> None:
    out = CliRunner().invoke(cli, ["knowledge"])
    assert out.exit_code == 0
    assert "RET-SHORTER-POLICY" in out.output and "unverified" in out.output and "default_retention" in out.output
