"""Fixtures for the Exchange collector tests: a sandbox server on 127.0.0.1 and plans against it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from assessor.collect.auth import StaticTokenCredential
from assessor.collect.clouds import cloud_endpoints
from assessor.collect.exchange import ExchangePlan, RetryPolicy
from assessor.sandbox.server import SandboxServer
from assessor.sandbox.spec import SandboxTenant, load_spec

FAST_RETRY = RetryPolicy(max_retries=3, max_wait_per_retry=2.0, max_total_wait=5.0, backoff_base=0.01)


def variant(name: str, new_name: str, new_id: str, **exchange: Any) -> SandboxTenant:
    """A bundled tenant under another name/id with its `exchange:` spec changed."""
    spec = load_spec(name)
    merged = {**spec.extensions, "exchange": {**(spec.extensions.get("exchange") or {}), **exchange}}
    return SandboxTenant(spec.model_copy(update={"name": new_name, "id": new_id, "extensions": merged}))


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(["contoso", "gov"]) as srv:
        yield srv


@pytest.fixture
def tokens() -> StaticTokenCredential:
    return StaticTokenCredential({"graph": "g", "exchange": "e", "compliance": "c"})


def plan_for(server: SandboxServer, tenant: str, **kw: Any) -> ExchangePlan:
    state = server.state(tenant)
    cloud = cloud_endpoints(state.tenant.cloud)
    return ExchangePlan(
        tenant=state.tenant.id,
        cloud=cloud,
        exchange_endpoint=server.api_url(tenant, "adminapi") + "/beta",
        compliance_endpoint=server.api_url(tenant, "compliance") + "/adminapi/beta",
        retry=kw.pop("retry", FAST_RETRY),
        **kw,
    )


@pytest.fixture
def make_plan() -> Any:
    return plan_for


@pytest.fixture
def make_variant() -> Any:
    return variant
