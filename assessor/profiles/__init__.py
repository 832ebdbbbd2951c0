"""Requirement profiles: what a framework asks of a tenant, as validated YAML data.

Built-in profiles live beside this module (``<id>.yaml``). ``--profile FILE`` loads a user's own;
``extends: <id>`` starts from another profile and overrides what it names.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assessor.catalogue import Severity, catalogue_ids, default_severity
from assessor.errors import ProfileError
from assessor.knowledge import KNOWN_EVENTS
from assessor.textfile import read_user_text
from assessor.yamlsafe import YamlExpansionError, safe_load_bounded

__all__ = ["KNOWN_EVENTS", "CheckSetting", "Profile", "builtin_profile_ids", "load_profile", "profile_json_schema"]

MAX_PROFILE_BYTES = 1024 * 1024


class _P(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetentionRequirement(_P):
    searchable_days: int = Field(ge=0, le=3650)
    retrievable_days: int = Field(ge=0, le=36500)

    @model_validator(mode="after")
    def _order(self) -> RetentionRequirement:
        if self.retrievable_days < self.searchable_days:
            raise ValueError("retrievable_days must be at least searchable_days")
        return self


class PrivilegedRole(_P):
    name: str
    template_id: str = Field(pattern=r"^[0-9a-fA-F-]{36}$")
    reason: str | None = Field(None, description="Why holders of this role count as privileged")


class CheckSetting(_P):
    severity: Severity | None = Field(
        None, description="Only where this profile differs from the catalogue's default severity"
    )
    controls: list[str] = Field(default_factory=list)


class MailboxActions(_P):
    Owner: list[str] = Field(default_factory=list)
    Delegate: list[str] = Field(default_factory=list)
    Admin: list[str] = Field(default_factory=list)


class Profile(_P):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    name: str
    framework: str
    description: str
    source: str
    as_of: str
    version: str | None = Field(None, description="Version of the text encoded (e.g. ScubaGear v1.8.0)")
    text: str | None = Field(None, description="The exact text the profile encodes: document, version and date")
    verified: bool = Field(True, description="False when the figures come from secondary sources only")
    privileged_definition: str = Field(
        "the profile's privileged roles: those that reach mail, audit settings or other administrators' credentials",
        description="Which definition of privileged users the profile uses (shown in every report)",
    )
    privileged_source: Literal["roles", "entra-isprivileged"] = Field(
        "roles",
        description="Which roles make a user privileged: the privileged_roles listed here (default), or the roles "
        "whose Entra definition has isPrivileged true (Graph beta; unknown, never a pass, when it cannot be read)",
    )
    required_events: list[str]
    premium_scope: Literal["none", "privileged", "all"]
    retention: RetentionRequirement
    privileged_roles: list[PrivilegedRole] = Field(min_length=1)
    mailbox_actions: MailboxActions | None = Field(
        None, description="Explicit per-logon-type actions (CIS); default: derived from required_events"
    )
    missing_event_status: Literal["warn", "fail"] = "warn"
    probe_days: int | None = Field(None, ge=1, le=180, description="Run the event probe by default")
    entra_log_days: int | None = Field(None, ge=0, description="Required Entra sign-in/audit log retention")
    checks: dict[str, CheckSetting]
    notes: list[str] = Field(default_factory=list)

    @field_validator("required_events")
    @classmethod
    def _known_events(cls, value: list[str]) -> list[str]:
        for event in value:
            if event not in KNOWN_EVENTS:
                raise ValueError(f"unknown event {event!r} (known: {', '.join(KNOWN_EVENTS)})")
        return value

    @field_validator("checks")
    @classmethod
    def _check_ids(cls, value: dict[str, CheckSetting]) -> dict[str, CheckSetting]:
        known = catalogue_ids()
        for check_id in value:
            if check_id not in known:
                raise ValueError(f"unknown check id {check_id!r}")
        return value

    def severity_of(self, check_id: str) -> Severity:
        """The severity this profile gives a check: its override, else the catalogue's default."""
        setting = self.checks.get(check_id)
        if setting is not None and setting.severity is not None:
            return setting.severity
        return default_severity(check_id)

    def collection_roles(self) -> tuple[str, ...] | None:
        """The role template ids whose holders collection reads: the listed ones, or every role's (None)
        when the profile uses Entra's flag (which roles it marks is known only once read)."""
        if self.privileged_source == "entra-isprivileged":
            return None
        return tuple(r.template_id for r in self.privileged_roles)

    @property
    def search_events_required(self) -> bool:
        return any(e.startswith("SearchQueryInitiated") for e in self.required_events)


def builtin_profile_ids() -> list[str]:
    pkg = resources.files("assessor.profiles")
    return sorted(p.name[:-5] for p in pkg.iterdir() if p.name.endswith(".yaml"))


def _read_yaml(text: str, origin: str) -> dict[str, Any]:
    try:
        raw = safe_load_bounded(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        where = f" ({err})" if isinstance(err, YamlExpansionError) else where
        raise ProfileError(f"{origin}: not valid YAML{where}") from None
    except RecursionError:
        raise ProfileError(f"{origin}: YAML nested too deeply") from None
    if not isinstance(raw, dict):
        raise ProfileError(f"{origin}: a profile must be a YAML mapping")
    return raw


def _builtin_raw(profile_id: str) -> dict[str, Any]:
    pkg = resources.files("assessor.profiles")
    item = pkg.joinpath(f"{profile_id}.yaml")
    if not item.is_file():
        raise ProfileError(f"unknown profile {profile_id!r} (built in: {', '.join(builtin_profile_ids())})")
    return _read_yaml(item.read_text(encoding="utf-8"), f"profile {profile_id}")


def _merge(base: dict[str, Any], override: dict[str, Any], at: str = "") -> dict[str, Any]:
    """The child profile over its parent: mappings merge key by key (so `retention: {searchable_days:
    365}` keeps the parent's retrievable days), anything else is replaced; under `checks`, a check set
    to null is removed from the child profile."""
    out = dict(base)
    for key, value in override.items():
        here = f"{at}.{key}" if at else str(key)
        if value is None and at == "checks":
            out.pop(key, None)  # `AUD-01: null` removes a check from the child profile
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = _merge(base[key], value, here)
        else:
            out[key] = value
    return out


def _looks_like_path(name: str) -> bool:
    return any(sep in name for sep in ("/", os.sep)) or name.endswith((".yaml", ".yml"))


def _file_raw(path: Path) -> dict[str, Any]:
    return _read_yaml(read_user_text(path, "profile", MAX_PROFILE_BYTES, ProfileError), str(path))


def _resolve(raw: dict[str, Any], origin: str, here: Path | None = None, depth: int = 0) -> dict[str, Any]:
    """Apply ``extends:`` (a built-in id, or a YAML file relative to the extending file)."""
    parent = raw.get("extends")
    if parent is None:
        return raw
    if depth > 5 or not isinstance(parent, str) or not parent.strip():
        raise ProfileError(f"{origin}: extends: must name a built-in profile or a profile file (and not loop)")
    if _looks_like_path(parent):
        path = Path(parent) if Path(parent).is_absolute() or here is None else here / parent
        base = _resolve(_file_raw(path), str(path), path.parent, depth + 1)
    else:
        base = _resolve(_builtin_raw(parent), f"profile {parent}", None, depth + 1)
    child = {k: v for k, v in raw.items() if k != "extends"}
    return _merge(base, child)


def _validate(raw: dict[str, Any], origin: str, here: Path | None = None) -> Profile:
    resolved = _resolve(raw, origin, here)
    resolved.pop("extends", None)
    try:
        return Profile.model_validate(resolved)
    except ValidationError as err:
        from assessor.evidence import describe_validation_error

        raise ProfileError(f"{origin}: {describe_validation_error(err)}") from None


def load_profile(name_or_path: str) -> Profile:
    """A built-in profile by id, or a YAML file by path."""
    if not _looks_like_path(name_or_path):
        return _validate(_builtin_raw(name_or_path), f"profile {name_or_path}")
    path = Path(name_or_path)
    return _validate(_file_raw(path), str(path), path.parent)


def profile_json_schema() -> dict[str, Any]:
    return Profile.model_json_schema()
