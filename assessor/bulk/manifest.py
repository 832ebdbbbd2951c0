"""The bulk-scan manifest: which tenants to assess, how to reach them, and how to authenticate.

A manifest is YAML (a mapping with ``tenants:`` and optional ``defaults:``/``sandbox:``) or CSV (one
tenant per row, a header line naming the columns). Every tenant gives an ``id`` (GUID) or a
``domain``, or names a ``sandbox`` tenant. Authentication is by *reference* only: a certificate
path, the NAME of an environment variable holding a client secret, a managed identity, or a
multi-tenant app consented in each customer tenant. A field that looks like an inline secret is
rejected.

Validation happens entirely before any tenant is contacted, and every error names the row (the
YAML line or CSV line, and the tenant's position) and the field::

    examples/bulk-manifest.yaml: tenant 3 (line 27), field auth.client_secret: inline secrets are not allowed …

The JSON Schema of the YAML form is :func:`manifest_json_schema` (shipped as
``examples/bulk-manifest.schema.json``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, field_validator, model_validator

from assessor.collect.auth import AuthOptions
from assessor.collect.clouds import CLOUD_NAMES, validate_endpoint
from assessor.errors import AssessorError, ManifestError
from assessor.evidence import GUID
from assessor.textfile import read_user_text
from assessor.vocabulary import MANIFEST_AUTH_KINDS, AuthMode, Cloud, ManifestAuthKind, inline_enum_schema
from assessor.yamlsafe import SAFE_LOADER, YamlExpansionError, safe_load_bounded

MAX_MANIFEST_BYTES = 32 * 1024 * 1024
SANDBOX_AUTH = "sandbox"
_DOMAIN = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$")
_SECRETISH_KEY = re.compile(r"(secret|password|passwd|pwd|token|api_?key|private_?key|credential)$", re.IGNORECASE)
_SECRET_SAFE_SUFFIXES = ("_env", "_file", "_path")
# Values that are almost certainly secrets: a JWT, a PEM block, an Azure AD client secret (e.g. "abC8Q~…").
_SECRET_VALUES = (
    re.compile(r"^eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\."),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"^[A-Za-z0-9_.-]{3}\dQ~[A-Za-z0-9_.~-]{30,}$"),
)


# --------------------------------------------------------------------------- the model


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthRef(_Model):
    """How to authenticate to one tenant. References only: paths and environment variable names."""

    # the enum's values inline, as the schema has always given them (not a $ref to the enum's docstring)
    mode: Annotated[ManifestAuthKind, WithJsonSchema(inline_enum_schema(ManifestAuthKind, "Mode"))] = Field(
        description=" | ".join(MANIFEST_AUTH_KINDS)
    )
    client_id: str | None = Field(
        None, description="The app (client) id; for multi-tenant-app, the one app consented in every customer tenant"
    )
    certificate_path: Path | None = Field(None, description="PEM or PFX file (certificate, multi-tenant-app)")
    certificate_password_env: str | None = Field(None, description="NAME of the env var holding the PFX password")
    secret_env: str | None = Field(None, description="NAME of the env var holding the client secret")
    secret_file: Path | None = Field(None, description="File holding the client secret")
    managed_identity_client_id: str | None = Field(None, description="User-assigned managed identity client id")

    @field_validator("secret_env", "certificate_password_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError("must be the NAME of an environment variable (letters, digits, _), not its value")
        return value

    @field_validator("client_id", "managed_identity_client_id")
    @classmethod
    def _guid(cls, value: str | None) -> str | None:
        if value is not None and not GUID.match(value):
            raise ValueError("must be a GUID")
        return value

    @model_validator(mode="after")
    def _complete(self) -> AuthRef:
        needs_app = self.mode in (
            ManifestAuthKind.CERTIFICATE,
            ManifestAuthKind.SECRET,
            ManifestAuthKind.MULTI_TENANT_APP,
        )
        if needs_app and not self.client_id:
            raise ValueError(f"auth mode {self.mode} needs client_id")
        if self.mode == ManifestAuthKind.CERTIFICATE and self.certificate_path is None:
            raise ValueError("auth mode certificate needs certificate_path")
        if (
            self.mode == ManifestAuthKind.MULTI_TENANT_APP
            and self.certificate_path is None
            and not (self.secret_env or self.secret_file)
        ):
            raise ValueError("auth mode multi-tenant-app needs certificate_path, secret_env or secret_file")
        return self

    def credential_kind(self) -> AuthMode:
        """The ``--auth`` mode of the collector this reference becomes."""
        if self.mode == ManifestAuthKind.MULTI_TENANT_APP:
            return AuthMode.CERTIFICATE if self.certificate_path is not None else AuthMode.SECRET
        return AuthMode(self.mode)

    def to_options(self, tenant: str, environ: Mapping[str, str] | None = None) -> AuthOptions:
        """The collector's :class:`AuthOptions` for ``tenant`` (per-tenant authority for multi-tenant apps)."""
        extra: dict[str, str] = {}
        if self.secret_env:
            extra["secret_env"] = self.secret_env
        if self.certificate_password_env:
            extra["certificate_password_env"] = self.certificate_password_env
        return AuthOptions(
            mode=self.credential_kind(),
            tenant=tenant,
            client_id=self.client_id,
            secret_file=self.secret_file,
            certificate_path=self.certificate_path,
            managed_identity_client_id=self.managed_identity_client_id,
            environ=environ,
            **extra,
        )


class TenantEntry(_Model):
    """One tenant of the manifest."""

    id: str | None = Field(None, description="Tenant id (GUID)")
    domain: str | None = Field(None, description="A verified domain of the tenant")
    sandbox: str | None = Field(None, description="A sandbox tenant served in-process (no Microsoft account)")
    name: str | None = Field(None, description="Display name used in the portfolio")
    cloud: Cloud = Cloud.GLOBAL
    auth: AuthRef | None = None
    profile: str = "baseline"
    tags: tuple[str, ...] = ()
    graph_endpoint: str | None = None
    exchange_endpoint: str | None = None
    compliance_endpoint: str | None = None
    no_exchange: bool = False
    attest: Path | None = Field(
        None,
        description="Log-export attestation (YAML/JSON) for this tenant, as assess --attest (default: bulk --attest)",
    )
    arm_endpoint: str | None = Field(None, description="Azure Resource Manager base URL override")
    no_azure: bool = Field(False, description="Do not read where logs go from Azure Resource Manager")
    azure_subscriptions: tuple[str, ...] = Field(
        (), description="Azure subscriptions to read (default: every one the credential can list)"
    )

    @field_validator("azure_subscriptions")
    @classmethod
    def _subscriptions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for sub in value:
            if not GUID.match(sub):
                raise ValueError(f"{sub[:40]!r} is not a subscription id (GUID)")
        return tuple(dict.fromkeys(s.lower() for s in value))

    @field_validator("id")
    @classmethod
    def _tenant_guid(cls, value: str | None) -> str | None:
        if value is not None and not GUID.match(value):
            raise ValueError("must be a tenant GUID (use domain: for a domain name)")
        return value.lower() if value else value

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        if value is not None and not _DOMAIN.match(value):
            raise ValueError("must be a domain name such as contoso.onmicrosoft.com")
        return value.lower() if value else value

    @field_validator("sandbox")
    @classmethod
    def _sandbox(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$", value):
            raise ValueError("must be a sandbox tenant name (letters, digits, '.', '_', '-')")
        return value.lower() if value else value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for tag in value:
            if not _TAG.match(tag):
                raise ValueError(f"tag {tag!r}: use letters, digits and _ . : / - (at most 64)")
        return tuple(dict.fromkeys(value))

    @field_validator("graph_endpoint", "exchange_endpoint", "compliance_endpoint", "arm_endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return validate_endpoint(value, "endpoint")
        except AssessorError as err:
            raise ValueError(str(err).removeprefix("endpoint: ")) from None

    @model_validator(mode="after")
    def _identified(self) -> TenantEntry:
        if not (self.id or self.domain or self.sandbox):
            raise ValueError("give id, domain or sandbox")
        if self.sandbox is None and self.auth is None:
            raise ValueError("auth is required (certificate, secret, managed-identity, multi-tenant-app, …)")
        return self

    @property
    def key(self) -> str:
        """The tenant's stable key: state file, shard hash and output directory derive from it."""
        if self.sandbox:
            return f"sandbox:{self.sandbox.lower()}"
        return self.id or self.domain or ""

    @property
    def tenant(self) -> str:
        """What the collector is told (``--tenant``)."""
        return self.id or self.domain or self.sandbox or ""

    @property
    def label(self) -> str:
        return self.name or self.domain or self.sandbox or self.tenant


class FleetConfig(_Model):
    """Synthetic sandbox tenants ``{prefix}-0000`` … for scale tests (see :mod:`assessor.sandbox.fleet`)."""

    count: int = Field(ge=1, le=100_000)
    prefix: str = Field("fleet", pattern=r"^[a-z][a-z0-9-]{0,30}$")
    users: int = Field(20, ge=5, le=100_000)
    failing: float = Field(0.0, ge=0.0, le=1.0, description="Share of tenants made to fail (401/403/timeout/429)")
    stall_seconds: float = Field(30.0, ge=0.0, description="Latency of the 'timeout' failure kind")


class SandboxConfig(_Model):
    latency_ms: int = Field(0, ge=0, le=60_000)
    fleet: FleetConfig | None = None


class ManifestFile(_Model):
    """The YAML manifest document."""

    version: Literal[1] = 1
    # raw mappings: every tenant (defaults merged in) is validated as a TenantEntry on its own, so an
    # error names the tenant's position and line
    defaults: dict[str, Any] = Field(default_factory=dict, description="Fields applied to every tenant")
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    tenants: list[dict[str, Any]] = Field(min_length=1)


@dataclass(frozen=True)
class Row:
    """A validated tenant with where it came from (for error messages)."""

    position: int  # 1-based position among the manifest's tenants
    line: int | None  # the YAML/CSV line where it starts
    entry: TenantEntry

    def where(self) -> str:
        return _where(self.position, self.line)


def _where(position: int, line: int | None) -> str:
    at = f" (line {line})" if line else ""
    return f"tenant {position}{at}"


@dataclass(frozen=True)
class Manifest:
    origin: str
    rows: tuple[Row, ...]
    sandbox: SandboxConfig

    @property
    def entries(self) -> list[TenantEntry]:
        return [r.entry for r in self.rows]


def manifest_json_schema() -> dict[str, Any]:
    """JSON Schema of the YAML manifest (tenants' items are :class:`TenantEntry`)."""
    schema = ManifestFile.model_json_schema()
    entry = TenantEntry.model_json_schema()
    defs = {**schema.pop("$defs", {}), **entry.pop("$defs", {}), "TenantEntry": entry}
    schema["properties"]["tenants"]["items"] = {"$ref": "#/$defs/TenantEntry"}
    schema["$defs"] = defs
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "assessor bulk manifest"
    return schema


# --------------------------------------------------------------------------- inline-secret guard


def _looks_like_secret_value(value: str) -> bool:
    return any(p.search(value) for p in _SECRET_VALUES)


def find_inline_secret(raw: object, prefix: str = "") -> str | None:
    """The dotted field that carries an inline secret (by its name or by its value), if any."""
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            field = f"{prefix}{key}"
            name = str(key).lower()
            if _SECRETISH_KEY.search(name) and not name.endswith(_SECRET_SAFE_SUFFIXES) and value not in (None, ""):
                return field
            found = find_inline_secret(value, field + ".")
            if found:
                return found
    elif isinstance(raw, (list, tuple)):
        for i, value in enumerate(raw):
            found = find_inline_secret(value, f"{prefix}{i}.")
            if found:
                return found
    elif isinstance(raw, str) and _looks_like_secret_value(raw):
        return prefix.rstrip(".") or "value"
    return None


# --------------------------------------------------------------------------- parsing


def _field_text(field: str) -> str:
    """A field path as one printable line (a YAML key may hold a newline or a control character)."""
    return field.encode("unicode_escape").decode("ascii") if not field.isprintable() else field


def _fail(origin: str, where: str, field: str, message: str) -> ManifestError:
    return ManifestError(f"{origin}: {where}, field {_field_text(field)}: {message}")


def _merge(defaults: Mapping[str, object], raw: Mapping[str, object]) -> dict[str, object]:
    merged = {**defaults, **raw}
    default_auth, auth = defaults.get("auth"), raw.get("auth")
    if isinstance(default_auth, Mapping) and isinstance(auth, Mapping):
        merged["auth"] = {**default_auth, **auth}
    return merged


def _validate_row(origin: str, position: int, line: int | None, raw: object, defaults: Mapping[str, object]) -> Row:
    where = _where(position, line)
    if not isinstance(raw, Mapping):
        raise ManifestError(f"{origin}: {where}: each tenant must be a mapping of fields")
    secret = find_inline_secret(raw)
    if secret:
        raise _fail(
            origin,
            where,
            secret,
            "inline secrets are not allowed; put the secret in an environment "
            "variable and give its NAME (auth.secret_env), or use a certificate or managed identity",
        )
    try:
        entry = TenantEntry.model_validate(_merge(defaults, raw))
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(tenant)"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise _fail(origin, where, field, message) from None
    return Row(position, line, entry)


def _check_unique(origin: str, rows: Sequence[Row]) -> None:
    seen: dict[str, Row] = {}
    for row in rows:
        prior = seen.get(row.entry.key)
        if prior is not None:
            field = "sandbox" if row.entry.sandbox else ("id" if row.entry.id else "domain")
            raise _fail(origin, row.where(), field, f"tenant {row.entry.key!r} is already listed as {prior.where()}")
        seen[row.entry.key] = row


def _yaml_lines(text: str) -> list[int | None]:
    """The line of each item of the ``tenants:`` sequence (1-based), from the YAML node tree."""
    try:
        node = yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.YAMLError:
        return []
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if getattr(key, "value", None) == "tenants" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def parse_yaml_manifest(text: str, origin: str = "manifest") -> Manifest:
    try:
        raw = safe_load_bounded(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        at = f" ({err})" if isinstance(err, YamlExpansionError) else at
        raise ManifestError(f"{origin}: invalid YAML{at}") from None
    if not isinstance(raw, Mapping):
        raise ManifestError(f"{origin}: a manifest is a mapping with a 'tenants:' list")
    top_secret = find_inline_secret({k: v for k, v in raw.items() if k != "tenants"})
    if top_secret:
        raise _fail(origin, "manifest", top_secret, "inline secrets are not allowed; give an env var NAME")
    try:
        document = ManifestFile.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ManifestError(f"{origin}: field {_field_text(field)}: {first['msg']}") from None
    lines = _yaml_lines(text)
    rows = [
        _validate_row(origin, i + 1, lines[i] if i < len(lines) else None, item, document.defaults)
        for i, item in enumerate(document.tenants)
    ]
    _check_unique(origin, rows)
    return Manifest(origin, tuple(rows), document.sandbox)


CSV_AUTH_COLUMNS = (
    "client_id",
    "certificate_path",
    "certificate_password_env",
    "secret_env",
    "secret_file",
    "managed_identity_client_id",
)
CSV_COLUMNS = (
    "id",
    "domain",
    "sandbox",
    "name",
    "cloud",
    "auth",
    *CSV_AUTH_COLUMNS,
    "profile",
    "tags",
    "graph_endpoint",
    "exchange_endpoint",
    "compliance_endpoint",
    "no_exchange",
    "attest",
    "arm_endpoint",
    "no_azure",
    "azure_subscriptions",
)


def _csv_record(record: Mapping[str, str | None]) -> dict[str, object]:
    """A CSV row → the YAML-shaped tenant mapping (empty cells are absent; tags split on ';' or space)."""
    cells = {k.strip(): (v or "").strip() for k, v in record.items() if k is not None}
    cells = {k: v for k, v in cells.items() if v}
    out: dict[str, object] = {k: v for k, v in cells.items() if k not in CSV_AUTH_COLUMNS and k != "auth"}
    auth = {k: cells[k] for k in CSV_AUTH_COLUMNS if k in cells}
    if "auth" in cells or auth:
        out["auth"] = {"mode": cells.get("auth"), **auth} if "auth" in cells else auth
    if "tags" in out:
        out["tags"] = [t for t in re.split(r"[;\s]+", cells["tags"]) if t]
    for flag in ("no_exchange", "no_azure"):
        if flag in out:
            out[flag] = cells[flag].lower() in ("1", "true", "yes", "y")
    if "azure_subscriptions" in out:
        out["azure_subscriptions"] = [t for t in re.split(r"[;\s]+", cells["azure_subscriptions"]) if t]
    return out


def parse_csv_manifest(text: str, origin: str = "manifest") -> Manifest:
    try:
        return _parse_csv_manifest(text, origin)
    except csv.Error as err:  # e.g. a cell beyond the csv module's field size limit
        raise ManifestError(f"{origin}: not valid CSV ({err})") from None


def _parse_csv_manifest(text: str, origin: str) -> Manifest:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise ManifestError(f"{origin}: the CSV manifest needs a header line ({', '.join(CSV_COLUMNS)})")
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise ManifestError(
            f"{origin}: line 1, column {unknown[0]!r} is not a manifest field (known: {', '.join(CSV_COLUMNS)})"
        )
    rows: list[Row] = []
    for position, record in enumerate(reader, start=1):
        if None in record:
            raise ManifestError(f"{origin}: tenant {position} (line {reader.line_num}): more cells than columns")
        short = [k for k, v in record.items() if v is None]
        if short:  # a shifted or truncated row would silently read as empty fields
            raise ManifestError(
                f"{origin}: tenant {position} (line {reader.line_num}): fewer cells than columns "
                f"(no cell for {', '.join(repr(k.strip()) for k in short)}; leave a cell empty "
                "with a comma)"
            )
        rows.append(_validate_row(origin, position, reader.line_num, _csv_record(record), {}))
    if not rows:
        raise ManifestError(f"{origin}: the manifest lists no tenants")
    _check_unique(origin, rows)
    return Manifest(origin, tuple(rows), SandboxConfig())


def load_manifest(path: str | Path) -> Manifest:
    """Read and validate a YAML (``.yaml``/``.yml``) or CSV (``.csv``) manifest."""
    target = Path(path)
    text = read_user_text(target, "the manifest", MAX_MANIFEST_BYTES, ManifestError, encoding="utf-8-sig")
    if target.suffix.lower() == ".csv":
        return parse_csv_manifest(text, str(target))
    return parse_yaml_manifest(text, str(target))


# --------------------------------------------------------------------------- references (before contact)


def check_references(
    manifest: Manifest,
    environ: Mapping[str, str],
    known_profiles: set[str] | None = None,
    sandbox_names: set[str] | None = None,
) -> None:
    """Everything a tenant's auth refers to exists: env vars are set, files readable, profiles known."""
    for row in manifest.rows:
        _check_row_references(manifest.origin, row, environ, known_profiles, sandbox_names)


def _check_row_references(
    origin: str, row: Row, environ: Mapping[str, str], known_profiles: set[str] | None, sandbox_names: set[str] | None
) -> None:
    entry, where = row.entry, row.where()
    if sandbox_names is not None and entry.sandbox and entry.sandbox.lower() not in sandbox_names:
        raise _fail(origin, where, "sandbox", f"no sandbox tenant named {entry.sandbox!r}")
    if known_profiles is not None and entry.profile not in known_profiles:
        raise _fail(origin, where, "profile", f"unknown profile {entry.profile!r}")
    auth = entry.auth
    if auth is None:
        return
    if auth.secret_env and auth.credential_kind() == AuthMode.SECRET and not environ.get(auth.secret_env):
        raise _fail(origin, where, "auth.secret_env", f"the environment variable {auth.secret_env} is not set")
    for field in ("certificate_path", "secret_file"):
        path = getattr(auth, field)
        if path is not None and not Path(path).is_file():
            raise _fail(origin, where, f"auth.{field}", f"{path} is not a readable file")
    if auth.mode == ManifestAuthKind.TOKEN and not environ.get("ASSESSOR_GRAPH_TOKEN"):
        raise _fail(origin, where, "auth.mode", "token mode needs a Graph token in ASSESSOR_GRAPH_TOKEN")


def select(manifest: Manifest, only_tags: Sequence[str]) -> list[Row]:
    """The rows carrying at least one of ``only_tags`` (all rows when none is given)."""
    if not only_tags:
        return list(manifest.rows)
    wanted = set(only_tags)
    return [r for r in manifest.rows if wanted.intersection(r.entry.tags)]


__all__ = [
    "CLOUD_NAMES",
    "AuthRef",
    "FleetConfig",
    "Manifest",
    "Row",
    "SandboxConfig",
    "TenantEntry",
    "check_references",
    "find_inline_secret",
    "load_manifest",
    "manifest_json_schema",
    "parse_csv_manifest",
    "parse_yaml_manifest",
    "select",
]
