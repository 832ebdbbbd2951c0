"""Azure Resource Manager: where the logs go (Entra diagnostic settings, Log Analytics, Sentinel, storage).

:func:`read_log_export` reads the evidence's ``log_export`` section for one tenant: ``Collected``
with a :class:`~assessor.evidence.LogExport`, or ``NotCollected`` with the reason and role. Plain
httpx with an azure-identity token (see :mod:`assessor.collect.azure.client` and the README's
dependency notes for why no azure-mgmt-* package).
"""

from __future__ import annotations

import asyncio

from assessor.collect.azure.client import ArmClient, ArmError, TokenSource
from assessor.collect.azure.collector import FIX_AADIAM, FIX_SUBSCRIPTIONS, AzureCollector, AzureRead
from assessor.collect.interface import Collected, NotCollected
from assessor.collect.retry import RetryPolicy
from assessor.evidence import LogExport

__all__ = [
    "REQUIRED_ROLES",
    "ArmClient",
    "ArmError",
    "AzureCollector",
    "AzureRead",
    "LogExportOutcome",
    "read_log_export",
    "skipped",
]

SOURCE = "Azure Resource Manager"
REQUIRED_ROLES = f"{FIX_SUBSCRIPTIONS}; {FIX_AADIAM}"

LogExportOutcome = Collected[LogExport] | NotCollected


def _not_collected(reason: str, fix: str | None, requested: bool = True) -> NotCollected:
    return NotCollected(reason, fix, SOURCE, requested=requested)


def skipped() -> NotCollected:
    """``log_export`` when Azure was not asked for (``--no-azure``)."""
    return _not_collected(
        "Azure was not read (--no-azure)",
        f"drop --no-azure and grant {REQUIRED_ROLES}, or attest forwarding (--attest)",
        requested=False,
    )


async def read_log_export(
    base_url: str,
    scope: str,
    credential: TokenSource,
    *,
    subscriptions: tuple[str, ...] = (),
    request_timeout: float = 60.0,
    timeout: float = 900.0,
    retry: RetryPolicy | None = None,
) -> tuple[LogExportOutcome, list[str]]:
    """The log_export section's outcome (collected, or not collected with the reason and role) and notes."""
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
    return Collected(LogExport(azure=result.data), f"{SOURCE} ({base_url})"), notes
