"""Sandbox tenant specs: compact generator YAML → a deterministic, lazily generated tenant.

A spec never lists users one by one. It lists *segments* (a count of identical users: same
licences, enabled flag and user type); user ``i`` of the tenant is generated on demand from its
segment, so a 1,000,000-user tenant costs a few hundred bytes on disk and nothing in memory until
a page of users is asked for. Everything is deterministic: the same spec always yields the same
ids, names and licences.

Public API (used by the Graph emulator and, later, by the Exchange emulator):

- :func:`list_tenants` — names of the bundled specs (``assessor/sandbox/tenants/*.yaml``).
- :func:`load_tenant` — a :class:`SandboxTenant` by bundled name or YAML path, optionally rescaled
  to another user count (``users=1_000_000``).
- :meth:`SandboxTenant.iter_users` / :meth:`SandboxTenant.user` / :meth:`SandboxTenant.user_by_id`
  — users as Graph-shaped dicts (``id``, ``userPrincipalName``, ``displayName``,
  ``accountEnabled``, ``userType``, ``assignedLicenses``, ``assignedPlans``). The nested lists are
  shared between users of a segment: treat them as read-only.
- :attr:`SandboxTenant.extensions` — the reserved top-level keys (``exchange:``, ``audit_log:``)
  passed through untouched for the emulators other engineers own.

Spec format (see ``tenants/contoso.yaml`` for a commented example)::

    id: <tenant GUID>
    name: contoso
    display_name: Contoso Ltd
    cloud: global | gcc | gcc-high | dod | china
    domains: [contoso.onmicrosoft.com, contoso.com]
    default_domain: contoso.com
    skus:      [{part: SPE_E5, units: 60, status: Enabled, warning_units: 0, suspended_units: 0}]
    users:     [{name: e5, count: 40, enabled: true, type: Member,
                 licenses: [{sku: SPE_E5, disabled_plans: [M365_ADVANCED_AUDITING]}]}]
    groups:    [{name: Tier0 Admins, members: ["admins[0]", "admins[1]"]}]
    service_principals: [{name: backup-automation}]
    roles:     [{role: Global Administrator, users: ["admins[0]"], groups: [Tier0 Admins],
                 service_principals: [backup-automation]}]
    faults:    {latency_ms: 0, slow_paths: {/$batch: 500}, throttle: {first: 2, retry_after: 1}, errors: [...]}
    exchange:  {...}   # reserved for the Exchange emulator
    audit_log: {...}   # reserved for the audit-search emulator

User references (``"admins[3]"``) name a segment and the index inside it.

Plan states: a user's ``assignedPlans`` entry is ``Enabled`` when its SKU is Enabled or Warning
(a subscription in its grace period still works) and the plan is not in the assignment's
``disabledPlans``; ``Deleted`` when the plan is disabled; ``Suspended``/``LockedOut`` after the
SKU. The collectors' detail mode applies the same rule from ``assignedLicenses`` + ``subscribedSkus``.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Literal, TypedDict

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assessor.errors import UsageError
from assessor.evidence import GUID
from assessor.jsontypes import Json
from assessor.knowledge import SkuEntry, load_knowledge
from assessor.yamlsafe import safe_load_bounded

RESERVED_KEYS = ("exchange", "audit_log", "azure")
SkuStatus = Literal["Enabled", "Warning", "Suspended", "Deleted", "LockedOut"]
CloudName = Literal["global", "gcc", "gcc-high", "dod", "china"]
_REF = re.compile(r"^(?P<segment>[^\[\]]+)\[(?P<index>\d+)\]$")
ASSIGNED_AT = "2024-01-15T09:00:00Z"


class SpecError(UsageError):
    """A sandbox tenant spec is unknown or malformed."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SkuSpec(_Spec):
    part: str
    units: int = Field(ge=0)
    status: SkuStatus = "Enabled"
    warning_units: int = Field(0, ge=0)
    suspended_units: int = Field(0, ge=0)


class LicenseSpec(_Spec):
    sku: str
    disabled_plans: list[str] = Field(default_factory=list)


class SegmentSpec(_Spec):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    count: int = Field(ge=0)
    enabled: bool = True
    type: Literal["Member", "Guest"] = "Member"
    licenses: list[LicenseSpec] = Field(default_factory=list)


class GroupSpec(_Spec):
    name: str
    members: list[str] = Field(default_factory=list)


class ServicePrincipalSpec(_Spec):
    name: str
    app_id: str | None = None
    mail_permissions: list[str] = Field(
        default_factory=list, description="Mail app roles granted (Mail.Read, Mail.ReadWrite, full_access_as_app…)"
    )


class RoleSpec(_Spec):
    role: str = Field(description="Role display name (from the knowledge base) or template id")
    template_id: str | None = None
    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    service_principals: list[str] = Field(default_factory=list)


class ThrottleSpec(_Spec):
    """429 injection: the first ``first`` operations and/or every ``every``-th operation."""

    first: int = Field(0, ge=0)
    every: int = Field(0, ge=0)
    retry_after: int = Field(1, ge=0)
    paths: list[str] = Field(default_factory=list, description="Only operations whose path starts so")


class ErrorSpec(_Spec):
    """A forced error on operations whose Graph path (after /v1.0) starts with ``path``."""

    path: str
    status: int = Field(ge=400, le=599)
    code: str = "Authorization_RequestDenied"
    message: str = "Insufficient privileges to complete the operation."
    times: int | None = Field(None, ge=1, description="Fail only the first N matching operations")
    method: str | None = None


class FaultSpec(_Spec):
    latency_ms: int = Field(0, ge=0)
    slow_paths: dict[str, int] = Field(default_factory=dict, description="Path prefix → extra latency (ms)")
    throttle: ThrottleSpec | None = None
    errors: list[ErrorSpec] = Field(default_factory=list)


class TenantSpec(_Spec):
    id: str
    name: str
    display_name: str
    cloud: CloudName = "global"
    domains: list[str] = Field(min_length=1)
    default_domain: str
    skus: list[SkuSpec] = Field(default_factory=list)
    users: list[SegmentSpec] = Field(default_factory=list)
    groups: list[GroupSpec] = Field(default_factory=list)
    service_principals: list[ServicePrincipalSpec] = Field(default_factory=list)
    roles: list[RoleSpec] = Field(default_factory=list)
    faults: FaultSpec = Field(default_factory=FaultSpec)
    # the reserved keys' decoded YAML, validated by the emulator that owns each key
    extensions: dict[str, object] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _guid(cls, value: str) -> str:
        if not GUID.match(value):
            raise ValueError("tenant id must be a GUID")
        return value.lower()


# --------------------------------------------------------------------------- loading


def list_tenants() -> list[str]:
    """Names of the bundled tenant specs."""
    folder = resources.files("assessor.sandbox").joinpath("tenants")
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _read_spec_text(name_or_path: str | Path) -> tuple[str, str]:
    text_name = str(name_or_path)
    if text_name.endswith((".yaml", ".yml")) or "/" in text_name:
        path = Path(text_name)
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except OSError as err:
            raise SpecError(f"{path}: cannot read tenant spec ({err.strerror})") from None
    if text_name not in list_tenants():
        raise SpecError(f"unknown sandbox tenant {text_name!r}; bundled: {', '.join(list_tenants())}")
    resource = resources.files("assessor.sandbox").joinpath("tenants").joinpath(f"{text_name}.yaml")
    return resource.read_text(encoding="utf-8"), f"sandbox tenant {text_name}"


def parse_spec(raw: object, origin: str = "tenant spec") -> TenantSpec:
    """Validate a decoded YAML document; reserved keys go to ``extensions`` untouched."""
    if not isinstance(raw, dict):
        raise SpecError(f"{origin}: a tenant spec must be a mapping")
    body = dict(raw)
    extensions = {key: body.pop(key) for key in RESERVED_KEYS if key in body}
    try:
        return TenantSpec.model_validate({**body, "extensions": extensions})
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SpecError(f"{origin}: {where}: {first['msg']}") from None


def load_spec(name_or_path: str | Path) -> TenantSpec:
    text, origin = _read_spec_text(name_or_path)
    try:
        raw = safe_load_bounded(text)
    except yaml.YAMLError as err:
        raise SpecError(f"{origin}: invalid YAML ({err})") from None
    return parse_spec(raw, origin)


def load_tenant(name_or_path: str | Path, users: int | None = None) -> SandboxTenant:
    """Load a bundled tenant (by name) or a spec file, optionally rescaled to ``users`` users."""
    spec = load_spec(name_or_path)
    if users is not None:
        spec = rescale(spec, users)
    return SandboxTenant(spec)


def rescale(spec: TenantSpec, total: int) -> TenantSpec:
    """The same tenant with ``total`` users: segments scaled proportionally (referenced users kept)."""
    current = sum(s.count for s in spec.users)
    if current == 0 or total < 1:
        raise SpecError("cannot rescale a tenant without users, or to fewer than one user")
    minimum = _referenced_minimums(spec)
    factor = total / current
    counts = [max(minimum.get(s.name, 0), round(s.count * factor)) for s in spec.users]
    largest = max(range(len(counts)), key=lambda i: counts[i])
    counts[largest] += total - sum(counts)
    if counts[largest] < minimum.get(spec.users[largest].name, 0):
        raise SpecError(f"cannot rescale {spec.name} to {total} users: too few for its role holders")
    segments = [s.model_copy(update={"count": c}) for s, c in zip(spec.users, counts, strict=False)]
    skus = [k.model_copy(update={"units": round(k.units * factor)}) for k in spec.skus]
    return spec.model_copy(update={"users": segments, "skus": skus})


def _referenced_minimums(spec: TenantSpec) -> dict[str, int]:
    refs = [r for g in spec.groups for r in g.members] + [r for role in spec.roles for r in role.users]
    out: dict[str, int] = {}
    for ref in refs:
        m = _REF.match(ref)
        if m:
            out[m["segment"]] = max(out.get(m["segment"], 0), int(m["index"]) + 1)
    return out


# --------------------------------------------------------------------------- generated tenant


class AssignedLicense(TypedDict):
    """An entry of a user's ``assignedLicenses`` (Graph ``assignedLicense``)."""

    disabledPlans: list[str]  # service plan ids, lower case
    skuId: str


class AssignedPlan(TypedDict):
    """An entry of a user's ``assignedPlans`` (Graph ``assignedPlan``)."""

    assignedDateTime: str
    capabilityStatus: str  # Enabled, Warning, Suspended, Deleted, LockedOut
    service: str
    servicePlanId: str


class GraphUser(TypedDict):
    """A generated user with every property the emulator knows (Graph ``user``). The nested lists
    are shared between the users of a segment: read-only."""

    id: str
    userPrincipalName: str
    displayName: str
    givenName: str
    surname: str
    mail: str | None
    jobTitle: str | None
    mobilePhone: str | None
    officeLocation: str | None
    preferredLanguage: str | None
    businessPhones: list[str]
    accountEnabled: bool
    userType: str  # Member or Guest
    assignedLicenses: list[AssignedLicense]
    assignedPlans: list[AssignedPlan]


class PrepaidUnits(TypedDict):
    enabled: int
    suspended: int
    warning: int
    lockedOut: int


class ServicePlanInfo(TypedDict):
    servicePlanId: str
    servicePlanName: str
    provisioningStatus: str
    appliesTo: str


class SubscribedSku(TypedDict):
    """A tenant's subscription to an SKU (Graph ``subscribedSku``)."""

    accountId: str
    accountName: str
    appliesTo: str
    capabilityStatus: str
    consumedUnits: int
    id: str
    prepaidUnits: PrepaidUnits
    servicePlans: list[ServicePlanInfo]
    skuId: str
    skuPartNumber: str
    subscriptionIds: list[str]


class DirectoryRole(TypedDict):
    """An activated directory role (Graph ``directoryRole``)."""

    id: str
    displayName: str
    description: str | None
    roleTemplateId: str


@dataclass(frozen=True)
class Segment:
    """A run of identical users: tenant indices [start, start + count)."""

    spec: SegmentSpec
    start: int
    assigned_licenses: list[AssignedLicense]
    assigned_plans: list[AssignedPlan]

    @property
    def stop(self) -> int:
        return self.start + self.spec.count


@dataclass(frozen=True)
class Principal:
    """A group or service principal of the sandbox tenant."""

    id: str
    kind: Literal["group", "servicePrincipal"]
    display_name: str
    member_ids: tuple[str, ...] = ()
    app_id: str | None = None
    mail_permissions: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoleAssignment:
    id: str
    role_template_id: str
    role_name: str
    principal_id: str


class SandboxTenant:
    """A tenant generated from a spec. Users are produced lazily and deterministically."""

    def __init__(self, spec: TenantSpec) -> None:
        self.spec = spec
        self.id = spec.id
        self.name = spec.name
        self._prefix = spec.id.split("-")[0]
        self._skus = self._resolve_skus()
        self.segments = self._build_segments()
        self._starts = [s.start for s in self.segments]
        self.user_count = sum(s.spec.count for s in self.segments)
        self.principals = self._build_principals()
        self.role_assignments = self._build_role_assignments()

    def __repr__(self) -> str:
        return f"SandboxTenant(name={self.name!r}, id={self.id!r}, users={self.user_count})"

    @property
    def extensions(self) -> dict[str, object]:
        return self.spec.extensions

    @property
    def cloud(self) -> str:
        return self.spec.cloud

    # ---- ids

    def _object_id(self, kind: int, index: int) -> str:
        return f"{self._prefix}-{kind:04x}-4000-8000-{index:012x}"

    def user_id(self, index: int) -> str:
        return self._object_id(0, index)

    def index_of(self, object_id: str) -> int | None:
        """The user index of a user id of this tenant, or None."""
        parts = object_id.lower().split("-")
        if len(parts) != 5 or parts[0] != self._prefix or parts[1] != "0000":
            return None
        try:
            index = int(parts[4], 16)
        except ValueError:
            return None
        return index if 0 <= index < self.user_count else None

    # ---- SKUs

    def _resolve_skus(self) -> dict[str, tuple[SkuSpec, SkuEntry]]:
        kb = load_knowledge()
        out: dict[str, tuple[SkuSpec, SkuEntry]] = {}
        for sku in self.spec.skus:
            entry = kb.sku_by_part_number(sku.part)
            if entry is None:
                raise SpecError(f"{self.spec.name}: unknown SKU part number {sku.part!r}")
            out[sku.part] = (sku, entry)
        return out

    def _plan_id(self, entry: SkuEntry, plan: str) -> str:
        for p in entry.service_plans:
            if plan.lower() in (p["id"].lower(), p["name"].lower()):
                return p["id"].lower()
        raise SpecError(f"{self.spec.name}: SKU {entry.sku_part_number} has no service plan {plan!r}")

    def _licence(self, lic: LicenseSpec) -> tuple[AssignedLicense, list[AssignedPlan]]:
        if lic.sku not in self._skus:
            raise SpecError(f"{self.spec.name}: users assigned SKU {lic.sku!r} the tenant does not hold")
        sku, entry = self._skus[lic.sku]
        disabled = [self._plan_id(entry, p) for p in lic.disabled_plans]
        assigned: AssignedLicense = {"disabledPlans": disabled, "skuId": entry.sku_id}
        plans: list[AssignedPlan] = [
            {
                "assignedDateTime": ASSIGNED_AT,
                "capabilityStatus": _plan_state(sku.status, p["id"] in disabled),
                "service": _service_of(p["name"]),
                "servicePlanId": p["id"],
            }
            for p in entry.service_plans
        ]
        return assigned, plans

    def _build_segments(self) -> list[Segment]:
        segments: list[Segment] = []
        start = 0
        names: set[str] = set()
        for seg in self.spec.users:
            if seg.name in names:
                raise SpecError(f"{self.spec.name}: duplicate user segment {seg.name!r}")
            names.add(seg.name)
            licences = [self._licence(lic) for lic in seg.licenses]
            segments.append(Segment(seg, start, [a for a, _ in licences], [p for _, ps in licences for p in ps]))
            start += seg.count
        return segments

    def consumed_units(self, part: str) -> int:
        return sum(s.spec.count for s in self.segments if any(lic.sku == part for lic in s.spec.licenses))

    def subscribed_skus(self) -> list[SubscribedSku]:
        """The tenant's subscribedSkus, Graph-shaped."""
        out: list[SubscribedSku] = []
        for part, (sku, entry) in self._skus.items():
            out.append(
                {
                    "accountId": self.id,
                    "accountName": self.name,
                    "appliesTo": "User",
                    "capabilityStatus": sku.status,
                    "consumedUnits": self.consumed_units(part),
                    "id": f"{self.id}_{entry.sku_id}",
                    "prepaidUnits": {
                        "enabled": sku.units,
                        "suspended": sku.suspended_units,
                        "warning": sku.warning_units,
                        "lockedOut": 0,
                    },
                    "servicePlans": [
                        {
                            "servicePlanId": p["id"],
                            "servicePlanName": p["name"],
                            "provisioningStatus": "Success",
                            "appliesTo": "User",
                        }
                        for p in entry.service_plans
                    ],
                    "skuId": entry.sku_id,
                    "skuPartNumber": entry.sku_part_number,
                    "subscriptionIds": [str(uuid.UUID(hashlib.sha256(f"{self.id}/{part}".encode()).hexdigest()[:32]))],
                }
            )
        return out

    # ---- users

    def segment_of(self, index: int) -> Segment:
        if not 0 <= index < self.user_count:
            raise IndexError(index)
        return self.segments[bisect.bisect_right(self._starts, index) - 1]

    def user(self, index: int) -> GraphUser:
        """User ``index`` as a Graph-shaped dict (all properties the emulator knows)."""
        seg = self.segment_of(index)
        local = index - seg.start
        upn_local = f"{seg.spec.name}.{local:06d}"
        if seg.spec.type == "Guest":
            upn = f"{upn_local}_partner.example#EXT#@{self.spec.domains[0]}"
        else:
            upn = f"{upn_local}@{self.spec.default_domain}"
        title = seg.spec.name.replace("-", " ").replace("_", " ").title()
        return {
            "id": self.user_id(index),
            "userPrincipalName": upn,
            "displayName": f"{title} {local}",
            "givenName": title,
            "surname": f"{local:06d}",
            "mail": upn if seg.spec.type == "Member" else None,
            "jobTitle": None,
            "mobilePhone": None,
            "officeLocation": None,
            "preferredLanguage": None,
            "businessPhones": [],
            "accountEnabled": seg.spec.enabled,
            "userType": seg.spec.type,
            "assignedLicenses": seg.assigned_licenses,
            "assignedPlans": seg.assigned_plans,
        }

    def iter_users(self, start: int = 0, stop: int | None = None) -> Iterator[GraphUser]:
        end = self.user_count if stop is None else min(stop, self.user_count)
        for index in range(start, end):
            yield self.user(index)

    def user_by_id(self, object_id: str) -> GraphUser | None:
        """A user by object id or userPrincipalName."""
        index = self.index_of(object_id)
        if index is not None:
            return self.user(index)
        if "@" in object_id:
            return self._user_by_upn(object_id)
        return None

    def _user_by_upn(self, upn: str) -> GraphUser | None:
        local = upn.split("@", 1)[0].split("_partner.example#EXT#", 1)[0]
        name, _, number = local.rpartition(".")
        for seg in self.segments:
            if seg.spec.name.lower() == name.lower() and number.isdigit() and int(number) < seg.spec.count:
                candidate = self.user(seg.start + int(number))
                return candidate if candidate["userPrincipalName"].lower() == upn.lower() else None
        return None

    def resolve_ref(self, ref: str) -> str:
        """A user reference ``segment[i]`` → the user's id."""
        m = _REF.match(ref)
        if not m:
            raise SpecError(f"{self.spec.name}: user reference {ref!r} is not of the form segment[index]")
        for seg in self.segments:
            if seg.spec.name == m["segment"]:
                if int(m["index"]) >= seg.spec.count:
                    raise SpecError(f"{self.spec.name}: {ref!r} is beyond segment {seg.spec.name!r}")
                return self.user_id(seg.start + int(m["index"]))
        raise SpecError(f"{self.spec.name}: {ref!r} names no user segment")

    # ---- groups, service principals, roles

    def _build_principals(self) -> dict[str, Principal]:
        out: dict[str, Principal] = {}
        for i, group in enumerate(self.spec.groups):
            gid = self._object_id(1, i)
            out[gid] = Principal(gid, "group", group.name, tuple(self.resolve_ref(r) for r in group.members))
        for i, sp in enumerate(self.spec.service_principals):
            sid = self._object_id(2, i)
            app_id = sp.app_id or str(uuid.UUID(hashlib.sha256(f"{self.id}/{sp.name}".encode()).hexdigest()[:32]))
            out[sid] = Principal(
                sid, "servicePrincipal", sp.name, app_id=app_id, mail_permissions=tuple(sp.mail_permissions)
            )
        return out

    def _principal_named(self, kind: str, name: str) -> str:
        for p in self.principals.values():
            if p.kind == kind and p.display_name == name:
                return p.id
        raise SpecError(f"{self.spec.name}: no {kind} named {name!r}")

    def _role_template(self, role: RoleSpec) -> tuple[str, str]:
        if role.template_id:
            return role.template_id.lower(), role.role
        if GUID.match(role.role):
            return role.role.lower(), role.role
        for known in load_knowledge().default_privileged_roles():
            if known.name.lower() == role.role.lower():
                return known.template_id, known.name
        extra = EXTRA_ROLE_TEMPLATES.get(role.role.lower())
        if extra:
            return extra, role.role
        raise SpecError(f"{self.spec.name}: unknown role {role.role!r}; give template_id")

    def _build_role_assignments(self) -> list[RoleAssignment]:
        out: list[RoleAssignment] = []
        for role in self.spec.roles:
            template, name = self._role_template(role)
            principal_ids = (
                [self.resolve_ref(u) for u in role.users]
                + [self._principal_named("group", g) for g in role.groups]
                + [self._principal_named("servicePrincipal", s) for s in role.service_principals]
            )
            for pid in principal_ids:
                out.append(RoleAssignment(self._object_id(3, len(out)), template, name, pid))
        return out

    @cached_property
    def directory_roles(self) -> list[DirectoryRole]:
        """Activated directory roles (those with at least one assignment), Graph-shaped."""
        seen: dict[str, str] = {}
        for a in self.role_assignments:
            seen.setdefault(a.role_template_id, a.role_name)
        return [
            {"id": self._object_id(4, i), "displayName": name, "description": None, "roleTemplateId": tid}
            for i, (tid, name) in enumerate(seen.items())
        ]

    def directory_object(self, object_id: str) -> dict[str, object] | None:
        """Any directory object (user, group, service principal) with its ``@odata.type``."""
        user = self.user_by_id(object_id)
        if user is not None:
            return {"@odata.type": "#microsoft.graph.user", **user}
        p = self.principals.get(object_id.lower())
        if p is None:
            return None
        if p.kind == "group":
            return {
                "@odata.type": "#microsoft.graph.group",
                "id": p.id,
                "displayName": p.display_name,
                "securityEnabled": True,
                "mailEnabled": False,
                "isAssignableToRole": True,
            }
        return {
            "@odata.type": "#microsoft.graph.servicePrincipal",
            "id": p.id,
            "displayName": p.display_name,
            "appId": p.app_id,
            "servicePrincipalType": "Application",
        }

    def organization(self) -> dict[str, Json]:
        return {
            "id": self.id,
            "displayName": self.spec.display_name,
            "tenantType": "AAD",
            "countryLetterCode": "US",
            "createdDateTime": "2019-03-01T10:00:00Z",
            "verifiedDomains": [
                {
                    "name": d,
                    "isDefault": d == self.spec.default_domain,
                    "isInitial": d.endswith(".onmicrosoft.com")
                    or d.endswith(".onmicrosoft.us")
                    or d.endswith(".partner.onmschina.cn"),
                    "type": "Managed",
                    "capabilities": "Email, OfficeCommunicationsOnline",
                }
                for d in self.spec.domains
            ],
        }


EXTRA_ROLE_TEMPLATES = {
    "global reader": "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
    "user administrator": "fe930be7-5e62-47db-91af-98c3a49a38b1",
    "security reader": "5d6b6bb7-de71-4623-b4af-96380a352509",
}


def _plan_state(sku_status: str, disabled: bool) -> str:
    if disabled:
        return "Deleted"
    return sku_status  # a subscription in its grace period shows Warning on the user's plans too


def _service_of(plan_name: str) -> str:
    upper = plan_name.upper()
    if upper.startswith("EXCHANGE"):
        return "exchange"
    if "AUDIT" in upper:
        return "M365AuditPlatform" if "PLATFORM" in upper else "exchange"
    if upper.startswith("AAD"):
        return "AADPremiumService"
    return "MicrosoftOffice"
