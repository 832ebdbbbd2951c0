"""``--import FILE…``: Exchange/Purview cmdlet output an admin exported with ``ConvertTo-Json``.

``examples/export-exchange-audit.ps1`` writes exactly the files read here, one per cmdlet:

=====================================  ==========================================  ==================
file                                   cmdlet                                      evidence section
=====================================  ==========================================  ==================
AdminAuditLogConfig.json               Get-AdminAuditLogConfig                     admin_audit_log_config
OrganizationConfig.json                Get-OrganizationConfig                      organization_config
MailboxAuditBypassAssociation.json     Get-MailboxAuditBypassAssociation           bypass
Mailbox.json                           Get-Mailbox -RecipientTypeDetails UserMailbox   mailboxes
UnifiedAuditLogRetentionPolicy.json    Get-UnifiedAuditLogRetentionPolicy          retention_policies
=====================================  ==========================================  ==================

A file is recognised by its name (``Get-`` prefix and case ignored), else by the properties of
its objects. Contents go through the same normalisation, aggregation and evidence models as
collected answers; anything malformed raises :class:`~assessor.errors.EvidenceError` naming the
file and the field (``Mailbox.json: [3].AuditOwner[1]: expected a string…``). Files may be UTF-8
(with or without BOM) or UTF-16 with BOM (Windows PowerShell's ``Out-File`` default).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pydantic import ValidationError

from assessor.collect.exchange.aggregate import BypassAggregator, MailboxAggregator
from assessor.collect.exchange.collector import CMDLETS, ExchangeData, ExchangeOutcome
from assessor.collect.exchange.normalize import (
    FieldError,
    Row,
    audit_disabled,
    ingestion_enabled,
    retention_policies,
)
from assessor.collect.interface import Collected
from assessor.errors import EvidenceError
from assessor.evidence import (
    MAX_EVIDENCE_BYTES,
    AdminAuditLogConfig,
    MailboxAudit,
    MailboxAuditBypass,
    OrganizationConfig,
    RetentionPolicies,
)
from assessor.jsontypes import WireObject

FILE_STEMS = {
    "adminauditlogconfig": "admin_audit_log_config",
    "organizationconfig": "organization_config",
    "mailboxauditbypassassociation": "bypass",
    "mailbox": "mailboxes",
    "mailboxes": "mailboxes",
    "unifiedauditlogretentionpolicy": "retention_policies",
}
# A property only that cmdlet's objects carry, for files whose name says nothing.
SIGNATURES = (
    ("UnifiedAuditLogIngestionEnabled", "admin_audit_log_config"),
    ("AuditBypassEnabled", "bypass"),
    ("DefaultAuditSet", "mailboxes"),
    ("RetentionDuration", "retention_policies"),
    ("AuditDisabled", "organization_config"),
)
EXPORT_FILES = {
    "admin_audit_log_config": "AdminAuditLogConfig.json",
    "organization_config": "OrganizationConfig.json",
    "bypass": "MailboxAuditBypassAssociation.json",
    "mailboxes": "Mailbox.json",
    "retention_policies": "UnifiedAuditLogRetentionPolicy.json",
}


# Exports of the app-scoping cmdlets (assessor.collect.exchange.appaccess): kept as rows, by file stem.
APP_SCOPING_STEMS = {
    "applicationaccesspolicy": "Get-ApplicationAccessPolicy",
    "managementroleassignment": "Get-ManagementRoleAssignment",
    "serviceprincipal": "Get-ServicePrincipal",
}


@dataclass(frozen=True)
class ImportedSections:
    sections: dict[str, ExchangeOutcome]  # section name → its model, imported from ``file``
    files: dict[str, str]  # section name → file name
    app_scoping: dict[str, list[WireObject]] = field(default_factory=dict)  # cmdlet → exported rows
    mailboxes: MailboxAggregator | None = None  # the aggregator of the imported mailbox set, for the user join

    def __contains__(self, section: object) -> bool:
        return section in self.sections


# --------------------------------------------------------------------------- reading a file


def _decode(raw: bytes, name: str) -> str:
    encoding = "utf-16" if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        raise EvidenceError(f"{name}: not UTF-8 or UTF-16 text; export with Out-File -Encoding utf8") from None


def read_json_file(path: Path) -> object:
    name = path.name
    try:
        size = path.stat().st_size
        if size > MAX_EVIDENCE_BYTES:
            raise EvidenceError(f"{name}: larger than {MAX_EVIDENCE_BYTES // 2**20} MiB")
        raw = path.read_bytes()
    except OSError as err:
        raise EvidenceError(f"{path}: cannot read the import file ({err.strerror})") from None
    text = _decode(raw, name)
    if not text.strip():
        raise EvidenceError(
            f"{name}: the file is empty (export with ConvertTo-Json -InputObject @(...), "
            "which writes [] when the cmdlet returns nothing)"
        )
    try:
        document: object = json.loads(text)
    except json.JSONDecodeError as err:
        raise EvidenceError(f"{name}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})") from None
    except RecursionError:
        raise EvidenceError(f"{name}: JSON nested too deeply") from None
    return document


def objects_of(document: object, name: str) -> list[object]:
    """The cmdlet output objects: an array, one object, or PowerShell 5.1's {"value": [...], "Count": n}."""
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        keys = {str(k).lower() for k in document}
        inner = Row(document).get("value")
        if keys == {"value", "count"} and isinstance(inner, list):
            return list(inner)
        return [document]
    raise EvidenceError(f"{name}: expected a JSON object or array of objects, found {type(document).__name__}")


def _stem(path: Path) -> str:
    stem = path.name.lower()
    for suffix in (".json", ".txt"):
        stem = stem.removesuffix(suffix)
    return stem.removeprefix("get-").replace("-", "").replace("_", "")


def identify(path: Path, objects: list[object]) -> str:
    """Which evidence section a file holds (by name, else by its objects' properties)."""
    stem = path.name.lower()
    for suffix in (".json", ".txt"):
        stem = stem.removesuffix(suffix)
    stem = stem.removeprefix("get-").replace("-", "").replace("_", "")
    if stem in FILE_STEMS:
        return FILE_STEMS[stem]
    first = objects[0] if objects else None
    if isinstance(first, dict):
        row = Row(first)
        for prop, section in SIGNATURES:
            if row.has(prop):
                return section
    expected = ", ".join(EXPORT_FILES.values())
    raise EvidenceError(f"{path.name}: cannot tell which cmdlet this export is from; name it one of {expected}")


# --------------------------------------------------------------------------- per section


def _single(objects: list[object]) -> object:
    if len(objects) != 1:
        raise FieldError("(document)", f"expected exactly one object, found {len(objects)}")
    return objects[0]


def _admin(objects: list[object], _detail: bool) -> AdminAuditLogConfig:
    return AdminAuditLogConfig(unified_audit_log_ingestion_enabled=ingestion_enabled(_single(objects)))


def _org(objects: list[object], _detail: bool) -> OrganizationConfig:
    return OrganizationConfig(audit_disabled=audit_disabled(_single(objects)))


def _bypass(objects: list[object], _detail: bool) -> MailboxAuditBypass:
    agg = BypassAggregator(unique=True)
    agg.add_all(objects)
    return agg.result()


def _mailbox_set(objects: list[object], detail: bool) -> MailboxAggregator:
    agg = MailboxAggregator(detail=detail, unique=True)
    agg.add_all(objects)
    return agg


def _mailboxes(objects: list[object], detail: bool) -> MailboxAudit:
    return _mailbox_set(objects, detail).result()


def _retention(objects: list[object], _detail: bool) -> RetentionPolicies:
    return retention_policies(objects)


PARSERS: dict[str, Callable[[list[object], bool], ExchangeData]] = {
    "admin_audit_log_config": _admin,
    "organization_config": _org,
    "bypass": _bypass,
    "mailboxes": _mailboxes,
    "retention_policies": _retention,
}


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _describe(err: ValidationError, section: str) -> str:
    """The first model error in the export's own terms: ``[2].Priority: …`` rather than ``policies[2]…``."""
    first = err.errors()[0]
    loc = [p for p in first["loc"] if p not in ("policies", "configurations", "bypassed")]
    field = "".join(f"[{p}]" if isinstance(p, int) else f".{_pascal(str(p))}" for p in loc).lstrip(".")
    if not field:
        field = "Priority" if section == "retention_policies" else "(document)"
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{field}: {first['msg']}{more}"


@dataclass(frozen=True)
class ImportedFile:
    section: str
    outcome: ExchangeOutcome  # the section's model, imported from the file
    mailboxes: MailboxAggregator | None = None  # a mailbox set's aggregator, for the join with the users


def import_file(path: Path, detail: bool = False) -> ImportedFile:
    """The section one exported file holds, as its evidence model."""
    objects = objects_of(read_json_file(path), path.name)
    section = identify(path, objects)
    mailboxes: MailboxAggregator | None = None
    try:
        if section == "mailboxes":
            mailboxes = _mailbox_set(objects, detail)
            data: ExchangeData = mailboxes.result()
        else:
            data = PARSERS[section](objects, detail)
    except FieldError as err:
        raise EvidenceError(f"{path.name}: {err.field}: {err.message}") from None
    except ValidationError as err:
        raise EvidenceError(f"{path.name}: {_describe(err, section)}") from None
    source = f"{CMDLETS[section]} (ConvertTo-Json export)"
    return ImportedFile(section, Collected(data, source, at=datetime.now(timezone.utc), file=path.name), mailboxes)


def import_exchange(paths: Sequence[str | Path], *, detail: bool = False) -> ImportedSections:
    """Read every exported file; two files for the same cmdlet are an error."""
    sections: dict[str, ExchangeOutcome] = {}
    files: dict[str, str] = {}
    scoping: dict[str, list[WireObject]] = {}
    mailboxes: MailboxAggregator | None = None
    for item in paths:
        path = Path(item)
        cmdlet = APP_SCOPING_STEMS.get(_stem(path))
        if cmdlet is not None:
            objects = objects_of(read_json_file(path), path.name)
            rows: list[WireObject] = [r for r in objects if isinstance(r, dict)]
            if len(rows) != len(objects):
                raise EvidenceError(f"{path.name}: expected the {cmdlet} objects (JSON objects)")
            if cmdlet in scoping:
                raise EvidenceError(f"{path.name}: {cmdlet} was already imported")
            scoping[cmdlet] = rows
            files[cmdlet] = path.name
            continue
        imported = import_file(path, detail)
        section = imported.section
        if section in sections:
            raise EvidenceError(f"{path.name}: {CMDLETS[section]} was already imported from {files[section]}")
        sections[section] = imported.outcome
        files[section] = path.name
        mailboxes = imported.mailboxes or mailboxes
    return ImportedSections(sections, files, scoping, mailboxes)
