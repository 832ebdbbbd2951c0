"""Compliance (Purview) endpoint discovery as ScubaGear and CIPP-API do it, against the emulator's
front door, which redirects to ``<prefix>.admin.protection.<domain>:446`` like the real one."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import httpx
import pytest

from assessor.collect.auth import StaticTokenCredential
from assessor.collect.clouds import CLOUDS
from assessor.collect.exchange import collect_exchange
from assessor.collect.exchange.client import ExchangeClient, ExchangeProtocolError, ExchangeSettings
from assessor.collect.interface import Collected
from assessor.sandbox.server import SandboxServer

TOKENS = StaticTokenCredential({"graph": "g", "exchange": "e", "compliance": "c"})


def test_regional_host_is_discovered_and_the_token_stays_on_loopback(server: SandboxServer, make_plan: Any) -> None:
    sent: list[httpx.URL] = []

    async def hook(request: httpx.Request) -> None:
        sent.append(request.url)

    async def run() -> dict[str, Any]:
        async with httpx.AsyncClient(event_hooks={"request": [hook]}) as http:
            result = await collect_exchange(TOKENS, make_plan(server, "contoso"), http)
            return result.sections

    retention = asyncio.run(run())["retention_policies"]
    assert isinstance(retention, Collected) and retention.file is None
    assert "/compliance/region/nam12b/adminapi/beta" in (retention.source or "")
    compliance = [u for u in sent if "/compliance/" in u.path]
    assert compliance[0].path.endswith(
        "/compliance/adminapi/v1.0/" + server.state("contoso").tenant.id + "/EXOModuleFile"
    )
    assert all("/region/nam12b/" in u.path for u in compliance[1:])
    assert {u.host for u in sent} == {"127.0.0.1"}  # never the redirect's admin.protection host


@pytest.mark.parametrize("cloud", ["global", "gcc", "gcc-high", "dod", "china"])
def test_production_derivation_per_cloud(cloud: str) -> None:
    endpoints = CLOUDS[cloud]
    settings = ExchangeSettings(
        endpoints.compliance_url,
        "t",
        endpoints.compliance_scope,
        discover_host=endpoints.compliance_host,
        discover_domain=endpoints.compliance_domain,
    )
    client = ExchangeClient(settings, TOKENS)
    front = endpoints.compliance_url
    root = front[: -len("/adminapi/beta")]
    location = f"https://nam12b.admin.{endpoints.compliance_domain}:446/AdminApi/v1.0/t/EXOModuleFile"
    assert client._regional_base("Get-X", front, root, location) == (
        f"https://nam12b.{endpoints.compliance_host}/adminapi/beta"
    )
    for hostile in (
        "https://nam12b.admin.protection.outlook.com.evil.example:446/x",
        "https://evil.example/x",
        "https://admin.protection.outlook.community/x",
        "/relative/only",
    ):
        with pytest.raises(ExchangeProtocolError, match="not followed"):
            client._regional_base("Get-X", front, root, hostile)


def test_gcc_high_redirect_is_accepted_but_a_commercial_one_is_not() -> None:
    high = CLOUDS["gcc-high"]
    client = ExchangeClient(
        ExchangeSettings(
            high.compliance_url,
            "t",
            high.compliance_scope,
            discover_host=high.compliance_host,
            discover_domain=high.compliance_domain,
        ),
        TOKENS,
    )
    root = high.compliance_url[: -len("/adminapi/beta")]
    with pytest.raises(ExchangeProtocolError):
        client._regional_base("Get-X", high.compliance_url, root, "https://nam12b.admin.protection.outlook.com:446/x")


def test_a_pinned_non_loopback_endpoint_is_not_rediscovered(make_plan: Any, server: SandboxServer) -> None:
    plan = replace(
        make_plan(server, "contoso"),
        compliance_endpoint="https://eu1.ps.compliance.protection.outlook.com/adminapi/beta",
    )
    settings = plan.compliance_settings()
    assert settings.discover_host is None and settings.discover_domain is None
    assert make_plan(server, "contoso").compliance_settings().discover_host == "ps.compliance.protection.outlook.com"


def test_front_door_without_redirect_is_used_as_it_is(server: SandboxServer, make_plan: Any, make_variant: Any) -> None:
    name = "no-regional-redirect"
    server.add_tenant(make_variant("contoso", name, "12000000-0000-4000-8000-0000000000a1", compliance_redirect=False))
    result = asyncio.run(collect_exchange(TOKENS, make_plan(server, name)))
    retention = result.sections["retention_policies"]
    assert isinstance(retention, Collected) and "/region/" not in (retention.source or "")
    assert any("without a redirect" in note for note in result.notes)
