"""The audit search as real tenants answer it (issue 12): beta-only service, PascalCase records and
non-user actors, met by the real probe against the sandbox's bundled fabrikam tenant."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from assessor.collect.probe.aggregate import ProbeTally
from assessor.collect.probe.records import actor
from assessor.sandbox.auditlog import expected_users, with_audit_log
from tests.helpers.probe import audit_requests, probe


def test_beta_only_tenant_is_read_on_beta_and_provenance_says_so(serve: Any) -> None:
    tenant = with_audit_log("fabrikam", users=300, query_seconds=0.1)
    server = serve(tenant)
    section = probe(server, "fabrikam", operations=["Send"])
    assert section.provenance.status == "collected"
    source = section.provenance.source or ""
    assert "on Graph /beta" in source and "v1.0 answered 404" in source
    creates = [p for p in audit_requests(server) if p.endswith("/security/auditLog/queries")]
    assert len(creates) == 2 and "/v1.0/" in creates[0] and "/beta/" in creates[1]
    send = section.data.operations["Send"] if section.data else None
    assert send is not None
    # the non-user actors' records are counted, but never as users
    assert send.distinct_users == expected_users(tenant, "Send") > 0
    assert send.actors is not None and send.actors.accounts == send.distinct_users
    assert send.actors.ids > 0 and send.actors.system_records > 0
    assert send.records > send.distinct_users


def test_a_tenant_served_on_v1_adds_no_request(serve: Any) -> None:
    server = serve(with_audit_log("contoso", query_seconds=0.1))
    section = probe(server, "contoso", operations=["Send"])
    assert "on Graph /v1.0" in (section.provenance.source or "")
    assert not any("/beta/" in p for p in audit_requests(server))


def test_actor_kinds() -> None:
    upn = {"userPrincipalName": "Ann@Contoso.com", "userId": "10032005000C4421", "userType": "Regular"}
    assert actor(upn) == ("account", "ann@contoso.com")
    mailbox = {"userPrincipalName": "3f2a…", "auditData": {"MailboxOwnerUPN": "bob@contoso.com"}}
    assert actor(mailbox) == ("account", "bob@contoso.com")
    guid = "bbcfc3c5-0b93-4135-9ef9-18477a9fb504"
    assert actor({"userPrincipalName": guid, "userType": "Regular"}) == ("id", guid)
    assert actor({"userPrincipalName": guid.upper(), "userType": "Application"}) == ("id", guid)
    assert actor({"userPrincipalName": "Not Available", "userType": "System", "userId": guid})[0] == "system"
    assert actor({"userPrincipalName": "system release", "userId": "__NULL__", "userType": "Regular"})[0] == "system"
    assert actor({"userPrincipalName": "Not Available", "userId": "__NULL__"}) == ("unknown", None)
    assert actor({}) == ("unknown", None)
    # classic export spelling: PascalCase keys, numeric UserType in AuditData
    classic = {"Operation": "Send", "UserId": "x", "AuditData": '{"UserId": "carol@contoso.com", "UserType": 0}'}
    assert actor(classic) == ("account", "carol@contoso.com")


def test_tally_counts_actor_kinds_separately() -> None:
    tally = ProbeTally(["Send"])
    for principal in ("ann@contoso.com", "ann@contoso.com", "bbcfc3c5-0b93-4135-9ef9-18477a9fb504", "Not Available"):
        tally.add({"operation": "Send", "userPrincipalName": principal, "createdDateTime": "2026-01-01T00:00:00Z"})
    tally.add({"Operation": "send", "UserPrincipalName": "system release", "UserType": "System"})
    obs = tally.observations(5)["Send"]
    assert obs.records == 5 and obs.distinct_users == 1
    assert obs.actors is not None
    assert (obs.actors.accounts, obs.actors.ids, obs.actors.system_records, obs.actors.unknown_records) == (1, 1, 1, 1)


def test_detail_mode_counts_ids_of_enumerated_in_scope_users_as_users() -> None:
    from assessor.collect.orchestrate import count_in_scope_observed
    from assessor.evidence import ActorCounts, AuditProbe, OperationObservation

    guid, app = "bbcfc3c5-0b93-4135-9ef9-18477a9fb504", "2c92ce28-126c-47c1-82b0-410b64502989"
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    probe_data = AuditProbe(
        window_start=when,
        window_end=when,
        operations={
            "Search": OperationObservation(
                records=4, distinct_users=1, actors=ActorCounts(accounts=1, ids=2, system_records=0, unknown_records=1)
            ),
            "Send": OperationObservation(records=1, distinct_users=1),  # not observed: left as it was
        },
    )
    observed = {"Search": frozenset({"ann@contoso.com", guid, app})}
    in_scope = frozenset({"ann@contoso.com", "rob@contoso.com"})
    counted = count_in_scope_observed(probe_data, observed, in_scope, {guid: "rob@contoso.com"})
    assert probe_data.operations["Search"].distinct_users == 1  # a new value, the probe's is unchanged
    search = counted.operations["Search"]
    assert search.in_scope_users == 2 and search.distinct_users == 2
    assert search.actors is not None
    assert search.actors.accounts == 2 and search.actors.ids == 1  # the app stays an id
    assert (search.actors.system_records, search.actors.unknown_records) == (0, 1)
    assert counted.operations["Send"] == probe_data.operations["Send"]
