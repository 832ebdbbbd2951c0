"""Least-privilege permissions per section and the JWT preflight."""

from __future__ import annotations

import base64
import json

from assessor.collect import collect_sync
from assessor.collect.auth import StaticTokenCredential
from assessor.collect.permissions import decode_jwt_claims, preflight, required_permissions
from assessor.pipeline import collect_options
from assessor.sandbox import SandboxServer


def jwt(claims: dict) -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.signature"


def test_required_permissions_cover_every_graph_section() -> None:
    by_section = {r.section: r.permission for r in required_permissions()}
    assert by_section["tenant"] == "Organization.Read.All"
    assert by_section["skus"] == "LicenseAssignment.Read.All"
    assert by_section["users"] == "User.Read.All"
    assert by_section["privileged"] == "RoleManagement.Read.Directory"
    assert by_section["exchange.retention_policies"] == "Exchange.ManageAsApp"
    assert [r.section for r in required_permissions(["users"])] == ["users"]


def test_preflight_names_missing_roles() -> None:
    token = jwt(
        {
            "aud": "https://graph.microsoft.com",
            "idtyp": "app",
            "roles": ["Organization.Read.All", "User.Read.All", "LicenseAssignment.Read.All"],
        }
    )
    result = preflight(token)
    assert result is not None and result.app_only
    missing = {m.section for m in result.missing}
    assert "privileged" in missing and "users" not in missing and "skus" not in missing
    assert any("RoleManagement.Read.Directory" in m for m in result.messages())


def test_broader_permissions_satisfy_the_requirement() -> None:
    result = preflight(jwt({"roles": ["Directory.Read.All", "AuditLogsQuery.Read.All"]}))
    assert result is not None and not result.missing


def test_non_jwt_and_delegated_tokens_are_not_judged() -> None:
    assert preflight("opaque-token") is None
    assert decode_jwt_claims("a.b.c") is None
    assert preflight(jwt({"scp": "User.Read", "roles": []})) is None


def test_preflight_notes_land_in_the_evidence() -> None:
    token = jwt({"idtyp": "app", "roles": ["User.Read.All"]})
    with SandboxServer(["contoso"]) as server:
        options = collect_options(
            server, "contoso", no_exchange=True, credential=StaticTokenCredential({"graph": token})
        )
        evidence = collect_sync(options)
    assert any("preflight" in n and "RoleManagement.Read.Directory" in n for n in evidence.meta.notes)


def test_preflight_speaks_of_the_probe_only_when_it_was_asked_for() -> None:
    token = jwt({"idtyp": "app", "roles": ["User.Read.All"]})
    with SandboxServer(["contoso"]) as server:
        plain = collect_sync(
            collect_options(server, "contoso", no_exchange=True, credential=StaticTokenCredential({"graph": token}))
        )
        probing = collect_sync(
            collect_options(
                server,
                "contoso",
                no_exchange=True,
                probe_events_days=1,
                probe_timeout=5.0,
                credential=StaticTokenCredential({"graph": token}),
            )
        )
    assert not any("audit_probe" in n for n in plain.meta.notes if n.startswith("preflight"))
    assert any("audit_probe" in n for n in probing.meta.notes if n.startswith("preflight"))


def test_app_only_credentials_are_preflighted_too(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """--auth secret/certificate/managed-identity: the Graph token's roles are read before collecting."""
    import time

    from azure.core.credentials import AccessToken

    import assessor.collect.orchestrate as collect_module
    from assessor.collect.auth import AuthOptions

    token = jwt({"idtyp": "app", "roles": ["User.Read.All"]})

    class AppCredential:  # what ClientSecretCredential returns, without the network
        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            return AccessToken(token, int(time.time()) + 3600)

    monkeypatch.setattr(collect_module, "build_credential", lambda auth, cloud: AppCredential())
    with SandboxServer(["contoso"]) as server:
        options = collect_options(
            server,
            "contoso",
            no_exchange=True,
            credential=None,
            auth=AuthOptions(mode="secret", client_id="00000000-0000-0000-0000-000000000001"),
        )
        evidence = collect_sync(options)
    assert any(n.startswith("preflight") and "RoleManagement.Read.Directory" in n for n in evidence.meta.notes)


def test_exchange_token_without_manage_as_app_is_noted() -> None:
    graph = jwt({"idtyp": "app", "roles": ["Directory.Read.All"]})
    exchange = jwt({"idtyp": "app", "roles": ["full_access_as_app"]})
    with SandboxServer(["contoso"]) as server:
        options = collect_options(
            server,
            "contoso",
            credential=StaticTokenCredential({"graph": graph, "exchange": exchange, "compliance": exchange}),
            **server.exchange_endpoints("contoso"),
        )
        evidence = collect_sync(options)
    notes = [n for n in evidence.meta.notes if n.startswith("preflight")]
    assert any("Exchange.ManageAsApp" in n and "exchange.mailboxes" in n for n in notes), notes
