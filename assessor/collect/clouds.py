"""National clouds: Graph host, sign-in authority, Exchange, compliance and Azure Resource Manager hosts.

ARM hosts: management.azure.com (Global and GCC: GCC's Azure subscriptions live in commercial
Azure), management.usgovcloudapi.net (GCC High and DoD: Azure Government),
management.chinacloudapi.cn (21Vianet).

Source: DOMAIN.md ("National clouds"). The DoD and China compliance hosts are the ones
ExchangeOnlineManagement's Connect-IPPSSession uses for those environments; they are marked
in ``note`` because DOMAIN.md does not list them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from assessor.errors import UsageError
from assessor.vocabulary import CLOUDS as CLOUD_NAMES
from assessor.vocabulary import Cloud

CloudName = Cloud  # the name this module used before the vocabulary


@dataclass(frozen=True)
class CloudEndpoints:
    name: Cloud
    graph_host: str
    authority_host: str
    exchange_host: str
    compliance_host: str
    audit_search_available: bool
    note: str | None = None
    arm_host: str = "management.azure.com"

    @property
    def graph_url(self) -> str:
        return f"https://{self.graph_host}/v1.0"

    @property
    def graph_scope(self) -> str:
        return f"https://{self.graph_host}/.default"

    @property
    def exchange_url(self) -> str:
        return f"https://{self.exchange_host}/adminapi/beta"

    @property
    def exchange_scope(self) -> str:
        return f"https://{self.exchange_host}/.default"

    @property
    def compliance_url(self) -> str:
        return f"https://{self.compliance_host}/adminapi/beta"

    @property
    def compliance_scope(self) -> str:
        return f"https://{self.compliance_host}/.default"

    @property
    def compliance_domain(self) -> str:
        """The Microsoft domain the compliance front door's regional redirect must stay under
        (``protection.outlook.com`` for Global/GCC, ``protection.office365.us`` for GCC High/DoD)."""
        return self.compliance_host.split("compliance.", 1)[1]

    @property
    def arm_url(self) -> str:
        """Azure Resource Manager (where Entra diagnostic settings, Log Analytics and Sentinel are read)."""
        return f"https://{self.arm_host}"

    @property
    def arm_scope(self) -> str:
        return f"https://{self.arm_host}/.default"

    @property
    def authority(self) -> str:
        return f"https://{self.authority_host}"


CLOUDS: dict[str, CloudEndpoints] = {
    Cloud.GLOBAL: CloudEndpoints(
        Cloud.GLOBAL,
        "graph.microsoft.com",
        "login.microsoftonline.com",
        "outlook.office365.com",
        "ps.compliance.protection.outlook.com",
        True,
    ),
    Cloud.GCC: CloudEndpoints(
        Cloud.GCC,
        "graph.microsoft.com",
        "login.microsoftonline.com",
        "outlook.office365.com",
        "ps.compliance.protection.outlook.com",
        False,
        "GCC uses the commercial endpoints; the audit search API is Global-only",
    ),
    Cloud.GCC_HIGH: CloudEndpoints(
        Cloud.GCC_HIGH,
        "graph.microsoft.us",
        "login.microsoftonline.us",
        "outlook.office365.us",
        "ps.compliance.protection.office365.us",
        False,
        arm_host="management.usgovcloudapi.net",
    ),
    Cloud.DOD: CloudEndpoints(
        Cloud.DOD,
        "dod-graph.microsoft.us",
        "login.microsoftonline.us",
        "outlook-dod.office365.us",
        "l5.ps.compliance.protection.office365.us",
        False,
        "compliance host as used by Connect-IPPSSession for DoD; not in DOMAIN.md",
        arm_host="management.usgovcloudapi.net",
    ),
    Cloud.CHINA: CloudEndpoints(
        Cloud.CHINA,
        "microsoftgraph.chinacloudapi.cn",
        "login.chinacloudapi.cn",
        "partner.outlook.cn",
        "ps.compliance.protection.partner.outlook.cn",
        False,
        "Exchange/compliance hosts as used by ExchangeOnlineManagement for 21Vianet",
        arm_host="management.chinacloudapi.cn",
    ),
}


def cloud_endpoints(name: str) -> CloudEndpoints:
    try:
        return CLOUDS[name.strip().lower()]
    except KeyError:
        raise UsageError(f"unknown cloud {name!r}; choose one of {', '.join(CLOUD_NAMES)}") from None


@lru_cache(maxsize=256)  # asked for every endpoint of every tenant of a bulk run
def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def validate_endpoint(url: str, option: str = "--graph-endpoint") -> str:
    """An endpoint override, normalised (no trailing slash). https anywhere; http only on loopback."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{option}: {url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise UsageError(f"{option}: credentials in the URL are not allowed")
    if parts.query or parts.fragment:
        raise UsageError(f"{option}: the base URL must not carry a query or fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError(
            f"{option}: plain http is only allowed for loopback hosts (127.0.0.1, ::1, localhost); use https"
        )
    return url.strip().rstrip("/")
