"""Where the logs go: Entra diagnostic settings, their destinations, and Sentinel's Office 365 connector.

Pure functions over the ``log_export`` evidence section. Two kinds of source feed it: what was
*read* from Azure Resource Manager (``log_export.azure``) and what an admin *attested*. A read
value wins when both exist; every figure says which it rests on.

Retention of one copy of the logs:

- a Log Analytics workspace keeps a table's rows for the table's *total* retention (interactive
  plus archive); the table, not the workspace default, decides (a table may be set shorter);
- a storage account keeps blobs until a lifecycle rule deletes them (``daysAfterModificationGreaterThan``);
  with no such rule they are kept until someone deletes them; a diagnostic setting's own legacy
  retention policy (storage only) deletes earlier when it is shorter;
- an event hub keeps nothing for long: it streams to a receiver whose retention Azure cannot tell.

When logs reach several destinations the copy kept longest counts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from assessor.engine.model import ExportDestinationView, ExportFigures, ExportSettingView, Origin
from assessor.evidence import DiagnosticSetting, Evidence, ExportDestination, LogExport, ReadGap

# Entra diagnostic categories RET-04 needs, and the Log Analytics table each lands in.
ENTRA_CATEGORIES: dict[str, str] = {"SignInLogs": "SigninLogs", "AuditLogs": "AuditLogs"}
UAL_TABLE = "OfficeActivity"
# Sentinel Office 365 connector data type → the unified audit log workloads it forwards.
CONNECTOR_WORKLOADS: dict[str, tuple[str, ...]] = {
    "exchange": ("Exchange",),
    "sharepoint": ("SharePoint", "OneDrive"),
    "teams": ("Teams",),
}
Days = float | None  # whole days, math.inf for "kept until deleted", None for unknown


def as_days(value: Days) -> int | None:
    """A figure for the report: whole days, null when unknown or unlimited."""
    return None if value is None or math.isinf(value) else int(value)


def destination_label(resource_id: str) -> str:
    """A short, readable name for an ARM resource id (its kind and last segment)."""
    low = resource_id.lower()
    name = resource_id.rstrip("/").rsplit("/", 1)[-1]
    if "/microsoft.operationalinsights/workspaces/" in low:
        return f"workspace {name}"
    if "/microsoft.storage/storageaccounts/" in low:
        return f"storage account {name}"
    if "/microsoft.eventhub/" in low:
        return f"event hub {name}"
    return resource_id


def describe_days(value: Days) -> str:
    if value is None:
        return "unknown retention"
    if math.isinf(value):
        return "kept until deleted (no lifecycle deletion)"
    return f"{int(value)} days"


@dataclass(frozen=True)
class Copy:
    """One destination that receives some logs, and how long it keeps them."""

    setting: str | None
    destination: str
    kind: str
    days: Days
    why_unknown: str | None = None


@dataclass
class Reach:
    """Every copy of one kind of log (an Entra category, or a UAL workload)."""

    copies: list[Copy] = field(default_factory=list)

    @property
    def best(self) -> Days:
        known = [c.days for c in self.copies if c.days is not None]
        return max(known) if known else None

    @property
    def unknown(self) -> list[Copy]:
        return [c for c in self.copies if c.days is None]

    def meets(self, need: int) -> bool | None:
        """True when some copy keeps the logs ``need`` days; False when every copy is known and shorter."""
        best = self.best
        if best is not None and best >= need:
            return True
        if not self.copies or self.unknown:
            return None if self.copies else False
        return False


# --------------------------------------------------------------------------- reading the evidence


def _destinations(export: LogExport) -> dict[str, ExportDestination]:
    azure = export.azure
    return {d.id.lower(): d for d in azure.destinations} if azure is not None else {}


def _legacy_days(setting: DiagnosticSetting) -> Days:
    return float(setting.retention_days) if setting.retention_days else None


def _copy_days(dest: ExportDestination | None, table: str, setting: DiagnosticSetting) -> tuple[Days, str | None]:
    if dest is None:
        return None, "the destination could not be read"
    if dest.kind == "log_analytics":
        if table in dest.tables:
            return float(dest.tables[table]), None
        return None, _why(dest, f"the {table} table's retention could not be read")
    if dest.kind == "storage":
        days: Days = math.inf if dest.kept_until_deleted else dest.retention_days
        if days is None:
            return None, _why(dest, "the storage account's lifecycle rules could not be read")
        legacy = _legacy_days(setting)
        return (min(days, legacy) if legacy is not None else days), None
    return None, "an event hub streams the logs on; the receiver's retention cannot be read from Azure"


def _why(dest: ExportDestination, default: str) -> str:
    """Why a destination's retention is unknown: its distinct refusals, without the request paths."""
    return "; ".join(dict.fromkeys(_short(g.reason) for g in dest.unread)) or default


def _short(reason: str) -> str:
    head, sep, tail = reason.partition(" answered ")
    return f"answered {tail}" if sep and head.startswith("GET ") else reason


def entra_reach(export: LogExport) -> dict[str, Reach] | None:
    """Read Entra diagnostic settings: every copy of SignInLogs and AuditLogs (None: not read)."""
    azure = export.azure
    if azure is None or azure.entra_diagnostic_settings is None:
        return None
    dests = _destinations(export)
    reach = {category: Reach() for category in ENTRA_CATEGORIES}
    for setting in azure.entra_diagnostic_settings:
        for category, table in ENTRA_CATEGORIES.items():
            if category not in setting.categories:
                continue
            for dest_id in setting.destinations:
                dest = dests.get(dest_id.lower())
                days, why = _copy_days(dest, table, setting)
                kind = dest.kind if dest is not None else _kind_of(dest_id)
                reach[category].copies.append(Copy(setting.name, dest_id, kind, days, why))
    return reach


def attested_entra_reach(export: LogExport) -> dict[str, Reach] | None:
    """Attested Entra diagnostic settings (None: none attested). An attested setting without
    retention days is taken to keep the logs as long as asked (the attestation vouches for it)."""
    if not export.entra_diagnostic_settings:
        return None
    reach = {category: Reach() for category in ENTRA_CATEGORIES}
    for setting in export.entra_diagnostic_settings:
        days: Days = float(setting.retention_days) if setting.retention_days else math.inf
        for category in ENTRA_CATEGORIES:
            if category in setting.categories and setting.destinations:
                for dest in setting.destinations:
                    reach[category].copies.append(Copy(setting.name, dest, "attested", days))
    return reach


def _kind_of(resource_id: str) -> str:
    rid = resource_id.lower()
    if "/microsoft.operationalinsights/workspaces/" in rid:
        return "log_analytics"
    if "/microsoft.storage/storageaccounts/" in rid:
        return "storage"
    return "event_hub"


@dataclass(frozen=True)
class UalForwarding:
    """Read from Sentinel: does the unified audit log reach a workspace, per workload, and for how long."""

    forwarded: bool | None
    workloads: dict[str, Reach]
    unread: list[str]


def ual_forwarding(export: LogExport) -> UalForwarding | None:
    """The Office 365 connectors on every workspace read (None: nothing was read from Azure)."""
    azure = export.azure
    if azure is None:
        return None
    workloads: dict[str, Reach] = {}
    unread: list[str] = []
    for dest in azure.destinations:
        if dest.kind != "log_analytics":
            continue
        if dest.sentinel_office365 is None:
            unread.append(f"{dest.id}: {_why(dest, 'Sentinel data connectors could not be read')}")
            continue
        for connector in dest.sentinel_office365:
            for flag, names in CONNECTOR_WORKLOADS.items():
                if not getattr(connector, flag):
                    continue
                days = dest.tables.get(UAL_TABLE)
                why = None if days is not None else _why(dest, f"the {UAL_TABLE} table's retention could not be read")
                for name in names:
                    workloads.setdefault(name, Reach()).copies.append(
                        Copy(connector.name, dest.id, "log_analytics", float(days) if days is not None else None, why)
                    )
    listing_gaps = [g for g in azure.gaps if "workspace" in g.what.lower() or "subscription" in g.what.lower()]
    unread += [f"{g.what}: {g.reason}" for g in listing_gaps]
    if workloads:
        forwarded: bool | None = True
    elif unread or not azure.subscriptions:
        forwarded = None  # some workspace (or every one) could not be read: absence is not known
    else:
        forwarded = False
    return UalForwarding(forwarded, workloads, unread)


# --------------------------------------------------------------------------- figures for the report


def _entra_days(reach: dict[str, Reach] | None) -> Days:
    if reach is None:
        return None
    bests = [r.best for r in reach.values()]
    if any(b is None for b in bests):
        return None
    return min(b for b in bests if b is not None)


def _receives(export: LogExport) -> dict[str, list[str]]:
    """Destination id → what reaches it (Entra categories, UAL workloads)."""
    out: dict[str, list[str]] = {}
    azure = export.azure
    if azure is None:
        return out
    for setting in azure.entra_diagnostic_settings or []:
        for dest_id in setting.destinations:
            seen = out.setdefault(dest_id.lower(), [])
            seen.extend(c for c in setting.categories if c not in seen)
    for dest in azure.destinations:
        for connector in dest.sentinel_office365 or []:
            kinds = [n for f, ns in CONNECTOR_WORKLOADS.items() if getattr(connector, f) for n in ns]
            if kinds:
                out.setdefault(dest.id.lower(), []).append(f"unified audit log ({', '.join(kinds)})")
    return out


def _destination_views(export: LogExport) -> list[ExportDestinationView]:
    receives = _receives(export)
    views: list[ExportDestinationView] = []
    for dest in export.azure.destinations if export.azure is not None else []:
        views.append(
            ExportDestinationView(
                kind=dest.kind,
                id=dest.id,
                retention_days=dest.retention_days,
                tables=dict(dest.tables),
                kept_until_deleted=dest.kept_until_deleted,
                receives=receives.get(dest.id.lower(), []),
                source="read",
            )
        )
    return views


def _attested_views(export: LogExport, entra_read: bool, ual_read: bool) -> list[ExportDestinationView]:
    views: list[ExportDestinationView] = []
    if not entra_read:
        for setting in export.entra_diagnostic_settings:
            for dest in setting.destinations:
                views.append(
                    ExportDestinationView(
                        kind=_attested_kind(dest),
                        id=dest,
                        retention_days=setting.retention_days,
                        receives=list(setting.categories),
                        source="attested",
                    )
                )
    if not ual_read and export.siem_attested:
        views.append(
            ExportDestinationView(
                kind="siem",
                id=export.note or "SIEM / archive (attested)",
                retention_days=export.siem_retention_days,
                receives=["unified audit log (attested)"],
                source="attested",
            )
        )
    return views


def _attested_kind(text: str) -> str:
    low = text.lower()
    if "log analytics" in low or "sentinel" in low or "/microsoft.operationalinsights/" in low:
        return "log_analytics"
    if "storage" in low:
        return "storage"
    if "event hub" in low or "eventhub" in low:
        return "event_hub"
    return "siem"


def compute_export(evidence: Evidence) -> ExportFigures:
    """The report's ``export`` figures from the log_export section (empty when it was not collected)."""
    export = evidence.log_export.data
    if export is None:
        return ExportFigures()
    read_entra = entra_reach(export)
    attested_entra = attested_entra_reach(export)
    ual = ual_forwarding(export)
    ual_read = ual is not None and ual.forwarded is not None
    entra_source: Origin = "read" if read_entra is not None else ("attested" if attested_entra is not None else "none")
    ual_source: Origin = "read" if ual_read else ("attested" if export.siem_attested else "none")
    entra = read_entra if read_entra is not None else attested_entra
    entra_days = _entra_days(entra)

    settings: list[ExportSettingView] = []
    if export.azure is not None and export.azure.entra_diagnostic_settings is not None:
        settings = [
            ExportSettingView(name=s.name, categories=s.categories, destinations=s.destinations, source="read")
            for s in export.azure.entra_diagnostic_settings
        ]
    elif export.entra_diagnostic_settings:
        settings = [
            ExportSettingView(name=s.name, categories=s.categories, destinations=s.destinations, source="attested")
            for s in export.entra_diagnostic_settings
        ]

    workloads: dict[str, int | None] = {}
    forwarded: bool | None = None
    forward_days: int | None = None
    if ual_read and ual is not None:
        forwarded = ual.forwarded
        workloads = {w: as_days(r.best) for w, r in sorted(ual.workloads.items())}
        known = [r.best for r in ual.workloads.values() if r.best is not None]
        forward_days = as_days(max(known)) if known else None
    elif export.siem_attested:
        forwarded = True
        forward_days = export.siem_retention_days
    unread = [f"{g.what}: {g.reason}" + (f" (fix: {g.fix})" if g.fix else "") for g in _gaps(export)]
    origins = {entra_source, ual_source}
    return ExportFigures(
        entra_diagnostic_settings=settings,
        destinations=_destination_views(export) + _attested_views(export, read_entra is not None, ual_read),
        ual_forwarded=forwarded,
        ual_forward_retention_days=forward_days,
        entra_export_retention_days=as_days(entra_days),
        entra_export_kept_until_deleted=entra_days is not None and math.isinf(entra_days),
        source="read" if "read" in origins else ("attested" if "attested" in origins else "none"),
        entra_source=entra_source,
        ual_source=ual_source,
        ual_forwarded_workloads=workloads,
        unread=unread,
        attested_by=export.attested_by if export.attested else None,
    )


def _gaps(export: LogExport) -> Iterable[ReadGap]:
    azure = export.azure
    if azure is None:
        return []
    out: list[ReadGap] = list(azure.gaps)
    for dest in azure.destinations:
        out.extend(dest.unread)
    return out
