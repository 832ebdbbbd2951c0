"""Published captures of real answers and Microsoft documentation examples (listed in SOURCES),
served over HTTP on 127.0.0.1 to the assessor's real clients and parsers."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from msgraph import GraphServiceClient

from assessor.collect.auth import StaticTokenCredential
from assessor.collect.exchange.client import ExchangeClient, ExchangeCommandError, ExchangeSettings
from assessor.collect.interface import Collected
from assessor.collect.probe import PollPolicy, ProbeSettings, run_probe
from assessor.collect.probe.aggregate import ProbeTally
from assessor.collect.probe.records import actor

from .replay import SAMPLES, Answer, replay, sample

HERE = Path(__file__).parent
RECORD_SAMPLES = {
    "auditlog-record-user-upn.json": ("account", "rob@m7kni.io"),
    "auditlog-record-guid-principal.json": ("id", "bbcfc3c5-0b93-4135-9ef9-18477a9fb504"),
    "auditlog-record-not-available.json": ("system", None),
    "auditlog-record-null-userkey.json": ("system", None),
}


def test_every_sample_is_listed_in_sources_with_repository_path_and_commit() -> None:
    listed = {}
    for line in (HERE / "SOURCES").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            file, repo, path, commit, what = line.split("\t")
            listed[file] = (repo, path, commit, what)
            assert "/" in repo and path and commit and what
    on_disk = {f"samples/{p.name}" for p in SAMPLES.iterdir()}
    assert on_disk == set(listed)


@pytest.mark.parametrize("name", sorted(RECORD_SAMPLES))
def test_live_records_name_the_right_kind_of_actor(name: str) -> None:
    record = json.loads(sample(name))
    assert actor(record) == RECORD_SAMPLES[name]


def test_records_in_pascal_case_exports_read_the_same() -> None:
    """The classic export spelling: PascalCase top-level keys and AuditData as a JSON string."""
    record = json.loads(sample("auditlog-record-user-upn.json"))
    pascal = {key[:1].upper() + key[1:]: value for key, value in record.items()}
    pascal["AuditData"] = json.dumps(pascal["AuditData"])
    assert actor(pascal) == ("account", "rob@m7kni.io")
    tally = ProbeTally([])
    tally.add(pascal)
    assert tally.operations["UserLoggedIn"].records == 1


class _Token:
    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("replay-token", int(time.time()) + 3600)


def test_audit_search_answered_only_on_beta_with_live_records() -> None:
    """v1.0 answers 404 UnknownError (empty message); beta serves the query and the live records."""
    records = [json.loads(sample(name)) for name in sorted(RECORD_SAMPLES)]
    records += json.loads(sample("graph-docs-auditlog-records.json"))["value"]
    query = {
        "@odata.context": "https://graph.microsoft.com/beta/$metadata#security/auditLog/queries/$entity",
        "id": "4a8b0f3c-6d7e-4f21-9c55-0b1d2e3f4a5b",
        "displayName": "probe",
        "status": "succeeded",
        "isRecordCountLimitExceeded": False,
    }

    def route(method: str, path: str, _headers: dict[str, str]) -> Answer | None:
        if path.startswith("/v1.0/security/auditLog/queries"):
            return Answer(404, b'{"error":{"code":"UnknownError","message":""}}')
        if method == "POST" and path.startswith("/beta/security/auditLog/queries"):
            return Answer(201, json.dumps(query).encode())
        if path.startswith(f"/beta/security/auditLog/queries/{query['id']}/records"):
            return Answer(200, json.dumps({"value": records}).encode())
        if path.startswith(f"/beta/security/auditLog/queries/{query['id']}"):
            return Answer(200, json.dumps(query).encode())
        return None

    with replay(route) as server:
        client = GraphServiceClient(credentials=_Token(), scopes=["https://graph.microsoft.com/.default"])
        client.request_adapter.base_url = f"{server.base_url}/v1.0"
        outcome = asyncio.run(
            run_probe(
                client,
                cloud="global",
                operations=["MailItemsAccessed"],
                days=7,
                settings=ProbeSettings(poll=PollPolicy(0.01, 1.0, 0.01)),
            )
        ).outcome
        creates = [(m, p) for m, p, _h in server.seen if m == "POST"]
    assert creates == [("POST", "/v1.0/security/auditLog/queries"), ("POST", "/beta/security/auditLog/queries")]
    assert isinstance(outcome, Collected)
    assert "/beta" in (outcome.source or "") and "v1.0 answered 404" in (outcome.source or "")
    data = outcome.data
    assert data.total_records == 5
    logged_in = data.operations["UserLoggedIn"]
    assert logged_in.records == 2 and logged_in.distinct_users == 1  # rob@m7kni.io; "Not Available" is no user
    assert logged_in.actors is not None and logged_in.actors.system_records == 1
    search = data.operations["Search"]
    assert search.distinct_users == 0 and search.actors is not None and search.actors.ids == 1
    completed = data.operations["AuditSearchCompleted"]
    assert completed.distinct_users == 0 and completed.actors is not None and completed.actors.system_records == 1
    placeholder = data.operations["String"]  # the documentation example's placeholders are no account
    assert (
        placeholder.distinct_users == 0 and placeholder.actors is not None and placeholder.actors.unknown_records == 1
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("exo-error-invalid-enum.json", "Cannot process argument transformation on parameter 'QuarantineTypes'."),
        (
            "exo-error-unknown-parameter.json",
            "Parameter set cannot be resolved using the specified named parameters. Invalid cmdlet parameters "
            "specified. BogusParameter",
        ),
    ],
)
def test_live_exchange_error_bodies_give_the_useful_text(name: str, expected: str) -> None:
    body = sample(name)

    def route(method: str, path: str, _headers: dict[str, str]) -> Answer | None:
        return Answer(400, body) if method == "POST" and path.endswith("/InvokeCommand") else None

    with replay(route) as server:
        settings = ExchangeSettings(f"{server.base_url}/adminapi/beta", "t", "https://outlook.office365.com/.default")

        async def run() -> list[Any]:
            async with ExchangeClient(settings, StaticTokenCredential({"exchange": "e"})) as client:
                return await client.invoke("Get-QuarantineMessage")

        with pytest.raises(ExchangeCommandError) as err:
            asyncio.run(run())
    assert err.value.status == 400 and err.value.code == "BadRequest"
    assert err.value.message.startswith(expected[:60]) and err.value.message != "Invalid Operation"
    assert "|" not in err.value.message[:2]


def test_documented_role_member_without_id_makes_the_holder_list_not_whole() -> None:
    """Microsoft's example answer for /directoryRoles/{id}/members has a member without an id: the
    role's holders cannot all be identified, so the section is not collected (never shorter)."""
    from assessor.collect.graph.client import GraphSettings, connect
    from assessor.collect.graph.outcome import NotCollected
    from assessor.collect.graph.roles import collect_privileged

    role = {"id": "23f3b4b4-8a29-4420-8052-e4950273bbda", "roleTemplateId": "62e90394-69f5-4237-9190-012177145e10"}
    members = sample("graph-docs-directoryrole-members.json")

    def route(method: str, path: str, _headers: dict[str, str]) -> Answer | None:
        if path.startswith("/v1.0/roleManagement/directory/roleAssignments"):
            return Answer(403, b'{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges."}}')
        if path.startswith(f"/v1.0/directoryRoles/{role['id']}/members"):
            return Answer(200, members)
        if path.startswith("/v1.0/directoryRoles"):
            return Answer(200, json.dumps({"value": [role]}).encode())
        return None

    async def run() -> Any:
        conn = connect(_Token(), GraphSettings(f"{server.base_url}/v1.0", ("https://graph.microsoft.com/.default",)))
        try:
            return await collect_privileged(conn)
        finally:
            await conn.aclose()

    with replay(route) as server:
        outcome = asyncio.run(run())
    assert isinstance(outcome, NotCollected)
    assert "1 member(s) without an id" in outcome.reason


def test_users_count_not_supported_falls_back_to_enumeration() -> None:
    """The 400 "$count is not currently supported." pasted in microsoft-graph-docs-contrib#2716,
    answered by the sandbox for every /users/$count: the figures come from enumerating users."""
    from assessor.collect import collect_sync
    from assessor.pipeline import collect_options
    from assessor.sandbox import SandboxServer
    from assessor.sandbox.spec import ErrorSpec

    error = json.loads(sample("graph-users-count-not-supported.json"))["error"]
    spec = ErrorSpec(path="/users/$count", status=400, code=error["code"], message=error["message"])

    def collect(server: SandboxServer) -> Any:
        evidence = collect_sync(collect_options(server, "contoso", no_exchange=True))
        assert evidence.users.data is not None
        return evidence

    with SandboxServer(["contoso"]) as plain, SandboxServer(["contoso"], errors=[spec]) as refusing:
        expected = collect(plain).users.data.counts
        evidence = collect(refusing)
    # enumeration gives the same figures as the counts, the users with the expanded events included
    counted = evidence.users.data.counts
    assert counted.in_scope_expanded is not None
    assert counted == expected and evidence.users.data.mode == "detail"
    assert any("$count is not currently supported" in note for note in evidence.meta.notes)


def _exchange(base: str) -> ExchangeClient:
    settings = ExchangeSettings(f"{base}/adminapi/beta", "tenant", "https://outlook.office365.com/.default")
    return ExchangeClient(settings, StaticTokenCredential({"exchange": "e"}))


def _pagination_expired() -> bytes:
    message = "Expired or Invalid pagination request. Default Expiry time is 00:30:00"
    inner = {"message": message, "type": "", "stacktrace": ""}
    return json.dumps(
        {
            "error": {
                "code": "BadRequest",
                "message": "Invalid Operation",
                "innererror": {"message": "Invalid Operation", "internalexception": inner},
            }
        }
    ).encode()


def test_live_truncated_get_mailbox_is_never_taken_for_the_whole_set() -> None:
    """The captured truncated envelope (its link's host replaced by the replay server's): the next
    page answers the captured replay failure, and the same envelope without a page-size preference
    is still partial — so the set is not whole, whatever the client tries."""
    from assessor.collect.exchange.client import ExchangePagingError, ExchangeTruncatedError

    truncated = json.loads(sample("exo-getmailbox-truncated.json"))

    def route(method: str, path: str, _headers: dict[str, str]) -> Answer | None:
        if method != "POST" or "/InvokeCommand" not in path:
            return None
        if "skiptoken" in path:
            return Answer(400, _pagination_expired())
        return Answer(200, json.dumps(truncated).encode())

    with replay(route) as server:
        truncated["@odata.nextLink"] = truncated["@odata.nextLink"].replace(
            "https://outlook.office365.com", server.base_url
        )

        async def read(paged: bool) -> list[Any]:
            async with _exchange(server.base_url) as client:
                return [p async for p in client.pages("Get-Mailbox", {"ResultSize": 1}, paged=paged)]

        with pytest.raises(ExchangePagingError, match="Expired or Invalid pagination request"):
            asyncio.run(read(True))
        with pytest.raises(ExchangeTruncatedError):
            asyncio.run(read(False))
        anchors = {h.get("x-anchormailbox") for _m, _p, h in server.seen}
    assert anchors == {"UPN:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@tenant"}


def test_live_complete_get_mailbox_with_empty_warnings_is_whole() -> None:
    body = sample("exo-getmailbox-complete.json")

    def route(method: str, path: str, _headers: dict[str, str]) -> Answer | None:
        return Answer(200, body) if method == "POST" and path.endswith("/InvokeCommand") else None

    with replay(route) as server:

        async def read() -> list[Any]:
            async with _exchange(server.base_url) as client:
                return await client.invoke("Get-Mailbox")

        rows = asyncio.run(read())
    assert [r["Identity"] for r in rows] == ["one", "two", "three"]


def _cipp_batch(origin: str, tenant: str) -> dict[str, Any]:
    text = sample("exo-batch-request-cipp.json").decode()
    return dict(json.loads(text.replace("https://outlook.office365.com", origin).replace("TENANT-ID", tenant)))


def test_the_emulator_answers_the_batch_production_code_sends_item_by_item() -> None:
    """The $batch request as CIPP-API builds it (its URL layout, item fields and headers, booleans
    among them) is answered by the emulator with one item per id, each with the cmdlet's own page."""
    import httpx

    from assessor.sandbox.server import SandboxServer

    with SandboxServer(["contoso"]) as srv:
        tenant = srv.state("contoso").tenant.id
        asked = _cipp_batch(srv.base_url + f"/{tenant}", tenant)
        answer = httpx.post(
            f"{srv.base_url}/{tenant}/adminapi/beta/{tenant}/$batch",
            json=asked,
            headers={"Authorization": "Bearer TOKEN", "Prefer": "odata.maxpagesize = 1000;odata.continue-on-error"},
        )
    assert answer.status_code == 200
    items = {item["id"]: item for item in answer.json()["responses"]}
    assert set(items) == {r["id"] for r in asked["requests"]}
    org, mailboxes = (items[r["id"]] for r in asked["requests"])
    assert org["status"] == 200 and org["body"]["value"] == [
        {"Identity": "contoso.onmicrosoft.com", "AuditDisabled": False}
    ]
    assert mailboxes["status"] == 200 and len(mailboxes["body"]["value"]) == 197
    assert all(set(row) == {"Identity"} for row in mailboxes["body"]["value"])  # the same $select for every item


def test_the_clients_batch_has_the_shape_production_code_sends() -> None:
    """The assessor's $batch: the same endpoint layout and item fields as CIPP-API's, each item
    with the headers its single POST carries; answered 404 here, so it falls back to single POSTs."""

    def route(method: str, path: str, _headers: dict[str, str]) -> Answer | None:
        if method == "POST" and "/InvokeCommand" in path and path.endswith("select=AuditDisabled"):
            return Answer(200, json.dumps({"value": [{"AuditDisabled": False}]}).encode())
        if method == "POST" and "/InvokeCommand" in path and path.endswith("select=UnifiedAuditLogIngestionEnabled"):
            return Answer(200, json.dumps({"value": [{"UnifiedAuditLogIngestionEnabled": True}]}).encode())
        return None

    with replay(route) as server:
        settings = ExchangeSettings(
            f"{server.base_url}/adminapi/beta", "tenant", "https://outlook.office365.com/.default", batch=True
        )

        async def read() -> list[list[object]]:
            async with ExchangeClient(settings, StaticTokenCredential({"exchange": "e"})) as client:
                return list(
                    await asyncio.gather(
                        client.invoke("Get-OrganizationConfig", {}, ("AuditDisabled",)),
                        client.invoke("Get-AdminAuditLogConfig", {}, ("UnifiedAuditLogIngestionEnabled",)),
                    )
                )

        rows = asyncio.run(read())
        seen, bodies = list(server.seen), list(server.bodies)
    assert rows == [[{"AuditDisabled": False}], [{"UnifiedAuditLogIngestionEnabled": True}]]
    batch = next(json.loads(b) for (m, p, _h), b in zip(seen, bodies, strict=True) if p.endswith("/$batch"))
    cipp = _cipp_batch("https://outlook.office365.com", "tenant")["requests"][0]
    assert seen[0][1] == "/adminapi/beta/tenant/$batch" and len(seen) == 3  # the $batch, then one POST each
    for item in batch["requests"]:
        assert set(item) == set(cipp) and item["method"] == cipp["method"] == "POST"
        assert set(item["body"]["CmdletInput"]) == set(cipp["body"]["CmdletInput"])
        assert urlsplit_path(item["url"]) == "/adminapi/beta/tenant/InvokeCommand"
        wanted = {"authorization", "x-anchormailbox", "prefer", "accept"}
        assert wanted <= {k.lower() for k in item["headers"]} and wanted <= {k.lower() for k in cipp["headers"]}


def urlsplit_path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path
