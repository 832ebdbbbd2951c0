"""Secrets: every auth mode with a recognisable canary, scanned for in everything the tool leaves behind.

Token mode runs end to end against the sandbox (collect → evidence → every report format, a
chaos run whose failures put error text into the evidence, and a bulk scan with its state file).
The other modes run through the CLI with the canary as client secret (env var and file),
certificate password, managed-identity header and ambient environment, with the sign-in authority
pointed at a closed loopback port so they fail without network. Logs are captured at DEBUG for
the tool and the azure/msal/httpx/httpcore/kiota/msgraph loggers. Expected: zero hits.
"""

from __future__ import annotations

import base64
import json
import logging
import sys
import webbrowser
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from azure.core.pipeline.policies._retry import RetryPolicyBase

from assessor.cli import main
from assessor.collect.clouds import CLOUDS
from assessor.sandbox import SandboxServer, load_tenant
from assessor.sandbox.chaos import Chaos, ChaosConfig
from assessor.sandbox.fleet import FleetSpec, add_fleet, manifest_rows
from tests.helpers.chaos import FIGURES

CANARY = "SECRET-CANARY-7f3a9c2e5b1d"
LOGGERS = (
    "",
    "assessor",
    "azure",
    "azure.identity",
    "azure.core",
    "msal",
    "httpx",
    "httpcore",
    "kiota_http",
    "kiota_abstractions",
    "msgraph",
    "msgraph_core",
    "urllib3",
)
TENANT = "8b4e2f10-3c7d-4a51-9e26-5f0c1a7d3b42"
CLIENT = "11111111-2222-4333-8444-555555555555"
CLOSED_AUTHORITY = "127.0.0.1:9"  # nothing listens: sign-in fails at once, no network leaves the host


def _b64(value: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def canary_jwt(resource: str) -> str:
    """A JWT-shaped bearer token (the preflight decodes its roles) whose signature is the canary."""
    claims = {"aud": resource, "tid": TENANT, "roles": ["User.Read.All", "Organization.Read.All"], "exp": 4102444800}
    return f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(claims)}.{CANARY}-{resource}"


TOKENS = {
    "ASSESSOR_GRAPH_TOKEN": canary_jwt("graph"),
    "ASSESSOR_EXCHANGE_TOKEN": canary_jwt("exchange"),
    "ASSESSOR_COMPLIANCE_TOKEN": canary_jwt("compliance"),
}


@dataclass
class Scan:
    """Where the canary was found (file paths, 'log', 'stderr', …)."""

    hits: list[str] = field(default_factory=list)
    scanned: int = 0

    def text(self, where: str, text: str) -> None:
        self.scanned += 1
        if CANARY in text or any(t in text for t in TOKENS.values()):
            self.hits.append(where)

    def tree(self, root: Path) -> None:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            self.text(str(path), path.read_bytes().decode("utf-8", "replace"))


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    return caplog


def run(*args: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    return int(exit_info.value.code or 0)


def endpoints(server: SandboxServer, tenant: str) -> list[str]:
    ex = server.exchange_endpoints(tenant)
    return [
        "--graph-endpoint",
        server.graph_url(tenant),
        "--exchange-endpoint",
        ex["exchange_endpoint"],
        "--compliance-endpoint",
        ex["compliance_endpoint"],
    ]


# --------------------------------------------------------------------------- token mode, end to end


@pytest.fixture
def token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in TOKENS.items():
        monkeypatch.setenv(key, value)


@pytest.mark.usefixtures("token_env")
def test_token_mode_end_to_end_leaves_no_trace(
    tmp_path: Path, debug_logs: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    scan = Scan()
    chaos = Chaos(ChaosConfig.uniform(0.3, seed=11, timeout_seconds=0.5, slow_seconds=0.01, expire_after=25))
    with SandboxServer([load_tenant("contoso")]) as clean, SandboxServer([load_tenant("contoso")], chaos=chaos) as bad:
        code = run(
            "assess",
            "--tenant",
            TENANT,
            "--auth",
            "token",
            *endpoints(clean, TENANT),
            "--format",
            "html,md,json,csv,sarif,junit",
            "--output",
            str(tmp_path / "reports"),
            "--date",
            "2026-11-25",
        )
        assert code in (0, 1)
        run(
            "collect",
            "--tenant",
            TENANT,
            "--auth",
            "token",
            *endpoints(clean, TENANT),
            "--output",
            str(tmp_path / "evidence.json"),
        )
        chaos_code = run(
            "collect",
            "--tenant",
            TENANT,
            "--auth",
            "token",
            *endpoints(bad, TENANT),
            "--output",
            str(tmp_path / "chaos-evidence.json"),
        )
    assert chaos_code in (0, 3) and sum(chaos.injected.values()) > 0
    assert len(list((tmp_path / "reports").iterdir())) >= 6
    scan.tree(tmp_path)
    out = capsys.readouterr()
    scan.text("stdout", out.out)
    scan.text("stderr", out.err)
    scan.text("logs", debug_logs.text)
    scan.text("log records", "\n".join(repr(r.__dict__) for r in debug_logs.records))
    FIGURES.lines.append(
        f"secrets (token mode end to end): {scan.scanned} outputs scanned, "
        f"{len(debug_logs.records)} DEBUG log records, canary hits {len(scan.hits)}"
    )
    print(
        f"\nSECRETS token mode: {scan.scanned} outputs scanned, {len(debug_logs.records)} DEBUG records, "
        f"canary hits {len(scan.hits)}"
    )
    assert len(debug_logs.records) > 20, "DEBUG logging was really captured"
    assert scan.hits == []


@pytest.mark.usefixtures("token_env")
def test_bulk_with_token_rows_leaves_no_trace(
    tmp_path: Path, debug_logs: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = FleetSpec(12, users=12, failing=0.25, stall_seconds=30)
    chaos = Chaos(ChaosConfig.uniform(0.2, seed=5, timeout_seconds=0.5, slow_seconds=0.01))
    with SandboxServer(chaos=chaos) as server:
        add_fleet(server, spec)
        manifest = tmp_path / "fleet.yaml"
        manifest.write_text(
            yaml.safe_dump({"version": 1, "tenants": list(manifest_rows(spec, server.base_url))}), encoding="utf-8"
        )
        code = run(
            "bulk",
            str(manifest),
            "--output",
            str(tmp_path / "out"),
            "--concurrency",
            "6",
            "--tenant-timeout",
            "5",
            "--format",
            "json,html,csv,sarif",
        )
    assert code == 3, "the fleet's broken tenants fail"
    scan = Scan()
    scan.tree(tmp_path / "out")
    out = capsys.readouterr()
    scan.text("stderr", out.err)
    scan.text("logs", debug_logs.text)
    assert (tmp_path / "out" / "bulk-state.jsonl").is_file()
    assert scan.hits == []


# --------------------------------------------------------------------------- every other mode


@pytest.fixture
def offline_sign_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Sign-in against a closed loopback authority; ambient secrets set to the canary; no browser."""
    monkeypatch.setitem(CLOUDS, "global", replace(CLOUDS["global"], authority_host=CLOSED_AUTHORITY))
    monkeypatch.setattr(webbrowser, "open", lambda *_a, **_k: False)
    for key in ("ASSESSOR_GRAPH_TOKEN", "ASSESSOR_EXCHANGE_TOKEN", "ASSESSOR_COMPLIANCE_TOKEN", "MSI_ENDPOINT"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", CANARY + "-env")
    monkeypatch.setenv("AZURE_TENANT_ID", TENANT)
    monkeypatch.setenv("AZURE_CLIENT_ID", CLIENT)
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", f"https://{CLOSED_AUTHORITY}")
    monkeypatch.setenv("IDENTITY_ENDPOINT", "http://127.0.0.1:9/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", CANARY + "-msi")
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))  # no az / azd / pwsh to shell out to
    base_init = RetryPolicyBase.__init__

    def no_retries(self: RetryPolicyBase, **kwargs: Any) -> None:  # a refused connection fails at once
        base_init(self, **{**kwargs, "retry_total": 0})

    monkeypatch.setattr(RetryPolicyBase, "__init__", no_retries)
    yield


def _pem(tmp_path: Path) -> Path:
    from cryptography.hazmat.primitives import serialization

    from tests.collect.test_auth import pem_certificate

    path = pem_certificate(tmp_path / "app.pem", (CANARY + "-pw").encode())
    assert serialization  # the helper uses it
    return path


def _mode_args(mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    if mode == "secret-file":
        secret = tmp_path / "secret.txt"
        secret.write_text(CANARY + "-file\n", encoding="utf-8")
        return ["--auth", "secret", "--client-id", CLIENT, "--secret-file", str(secret)]
    if mode == "certificate":
        monkeypatch.setenv("CANARY_CERT_PASSWORD", CANARY + "-pw")
        return [
            "--auth",
            "certificate",
            "--client-id",
            CLIENT,
            "--certificate",
            str(_pem(tmp_path)),
            "--certificate-password-env",
            "CANARY_CERT_PASSWORD",
        ]
    if mode in ("secret", "device-code", "browser"):
        return ["--auth", mode, "--client-id", CLIENT]
    return ["--auth", mode]


MODES = ("secret", "secret-file", "certificate", "device-code", "browser", "azure-cli", "managed-identity", "default")


@pytest.mark.usefixtures("offline_sign_in")
@pytest.mark.parametrize("mode", MODES)
def test_credential_modes_fail_without_leaking(
    mode: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    debug_logs: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with SandboxServer([load_tenant("contoso")]) as server:
        code = run(
            "collect",
            "--tenant",
            TENANT,
            *_mode_args(mode, tmp_path, monkeypatch),
            *endpoints(server, TENANT),
            "--output",
            str(tmp_path / "evidence.json"),
        )
    out = capsys.readouterr()
    assert code == 3, out.err
    assert out.err.count("\n") == 1 and "Traceback" not in out.err
    assert not (tmp_path / "evidence.json").exists()
    scan = Scan()
    scan.text("stderr", out.err)
    scan.text("stdout", out.out)
    scan.text("logs", debug_logs.text)
    scan.text("exceptions", "\n".join(str(r.exc_info[1]) for r in debug_logs.records if r.exc_info))
    scan.tree(tmp_path / "out") if (tmp_path / "out").exists() else None
    FIGURES.auth_modes[mode] = len(scan.hits)
    assert scan.hits == [], f"{mode}: {scan.hits}"
