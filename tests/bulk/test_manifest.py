"""Manifest validation: every error names the row and the field, before any tenant is contacted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assessor.bulk.command import load_profiles
from assessor.bulk.manifest import (
    check_references,
    find_inline_secret,
    load_manifest,
    manifest_json_schema,
    parse_csv_manifest,
    parse_yaml_manifest,
)
from assessor.errors import ManifestError

ROOT = Path(__file__).resolve().parents[2]
APP = "11111111-1111-1111-1111-111111111111"
GOOD = f"""
version: 1
defaults:
  profile: baseline
  auth: {{mode: secret, client_id: {APP}, secret_env: MSP_SECRET}}
tenants:
  - {{domain: contoso.onmicrosoft.com, name: Contoso, tags: [gold]}}
  - id: 8B4E2F10-3C7D-4A51-9E26-5F0C1A7D3B42
    cloud: gcc-high
    auth: {{mode: managed-identity}}
  - domain: litware.com
    auth: {{mode: multi-tenant-app, certificate_path: /secrets/app.pem}}
  - {{sandbox: Contoso}}
"""


def test_good_yaml_manifest_merges_defaults() -> None:
    manifest = parse_yaml_manifest(GOOD, "m.yaml")
    first, second, third, fourth = manifest.entries
    assert first.auth is not None and first.auth.secret_env == "MSP_SECRET" and first.tags == ("gold",)
    assert (
        second.id == "8b4e2f10-3c7d-4a51-9e26-5f0c1a7d3b42" and second.auth and second.auth.mode == "managed-identity"
    )
    assert third.auth and third.auth.client_id == APP and third.auth.credential_kind() == "certificate"
    options = third.auth.to_options(third.tenant)
    assert options.tenant == "litware.com" and options.mode == "certificate"
    assert fourth.key == "sandbox:contoso"
    assert [r.line for r in manifest.rows] == [7, 8, 11, 13]


@pytest.mark.parametrize(
    ("tenant", "fragment"),
    [
        ("{domain: 'bad domain'}", "tenant 2 (line 8), field domain: must be a domain name"),
        ("{id: not-a-guid, auth: {mode: managed-identity}}", "tenant 2 (line 8), field id: must be a tenant GUID"),
        (
            "{domain: a.com, auth: {mode: certificate, client_id: " + APP + "}}",
            "tenant 2 (line 8), field auth: Value error, auth mode certificate needs certificate_path",
        ),
        ("{domain: a.com}", "tenant 2 (line 8), field (tenant): Value error, auth is required"),
        (
            "{domain: a.com, auth: {mode: secret, client_id: " + APP + ", client_secret: abc}}",
            "tenant 2 (line 8), field auth.client_secret: inline secrets are not allowed",
        ),
        (
            "{domain: a.com, auth: {mode: token}, graph_token: xyz}",
            "tenant 2 (line 8), field graph_token: inline secrets are not allowed",
        ),
        (
            "{domain: a.com, auth: {mode: managed-identity}, name: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.sig}",
            "tenant 2 (line 8), field name: inline secrets are not allowed",
        ),
        (
            "{domain: a.com, auth: {mode: secret, client_id: " + APP + ", secret_env: 'abc~def=='}}",
            "tenant 2 (line 8), field auth.secret_env: must be the NAME of an environment variable",
        ),
        (
            "{domain: a.com, auth: {mode: managed-identity}, colour: blue}",
            "tenant 2 (line 8), field colour: Extra inputs are not permitted",
        ),
        (
            "{domain: a.com, auth: {mode: managed-identity}, graph_endpoint: 'http://evil.example/v1.0'}",
            "tenant 2 (line 8), field graph_endpoint: plain http is only allowed for loopback",
        ),
        (
            "{domain: CONTOSO.com, auth: {mode: managed-identity}}",
            "tenant 2 (line 8), field domain: tenant 'contoso.com' is already listed as tenant 1 (line 7)",
        ),
    ],
)
def test_yaml_errors_name_row_and_field(tenant: str, fragment: str) -> None:
    text = f"version: 1\ndefaults: {{}}\n\n\n\ntenants:\n  - {{domain: contoso.com, auth: {{mode: managed-identity}}}}\n  - {tenant}\n"
    with pytest.raises(ManifestError) as err:
        parse_yaml_manifest(text, "m.yaml")
    message = str(err.value)
    assert message.startswith("m.yaml: ") and "\n" not in message
    assert fragment.replace("Value error, ", "") in message


def test_csv_errors_name_line_and_column() -> None:
    header = "domain,name,auth,client_id,secret_env,tags\n"
    good = parse_csv_manifest(header + f"a.com,A,secret,{APP},A_SECRET,gold;eu\n", "m.csv")
    assert good.entries[0].tags == ("gold", "eu") and good.entries[0].auth is not None
    with pytest.raises(ManifestError, match=r"m.csv: tenant 2 \(line 3\), field auth.client_id: must be a GUID"):
        parse_csv_manifest(header + f"a.com,A,secret,{APP},A_SECRET,\nb.com,B,secret,nope,B_SECRET,\n", "m.csv")
    with pytest.raises(ManifestError, match=r"line 1, column 'client_secret' is not a manifest field"):
        parse_csv_manifest("domain,client_secret\na.com,hunter2\n", "m.csv")
    with pytest.raises(
        ManifestError,
        match=r"m.csv: tenant 2 \(line 3\): fewer cells than columns \(no cell for "
        r"'secret_env', 'tags'",
    ):
        parse_csv_manifest(header + f"a.com,A,secret,{APP},A_SECRET,\nb.com,B,secret,{APP}\n", "m.csv")


def test_references_checked_before_contact(monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = parse_yaml_manifest(GOOD.replace("/secrets/app.pem", str(ROOT / "pyproject.toml")), "m.yaml")
    with pytest.raises(
        ManifestError,
        match=r"tenant 1 \(line 7\), field auth.secret_env: the environment variable "
        r"MSP_SECRET is not set",
    ):
        check_references(manifest, {}, None, {"contoso"})
    check_references(manifest, {"MSP_SECRET": "x"}, {"baseline"}, {"contoso"})
    with pytest.raises(ManifestError, match=r"tenant 4 \(line 13\), field sandbox: no sandbox tenant named 'contoso'"):
        check_references(manifest, {"MSP_SECRET": "x"}, None, {"fabrikam"})
    bad_profile = parse_yaml_manifest(GOOD.replace("profile: baseline", "profile: no-such-profile"), "m.yaml")
    with pytest.raises(ManifestError, match=r"tenant 1 \(line 7\), field profile: "):
        load_profiles(bad_profile)


def test_inline_secret_detection() -> None:
    assert (
        find_inline_secret({"auth": {"secret_env": "X", "secret_file": "/f", "certificate_password_env": "P"}}) is None
    )
    assert find_inline_secret({"auth": {"password": "p"}}) == "auth.password"
    assert find_inline_secret({"tags": ["ok", "abc8Q~" + "x" * 34]}) == "tags.1"


def test_examples_load_and_schema_is_current() -> None:
    assert len(load_manifest(ROOT / "examples" / "bulk-manifest.yaml").rows) >= 10
    assert len(load_manifest(ROOT / "examples" / "bulk-manifest.csv").rows) == 3
    shipped = json.loads((ROOT / "examples" / "bulk-manifest.schema.json").read_text(encoding="utf-8"))
    assert shipped == manifest_json_schema()


def test_schema_validates_example() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    doc = yaml.safe_load((ROOT / "examples" / "bulk-manifest.yaml").read_text(encoding="utf-8"))
    jsonschema.validate(doc, manifest_json_schema())


def test_unreadable_or_empty_manifest(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="cannot read the manifest"):
        load_manifest(tmp_path / "missing.yaml")
    (tmp_path / "empty.yaml").write_text("version: 1\ntenants: []\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="field tenants"):
        load_manifest(tmp_path / "empty.yaml")
    (tmp_path / "bad.yaml").write_text("tenants: [\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="invalid YAML at line"):
        load_manifest(tmp_path / "bad.yaml")


def test_cli_prints_the_manifest_schema(capsys: pytest.CaptureFixture[str]) -> None:
    from assessor.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["schema", "manifest"])
    assert exit_info.value.code == 0
    assert json.loads(capsys.readouterr().out) == manifest_json_schema()
