"""Fixtures for the probe tests: sandbox servers started on demand and stopped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from assessor.sandbox.server import SandboxServer


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[SandboxServer] = []

    def start(*tenants: Any, **kwargs: Any) -> SandboxServer:
        server = SandboxServer(list(tenants), **kwargs)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
