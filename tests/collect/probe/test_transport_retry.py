"""A dropped connection on a probe read is retried; creating a query (POST) never is."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from assessor.collect.probe import service
from assessor.collect.probe.errors import ProbeHttpError


def flaky(failures: int) -> tuple[list[int], object]:
    calls: list[int] = []

    async def make() -> str:
        calls.append(1)
        if len(calls) <= failures:
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")
        return "page"

    return calls, make


def test_reads_survive_dropped_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "TRANSPORT_RETRY_DELAYS", (0.0, 0.0))
    calls, make = flaky(2)
    assert asyncio.run(service._call(make, "GET …/records", "P", idempotent=True)) == "page"  # type: ignore[arg-type]
    assert len(calls) == 3


def test_reads_give_up_after_the_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "TRANSPORT_RETRY_DELAYS", (0.0, 0.0))
    calls, make = flaky(3)
    with pytest.raises(ProbeHttpError, match="could not be reached"):
        asyncio.run(service._call(make, "GET …/records", "P", idempotent=True))  # type: ignore[arg-type]
    assert len(calls) == 3


def test_creating_a_query_is_never_repeated() -> None:
    calls, make = flaky(1)
    with pytest.raises(ProbeHttpError):
        asyncio.run(service._call(make, "POST /security/auditLog/queries", "P"))  # type: ignore[arg-type]
    assert len(calls) == 1
