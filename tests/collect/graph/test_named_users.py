"""Users named by retention policies are resolved through Graph so retention is exact per user."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timezone

import pytest

from assessor.collect import collect_sync
from assessor.engine.runner import evaluate
from assessor.pipeline import collect_options
from assessor.profiles import load_profile
from assessor.sandbox.server import SandboxServer
from assessor.sandbox.spec import SandboxTenant, load_spec

TEN_YEAR_USER = "e5-ten-year.000000@contoso.com"
STANDARD_USER = "e3-staff.000003@contoso.com"
GHOST = "former.ceo@contoso.com"


def _tenant() -> SandboxTenant:
    spec = load_spec("contoso")
    exchange = dict(spec.extensions.get("exchange") or {})
    exchange["retention_policies"] = [
        {
            "name": "Named 7 days",
            "priority": 1,
            "retention_duration": "SevenDays",
            "user_ids": [TEN_YEAR_USER, STANDARD_USER, GHOST],
        },
        {
            "name": "Exchange one year",
            "priority": 2,
            "retention_duration": "TwelveMonths",
            "record_types": ["ExchangeItem"],
        },
    ]
    return SandboxTenant(
        spec.model_copy(
            update={
                "name": "contoso-named",
                "id": "8b4e2f10-3c7d-4a51-9e26-5f0c1a7d3b99",
                "extensions": {**spec.extensions, "exchange": exchange},
            }
        )
    )


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer([_tenant()]) as srv:
        yield srv


def test_named_users_resolved_and_shortened_whatever_their_licence(server: SandboxServer) -> None:
    opts = collect_options(server, "contoso-named", **server.exchange_endpoints("contoso-named"))
    evidence = collect_sync(opts)
    users = evidence.users.data
    assert users is not None
    assert {u.user_principal_name for u in users.named} == {TEN_YEAR_USER, STANDARD_USER}
    assert users.unresolved_names == [GHOST]
    report = evaluate(
        evidence,
        load_profile("baseline"),
        on=date(2026, 11, 25),
        generated_at=datetime(2026, 11, 25, tzinfo=timezone.utc),
    )
    # a policy shorter than the Standard default shortens the E3 user too (the reading that cannot
    # falsely pass); both named users are cut to 7 days
    for workload in ("Exchange", "SharePoint", "Other"):
        w = report.retention.workloads[workload]
        assert w.users_short == 2 and w.effective_days_min == 7, workload
    causes = report.retention.workloads["Exchange"].causes
    assert any(TEN_YEAR_USER in c for c in causes) and any(STANDARD_USER in c for c in causes)


def test_a_user_named_by_upn_and_by_object_id_counts_once() -> None:
    base = _tenant()
    index = next(i for i in range(base.user_count) if base.user(i)["userPrincipalName"] == TEN_YEAR_USER)
    object_id = base.user(index)["id"]
    spec = base.spec
    exchange = dict(spec.extensions["exchange"])
    exchange["retention_policies"] = [
        {"name": "By UPN", "priority": 1, "retention_duration": "SevenDays", "user_ids": [TEN_YEAR_USER]},
        {
            "name": "By id",
            "priority": 2,
            "retention_duration": "SevenDays",
            "user_ids": [object_id, TEN_YEAR_USER.upper()],
        },
    ]
    tenant = SandboxTenant(spec.model_copy(update={"extensions": {**spec.extensions, "exchange": exchange}}))
    with SandboxServer([tenant]) as srv:
        evidence = collect_sync(collect_options(srv, "contoso-named", **srv.exchange_endpoints("contoso-named")))
    users = evidence.users.data
    assert users is not None and [u.id for u in users.named] == [object_id]
    report = evaluate(
        evidence,
        load_profile("baseline"),
        on=date(2026, 11, 25),
        generated_at=datetime(2026, 11, 25, tzinfo=timezone.utc),
    )
    assert report.retention.workloads["Exchange"].users_short == 1
