"""What every renderer shows, laid out once: rows in catalogue order, counts, the top gaps, fixes.

Renderers iterate over the check catalogue, not over the report's findings: a catalogue check
that has no finding in the report is shown as ``error`` (it never silently disappears), and a
finding whose id is not in this catalogue version is still shown after the catalogue rows.

Nothing here decides whether a check passes. It orders, groups and counts what the engine
decided; the only status it ever sets is ``error`` for a catalogue check without a result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from assessor.catalogue import CheckMeta, load_catalogue
from assessor.engine.model import GAP_STATUSES, CollectionEntry, Finding, Recommendation, Report, Status
from assessor.report.prices import PriceList, SkuPrice

SEVERITY_RANK: dict[str, int] = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}
# Display order of statuses: the ones to act on first.
STATUS_RANK: dict[Status, int] = {
    Status.FAIL: 0,
    Status.ERROR: 1,
    Status.UNKNOWN: 2,
    Status.WARN: 3,
    Status.MANUAL: 4,
    Status.PASS: 5,
    Status.NOT_APPLICABLE: 6,
}
STATUS_LABEL: dict[Status, str] = {
    Status.FAIL: "Fail",
    Status.WARN: "Warn",
    Status.UNKNOWN: "Unknown",
    Status.ERROR: "Error",
    Status.PASS: "Pass",
    Status.NOT_APPLICABLE: "Not applicable",
    Status.MANUAL: "Manual",
}
STATUS_SYMBOL: dict[Status, str] = {
    Status.FAIL: "✗",
    Status.WARN: "!",
    Status.UNKNOWN: "?",
    Status.ERROR: "⚠",
    Status.PASS: "✓",
    Status.NOT_APPLICABLE: "–",
    Status.MANUAL: "✎",
}
# Areas whose fixes are settings changes: no licence to buy.
SETTINGS_AREAS = frozenset({"audit", "events"})
MISSING_RESULT = "No result for this catalogue check in the report: it was not evaluated, so it counts as an error."


@dataclass(frozen=True)
class Row:
    """One check as shown: the finding, its catalogue entry, and whether the result was missing."""

    finding: Finding
    meta: CheckMeta | None
    missing: bool = False
    position: int = 0

    @property
    def status(self) -> Status:
        return self.finding.status

    @property
    def label(self) -> str:
        return STATUS_LABEL[self.finding.status]

    @property
    def symbol(self) -> str:
        return STATUS_SYMBOL[self.finding.status]

    @property
    def severity_rank(self) -> int:
        return SEVERITY_RANK.get(self.finding.severity, -1)

    @property
    def status_rank(self) -> int:
        return STATUS_RANK[self.finding.status]

    @property
    def is_gap(self) -> bool:
        return self.finding.status in GAP_STATUSES


@dataclass(frozen=True)
class PricedOption:
    """A licensing option (assign / add-on / upgrade) with its price when a price list was given."""

    option: str
    seats: int
    text: str
    sku_part_number: str | None
    display_name: str | None
    no_cost: bool
    price_per_seat_month: Decimal | None = None
    currency: str | None = None

    @property
    def monthly(self) -> Decimal | None:
        if self.no_cost:
            return Decimal(0)
        if self.price_per_seat_month is None:
            return None
        return self.price_per_seat_month * self.seats

    @property
    def annual(self) -> Decimal | None:
        monthly = self.monthly
        return None if monthly is None else monthly * 12


@dataclass(frozen=True)
class EventRow:
    name: str
    required: bool
    tier_needed: str
    available: bool | None
    audited_mailboxes: int | None
    user_mailboxes: int | None
    observed_users: int | None
    observed_records: int | None
    probed: bool
    coverage_pct: float | None = None
    coverage_upper_bound: bool = False
    observed_in_scope_users: int | None = None
    lower_bound: bool = False
    first_seen: str | None = None
    last_seen: str | None = None
    top_app_ids: tuple[tuple[str, int, float], ...] = ()  # (AppId, records, share %)
    distinct_app_ids: int | None = None
    observed_ids: int | None = None
    observed_system_records: int | None = None
    observed_unknown_records: int | None = None

    @property
    def other_actors_text(self) -> str:
        """Actors that are not counted as users: '' when none (or not known)."""
        parts = []
        if self.observed_ids:
            parts.append(f"{self.observed_ids:,} app/object id{'s' if self.observed_ids != 1 else ''}")
        if self.observed_system_records:
            parts.append(
                f"{self.observed_system_records:,} system record{'s' if self.observed_system_records != 1 else ''}"
            )
        if self.observed_unknown_records:
            n = self.observed_unknown_records
            parts.append(f"{n:,} record{'s' if n != 1 else ''} without an actor")
        return "not users: " + ", ".join(parts) if parts else ""

    @property
    def coverage_text(self) -> str:
        """Coverage as people read it: '89.8 %', '≤ 50.0 %' (upper bound), or '—' (not computable)."""
        if self.coverage_pct is None:
            return "—"
        return f"{'≤ ' if self.coverage_upper_bound else ''}{self.coverage_pct:.1f} %"


ENTRA_TABLES = {"SignInLogs": "SigninLogs", "AuditLogs": "AuditLogs"}
NOTHING_NEEDED = "nothing the assessment needs"
SOURCE_LABEL = {"read": "read from Azure", "attested": "attested", "none": "not known"}


@dataclass(frozen=True)
class DestinationRow:
    """One place logs go, what reaches it, and its retention against what the profile requires."""

    name: str
    kind: str
    resource_id: str
    receives: str
    retention: str
    required_days: int | None
    meets: bool | None
    source: str

    required_known: bool = True

    @property
    def verdict(self) -> str:
        if not self.required_known:
            return "not required by the profile" if self.receives != NOTHING_NEEDED else "—"
        if self.meets is None:
            return "unknown"
        return "enough" if self.meets else "too short"

    @property
    def required_text(self) -> str:
        return str(self.required_days) if self.required_days is not None else "—"


def _destination_label(kind: str, resource_id: str) -> str:
    name = resource_id.rstrip("/").rsplit("/", 1)[-1] if "/" in resource_id else resource_id
    return {"log_analytics": "Log Analytics", "storage": "Storage", "event_hub": "Event hub", "siem": "SIEM"}.get(
        kind, kind
    ) + f" {name}"


def _kept(days: int | None, kept_until_deleted: bool = False) -> float | None:
    if kept_until_deleted:
        return float("inf")
    return None if days is None else float(days)


def destination_rows(report: Report) -> list[DestinationRow]:
    """Each destination of the export figures, with the retention that matters for what it receives."""
    entra_need: int | None = None
    for f in report.findings:
        if f.check_id == "RET-04" and isinstance(f.evidence.get("required_days"), int):
            entra_need = f.evidence["required_days"]
    ual_need = report.retention.required.retrievable_days
    rows = []
    for d in report.export.destinations:
        checks: list[tuple[float | None, int]] = []
        parts: list[str] = []
        for thing in d.receives:
            table = ENTRA_TABLES.get(thing)
            ual = thing.startswith("unified audit log")
            if table is None and not ual:
                continue
            need = entra_need if table is not None else ual_need
            if need is None:
                continue
            if d.source == "attested":
                days = _kept(d.retention_days) if d.retention_days else float("inf")
            elif d.kind == "log_analytics":
                name = table or "OfficeActivity"
                days = _kept(d.tables.get(name))
            elif d.kind == "event_hub":
                days = None
            else:
                days = _kept(d.retention_days, d.kept_until_deleted)
            checks.append((days, need))
        if d.source == "attested":
            parts = [f"{d.retention_days} days" if d.retention_days else "as attested (no days given)"]
        elif d.kind == "log_analytics":
            parts = [f"{t} {n} days" for t, n in sorted(d.tables.items())]
            if d.retention_days is not None:
                parts.append(f"workspace default {d.retention_days} days")
        elif d.kind == "storage":
            parts = [
                "kept until deleted (no lifecycle deletion)"
                if d.kept_until_deleted
                else (f"deleted after {d.retention_days} days" if d.retention_days is not None else "unknown")
            ]
        elif d.kind == "event_hub":
            parts = ["streams on: the receiver's retention is not readable"]
        else:
            parts = [f"{d.retention_days} days" if d.retention_days is not None else "unknown"]
        required = max((n for _, n in checks), default=None)
        if not checks:
            meets: bool | None = None
        elif all(days is not None and days >= need for days, need in checks):
            meets = True
        elif any(days is not None and days < need for days, need in checks):
            meets = False
        else:
            meets = None
        rows.append(
            DestinationRow(
                name=d.id if d.source == "attested" else _destination_label(d.kind, d.id),
                kind=d.kind,
                resource_id=d.id,
                receives=", ".join(d.receives) or NOTHING_NEEDED,
                retention="; ".join(parts) or "unknown",
                required_days=required,  # null: the profile requires nothing of what it receives
                meets=meets,
                source=SOURCE_LABEL[d.source],
                required_known=bool(checks),
            )
        )
    return rows


def export_summary(report: Report) -> str:
    """One line: is the unified audit log forwarded, and are Entra logs exported (read or attested)?"""
    e = report.export
    if e.error:
        return f"Where the logs go: could not be computed ({e.error})"
    if e.ual_forwarded is None:
        ual = "unified audit log forwarding unknown"
    elif e.ual_forwarded:
        kept = (
            f"{e.ual_forward_retention_days} days" if e.ual_forward_retention_days is not None else "unknown retention"
        )
        ual = f"unified audit log forwarded ({SOURCE_LABEL[e.ual_source]}), kept {kept}"
    else:
        ual = f"unified audit log not forwarded ({SOURCE_LABEL[e.ual_source]})"
    if e.entra_source == "none":
        entra = "Entra export unknown"
    elif e.entra_export_kept_until_deleted:
        entra = f"Entra logs exported ({SOURCE_LABEL[e.entra_source]}), kept until deleted"
    elif e.entra_export_retention_days is not None:
        entra = f"Entra logs exported ({SOURCE_LABEL[e.entra_source]}), kept {e.entra_export_retention_days} days"
    elif e.entra_diagnostic_settings:
        entra = f"Entra logs exported ({SOURCE_LABEL[e.entra_source]}), retention unknown"
    else:
        entra = f"Entra logs not exported ({SOURCE_LABEL[e.entra_source]})"
    return f"Where the logs go: {ual}; {entra}."


@dataclass(frozen=True)
class ReportView:
    """The report laid out for display. Derived lists are computed once per view (``cached_property``):
    a template reads several of them more than once."""

    report: Report
    rows: tuple[Row, ...]
    missing_ids: tuple[str, ...]
    counts: dict[str, int]
    verdict: str
    pseudonymized: bool
    prices: PriceList | None

    @cached_property
    def gaps(self) -> list[Row]:
        return [r for r in self.rows if r.is_gap]

    @cached_property
    def rows_by_status(self) -> list[Row]:
        """The rows as the findings list shows them: by status (act on first), then catalogue order."""
        return sorted(self.rows, key=lambda r: (r.status_rank, r.position))

    def top_gaps(self, n: int = 3) -> list[Row]:
        """The biggest gaps: confirmed ones (fail, warn) before undecided ones, then by severity."""

        def key(r: Row) -> tuple[int, int, int, int]:
            undecided = r.status not in (Status.FAIL, Status.WARN)
            return (int(undecided), -r.severity_rank, r.status_rank, r.position)

        return self._distinct_causes(sorted(self.gaps, key=key))[:n]

    def _distinct_causes(self, rows: list[Row]) -> list[Row]:
        """Rows whose gap follows from another gap in this report (``caused_by``) move to the end, so
        a summary names different problems instead of one problem three times."""
        confirmed = {r.finding.check_id for r in self.rows if r.status in (Status.FAIL, Status.WARN)}
        first = [r for r in rows if r.finding.caused_by not in confirmed]
        return first + [r for r in rows if r.finding.caused_by in confirmed]

    @cached_property
    def settings_fixes(self) -> list[Row]:
        """Failing/warning checks fixed by a settings change (no licence), highest severity first."""
        rows = [
            r
            for r in self.rows
            if r.status in (Status.FAIL, Status.WARN)
            and (r.finding.area in SETTINGS_AREAS or r.finding.evidence.get("settings_fix") is True)
            and r.finding.evidence.get("available") is not False
        ]
        return self._distinct_causes(sorted(rows, key=lambda r: (-r.severity_rank, r.position)))

    @cached_property
    def options(self) -> list[PricedOption]:
        return priced_options(self.report.licensing.recommendation, self.prices)

    @cached_property
    def no_cost_options(self) -> list[PricedOption]:
        return [o for o in self.options if o.no_cost]

    @cached_property
    def paid_options(self) -> list[PricedOption]:
        return [o for o in self.options if not o.no_cost]

    @cached_property
    def events(self) -> list[EventRow]:
        probed = any(
            c.section == "audit_probe" and c.status in ("collected", "imported") for c in self.report.collection
        )
        return [
            EventRow(
                name=name,
                required=e.required,
                tier_needed=e.tier_needed,
                available=e.available,
                audited_mailboxes=e.audited_mailboxes,
                user_mailboxes=self.report.audit.user_mailboxes,
                observed_users=e.observed_users,
                observed_records=e.observed_records,
                probed=probed or e.observed_users is not None,
                coverage_pct=e.coverage_pct,
                coverage_upper_bound=e.coverage_upper_bound,
                observed_in_scope_users=e.observed_in_scope_users,
                lower_bound=e.lower_bound,
                first_seen=e.first_seen.isoformat() if e.first_seen else None,
                last_seen=e.last_seen.isoformat() if e.last_seen else None,
                top_app_ids=tuple(
                    (str(a.get("app_id")), int(a.get("count") or 0), float(a.get("share_pct") or 0.0))
                    for a in (e.top_app_ids or [])
                ),
                distinct_app_ids=e.distinct_app_ids,
                observed_ids=e.observed_ids,
                observed_system_records=e.observed_system_records,
                observed_unknown_records=e.observed_unknown_records,
            )
            for name, e in self.report.events.items()
        ]

    @cached_property
    def app_id_baselines(self) -> list[EventRow]:
        """The events whose probe saw client AppIds (the report's AppId baseline section)."""
        return [e for e in self.events if e.top_app_ids]

    @cached_property
    def collection_fixes(self) -> list[CollectionEntry]:
        """When checks are undecided: evidence not collected and how to collect it, one entry per distinct fix."""
        if not any(r.status in (Status.UNKNOWN, Status.ERROR) for r in self.rows):
            return []
        seen: set[str] = set()
        out = []
        for entry in self.report.collection:
            if entry.status == "not_collected" and entry.fix and entry.fix not in seen:
                seen.add(entry.fix)
                out.append(entry)
        return out

    @cached_property
    def destinations(self) -> list[DestinationRow]:
        return destination_rows(self.report)

    @property
    def export_summary(self) -> str:
        return export_summary(self.report)

    @property
    def tenant_name(self) -> str:
        t = self.report.tenant
        return str(t.get("name") or t.get("default_domain") or t.get("id") or "unknown tenant")


def _missing_finding(meta: CheckMeta) -> Finding:
    return Finding(
        check_id=meta.id,
        title=meta.title,
        area=meta.area,
        status=Status.ERROR,
        severity=meta.severity,
        message=MISSING_RESULT,
        evidence={},
        remediation=None,
        references=list(meta.references),
        controls=[],
        rationale=meta.rationale,
        permissions=list(meta.permissions),
        fix="Re-run the assessment with this version of the tool; a report without this check is incomplete.",
    )


def catalogue_rows(report: Report, catalogue: Sequence[CheckMeta] | None = None) -> list[Row]:
    """One row per catalogue check (missing result: error), then any findings outside the catalogue."""
    metas = load_catalogue() if catalogue is None else catalogue
    by_id: dict[str, Finding] = {}
    for f in report.findings:
        by_id.setdefault(f.check_id, f)
    rows: list[Row] = []
    for meta in metas:
        found = by_id.pop(meta.id, None)
        rows.append(Row(finding=found or _missing_finding(meta), meta=meta, missing=found is None, position=len(rows)))
    for f in report.findings:
        if f.check_id in by_id and by_id[f.check_id] is f:
            rows.append(Row(finding=f, meta=None, position=len(rows)))
    return rows


def priced_options(rec: Recommendation | None, prices: PriceList | None) -> list[PricedOption]:
    if rec is None:
        return []
    out: list[PricedOption] = []
    skus: dict[str, SkuPrice] = prices["skus"] if prices else {}
    for opt in rec.options:
        part = opt.get("sku_part_number")
        no_cost = opt.get("cost") == "none"
        price = skus.get(part) if isinstance(part, str) else None
        display = opt.get("display_name")
        kind = str(opt.get("option", ""))
        text = str(
            opt.get("text")
            or f"{'Buy' if kind == 'add-on' else 'Upgrade'} {opt.get('seats')} seat(s): {display or part}"
        )
        out.append(
            PricedOption(
                option=kind,
                seats=int(opt.get("seats") or 0),
                text=text,
                sku_part_number=part if isinstance(part, str) else None,
                display_name=str(display) if display else None,
                no_cost=no_cost,
                price_per_seat_month=price["per_seat_month"] if price else None,
                currency=price["currency"] if price else None,
            )
        )
    return out


def build_view(
    report: Report,
    *,
    pseudonymized: bool = False,
    prices: PriceList | None = None,
    catalogue: Sequence[CheckMeta] | None = None,
) -> ReportView:
    rows = catalogue_rows(report, catalogue)
    missing = tuple(r.finding.check_id for r in rows if r.missing)
    counted = Counter(r.status.value for r in rows)
    counts = {s.value: counted.get(s.value, 0) for s in Status}
    verdict = report.verdict
    if missing and verdict == "pass":
        verdict = "incomplete"  # a check without a result is an error, and errors make a run incomplete
    return ReportView(
        report=report,
        rows=tuple(rows),
        missing_ids=missing,
        counts=counts,
        verdict=verdict,
        pseudonymized=pseudonymized,
        prices=prices,
    )
