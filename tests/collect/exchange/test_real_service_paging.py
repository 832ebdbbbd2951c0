"""Exchange admin API behaviours the real service is known to have (issue 12), met by the real
client and collector against the emulator, which shows them by default:

- a ``$skiptoken`` replay without the same ``X-AnchorMailbox`` answers 400 "Expired or Invalid
  pagination request" (rknightion/graph2otel internal/exoclient; CIPP-API New-ExoRequest pages
  with the system-mailbox anchor);
- a 403 for a cmdlet the app may not run has a body of NUL bytes (graph2otel);
- a 200 can carry an ``error`` object (cisagov/ScubaGear functional tests).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from assessor.collect.exchange import collect_exchange
from assessor.collect.exchange.client import (
    ExchangeClient,
    ExchangeCommandError,
    ExchangePagingError,
    ExchangePermissionError,
    anchor_mailbox,
    describe_body,
    parse_error_body,
)
from assessor.collect.exchange.collector import ExchangeOutcome, read_section
from assessor.collect.exchange.normalize import MAILBOX_SELECT
from assessor.collect.interface import Collected, NotCollected
from assessor.evidence import MailboxAudit
from assessor.sandbox.exchange import PAGINATION_EXPIRED
from assessor.sandbox.server import SandboxServer
from tests.helpers.support import exchange_document

USER_MAILBOXES = {"RecipientTypeDetails": "UserMailbox", "ResultSize": "Unlimited"}


def _client(plan: Any, **kw: Any) -> ExchangeClient:
    from dataclasses import replace

    from assessor.collect.auth import StaticTokenCredential

    settings = replace(plan.exchange_settings(), **kw)
    return ExchangeClient(settings, StaticTokenCredential({"graph": "g", "exchange": "e", "compliance": "c"}))


def test_anchor_is_the_system_mailbox_in_both_production_forms() -> None:
    tenant_id = "8b4e2f10-3c7d-4a51-9e26-5f0c1a7d3b42"
    assert anchor_mailbox(tenant_id) == f"APP:SystemMailbox{{bb558c35-97f1-4cb9-8ff7-d53741dc928c}}@{tenant_id}"
    assert anchor_mailbox("contoso.onmicrosoft.com") == (
        "UPN:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@contoso.onmicrosoft.com"
    )


def test_every_request_of_a_chain_carries_the_same_anchor(server: SandboxServer, make_plan: Any) -> None:
    seen: list[str | None] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request.headers.get("X-AnchorMailbox"))

    async def run() -> int:
        async with httpx.AsyncClient(event_hooks={"request": [hook]}) as http:
            client = ExchangeClient(_client(make_plan(server, "contoso"), page_size=50).settings, _tokens(), http)
            return sum([len(p) async for p in client.pages("Get-Mailbox", USER_MAILBOXES, MAILBOX_SELECT)])

    assert asyncio.run(run()) == 197
    assert len(seen) == 4 and len(set(seen)) == 1 and seen[0] == anchor_mailbox(server.state("contoso").tenant.id)


def _tokens() -> Any:
    from assessor.collect.auth import StaticTokenCredential

    return StaticTokenCredential({"graph": "g", "exchange": "e", "compliance": "c"})


def test_a_replay_without_affinity_fails_like_the_real_service(server: SandboxServer, make_plan: Any) -> None:
    """The emulator refuses a nextLink replayed from another backend (no or another anchor)."""
    plan = make_plan(server, "contoso")
    settings = plan.exchange_settings()
    url = f"{settings.base_url}/{settings.tenant}/InvokeCommand"
    body = {"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": USER_MAILBOXES}}
    headers = {"Authorization": "Bearer e", "Prefer": "odata.maxpagesize=50", "X-AnchorMailbox": "UPN:a@b"}
    first = httpx.post(url, json=body, headers=headers)
    link = first.json()["@odata.nextLink"]
    assert httpx.post(link, json=body, headers=headers).status_code == 200  # same anchor: same backend
    for other in ({"X-AnchorMailbox": "UPN:someone@else"}, {}):
        answer = httpx.post(link, json=body, headers={"Authorization": "Bearer e", **other})
        assert answer.status_code == 400
        assert parse_error_body(answer.content)[1] == PAGINATION_EXPIRED


def test_a_failed_next_page_restarts_the_chain_once_and_counts_nothing_twice(
    server: SandboxServer, make_plan: Any, make_variant: Any
) -> None:
    name = "page-fails-once"
    server.add_tenant(
        make_variant(
            "contoso",
            name,
            "12000000-0000-4000-8000-000000000001",
            faults=[{"cmdlet": "Get-Mailbox", "status": 400, "page": "next", "times": 1}],
        )
    )
    client = _client(make_plan(server, name), page_size=50)

    async def run() -> ExchangeOutcome:
        async with client:
            return await read_section("mailboxes", client)

    section = asyncio.run(run())
    assert isinstance(section, Collected) and isinstance(section.data, MailboxAudit)
    assert section.data.total_user_mailboxes == 197
    assert client.stats.restarts == 1 and client.stats.unpaged == 0


def test_next_page_failure_is_a_paging_error(server: SandboxServer, make_plan: Any, make_variant: Any) -> None:
    name = "page-fails-always"
    server.add_tenant(make_variant("contoso", name, "12000000-0000-4000-8000-000000000002", paging="broken"))
    client = _client(make_plan(server, name), page_size=50)

    async def run() -> None:
        async with client:
            async for _page in client.pages("Get-Mailbox", USER_MAILBOXES, MAILBOX_SELECT):
                pass

    with pytest.raises(ExchangePagingError, match="page 2 failed: Expired or Invalid pagination request"):
        asyncio.run(run())


def test_replay_that_never_works_falls_back_to_one_unpaged_answer(
    server: SandboxServer, make_plan: Any, make_variant: Any
) -> None:
    name = "paging-broken"
    server.add_tenant(make_variant("contoso", name, "12000000-0000-4000-8000-000000000003", paging="broken"))
    plan = make_plan(server, name, page_size=50)
    result = asyncio.run(collect_exchange(_tokens(), plan))
    mailboxes, bypass = result.sections["mailboxes"], result.sections["bypass"]
    assert isinstance(mailboxes, Collected) and isinstance(mailboxes.data, MailboxAudit)
    assert mailboxes.data.total_user_mailboxes == 197
    assert isinstance(bypass, Collected)
    stats = result.stats["exchange"]
    assert stats.restarts == 2 and stats.unpaged == 2
    assert any("read in one unpaged answer" in note for note in result.notes)


def test_when_even_the_unpaged_answer_is_partial_the_section_is_not_collected_with_the_import_route(
    server: SandboxServer, make_plan: Any, make_variant: Any
) -> None:
    name = "paging-hopeless"
    server.add_tenant(
        make_variant("contoso", name, "12000000-0000-4000-8000-000000000004", paging="broken", unpaged_page=100)
    )
    result = asyncio.run(collect_exchange(_tokens(), make_plan(server, name, page_size=50)))
    missing = result.sections["mailboxes"]
    assert isinstance(missing, NotCollected)
    assert "only part of the set could be read" in missing.reason and "--import" in missing.reason
    assert "--import" in (missing.fix or "")


def test_the_happy_path_adds_no_request(server: SandboxServer, make_plan: Any) -> None:
    client = _client(make_plan(server, "contoso"), page_size=50)
    server.reset_stats()

    async def run() -> ExchangeOutcome:
        async with client:
            return await read_section("mailboxes", client)

    assert isinstance(asyncio.run(run()), Collected)
    assert client.stats.requests == 4 == server.stats("contoso")["requests"]


# --------------------------------------------------------------------------- error bodies


def test_nul_body_403_becomes_a_short_description(server: SandboxServer, make_plan: Any, make_variant: Any) -> None:
    name = "denied-nul"
    server.add_tenant(make_variant("contoso", name, "12000000-0000-4000-8000-000000000005", deny=403))
    result = asyncio.run(collect_exchange(_tokens(), make_plan(server, name)))
    missing = result.sections["organization_config"]
    assert isinstance(missing, NotCollected)
    assert "non-JSON body, 4096 bytes" in missing.reason and "Exchange.ManageAsApp" in missing.reason
    text = json.dumps(exchange_document(result.sections), default=str)
    assert "\\u0000" not in text and "\x00" not in text


def test_a_200_with_an_error_object_is_that_error(server: SandboxServer, make_plan: Any, make_variant: Any) -> None:
    name = "ok-but-error"
    server.add_tenant(
        make_variant(
            "contoso",
            name,
            "12000000-0000-4000-8000-000000000006",
            faults=[{"cmdlet": "Get-OrganizationConfig", "status": 200, "code": "BadRequest", "message": "Bad thing"}],
        )
    )
    client = _client(make_plan(server, name))

    async def run() -> list[Any]:
        async with client:
            return await client.invoke("Get-OrganizationConfig")

    with pytest.raises(ExchangeCommandError) as err:
        asyncio.run(run())
    assert err.value.status == 200 and err.value.code == "BadRequest" and err.value.message == "Bad thing"


def test_body_descriptions_never_carry_control_characters() -> None:
    assert describe_body(bytes(4096)) == "non-JSON body, 4096 bytes"
    assert describe_body(b"\xff\xfe\x00garbage") == "non-JSON body, 10 bytes"
    assert describe_body(b"") == "empty body"
    assert describe_body(b"<html>gateway\x1b[31m blew up</html>") == "non-JSON body, 33 bytes"
    assert (
        describe_body(b"<html>Service Unavailable</html>")
        == "non-JSON body, 32 bytes: <html>Service Unavailable</html>"
    )
    code, message = parse_error_body(b'{"error":{"code":"Bad\\u0000","message":"a\\u0007b\\nc"}}')
    assert code == "Bad" and message == "a b c"
    with pytest.raises(ExchangePermissionError) as err:
        raise ExchangePermissionError("Get-X", "https://h", 403, None, "x\x00\x00y")
    assert "\x00" not in str(err.value)


def test_every_service_error_text_loses_its_control_characters() -> None:
    from assessor.collect.graph.outcome import GraphFailure
    from assessor.collect.probe.errors import ProbeHttpError

    assert GraphFailure("GET /x", 403, None, "\x00\x00denied\x1b[31m").message == " denied [31m"
    assert "\x00" not in ProbeHttpError("POST /q answered 404: \x00\x00").reason
