"""The emulator answers with Graph's documented shapes (raw HTTP, no SDK)."""

from __future__ import annotations

import base64

import httpx
import pytest

from assessor.sandbox.server import SandboxServer

from .conftest import AUTH, EVENTUAL

IN_SCOPE = (
    "accountEnabled eq true and userType eq 'Member' and assignedPlans/any(a:a/servicePlanId eq "
    "efb87545-963c-4e0d-99df-69c6916d9eb0 and a/capabilityStatus eq 'Enabled')"
)


def assert_graph_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert {"date", "request-id", "client-request-id"} <= set(body["error"]["innerError"])
    return body["error"]


def test_bearer_token_is_required(http: httpx.Client, contoso_url: str) -> None:
    assert_graph_error(http.get(f"{contoso_url}/organization"), 401, "InvalidAuthenticationToken")
    assert_graph_error(
        http.get(f"{contoso_url}/organization", headers={"Authorization": "Basic abc"}),
        401,
        "InvalidAuthenticationToken",
    )


def test_organization_shape(http: httpx.Client, contoso_url: str) -> None:
    org = http.get(f"{contoso_url}/organization", headers=AUTH).json()["value"][0]
    assert org["id"] == "8b4e2f10-3c7d-4a51-9e26-5f0c1a7d3b42"
    assert any(d["isDefault"] and d["name"] == "contoso.com" for d in org["verifiedDomains"])


def test_subscribed_skus_support_select_only(http: httpx.Client, contoso_url: str) -> None:
    skus = http.get(f"{contoso_url}/subscribedSkus", params={"$select": "skuId,capabilityStatus"}, headers=AUTH)
    assert all(set(s) == {"skuId", "capabilityStatus"} for s in skus.json()["value"])
    full = http.get(f"{contoso_url}/subscribedSkus", headers=AUTH).json()["value"][0]
    assert {"prepaidUnits", "consumedUnits", "servicePlans", "skuPartNumber"} <= set(full)
    bad = http.get(f"{contoso_url}/subscribedSkus", params={"$filter": "skuId eq 'x'"}, headers=AUTH)
    assert_graph_error(bad, 400, "Request_UnsupportedQuery")


def test_select_leaves_unselected_properties_absent(http: httpx.Client, contoso_url: str) -> None:
    page = http.get(f"{contoso_url}/users", params={"$select": "id,assignedLicenses", "$top": "5"}, headers=AUTH)
    assert all(set(u) == {"id", "assignedLicenses"} for u in page.json()["value"])
    default = http.get(f"{contoso_url}/users", params={"$top": "1"}, headers=AUTH).json()["value"][0]
    assert "assignedLicenses" not in default and "userPrincipalName" in default
    unknown = http.get(f"{contoso_url}/users", params={"$select": "nope"}, headers=AUTH)
    assert_graph_error(unknown, 400, "Request_BadRequest")


@pytest.mark.parametrize("top", ["0", "1000", "abc"])
def test_top_is_bounded(http: httpx.Client, contoso_url: str, top: str) -> None:
    assert_graph_error(http.get(f"{contoso_url}/users", params={"$top": top}, headers=AUTH), 400, "Request_BadRequest")


@pytest.mark.parametrize(
    "flt",
    [
        "startswith(displayName,'a')",
        "accountEnabled gt true",
        "mail eq 'x'",
        "assignedPlans/all(a:a/servicePlanId eq 1)",
        "userType eq",
    ],
)
def test_unsupported_filters_answer_request_unsupported_query(http: httpx.Client, contoso_url: str, flt: str) -> None:
    response = http.get(f"{contoso_url}/users/$count", params={"$filter": flt}, headers=EVENTUAL)
    assert_graph_error(response, 400, "Request_UnsupportedQuery")


def test_count_needs_consistency_level(http: httpx.Client, contoso_url: str) -> None:
    err = assert_graph_error(http.get(f"{contoso_url}/users/$count", headers=AUTH), 400, "Request_UnsupportedQuery")
    assert "ConsistencyLevel" in err["message"]
    ok = http.get(f"{contoso_url}/users/$count", params={"$filter": IN_SCOPE}, headers=EVENTUAL)
    assert ok.headers["content-type"].startswith("text/plain")
    assert ok.text == "197"
    assert_graph_error(
        http.get(f"{contoso_url}/users", params={"$count": "true"}, headers=AUTH), 400, "Request_BadRequest"
    )


def test_advanced_filters_on_lists_need_count_and_eventual(http: httpx.Client, contoso_url: str) -> None:
    plain = http.get(f"{contoso_url}/users", params={"$filter": IN_SCOPE}, headers=AUTH)
    assert_graph_error(plain, 400, "Request_UnsupportedQuery")
    ok = http.get(
        f"{contoso_url}/users", params={"$filter": IN_SCOPE, "$count": "true", "$top": "999"}, headers=EVENTUAL
    ).json()
    assert ok["@odata.count"] == 197 == len(ok["value"])
    simple = http.get(f"{contoso_url}/users", params={"$filter": "userType eq 'Guest'"}, headers=AUTH).json()
    assert len(simple["value"]) == 12


def test_paging_across_many_pages_with_opaque_skiptoken(http: httpx.Client, shared_server: SandboxServer) -> None:
    url = shared_server.graph_url("fabrikam")
    link: str | None = f"{url}/users?$select=id&$top=97"
    ids: list[str] = []
    pages = 0
    while link:
        body = http.get(link, headers=AUTH).json()
        ids.extend(u["id"] for u in body["value"])
        link = body.get("@odata.nextLink")
        pages += 1
        if link:
            assert "$skiptoken=" in link and "$top=97" in link
    assert pages == 26 and len(ids) == len(set(ids)) == 2500
    forged = http.get(f"{url}/users", params={"$top": "97", "$select": "id", "$skiptoken": "RFNwdAxyz"}, headers=AUTH)
    assert_graph_error(forged, 400, "Request_BadRequest")


def test_user_lookup_and_license_details(http: httpx.Client, contoso_url: str) -> None:
    user = http.get(
        f"{contoso_url}/users/e5-no-audit.000000@contoso.com", params={"$select": "id,assignedLicenses"}, headers=AUTH
    ).json()
    assert user["assignedLicenses"][0]["disabledPlans"]
    details = http.get(f"{contoso_url}/users/{user['id']}/licenseDetails", headers=AUTH).json()["value"]
    statuses = {p["servicePlanName"]: p["provisioningStatus"] for p in details[0]["servicePlans"]}
    assert statuses["M365_ADVANCED_AUDITING"] == "Disabled"
    missing = http.get(f"{contoso_url}/users/8b4e2f10-0000-4000-8000-0000000fffff", headers=AUTH)
    assert_graph_error(missing, 404, "Request_ResourceNotFound")


def test_role_assignments_expand_principals_of_each_type(http: httpx.Client, contoso_url: str) -> None:
    body = http.get(
        f"{contoso_url}/roleManagement/directory/roleAssignments", params={"$expand": "principal"}, headers=AUTH
    ).json()
    types = {a["principal"]["@odata.type"] for a in body["value"]}
    assert types == {"#microsoft.graph.user", "#microsoft.graph.group", "#microsoft.graph.servicePrincipal"}
    only = http.get(
        f"{contoso_url}/roleManagement/directory/roleAssignments",
        params={"$filter": "roleDefinitionId eq '62e90394-69f5-4237-9190-012177145e10'"},
        headers=AUTH,
    ).json()["value"]
    assert len(only) == 3 and all("principal" not in a for a in only)


def test_directory_roles_fallback_shape(http: httpx.Client, contoso_url: str) -> None:
    roles = http.get(f"{contoso_url}/directoryRoles", headers=AUTH).json()["value"]
    exchange = next(r for r in roles if r["displayName"] == "Exchange Administrator")
    members = http.get(f"{contoso_url}/directoryRoles/{exchange['id']}/members", headers=AUTH).json()["value"]
    assert {m["@odata.type"] for m in members} == {"#microsoft.graph.user", "#microsoft.graph.group"}
    assert_graph_error(
        http.get(f"{contoso_url}/directoryRoles", params={"$top": "1"}, headers=AUTH), 400, "Request_UnsupportedQuery"
    )


def test_batch_shape_statuses_and_base64_counts(http: httpx.Client, contoso_url: str) -> None:
    requests = [
        {"id": "a", "method": "GET", "url": "/users/$count", "headers": {"ConsistencyLevel": "eventual"}},
        {"id": "b", "method": "GET", "url": "users/$count"},
        {"id": "c", "method": "GET", "url": "/organization"},
    ]
    body = http.post(f"{contoso_url}/$batch", json={"requests": requests}, headers=AUTH).json()
    by_id = {r["id"]: r for r in body["responses"]}
    assert set(by_id) == {"a", "b", "c"}
    assert by_id["a"]["status"] == 200 and base64.b64decode(by_id["a"]["body"]) == b"232"
    assert by_id["b"]["status"] == 400 and by_id["b"]["body"]["error"]["code"] == "Request_UnsupportedQuery"
    assert by_id["c"]["body"]["value"][0]["displayName"] == "Contoso Ltd"
    too_many = [{"id": str(i), "method": "GET", "url": "/organization"} for i in range(21)]
    assert_graph_error(http.post(f"{contoso_url}/$batch", json={"requests": too_many}, headers=AUTH), 400, "BadRequest")


def test_unknown_segments_and_tenants(http: httpx.Client, shared_server: SandboxServer) -> None:
    url = shared_server.graph_url("contoso")
    assert_graph_error(http.get(f"{url}/nothingHere", headers=AUTH), 400, "BadRequest")
    other = f"{shared_server.base_url}/00000000-0000-0000-0000-000000000000/v1.0/organization"
    assert_graph_error(http.get(other, headers=AUTH), 400, "InvalidTenant")
    by_name = http.get(f"{shared_server.base_url}/contoso/v1.0/organization", headers=AUTH)
    assert by_name.json()["value"][0]["displayName"] == "Contoso Ltd"
