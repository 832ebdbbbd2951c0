"""Fixtures for the emulator tests: a shared in-process sandbox and a raw HTTP client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from assessor.sandbox.server import SandboxServer
from assessor.sandbox.spec import load_tenant

AUTH = {"Authorization": "Bearer test-token"}
EVENTUAL = {**AUTH, "ConsistencyLevel": "eventual"}


@pytest.fixture(scope="session")
def shared_server() -> Iterator[SandboxServer]:
    """contoso, gov and a 2,500-user fabrikam, without faults beyond the specs'."""
    with SandboxServer(["contoso", "gov", load_tenant("fabrikam", users=2500)]) as server:
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def contoso_url(shared_server: SandboxServer) -> str:
    return shared_server.graph_url("contoso")
