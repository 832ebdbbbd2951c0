"""exchange_evidence: how imports, --no-exchange and collection combine for one collect run."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assessor.collect.clouds import CloudEndpoints, cloud_endpoints
from assessor.collect.exchange import EXCHANGE_FIX, SECTIONS, exchange_evidence, read_imports
from assessor.collect.exchange.run import NO_EXCHANGE_REASON
from assessor.collect.interface import Collected, NotCollected
from assessor.evidence import MailboxAudit
from assessor.sandbox.server import SandboxServer
from tests.helpers.support import EXAMPLES, exchange_evidence_of

EXPORT = EXAMPLES / "exchange-export"


@dataclass(frozen=True)
class Options:
    tenant: str
    cloud: str = "global"
    exchange_endpoint: str | None = None
    compliance_endpoint: str | None = None
    no_exchange: bool = False
    imports: tuple[Path, ...] = field(default_factory=tuple)
    users_mode: str = "summary"
    request_timeout: float = 10.0

    def endpoints(self) -> CloudEndpoints:
        return cloud_endpoints(self.cloud)


def test_no_exchange_with_imports(tokens: Any) -> None:
    options = Options(
        tenant="contoso.com",
        no_exchange=True,
        imports=(EXPORT / "Mailbox.json", EXPORT / "UnifiedAuditLogRetentionPolicy.json"),
    )
    result = asyncio.run(exchange_evidence(options, tokens, read_imports(options)))
    ex = exchange_evidence_of(result.sections)
    assert ex.mailboxes.provenance.status == "imported" and ex.mailboxes.provenance.file == "Mailbox.json"
    assert ex.retention_policies.provenance.status == "imported"
    for name in ("admin_audit_log_config", "organization_config", "bypass"):
        prov = getattr(ex, name).provenance
        assert prov.status == "not_collected" and prov.reason == NO_EXCHANGE_REASON and prov.fix == EXCHANGE_FIX
    assert result.notes == [
        "exchange: mailboxes imported from Mailbox.json",
        "exchange: retention_policies imported from UnifiedAuditLogRetentionPolicy.json",
    ]


def test_imports_win_and_the_rest_is_collected(server: SandboxServer, tokens: Any) -> None:
    tenant = server.state("contoso").tenant.id
    options = Options(
        tenant=tenant, imports=(EXPORT / "UnifiedAuditLogRetentionPolicy.json",), **server.exchange_endpoints("contoso")
    )
    server.reset_stats()
    result = asyncio.run(exchange_evidence(options, tokens, read_imports(options)))
    assert list(result.sections) == list(SECTIONS)
    assert not any(isinstance(o, NotCollected) for o in result.sections.values())
    files = {s: o.file for s, o in result.sections.items() if isinstance(o, Collected)}
    assert files == {**dict.fromkeys(SECTIONS), "retention_policies": "UnifiedAuditLogRetentionPolicy.json"}
    assert not any("/compliance/" in r.path for r in server.log.snapshot())
    mailboxes = result.sections["mailboxes"]
    assert isinstance(mailboxes, Collected) and isinstance(mailboxes.data, MailboxAudit)
    assert mailboxes.data.total_user_mailboxes == 197
