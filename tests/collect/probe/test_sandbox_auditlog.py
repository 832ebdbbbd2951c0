"""The audit search emulator itself: lifecycle, filters, isolation, determinism, lazy generation."""

from __future__ import annotations

import json
import time
import tracemalloc
from typing import Any

import httpx
import pytest

from assessor.sandbox.auditlog import audit_log_of, expected_users, with_audit_log
from assessor.sandbox.graph import encode_skiptoken
from assessor.sandbox.spec import SpecError
from tests.helpers.support import fresh_python

HEADERS = {"Authorization": "Bearer sandbox"}
WINDOW = {"filterStartDateTime": "2026-11-18T00:00:00Z", "filterEndDateTime": "2026-11-25T00:00:00Z"}


def _queries(server: Any, tenant: str) -> str:
    return server.graph_url(tenant) + "/security/auditLog/queries"


def _create(server: Any, tenant: str, **body: Any) -> dict[str, Any]:
    answer = httpx.post(_queries(server, tenant), json={**WINDOW, **body}, headers=HEADERS)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_lifecycle_follows_elapsed_time(serve: Any) -> None:
    server = serve(with_audit_log("contoso", query_seconds=1.0))
    created = _create(server, "contoso", operationFilters=["Send"])
    assert created["status"] == "notStarted" and created["isRecordCountLimitExceeded"] is None
    url = f"{_queries(server, 'contoso')}/{created['id']}"
    early = httpx.get(url + "/records", headers=HEADERS)
    assert early.status_code == 400 and "has not succeeded" in early.json()["error"]["message"]
    time.sleep(0.2)
    assert httpx.get(url, headers=HEADERS).json()["status"] == "running"
    time.sleep(0.9)
    done = httpx.get(url, headers=HEADERS).json()
    assert done["status"] == "succeeded" and done["approximateReturnedRecordCount"] == 147 * 4 * 7
    listed = httpx.get(_queries(server, "contoso"), headers=HEADERS).json()["value"]
    assert created["id"] in [q["id"] for q in listed]


def test_queries_are_isolated_per_tenant(serve: Any) -> None:
    server = serve(with_audit_log("contoso", query_seconds=0), with_audit_log("fabrikam", users=200, query_seconds=0))
    created = _create(server, "contoso")
    other = httpx.get(f"{_queries(server, 'fabrikam')}/{created['id']}", headers=HEADERS)
    assert other.status_code == 404
    assert httpx.get(f"{_queries(server, 'contoso')}/nope", headers=HEADERS).status_code == 404


def test_filters(serve: Any) -> None:
    server = serve(with_audit_log("contoso", query_seconds=0))
    sharepoint = _create(server, "contoso", serviceFilters=["sharepoint"])
    records = httpx.get(f"{_queries(server, 'contoso')}/{sharepoint['id']}/records", headers=HEADERS).json()
    assert {r["operation"] for r in records["value"]} == {"SearchQueryInitiatedSharePoint"}
    mixed_case = _create(server, "contoso", operationFilters=["mailitemsaccessed"])
    first = httpx.get(f"{_queries(server, 'contoso')}/{mixed_case['id']}/records", headers=HEADERS).json()
    assert first["value"][0]["operation"] == "MailItemsAccessed"
    assert (
        first["value"][0]["auditLogRecordType"] == "ExchangeItemAggregated"
    )  # PascalCase, as the real service sends it
    unemulated = httpx.post(_queries(server, "contoso"), json={**WINDOW, "keywordFilter": "x"}, headers=HEADERS)
    assert unemulated.status_code == 400 and "keywordFilter" in unemulated.text
    backwards = httpx.post(
        _queries(server, "contoso"),
        headers=HEADERS,
        json={"filterStartDateTime": WINDOW["filterEndDateTime"], "filterEndDateTime": WINDOW["filterStartDateTime"]},
    )
    assert backwards.status_code == 400


def test_non_global_tenant_answers_like_a_national_cloud(serve: Any) -> None:
    server = serve("gov")
    answer = httpx.post(_queries(server, "gov"), json=WINDOW, headers=HEADERS)
    assert answer.status_code == 400 and "segment 'security'" in answer.text


def _first_page(server: Any) -> list[dict[str, Any]]:
    created = _create(server, "contoso", operationFilters=["MailItemsAccessed"])
    page = httpx.get(f"{_queries(server, 'contoso')}/{created['id']}/records", headers=HEADERS).json()
    # the record id (also auditData.Id, as in real records) is per query; everything else is not
    return [
        {k: v for k, v in r.items() if k != "id"} | {"auditData": {**r["auditData"], "Id": None}} for r in page["value"]
    ]


_FIRST_PAGE_THERE = """
import json
from assessor.sandbox.auditlog import with_audit_log
from assessor.sandbox.server import SandboxServer
from tests.collect.probe.test_sandbox_auditlog import _first_page
with SandboxServer([with_audit_log("contoso", query_seconds=0, page_size=50)]) as server:
    print(json.dumps(_first_page(server)))
"""


def test_records_are_deterministic(serve: Any) -> None:
    """The same query gives the same records: twice on one server, and in another interpreter
    (another hash seed) on another server."""
    server = serve(with_audit_log("contoso", query_seconds=0, page_size=50))
    first, again = _first_page(server), _first_page(server)
    assert first == again and len(first) == 50
    assert json.loads(fresh_python(_FIRST_PAGE_THERE, hash_seed="31")) == first


def test_a_million_record_query_costs_the_server_no_memory(serve: Any) -> None:
    tenant = with_audit_log(
        "contoso",
        query_seconds=0,
        page_size=1000,
        operations={
            "MailItemsAccessed": {"record_type": "ExchangeItemAggregated", "users": 1.0, "per_user_per_day": 1000}
        },
    )
    server = serve(tenant)
    tracemalloc.start()
    try:
        created = _create(server, "contoso")
        total = httpx.get(f"{_queries(server, 'contoso')}/{created['id']}", headers=HEADERS).json()[
            "approximateReturnedRecordCount"
        ]
        token = encode_skiptoken(tenant, total - 10, created["id"])
        last = httpx.get(
            f"{_queries(server, 'contoso')}/{created['id']}/records", params={"$skiptoken": token}, headers=HEADERS
        ).json()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == 197 * 1000 * 7 >= 1_000_000
    assert len(last["value"]) == 10 and "@odata.nextLink" not in last
    assert last["value"][-1]["createdDateTime"] < WINDOW["filterEndDateTime"]
    assert peak < 20 * 2**20  # a materialised query would need about 800 MB


def test_spec_errors_are_named() -> None:
    with pytest.raises(SpecError, match="unknown audit log record type"):
        with_audit_log("contoso", operations={"Send": {"record_type": "NoSuchType"}})
    with pytest.raises(SpecError, match="unknown segment"):
        with_audit_log("contoso", operations={"Send": {"record_type": "ExchangeItem", "segments": ["nobody"]}})


def test_users_follow_the_spec_segments() -> None:
    tenant = with_audit_log(
        "contoso",
        operations={"Send": {"record_type": "exchangeItem", "segments": ["admins", "e5-staff"], "users": 0.5}},
    )
    assert expected_users(tenant, "Send") == (4 + 30) // 2
    plan = audit_log_of(tenant).plan("send")
    assert plan is not None
    upns = [tenant.user(i)["userPrincipalName"] for i in plan.user_indices()]
    assert len(set(upns)) == 17 and all(u.startswith(("admins.", "e5-staff.")) for u in upns)
    assert expected_users(tenant, "MailItemsAccessed") == 0
