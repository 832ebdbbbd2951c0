"""Where the logs go, read through the real ARM client from the sandbox's Azure Resource Manager emulator."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from assessor.collect import collect_sync
from assessor.collect.auth import StaticTokenCredential, resource_of_scope
from assessor.collect.azure import read_log_export
from assessor.collect.azure.client import ArmClient, ArmError
from assessor.collect.clouds import cloud_endpoints
from assessor.collect.interface import section_of
from assessor.engine.runner import evaluate
from assessor.errors import UsageError
from assessor.evidence import LogExport, Section, evidence_to_dict
from assessor.pipeline import SANDBOX_TOKEN, collect_options
from assessor.profiles import load_profile
from assessor.report import RENDERERS, RenderOptions
from assessor.sandbox import SandboxServer, load_tenant
from tests.helpers.support import ON, STAMP

ARM_CANARY = "CANARY-ARM-4e8b1d2f"
SCOPE = "https://management.azure.com/.default"


def _collect(server: SandboxServer, name: str, token: str = "sandbox-arm-token") -> Any:
    credential = StaticTokenCredential({"graph": SANDBOX_TOKEN, "arm": token})
    options = collect_options(server, name, no_exchange=True, credential=credential, **server.arm_endpoints(name))
    return collect_sync(options)


def _arm_requests(server: SandboxServer, name: str) -> int:
    tenant = server.state(name).tenant.id
    return sum(1 for r in server.log.snapshot(tenant) if r.path.split("?")[0].split("/")[2:3] == ["arm"])


def _report(evidence: Any, profile: str = "cisa-scuba") -> Any:
    return evaluate(evidence, load_profile(profile), on=ON, generated_at=STAMP)


def _finding(report: Any, check_id: str) -> Any:
    return next(f for f in report.findings if f.check_id == check_id)


def test_contoso_forwards_everything_for_two_years() -> None:
    with SandboxServer(["contoso"]) as server:
        evidence = _collect(server, "contoso")
        requests = _arm_requests(server, "contoso")
    # subscriptions, settings, workspaces, the Sentinel workspace's connectors and 3 tables, the other
    # workspace's connectors (404: no Sentinel), the lifecycle policy and 2 immutability policies
    assert requests == 11
    paged = load_tenant("contoso")
    azure = {**paged.extensions["azure"], "page_size": 1}
    paged = type(paged)(paged.spec.model_copy(update={"extensions": {**paged.extensions, "azure": azure}}))
    with SandboxServer([paged]) as server:
        again = _collect(server, "contoso").log_export.data
        assert again is not None and again.azure is not None and evidence.log_export.data is not None
        first = evidence.log_export.data.azure
        assert first is not None and again.azure.model_copy(update={"endpoint": first.endpoint}) == first
        assert _arm_requests(server, "contoso") == 13  # + a second workspace page and a second connector page
    section = evidence.log_export
    assert section.provenance.status == "collected" and section.data is not None
    azure = section.data.azure
    assert azure is not None and azure.entra_diagnostic_settings is not None
    assert azure.entra_diagnostic_settings[0].categories[:1] == ["SignInLogs"]
    sentinel = next(d for d in azure.destinations if d.id.endswith("contoso-sentinel"))
    assert sentinel.tables["OfficeActivity"] == 730 and sentinel.interactive_days["OfficeActivity"] == 90
    assert sentinel.sentinel_office365 and sentinel.sentinel_office365[0].exchange
    storage = next(d for d in azure.destinations if d.kind == "storage")
    assert storage.retention_days == 400 and storage.immutability_days == 365
    report = _report(evidence, "omb-m-21-31")
    assert report.export.source == "read" and report.export.ual_forwarded is True
    assert report.export.ual_forward_retention_days == 730 and report.export.entra_export_retention_days == 730
    assert _finding(report, "RET-04").status.value == "pass"
    exp = _finding(_report(evidence, "cisa-scuba"), "EXP-01")  # 365 days retrievable: the 730-day copy suffices
    assert exp.evidence["workloads"]["Exchange"]["retrievable"] is True
    assert exp.evidence["workloads"]["Exchange"]["forward_source"] == "read"


def test_destinations_are_recorded_in_a_fixed_order_whatever_order_reads_finish() -> None:
    """The table reads run concurrently; evidence must not depend on which answered first (its
    digest would differ between two collections of the same tenant)."""
    with SandboxServer(["contoso"]) as server:
        first = _collect(server, "contoso").log_export.data.azure
    workspaces = [d for d in first.destinations if d.kind == "log_analytics" and len(d.tables) > 1]
    assert workspaces, "contoso's Sentinel workspace has its three tables read"
    ws = workspaces[0].id
    # the alphabetically first table answers last
    with SandboxServer(["contoso"], slow_paths={f"{ws}/tables/AuditLogs": 400}) as server:
        slowed = _collect(server, "contoso").log_export.data.azure
    for before, after in zip(first.destinations, slowed.destinations, strict=True):
        assert list(after.tables) == sorted(after.tables) and after.tables == before.tables
        assert list(after.interactive_days) == sorted(after.interactive_days)
        assert [g.what for g in after.unread] == sorted(g.what for g in after.unread)


def test_fabrikam_ninety_day_workspace_without_sentinel() -> None:
    with SandboxServer(["fabrikam"]) as server:
        evidence = _collect(server, "fabrikam")
        requests = _arm_requests(server, "fabrikam")
    assert requests == 7  # subscriptions, settings, workspaces, connectors (404), 3 tables (OfficeActivity: 404)
    report = _report(evidence, "cisa-aa23-193a")
    assert report.export.ual_forwarded is False and report.export.entra_export_retention_days == 90
    ret04 = _finding(_report(evidence, "omb-m-21-31"), "RET-04")
    assert ret04.status.value == "fail" and "fabrikam-logs (90 days)" in ret04.message
    exp = _finding(report, "EXP-01")
    # Exchange was not read here (Purview retention unknown): undecided, but it says nothing is forwarded
    assert exp.status.value == "unknown" and "not forwarded" in exp.message
    assert exp.evidence["ual_forwarded"] is False and exp.evidence["source"] == "read"


def test_gov_denied_is_not_collected_naming_the_roles() -> None:
    with SandboxServer(["gov"]) as server:
        evidence = _collect(server, "gov")
        requests = _arm_requests(server, "gov")
    assert requests == 2
    prov = evidence.log_export.provenance
    assert prov.status == "not_collected" and "403" in (prov.reason or "")
    assert "/providers/Microsoft.aadiam" in (prov.fix or "") and "Reader" in (prov.fix or "")
    ret04 = _finding(_report(evidence, "omb-m-21-31"), "RET-04")
    assert ret04.status.value == "unknown" and "Microsoft.aadiam" in (ret04.fix or "")


def test_no_azure_and_no_token() -> None:
    with SandboxServer(["contoso"]) as server:
        credential = StaticTokenCredential({"graph": SANDBOX_TOKEN})
        opts = collect_options(server, "contoso", no_exchange=True, no_azure=True, credential=credential)
        skipped = collect_sync(opts).log_export.provenance
        assert skipped.status == "not_collected" and not skipped.requested and "--no-azure" in (skipped.reason or "")
        opts = collect_options(
            server, "contoso", no_exchange=True, credential=credential, **server.arm_endpoints("contoso")
        )
        missing = collect_sync(opts).log_export.provenance
        assert _arm_requests(server, "contoso") == 0
    assert missing.status == "not_collected" and "ASSESSOR_ARM_TOKEN" in (missing.reason or "")


def test_a_tenant_without_azure_is_a_clear_not_collected() -> None:
    bare = load_tenant("contoso")
    bare = type(bare)(
        bare.spec.model_copy(update={"extensions": {k: v for k, v in bare.extensions.items() if k != "azure"}})
    )
    with SandboxServer([bare]) as server:
        evidence = _collect(server, "contoso")
    prov = evidence.log_export.provenance
    assert prov.status == "not_collected" and "no Azure side" in (prov.reason or "")


def test_selected_subscriptions_skip_the_listing() -> None:
    with SandboxServer(["fabrikam"]) as server:
        credential = StaticTokenCredential({"graph": SANDBOX_TOKEN, "arm": "sandbox-arm-token"})
        opts = collect_options(
            server,
            "fabrikam",
            no_exchange=True,
            credential=credential,
            azure_subscriptions=("9a0c4e12-2b7d-4c55-b1e8-0f6d3a7c5e90",),
            **server.arm_endpoints("fabrikam"),
        )
        evidence = collect_sync(opts)
        paths = [r.path for r in server.log.snapshot(server.state("fabrikam").tenant.id)]
    assert not any(p.split("?")[0].endswith("/arm/subscriptions") for p in paths)
    assert evidence.log_export.data is not None and evidence.log_export.data.azure is not None
    with pytest.raises(UsageError):
        collect_sync(collect_options(server, "fabrikam", azure_subscriptions=("../x",)))


@pytest.mark.parametrize(
    ("cloud", "host"),
    [
        ("global", "management.azure.com"),
        ("gcc", "management.azure.com"),
        ("gcc-high", "management.usgovcloudapi.net"),
        ("dod", "management.usgovcloudapi.net"),
        ("china", "management.chinacloudapi.cn"),
    ],
)
def test_national_cloud_management_hosts(cloud: str, host: str) -> None:
    endpoints = cloud_endpoints(cloud)
    assert endpoints.arm_url == f"https://{host}" and endpoints.arm_scope == f"https://{host}/.default"
    assert resource_of_scope(endpoints.arm_scope) == "arm"


def test_arm_endpoint_plain_http_only_on_loopback() -> None:
    from assessor.collect import CollectOptions

    with pytest.raises(UsageError, match="loopback"):
        collect_sync(CollectOptions(tenant="contoso.com", arm_endpoint="http://arm.example.com"))
    assert CollectOptions(tenant="x", arm_endpoint="http://127.0.0.1:9/arm/").arm_base_url() == "http://127.0.0.1:9/arm"
    assert CollectOptions(tenant="x", cloud="gcc-high").arm_base_url() == "https://management.usgovcloudapi.net"


# ---------------------------------------------------------------- paging and secrets against a scripted server


class _Scripted(BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, Any]] = {}

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        key = self.path.split("?")[0]
        status, doc = self.pages.get(key, (404, {"error": {"code": "NotFound", "message": "no"}}))
        if doc == "echo":
            auth = self.headers.get("Authorization", "")
            doc = {"error": {"code": "AuthorizationFailed", "message": f"denied for {auth}"}}
        data = json.dumps(doc).replace("{base}", f"http://127.0.0.1:{self.server.server_address[1]}").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture()
def scripted() -> Iterator[tuple[str, dict[str, Any]]]:
    pages: ClassVar[dict[str, Any]] = {}
    handler = type("H", (_Scripted,), {"pages": pages})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", pages
    finally:
        server.shutdown()
        server.server_close()


def _list(base: str, path: str, token: str = "scripted-arm-token") -> Any:
    async def go() -> Any:
        client = ArmClient(base, SCOPE, StaticTokenCredential({"arm": token}))
        try:
            return await client.list(path, "2022-12-01"), client.stats
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_next_link_pages_are_followed(scripted: tuple[str, dict[str, Any]]) -> None:
    base, pages = scripted
    pages["/subscriptions"] = (
        200,
        {"value": [{"subscriptionId": "a"}], "nextLink": "{base}/p2?api-version=2022-12-01"},
    )
    pages["/p2"] = (
        200,
        {"value": [{"subscriptionId": "b"}], "nextLink": "{base}/p3?api-version=2022-12-01&$skiptoken=x"},
    )
    pages["/p3"] = (200, {"value": [{"subscriptionId": "c"}]})
    items, stats = _list(base, "/subscriptions")
    assert [i["subscriptionId"] for i in items] == ["a", "b", "c"] and stats.pages == 3


def test_next_link_loops_and_foreign_hosts_are_refused(scripted: tuple[str, dict[str, Any]]) -> None:
    base, pages = scripted
    pages["/loop"] = (200, {"value": [], "nextLink": "{base}/loop?api-version=2022-12-01"})
    with pytest.raises(ArmError, match="loop"):
        _list(base, "/loop")
    pages["/away"] = (200, {"value": [], "nextLink": "https://evil.example/steal"})
    with pytest.raises(ArmError, match="another host"):
        _list(base, "/away")


def test_arm_token_never_reaches_evidence_or_reports(scripted: tuple[str, dict[str, Any]]) -> None:
    base, pages = scripted
    pages["/subscriptions"] = (200, {"value": [{"subscriptionId": "11111111-1111-4111-8111-111111111111"}]})
    pages["/providers/microsoft.aadiam/diagnosticSettings"] = (403, "echo")
    pages["/subscriptions/11111111-1111-4111-8111-111111111111/providers/Microsoft.OperationalInsights/workspaces"] = (
        403,
        "echo",
    )
    outcome, notes = asyncio.run(read_log_export(base, SCOPE, StaticTokenCredential({"arm": ARM_CANARY})))
    text = Section[LogExport].model_validate(section_of(outcome)).model_dump_json() + "\n".join(notes)
    assert "AuthorizationFailed" in text and ARM_CANARY not in text
    with SandboxServer(["contoso"]) as server:
        evidence = _collect(server, "contoso", token=ARM_CANARY)
    report = evaluate(evidence, load_profile("cisa-scuba"), on=ON, generated_at=STAMP)
    outputs = [json.dumps(evidence_to_dict(evidence))]
    outputs += [RENDERERS[fmt]().render(report, RenderOptions()) for fmt in RENDERERS]
    assert all(ARM_CANARY not in out for out in outputs)


def test_throttled_arm_reads_are_retried_and_errors_become_gaps() -> None:
    from assessor.sandbox.spec import ErrorSpec, ThrottleSpec

    throttle = ThrottleSpec(first=2, retry_after=0, paths=["/subscriptions", "/providers"])
    with SandboxServer(["contoso"], throttle=throttle) as server:
        evidence = _collect(server, "contoso")
    assert evidence.log_export.provenance.status == "collected"
    assert any("retries" in n for n in evidence.meta.notes if n.startswith("azure:"))
    # the Sentinel workspace's tables refused: RET-04 cannot be decided from it, the gap names the role
    refused = ErrorSpec(
        path="/subscriptions/3f2d9b71-6c4e-4f0a-8e21-7a5c9d0b1e34/resourceGroups/soc/providers/Microsoft.OperationalInsights",
        status=403,
        code="AuthorizationFailed",
        message="no access",
    )
    with SandboxServer(["contoso"], errors=[refused]) as server:
        evidence = _collect(server, "contoso")
    assert evidence.log_export.data is not None and evidence.log_export.data.azure is not None
    sentinel = next(d for d in evidence.log_export.data.azure.destinations if d.id.endswith("contoso-sentinel"))
    assert sentinel.unread and "Reader on subscription 3f2d9b71" in (sentinel.unread[0].fix or "")
    report = _report(evidence, "omb-m-21-31")
    ret04 = _finding(report, "RET-04")
    # the 400-day storage archive keeps both categories the 365 days OMB asks: the unread workspace does not matter
    assert ret04.status.value == "pass" and "contosoauditarchive" in ret04.message
    assert report.export.unread


def test_arm_exchanges_are_traced_without_names_or_ids(tmp_path: Any) -> None:
    from assessor.trace import tracing

    path = tmp_path / "trace.jsonl"
    with SandboxServer(["contoso"]) as server, tracing(path):
        _collect(server, "contoso", token=ARM_CANARY)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    arm = [line for line in lines if "/arm/" in line["path"]]
    assert len(arm) == 11 and all(line["query"] == ["api-version"] for line in arm)
    assert any(line["path"].endswith("/workspaces/{name}/tables/SigninLogs") for line in arm)
    text = path.read_text()
    for secret in (
        ARM_CANARY,
        "contoso-sentinel",
        "contosoauditarchive",
        "3f2d9b71-6c4e-4f0a-8e21-7a5c9d0b1e34",
        "soc/",
    ):
        assert secret not in text
