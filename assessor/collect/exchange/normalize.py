"""Exchange cmdlet output (REST rows or ConvertTo-Json exports) → evidence values.

Both the admin API collector and the ``--import`` reader go through these functions, so an
exported file is held to exactly the same rules as a collected answer. Property names are
matched case-insensitively (PowerShell's are PascalCase). Anything that is not what the cmdlet
emits raises :class:`FieldError` naming the property; callers turn it into a not_collected
reason (collection) or an :class:`~assessor.errors.EvidenceError` naming the file (import).

Shapes accepted, because ``ConvertTo-Json`` produces them:

- multi-valued properties as a JSON array, ``null`` (empty), or Windows PowerShell 5.1's
  ``{"value": [...], "Count": n}`` wrapper for arrays that carry extra type data;
- booleans as JSON booleans or the strings ``"True"``/``"False"``;
- enum values as their names. Numeric enum values are rejected (their numbering is not
  published for these types), except ``RecipientTypeDetails`` 1 = ``UserMailbox``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

from pydantic import ValidationError
from pydantic_core import InitErrorDetails

from assessor.evidence import LogonType, RetentionPolicies, RetentionPolicy
from assessor.knowledge import load_knowledge

LOGON_TYPES: tuple[LogonType, ...] = ("Owner", "Delegate", "Admin")
USER_MAILBOX = "UserMailbox"
# Property lists sent as $select (only what the assessment reads).
MAILBOX_SELECT = (
    "UserPrincipalName",
    "ExternalDirectoryObjectId",  # the user's Entra object id: joins the mailbox to its user's licences
    "RecipientTypeDetails",
    "AuditEnabled",
    "DefaultAuditSet",
    "AuditOwner",
    "AuditDelegate",
    "AuditAdmin",
)
BYPASS_SELECT = ("Identity", "Name", "AuditBypassEnabled")
ADMIN_AUDIT_SELECT = ("UnifiedAuditLogIngestionEnabled",)
ORG_CONFIG_SELECT = ("AuditDisabled",)
RETENTION_SELECT = (
    "Name",
    "Priority",
    "RetentionDuration",
    "RecordTypes",
    "Operations",
    "UserIds",
    "Enabled",
    "Mode",
    "Description",
)


@dataclass(eq=False)
class FieldError(Exception):
    """A property of one cmdlet output object is missing or malformed."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class Row:
    """One cmdlet output object (decoded JSON) with case-insensitive property access."""

    def __init__(self, raw: object, where: str = "") -> None:
        if isinstance(raw, Row):
            self._items: dict[str, tuple[str, object]] = raw._items
            return
        if not isinstance(raw, Mapping):
            raise FieldError(where or "(object)", f"expected an object, found {_kind(raw)}")
        self._items = {str(k).lower(): (str(k), v) for k, v in raw.items()}

    def has(self, name: str) -> bool:
        return name.lower() in self._items

    def get(self, name: str) -> object:
        entry = self._items.get(name.lower())
        return None if entry is None else entry[1]

    def require(self, name: str) -> object:
        if name.lower() not in self._items:
            raise FieldError(name, "missing")
        return self._items[name.lower()][1]


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def as_bool(value: object, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise FieldError(field, f"expected true or false, found {_kind(value)} {value!r}"[:200])


def as_text(value: object, field: str, *, allow_empty: bool = False) -> str:
    if isinstance(value, str) and (allow_empty or value.strip()):
        return value.strip()
    raise FieldError(field, f"expected a non-empty string, found {_kind(value)}")


def as_int(value: object, field: str) -> int:
    if isinstance(value, bool):
        raise FieldError(field, "expected a whole number, found a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise FieldError(field, f"expected a whole number, found {_kind(value)}")


def as_str_list(value: object, field: str) -> list[str]:
    """A multi-valued property as a list of non-empty strings (null → empty)."""
    if value is None:
        return []
    if isinstance(value, Mapping) and "value" in {str(k).lower() for k in value}:
        inner = next(v for k, v in value.items() if str(k).lower() == "value")
        return as_str_list(inner, field)
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if not isinstance(value, list):
        raise FieldError(field, f"expected an array of strings, found {_kind(value)}")
    out: list[str] = []
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, str):
            hint = (
                " (enum numbers are ambiguous: export names, e.g. with examples/export-exchange-audit.ps1)"
                if isinstance(item, int)
                else ""
            )
            raise FieldError(f"{field}[{i}]", f"expected a string, found {_kind(item)}{hint}")
        if item.strip():
            out.append(item.strip())
    return out


def _canonical_logon_type(value: str, field: str) -> LogonType:
    for lt in LOGON_TYPES:
        if value.lower() == lt.lower():
            return lt
    raise FieldError(field, f"unknown logon type {value!r} (expected Owner, Delegate or Admin)")


def _sorted_unique(actions: list[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for a in actions:
        seen.setdefault(a.lower(), a)
    return tuple(sorted(seen.values(), key=str.lower))


# --------------------------------------------------------------------------- per cmdlet


def ingestion_enabled(raw: object) -> bool:
    """Get-AdminAuditLogConfig → UnifiedAuditLogIngestionEnabled."""
    row = Row(raw)
    return as_bool(row.require("UnifiedAuditLogIngestionEnabled"), "UnifiedAuditLogIngestionEnabled")


def audit_disabled(raw: object) -> bool:
    """Get-OrganizationConfig → AuditDisabled."""
    row = Row(raw)
    return as_bool(row.require("AuditDisabled"), "AuditDisabled")


@dataclass(frozen=True)
class BypassRow:
    identity: str
    bypassed: bool


def bypass_row(raw: object) -> BypassRow:
    """Get-MailboxAuditBypassAssociation → (identity, AuditBypassEnabled)."""
    row = Row(raw)
    name = row.get("Identity") if row.get("Identity") not in (None, "") else row.get("Name")
    if name is None:
        raise FieldError("Identity", "missing (and no Name either)")
    identity = as_text(name if isinstance(name, str) else str(name), "Identity")
    return BypassRow(identity, as_bool(row.require("AuditBypassEnabled"), "AuditBypassEnabled"))


@dataclass(frozen=True)
class MailboxSettings:
    """The audit settings of one mailbox, in canonical order so equal settings compare equal."""

    audit_enabled: bool
    default_audit_set: tuple[LogonType, ...]
    audit_owner: tuple[str, ...]
    audit_delegate: tuple[str, ...]
    audit_admin: tuple[str, ...]


def recipient_type(raw: object) -> str:
    """RecipientTypeDetails of a Get-Mailbox row (1 is UserMailbox in Exchange's enum)."""
    row = Row(raw)
    value = row.require("RecipientTypeDetails")
    if value == 1 and not isinstance(value, bool):
        return USER_MAILBOX
    return as_text(value, "RecipientTypeDetails")


def mailbox_identity(raw: object) -> str | None:
    row = Row(raw)
    for name in ("UserPrincipalName", "PrimarySmtpAddress", "Identity", "Name"):
        value = row.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


MAILBOX_AUDIT_PROPERTIES = ("AuditEnabled", "DefaultAuditSet", "AuditOwner", "AuditDelegate", "AuditAdmin")


SettingsKey = tuple[Hashable, ...]


def settings_key(raw: object) -> SettingsKey | None:
    """A hashable form of a mailbox's raw audit properties (None when not plainly hashable).

    Mailboxes with identical raw values normalise identically, so aggregation validates each
    distinct raw configuration once instead of once per mailbox.
    """
    row = Row(raw)
    key: list[Hashable] = []
    for name in MAILBOX_AUDIT_PROPERTIES:
        value = row.get(name)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            key.append(tuple(value))
        elif isinstance(value, (bool, str)) or value is None:
            key.append((type(value).__name__, value))
        else:
            return None
    return tuple(key)


def mailbox_settings(raw: object) -> MailboxSettings:
    """Get-Mailbox → the audit properties (AuditEnabled, DefaultAuditSet, AuditOwner/Delegate/Admin)."""
    row = Row(raw)
    enabled = as_bool(row.require("AuditEnabled"), "AuditEnabled")
    default = [
        _canonical_logon_type(v, f"DefaultAuditSet[{i}]")
        for i, v in enumerate(as_str_list(row.require("DefaultAuditSet"), "DefaultAuditSet"))
    ]
    return MailboxSettings(
        audit_enabled=enabled,
        default_audit_set=tuple(lt for lt in LOGON_TYPES if lt in default),
        audit_owner=_sorted_unique(as_str_list(row.require("AuditOwner"), "AuditOwner")),
        audit_delegate=_sorted_unique(as_str_list(row.require("AuditDelegate"), "AuditDelegate")),
        audit_admin=_sorted_unique(as_str_list(row.require("AuditAdmin"), "AuditAdmin")),
    )


def retention_policy(raw: object) -> RetentionPolicy:
    """Get-UnifiedAuditLogRetentionPolicy → the evidence RetentionPolicy (a pydantic ValidationError
    when the values break the model's rules, e.g. a priority out of range)."""
    row = Row(raw)
    duration = as_text(row.require("RetentionDuration"), "RetentionDuration")
    if load_knowledge().duration_days(duration) is None:
        known = ", ".join(load_knowledge().retention_durations.days)
        raise FieldError("RetentionDuration", f"unknown value {duration!r} (expected one of {known})")
    enabled = row.get("Enabled")
    mode = row.get("Mode")
    description = row.get("Description")
    return RetentionPolicy(
        name=as_text(row.require("Name"), "Name"),
        priority=as_int(row.require("Priority"), "Priority"),
        retention_duration=duration,
        record_types=as_str_list(row.get("RecordTypes"), "RecordTypes"),
        operations=as_str_list(row.get("Operations"), "Operations"),
        user_ids=as_str_list(row.get("UserIds"), "UserIds"),
        enabled=True if enabled is None else as_bool(enabled, "Enabled"),
        mode=None if mode in (None, "") else as_text(mode, "Mode"),
        description=None if description in (None, "") else as_text(description, "Description", allow_empty=True),
    )


def retention_policies(rows: Iterable[object], where: str = "") -> RetentionPolicies:
    """Every Get-UnifiedAuditLogRetentionPolicy row → RetentionPolicies (by priority).

    A malformed property raises :class:`FieldError` naming the row (``where[i].Field``); a value the
    model refuses raises its ValidationError located at ``policies[i]``, as if the whole set had
    been validated at once; a rule across policies (two sharing a priority) raises the set's own.
    """
    policies: list[RetentionPolicy] = []
    for i, raw in enumerate(rows):
        try:
            policies.append(retention_policy(raw))
        except FieldError as err:
            raise FieldError(f"{where}[{i}].{err.field}", err.message) from None
        except ValidationError as err:
            raise located(err, ("policies", i)) from None
    return RetentionPolicies(policies=sorted(policies, key=lambda p: p.priority))


def located(err: ValidationError, prefix: tuple[int | str, ...]) -> ValidationError:
    """``err`` with every error's location under ``prefix`` (a part validated on its own, reported
    where it sits in the whole)."""
    details: list[InitErrorDetails] = []
    for e in err.errors():
        detail = InitErrorDetails(type=e["type"], loc=(*prefix, *e["loc"]), input=e["input"])
        if "ctx" in e:
            detail["ctx"] = e["ctx"]
        details.append(detail)
    return ValidationError.from_exception_data(err.title, details)
