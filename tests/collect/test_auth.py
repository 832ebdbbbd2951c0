"""Every auth mode is constructed without network; secrets never show in repr, logs or evidence."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from pathlib import Path

import pytest
from azure.core.exceptions import ClientAuthenticationError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from assessor.collect import CollectOptions, collect_sync
from assessor.collect.auth import AUTH_MODES, AuthOptions, StaticTokenCredential, build_credential, resource_of_scope
from assessor.collect.clouds import CLOUDS, cloud_endpoints
from assessor.errors import UsageError
from assessor.evidence import evidence_to_dict
from assessor.sandbox import SandboxServer

SECRET = "s3cr3t-Value-that-must-not-leak"
TENANT = "8b4e2f10-3c7d-4a51-9e26-5f0c1a7d3b42"
CLIENT = "11111111-2222-4333-8444-555555555555"


def pem_certificate(path: Path, password: bytes | None) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "assessor-test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    path.write_bytes(key_pem + cert.public_bytes(serialization.Encoding.PEM))
    return path


@pytest.mark.parametrize("mode", [m for m in AUTH_MODES if m not in ("secret", "certificate", "token")])
def test_interactive_and_ambient_modes_construct_offline(mode: str) -> None:
    credential = build_credential(
        AuthOptions(mode=mode, tenant=TENANT, client_id=CLIENT),  # type: ignore[arg-type]
        cloud_endpoints("gcc-high"),
    )
    assert callable(credential.get_token)
    assert "login.microsoftonline.us" in repr(credential) or mode in ("azure-cli", "managed-identity")


def test_client_secret_from_env_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    options = AuthOptions(mode="secret", tenant=TENANT, client_id=CLIENT, environ={"AZURE_CLIENT_SECRET": SECRET})
    credential = build_credential(options, cloud_endpoints("global"))
    assert SECRET not in repr(credential) and SECRET not in str(credential) and SECRET not in repr(options)
    assert "AZURE_CLIENT_SECRET" in repr(credential)
    assert SECRET not in caplog.text


def test_client_secret_from_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET + "\n")
    options = AuthOptions(mode="secret", tenant=TENANT, client_id=CLIENT, secret_file=secret_file, environ={})
    credential = build_credential(options, cloud_endpoints("global"))
    assert SECRET not in repr(credential) and str(secret_file) in repr(credential)


def test_missing_secret_names_the_variable_not_a_value() -> None:
    options = AuthOptions(mode="secret", tenant=TENANT, client_id=CLIENT, environ={})
    with pytest.raises(UsageError, match="AZURE_CLIENT_SECRET"):
        build_credential(options, cloud_endpoints("global"))
    with pytest.raises(UsageError, match="client id"):
        build_credential(
            AuthOptions(mode="secret", tenant=TENANT, environ={"AZURE_CLIENT_SECRET": SECRET}),
            cloud_endpoints("global"),
        )


@pytest.mark.parametrize("password", [None, b"pfx-password-123"])
def test_certificate_pem_with_optional_password(tmp_path: Path, password: bytes | None) -> None:
    cert = pem_certificate(tmp_path / "app.pem", password)
    environ = {"AZURE_CLIENT_CERTIFICATE_PASSWORD": password.decode()} if password else {}
    options = AuthOptions(mode="certificate", tenant=TENANT, client_id=CLIENT, certificate_path=cert, environ=environ)
    credential = build_credential(options, cloud_endpoints("dod"))
    assert str(cert) in repr(credential)
    if password:
        assert password.decode() not in repr(credential)


def test_certificate_with_wrong_password_is_a_usage_error(tmp_path: Path) -> None:
    cert = pem_certificate(tmp_path / "app.pem", b"right")
    options = AuthOptions(
        mode="certificate",
        tenant=TENANT,
        client_id=CLIENT,
        certificate_path=cert,
        environ={"AZURE_CLIENT_CERTIFICATE_PASSWORD": "wrong-password-xyz"},
    )
    with pytest.raises(UsageError) as err:
        build_credential(options, cloud_endpoints("global"))
    assert "wrong-password-xyz" not in str(err.value)


def test_token_mode_chooses_the_token_by_resource() -> None:
    environ = {
        "ASSESSOR_GRAPH_TOKEN": "g-token",
        "ASSESSOR_EXCHANGE_TOKEN": "x-token",
        "ASSESSOR_COMPLIANCE_TOKEN": "c-token",
    }
    credential = build_credential(AuthOptions(mode="token", environ=environ), cloud_endpoints("global"))
    for cloud in CLOUDS.values():
        assert credential.get_token(cloud.graph_scope).token == "g-token"
        assert credential.get_token(cloud.exchange_scope).token == "x-token"
        assert credential.get_token(cloud.compliance_scope).token == "c-token"
    assert credential.get_token("http://127.0.0.1/.default").token == "g-token"
    assert "g-token" not in repr(credential) and "graph=<set>" in repr(credential)


def test_token_expiry_comes_from_the_jwt() -> None:
    payload = base64.urlsafe_b64encode(json.dumps({"exp": 2_000_000_000}).encode()).decode().rstrip("=")
    credential = StaticTokenCredential({"graph": f"e30.{payload}.sig"})
    assert credential.get_token("https://graph.microsoft.com/.default").expires_on == 2_000_000_000


def test_token_mode_without_tokens() -> None:
    with pytest.raises(UsageError, match="ASSESSOR_GRAPH_TOKEN"):
        build_credential(AuthOptions(mode="token", environ={}), cloud_endpoints("global"))
    credential = StaticTokenCredential({"graph": "g"})
    with pytest.raises(ClientAuthenticationError, match="ASSESSOR_EXCHANGE_TOKEN"):
        credential.get_token("https://outlook.office365.us/.default")
    assert resource_of_scope("https://ps.compliance.protection.office365.us/.default") == "compliance"


def test_unknown_mode() -> None:
    with pytest.raises(UsageError, match="unknown --auth"):
        build_credential(AuthOptions(mode="magic"), cloud_endpoints("global"))  # type: ignore[arg-type]


def test_secret_absent_from_evidence_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    """A real collection with a token credential: the token appears nowhere in the evidence or logs."""
    caplog.set_level(logging.DEBUG)
    token = "Bearer-material-" + SECRET
    with SandboxServer(["contoso"]) as server:
        options = CollectOptions(
            tenant="contoso.com",
            graph_endpoint=server.graph_url("contoso"),
            no_exchange=True,
            auth=AuthOptions(mode="token", environ={"ASSESSOR_GRAPH_TOKEN": token}),
        )
        evidence = collect_sync(options)
    assert evidence.users.provenance.status == "collected"
    assert SECRET not in json.dumps(evidence_to_dict(evidence)) and SECRET not in caplog.text
    assert SECRET not in repr(options)


def test_sync_credentials_are_called_off_the_event_loop() -> None:
    """azure-identity credentials are synchronous: their token requests must not block other tenants."""
    import threading

    from azure.core.credentials import AccessToken

    threads: list[str] = []

    class RecordingCredential:
        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            threads.append(threading.current_thread().name)
            return AccessToken("t", 2_000_000_000)

    with SandboxServer(["contoso"]) as server:
        options = CollectOptions(
            tenant="contoso.com",
            graph_endpoint=server.graph_url("contoso"),
            no_exchange=True,
            credential=RecordingCredential(),
        )  # type: ignore[arg-type]
        assert collect_sync(options).users.provenance.status == "collected"
    assert threads and threading.main_thread().name not in threads
