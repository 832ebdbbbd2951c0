"""collect_exchange against the sandbox: exact figures, denied APIs, missing tokens, unsupported cloud."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from assessor.collect.auth import StaticTokenCredential
from assessor.collect.clouds import cloud_endpoints
from assessor.collect.exchange import COMPLIANCE_FIX, EXCHANGE_FIX, SECTIONS, ExchangePlan, collect_exchange
from assessor.collect.exchange.collector import ExchangeOutcome
from assessor.collect.interface import Collected, NotCollected
from assessor.evidence import MailboxAudit
from assessor.sandbox.server import SandboxServer
from assessor.sandbox.spec import load_spec
from tests.helpers.support import assess_doc, example, exchange_document, exchange_evidence_of, finding

MIA = "MailItemsAccessed"


def spec_exchange(name: str) -> dict[str, Any]:
    return dict(load_spec(name).extensions["exchange"])


def expected_missing_mia(name: str) -> int:
    """Mailboxes with a customised logon type whose list lacks MailItemsAccessed, straight from the YAML."""
    total = 0
    for group in spec_exchange(name).get("customised", []):
        lists = [group.get(k) for k in ("audit_owner", "audit_delegate", "audit_admin")]
        if any(actions is not None and MIA not in actions for actions in lists):
            total += group["count"]
    return total


def collect(server: SandboxServer, make_plan: Any, tenant: str, tokens: Any, **kw: Any) -> dict[str, ExchangeOutcome]:
    return asyncio.run(collect_exchange(tokens, make_plan(server, tenant, **kw))).sections


def with_exchange(sections: dict[str, ExchangeOutcome]) -> dict[str, Any]:
    doc = copy.deepcopy(example("mixed-e5-e3-priority-trap"))
    doc["exchange"] = exchange_document(sections)
    return doc


def not_collected(outcome: ExchangeOutcome) -> NotCollected:
    assert isinstance(outcome, NotCollected), outcome
    return outcome


def test_contoso_sections_are_exact_against_the_spec(server: SandboxServer, make_plan: Any, tokens: Any) -> None:
    sections = collect(server, make_plan, "contoso", tokens, page_size=25)
    assert all(isinstance(sections[n], Collected) for n in SECTIONS)
    ex = exchange_evidence_of(sections)
    spec = spec_exchange("contoso")
    assert all(s.provenance.status == "collected" for s in (getattr(ex, n) for n in SECTIONS))
    assert ex.admin_audit_log_config.data.unified_audit_log_ingestion_enabled is True
    assert ex.organization_config.data.audit_disabled is False
    assert [b.identity for b in ex.bypass.data.bypassed] == sorted(spec["bypass"])
    assert ex.bypass.data.total_associations == 197 + len(spec["bypass"])
    mbx = ex.mailboxes.data
    assert mbx.total_user_mailboxes == 197  # in-scope users; shared mailboxes are not user mailboxes
    assert len(mbx.configurations) == 1 + len(spec["customised"])
    legacy = next(c for c in mbx.configurations if c.default_audit_set == ["Delegate", "Admin"])
    assert legacy.count == 12 and MIA not in legacy.audit_owner and len(legacy.sample) == 3
    names = [(p.priority, p.name, p.retention_duration) for p in ex.retention_policies.data.policies]
    assert names == [(1, "Mailbox noise 7 days", "SevenDays"), (2, "Exchange one year", "TwelveMonths")]

    report = assess_doc(with_exchange(sections))
    assert report.audit.mailboxes_missing_mailitemsaccessed == expected_missing_mia("contoso") == 12
    assert report.audit.bypass_mailboxes == 2 and report.audit.user_mailboxes == 197
    assert finding(report, "AUD-03").status == "fail" and "svc-backup@contoso.com" in finding(report, "AUD-03").message
    assert finding(report, "AUD-04").status == "fail"
    ret = finding(report, "RET-01")
    assert ret.status == "fail" and "Mailbox noise 7 days" in ret.message


def test_detail_mode_keeps_every_deviating_mailbox(server: SandboxServer, make_plan: Any, tokens: Any) -> None:
    sections = collect(server, make_plan, "contoso", tokens, detail=True)
    outcome = sections["mailboxes"]
    assert isinstance(outcome, Collected) and isinstance(outcome.data, MailboxAudit)
    configs = outcome.data.configurations
    legacy = next(c for c in configs if c.default_audit_set == ["Delegate", "Admin"])
    default = next(c for c in configs if len(c.default_audit_set) == 3)
    assert len(legacy.sample) == 12 and len(default.sample) == 3


def test_denied_apis_are_not_collected_with_the_exact_role(server: SandboxServer, make_plan: Any, tokens: Any) -> None:
    sections = collect(server, make_plan, "gov", tokens)
    for name in SECTIONS:
        missing = not_collected(sections[name])
        if name == "retention_policies":
            assert missing.fix == COMPLIANCE_FIX and missing.reason.startswith("permission missing:")
            assert "403" in missing.reason
        else:
            assert missing.fix == EXCHANGE_FIX == "Exchange.ManageAsApp (application) + Global Reader (Entra role)"
            assert missing.reason.startswith("not authenticated:") and "401" in missing.reason
    report = assess_doc(with_exchange(sections))
    for check in ("AUD-01", "AUD-03", "AUD-04"):
        assert finding(report, check).status == "unknown", check
    for check in ("LIC-01", "LIC-02", "LIC-03"):
        assert finding(report, check).status != "unknown", check


def test_missing_compliance_token_skips_only_retention(server: SandboxServer, make_plan: Any) -> None:
    server.reset_stats()
    only_exchange = StaticTokenCredential({"graph": "g", "exchange": "e"})
    sections = collect(server, make_plan, "contoso", only_exchange)
    missing = not_collected(sections["retention_policies"])
    assert "ASSESSOR_COMPLIANCE_TOKEN" in missing.reason and missing.fix == COMPLIANCE_FIX
    assert isinstance(sections["mailboxes"], Collected)
    assert not any("/compliance/" in r.path for r in server.log.snapshot())


def test_china_is_not_supported_without_an_override(tokens: Any) -> None:
    plan = ExchangePlan(tenant="contoso.partner.onmschina.cn", cloud=cloud_endpoints("china"))
    sections = asyncio.run(collect_exchange(tokens, plan)).sections
    assert set(sections) == set(SECTIONS)
    assert all("not supported for the china cloud" in not_collected(s).reason for s in sections.values())


def test_skipped_sections_are_not_requested(server: SandboxServer, make_plan: Any, tokens: Any) -> None:
    server.reset_stats()
    skip = frozenset({"mailboxes", "bypass", "retention_policies"})
    sections = collect(server, make_plan, "contoso", tokens, skip=skip)
    assert set(sections) == {"admin_audit_log_config", "organization_config"}
    assert server.stats("contoso")["requests"] == 1  # the two cmdlets in one $batch


@pytest.mark.parametrize(
    "fault, expected",
    [
        ({"cmdlet": "Get-Mailbox", "status": 500}, "answered 500"),
        ({"cmdlet": "Get-Mailbox", "status": 429, "retry_after": 0}, "still failing after 3 retries"),
    ],
)
def test_persistent_failure_marks_only_that_section(
    server: SandboxServer, make_plan: Any, make_variant: Any, tokens: Any, fault: dict[str, Any], expected: str
) -> None:
    name = f"broken{fault['status']}"
    server.add_tenant(
        make_variant("contoso", name, f"33333333-0000-4000-8000-000000000{fault['status']}", faults=[fault])
    )
    sections = collect(server, make_plan, name, tokens)
    missing = not_collected(sections["mailboxes"])
    assert expected in missing.reason and missing.fix is None
    assert isinstance(sections["bypass"], Collected)
