"""Helpers: a real msgraph-sdk GraphServiceClient pointed at the sandbox on 127.0.0.1, and a probe runner."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from azure.core.credentials import AccessToken
from msgraph import GraphServiceClient

from assessor.collect.interface import section_of
from assessor.collect.probe import PollPolicy, ProbeOutcome, ProbeSettings, run_probe
from assessor.evidence import AuditProbe, Section
from assessor.sandbox.server import SandboxServer

T = TypeVar("T")
FAST_POLL = PollPolicy(initial=0.02, factor=1.5, maximum=0.1)
EVENTS = ["MailItemsAccessed", "Send", "SearchQueryInitiatedExchange", "SearchQueryInitiatedSharePoint"]


class StaticCredential:
    """An azure-identity-shaped credential with a fixed token (the sandbox accepts any bearer token)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("sandbox-token", int(time.time()) + 3600)


def graph_client(base_url: str) -> GraphServiceClient:
    client = GraphServiceClient(credentials=StaticCredential(), scopes=["https://graph.microsoft.com/.default"])
    client.request_adapter.base_url = base_url
    return client


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def as_section(outcome: ProbeOutcome) -> Section[AuditProbe]:
    """The ``audit_probe`` evidence section a probe outcome becomes (as the collection assembles it)."""
    return Section[AuditProbe].model_validate(section_of(outcome))


def probe(
    server: SandboxServer,
    tenant: str,
    operations: list[str] | None = None,
    days: int = 7,
    cloud: str = "global",
    timeout: float = 30.0,
    keep_records: Path | None = None,
    **settings: Any,
) -> Section[AuditProbe]:
    options = ProbeSettings(poll=FAST_POLL, **settings)
    client = graph_client(server.graph_url(tenant))
    result = run(
        run_probe(
            client,
            cloud=cloud,
            operations=operations or EVENTS,
            days=days,
            timeout=timeout,
            keep_records=keep_records,
            settings=options,
        )
    )
    return as_section(result.outcome)


def audit_requests(server: SandboxServer) -> list[str]:
    return [r.path for r in server.log.snapshot() if "/security/auditlog" in r.path.lower()]
