"""The bundled sandbox tenant `woodgrove` exercises issue 13's rules end to end: collected through the
real SDK and Exchange admin client from the emulator, then assessed."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date, datetime, timezone
from typing import Any

import pytest

from assessor.collect import collect_sync
from assessor.engine.model import Report
from assessor.engine.registry import SECTIONS
from assessor.engine.runner import evaluate
from assessor.evidence import Evidence, evidence_to_dict
from assessor.pipeline import collect_options
from assessor.profiles import Profile, load_profile
from assessor.sandbox.server import SandboxServer
from tests.helpers.support import assess_doc

ON = date(2026, 11, 25)


def drop(doc: dict[str, Any], section: str) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    *parents, leaf = section.split(".")
    where = out
    for name in parents:
        where = where[name]
    where[leaf] = {"provenance": {"status": "not_collected", "reason": f"{section} dropped by the test"}}
    return out


STAMP = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(["woodgrove"]) as srv:
        yield srv


def collected(server: SandboxServer, **extra: object) -> Evidence:
    return collect_sync(collect_options(server, "woodgrove", **server.exchange_endpoints("woodgrove"), **extra))


def assess(evidence: Evidence, profile: str | Profile = "baseline") -> Report:
    prof = load_profile(profile) if isinstance(profile, str) else profile
    return evaluate(evidence, prof, on=ON, generated_at=STAMP)


def status(report: Report, check_id: str) -> str:
    return next(f.status.value for f in report.findings if f.check_id == check_id)


@pytest.fixture(scope="module")
def evidence(server: SandboxServer) -> Evidence:
    return collected(server)


@pytest.fixture(scope="module")
def report(evidence: Evidence) -> Report:
    return assess(evidence)


def test_population(report: Report) -> None:
    lic = report.licensing
    assert lic.users_in_scope == 65  # E5 10 + E3 25 + Business 18 + F3 12; not the Global Administrator
    assert lic.users_without_premium_audit == 55
    assert lic.basic_mailbox_skus == ["SPB", "SPE_F1"]
    assert report.audit.user_mailboxes == 65


def test_business_and_f3_mailboxes_have_no_mailitemsaccessed(report: Report) -> None:
    """Rule 1: their default lists, as Get-Mailbox reports them, lack MailItemsAccessed and Send."""
    assert report.audit.mailboxes_missing_mailitemsaccessed == 30
    assert status(report, "AUD-04") == "fail"
    evt = next(f for f in report.findings if f.check_id == "EVT-01")
    assert evt.status.value == "fail" and evt.message.startswith("30 of 65 user mailboxes do not audit")


def test_audit_enabled_false_cannot_pass_without_per_user_licences(report: Report) -> None:
    """Rule 2: 7 mailboxes have AuditEnabled False; whose users are E5 the summary evidence cannot say."""
    assert report.audit.mailboxes_audit_disabled == 7
    assert report.audit.mailboxes_audit_disabled_licence_unknown == 7
    assert report.events["MailItemsAccessed"].audited_mailboxes_unconfirmed == 7


def test_org_wide_short_policy_shortens_everyone(report: Report) -> None:
    """Rule 3: the 90-day policy governs Premium users (it has priority) and shortens the others."""
    ret = report.retention
    assert ret.workloads["Exchange"].effective_days_max == 365  # the counsel's capped ten-year policy
    assert ret.workloads["Exchange"].effective_days_min == 90
    # every in-scope user but the counsel, plus the unlicensed Global Administrator (rule 5)
    assert ret.workloads["Exchange"].users_short == 64 + 1
    # the counsel's other record types get the 180-day licence default (not ten years): meets 180, no more
    assert ret.workloads["Other"].effective_days_max == 180
    assert ret.workloads["Other"].users_short == 64 + 1
    assert status(report, "RET-01") == "fail"


def test_multi_year_without_addon_and_the_actor_rule(report: Report, evidence: Evidence) -> None:
    """Rules 4 and 5: the ten-year policy is capped; the admin without a mailbox is counted."""
    assert report.retention.ten_year_without_addon == ["Counsel ten years"]
    assert report.retention.privileged_outside_scope == 1
    assert "6 guests" in (report.retention.standard_default_actors or "")
    assert any("breakglass" in c for c in report.retention.workloads["Exchange"].causes)
    released = assess(evidence, "cisa-scuba-v1.8.0")  # 913 days required
    ret03 = next(f for f in released.findings if f.check_id == "RET-03")
    assert ret03.status.value == "fail" and "Counsel ten years" in ret03.message


def test_per_user_event_availability_with_user_detail(server: SandboxServer) -> None:
    """Rule 6: with per-user licences, 30 Business/F3 users lack the expanded events."""
    evidence = collected(server, users_mode="detail")
    assert evidence.users.data is not None and evidence.users.data.counts.in_scope_expanded == 35
    report = assess(evidence)
    assert report.licensing.users_without_expanded_events == 30
    assert report.events["MailItemsAccessed"].users_without_event_licence == 30


def test_summary_mode_counts_users_with_the_expanded_events(evidence: Evidence, report: Report) -> None:
    """Rule 6 in summary mode: one more `$count` in the same `$batch` (E5 level by the enabled Premium
    plan, E3/G3 level by SKU) gives the figure detail mode computes per user."""
    assert evidence.users.data is not None and evidence.users.data.mode == "summary"
    assert evidence.users.data.counts.in_scope_expanded == 35
    assert report.licensing.users_without_expanded_events == 30
    assert report.events["MailItemsAccessed"].users_without_event_licence == 30


def test_detail_mode_splits_mailbox_groups_by_the_users_licence(server: SandboxServer) -> None:
    """Rule 1 in the collector: each mailbox is joined to its user by ExternalDirectoryObjectId, and the
    groups of identical settings are split per licence level, so AuditEnabled False is judged per user."""
    roles = tuple(r.template_id for r in load_profile("baseline").privileged_roles)
    evidence = collected(server, users_mode="detail", privileged_roles=roles)
    mbx = evidence.exchange.mailboxes.data
    assert mbx is not None and mbx.privileged_roles == sorted(r.lower() for r in roles)
    groups = sorted((c.licence, c.audit_enabled, c.count, c.privileged) for c in mbx.configurations)
    assert groups == [
        ("basic", True, 30, 0),  # Business and F3: no documented default with MailItemsAccessed
        ("expanded", False, 5, 1),  # E3, AuditEnabled False: records not searchable; one is an admin's
        ("expanded", True, 20, 0),
        ("premium", False, 2, 1),  # E5, AuditEnabled False: searchable anyway
        ("premium", True, 8, 0),
    ]
    report = assess(evidence)
    assert report.audit.mailboxes_not_searchable == 5 and report.audit.mailboxes_audit_disabled_licence_unknown == 0
    assert report.audit.mailboxes_missing_mailitemsaccessed == 35  # 30 basic + 5 E3 not searchable
    watched = next(e for e in report.readiness.elements if e.id == "mailitemsaccessed_privileged")
    assert watched.status == "fail" and "1 privileged" in watched.detail  # decided without the probe


def test_summary_mode_keeps_groups_whole_and_the_privileged_element_unsure(report: Report, evidence: Evidence) -> None:
    """Less evidence, less sure: without per-user licences the 7 AuditEnabled False mailboxes (two of them
    admins') stay one group with no licence level, and the readiness element is unknown, not a fail.
    (Collected here for every role: the Global Reader's mailbox counts among the privileged ones.)"""
    mbx = evidence.exchange.mailboxes.data
    assert mbx is not None and all(c.licence is None for c in mbx.configurations)
    assert sorted((c.audit_enabled, c.count, c.privileged) for c in mbx.configurations) == [
        (False, 7, 2),
        (True, 28, 1),
        (True, 30, 0),
    ]
    watched = next(e for e in report.readiness.elements if e.id == "mailitemsaccessed_privileged")
    assert watched.status == "unknown"


ENTRA = {"extends": "baseline", "id": "baseline-entra", "privileged_source": "entra-isprivileged"}


def _entra_profile(tmp_path: Any) -> Any:
    import yaml

    path = tmp_path / "baseline-entra.yaml"
    path.write_text(yaml.safe_dump(ENTRA), encoding="utf-8")
    return load_profile(str(path))


def test_entra_privileged_flag_as_a_profile_option(evidence: Evidence, report: Report, tmp_path: Any) -> None:
    """Rule 8's option: role definitions read from Graph beta with isPrivileged. The baseline list counts
    the Exchange Administrator (not flagged by Entra), the flag counts the Global Reader (not listed)."""
    assert evidence.role_definitions is not None and evidence.role_definitions.data is not None
    assert report.licensing.privileged_users == 3  # 2 Global Administrators, 1 Exchange Administrator
    pd = report.privileged_definition
    assert pd is not None and pd.used == "roles" and pd.entra_flagged is not None
    assert pd.listed_not_flagged == ["Compliance Administrator", "Exchange Administrator"]
    assert "Global Reader" in (pd.flagged_not_listed or [])
    entra = assess(evidence, _entra_profile(tmp_path))
    assert entra.licensing.privileged_users == 3  # 2 Global Administrators, 1 Global Reader
    assert entra.profile.privileged_definition and "isPrivileged" in entra.profile.privileged_definition
    assert entra.privileged_definition is not None and entra.privileged_definition.used == "entra-isprivileged"


def test_entra_flag_unavailable_is_unknown_never_a_pass(evidence: Evidence, tmp_path: Any) -> None:
    """Without the role definitions (or with a definition lacking the flag) the option's figures are
    unknown: LIC-03 and the privileged figures say so instead of counting from a guessed list."""
    profile = _entra_profile(tmp_path)
    doc = evidence_to_dict(evidence)
    doc["meta"].pop("sha256", None)
    doc["role_definitions"] = {"provenance": {"status": "not_collected", "reason": "beta refused in this test"}}
    report = assess_doc(doc, profile)
    assert report.licensing.privileged_users is None
    lic03 = next(f for f in report.findings if f.check_id == "LIC-03")
    assert lic03.status.value == "unknown"
    unflagged = evidence_to_dict(evidence)
    unflagged["meta"].pop("sha256", None)
    unflagged["role_definitions"]["data"]["definitions"][0].pop("is_privileged")
    assert assess_doc(unflagged, profile).licensing.privileged_users is None
    assert assess_doc(unflagged, "baseline").licensing.privileged_users == 3  # the list needs no flag


def test_holders_read_for_fewer_roles_than_the_profile_are_not_used(server: SandboxServer) -> None:
    """Evidence collected for two roles and assessed with the baseline's eleven: the holders of the other
    nine were never read, so the privileged figures are unknown rather than counted short."""
    two = ("62e90394-69f5-4237-9190-012177145e10", "29232cdf-9323-42fd-ade2-1d097af3e4de")
    report = assess(collected(server, privileged_roles=two))
    assert report.licensing.privileged_users is None


@pytest.mark.parametrize("profile", ["baseline", "cisa-scuba-v1.8.0", "cisa-aa23-193a"])
def test_dropping_a_section_never_turns_a_gap_into_a_pass(evidence: Evidence, profile: str) -> None:
    """Rule 13 on the sandbox tenant's collected evidence (the examples are covered in tests/engine)."""
    doc = evidence_to_dict(evidence)
    doc["meta"].pop("sha256", None)
    full = {f.check_id: f.status.value for f in assess_doc(doc, profile).findings}
    for section in SECTIONS:
        less = {f.check_id: f.status.value for f in assess_doc(drop(doc, section), profile).findings}
        wrong = [cid for cid in full if full[cid] in ("fail", "warn") and less[cid] == "pass"]
        assert not wrong, f"{wrong} pass without {section}"
