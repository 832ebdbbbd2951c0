"""Fixtures for collector tests: the real msgraph-sdk against in-process sandbox servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from assessor.collect import RetryPolicy, collect_sync
from assessor.evidence import Evidence
from assessor.pipeline import collect_options
from assessor.sandbox import SandboxServer, load_tenant

FAST_RETRY = RetryPolicy(max_retries=4, max_wait_per_retry=2, max_total_wait=5, backoff_base=0.01)


@pytest.fixture(scope="session")
def server() -> Iterator[SandboxServer]:
    """Fault-free tenants shared by the read-only tests (fabrikam rescaled to 4,500 users: 5 pages)."""
    with SandboxServer(["contoso", "gov", load_tenant("fabrikam", users=4500)]) as running:
        yield running


@pytest.fixture
def make_server() -> Iterator[Callable[..., SandboxServer]]:
    """A fresh server with its own faults: ``make_server(["contoso"], throttle=..., errors=...)``."""
    with ExitStack() as stack:

        def factory(tenants: list[Any], **faults: Any) -> SandboxServer:
            return stack.enter_context(SandboxServer(tenants, **faults))

        yield factory


def run(server: SandboxServer, name: str, **overrides: Any) -> Evidence:
    """Collect ``name`` from ``server`` through the real SDK (Exchange skipped, fast retries)."""
    overrides.setdefault("no_exchange", True)
    overrides.setdefault("retry", FAST_RETRY)
    return collect_sync(collect_options(server, name, **overrides))
