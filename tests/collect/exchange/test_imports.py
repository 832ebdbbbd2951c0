"""--import of ConvertTo-Json exports: the shipped examples, a round trip against collection, bad files."""

from __future__ import annotations

import asyncio
import codecs
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from assessor.collect.exchange import ExchangeClient, collect_exchange, import_exchange
from assessor.collect.exchange.imports import EXPORT_FILES
from assessor.collect.exchange.normalize import (
    ADMIN_AUDIT_SELECT,
    BYPASS_SELECT,
    MAILBOX_SELECT,
    ORG_CONFIG_SELECT,
    RETENTION_SELECT,
)
from assessor.collect.interface import Collected
from assessor.errors import EvidenceError
from assessor.sandbox.server import SandboxServer
from tests.helpers.support import EXAMPLES, assess_doc, example, exchange_document, exchange_evidence_of, finding

EXPORT_DIR = EXAMPLES / "exchange-export"


def ps51(value: Any) -> str:
    """Windows PowerShell 5.1's ConvertTo-Json layout (4-space indent, two spaces after the colon)."""
    return json.dumps(value, indent=4, separators=(",", ":  "), ensure_ascii=False)


def test_shipped_example_export_imports_and_assesses() -> None:
    imported = import_exchange(sorted(EXPORT_DIR.glob("*.json")))
    assert set(imported.sections) == set(EXPORT_FILES)
    for section, file in EXPORT_FILES.items():
        outcome = imported.sections[section]
        assert isinstance(outcome, Collected) and outcome.file == file == imported.files[section]
    ex = exchange_evidence_of(imported.sections)
    assert all(getattr(ex, section).provenance.status == "imported" for section in EXPORT_FILES)
    assert ex.mailboxes.data.total_user_mailboxes == 10
    assert ex.bypass.data.total_associations == 7
    assert [b.identity for b in ex.bypass.data.bypassed] == ["svc-backup@contoso.com", "svc-journal@contoso.com"]
    doc = copy.deepcopy(example("mixed-e5-e3-priority-trap"))
    doc["exchange"] = exchange_document(imported.sections)
    report = assess_doc(doc)
    assert report.audit.mailboxes_missing_mailitemsaccessed == 2
    ret = finding(report, "RET-01")
    assert ret.status == "fail" and "Mailbox noise 7 days" in ret.message


def test_import_script_exports_exactly_the_files_import_reads() -> None:
    script = (EXAMPLES / "export-exchange-audit.ps1").read_text(encoding="utf-8")
    for file in EXPORT_FILES.values():
        assert f"'{file}'" in script
    for prop in {*MAILBOX_SELECT, *BYPASS_SELECT, *ADMIN_AUDIT_SELECT, *ORG_CONFIG_SELECT, *RETENTION_SELECT}:
        assert f"{prop} " in script or f"{prop}=" in script, prop


async def _rows(
    server: SandboxServer,
    plan: Any,
    cmdlet: str,
    select: tuple[str, ...],
    api: str = "exchange",
    params: dict[str, Any] | None = None,
) -> list[Any]:
    from assessor.collect.auth import StaticTokenCredential

    settings = plan.exchange_settings() if api == "exchange" else plan.compliance_settings()
    async with ExchangeClient(settings, StaticTokenCredential({"exchange": "e", "compliance": "c"})) as client:
        return await client.invoke(cmdlet, params or {"ResultSize": "Unlimited"}, select)


def test_round_trip_equals_collected(server: SandboxServer, make_plan: Any, tokens: Any, tmp_path: Path) -> None:
    plan = make_plan(server, "contoso")
    collected = asyncio.run(collect_exchange(tokens, plan)).sections

    async def exports() -> dict[str, list[Any]]:
        return {
            "admin": await _rows(server, plan, "Get-AdminAuditLogConfig", ADMIN_AUDIT_SELECT, params={}),
            "org": await _rows(server, plan, "Get-OrganizationConfig", ORG_CONFIG_SELECT, params={}),
            "bypass": await _rows(server, plan, "Get-MailboxAuditBypassAssociation", BYPASS_SELECT),
            # without the RecipientTypeDetails filter: shared mailboxes are in the file and must be skipped
            "mailboxes": await _rows(server, plan, "Get-Mailbox", MAILBOX_SELECT),
            "retention": await _rows(
                server, plan, "Get-UnifiedAuditLogRetentionPolicy", RETENTION_SELECT, "compliance", {}
            ),
        }

    rows = asyncio.run(exports())
    assert sum(r["RecipientTypeDetails"] == "SharedMailbox" for r in rows["mailboxes"]) == 3
    rows["mailboxes"][0]["AuditOwner"] = {"value": rows["mailboxes"][0]["AuditOwner"], "Count": 10}
    files = {
        "Get-AdminAuditLogConfig.json": ps51(rows["admin"]).encode("utf-8"),
        "OrganizationConfig.json": ps51(rows["org"][0]).encode("utf-8"),  # a single object, not an array
        "MailboxAuditBypassAssociation.json": codecs.BOM_UTF16_LE + ps51(rows["bypass"]).encode("utf-16-le"),
        "Mailbox.json": codecs.BOM_UTF8 + ps51(rows["mailboxes"]).encode("utf-8"),
        "policies.json": json.dumps({"value": rows["retention"], "Count": 2}).encode("utf-8"),  # found by content
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    imported = import_exchange(sorted(tmp_path.iterdir()))
    assert imported.files["retention_policies"] == "policies.json"
    for section, value in collected.items():
        mine = imported.sections[section]
        assert isinstance(value, Collected) and isinstance(mine, Collected), section
        assert mine.data == value.data, section


def _write(tmp_path: Path, name: str, content: Any) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else ps51(content), encoding="utf-8")
    return path


MAILBOX = {
    "UserPrincipalName": "a@contoso.com",
    "RecipientTypeDetails": "UserMailbox",
    "AuditEnabled": True,
    "DefaultAuditSet": ["Owner", "Delegate", "Admin"],
    "AuditOwner": ["Update"],
    "AuditDelegate": [],
    "AuditAdmin": [],
}
POLICY = {
    "Name": "p",
    "Priority": 1,
    "RetentionDuration": "SevenDays",
    "RecordTypes": ["ExchangeItem"],
    "Operations": [],
    "UserIds": [],
    "Enabled": True,
    "Mode": "Enforce",
    "Description": "",
}


@pytest.mark.parametrize(
    "name, content, message",
    [
        (
            "Mailbox.json",
            [MAILBOX, {**MAILBOX, "AuditOwner": ["Update", 3]}],
            "Mailbox.json: [1].AuditOwner[1]: expected a string, found a number (enum numbers are ambiguous",
        ),
        (
            "Mailbox.json",
            [{k: v for k, v in MAILBOX.items() if k != "AuditEnabled"}],
            "Mailbox.json: [0].AuditEnabled: missing",
        ),
        (
            "Mailbox.json",
            [{**MAILBOX, "DefaultAuditSet": ["Owner", "Boss"]}],
            "Mailbox.json: [0].DefaultAuditSet[1]: unknown logon type 'Boss'",
        ),
        (
            "AdminAuditLogConfig.json",
            [{"UnifiedAuditLogIngestionEnabled": "yes"}],
            "AdminAuditLogConfig.json: UnifiedAuditLogIngestionEnabled: expected true or false",
        ),
        (
            "OrganizationConfig.json",
            [{"AuditDisabled": False}, {"AuditDisabled": True}],
            "OrganizationConfig.json: (document): expected exactly one object, found 2",
        ),
        (
            "UnifiedAuditLogRetentionPolicy.json",
            [POLICY, {**POLICY, "Name": "q"}],
            "UnifiedAuditLogRetentionPolicy.json: Priority: Value error, two retention policies share priority 1",
        ),
        (
            "UnifiedAuditLogRetentionPolicy.json",
            [{**POLICY, "RetentionDuration": "Forever"}],
            "UnifiedAuditLogRetentionPolicy.json: [0].RetentionDuration: unknown value 'Forever'",
        ),
        (
            "UnifiedAuditLogRetentionPolicy.json",
            [{**POLICY, "RetentionDuration": 3}],
            "UnifiedAuditLogRetentionPolicy.json: [0].RetentionDuration: expected a non-empty string, found a number",
        ),
        (
            "UnifiedAuditLogRetentionPolicy.json",
            [{**POLICY, "Priority": 0}],
            "UnifiedAuditLogRetentionPolicy.json: [0].Priority: Input should be greater than or equal to 1",
        ),
        (
            "MailboxAuditBypassAssociation.json",
            [{"Identity": "x", "AuditBypassEnabled": None}],
            "MailboxAuditBypassAssociation.json: [0].AuditBypassEnabled: expected true or false, found null",
        ),
        ("Mailbox.json", '[{"UserPrincipalName": "a"', "Mailbox.json: not valid JSON (line 1"),
        ("Mailbox.json", "   ", "Mailbox.json: the file is empty"),
        ("export.json", [{"Something": 1}], "export.json: cannot tell which cmdlet this export is from"),
        ("Mailbox.json", "42", "Mailbox.json: expected a JSON object or array of objects, found int"),
        # a row repeated (two exports pasted together) would be counted twice
        (
            "Mailbox.json",
            [
                MAILBOX,
                {**MAILBOX, "UserPrincipalName": "b@contoso.com"},
                {**MAILBOX, "UserPrincipalName": "A@contoso.com"},
            ],
            "Mailbox.json: [2].Identity: mailbox 'A@contoso.com' appears more than once",
        ),
        (
            "MailboxAuditBypassAssociation.json",
            [{"Identity": "svc", "AuditBypassEnabled": True}, {"Identity": "svc", "AuditBypassEnabled": True}],
            "MailboxAuditBypassAssociation.json: [1].Identity: association 'svc' appears more than once",
        ),
    ],
)
def test_malformed_imports_name_file_and_field(tmp_path: Path, name: str, content: Any, message: str) -> None:
    path = _write(tmp_path, name, content)
    with pytest.raises(EvidenceError) as err:
        import_exchange([path])
    assert str(err.value).startswith(message), str(err.value)


def test_two_exports_of_one_cmdlet_are_refused(tmp_path: Path) -> None:
    first = _write(tmp_path, "Mailbox.json", [MAILBOX])
    second = _write(tmp_path, "Get-Mailbox.json", [MAILBOX])
    with pytest.raises(EvidenceError, match=r"Get-Mailbox\.json: Get-Mailbox was already imported from Mailbox\.json"):
        import_exchange([first, second])


def test_unreadable_file_is_an_evidence_error(tmp_path: Path) -> None:
    with pytest.raises(EvidenceError, match="cannot read the import file"):
        import_exchange([tmp_path / "Mailbox.json"])
