"""The knowledge base: Microsoft's rules as dated, sourced data (audit.yaml, skus.json)."""

from __future__ import annotations

import json
from datetime import date
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assessor.errors import KnowledgeError

Tier = Literal["premium", "standard", "none"]
Confidence = Literal["primary", "secondary", "unverified"]
WORKLOADS = ("Exchange", "SharePoint", "OneDrive", "AzureActiveDirectory", "Other")

# The events the assessor knows (their operations, tiers and sources are in audit.yaml: ``events``).
KNOWN_EVENTS = ("MailItemsAccessed", "Send", "SearchQueryInitiatedExchange", "SearchQueryInitiatedSharePoint")


class _KB(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class DatedDays(_KB):
    from_: date = Field(alias="from")
    days: int
    source: str
    note: str | None = None


class PremiumDefault(_KB):
    from_: date = Field(alias="from")
    source: str
    workload_days: dict[str, int]
    other_days: int
    note: str | None = None


class DefaultRetention(_KB):
    standard: list[DatedDays]
    premium: list[PremiumDefault]


class Durations(_KB):
    days: dict[str, int]
    note: str | None = None


class TenYear(_KB):
    duration: str
    durations_needing_addon: list[str]
    days_without_addon: int
    note: str


class Availability(_KB):
    from_: date = Field(alias="from")
    tier: Literal["premium", "standard"]
    source: str
    clouds: list[str] | None = Field(None, description="The clouds this entry holds in (None: every cloud)")
    confidence: Confidence = "primary"
    note: str | None = None


class Event(_KB):
    operation: str
    workload: str
    record_type: str
    mailbox_action: str | None
    logon_types: list[str]
    default_on: bool
    availability: list[Availability]
    why: str

    def tier_needed(self, on: date, cloud: str = "global") -> Literal["premium", "standard"]:
        """The tier whose users get this event on ``on`` in ``cloud`` (Premium before the expansion)."""
        current = [a for a in self.availability if a.from_ <= on and (a.clouds is None or cloud in a.clouds)]
        if not current:
            return "premium"
        return max(current, key=lambda a: a.from_).tier


class Plan(_KB):
    id: str
    name: str
    note: str | None = None


class ServicePlans(_KB):
    premium_audit: list[Plan]
    ten_year_retention: list[Plan]
    mailbox: list[Plan]
    entra_p1: list[Plan]
    entra_p2: list[Plan]


class LicenceLevels(_KB):
    expanded_events: list[Plan]
    source: list[str]
    note: str | None = None


class Role(_KB):
    name: str
    template_id: str
    reason: str | None = None


class Assumption(_KB):
    """A statement a verdict rests on, with its source, the date it holds from and a confidence."""

    id: str = Field(pattern=r"^[A-Z][A-Z0-9-]{1,40}$")
    statement: str
    source: str
    from_: date = Field(alias="from")
    confidence: Confidence
    checks: list[str]


class LedgerEntry(_KB):
    """One knowledge entry as the ledger shows it."""

    name: str
    source: str
    from_: date | None = Field(None, alias="from")
    confidence: Confidence | None = None
    note: str | None = None


class SkuEntry(_KB):
    sku_id: str
    sku_part_number: str
    display_name: str
    service_plans: list[dict[str, str]]


class Knowledge(_KB):
    default_retention: DefaultRetention
    retention_durations: Durations
    ten_year: TenYear
    workloads: dict[str, Any]
    events: dict[str, Event]
    default_mailbox_actions: dict[str, Any]
    service_plans: ServicePlans
    licence_levels: LicenceLevels
    purchase_options: dict[str, Any]
    privileged_roles: dict[str, Any]
    entra_log_retention: dict[str, Any]
    assumptions: list[Assumption] = Field(default_factory=list)
    skus: list[SkuEntry] = Field(default_factory=list)
    raw: dict[str, Any] = Field(default_factory=dict, exclude=True)

    def assumptions_for(self, check_id: str) -> list[Assumption]:
        return list(self.assumptions_by_check.get(check_id, ()))

    @cached_property
    def assumptions_by_check(self) -> dict[str, tuple[Assumption, ...]]:
        """Each check's assumptions in ledger order (built once: the engine asks for every check)."""
        out: dict[str, list[Assumption]] = {}
        for a in self.assumptions:
            for check_id in dict.fromkeys(a.checks):
                out.setdefault(check_id, []).append(a)
        return {k: tuple(v) for k, v in out.items()}

    def ledger(self) -> list[LedgerEntry]:
        """Every dated, sourced knowledge entry (nested timelines included), then nothing else."""
        out: list[LedgerEntry] = []
        for name, value in self.raw.items():
            if name in ("sources", "assumptions", "skus", "extra_skus"):
                continue
            out.extend(_entries(name, value))
        return out

    # ---- lookups used by the engine

    @property
    def premium_plan_ids(self) -> frozenset[str]:
        return frozenset(p.id for p in self.service_plans.premium_audit)

    @property
    def expanded_event_sku_ids(self) -> frozenset[str]:
        """SKUs (E3/G3 level) whose users get the expanded Standard events and documented defaults."""
        return frozenset(p.id for p in self.licence_levels.expanded_events)

    @property
    def ten_year_plan_ids(self) -> frozenset[str]:
        return frozenset(p.id for p in self.service_plans.ten_year_retention)

    @property
    def mailbox_plan_ids(self) -> frozenset[str]:
        return frozenset(p.id for p in self.service_plans.mailbox)

    @property
    def entra_plan_ids(self) -> dict[str, frozenset[str]]:
        return {
            "p1": frozenset(p.id for p in self.service_plans.entra_p1),
            "p2": frozenset(p.id for p in self.service_plans.entra_p2),
        }

    def duration_days(self, name: str) -> int | None:
        table = {k.lower(): v for k, v in self.retention_durations.days.items()}
        return table.get(name.strip().lower())

    def workload_of(self, record_type: str) -> str:
        rt = record_type.strip().lower()
        for workload, types in self.workloads["record_types"].items():
            if rt in {t.lower() for t in types}:
                return str(workload)
        return "Other"

    def record_types_of(self, workload: str) -> list[str]:
        return list(self.workloads["record_types"].get(workload, []))

    def standard_default_days(self, on: date) -> int:
        current = [e for e in self.default_retention.standard if e.from_ <= on]
        return max(current, key=lambda e: e.from_).days

    def premium_default_days(self, workload: str, on: date) -> int:
        current = [e for e in self.default_retention.premium if e.from_ <= on]
        entry = max(current, key=lambda e: e.from_)
        return entry.workload_days.get(workload, entry.other_days)

    def default_actions(self, logon_type: str) -> frozenset[str]:
        return frozenset(self.default_mailbox_actions.get(logon_type, []))

    def default_privileged_roles(self) -> list[Role]:
        return [Role.model_validate(r) for r in self.privileged_roles["roles"]]

    def sku_by_id(self, sku_id: str) -> SkuEntry | None:
        return _sku_index(self).get(sku_id.lower())

    def sku_by_part_number(self, part: str) -> SkuEntry | None:
        return self.skus_by_part_number.get(part)

    @cached_property
    def skus_by_part_number(self) -> dict[str, SkuEntry]:
        """The first SKU entry of each part number (built once)."""
        out: dict[str, SkuEntry] = {}
        for sku in self.skus:
            out.setdefault(sku.sku_part_number, sku)
        return out

    def skus_with_plan(self, plan_ids: frozenset[str]) -> list[SkuEntry]:
        return [s for s in self.skus if any(p["id"] in plan_ids for p in s.service_plans)]


def _source_text(value: Any) -> str:
    return "; ".join(str(v) for v in value) if isinstance(value, list) else str(value)


def _entries(name: str, value: Any) -> list[LedgerEntry]:
    """Ledger entries of one knowledge key: the key itself when it names a source, else its dated items."""
    if isinstance(value, dict) and "source" in value:
        return [
            LedgerEntry.model_validate(
                {
                    "name": name,
                    "source": _source_text(value["source"]),
                    "from": value.get("from"),
                    "confidence": value.get("confidence"),
                    "note": value.get("note"),
                }
            )
        ]
    out: list[LedgerEntry] = []
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(_entries(f"{name}.{key}", item))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.extend(_entries(f"{name}[{i}]", item))
    return out


_SKU_INDEX: dict[int, dict[str, SkuEntry]] = {}


def _sku_index(kb: Knowledge) -> dict[str, SkuEntry]:
    key = id(kb)
    if key not in _SKU_INDEX:
        _SKU_INDEX[key] = {s.sku_id: s for s in kb.skus}
    return _SKU_INDEX[key]


@lru_cache(maxsize=1)
def load_knowledge() -> Knowledge:
    """Load and validate the bundled knowledge base (cached: it is immutable)."""
    pkg = resources.files("assessor.knowledge")
    try:
        raw = yaml.safe_load(pkg.joinpath("audit.yaml").read_text(encoding="utf-8"))
        raw["skus"] = json.loads(pkg.joinpath("skus.json").read_text(encoding="utf-8"))["skus"]
        return Knowledge.model_validate({**raw, "raw": {k: v for k, v in raw.items() if k != "skus"}})
    except (OSError, yaml.YAMLError, json.JSONDecodeError, KeyError, ValidationError) as err:
        raise KnowledgeError(f"bundled knowledge base is invalid: {err}") from None
