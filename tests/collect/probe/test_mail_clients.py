"""Who reads mail: per-client aggregation, AppId resolution, app-only scoping, EVT-05 and the readiness verdict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assessor.collect import CollectOptions, collect_sync
from assessor.collect.auth import StaticTokenCredential
from assessor.collect.exchange.appaccess import AppScoping, apply_scoping, parse_grants, parse_policies
from assessor.collect.probe.aggregate import ProbeTally
from assessor.collect.probe.clients import MAX_PAIRS, ClientBooks, MailboxIndex, access_kind
from assessor.engine.runner import evaluate
from assessor.evidence import MailPermission, parse_evidence
from assessor.profiles import load_profile
from assessor.sandbox.auditlog import with_audit_log
from tests.helpers.support import ON, ROOT, STAMP, finding

OWA = "00000002-0000-0ff1-ce00-000000000000"
OUTLOOK = "d3590ed6-52b3-4102-aeff-aad2292ab01c"
STRANGER = "6e1c2b7a-93d4-4f0e-8a5b-2c7d9e3f1a48"
STRANGER_CLIENT = "0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d"
BACKUP = "4b2e8f61-0c7d-4a95-b3e1-7f6a9d2c5b18"
REPORTS = "8c3d1e5f-2a4b-4c6d-9e8f-0a1b2c3d4e5f"


def _record(when: str, mailbox: str, app: str | None, client: str | None = None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"MailboxOwnerUPN": mailbox}
    if app is not None:
        data["AppId"] = app
    if client is not None:
        data["ClientAppId"] = client
    return {
        "operation": extra.pop("operation", "MailItemsAccessed"),
        "createdDateTime": when,
        "userType": extra.pop("user_type", "regular"),
        "userPrincipalName": extra.pop("actor", mailbox),
        "auditData": data,
        **extra,
    }


# --------------------------------------------------------------------------- aggregation (plain records)


def test_pairs_split_into_baseline_and_recent_with_access_kind_and_mailboxes() -> None:
    index = MailboxIndex()
    tally = ProbeTally(["MailItemsAccessed", "Send"], index, "2026-11-20T00:00:00Z")
    tally.add_page(
        [
            _record("2026-11-10T08:00:00Z", "a@x.example", OWA, OWA),
            _record("2026-11-21T08:00:00Z", "b@x.example", OWA, OWA),
            _record("2026-11-22T08:00:00.123Z", "a@x.example", OWA),  # fractional seconds: same pair, recent
            _record("2026-11-23T08:00:00Z", "boss@x.example", STRANGER, STRANGER_CLIENT),
            _record("2026-11-23T09:00:00Z", "a@x.example", BACKUP, actor=BACKUP, user_type="ServicePrincipal"),
            _record("2026-11-12T09:00:00Z", "b@x.example", BACKUP, actor=BACKUP, user_type="servicePrincipal"),
            _record("2026-11-23T10:00:00Z", "c@x.example", OWA, operation="Send"),
            _record("2026-11-23T10:00:00Z", "c@x.example", None),  # no AppId: not a client, mailbox still seen
        ]
    )
    books = ClientBooks(index, None, tally.client_books())
    clients = {(c.app_id, c.client_app_id): c for c in books.observations(["boss@x.example", "A@x.example"])}
    owa = clients[(OWA, None)]
    assert owa.records == 4 and owa.operations == {"MailItemsAccessed": 3, "Send": 1}
    assert owa.mailboxes == 3 and owa.recent_records == 3 and owa.delegated_records == 4
    assert owa.first_seen is not None and owa.first_seen.isoformat() == "2026-11-10T08:00:00+00:00"
    assert owa.privileged_mailboxes == 1 and owa.privileged_reached == ["a@x.example"]
    stranger = clients[(STRANGER, STRANGER_CLIENT)]
    assert stranger.records == 1 and stranger.privileged_reached == ["boss@x.example"]
    backup = clients[(BACKUP, None)]
    assert backup.app_only_records == 2 and backup.delegated_records == 0 and backup.recent_records == 1
    watched = books.watched_mailboxes(["boss@x.example", "a@x.example", "nobody@x.example"])
    assert (
        watched is not None and watched.total == 3 and watched.observed == 2 and watched.missing == ["nobody@x.example"]
    )
    # the AppId baseline of MailItemsAccessed comes from the same pairs
    counts = {a.app_id: a.count for a in tally.observations(10)["MailItemsAccessed"].top_app_ids}
    assert counts == {OWA: 3, STRANGER: 1, BACKUP: 2}


def test_access_kind_reads_user_type_and_actor() -> None:
    assert access_kind({"userType": "Application"}, {}) == "app_only"
    assert access_kind({}, {"UserType": 5}) == "app_only"
    assert access_kind({"userType": "regular", "userPrincipalName": BACKUP}, {}) == "app_only"  # a GUID actor
    assert access_kind({"userType": "Regular", "userPrincipalName": "u@x.example"}, {}) == "delegated"
    assert access_kind({"userType": "regular", "userPrincipalName": "not available"}, {}) is None


def test_pascal_case_exports_give_first_last_seen_and_access_kind() -> None:
    """Classic exports spell the top level in PascalCase (CreationTime without a zone, UserType,
    UserId) and may carry AuditData as a JSON string: the per-client figures read them too."""
    index = MailboxIndex()
    tally = ProbeTally(["MailItemsAccessed"], index, "2026-11-20T00:00:00Z")
    data = {"MailboxOwnerUPN": "a@x.example", "AppId": BACKUP}
    tally.add_page(
        [
            {
                "Operation": "MailItemsAccessed",
                "CreationTime": "2026-11-12T09:00:00",
                "UserType": "ServicePrincipal",
                "UserId": BACKUP,
                "AuditData": json.dumps(data),
            },
            {
                "Operation": "MailItemsAccessed",
                "CreatedDateTime": "2026-11-21T09:30:00Z",
                "UserType": "Regular",
                "UserPrincipalName": "a@x.example",
                "AuditData": data,
            },
        ]
    )
    (client,) = ClientBooks(index, None, tally.client_books()).observations()
    assert client.records == 2 and client.app_only_records == 1 and client.delegated_records == 1
    assert client.first_seen is not None and client.first_seen.isoformat() == "2026-11-12T09:00:00+00:00"
    assert client.last_seen is not None and client.last_seen.isoformat() == "2026-11-21T09:30:00+00:00"
    assert client.recent_records == 1


def test_pairs_past_the_cap_are_counted_not_stored() -> None:
    index = MailboxIndex()
    tally = ProbeTally(["MailItemsAccessed"], index, None)
    tally.add_page(
        _record("2026-11-10T08:00:00Z", "a@x.example", f"{i:08x}-0000-4000-8000-000000000000")
        for i in range(MAX_PAIRS + 5)
    )
    books = ClientBooks(index, None, tally.client_books())
    assert len(books.observations()) == MAX_PAIRS and books.distinct_pairs() == MAX_PAIRS + 5
    assert tally.observations(3)["MailItemsAccessed"].records == MAX_PAIRS + 5


def test_hostile_app_ids_do_not_break_aggregation() -> None:
    index = MailboxIndex()
    tally = ProbeTally(["MailItemsAccessed"], index, None)
    tally.add_page([_record("x", "a@x.example", None) | {"auditData": {"AppId": ["list"], "ClientAppId": {"d": 1}}}])
    tally.add_page([{"operation": "MailItemsAccessed", "userType": ["odd"], "auditData": {"AppId": OWA}}])
    assert [c.app_id for c in ClientBooks(index, None, tally.client_books()).observations()] == [OWA]


# --------------------------------------------------------------------------- scoping (Exchange rows)


def test_application_access_policy_scopes_an_entra_grant_and_rbac_grants_are_listed() -> None:
    scoping = AppScoping(
        parse_policies([{"AppId": REPORTS.upper(), "AccessRight": "RestrictAccess", "ScopeName": "reports"}]),
        parse_grants(
            [
                {
                    "Role": "Application Mail.Read",
                    "RoleAssignee": "Sync",
                    "RecipientWriteScope": "CustomRecipientScope",
                    "CustomResourceScope": "EU mailboxes",
                },
                {"Role": "Application Mail.Send", "RoleAssignee": "Sync"},  # not a mail-reading role
                {
                    "Role": "Application EWS.AccessAsApp",
                    "RoleAssignee": "Archiver",
                    "RecipientWriteScope": "Organization",
                },
            ],
            [{"Identity": "Sync", "AppId": "11111111-2222-4333-8444-555555555555"}],
        ),
    )
    granted = [
        MailPermission(app_id=REPORTS, display_name="Reports", permissions=["Microsoft Graph Mail.Read"]),
        MailPermission(app_id=BACKUP, display_name="Backup", permissions=["Microsoft Graph Mail.ReadWrite"]),
    ]
    out = {p.display_name: p for p in apply_scoping(granted, scoping)}
    assert out["Reports"].scoped is True and "reports" in (out["Reports"].scope or "")
    assert out["Backup"].scoped is False
    assert out["Sync"].scoped is True and out["Sync"].app_id == "11111111-2222-4333-8444-555555555555"
    assert out["Archiver"].scoped is False
    assert apply_scoping(granted, None) == granted  # without scoping evidence nothing is decided


# --------------------------------------------------------------------------- end to end through the sandbox


def _collect(server: Any, name: str, **extra: Any) -> Any:
    state = server.state(name).tenant
    token = StaticTokenCredential({"graph": "sandbox", "exchange": "sandbox", "compliance": "sandbox"})
    return collect_sync(
        CollectOptions(
            tenant=state.id,
            graph_endpoint=server.graph_url(name),
            credential=token,
            collector="sandbox",
            **server.exchange_endpoints(state.id),
            **extra,
        )
    )


def _assess(evidence: Any, profile: str = "cisa-aa23-193a") -> Any:
    return evaluate(
        parse_evidence(json.loads(evidence.model_dump_json(by_alias=True))), load_profile(profile), ON, STAMP
    )


def test_storm_like_intrusion_fails_evt05_and_stays_visible(serve: Any) -> None:
    server = serve(with_audit_log("northwind", query_seconds=0))
    evidence = _collect(server, "northwind", probe_events_days=14)
    report = _assess(evidence)
    first = report.mail_clients[0]
    assert (first.app_id, first.client_app_id, first.publisher) == (STRANGER, STRANGER_CLIENT, "unknown")
    assert first.recent_only is True and first.privileged_mailboxes == 3 and first.mailboxes == 3
    assert first.access == "delegated"
    evt05 = finding(report, "EVT-05")
    assert evt05.status.value == "fail" and STRANGER in evt05.message
    assert report.readiness is not None and report.readiness.visible is True
    names = {c.app_id: (c.display_name, c.publisher) for c in report.mail_clients}
    assert names[OWA] == ("Office 365 Exchange Online", "microsoft")  # the tenant's SP, owned by Microsoft
    assert names[OUTLOOK] == ("Microsoft Office", "microsoft")  # from the bundled first-party list
    apps = evidence.applications.data
    assert apps.rounds == 1 and apps.requests == 3  # one $batch: one appId filter + two grant lists


def test_unscoped_backup_app_warns_and_a_policy_scopes_the_other(serve: Any) -> None:
    server = serve(with_audit_log("tailspin", query_seconds=0))
    report = _assess(_collect(server, "tailspin", probe_events_days=14))
    backup = next(c for c in report.mail_clients if c.app_id == BACKUP)
    assert (backup.display_name, backup.publisher, backup.access) == ("Contoso Cloud Backup", "tenant", "app_only")
    perms = {p.app_id: p for p in report.mail_permissions or []}
    assert (
        perms[BACKUP].scoped is False and "Office 365 Exchange Online full_access_as_app" in perms[BACKUP].permissions
    )
    assert perms[REPORTS].scoped is True
    evt05 = finding(report, "EVT-05")
    assert evt05.status.value == "warn" and "Contoso Cloud Backup" in evt05.message


def test_many_app_ids_resolve_in_one_round(serve: Any) -> None:
    from assessor.collect.graph import GraphSettings, connect
    from assessor.collect.graph.applications import resolve_applications
    from tests.helpers.probe import run

    server = serve("tailspin")
    ids = [f"{i:08x}-1111-4222-8333-444455556666" for i in range(250)] + [BACKUP]

    async def go() -> Any:
        conn = connect(
            StaticTokenCredential({"graph": "sandbox"}),
            GraphSettings(base_url=server.graph_url("tailspin"), scopes=("https://graph.microsoft.com/.default",)),
        )
        try:
            return await resolve_applications(conn, ids)
        finally:
            await conn.aclose()

    outcome = run(go())
    data = outcome.data
    # round 1: ⌈251 / 15⌉ = 17 appId filters + two grant lists (two $batch posts, sent together);
    # round 2: the one grant holder round 1 did not return (Mailbox Reports), by id
    assert (data.requests, data.rounds) == (17 + 2 + 1, 2)
    by_id = {r.app_id: r for r in data.resolved}
    assert by_id[BACKUP].publisher == "tenant" and by_id[ids[0]].publisher == "unknown"


def test_without_application_read_all_unknown_clients_make_evt05_unknown(serve: Any) -> None:
    from assessor.sandbox.spec import FaultSpec, SandboxTenant, load_spec

    spec = load_spec("tailspin")
    faults = FaultSpec.model_validate({"errors": [{"path": "/servicePrincipals", "status": 403}]})
    server = serve(with_audit_log(SandboxTenant(spec.model_copy(update={"faults": faults})), query_seconds=0))
    evidence = _collect(server, "tailspin", probe_events_days=14)
    assert evidence.applications.provenance.status == "not_collected"
    assert "Application.Read.All" in (evidence.applications.provenance.reason or "")
    report = _assess(evidence)
    evt05 = finding(report, "EVT-05")
    assert evt05.status.value == "unknown" and evt05.fix == "Application.Read.All"
    ms = {c.app_id: c.publisher for c in report.mail_clients}
    assert ms[OUTLOOK] == "microsoft"  # Microsoft's list still names its apps
    assert ms[BACKUP] == "unknown"  # the tenant's own app cannot be told from a stranger: no fail, no pass


def test_without_the_probe_evt05_and_the_baseline_are_unknown(serve: Any) -> None:
    server = serve("northwind")
    report = _assess(_collect(server, "northwind"), "baseline")
    assert report.mail_clients is None and report.mail_permissions is None
    assert report.readiness is not None and report.readiness.visible is None
    assert {e.id: e.status for e in report.readiness.elements}["baseline"] == "unknown"


def test_short_window_fails_the_baseline_element() -> None:
    from tests.helpers.support import example

    doc = example("mixed-e5-e3-priority-trap")
    doc["audit_probe"] = {
        "provenance": {"status": "collected", "source": "test"},
        "data": {
            "window_start": "2026-11-22T00:00:00Z",
            "window_end": "2026-11-25T00:00:00Z",
            "recent_start": "2026-11-22T00:00:00Z",
            "operations": {},
            "clients": [{"app_id": OWA, "records": 5, "mailboxes": 2, "recent_records": 5}],
        },
    }
    from tests.helpers.support import assess_doc

    report = assess_doc(doc, "cisa-aa23-193a")
    elements = {e.id: e for e in report.readiness.elements}
    assert elements["baseline"].status == "fail" and report.readiness.visible is False


# --------------------------------------------------------------------------- CLI


def test_vip_file_is_checked_line_by_line(tmp_path: Path) -> None:
    vip = tmp_path / "vip.txt"
    vip.write_text("# board\nceo@northwind.example\n\nnot a user\n", encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "assessor",
            "assess",
            "--sandbox",
            "northwind",
            "--vip",
            str(vip),
            "--format",
            "json",
            "--output",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    assert "line 4" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("entry", ["CEO@northwind.example", "3f6a9c21-0000-4000-8000-000000000004"])
def test_vip_mailboxes_are_watched(serve: Any, entry: str) -> None:
    server = serve(with_audit_log("northwind", query_seconds=0))
    evidence = _collect(server, "northwind", probe_events_days=14, vip=(entry.lower(),))
    assert evidence.vip == [entry.lower()]
    watched = evidence.audit_probe.data.watched
    assert watched is not None and watched.total == 5  # four privileged users and one VIP


def test_scoping_exports_are_imported(tmp_path: Path) -> None:
    from assessor.collect.exchange.imports import import_exchange
    from assessor.collect.exchange.run import imported_scoping

    (tmp_path / "ApplicationAccessPolicy.json").write_text(
        json.dumps([{"AppId": REPORTS, "AccessRight": "RestrictAccess", "ScopeName": "reports"}]), encoding="utf-8"
    )
    (tmp_path / "ManagementRoleAssignment.json").write_text(
        json.dumps({"Role": "Application Mail.Read", "RoleAssignee": "Sync", "RecipientWriteScope": "Organization"}),
        encoding="utf-8",
    )
    (tmp_path / "ServicePrincipal.json").write_text("[]", encoding="utf-8")
    imported = import_exchange(sorted(tmp_path.glob("*.json")))
    assert imported.sections == {}
    scoping = imported_scoping(imported)
    assert scoping is not None and scoping.policies[0].app_ids == (REPORTS,)
    assert scoping.grants[0].scoped is False and "ApplicationAccessPolicy.json" in scoping.source


def test_pseudonymized_reports_hide_the_mailboxes_clients_reached(serve: Any) -> None:
    from assessor.report.pseudonymize import pseudonymize_report

    server = serve(with_audit_log("northwind", query_seconds=0))
    report = pseudonymize_report(_assess(_collect(server, "northwind", probe_events_days=14)), b"k" * 32)
    text = report.model_dump_json()
    assert "@northwind.example" not in text
    assert report.mail_clients is not None and report.mail_clients[0].privileged_reached
    assert all(r.startswith("user-") for r in report.mail_clients[0].privileged_reached)
