"""The evidence document: everything collection learned about a tenant, versioned.

Every section says how it was obtained (`collected`, `not_collected` with the reason and the
permission or role that would fix it, or `imported` from a named file). A section that was not
collected carries no data, so nothing downstream can mistake absence for a clean result.

Schema id: ``assessor.evidence/1``. Loading rejects anything else with :class:`EvidenceError`
naming the offending field.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    WithJsonSchema,
    model_serializer,
    model_validator,
)

from assessor.errors import EvidenceError

# the file helpers moved to assessor.fileio; still importable from here for existing callers
from assessor.fileio import atomic_writer as atomic_writer
from assessor.fileio import dumps_pretty as dumps_pretty
from assessor.fileio import write_json_atomic as write_json_atomic
from assessor.fileio import write_text_atomic as write_text_atomic
from assessor.vocabulary import Cloud, EvidenceUsersMode, inline_enum_schema

SCHEMA_ID = "assessor.evidence/1"
MAX_EVIDENCE_BYTES = 512 * 1024 * 1024

LogonType = Literal["Owner", "Delegate", "Admin"]
NonNegative = Annotated[int, Field(ge=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _Later(_Model):
    """A model with optional fields added after evidence was first sealed: left out of the serialised
    document while unset (None), so evidence sealed before they existed keeps its digest."""

    LATER: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _without_unset_later(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        for name in self.LATER:
            if out.get(name, 0) is None:
                del out[name]
        return out


# --------------------------------------------------------------------------- provenance


class Provenance(_Model):
    """How one evidence section was obtained."""

    status: Literal["collected", "not_collected", "imported"]
    source: str | None = Field(None, description="Endpoint, cmdlet or file the data came from")
    reason: str | None = Field(None, description="Why it was not collected (required for not_collected)")
    fix: str | None = Field(None, description="The permission or role that would let it be collected")
    file: str | None = Field(None, description="File name the section was imported from")
    at: datetime | None = Field(None, description="When it was obtained")
    requested: bool = Field(
        True, description="False when the user did not ask for this section (e.g. the probe without --probe-events)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Provenance:
        if self.status == "not_collected" and not self.reason:
            raise ValueError("a not_collected section needs a reason")
        if self.status == "imported" and not self.file:
            raise ValueError("an imported section needs the file name")
        return self


T = TypeVar("T")


class Section(_Model, Generic[T]):
    """A piece of evidence with its provenance; `data` is present exactly when it was obtained."""

    provenance: Provenance
    data: T | None = None

    @model_validator(mode="after")
    def _data_matches_status(self) -> Section[T]:
        if self.provenance.status == "not_collected" and self.data is not None:
            raise ValueError("a not_collected section must not carry data")
        if self.provenance.status != "not_collected" and self.data is None:
            raise ValueError(f"a {self.provenance.status} section must carry data")
        return self

    @property
    def available(self) -> bool:
        return self.data is not None


def not_collected(reason: str, fix: str | None = None, source: str | None = None) -> dict[str, dict[str, str | None]]:
    """Convenience for building a not_collected section (as a plain dict for model construction)."""
    return {"provenance": {"status": "not_collected", "reason": reason, "fix": fix, "source": source}}


# --------------------------------------------------------------------------- tenant and licences


TENANT_ID_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,126}[A-Za-z0-9])?$"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class Tenant(_Model):
    id: str = Field(pattern=TENANT_ID_PATTERN, description="Tenant GUID or a verified domain (no path separators)")
    name: str | None = None
    domains: list[str] = Field(default_factory=list)
    default_domain: str | None = None
    cloud: Cloud = Cloud.GLOBAL
    provenance: Provenance | None = Field(
        None, description="How name and domains were obtained (GET /organization); absent in hand-made evidence"
    )


class ServicePlan(_Model):
    service_plan_id: str
    service_plan_name: str | None = None
    provisioning_status: str | None = None
    applies_to: str | None = None


class PrepaidUnits(_Model):
    enabled: NonNegative = 0
    suspended: NonNegative = 0
    warning: NonNegative = 0
    locked_out: NonNegative = 0


class SubscribedSku(_Model):
    sku_id: str
    sku_part_number: str | None = None
    capability_status: Literal["Enabled", "Warning", "Suspended", "Deleted", "LockedOut"]
    applies_to: str | None = None
    consumed_units: NonNegative = 0
    prepaid_units: PrepaidUnits = Field(default_factory=PrepaidUnits)
    service_plans: list[ServicePlan] = Field(default_factory=list)


class AssignedLicense(_Model):
    sku_id: str
    disabled_plans: list[str] = Field(default_factory=list)


class UserRecord(_Model):
    """One user as Graph reports them (only the properties the assessment needs)."""

    id: str
    user_principal_name: str | None = None
    display_name: str | None = None
    account_enabled: bool | None = None
    user_type: str | None = None
    assigned_licenses: list[AssignedLicense] = Field(default_factory=list)


class UserCounts(_Model):
    """Aggregated user figures. In-scope = enabled member with an enabled Exchange Online plan.

    Counts are whole or absent (None): a partial count is never stored as if it were whole.
    """

    total: NonNegative | None = None
    enabled_members: NonNegative | None = None
    guests: NonNegative | None = None
    in_scope: NonNegative | None = None
    in_scope_premium: NonNegative | None = Field(None, description="in-scope users covered by Audit (Premium)")
    in_scope_premium_ten_year: NonNegative | None = Field(
        None, description="in-scope, Premium-covered users who also hold the 10-year retention add-on"
    )
    in_scope_expanded: NonNegative | None = Field(
        None,
        description="in-scope users whose licences carry the expanded Standard events (E3/G3 or E5 level); "
        "absent: inferred from the tenant's subscriptions where they decide it",
    )

    @model_validator(mode="after")
    def _ordered(self) -> UserCounts:
        chain = [self.total, self.enabled_members, self.in_scope, self.in_scope_premium, self.in_scope_premium_ten_year]
        known = [c for c in chain if c is not None]
        # total >= enabled_members >= in_scope >= premium >= ten-year, wherever both are known
        for bigger, smaller in pairwise(known):
            if smaller > bigger:
                raise ValueError("user counts are inconsistent (a subset is larger than its superset)")
        expanded = self.in_scope_expanded
        if expanded is not None and (
            (self.in_scope is not None and expanded > self.in_scope)
            or (self.in_scope_premium is not None and expanded < self.in_scope_premium)
        ):
            raise ValueError("in_scope_expanded must lie between in_scope_premium and in_scope")
        return self


class Users(_Model):
    # the enum's values inline, as the schema has always given them (not a $ref to the enum's docstring)
    mode: Annotated[EvidenceUsersMode, WithJsonSchema(inline_enum_schema(EvidenceUsersMode, "Mode"))] = (
        EvidenceUsersMode.SUMMARY
    )
    counts: UserCounts
    named: list[UserRecord] = Field(
        default_factory=list,
        description="Users referenced by name elsewhere (retention-policy UserIds), resolved individually",
    )
    unresolved_names: list[str] = Field(
        default_factory=list, description="UserIds in retention policies that match no user in the tenant"
    )
    records: list[UserRecord] | None = Field(None, description="Per-user records (detail mode, small tenants)")
    records_file: str | None = Field(None, description="Per-user gap list streamed to disk (detail mode)")

    @model_validator(mode="after")
    def _named_once(self) -> Users:
        ids = [u.id.lower() for u in self.named]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"named: user {repeated[0]} is listed more than once")
        return self


class RoleHolder(_Model):
    """A principal holding a directory role (directly, or through a role-assignable group)."""

    principal_id: str
    principal_type: Literal["user", "group", "servicePrincipal", "unknown"]
    role_template_id: str
    role_name: str | None = None
    via_group: str | None = None
    user: UserRecord | None = Field(None, description="For user principals: the user with licences")


class PrivilegedRoles(_Later):
    source: Literal["roleAssignments", "directoryRoles", "imported"] = "roleAssignments"
    holders: list[RoleHolder] = Field(default_factory=list)
    roles_read: list[str] | Literal["all"] | None = Field(
        None,
        description="The role template ids whose holders were read ('all': every role's); absent: not recorded "
        "(older evidence, read for the collecting profile's roles)",
    )

    LATER: ClassVar[frozenset[str]] = frozenset({"roles_read"})


class RoleDefinition(_Model):
    """A directory role definition as Graph (beta) reports it, with Entra's own privileged flag."""

    id: str
    template_id: str | None = None
    display_name: str | None = None
    is_privileged: bool | None = Field(None, description="isPrivileged (Graph beta); absent: not reported")


class RoleDefinitions(_Model):
    definitions: list[RoleDefinition] = Field(default_factory=list)


# --------------------------------------------------------------------------- Exchange / Purview


class AdminAuditLogConfig(_Model):
    unified_audit_log_ingestion_enabled: bool


class OrganizationConfig(_Model):
    audit_disabled: bool


class BypassAssociation(_Model):
    identity: str
    object_type: str | None = None


class MailboxAuditBypass(_Model):
    total_associations: NonNegative
    bypassed: list[BypassAssociation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _bounded(self) -> MailboxAuditBypass:
        if len(self.bypassed) > self.total_associations:
            raise ValueError("more bypassed associations than associations in total")
        return self


class MailboxAuditConfiguration(_Model):
    """A group of user mailboxes that share exactly the same audit settings.

    Tenants have few distinct configurations, so grouping is exact and small: any required
    action set can be evaluated per group and counted once per mailbox.
    """

    audit_enabled: bool
    default_audit_set: list[LogonType] = Field(default_factory=list)
    audit_owner: list[str] = Field(default_factory=list)
    audit_delegate: list[str] = Field(default_factory=list)
    audit_admin: list[str] = Field(default_factory=list)
    count: Annotated[int, Field(ge=1)]
    sample: list[str] = Field(default_factory=list, description="A few mailbox identities of this group")
    licence: Literal["premium", "expanded", "basic"] | None = Field(
        None,
        description="The audit licence level of the group's users where known: premium (E5 level), expanded "
        "(E3/G3 level: the expanded Standard events), basic (no documented default actions); absent: "
        "inferred from the tenant's licensing where that decides it",
    )
    privileged: NonNegative | None = Field(
        None,
        description="Mailboxes of this group whose user (joined by ExternalDirectoryObjectId) holds a privileged "
        "role (the roles in MailboxAudit.privileged_roles); absent: not known (role holders not read, or a "
        "mailbox without a directory id)",
    )
    vip: NonNegative | None = Field(
        None, description="Mailboxes of this group listed in --vip (by UPN, address or object id); absent: no --vip"
    )

    @model_validator(mode="after")
    def _parts_within_count(self) -> MailboxAuditConfiguration:
        for name in ("privileged", "vip"):
            value = getattr(self, name)
            if value is not None and value > self.count:
                raise ValueError(f"{name} ({value}) exceeds the group's count ({self.count})")
        return self

    def actions(self, logon_type: str) -> list[str]:
        return {"Owner": self.audit_owner, "Delegate": self.audit_delegate, "Admin": self.audit_admin}[logon_type]


class MailboxAudit(_Model):
    total_user_mailboxes: NonNegative
    configurations: list[MailboxAuditConfiguration] = Field(default_factory=list)
    privileged_roles: list[str] | Literal["all"] | None = Field(
        None,
        description="The role template ids whose holders the configurations' privileged counts cover ('all': every "
        "role's); absent: no privileged counts",
    )

    @model_validator(mode="after")
    def _sums(self) -> MailboxAudit:
        if sum(c.count for c in self.configurations) != self.total_user_mailboxes:
            raise ValueError("configuration counts do not add up to total_user_mailboxes")
        return self


class RetentionPolicy(_Model):
    name: str
    priority: Annotated[int, Field(ge=1, le=10000)]
    retention_duration: str
    record_types: list[str] = Field(default_factory=list)
    operations: list[str] = Field(default_factory=list)
    user_ids: list[str] = Field(default_factory=list)
    enabled: bool = True
    mode: str | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _operations_need_one_record_type(self) -> RetentionPolicy:
        if self.operations and len(self.record_types) != 1:
            raise ValueError(f"policy {self.name!r}: Operations are only valid with exactly one RecordType")
        return self


class RetentionPolicies(_Model):
    policies: list[RetentionPolicy] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _unique_priorities(self) -> RetentionPolicies:
        seen: set[int] = set()
        for p in self.policies:
            if p.priority in seen:
                raise ValueError(f"two retention policies share priority {p.priority}")
            seen.add(p.priority)
        return self


# --------------------------------------------------------------------------- audit probe


class AppIdCount(_Model):
    app_id: str
    count: NonNegative


class ActorCounts(_Model):
    """Who the records name as actor, by kind (only accounts count as observed users)."""

    accounts: NonNegative = Field(0, description="Distinct UPN-shaped accounts (or ids matched to enumerated users)")
    ids: NonNegative = Field(
        0, description="Distinct GUID actors not matched to a user: apps, or users when --users detail was not used"
    )
    system_records: NonNegative = Field(0, description="Records by system actors (e.g. 'system release')")
    unknown_records: NonNegative = Field(0, description="Records whose actor is 'Not Available', __NULL__ or absent")


class OperationObservation(_Later):
    records: NonNegative
    distinct_users: NonNegative = Field(
        description="Distinct accounts in the records (shared mailboxes and service accounts included)"
    )
    in_scope_users: NonNegative | None = Field(
        None, description="Of those, in-scope users (known when users were enumerated: --users detail)"
    )
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    top_app_ids: list[AppIdCount] = Field(default_factory=list)
    distinct_app_ids: NonNegative | None = None
    actors: ActorCounts | None = Field(None, description="Actors by kind (absent in evidence from older versions)")
    workloads: dict[str, NonNegative] | None = Field(
        None,
        description="Records by their Workload (Graph's service: Exchange, SharePoint, OneDrive, "
        "AzureActiveDirectory, MicrosoftTeams …), as Microsoft classifies them; absent in older evidence",
    )

    LATER: ClassVar[frozenset[str]] = frozenset({"workloads"})


class MailClientObservation(_Model):
    """One (AppId, ClientAppId) pair seen reading mail (MailItemsAccessed) or sending it (Send)."""

    app_id: str
    client_app_id: str | None = Field(None, description="The client that called the app (absent when the same)")
    records: NonNegative
    operations: dict[str, NonNegative] = Field(default_factory=dict, description="Records per operation")
    mailboxes: NonNegative = Field(description="Distinct mailboxes (MailboxOwnerUPN, else the acting user)")
    app_only_records: NonNegative = Field(0, description="Records of access without a signed-in user")
    delegated_records: NonNegative = Field(0, description="Records of access on behalf of a signed-in user")
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    recent_records: NonNegative = Field(0, description="Records in the recent part of the window")
    privileged_mailboxes: NonNegative | None = Field(
        None, description="Distinct privileged or VIP mailboxes reached (null when those were not known)"
    )
    privileged_reached: list[str] = Field(
        default_factory=list, description="A few of those mailboxes (for the report), at most 20"
    )


class WatchedMailboxes(_Model):
    """Privileged and VIP mailboxes, and which of them MailItemsAccessed records were seen for."""

    total: NonNegative
    observed: NonNegative = Field(description="Of those, mailboxes with MailItemsAccessed records in the window")
    missing: list[str] = Field(default_factory=list, description="A few of the mailboxes without records")


class ProbeQuery(_Model):
    id: str | None = Field(None, description="The service's query id (absent when creating it failed)")
    status: str
    operations: list[str] = Field(default_factory=list)
    record_count_limit_exceeded: bool | None = None
    error: str | None = Field(None, description="Why this query gave no observations (the others still count)")
    fix: str | None = Field(None, description="What would let this query succeed")


class AuditProbe(_Later):
    window_start: datetime
    window_end: datetime
    queries: list[ProbeQuery] = Field(default_factory=list)
    total_records: NonNegative = 0
    operations: dict[str, OperationObservation] = Field(default_factory=dict)
    recent_start: datetime | None = Field(
        None, description="Start of the recent part of the window (--recent-days); before it is the baseline"
    )
    clients: list[MailClientObservation] | None = Field(
        None, description="Mail-reading clients per (AppId, ClientAppId); null when not aggregated"
    )
    distinct_clients: NonNegative | None = Field(None, description="All pairs seen (clients may list fewer)")
    watched: WatchedMailboxes | None = Field(
        None, description="Privileged and VIP mailboxes with MailItemsAccessed in the window (when known)"
    )

    LATER: ClassVar[frozenset[str]] = frozenset({"recent_start", "clients", "distinct_clients", "watched"})


# --------------------------------------------------------------------------- log export


class DiagnosticSetting(_Later):
    """One Entra diagnostic setting: which log categories it sends, and where."""

    LATER: ClassVar[frozenset[str]] = frozenset({"event_hub_name"})

    name: str
    destinations: list[str] = Field(
        default_factory=list, description="ARM resource ids when read from Azure; free text when attested"
    )
    categories: list[str] = Field(default_factory=list, description="Enabled log categories (SignInLogs, AuditLogs…)")
    retention_days: NonNegative | None = Field(
        None,
        description="Attested: how long the destination keeps the logs. Read: the setting's own (legacy, "
        "storage-only) retention policy days, when enabled",
    )
    event_hub_name: str | None = None


class ReadGap(_Model):
    """Something Azure Resource Manager did not let us read, with the role that would."""

    what: str = Field(description="What could not be read (a resource id or a list)")
    reason: str
    fix: str | None = None


class Office365Connector(_Model):
    """A Microsoft Sentinel Office 365 data connector and which unified audit log data types it forwards."""

    name: str
    exchange: bool = False
    sharepoint: bool = False
    teams: bool = False


class ExportDestination(_Model):
    """A place logs are sent to (a Log Analytics workspace, a storage account or an event hub), as read."""

    kind: Literal["log_analytics", "storage", "event_hub"]
    id: str = Field(description="ARM resource id")
    retention_days: NonNegative | None = Field(
        None,
        description="Log Analytics: the workspace's default retention; storage: the age at which a lifecycle "
        "rule deletes blobs; null when unknown or when nothing deletes them (kept_until_deleted)",
    )
    kept_until_deleted: bool = Field(False, description="Storage: no lifecycle rule deletes the logs' blobs")
    tables: dict[str, NonNegative] = Field(
        default_factory=dict, description="Log Analytics table → total retention days (interactive + archive)"
    )
    interactive_days: dict[str, NonNegative] = Field(
        default_factory=dict, description="Log Analytics table → interactive (analytics) retention days"
    )
    immutability_days: NonNegative | None = Field(None, description="Storage: the shortest container immutability")
    sentinel_office365: list[Office365Connector] | None = Field(
        None, description="Log Analytics: Sentinel's Office 365 connectors (null: not read; []: none)"
    )
    unread: list[ReadGap] = Field(default_factory=list)


class AzureExport(_Model):
    """What Azure Resource Manager answered about where logs go (read, not attested)."""

    endpoint: str | None = None
    subscriptions: list[str] = Field(default_factory=list, description="Subscriptions the credential could list")
    entra_diagnostic_settings: list[DiagnosticSetting] | None = Field(
        None, description="Entra diagnostic settings (null: could not be read, see gaps)"
    )
    destinations: list[ExportDestination] = Field(
        default_factory=list,
        description="Diagnostic-setting destinations and every other Log Analytics workspace the credential can read",
    )
    gaps: list[ReadGap] = Field(default_factory=list)


class LogExport(_Later):
    """Where logs leave Microsoft 365: read from Azure (``azure``) and/or attested (the other fields).

    A read value wins over an attested one; reports say which each figure rests on.
    """

    LATER: ClassVar[frozenset[str]] = frozenset({"attestation_file", "azure"})

    entra_diagnostic_settings: list[DiagnosticSetting] = Field(
        default_factory=list, description="Attested Entra diagnostic settings"
    )
    siem_attested: bool = False
    siem_retention_days: NonNegative | None = None
    attested_by: str | None = None
    note: str | None = None
    attestation_file: str | None = Field(None, description="The attestation the attested fields came from")
    azure: AzureExport | None = Field(None, description="What was read from Azure Resource Manager")

    @property
    def attested(self) -> bool:
        return bool(self.siem_attested or self.entra_diagnostic_settings or self.attestation_file)


# --------------------------------------------------------------------------- applications


class ServicePrincipalRef(_Model):
    """An application as the tenant or Microsoft's published list knows it."""

    app_id: str
    display_name: str | None = None
    publisher: Literal["tenant", "microsoft", "unknown"]
    source: str = Field(description="tenant (a service principal), microsoft-list, or none")
    owner_organization_id: str | None = None
    object_id: str | None = None


class MailPermission(_Model):
    """A service principal that can read mail without a user (application permissions)."""

    app_id: str | None = None
    object_id: str | None = None
    display_name: str | None = None
    permissions: list[str] = Field(
        default_factory=list, description="e.g. Graph Mail.Read, Exchange full_access_as_app"
    )
    scoped: bool | None = Field(
        None,
        description="An Exchange application access policy or RBAC for Applications scope limits it; null: unknown",
    )
    scope: str | None = Field(None, description="What limits it (policy and group), when scoped")


class Applications(_Model):
    """Who the mail-reading clients are, and who could read mail without a user."""

    resolved: list[ServicePrincipalRef] = Field(default_factory=list)
    microsoft_list: str | None = Field(None, description="The bundled first-party list used (source and date)")
    mail_permissions: list[MailPermission] | None = Field(
        None, description="Service principals with app-only mail permissions; null when not read"
    )
    mail_permissions_unavailable: str | None = Field(None, description="Why mail_permissions is null")
    scoping_unavailable: str | None = Field(None, description="Why scoped is null (Exchange not read)")
    requests: NonNegative | None = Field(None, description="Graph requests used to resolve AppIds and permissions")
    rounds: NonNegative | None = Field(None, description="Sequential round trips of those requests")


# --------------------------------------------------------------------------- document


class ExchangeEvidence(_Model):
    admin_audit_log_config: Section[AdminAuditLogConfig]
    organization_config: Section[OrganizationConfig]
    bypass: Section[MailboxAuditBypass]
    mailboxes: Section[MailboxAudit]
    retention_policies: Section[RetentionPolicies]


# One evidence section of any kind (what :meth:`Evidence.sections` lists; a new section type joins it).
AnySection = (
    Section[list[SubscribedSku]]
    | Section[Users]
    | Section[PrivilegedRoles]
    | Section[AuditProbe]
    | Section[LogExport]
    | Section[Applications]
    | Section[AdminAuditLogConfig]
    | Section[OrganizationConfig]
    | Section[MailboxAuditBypass]
    | Section[MailboxAudit]
    | Section[RetentionPolicies]
    | Section[RoleDefinitions]
)


class Meta(_Model):
    tool_version: str | None = None
    collected_at: datetime | None = None
    collector: str | None = Field(None, description="collect | import | example | sandbox")
    endpoints: dict[str, str] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    sha256: str | None = Field(None, description="SHA-256 over the canonical document without this field")


class Evidence(_Later):
    schema_id: Literal["assessor.evidence/1"] = Field("assessor.evidence/1", alias="schema")
    meta: Meta = Field(default_factory=Meta)
    tenant: Tenant
    skus: Section[list[SubscribedSku]]
    users: Section[Users]
    privileged: Section[PrivilegedRoles]
    exchange: ExchangeEvidence
    audit_probe: Section[AuditProbe]
    log_export: Section[LogExport]
    # Added after assessor.evidence/1 first shipped: absent (None) in older evidence, and then left out
    # of the document entirely, so an older file's seal still matches what is assessed.
    applications: Section[Applications] | None = Field(
        None, description="AppIds of mail clients resolved; service principals with app-only mail permissions"
    )
    vip: list[str] | None = Field(None, description="--vip FILE: UPNs or object ids of VIP mailboxes")
    role_definitions: Section[RoleDefinitions] | None = Field(
        None, description="Directory role definitions with Entra's isPrivileged flag (Graph beta)"
    )

    LATER: ClassVar[frozenset[str]] = frozenset({"applications", "vip", "role_definitions"})

    def sections(self) -> dict[str, AnySection]:
        """Every section by its dotted name (for the collection log)."""
        out: dict[str, AnySection] = {
            "skus": self.skus,
            "users": self.users,
            "privileged": self.privileged,
            "audit_probe": self.audit_probe,
            "log_export": self.log_export,
        }
        if self.applications is not None:
            out["applications"] = self.applications
        if self.role_definitions is not None:
            out["role_definitions"] = self.role_definitions
        for name in ExchangeEvidence.model_fields:
            out[f"exchange.{name}"] = getattr(self.exchange, name)
        return out

    def section(self, dotted: str) -> AnySection:
        try:
            return self.sections()[dotted]
        except KeyError:
            raise KeyError(f"no evidence section {dotted!r}") from None


# --------------------------------------------------------------------------- load / save


def _field_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in ("list[SubscribedSku]",) or (isinstance(item, str) and item.startswith(("function-", "tagged-"))):
            continue
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(document)"


def describe_validation_error(err: ValidationError) -> str:
    """One line naming the first offending field and what is wrong with it."""
    first = err.errors()[0]
    extra = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{_field_path(tuple(first['loc']))}: {first['msg']}{extra}"


def parse_evidence(raw: object, origin: str = "evidence") -> Evidence:
    """Validate an already-decoded JSON value as evidence."""
    if not isinstance(raw, dict):
        raise EvidenceError(f"{origin}: the document must be a JSON object, not {type(raw).__name__}")
    schema = raw.get("schema")
    if schema != SCHEMA_ID:
        raise EvidenceError(f"{origin}: schema: expected {SCHEMA_ID!r}, found {schema!r}")
    try:
        return Evidence.model_validate(raw)
    except ValidationError as err:
        raise EvidenceError(f"{origin}: {describe_validation_error(err)}") from None
    except (ValueError, TypeError, RecursionError) as err:  # defensive: pydantic internals on odd input
        raise EvidenceError(f"{origin}: invalid evidence ({type(err).__name__})") from None


def load_evidence(path: str | os.PathLike[str]) -> Evidence:
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as err:
        raise EvidenceError(f"{p}: cannot read evidence ({err.strerror})") from None
    if size > MAX_EVIDENCE_BYTES:
        raise EvidenceError(f"{p}: evidence file is larger than {MAX_EVIDENCE_BYTES // 2**20} MiB")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise EvidenceError(f"{p}: cannot read evidence as UTF-8 text ({type(err).__name__})") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise EvidenceError(f"{p}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})") from None
    except RecursionError:
        raise EvidenceError(f"{p}: JSON nested too deeply") from None
    return parse_evidence(raw, origin=str(p))


def evidence_to_dict(evidence: Evidence) -> dict[str, Any]:
    """The evidence document as written and sealed. Optional fields added after evidence was first
    sealed are left out while unset, so evidence sealed before they existed keeps its digest."""
    doc = evidence.model_dump(mode="json", by_alias=True)
    users = doc.get("users", {}).get("data")
    if users and users.get("counts", {}).get("in_scope_expanded", 0) is None:
        del users["counts"]["in_scope_expanded"]
    mailboxes = doc.get("exchange", {}).get("mailboxes", {}).get("data")
    for config in (mailboxes or {}).get("configurations", []):
        for key in ("licence", "privileged", "vip"):
            if config.get(key, 0) is None:
                del config[key]
    if mailboxes and mailboxes.get("privileged_roles", 0) is None:
        del mailboxes["privileged_roles"]
    return doc


def map_strings(value: object, fn: Callable[[str], str]) -> object:
    """A JSON-shaped ``value`` with ``fn`` applied to every string, mapping keys included."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [map_strings(v, fn) for v in value]
    if isinstance(value, dict):
        return {fn(k) if isinstance(k, str) else k: map_strings(v, fn) for k, v in value.items()}
    return value


def canonical_digest(document: Mapping[str, object]) -> str:
    """SHA-256 over the canonical JSON of a decoded JSON document, ignoring meta.sha256 itself."""
    doc = dict(document)
    meta = doc.get("meta")
    if isinstance(meta, dict):  # a copy without the seal (the caller's document is left as it is)
        doc["meta"] = {k: v for k, v in meta.items() if k != "sha256"}
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def seal(evidence: Evidence) -> Evidence:
    """Return the evidence with meta.sha256 set over its canonical content."""
    return sealed_document(evidence)[0]


@dataclass(frozen=True, eq=False)
class SealedDocument:
    """What sealing evidence in this process made: the document as written, the digest computed over
    it, and an exact fingerprint of the sealed evidence (its JSON text: types, -0.0 and key order
    included). Made only by :func:`sealed_document`; :func:`integrity` takes it as proof of nothing
    more than "this exact content had this digest"."""

    document: dict[str, Any]
    digest: str
    fingerprint: str


def sealed_document(evidence: Evidence) -> tuple[Evidence, SealedDocument]:
    """The sealed evidence and what sealing it made (its document as written — ``evidence_to_dict``
    of it — from one dump)."""
    doc = evidence_to_dict(evidence)
    digest = canonical_digest(doc)
    doc["meta"] = {**doc["meta"], "sha256": digest}  # the key exists (None until sealed): its place is kept
    sealed = evidence.model_copy(update={"meta": evidence.meta.model_copy(update={"sha256": digest})})
    return sealed, SealedDocument(doc, digest, sealed.model_dump_json(by_alias=True))


def integrity(
    evidence: Evidence, sealed: SealedDocument | None = None
) -> tuple[str, Literal["intact", "altered", "unsealed"]]:
    """The digest of the evidence's content, and whether it matches the seal it carries.

    ``sealed``: what :func:`sealed_document` made in this process. The evidence is serialised
    either way; when its JSON text is exactly the sealed evidence's and it records the digest
    sealing computed, that digest is the digest of this content and the canonical JSON is not
    encoded again. Anything else (no proof, another seal, any difference) is digested afresh."""
    recorded = evidence.meta.sha256
    if (
        sealed is not None
        and recorded
        and recorded == sealed.digest
        and evidence.model_dump_json(by_alias=True) == sealed.fingerprint
    ):
        return recorded, "intact"
    actual = canonical_digest(evidence_to_dict(evidence))
    return actual, "unsealed" if not recorded else ("intact" if recorded == actual else "altered")


def verify_seal(raw: dict[str, Any]) -> tuple[bool, str]:
    """Whether a decoded evidence document still matches its recorded digest (``raw``: decoded JSON)."""
    recorded = (raw.get("meta") or {}).get("sha256")
    if not recorded:
        return False, "no sha256 recorded in meta"
    actual = canonical_digest(raw)
    if actual != recorded:
        return False, f"content altered after collection (recorded {recorded[:12]}…, now {actual[:12]}…)"
    return True, f"intact (sha256 {recorded})"


def save_evidence(evidence: Evidence, path: str | os.PathLike[str]) -> None:
    write_json_atomic(path, sealed_document(evidence)[1].document)


def evidence_json_schema() -> dict[str, Any]:
    return Evidence.model_json_schema(by_alias=True)
