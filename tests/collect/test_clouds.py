"""The national cloud table and endpoint overrides."""

from __future__ import annotations

import pytest

from assessor.collect.clouds import CLOUD_NAMES, cloud_endpoints, validate_endpoint
from assessor.errors import UsageError


@pytest.mark.parametrize(
    "cloud, graph, authority, exchange, compliance",
    [
        (
            "global",
            "graph.microsoft.com",
            "login.microsoftonline.com",
            "outlook.office365.com",
            "ps.compliance.protection.outlook.com",
        ),
        (
            "gcc",
            "graph.microsoft.com",
            "login.microsoftonline.com",
            "outlook.office365.com",
            "ps.compliance.protection.outlook.com",
        ),
        (
            "gcc-high",
            "graph.microsoft.us",
            "login.microsoftonline.us",
            "outlook.office365.us",
            "ps.compliance.protection.office365.us",
        ),
        (
            "dod",
            "dod-graph.microsoft.us",
            "login.microsoftonline.us",
            "outlook-dod.office365.us",
            "l5.ps.compliance.protection.office365.us",
        ),
        (
            "china",
            "microsoftgraph.chinacloudapi.cn",
            "login.chinacloudapi.cn",
            "partner.outlook.cn",
            "ps.compliance.protection.partner.outlook.cn",
        ),
    ],
)
def test_cloud_table(cloud: str, graph: str, authority: str, exchange: str, compliance: str) -> None:
    c = cloud_endpoints(cloud)
    assert (c.graph_host, c.authority_host, c.exchange_host, c.compliance_host) == (
        graph,
        authority,
        exchange,
        compliance,
    )
    assert c.graph_url == f"https://{graph}/v1.0" and c.graph_scope == f"https://{graph}/.default"
    assert c.exchange_url == f"https://{exchange}/adminapi/beta"
    assert c.audit_search_available == (cloud == "global")


def test_every_cloud_name_is_in_the_table() -> None:
    assert set(CLOUD_NAMES) == {"global", "gcc", "gcc-high", "dod", "china"}
    with pytest.raises(UsageError, match="unknown cloud"):
        cloud_endpoints("mars")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/v1.0/",
        "http://localhost:1/x/v1.0",
        "http://[::1]:9/v1.0",
        "https://graph.example.org/v1.0",
    ],
)
def test_allowed_endpoints_are_normalised(url: str) -> None:
    assert validate_endpoint(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://graph.example.org/v1.0", "only allowed for loopback"),
        ("ftp://127.0.0.1/v1.0", "not an http"),
        ("https://user:pw@graph.example.org/v1.0", "credentials"),
        ("https://graph.example.org/v1.0?x=1", "query"),
    ],
)
def test_rejected_endpoints(url: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        validate_endpoint(url, "--graph-endpoint")
