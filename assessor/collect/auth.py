"""One credential factory for every auth mode. Secrets come from the environment or a file,
never from the command line, and never appear in a repr, a log line or an exception message.

Modes: ``secret`` (client secret from ``$AZURE_CLIENT_SECRET`` or a file), ``certificate`` (PEM or
PFX path, optional password from an env var), ``device-code``, ``browser``, ``azure-cli``,
``managed-identity``, ``default`` (DefaultAzureCredential) and ``token`` (static bearer tokens
from ``ASSESSOR_GRAPH_TOKEN`` / ``ASSESSOR_EXCHANGE_TOKEN`` / ``ASSESSOR_COMPLIANCE_TOKEN`` /
``ASSESSOR_ARM_TOKEN``; the
token is chosen by the resource of the scope asked for).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict
from urllib.parse import urlsplit

from azure.core.credentials import AccessToken, TokenCredential
from azure.core.exceptions import ClientAuthenticationError

from assessor.collect.clouds import CLOUDS, CloudEndpoints, is_loopback
from assessor.collect.permissions import decode_jwt_claims
from assessor.errors import UsageError
from assessor.redact import register_secret
from assessor.vocabulary import AUTH_MODES, AuthMode

Resource = Literal["graph", "exchange", "compliance", "arm"]
TOKEN_ENV: dict[Resource, str] = {
    "graph": "ASSESSOR_GRAPH_TOKEN",
    "exchange": "ASSESSOR_EXCHANGE_TOKEN",
    "compliance": "ASSESSOR_COMPLIANCE_TOKEN",
    "arm": "ASSESSOR_ARM_TOKEN",
}
DEFAULT_SECRET_ENV = "AZURE_CLIENT_SECRET"  # noqa: S105 - the name of an env var
DEFAULT_CERT_PASSWORD_ENV = "AZURE_CLIENT_CERTIFICATE_PASSWORD"  # noqa: S105 - an env var name


@dataclass(frozen=True)
class AuthOptions:
    """How to authenticate. Holds names of env vars and paths, never secret values."""

    mode: AuthMode = AuthMode.DEFAULT
    tenant: str | None = None
    client_id: str | None = None
    secret_env: str = DEFAULT_SECRET_ENV
    secret_file: Path | None = None
    certificate_path: Path | None = None
    certificate_password_env: str = DEFAULT_CERT_PASSWORD_ENV
    managed_identity_client_id: str | None = None
    environ: Mapping[str, str] | None = field(default=None, repr=False, compare=False)

    def env(self) -> Mapping[str, str]:
        return os.environ if self.environ is None else self.environ


class RedactedCredential:
    """Wraps an azure-identity credential so its repr names the mode and inputs, never secrets."""

    def __init__(self, inner: TokenCredential, description: str, tenant: str | None = None) -> None:
        self._inner = inner
        self._description = description
        self._tenant = tenant  # asked for on every token (credentials that default to a home tenant)

    # **kwargs: Any as in azure-core's own TokenCredential.get_token, passed on to the wrapped credential
    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        if self._tenant and "tenant_id" not in kwargs:
            kwargs["tenant_id"] = self._tenant
        token: AccessToken = self._inner.get_token(*scopes, **kwargs)
        return token

    def close(self) -> None:
        closer = getattr(self._inner, "close", None)
        if callable(closer):
            closer()

    def __repr__(self) -> str:
        return self._description

    __str__ = __repr__

    def __getstate__(self) -> None:
        raise TypeError("credentials cannot be pickled")


def resource_of_scope(scope: str) -> Resource:
    """Which API a scope (``https://host/.default``) is for, across all national clouds."""
    host = (urlsplit(scope).hostname or scope).lower()
    for cloud in CLOUDS.values():
        if host == cloud.graph_host:
            return "graph"
        if host == cloud.exchange_host:
            return "exchange"
        if host == cloud.compliance_host:
            return "compliance"
        if host == cloud.arm_host:
            return "arm"
    if "compliance" in host:
        return "compliance"
    if "outlook" in host:
        return "exchange"
    if "graph" in host or is_loopback(host):
        return "graph"
    raise ClientAuthenticationError(message=f"no static token is configured for the resource of scope {scope!r}")


class StaticTokenCredential:
    """``--auth token``: bearer tokens obtained elsewhere, one per resource, from the environment."""

    in_memory = True  # get_token never does I/O: callers need not move it off the event loop

    def __init__(self, tokens: Mapping[Resource, str], clock: Callable[[], float] = time.time) -> None:
        self._tokens = {k: v.strip() for k, v in tokens.items() if v and v.strip()}
        for value in self._tokens.values():
            register_secret(value)
        self._clock = clock

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StaticTokenCredential:
        env = os.environ if environ is None else environ
        return cls({resource: env.get(var, "") for resource, var in TOKEN_ENV.items()})

    def has(self, resource: Resource) -> bool:
        return resource in self._tokens

    def token_for(self, resource: Resource) -> str | None:
        return self._tokens.get(resource)

    def get_token(self, *scopes: str, **_kwargs: object) -> AccessToken:
        if not scopes:
            raise ClientAuthenticationError(message="get_token needs a scope")
        resource = resource_of_scope(scopes[0])
        token = self._tokens.get(resource)
        if token is None:
            raise ClientAuthenticationError(message=f"no {resource} token: set {TOKEN_ENV[resource]}")
        return AccessToken(token, self._expiry(token))

    def _expiry(self, token: str) -> int:
        claims = decode_jwt_claims(token)
        exp = claims.get("exp") if claims else None
        return int(exp) if isinstance(exp, (int, float)) else int(self._clock()) + 3600

    def close(self) -> None:
        return None

    def __repr__(self) -> str:
        present = ", ".join(f"{r}=<set>" for r in self._tokens) or "no tokens"
        return f"StaticTokenCredential({present})"

    __str__ = __repr__


# --------------------------------------------------------------------------- factory


def build_credential(options: AuthOptions, cloud: CloudEndpoints) -> TokenCredential:
    """The credential for ``options.mode`` in ``cloud`` (no network is used to construct it)."""
    builders: dict[str, Callable[[AuthOptions, CloudEndpoints], TokenCredential]] = {
        "secret": _secret,
        "certificate": _certificate,
        "device-code": _device_code,
        "browser": _browser,
        "azure-cli": _azure_cli,
        "managed-identity": _managed_identity,
        "default": _default,
        "token": _token,
    }
    if options.mode not in builders:
        raise UsageError(f"unknown --auth mode {options.mode!r}; choose one of {', '.join(AUTH_MODES)}")
    return builders[options.mode](options, cloud)


def _need(value: str | None, what: str, mode: str) -> str:
    if not value:
        raise UsageError(f"--auth {mode} needs {what}")
    return value


def _describe(kind: str, options: AuthOptions, cloud: CloudEndpoints, **extra: str) -> str:
    parts = [f"tenant={options.tenant!r}", f"client_id={options.client_id!r}", f"authority={cloud.authority!r}"]
    parts += [f"{k}={v}" for k, v in extra.items()]
    return f"{kind}({', '.join(parts)})"


def _read_secret(options: AuthOptions) -> tuple[str, str]:
    if options.secret_file is not None:
        try:
            value = Path(options.secret_file).read_text(encoding="utf-8").strip()
        except OSError as err:
            raise UsageError(f"cannot read the client secret file {options.secret_file} ({err.strerror})") from None
        if not value:
            raise UsageError(f"the client secret file {options.secret_file} is empty")
        return value, f"<redacted, from file {options.secret_file}>"
    value = options.env().get(options.secret_env, "").strip()
    if not value:
        raise UsageError(
            f"--auth secret needs the client secret in the environment variable {options.secret_env} (or a secret file)"
        )
    return value, f"<redacted, from ${options.secret_env}>"


def _secret(options: AuthOptions, cloud: CloudEndpoints) -> RedactedCredential:
    from azure.identity import ClientSecretCredential

    tenant = _need(options.tenant, "--tenant", "secret")
    client_id = _need(options.client_id, "a client id (--client-id or AZURE_CLIENT_ID)", "secret")
    secret, where = _read_secret(options)
    register_secret(secret)
    inner = ClientSecretCredential(tenant, client_id, secret, authority=cloud.authority_host)
    return RedactedCredential(inner, _describe("ClientSecretCredential", options, cloud, secret=where))


def _certificate(options: AuthOptions, cloud: CloudEndpoints) -> RedactedCredential:
    from azure.identity import CertificateCredential

    tenant = _need(options.tenant, "--tenant", "certificate")
    client_id = _need(options.client_id, "a client id (--client-id or AZURE_CLIENT_ID)", "certificate")
    path = options.certificate_path
    if path is None:
        raise UsageError("--auth certificate needs a certificate path (PEM or PFX)")
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise UsageError(f"cannot read the certificate {path} ({err.strerror})") from None
    password = options.env().get(options.certificate_password_env) or None
    register_secret(password)
    try:
        inner = CertificateCredential(
            tenant, client_id, certificate_data=data, password=password, authority=cloud.authority_host
        )
    except ValueError as err:
        raise UsageError(
            f"the certificate {path} could not be loaded ({type(err).__name__}: wrong format or "
            f"password; the password is read from ${options.certificate_password_env})"
        ) from None
    pw = f"<redacted, from ${options.certificate_password_env}>" if password else "none"
    return RedactedCredential(
        inner, _describe("CertificateCredential", options, cloud, certificate=str(path), password=pw)
    )


class _InteractiveArgs(TypedDict, total=False):
    """The keyword arguments given to a device-code or browser credential (only those set)."""

    authority: str
    tenant_id: str
    client_id: str


class _DefaultArgs(TypedDict, total=False):
    """The keyword arguments given to DefaultAzureCredential (only those set)."""

    authority: str
    additionally_allowed_tenants: list[str]
    managed_identity_client_id: str


def _device_code(options: AuthOptions, cloud: CloudEndpoints) -> RedactedCredential:
    from azure.identity import DeviceCodeCredential

    kwargs: _InteractiveArgs = {"authority": cloud.authority_host}
    if options.tenant:
        kwargs["tenant_id"] = options.tenant
    if options.client_id:
        kwargs["client_id"] = options.client_id
    return RedactedCredential(DeviceCodeCredential(**kwargs), _describe("DeviceCodeCredential", options, cloud))


def _browser(options: AuthOptions, cloud: CloudEndpoints) -> RedactedCredential:
    from azure.identity import InteractiveBrowserCredential

    kwargs: _InteractiveArgs = {"authority": cloud.authority_host}
    if options.tenant:
        kwargs["tenant_id"] = options.tenant
    if options.client_id:
        kwargs["client_id"] = options.client_id
    return RedactedCredential(
        InteractiveBrowserCredential(**kwargs), _describe("InteractiveBrowserCredential", options, cloud)
    )


def _azure_cli(options: AuthOptions, cloud: CloudEndpoints) -> RedactedCredential:
    from azure.identity import AzureCliCredential

    inner = AzureCliCredential(tenant_id=options.tenant) if options.tenant else AzureCliCredential()
    return RedactedCredential(inner, _describe("AzureCliCredential", options, cloud))


def _managed_identity(options: AuthOptions, cloud: CloudEndpoints) -> RedactedCredential:
    from azure.identity import ManagedIdentityCredential

    mi_client = options.managed_identity_client_id or options.client_id
    inner = ManagedIdentityCredential(client_id=mi_client) if mi_client else ManagedIdentityCredential()
    return RedactedCredential(inner, _describe("ManagedIdentityCredential", options, cloud))


def _default(options: AuthOptions, cloud: CloudEndpoints) -> RedactedCredential:
    from azure.identity import DefaultAzureCredential

    # DefaultAzureCredential signs in to whatever tenant its source (environment, CLI, IDE) defaults
    # to; every token is asked for --tenant instead, so a home-tenant token never assesses a customer
    kwargs: _DefaultArgs = {"authority": cloud.authority_host, "additionally_allowed_tenants": ["*"]}
    if options.managed_identity_client_id:
        kwargs["managed_identity_client_id"] = options.managed_identity_client_id
    return RedactedCredential(
        DefaultAzureCredential(**kwargs),
        _describe("DefaultAzureCredential", options, cloud),
        tenant=options.tenant or None,
    )


def _token(options: AuthOptions, _cloud: CloudEndpoints) -> StaticTokenCredential:
    credential = StaticTokenCredential.from_env(options.env())
    if not credential.has("graph"):
        raise UsageError(f"--auth token needs a Graph token in {TOKEN_ENV['graph']}")
    return credential
