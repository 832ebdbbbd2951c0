"""Graph collectors through the real msgraph-sdk against the sandbox (no SDK mocks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assessor.collect import CollectOptions, collect_sync
from assessor.collect.auth import AuthOptions as AuthOptionsForTest
from assessor.collect.auth import StaticTokenCredential
from assessor.errors import CollectionError
from assessor.evidence import evidence_to_dict, load_evidence, save_evidence
from assessor.sandbox import SandboxServer, load_tenant
from assessor.sandbox.spec import ErrorSpec, ThrottleSpec
from tests.collect.conftest import run

COUNT_FIELDS = (
    "total",
    "enabled_members",
    "guests",
    "in_scope",
    "in_scope_premium",
    "in_scope_premium_ten_year",
    "in_scope_expanded",
)


def counts(evidence) -> tuple:
    assert evidence.users.data is not None, evidence.users.provenance
    return tuple(getattr(evidence.users.data.counts, f) for f in COUNT_FIELDS)


def test_contoso_summary_figures_are_exact(server: SandboxServer) -> None:
    evidence = run(server, "contoso")
    assert counts(evidence) == (232, 213, 12, 197, 35, 5, 197)
    assert evidence.users.data.mode == "summary"
    assert evidence.users.provenance.status == "collected"
    assert "ConsistencyLevel" in evidence.users.provenance.source
    assert evidence.tenant.id == "8b4e2f10-3c7d-4a51-9e26-5f0c1a7d3b42"
    assert evidence.tenant.default_domain == "contoso.com"
    skus = {s.sku_part_number: s for s in evidence.skus.data}
    assert skus["SPE_E5"].prepaid_units.enabled - skus["SPE_E5"].consumed_units == 17
    assert skus["ENTERPRISEPACK"].capability_status == "Suspended"


@pytest.mark.parametrize("name", ["contoso", "gov", "fabrikam"])
def test_summary_counts_equal_detail_counts(server: SandboxServer, name: str) -> None:
    batch = counts(run(server, name))
    parallel = counts(run(server, name, count_via="parallel"))
    detail = counts(run(server, name, users_mode="detail"))
    assert batch == parallel == detail


def test_detail_mode_follows_every_page(server: SandboxServer) -> None:
    server.reset_stats()
    evidence = run(server, "fabrikam", users_mode="detail")
    assert evidence.users.data.counts.total == 4500
    pages = [
        r
        for r in server.log.snapshot(server.state("fabrikam").tenant.id)
        if "/users?" in r.path or "$skiptoken" in r.path
    ]
    assert len(pages) == 5  # ceil(4500 / 999)
    assert all(r.status == 200 for r in pages)


def test_detail_gap_list_streams_to_disk(server: SandboxServer, tmp_path: Path) -> None:
    jsonl = tmp_path / "gaps.jsonl"
    evidence = run(server, "contoso", users_mode="detail", user_list_path=jsonl)
    rows = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert evidence.users.data.records_file == str(jsonl)
    lacking = [r for r in rows if r["inScope"] and not r["premium"]]
    assert len(lacking) == 197 - 35
    privileged = [r for r in rows if r["privileged"]]
    assert {"Global Administrator"} <= {role for r in privileged for role in r["roles"]}
    csv_path = tmp_path / "gaps.csv"
    run(server, "contoso", users_mode="detail", user_list_path=csv_path)
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("id,userPrincipalName") and len(lines) == len(rows) + 1
    assert not list(tmp_path.glob(".*.tmp"))


def test_role_holders_of_each_principal_type(server: SandboxServer) -> None:
    privileged = run(server, "contoso").privileged
    assert privileged.provenance.status == "collected" and privileged.data.source == "roleAssignments"
    holders = privileged.data.holders
    assert {h.principal_type for h in holders} == {"user", "group", "servicePrincipal"}
    direct_users = [h for h in holders if h.principal_type == "user" and h.via_group is None]
    assert all(h.user is not None and h.user.assigned_licenses for h in direct_users)
    via_group = [h for h in holders if h.via_group is not None]
    assert len(via_group) == 3 and all(h.role_name == "Exchange Administrator" and h.user for h in via_group)
    sp = next(h for h in holders if h.principal_type == "servicePrincipal")
    assert sp.user is None and sp.role_name == "Security Administrator"
    admin = next(h for h in direct_users if h.user.user_principal_name == "admins.000000@contoso.com")
    assert [lic.sku_id for lic in admin.user.assigned_licenses] == ["05e9a617-0261-4cee-bb44-138d3ef5d965"]


def test_privileged_roles_can_be_limited(server: SandboxServer) -> None:
    only_ga = ("62e90394-69f5-4237-9190-012177145e10",)
    holders = run(server, "contoso", privileged_roles=only_ga).privileged.data.holders
    assert len(holders) == 3 and {h.role_name for h in holders} == {"Global Administrator"}


def test_directory_roles_fallback(make_server) -> None:
    server = make_server(["contoso"], errors=[ErrorSpec(path="/roleManagement/", status=403)])
    privileged = run(server, "contoso").privileged
    assert privileged.data.source == "directoryRoles"
    assert {h.principal_type for h in privileged.data.holders} == {"user", "group", "servicePrincipal"}
    assert len([h for h in privileged.data.holders if h.via_group is None]) == 9


def test_forbidden_sections_are_not_collected_with_the_permission_named(make_server) -> None:
    errors = [
        ErrorSpec(path="/subscribedSkus", status=403),
        ErrorSpec(path="/users", status=403),
        ErrorSpec(path="/roleManagement/", status=403),
        ErrorSpec(path="/directoryRoles", status=403),
    ]
    server = make_server(["gov"], errors=errors)  # overrides replace the spec's own errors
    evidence = run(server, "gov")
    for section, permission in (
        ("privileged", "RoleManagement.Read.Directory"),
        ("skus", "LicenseAssignment.Read.All"),
        ("users", "User.Read.All"),
    ):
        prov = evidence.section(section).provenance
        assert prov.status == "not_collected", section
        assert permission in prov.reason and permission in prov.fix
        assert "403" in prov.reason
    assert evidence.tenant.cloud == "gcc-high" and evidence.tenant.name == "Agency (GCC High)"


def test_throttling_is_retried_then_succeeds(make_server) -> None:
    server = make_server(["contoso"], throttle=ThrottleSpec(first=3, retry_after=0))
    evidence = run(server, "contoso")
    assert counts(evidence) == (232, 213, 12, 197, 35, 5, 197)
    assert all(evidence.section(s).provenance.status == "collected" for s in ("skus", "users", "privileged"))
    assert server.state("contoso").throttled == 3  # the first three operations, batch items included
    assert any("retries" in n for n in evidence.meta.notes)


def test_batch_items_throttled_one_by_one_are_retried(make_server) -> None:
    server = make_server(["contoso"], throttle=ThrottleSpec(every=2, retry_after=0, paths=["/users/$count"]))
    assert counts(run(server, "contoso")) == (232, 213, 12, 197, 35, 5, 197)


def test_service_unavailable_then_success(make_server) -> None:
    errors = [ErrorSpec(path="/subscribedSkus", status=503, code="ServiceUnavailable", times=2)]
    server = make_server(["contoso"], errors=errors)
    assert run(server, "contoso").skus.provenance.status == "collected"


def test_a_failed_item_fails_only_its_own_section(make_server) -> None:
    """The SKUs share a `$batch` with the tenant, the role assignments and the counts: an error
    answered for the SKUs' item marks the SKUs alone."""
    errors = [ErrorSpec(path="/subscribedSkus", status=500, code="InternalServerError", times=99)]
    evidence = run(make_server(["contoso"], errors=errors), "contoso")
    assert evidence.skus.provenance.status == "not_collected"
    assert "500" in (evidence.skus.provenance.reason or "")
    assert evidence.users.provenance.status == "collected"
    assert evidence.privileged.provenance.status == "collected"
    assert evidence.tenant.name


def test_a_role_holder_whose_licences_cannot_be_read_fails_the_section(make_server) -> None:
    """A failed `/users/{id}` lookup of a role holder (found by chaos on `$batch` items) must not
    leave a holder without licences in the list: it would count as a holder outside the scope."""
    clean = run(make_server(["contoso"]), "contoso")
    assert clean.privileged.data is not None
    holder = next(h.principal_id for h in clean.privileged.data.holders if h.principal_type == "user")
    errors = [ErrorSpec(path=f"/users/{holder}", status=500, code="InternalServerError", times=99)]
    evidence = run(make_server(["contoso"], errors=errors), "contoso")
    assert evidence.privileged.provenance.status == "not_collected"
    assert "a role holder's licences" in (evidence.privileged.provenance.reason or "")
    assert "500" in (evidence.privileged.provenance.reason or "")


def test_endless_throttling_never_yields_a_partial_count(make_server) -> None:
    server = make_server(["contoso"], throttle=ThrottleSpec(every=1, retry_after=1, paths=["/users"]))
    evidence = run(server, "contoso", users_mode="detail")
    assert evidence.users.provenance.status == "not_collected"
    assert "429" in evidence.users.provenance.reason
    assert evidence.skus.provenance.status == "collected"


def test_request_timeout_marks_the_section(make_server) -> None:
    server = make_server(["contoso"], slow_paths={"/roleManagement/directory/roleDefinitions": 1500})
    evidence = run(server, "contoso", request_timeout=0.5, tenant_timeout=20)
    assert evidence.skus.provenance.status == "collected"
    assert evidence.users.provenance.status == "collected"
    assert evidence.role_definitions is not None
    assert evidence.role_definitions.provenance.status == "not_collected"
    assert "timed out" in evidence.role_definitions.provenance.reason


def test_a_timed_out_batch_marks_every_section_read_in_it(make_server) -> None:
    """The tenant, the SKUs, the role assignments and the counts share one `$batch`: when it times
    out, each of those sections says so (none is read as empty), and the beta read beside it stands."""
    server = make_server(["contoso"], slow_paths={"/$batch": 1500})
    evidence = run(server, "contoso", request_timeout=0.5, tenant_timeout=20)
    for section in (evidence.skus, evidence.users, evidence.privileged):
        assert section.provenance.status == "not_collected"
        assert "timed out" in section.provenance.reason
    assert evidence.role_definitions is not None
    assert evidence.role_definitions.provenance.status == "collected"


def test_tenant_timeout_still_yields_evidence(make_server) -> None:
    server = make_server([load_tenant("fabrikam", users=30000)], latency_ms=300)
    evidence = run(server, "fabrikam", users_mode="detail", tenant_timeout=1.5)
    assert evidence.users.provenance.status == "not_collected"
    assert "exceeded 1.5 s" in evidence.users.provenance.reason


def test_all_requests_timing_out_is_a_collection_error(make_server) -> None:
    server = make_server(["contoso"], latency_ms=1500)
    with pytest.raises(CollectionError, match="timed out"):
        run(server, "contoso", request_timeout=0.5)


def test_nothing_readable_is_a_collection_error() -> None:
    token = StaticTokenCredential({"graph": "x"})
    options = CollectOptions(
        tenant="t", graph_endpoint="http://127.0.0.1:9/v1.0", credential=token, no_exchange=True, request_timeout=2
    )
    with pytest.raises(CollectionError, match="could not be reached"):
        collect_sync(options)


def test_evidence_validates_saves_and_carries_no_token(server: SandboxServer, tmp_path: Path) -> None:
    evidence = run(server, "contoso")
    path = tmp_path / "evidence.json"
    save_evidence(evidence, path)
    assert load_evidence(path).users.data.counts.in_scope == 197
    text = path.read_text()
    assert "sandbox-token" not in text
    doc = evidence_to_dict(evidence)
    assert doc["meta"]["collector"] == "sandbox" and doc["meta"]["endpoints"]["graph"].endswith("/v1.0")
    assert doc["meta"]["tool_version"]
    for name in ("admin_audit_log_config", "organization_config", "bypass", "mailboxes", "retention_policies"):
        prov = doc["exchange"][name]["provenance"]
        assert prov["status"] == "not_collected" and "--no-exchange" in prov["reason"]
    assert doc["audit_probe"]["provenance"]["status"] == "not_collected"
    assert doc["log_export"]["provenance"]["status"] == "not_collected"


def test_bundled_fabrikam_100k_summary_equals_detail(make_server) -> None:
    """The full bundled 100,000-user tenant: one `$batch` of counts equals 101 streamed pages."""
    server = make_server(["fabrikam"])
    summary = run(server, "fabrikam")
    server.reset_stats()
    detail = run(server, "fabrikam", users_mode="detail")
    assert counts(summary) == counts(detail) == (100_000, 91_000, 5_000, 88_000, 23_000, 1_000, 79_000)
    assert server.stats("fabrikam")["requests"] >= 101


def test_a_failed_count_is_none_never_a_guess(make_server) -> None:
    errors = [ErrorSpec(path="/users/$count", status=500, code="InternalServerError", times=1)]
    server = make_server(["contoso"], errors=errors)
    evidence = run(server, "contoso")
    values = counts(evidence)
    assert values.count(None) == 1
    assert set(values) - {None} <= {232, 213, 12, 197, 35, 5}
    assert any("unknown" in note and "500" in note for note in evidence.meta.notes)


def test_expanded_count_needs_the_tenants_subscriptions(make_server) -> None:
    """Summary mode counts users with the expanded events by the tenant's usable E3/G3- and E5-level
    SKUs; without subscribedSkus that figure is unknown (never counted from the SKU ids alone, which
    would credit a suspended E3), and the other counts stand."""
    server = make_server(["contoso"], errors=[ErrorSpec(path="/subscribedSkus", status=403)])
    evidence = run(server, "contoso")
    assert counts(evidence) == (232, 213, 12, 197, 35, 5, None)
    assert any("in_scope_expanded unknown" in n and "subscribedSkus" in n for n in evidence.meta.notes)


def test_expanded_count_stands_only_whole_and_consistent() -> None:
    """A refused or inconsistent expanded-events count leaves that figure unknown; the others stand."""
    from assessor.collect.graph.outcome import Collected, GraphFailure
    from assessor.collect.graph.users import with_expanded_count
    from assessor.evidence import UserCounts, Users

    base = Collected(Users(counts=UserCounts(total=10, in_scope=8, in_scope_premium=3)), "GET /users/$count")
    refused = GraphFailure(
        "GET /users/$count (in_scope_expanded)", 400, "Request_UnsupportedQuery", "Unsupported query."
    )
    for answer in (refused, 9, 2):
        out = with_expanded_count(base, answer)
        assert out.data.counts.in_scope_expanded is None and out.data.counts.in_scope == 8
        assert any("in_scope_expanded unknown" in n for n in out.notes)
    assert with_expanded_count(base, 5).data.counts.in_scope_expanded == 5


def test_all_counts_throttled_beyond_the_budget_is_not_collected(make_server) -> None:
    server = make_server(["contoso"], throttle=ThrottleSpec(every=1, retry_after=0, paths=["/users/$count"]))
    users = run(server, "contoso").users
    assert users.provenance.status == "not_collected" and "429" in users.provenance.reason


@pytest.mark.parametrize("via", ["batch", "parallel"])
def test_refused_count_queries_fall_back_to_enumeration(make_server, server: SandboxServer, via: str) -> None:
    """A service that refuses `$count` with advanced filters (400) still gets exact figures."""
    expected = counts(run(server, "contoso"))
    refusing = make_server(
        ["contoso"],
        errors=[
            ErrorSpec(path="/users/$count", status=400, code="Request_UnsupportedQuery", message="Unsupported query.")
        ],
    )
    evidence = run(refusing, "contoso", count_via=via)
    assert counts(evidence) == expected
    assert evidence.users.provenance.status == "collected"
    assert evidence.users.data.mode == "detail"
    assert any("$count queries refused" in n and "enumerating users" in n for n in evidence.meta.notes)


def test_forbidden_counts_do_not_fall_back(make_server) -> None:
    """403 is a missing permission, not an unsupported query: enumerating would fail the same way."""
    forbidding = make_server(["contoso"], errors=[ErrorSpec(path="/users/$count", status=403)])
    evidence = run(forbidding, "contoso")
    assert evidence.users.provenance.status == "not_collected"
    assert "User.Read.All" in (evidence.users.provenance.fix or "")


@pytest.mark.parametrize("status", [400, 404, 501])
def test_service_without_batch_gets_the_counts_one_by_one(make_server, server: SandboxServer, status: int) -> None:
    expected = counts(run(server, "contoso"))
    no_batch = make_server(
        ["contoso"],
        errors=[ErrorSpec(path="/$batch", status=status, code="BadRequest", message="Batching is not supported.")],
    )
    no_batch.reset_stats()
    evidence = run(no_batch, "contoso")
    assert counts(evidence) == expected
    assert evidence.users.data.mode == "summary"
    assert "one by one instead of in $batch" in " ".join(evidence.meta.notes)
    singles = [r for r in no_batch.log.snapshot() if r.path.split("?")[0].endswith("/users/$count")]
    assert len(singles) == len(COUNT_FIELDS)

    # role holders' licences are looked up one by one too, with the same result as through $batch
    def holders(ev) -> list[tuple]:
        return sorted(
            (
                h.principal_id,
                h.role_template_id,
                tuple(sorted(a.sku_id for a in h.user.assigned_licenses)) if h.user else None,
            )
            for h in ev.privileged.data.holders
        )

    assert evidence.privileged.provenance.status == "collected"
    assert holders(evidence) == holders(run(server, "contoso"))


def test_an_endpoint_answering_for_another_tenant_is_refused(server: SandboxServer) -> None:
    """--tenant gov against contoso's endpoint: one customer's figures must never be filed as another's."""
    gov = server.state("gov").tenant.id
    options = CollectOptions(
        tenant=gov,
        auth=AuthOptionsForTest(mode="token"),
        graph_endpoint=server.graph_url("contoso"),
        credential=StaticTokenCredential({"graph": "t"}),
        no_exchange=True,
    )
    with pytest.raises(CollectionError, match=r"answered for tenant 8b4e2f10-3c7d-4a51-9e26-5f0c1a7d3b42"):
        collect_sync(options)
    by_domain = CollectOptions(
        tenant="CONTOSO.com",
        auth=AuthOptionsForTest(mode="token"),
        graph_endpoint=server.graph_url("contoso"),
        credential=StaticTokenCredential({"graph": "t"}),
        no_exchange=True,
    )
    assert collect_sync(by_domain).tenant.id == "8b4e2f10-3c7d-4a51-9e26-5f0c1a7d3b42"
