"""``--trace FILE`` on collect, assess and bulk: one JSON line per HTTP exchange with its shape,
never tokens, cookies, identities or values — checked with secret canaries (token mode, real SDK
and HTTP clients against the sandbox)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from assessor.sandbox import SandboxServer, load_tenant
from assessor.trace import query_names, redact_path, shape_of, tenant_label
from tests.helpers.bulk import fleet_manifest

from .test_secrets import CANARY, TENANT, TOKENS, endpoints, run

FIELDS = {"t", "method", "host", "path", "query", "status", "ms", "bytes", "shape"}
# identities and values the sandbox tenant holds: none may appear in a trace
FORBIDDEN = (CANARY, *TOKENS.values(), TENANT, "contoso.com", "@contoso", "Bearer", "authorization", "cookie")


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def assert_clean(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    for needle in FORBIDDEN:
        assert needle.lower() not in text.lower(), needle
    entries = lines(path)
    assert entries and all(set(e) >= FIELDS for e in entries)
    return entries


@pytest.fixture
def token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in TOKENS.items():
        monkeypatch.setenv(key, value)


@pytest.mark.usefixtures("token_env")
def test_collect_and_assess_trace_every_exchange_without_secrets_or_identities(tmp_path: Path) -> None:
    with SandboxServer([load_tenant("contoso")]) as server:
        base = ["--tenant", TENANT, "--auth", "token", *endpoints(server, TENANT)]
        code = run("collect", *base, "--output", str(tmp_path / "e.json"), "--trace", str(tmp_path / "collect.jsonl"))
        assert code == 0
        server.reset_stats()
        code = run(
            "assess",
            *base,
            "--users",
            "detail",
            "--probe-events",
            "7",
            "--format",
            "json",
            "--output",
            str(tmp_path / "out"),
            "--trace",
            str(tmp_path / "assess.jsonl"),
        )
        served = server.stats("contoso")["requests"]
    assert code in (0, 1)
    collected = assert_clean(tmp_path / "collect.jsonl")
    assessed = assert_clean(tmp_path / "assess.jsonl")
    assert len(assessed) == served  # one line per exchange (the preflight's, the SDK's and httpx's)
    hosts_paths = {(e["host"].split(":")[0], e["path"].split("/")[2]) for e in collected}
    assert ("127.0.0.1", "v1.0") in hosts_paths and ("127.0.0.1", "adminapi") in hosts_paths
    users = [e for e in assessed if e["path"].endswith("/v1.0/users")]
    assert users and all(e["shape"]["counts"]["value"] >= 0 and "$select" in e["query"] for e in users)
    assert all("{id}" in e["path"] for e in assessed if "/security/auditLog/queries/" in e["path"])
    redirect = next(e for e in collected if e["status"] == 302)
    assert redirect["redirect"]["host"].endswith("admin.protection.outlook.com:446")


def test_bulk_trace_labels_tenants_without_naming_them(tmp_path: Path) -> None:
    manifest = fleet_manifest(tmp_path / "m.yaml", 2, extra=[{"sandbox": "contoso", "name": "Contoso"}])
    trace = tmp_path / "bulk.jsonl"
    # two worker processes: their lines reach the one trace file the parent owns
    code = run("bulk", str(manifest), "--output", str(tmp_path / "out"), "--trace", str(trace), "--workers", "2")
    assert code in (0, 1)
    entries = assert_clean(trace)
    keys = [row["sandbox"] for row in yaml.safe_load(manifest.read_text())["tenants"]]
    labels = {e.get("tenant") for e in entries}
    assert labels == {tenant_label(f"sandbox:{k}") for k in keys}
    assert not any("fleet-0" in json.dumps(e) for e in entries)


def test_trace_with_evidence_is_refused(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[2] / "examples" / "e3-standard-ingestion-off.json"
    assert run("assess", "--evidence", str(sample), "--trace", str(tmp_path / "t.jsonl")) == 2


def test_redaction_rules() -> None:
    assert redact_path("/8b4e2f10-3c7d-4a51-9e26-5f0c1a7d3b42/v1.0/users/ann@contoso.com/memberOf") == (
        "/{id}/v1.0/users/{upn}/memberOf"
    )
    assert (
        redact_path("/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand") == "/adminapi/beta/{domain}/InvokeCommand"
    )
    assert redact_path("/directoryRoles/roleTemplateId=62e90394-69f5-4237-9190-012177145e10/members") == (
        "/directoryRoles/roleTemplateId={id}/members"
    )
    assert redact_path("/users('ann%40contoso.com')") == "/users('{id}')"
    assert redact_path("/groups/x/members/microsoft.graph.user") == "/groups/x/members/microsoft.graph.user"
    assert redact_path("/users/$count") == "/users/$count"
    assert redact_path("/x/eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9abcdef") == "/x/{id}"
    assert query_names("$filter=userPrincipalName%20eq%20'ann%40contoso.com'&$top=5") == ["$filter", "$top"]


def test_shapes_name_keys_counts_and_annotations_never_values() -> None:
    body = json.dumps(
        {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
            "@odata.nextLink": "https://graph.microsoft.com/v1.0/users?$skiptoken=SECRET",
            "value": [{"id": "1", "userPrincipalName": "ann@contoso.com", "x@odata.type": "#y"}],
        }
    ).encode()
    shape = shape_of(body, "application/json")
    assert shape == {
        "keys": ["value"],
        "counts": {"value": 1},
        "annotations": ["@odata.context", "@odata.nextLink", "x@odata.type"],
    }
    assert "ann@" not in json.dumps(shape) and "SECRET" not in json.dumps(shape)
    assert shape_of(bytes(4096), "application/json") == {"kind": "non-JSON binary"}
    assert shape_of(b"<html>oops</html>", "text/html") == {"kind": "non-JSON text"}
    error = shape_of(b'{"error":{"code":"UnknownError","message":"ann@contoso.com"}}', "application/json")
    assert error == {"keys": ["error"], "annotations": ["error.code", "error.message"]}
