"""Reading Purview audit records in both spellings, and telling accounts from other actors.

Records from ``/security/auditLog/queries/{id}/records`` have camelCase top-level keys, but the
enumerations come back in PascalCase on the real service (``auditLogRecordType: "ExchangeItem"``,
``userType: "Regular"``), and ``auditData`` is typed ``#microsoft.graph.security.defaultAuditData``
carrying the classic Office 365 management schema's PascalCase fields (``UserId``, ``UserKey``,
``MailboxOwnerUPN``, ``AppId``, ``ClientAppId``…). Exports of the classic API spell the top-level
keys in PascalCase too, and may hold ``AuditData`` as a JSON string. Every reader here accepts
both spellings (rknightion/graph2otel ``internal/collectors/m365/unifiedaudit`` live captures;
tests/conformance/SOURCES).

Who acted: ``userPrincipalName`` is the classic ``UserId`` and ``userId`` the classic ``UserKey``
(a PUID, a GUID or ``__NULL__``). For non-user actors the "principal name" is a GUID (an app's or
a directory object's id), ``Not Available``, or a system name such as ``system release``. Only
UPN-shaped names — or ids that match an enumerated user (``--users detail``) — are accounts;
the rest are counted as ids, system or unknown actors, never as users.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from functools import lru_cache
from typing import Literal

from assessor.jsontypes import WireObject

ActorKind = Literal["account", "id", "system", "unknown"]
APP_ID_KEYS = ("AppId", "ClientAppId", "appId", "clientAppId")

_UPN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_UNKNOWN = frozenset({"", "not available", "__null__", "null", "n/a", "unknown"})
_SYSTEM_NAMES = ("system release", "nt authority", "s-1-5-18", "servicehost", "system")
# classic UserType numbers and Graph auditUserType names that are never a person's account
_SYSTEM_TYPES = frozenset({"3", "4", "8", "dcadmin", "system", "systempolicy"})


def pick(mapping: WireObject, name: str) -> object:
    """``mapping[name]`` in camelCase or PascalCase (``userId`` / ``UserId``); None when absent."""
    value = mapping.get(name)
    if value is None:
        value = mapping.get(name[:1].upper() + name[1:] if name[:1].islower() else name[:1].lower() + name[1:])
    return value


def audit_data(record: WireObject) -> WireObject | None:
    """The record's ``auditData`` (``AuditData``) object; a JSON string is decoded."""
    data = record.get("auditData")
    if data.__class__ is dict:  # the common case, without the ABC check below
        return data
    found = pick(record, "auditData")
    if isinstance(found, str):
        try:
            found = json.loads(found)
        except (json.JSONDecodeError, RecursionError):
            return None
    return found if isinstance(found, Mapping) else None


def enum_name(value: object) -> str | None:
    """An enumeration value in either case (``ExchangeItem``/``exchangeItem``) → lower-cased."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value.strip().lower() if isinstance(value, str) and value.strip() else None


def operation_of(record: WireObject) -> str | None:
    value = pick(record, "operation")
    if not isinstance(value, str) or not value:
        data = audit_data(record)
        value = data.get("Operation") if data is not None else None
    return value if isinstance(value, str) and value else None


def parse_timestamp(value: object) -> datetime | None:
    """An ISO 8601 ``createdDateTime`` (``Z`` or offset) → an aware datetime; None if unparseable."""
    if not isinstance(value, str) or not value:
        return None
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def created_of(record: WireObject) -> object:
    value = pick(record, "createdDateTime")
    if value is None:
        value = pick(record, "creationTime") or pick(record, "creationDate")
    return value


def _user_type(record: WireObject, data: WireObject | None) -> str | None:
    kind = enum_name(pick(record, "userType"))
    if kind is None and data is not None:
        kind = enum_name(data.get("UserType"))
    return kind


@lru_cache(maxsize=1 << 16)
def _account(name: str) -> str | None:
    """The lower-cased account when ``name`` is UPN-shaped (cached: a tenant has few distinct names)."""
    text = name.strip()
    return text.lower() if _UPN.match(text) else None


def actor(record: WireObject) -> tuple[ActorKind, str | None]:
    """Whose activity a record evidences, and what kind of actor that is.

    The mailbox owner for mailbox events (so a delegate's or an app's access counts for the
    mailbox it touched), else the acting principal. Returns (kind, lower-cased key): an account's
    UPN, an id (GUID) that may be an app or a directory object, or (kind, None) for system and
    unknown actors.
    """
    raw = record.get("auditData")
    data = raw if raw.__class__ is dict else audit_data(record)
    # the common case first: a mailbox owner or a principal that is an account
    first = data.get("MailboxOwnerUPN") if data is not None else None
    if first.__class__ is str and (account := _account(first)) is not None:
        return "account", account
    principal = record.get("userPrincipalName")
    if principal.__class__ is str and (account := _account(principal)) is not None:
        return "account", account
    candidates: list[object] = []
    if data is not None:
        candidates.append(pick(data, "MailboxOwnerUPN"))
    candidates.append(pick(record, "userPrincipalName"))
    if data is not None:
        candidates.append(data.get("UserId"))
    candidates.append(pick(record, "userId"))
    names = [c.strip() for c in candidates if isinstance(c, str)]
    for name in names:
        if (account := _account(name)) is not None:
            return "account", account
    kind = _user_type(record, data)
    first = next((n for n in names if n.lower() not in _UNKNOWN), "")
    lowered = first.lower()
    if _GUID.match(lowered):
        return ("system", None) if kind in _SYSTEM_TYPES else ("id", lowered)
    if kind in _SYSTEM_TYPES or (lowered and any(marker in lowered for marker in _SYSTEM_NAMES)):
        return "system", None
    return "unknown", None


def workload_of(record: WireObject) -> str | None:
    """The record's Workload as Microsoft classifies it: Graph's ``service``, else the classic schema's
    ``auditData.Workload`` (Exchange, SharePoint, OneDrive, AzureActiveDirectory, MicrosoftTeams …)."""
    value = pick(record, "service")
    if not isinstance(value, str) or not value.strip():
        data = audit_data(record)
        value = data.get("Workload") if data is not None else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def app_id_of(record: WireObject) -> str | None:
    """The client application id of a record (``AppId``, else ``ClientAppId``), lower-cased."""
    data = audit_data(record)
    if data is None:
        return None
    for key in APP_ID_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value:
            return value.lower()
    return None
