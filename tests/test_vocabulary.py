"""The word lists that extend another one share its members (same names, same spellings), and the
schemas still spell them as they did when they were ``Literal`` lists."""

from __future__ import annotations

import json

from assessor.bulk.manifest import AuthRef, manifest_json_schema
from assessor.evidence import Users, evidence_json_schema
from assessor.vocabulary import (
    AUTH_MODES,
    INTERACTIVE_MODES,
    MANIFEST_AUTH_KINDS,
    USERS_MODES,
    AuthMode,
    EvidenceUsersMode,
    ManifestAuthKind,
    UsersMode,
)
from tests.helpers.support import ROOT


def test_manifest_auth_kinds_are_the_non_interactive_auth_modes_plus_multi_tenant_app() -> None:
    extra = {ManifestAuthKind.MULTI_TENANT_APP}
    shared = [k for k in ManifestAuthKind if k not in extra]
    assert {(k.name, k.value) for k in shared} == {(m.name, m.value) for m in AuthMode if m not in INTERACTIVE_MODES}
    assert all(AuthMode(k) == k for k in shared)  # each shared kind is the CLI mode of that spelling
    assert ManifestAuthKind.MULTI_TENANT_APP.value == "multi-tenant-app"
    assert "multi-tenant-app" not in AUTH_MODES  # the CLI signs in to one tenant
    assert set(INTERACTIVE_MODES) == {AuthMode.DEVICE_CODE, AuthMode.BROWSER}


def test_evidence_users_modes_are_the_cli_users_modes_plus_imported() -> None:
    assert [m.value for m in EvidenceUsersMode] == [*USERS_MODES, "imported"]
    assert all(EvidenceUsersMode[m.name] == m for m in UsersMode)


def test_schemas_list_the_enum_values_in_place() -> None:
    users = evidence_json_schema()["$defs"]["Users"]["properties"]["mode"]
    assert users == {"default": "summary", "enum": ["summary", "detail", "imported"], "title": "Mode", "type": "string"}
    mode = manifest_json_schema()["$defs"]["AuthRef"]["properties"]["mode"]
    assert mode["enum"] == list(MANIFEST_AUTH_KINDS) and mode["description"] == " | ".join(MANIFEST_AUTH_KINDS)
    shipped = json.loads((ROOT / "examples" / "bulk-manifest.schema.json").read_text(encoding="utf-8"))
    assert shipped["$defs"]["AuthRef"]["properties"]["mode"] == mode


def test_members_read_and_write_their_values() -> None:
    users = Users.model_validate({"mode": "imported", "counts": {}})
    assert users.mode is EvidenceUsersMode.IMPORTED
    assert json.loads(users.model_dump_json())["mode"] == "imported"
    auth = AuthRef.model_validate(
        {"mode": "multi-tenant-app", "client_id": "8b4e2f10-3c7d-4a51-9e26-5f0c1a7d3b42", "secret_env": "APP_SECRET"}
    )
    assert auth.mode is ManifestAuthKind.MULTI_TENANT_APP and auth.credential_kind() is AuthMode.SECRET
    assert auth.model_dump(mode="json")["mode"] == "multi-tenant-app"
