"""Value types of an assessment: statuses, findings, gap figures and the report document.

`Report` is the ``assessor.report/1`` contract (report.json). Renderers read it and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assessor.catalogue import SEVERITY_ORDER, Severity
from assessor.vocabulary import StrEnum

REPORT_SCHEMA = "assessor.report/1"


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    WARN = "warn"
    UNKNOWN = "unknown"
    ERROR = "error"
    NOT_APPLICABLE = "not_applicable"
    MANUAL = "manual"


# Statuses that count as a gap when deciding exit codes and the overall verdict.
GAP_STATUSES = frozenset({Status.FAIL, Status.WARN, Status.UNKNOWN, Status.ERROR})


@dataclass(frozen=True)
class Outcome:
    """What a check function decides: a status, a sentence, and the values that decided it."""

    status: Status
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    remediation: str | None = None
    fix: str | None = None  # for unknown: the permission/role/evidence that would let it be decided
    caused_by: str | None = None  # the check whose gap this one follows from (e.g. AUD-01 for no ingestion)


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Finding(_M):
    check_id: str
    title: str
    area: str
    status: Status
    severity: Severity
    message: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    remediation: str | None = None
    references: list[str] = Field(default_factory=list)
    controls: list[str] = Field(default_factory=list)
    rationale: str | None = None
    permissions: list[str] = Field(default_factory=list)
    fix: str | None = None
    caused_by: str | None = Field(None, description="The check whose gap this finding follows from")
    assumptions: list[str] = Field(
        default_factory=list, description="Ids of the report's assumptions[] this verdict rests on"
    )


class Recommendation(_M):
    seats_needed: int | None
    assign_unassigned: int | None
    buy: int | None
    options: list[dict[str, Any]] = Field(default_factory=list)
    text: str


class LicensingFigures(_M):
    audit_tier: Literal["premium", "standard", "none"] | None = None
    users_total: int | None = None
    users_in_scope: int | None = None
    users_without_premium_audit: int | None = None
    privileged_users: int | None = None
    privileged_users_without_premium_audit: int | None = None
    premium_audit_seats_unassigned: int | None = None
    suspended_or_warning_skus: list[dict[str, Any]] | None = None
    premium_skus: list[dict[str, Any]] | None = None
    entra: Literal["p2", "p1", "free"] | None = None
    ten_year_addon_users: int | None = None
    users_without_expanded_events: int | None = Field(
        None,
        description="In-scope users whose licences carry neither Audit (Premium) nor the expanded Standard "
        "events (E3/G3 level): no documented MailItemsAccessed or Send for them",
    )
    basic_mailbox_skus: list[str] | None = Field(
        None, description="Assigned SKUs that give a mailbox without Premium or the expanded events"
    )
    privileged_without_premium: list[dict[str, Any]] | None = None
    recommendation: Recommendation | None = None
    error: str | None = None


class RequiredRetention(_M):
    searchable_days: int
    retrievable_days: int


class WorkloadRetention(_M):
    effective_days_min: int | None = None
    effective_days_max: int | None = None
    users_short: int | None = None
    users_short_retrievable: int | None = None
    users_short_by_policy: int | None = Field(
        None, description="Of users_short, those a retention policy shortens (fixable by editing policies)"
    )
    causes: list[str] = Field(default_factory=list)


class RetentionFigures(_M):
    required: RequiredRetention
    workloads: dict[str, WorkloadRetention]
    overridden_policies: list[dict[str, Any]] = Field(default_factory=list)
    ten_year_without_addon: list[str] = Field(default_factory=list)
    policies_considered: int | None = None
    privileged_outside_scope: int | None = Field(
        None, description="Privileged users counted beyond the in-scope users (no mailbox, guest administrators)"
    )
    standard_default_actors: str | None = Field(
        None, description="Whose activity is kept at the Standard default whatever the users' licences"
    )
    unavailable: str | None = Field(None, description="Why the figures are null (missing evidence)")
    fix: str | None = None
    error: str | None = None


class AuditFigures(_M):
    ual_ingestion_enabled: bool | None = None
    org_audit_disabled: bool | None = None
    bypass_mailboxes: int | None = None
    bypass_identities: list[str] | None = None
    user_mailboxes: int | None = None
    mailboxes_missing_mailitemsaccessed: int | None = None
    mailboxes_missing_required_actions: int | None = None
    mailboxes_audit_disabled: int | None = None
    mailboxes_not_searchable: int | None = Field(
        None,
        description="AuditEnabled False on mailboxes of users without E5-level licences: their audit records "
        "are not returned by audit searches",
    )
    mailboxes_defaults_unconfirmed: int | None = Field(
        None,
        description="Mailboxes that report no actions and rely on Microsoft's defaults while the evidence does "
        "not show that their users' licences have them",
    )
    mailboxes_audit_disabled_licence_unknown: int | None = Field(
        None, description="AuditEnabled False on mailboxes whose users' licence level the evidence cannot tell"
    )
    missing_by_action: dict[str, dict[str, int]] | None = None
    required_actions: dict[str, list[str]] = Field(default_factory=dict)
    error: str | None = None


class EventFigures(_M):
    required: bool
    tier_needed: Literal["premium", "standard"]
    available: bool | None = None
    audited_mailboxes: int | None = None
    audited_mailboxes_unconfirmed: int | None = Field(
        None,
        description="Mailboxes that audit the event with AuditEnabled False whose licence level is unknown "
        "(their records are searchable only for E5-level users)",
    )
    mailboxes_not_searchable: int | None = Field(
        None, description="Mailboxes that audit the event but whose records audit searches do not return"
    )
    users_without_event_licence: int | None = Field(
        None, description="In-scope users whose licences do not carry the event on the assessment date"
    )
    observed_users: int | None = Field(None, description="Distinct accounts with the event in the probe window")
    observed_in_scope_users: int | None = Field(
        None, description="Of those, in-scope users (--users detail); coverage is then exact"
    )
    observed_records: int | None = None
    coverage_pct: float | None = Field(
        None, description="Observed in-scope users ÷ in-scope users; null when not computable"
    )
    coverage_upper_bound: bool = Field(
        False, description="Coverage from account counts alone (non-user accounts may be counted)"
    )
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    top_app_ids: list[dict[str, Any]] | None = None
    distinct_app_ids: int | None = None
    observed_ids: int | None = Field(
        None,
        description="Distinct actors named only by an object id (apps, or users not matched without --users detail)",
    )
    observed_system_records: int | None = Field(None, description="Records by system actors (never users)")
    observed_unknown_records: int | None = Field(None, description="Records whose actor is not available")
    lower_bound: bool = Field(False, description="The probe hit the record-count limit: observed figures are minimums")
    probe_unavailable: str | None = Field(None, description="Why a requested probe gave no observations")


class MailClientFigure(_M):
    """One (AppId, ClientAppId) pair that read or sent mail in the probe window."""

    app_id: str
    client_app_id: str | None = None
    display_name: str | None = None
    client_display_name: str | None = None
    publisher: Literal["tenant", "microsoft", "unknown"] = Field(
        description="Of the pair: unknown when either app is neither the tenant's nor Microsoft's"
    )
    tenant_checked: bool = Field(True, description="False when the tenant's service principals could not be read")
    access: Literal["app_only", "delegated", "mixed"] | None = None
    records: int
    recent_records: int = 0
    operations: dict[str, int] = Field(default_factory=dict)
    mailboxes: int
    privileged_mailboxes: int | None = None
    privileged_reached: list[str] = Field(default_factory=list)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    recent_only: bool | None = Field(None, description="First seen in the recent part of the window")


class MailPermissionFigure(_M):
    app_id: str | None = None
    display_name: str | None = None
    permissions: list[str] = Field(default_factory=list)
    scoped: bool | None = None
    scope: str | None = None


class ReadinessElement(_M):
    id: str
    status: Literal["pass", "fail", "unknown"]
    detail: str
    fix: str | None = None


class ReadinessFigures(_M):
    """Would a Storm-0558-style intrusion be visible here?"""

    visible: bool | None = Field(description="true only when every element passes; null when one is unknown")
    elements: list[ReadinessElement]


Origin = Literal["read", "attested", "none"]


class ExportSettingView(_M):
    name: str
    categories: list[str] = Field(default_factory=list)
    destinations: list[str] = Field(default_factory=list)
    source: Origin = "read"


class ExportDestinationView(_M):
    kind: Literal["log_analytics", "storage", "event_hub", "siem"]
    id: str
    retention_days: int | None = Field(None, description="Workspace default / lifecycle deletion age; null: unknown")
    tables: dict[str, int] = Field(default_factory=dict, description="Table → total retention days")
    kept_until_deleted: bool = Field(False, description="Storage that no lifecycle rule deletes from")
    receives: list[str] = Field(default_factory=list, description="What reaches it (log categories, UAL workloads)")
    source: Origin = "read"


class ExportFigures(_M):
    """Where the logs go (report.json ``export``): read from Azure, attested, or neither."""

    entra_diagnostic_settings: list[ExportSettingView] = Field(default_factory=list)
    destinations: list[ExportDestinationView] = Field(default_factory=list)
    ual_forwarded: bool | None = None
    ual_forward_retention_days: int | None = None
    entra_export_retention_days: int | None = None
    source: Origin = "none"
    entra_source: Origin = "none"
    ual_source: Origin = "none"
    entra_export_kept_until_deleted: bool = Field(
        False, description="Entra logs reach storage that nothing deletes from (retention then has no limit)"
    )
    ual_forwarded_workloads: dict[str, int | None] = Field(
        default_factory=dict, description="Workload → days its forwarded copy is kept (null: unknown)"
    )
    unread: list[str] = Field(default_factory=list, description="What Azure did not let us read, with the fix")
    attested_by: str | None = None
    error: str | None = None


class CollectionEntry(_M):
    section: str
    status: str
    source: str | None = None
    reason: str | None = None
    fix: str | None = None
    file: str | None = None


class PrivilegedDefinitionFigures(_M):
    """Which roles make a user privileged: the profile's list beside Entra's own flag, and the one used."""

    used: Literal["roles", "entra-isprivileged"] = Field(description="The definition the figures use")
    definition: str = Field(description="The definition used, in words")
    listed: list[str] = Field(description="The roles the profile lists (with a reason each in the profile)")
    entra_flagged: list[str] | None = Field(None, description="The roles Entra marks isPrivileged; null: not read")
    listed_not_flagged: list[str] | None = Field(None, description="Listed roles Entra does not flag")
    flagged_not_listed: list[str] | None = Field(None, description="Roles Entra flags that the list leaves out")
    entra_unavailable: str | None = Field(None, description="Why Entra's flag is not known, when it is not")


class ProfileRef(_M):
    id: str
    name: str
    framework: str
    as_of: str
    version: str | None = Field(None, description="The version of the text the profile encodes")
    text: str | None = Field(None, description="The exact text (document, version, date) the profile encodes")
    verified: bool = Field(True, description="False when its figures come from secondary sources only")
    privileged_definition: str | None = Field(None, description="Which definition of privileged users it uses")


class AssumptionRef(_M):
    """A statement of Microsoft's (or a framework's) that verdicts in this report rest on."""

    id: str
    statement: str
    source: str
    holds_from: date
    confidence: Literal["primary", "secondary", "unverified"]
    checks: list[str]


class Report(_M):
    schema_id: str = Field(REPORT_SCHEMA, alias="schema")
    tenant: dict[str, Any]
    profile: ProfileRef
    generated_at: datetime
    assessment_date: date
    tool_version: str
    verdict: Literal["pass", "fail", "incomplete"]
    summary: dict[str, int]
    findings: list[Finding]
    licensing: LicensingFigures
    retention: RetentionFigures
    audit: AuditFigures
    events: dict[str, EventFigures]
    export: ExportFigures = Field(default_factory=ExportFigures, description="Where the logs go")
    collection: list[CollectionEntry]
    assumptions: list[AssumptionRef] = Field(
        default_factory=list, description="What the verdicts assume: each with its source and confidence"
    )
    mail_clients: list[MailClientFigure] | None = Field(
        None, description="Mail-reading clients from the probe (null without it), unknown and new ones first"
    )
    mail_permissions: list[MailPermissionFigure] | None = Field(
        None, description="Service principals that can read mail without a user (null when not read)"
    )
    readiness: ReadinessFigures | None = None
    privileged_definition: PrivilegedDefinitionFigures | None = Field(
        None, description="The profile's privileged roles beside Entra's isPrivileged flag, and which one is used"
    )
    evidence_sha256: str | None = Field(None, description="SHA-256 of the evidence content this report assessed")
    evidence_integrity: Literal["intact", "altered", "unsealed"] | None = Field(
        None,
        description="intact: the evidence matches its seal; altered: it changed after collection; "
        "unsealed: it never had one (hand-made)",
    )

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    def gaps_at_or_above(self, fail_on: str) -> bool:
        """Whether a fail/warn finding has at least the ``--fail-on`` severity (``none``: never)."""
        return gaps_at_or_above(((f.status.value, f.severity) for f in self.findings), fail_on)


def gaps_at_or_above(findings: Iterable[tuple[str, str]], fail_on: str) -> bool:
    """The ``--fail-on`` rule over (status, severity) pairs: a fail or warn of at least that severity.

    One rule for a fresh report and for the per-check statuses a bulk run stored earlier (so
    ``--resume`` and ``merge`` judge stored results by the threshold given now)."""
    if fail_on == "none":
        return False
    threshold = SEVERITY_ORDER[fail_on]
    return any(
        status in (Status.FAIL.value, Status.WARN.value) and SEVERITY_ORDER.get(severity, 0) >= threshold
        for status, severity in findings
    )
