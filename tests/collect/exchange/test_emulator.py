"""The Exchange emulator's contract: envelope, ResultSize cap, errors in Exchange's shape, spec validation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from assessor.sandbox.exchange import ExchangeOrg, exchange_org
from assessor.sandbox.server import SandboxServer
from assessor.sandbox.spec import SpecError, load_tenant

AUTH = {"Authorization": "Bearer sandbox"}


def invoke(
    server: SandboxServer,
    cmdlet: str,
    params: dict[str, Any] | None = None,
    query: str = "",
    tenant: str = "contoso",
    path_tenant: str | None = None,
) -> httpx.Response:
    base = server.exchange_endpoints(tenant)["exchange_endpoint"]
    key = path_tenant or server.state(tenant).tenant.id
    body = {"CmdletInput": {"CmdletName": cmdlet, "Parameters": params or {}}}
    return httpx.post(f"{base}/{key}/InvokeCommand{query}", json=body, headers=AUTH)


def test_envelope_and_default_result_size(server: SandboxServer) -> None:
    answer = invoke(server, "Get-Mailbox", {}, "?$select=UserPrincipalName")
    doc = answer.json()
    tenant = server.state("contoso").tenant.id
    assert doc["@odata.context"].endswith(f"/adminapi/beta/{tenant}/$metadata#Collection(Exchange.GenericHashTable)")
    assert len(doc["value"]) == 200 and "@odata.nextLink" not in doc  # 197 user + 3 shared mailboxes
    capped = invoke(server, "Get-Mailbox", {"ResultSize": 150}).json()
    assert len(capped["value"]) == 150 and "ResultSize" in capped["@adminapi.warnings"][0]


def test_tenant_may_be_named_by_domain(server: SandboxServer) -> None:
    answer = invoke(server, "Get-OrganizationConfig", path_tenant="contoso.onmicrosoft.com")
    assert answer.status_code == 200 and answer.json()["value"][0]["AuditDisabled"] is False
    wrong = invoke(server, "Get-OrganizationConfig", path_tenant="fabrikam.com")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "InvalidTenant"


def test_errors_have_the_exchange_shape(server: SandboxServer) -> None:
    error = invoke(server, "Get-OrganizationConfig", tenant="gov").json()["error"]
    assert error["code"] == "Unauthorized" and error["details"][0]["message"].count("|") == 2
    assert error["innererror"]["internalexception"]["message"] == error["message"]
    base = server.exchange_endpoints("contoso")["exchange_endpoint"]
    tenant = server.state("contoso").tenant.id
    assert httpx.get(f"{base}/{tenant}/InvokeCommand", headers=AUTH).status_code == 405
    assert httpx.post(f"{base}/{tenant}/InvokeCommand", json={"x": 1}, headers=AUTH).status_code == 400
    assert httpx.post(f"{base}/{tenant}/InvokeCommand", json={}).status_code == 401  # no bearer token


def test_mailboxes_derive_from_in_scope_users() -> None:
    org = exchange_org(load_tenant("contoso"))
    assert org.user_mailboxes == 197 and org.total_mailboxes == 200
    upns = {org.mailbox(i)["UserPrincipalName"] for i in range(org.user_mailboxes)}
    assert not any(u.startswith(("leavers.", "unlicensed.", "o365-suspended.", "partners.")) for u in upns)


@pytest.mark.parametrize(
    "exchange, message",
    [
        ({"customised": [{"segment": "leavers", "count": 1, "audit_owner": []}]}, "segment 'leavers' has no mailboxes"),
        ({"customised": [{"segment": "admins", "count": 5, "audit_owner": []}]}, "more customised mailboxes than"),
        ({"deny": 500}, "exchange.deny"),
        ({"bypass_users": ["partners[0]"]}, r"'partners\[0\]' has no mailbox"),
        ({"unknown": 1}, "exchange.unknown"),
    ],
)
def test_bad_exchange_specs_are_spec_errors(exchange: dict[str, Any], message: str) -> None:
    tenant = load_tenant("contoso")
    spec = tenant.spec.model_copy(update={"extensions": {"exchange": exchange}})
    with pytest.raises(SpecError, match=message):
        ExchangeOrg(type(tenant)(spec))
