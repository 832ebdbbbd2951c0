"""Azure Resource Manager: where the logs go (Entra diagnostic settings, Log Analytics, Sentinel, storage).

:func:`log_export_section` builds the evidence's ``log_export`` section for one tenant. Plain
httpx with an azure-identity token (see :mod:`assessor.collect.azure.client` and the README's
dependency notes for why no azure-mgmt-* package).
"""

from __future__ import annotations

import asyncio
from typing import Any

from assessor.collect.azure.client import ArmClient, ArmError, TokenSource
from assessor.collect.azure.collector import FIX_AADIAM, FIX_SUBSCRIPTIONS, AzureCollector, AzureRead
from assessor.collect.retry import RetryPolicy
from assessor.evidence import LogExport

__all__ = ["REQUIRED_ROLES", "ArmClient", "ArmError", "AzureCollector", "AzureRead", "log_export_section"]

SOURCE = "Azure Resource Manager"
REQUIRED_ROLES = f"{FIX_SUBSCRIPTIONS}; {FIX_AADIAM}"


def _not_collected(reason: str, fix: str | None, requested: bool = True) -> dict[str, Any]:
    return {
        "provenance": {
            "status": "not_collected",
            "reason": reason,
            "fix": fix,
            "source": SOURCE,
            "requested": requested,
        }
    }


def skipped_section() -> dict[str, Any]:
    return _not_collected(
        "Azure was not read (--no-azure)",
        f"drop --no-azure and grant {REQUIRED_ROLES}, or attest forwarding (--attest)",
        requested=False,
    )


async def log_export_section(
    base_url: str,
    scope: str,
    credential: TokenSource,
    *,
    subscriptions: tuple[str, ...] = (),
    request_timeout: float = 60.0,
    timeout: float = 900.0,
    retry: RetryPolicy | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The log_export section (collected, or not_collected with the reason and role) and notes."""
    client = ArmClient(base_url, scope, credential, request_timeout=request_timeout, retry=retry)
    notes: list[str] = []
    try:
        result = await asyncio.wait_for(AzureCollector(client, subscriptions).run(), timeout)
    except asyncio.TimeoutError:
        return _not_collected(
            f"timed out: reading Azure exceeded {timeout:g} s", "retry later or raise --tenant-timeout"
        ), notes
    except ArmError as err:
        return _not_collected(err.describe(), REQUIRED_ROLES), notes
    finally:
        await client.aclose()
    stats = client.stats
    notes.append(
        f"azure: {stats.requests} ARM requests, {stats.pages} list pages"
        + (f", {stats.retries} retries" if stats.retries else "")
    )
    if result.data is None:
        return _not_collected(result.reason or "nothing could be read", result.fix), notes
    notes.extend(f"azure: not readable: {g.what}: {g.reason}" for g in result.data.gaps)
    section = {
        "provenance": {"status": "collected", "source": f"{SOURCE} ({base_url})"},
        "data": LogExport(azure=result.data).model_dump(),
    }
    return section, notes
