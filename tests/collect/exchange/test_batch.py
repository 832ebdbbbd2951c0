"""The Exchange cmdlets' first pages in one `$batch`, through the real client against the emulator:
fewer requests, the same evidence, and every item's failure its own cmdlet's failure."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from assessor.collect.auth import StaticTokenCredential
from assessor.collect.clouds import cloud_endpoints
from assessor.collect.exchange import SECTIONS, ExchangePlan, collect_exchange
from assessor.collect.exchange.collector import ExchangeOutcome, ExchangeResult
from assessor.collect.interface import Collected, NotCollected, section_of
from assessor.jsontypes import JsonObject
from assessor.sandbox.api import Operation
from assessor.sandbox.chaos import Chaos, ChaosConfig
from assessor.sandbox.exchange import ExchangeApi, exchange_error
from assessor.sandbox.http import SandboxRequest, SandboxResponse
from assessor.sandbox.server import SandboxServer
from assessor.sandbox.spec import ErrorSpec, ThrottleSpec, load_tenant
from tests.collect.exchange.conftest import FAST_RETRY, plan_for, variant

EXCHANGE_SECTIONS = [s for s in SECTIONS if s != "retention_policies"]
TENANTS = ("contoso", "fabrikam", "gov", "northwind", "tailspin", "woodgrove")


def run(tokens: Any, plan: ExchangePlan) -> ExchangeResult:
    return asyncio.run(collect_exchange(tokens, plan))


def exchange_requests(server: SandboxServer, tenant: str) -> list[str]:
    """The Exchange admin API requests the server saw (paths after the tenant), in order."""
    tenant_id = server.state(tenant).tenant.id
    prefix = f"/{tenant_id}/adminapi/"
    return [r.path[len(prefix) :] for r in server.log.snapshot(tenant_id) if r.path.startswith(prefix)]


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else str(value)


def comparable(sections: dict[str, ExchangeOutcome]) -> str:
    """The sections as the evidence stores them, without the time they were read or the port of
    the server that answered."""
    out: dict[str, Any] = {}
    for name, outcome in sections.items():
        doc = json.loads(json.dumps(section_of(outcome), default=_plain))
        doc["provenance"].pop("at", None)
        out[name] = doc
    return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", json.dumps(out, sort_keys=True))


def not_collected(outcome: ExchangeOutcome) -> NotCollected:
    assert isinstance(outcome, NotCollected), outcome
    return outcome


# --------------------------------------------------------------------------- the ordinary path


def test_four_cmdlets_cost_one_request_and_read_the_same(server: SandboxServer, tokens: Any) -> None:
    server.reset_stats()
    batched = run(tokens, plan_for(server, "contoso"))
    paths = exchange_requests(server, "contoso")
    assert len(paths) == 1 and urlsplit(paths[0]).path.endswith("/$batch")
    assert batched.stats["exchange"].requests == 1 and batched.stats["exchange"].batched == 4
    server.reset_stats()
    single = run(tokens, plan_for(server, "contoso", batch=False))
    assert len(exchange_requests(server, "contoso")) == 4
    assert comparable(batched.sections) == comparable(single.sections)
    assert all(isinstance(batched.sections[s], Collected) for s in SECTIONS)
    assert "4 first pages in 1 $batch request" in batched.notes[0]


def test_next_pages_follow_a_batched_first_page_one_by_one(server: SandboxServer, tokens: Any) -> None:
    server.reset_stats()
    batched = run(tokens, plan_for(server, "contoso", page_size=25))
    paths = exchange_requests(server, "contoso")
    # 197 mailboxes and 199 bypass associations: 8 pages each, the first two in the $batch
    assert urlsplit(paths[0]).path.endswith("/$batch")
    assert len(paths) == 1 + 7 + 7 and all("$skiptoken=" in p for p in paths[1:])
    single = run(tokens, plan_for(server, "contoso", page_size=25, batch=False))
    assert comparable(batched.sections) == comparable(single.sections)
    mailboxes = batched.sections["mailboxes"]
    assert isinstance(mailboxes, Collected) and mailboxes.data.total_user_mailboxes == 197


def test_the_app_scoping_cmdlets_join_the_same_batch(server: SandboxServer, tokens: Any) -> None:
    batched = run(tokens, plan_for(server, "contoso", app_scoping=True))
    single = run(tokens, plan_for(server, "contoso", app_scoping=True, batch=False))
    assert batched.stats["exchange"].requests == 1 and batched.stats["exchange"].batched == 7
    assert single.stats["exchange"].requests == 7
    assert batched.app_scoping == single.app_scoping and not isinstance(batched.app_scoping, str)
    assert comparable(batched.sections) == comparable(single.sections)


def test_app_scoping_denied_names_the_first_cmdlet_whatever_the_timing(tokens: Any) -> None:
    with SandboxServer(["gov"]) as srv:  # every Exchange cmdlet answers 403
        for batch in (True, False):
            scoping = run(tokens, plan_for(srv, "gov", app_scoping=True, batch=batch)).app_scoping
            assert isinstance(scoping, str) and scoping.startswith("Get-ApplicationAccessPolicy at "), scoping


@pytest.mark.parametrize("name", TENANTS)
def test_evidence_is_the_same_as_one_request_per_cmdlet(name: str, tokens: Any) -> None:
    with SandboxServer([name]) as srv:
        batched = run(tokens, plan_for(srv, name))
        single = run(tokens, plan_for(srv, name, batch=False))
    assert comparable(batched.sections) == comparable(single.sections)
    assert batched.stats["exchange"].requests == single.stats["exchange"].requests - 3


# --------------------------------------------------------------------------- an item's own failure


def _faulted(server: SandboxServer, name: str, number: int, faults: list[dict[str, Any]]) -> str:
    server.add_tenant(variant("contoso", name, f"22222222-0000-4000-8000-{number:012d}", faults=faults))
    return name


def test_an_items_403_is_that_cmdlets_permission_error_alone(server: SandboxServer, tokens: Any) -> None:
    name = _faulted(server, "item403", 1, [{"cmdlet": "Get-OrganizationConfig", "status": 403}])
    server.reset_stats()
    result = run(tokens, plan_for(server, name))
    denied = not_collected(result.sections["organization_config"])
    assert "permission missing" in denied.reason and "non-JSON body, 4096 bytes" in denied.reason
    assert "Get-OrganizationConfig" in denied.reason and denied.fix is not None
    assert all(isinstance(result.sections[s], Collected) for s in SECTIONS if s != "organization_config")
    assert len(exchange_requests(server, name)) == 1  # a refusal is not re-sent


def test_an_items_500_is_resent_on_its_own_through_the_retry_path(server: SandboxServer, tokens: Any) -> None:
    name = _faulted(server, "item500", 2, [{"cmdlet": "Get-Mailbox", "status": 500, "times": 1}])
    server.reset_stats()
    result = run(tokens, plan_for(server, name))
    assert all(isinstance(result.sections[s], Collected) for s in SECTIONS)
    paths = exchange_requests(server, name)
    assert len(paths) == 2 and urlsplit(paths[1]).path.endswith("/InvokeCommand")
    assert result.stats["exchange"].retries == 1


def test_an_items_429_waits_its_retry_after_then_is_resent(server: SandboxServer, tokens: Any) -> None:
    name = _faulted(
        server, "item429", 3, [{"cmdlet": "Get-AdminAuditLogConfig", "status": 429, "times": 1, "retry_after": 1}]
    )
    result = run(tokens, plan_for(server, name))
    assert all(isinstance(result.sections[s], Collected) for s in SECTIONS)
    stats = result.stats["exchange"]
    assert stats.retries == 1 and stats.waited == 1 and stats.requests == 2


def test_an_item_throttled_past_the_budget_is_that_cmdlets_throttling(server: SandboxServer, tokens: Any) -> None:
    name = _faulted(
        server, "item429x", 4, [{"cmdlet": "Get-MailboxAuditBypassAssociation", "status": 429, "retry_after": 0}]
    )
    result = run(tokens, plan_for(server, name))
    throttled = not_collected(result.sections["bypass"])
    assert "answered 429" in throttled.reason and "still failing after 3 retries" in throttled.reason
    assert all(isinstance(result.sections[s], Collected) for s in SECTIONS if s != "bypass")


def test_an_item_failing_on_a_next_page_restarts_its_chain_alone(server: SandboxServer, tokens: Any) -> None:
    name = _faulted(server, "itemnext", 5, [{"cmdlet": "Get-Mailbox", "status": 400, "page": "next", "times": 1}])
    batched = run(tokens, plan_for(server, name, page_size=50))
    single = run(tokens, plan_for(server, name, page_size=50, batch=False))
    assert comparable(batched.sections) == comparable(single.sections)
    assert batched.stats["exchange"].restarts == 1


# --------------------------------------------------------------------------- answers the client must not trust


class AlteredBatch(ExchangeApi):
    """The Exchange emulator with each $batch answer passed through ``alter`` (the answered items and
    the cmdlet each asked id runs), and ``batch_status`` refusing the $batch as a whole."""

    def __init__(
        self,
        alter: Callable[[list[JsonObject], dict[str, str]], list[JsonObject]] | None = None,
        batch_status: int | None = None,
    ) -> None:
        self.alter = alter
        self.batch_status = batch_status

    def resolve(self, request: SandboxRequest) -> Operation | SandboxResponse:
        resolved = super().resolve(request)
        if not request.path.endswith("/$batch") or not isinstance(resolved, SandboxResponse):
            return resolved
        if self.batch_status is not None:
            return exchange_error(self.batch_status, "NotFound", "No resource at $batch.")
        asked = json.loads(request.body)["requests"]
        cmdlets = {i["id"]: i["body"]["CmdletInput"]["CmdletName"] for i in asked}
        doc = json.loads(resolved.body)
        assert self.alter is not None
        return SandboxResponse.json({"responses": self.alter(doc["responses"], cmdlets)})


def _with(api: AlteredBatch, tokens: Any, **kw: Any) -> tuple[ExchangeResult, SandboxServer]:
    with SandboxServer([load_tenant("contoso")], apis={"adminapi": api}) as srv:
        return run(tokens, plan_for(srv, "contoso", **kw)), srv


def _is(cmdlet: str) -> Callable[[JsonObject, dict[str, str]], bool]:
    return lambda item, cmdlets: cmdlets.get(str(item.get("id"))) == cmdlet


def test_an_item_missing_from_the_answer_is_a_protocol_error_of_its_cmdlet(tokens: Any) -> None:
    drop = _is("Get-OrganizationConfig")
    result, _srv = _with(AlteredBatch(lambda items, c: [i for i in items if not drop(i, c)]), tokens)
    missing = not_collected(result.sections["organization_config"])
    assert "missing from the $batch answer" in missing.reason
    assert all(isinstance(result.sections[s], Collected) for s in SECTIONS if s != "organization_config")


def test_an_item_answered_twice_is_a_protocol_error_of_its_cmdlet(tokens: Any) -> None:
    twice = _is("Get-Mailbox")
    result, _srv = _with(AlteredBatch(lambda items, c: items + [i for i in items if twice(i, c)]), tokens)
    assert "answered 2 times in the $batch answer" in not_collected(result.sections["mailboxes"]).reason
    assert isinstance(result.sections["bypass"], Collected)


def test_an_answer_to_something_not_asked_fails_every_cmdlet_of_the_batch(tokens: Any) -> None:
    extra: JsonObject = {"id": "99", "status": 200, "headers": {}, "body": {"value": []}}
    result, _srv = _with(AlteredBatch(lambda items, _c: [*items, extra]), tokens)
    for section in EXCHANGE_SECTIONS:
        assert "not asked for" in not_collected(result.sections[section]).reason, section
    assert isinstance(result.sections["retention_policies"], Collected)


def test_an_item_body_without_value_is_a_protocol_error_of_its_cmdlet(tokens: Any) -> None:
    bare = _is("Get-AdminAuditLogConfig")

    def strip(items: list[JsonObject], cmdlets: dict[str, str]) -> list[JsonObject]:
        return [{**i, "body": {"@odata.context": "x"}} if bare(i, cmdlets) else i for i in items]

    result, _srv = _with(AlteredBatch(strip), tokens)
    assert "no 'value' array" in not_collected(result.sections["admin_audit_log_config"]).reason
    assert isinstance(result.sections["organization_config"], Collected)


def test_items_without_status_are_read_from_their_body(tokens: Any) -> None:
    failing = _is("Get-OrganizationConfig")

    def unstatused(items: list[JsonObject], cmdlets: dict[str, str]) -> list[JsonObject]:
        out = [{k: v for k, v in i.items() if k != "status"} for i in items]
        return [
            {**i, "body": {"error": {"code": "BadRequest", "message": "Cmdlet failed."}}} if failing(i, cmdlets) else i
            for i in out
        ]

    result, _srv = _with(AlteredBatch(unstatused), tokens)
    failed = not_collected(result.sections["organization_config"])
    assert "BadRequest" in failed.reason and "Cmdlet failed." in failed.reason
    assert all(isinstance(result.sections[s], Collected) for s in SECTIONS if s != "organization_config")


@pytest.mark.parametrize("status", [404, 400, 405, 501])
def test_a_batch_endpoint_not_offered_falls_back_to_one_request_per_cmdlet(
    server: SandboxServer, tokens: Any, status: int
) -> None:
    result, _srv = _with(AlteredBatch(batch_status=status), tokens)
    assert all(isinstance(result.sections[s], Collected) for s in SECTIONS)
    assert result.stats["exchange"].requests == 1 + 4 and result.stats["exchange"].batches == 0
    assert f"$batch answered {status}" in result.notes[0] and "cmdlets sent one by one" in result.notes[0]
    single = run(tokens, plan_for(server, "contoso", batch=False))
    assert comparable(result.sections) == comparable(single.sections)


def test_a_whole_batch_throttled_is_retried_as_a_whole(tokens: Any) -> None:
    throttle = ThrottleSpec(first=1, retry_after=0, paths=["/beta/"])  # the first Exchange operation: the envelope
    with SandboxServer([load_tenant("contoso")], throttle=throttle) as srv:
        result = run(tokens, plan_for(srv, "contoso"))
        paths = exchange_requests(srv, "contoso")
    assert all(isinstance(result.sections[s], Collected) for s in SECTIONS)
    assert [urlsplit(p).path.endswith("/$batch") for p in paths] == [True, True]
    assert result.stats["exchange"].retries == 1


def test_a_whole_batch_refused_is_every_cmdlets_refusal(tokens: Any) -> None:
    with SandboxServer([load_tenant("contoso")], errors=[ErrorSpec(path="/beta/", status=401)]) as srv:
        result = run(tokens, plan_for(srv, "contoso"))
    for section in EXCHANGE_SECTIONS:
        reason = not_collected(result.sections[section]).reason
        assert reason.startswith("not authenticated") and "answered 401" in reason, section


# --------------------------------------------------------------------------- chaos inside the batch


@pytest.mark.parametrize("kind", ["truncated_page", "http_503", "throttle"])
def test_chaos_on_every_item_never_yields_a_collected_guess(tokens: Any, kind: str) -> None:
    tenant = load_tenant("contoso")
    on_items = [f"/beta/{tenant.id}/InvokeCommand"]
    chaos = Chaos(ChaosConfig.only(kind, 1.0, seed=3, paths=on_items))
    with SandboxServer([tenant], chaos=chaos) as srv:
        result = run(tokens, plan_for(srv, "contoso", retry=FAST_RETRY))
    assert chaos.injected[kind] >= 4  # the four items, and (for status kinds) their single re-sends
    for section in EXCHANGE_SECTIONS:
        assert isinstance(result.sections[section], NotCollected), section


def test_a_looping_next_link_in_an_item_is_refused(tokens: Any) -> None:
    tenant = load_tenant("contoso")
    chaos = Chaos(ChaosConfig.only("loop_next_link", 1.0, seed=1, paths=[f"/beta/{tenant.id}/InvokeCommand"]))
    with SandboxServer([tenant], chaos=chaos) as srv:
        result = run(tokens, plan_for(srv, "contoso", page_size=50))
    assert chaos.injected["loop_next_link"] >= 2
    for section in ("mailboxes", "bypass"):
        assert isinstance(result.sections[section], NotCollected), section


def test_the_token_goes_only_to_the_configured_host(server: SandboxServer) -> None:
    canary = "canary-token-7f3a"
    tokens = StaticTokenCredential({"graph": "g", "exchange": canary, "compliance": "c"})
    state = server.state("contoso")
    plan = ExchangePlan(
        tenant=state.tenant.id,
        cloud=cloud_endpoints("global"),
        exchange_endpoint=server.api_url("contoso", "adminapi") + "/beta",
        compliance_endpoint=server.api_url("contoso", "compliance") + "/adminapi/beta",
        retry=FAST_RETRY,
    )
    result = run(tokens, plan)
    assert canary not in json.dumps(comparable(result.sections)) and canary not in " ".join(result.notes)


# --------------------------------------------------------------------------- the emulator's own checks


def _post_batch(server: SandboxServer, requests: Any) -> Any:
    import httpx

    tenant = server.state("contoso").tenant.id
    base = server.api_url("contoso", "adminapi")
    return httpx.post(
        f"{base}/beta/{tenant}/$batch", json={"requests": requests}, headers={"Authorization": "Bearer e"}
    )


def _item(server: SandboxServer, n: int, **extra: Any) -> dict[str, Any]:
    tenant = server.state("contoso").tenant.id
    url = f"{server.api_url('contoso', 'adminapi')}/beta/{tenant}/InvokeCommand?$select=AuditDisabled"
    body = {"CmdletInput": {"CmdletName": "Get-OrganizationConfig", "Parameters": {}}}
    return {"id": str(n), "method": "POST", "url": url, "body": body, **extra}


def test_the_emulator_refuses_batches_the_service_would_not_take(server: SandboxServer) -> None:
    assert _post_batch(server, [_item(server, n) for n in range(11)]).status_code == 400  # more than 10
    assert _post_batch(server, [_item(server, 1), _item(server, 1)]).status_code == 400  # an id twice
    assert _post_batch(server, []).status_code == 400
    answer = _post_batch(server, [_item(server, 1, headers=["not", "an", "object"]), _item(server, 2)])
    items = {i["id"]: i for i in answer.json()["responses"]}
    assert items["1"]["status"] == 400 and items["2"]["status"] == 200
    assert items["2"]["body"]["value"] == [{"AuditDisabled": False}]


def test_an_item_on_another_host_is_refused_alone(server: SandboxServer) -> None:
    elsewhere = _item(server, 1)
    elsewhere["url"] = "https://outlook.office365.com" + urlsplit(elsewhere["url"]).path
    items = {i["id"]: i for i in _post_batch(server, [elsewhere, _item(server, 2)]).json()["responses"]}
    assert items["1"]["status"] == 400 and items["2"]["status"] == 200
