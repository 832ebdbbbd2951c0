"""The InvokeCommand client against the sandbox emulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import pytest

from assessor.collect.exchange.client import (
    ExchangeAuthError,
    ExchangeClient,
    ExchangeCommandError,
    ExchangePermissionError,
    ExchangeProtocolError,
    ExchangeThrottledError,
    ExchangeTimeoutError,
    ExchangeTruncatedError,
    _redirect_allowed,
    parse_error_body,
)
from assessor.collect.exchange.normalize import MAILBOX_SELECT
from assessor.collect.retry import RetryPolicy, retry_after_seconds
from assessor.sandbox.server import SandboxServer


def _client(plan: Any, api: str = "exchange", **kw: Any) -> ExchangeClient:
    from dataclasses import replace

    settings = plan.exchange_settings() if api == "exchange" else plan.compliance_settings()
    return ExchangeClient(replace(settings, **kw), plan_tokens())


def plan_tokens() -> Any:
    from assessor.collect.auth import StaticTokenCredential

    return StaticTokenCredential({"graph": "g", "exchange": "e", "compliance": "c"})


async def _pages(client: ExchangeClient, cmdlet: str, params: dict[str, Any], select: tuple[str, ...]) -> list[Any]:
    async with client:
        return [page async for page in client.pages(cmdlet, params, select)]


def test_paging_follows_next_links_and_honours_select(server: SandboxServer, make_plan: Any) -> None:
    client = _client(make_plan(server, "contoso"), page_size=20)
    server.reset_stats()
    pages = asyncio.run(
        _pages(
            client, "Get-Mailbox", {"RecipientTypeDetails": "UserMailbox", "ResultSize": "Unlimited"}, MAILBOX_SELECT
        )
    )
    assert [len(p) for p in pages][:-1] == [20] * (len(pages) - 1)
    assert sum(len(p) for p in pages) == 197 and len(pages) == math.ceil(197 / 20)
    assert all(set(row) == set(MAILBOX_SELECT) for page in pages for row in page)
    assert client.stats.requests == len(pages) == server.stats("contoso")["requests"]
    assert len({row["UserPrincipalName"] for page in pages for row in page}) == 197


def test_result_size_cap_announced_in_warnings_is_never_taken_for_the_whole_set(
    server: SandboxServer, make_plan: Any
) -> None:
    client = _client(make_plan(server, "contoso"))
    with pytest.raises(ExchangeTruncatedError, match="announces more results"):
        asyncio.run(_pages(client, "Get-Mailbox", {"ResultSize": 5}, ("UserPrincipalName",)))


@pytest.mark.parametrize("retry_after", [0, 1])
def test_429_then_success_honours_retry_after(
    server: SandboxServer, make_plan: Any, make_variant: Any, retry_after: int
) -> None:
    name = f"throttled{retry_after}"
    tenant = make_variant(
        "contoso",
        name,
        f"11111111-0000-4000-8000-00000000000{retry_after}",
        faults=[{"cmdlet": "Get-OrganizationConfig", "status": 429, "times": 2, "retry_after": retry_after}],
    )
    server.add_tenant(tenant)
    client = _client(make_plan(server, name))
    started = time.perf_counter()

    async def run() -> list[Any]:
        async with client:
            return await client.invoke("Get-OrganizationConfig", {}, ("AuditDisabled",))

    rows = asyncio.run(run())
    assert rows == [{"AuditDisabled": False}]
    assert client.stats.retries == 2 and client.stats.requests == 3
    assert client.stats.waited == 2 * retry_after
    assert time.perf_counter() - started >= 2 * retry_after


def test_5xx_is_retried_then_budget_exhaustion_is_typed(
    server: SandboxServer, make_plan: Any, make_variant: Any
) -> None:
    tenant = make_variant(
        "contoso",
        "flaky",
        "22222222-0000-4000-8000-000000000001",
        faults=[
            {"cmdlet": "Get-AdminAuditLogConfig", "status": 503, "times": 1},
            {"cmdlet": "Get-OrganizationConfig", "status": 429, "retry_after": 60},
        ],
    )
    server.add_tenant(tenant)

    async def run(cmdlet: str) -> list[Any]:
        async with _client(make_plan(server, "flaky")) as client:
            return await client.invoke(cmdlet)

    assert asyncio.run(run("Get-AdminAuditLogConfig"))[0]["UnifiedAuditLogIngestionEnabled"] is True
    with pytest.raises(ExchangeThrottledError) as err:
        asyncio.run(run("Get-OrganizationConfig"))
    assert err.value.status == 429 and "asked to wait 60 s" in str(err.value)


def test_denied_calls_raise_typed_errors_with_the_exchange_message(server: SandboxServer, make_plan: Any) -> None:
    plan = make_plan(server, "gov")

    async def run(api: str, cmdlet: str) -> list[Any]:
        async with _client(plan, api) as client:
            return await client.invoke(cmdlet)

    with pytest.raises(ExchangeAuthError) as auth:
        asyncio.run(run("exchange", "Get-OrganizationConfig"))
    assert auth.value.status == 401 and "access token is invalid" in auth.value.message
    with pytest.raises(ExchangePermissionError) as denied:
        asyncio.run(run("compliance", "Get-UnifiedAuditLogRetentionPolicy"))
    # the real service's 403 body is NUL bytes: described, never echoed
    assert denied.value.status == 403 and denied.value.message == "non-JSON body, 4096 bytes"
    assert "Get-UnifiedAuditLogRetentionPolicy" in str(denied.value)


def test_cmdlet_errors_are_parsed_from_the_detail_message(server: SandboxServer, make_plan: Any) -> None:
    async def run() -> list[Any]:
        async with _client(make_plan(server, "contoso")) as client:
            return await client.invoke("Get-Nothing")

    with pytest.raises(ExchangeCommandError) as err:
        asyncio.run(run())
    assert err.value.status == 400
    assert err.value.message == "The term 'Get-Nothing' is not recognized as a name of a cmdlet."


def test_compliance_regional_redirect_is_followed_and_kept(server: SandboxServer, make_plan: Any) -> None:
    client = _client(make_plan(server, "contoso"), "compliance")

    async def run() -> tuple[list[Any], list[Any]]:
        async with client:
            first = await client.invoke("Get-UnifiedAuditLogRetentionPolicy", {}, ("Name", "Priority"))
            second = await client.invoke("Get-AdminAuditLogConfig")
            return first, second

    policies, config = asyncio.run(run())
    assert [p["Priority"] for p in policies] == [1, 2]
    assert client.stats.redirects == 1 and client.base_url.endswith("/compliance/region/nam12b/adminapi/beta")
    assert client.stats.requests == 3  # one discovery GET, then both calls straight to the regional host
    assert config[0]["UnifiedAuditLogIngestionEnabled"] is False  # the S&C quirk the collector avoids


def test_timeouts_are_retried_then_typed(make_plan: Any) -> None:
    with SandboxServer(["contoso"], latency_ms=400) as slow:
        client = _client(
            make_plan(slow, "contoso"),
            request_timeout=0.1,
            retry=RetryPolicy(max_retries=1, backoff_base=0.01, max_total_wait=1.0),
        )

        async def run() -> list[Any]:
            async with client:
                return await client.invoke("Get-OrganizationConfig")

        with pytest.raises(ExchangeTimeoutError):
            asyncio.run(run())
        assert client.stats.requests == 2


def test_next_link_to_another_host_is_refused(server: SandboxServer, make_plan: Any) -> None:
    client = _client(make_plan(server, "contoso"))
    same = f"{client.base_url}/t/InvokeCommand?$skiptoken=5"
    assert client._next_link("Get-Mailbox", {"@odata.nextLink": same}) == same
    with pytest.raises(ExchangeProtocolError, match="another host"):
        client._next_link("Get-Mailbox", {"@odata.nextLink": "https://evil.example/next"})


def test_missing_token_is_an_auth_error_naming_the_scope(server: SandboxServer, make_plan: Any) -> None:
    from assessor.collect.auth import StaticTokenCredential

    settings = make_plan(server, "contoso").exchange_settings()

    async def run() -> list[Any]:
        async with ExchangeClient(settings, StaticTokenCredential({"graph": "g"})) as client:
            return await client.invoke("Get-OrganizationConfig")

    with pytest.raises(ExchangeAuthError, match=r"no access token for https://outlook\.office365\.com/\.default"):
        asyncio.run(run())


def test_redirect_policy() -> None:
    base = "https://ps.compliance.protection.outlook.com/adminapi/beta"
    assert _redirect_allowed(base, "https://nam12b.ps.compliance.protection.outlook.com/adminapi/beta/t/InvokeCommand")
    assert not _redirect_allowed(base, "https://ps.compliance.protection.outlook.com.evil.example/x")
    assert not _redirect_allowed(base, "http://nam12b.ps.compliance.protection.outlook.com/x")
    assert _redirect_allowed("http://127.0.0.1:8080/t/compliance/adminapi/beta", "http://127.0.0.1:8080/t/x")
    assert not _redirect_allowed("http://127.0.0.1:8080/a", "http://127.0.0.1:9090/a")


def test_error_bodies_and_retry_after_parsing() -> None:
    detail = (
        b'{"error":{"code":"InternalServerError","message":"outer","details":[{"code":"Context",'
        b'"target":"","message":"Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFound'
        b"Exception|The operation couldn't be performed.\"}]}}"
    )
    assert parse_error_body(detail) == ("InternalServerError", "The operation couldn't be performed.")
    inner = b'{"error":{"code":"X","message":"m","innererror":{"internalexception":{"message":"deep"}}}}'
    assert parse_error_body(inner) == ("X", "deep")
    graph = b'{"error":{"code":"InvalidAuthenticationToken","message":"Access token is empty."}}'
    assert parse_error_body(graph) == ("InvalidAuthenticationToken", "Access token is empty.")
    assert parse_error_body(b"<html>Bad gateway</html>") == (None, "non-JSON body, 24 bytes: <html>Bad gateway</html>")
    assert retry_after_seconds("2") == 2.0 and retry_after_seconds(None) is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("3, 3") == 3.0  # the header sent twice and joined
