"""Exchange Online admin API emulator (and its Security & Compliance twin) for sandbox tenants.

Served by the sandbox server under two API roots (:class:`ExchangeApi`, :class:`ComplianceApi`):

- ``adminapi`` → ``POST /{tenant}/adminapi/beta/{tenant}/InvokeCommand`` (Exchange). A tenant's
  ``--exchange-endpoint`` is ``http://127.0.0.1:PORT/{tenant-id}/adminapi/beta``.
- ``compliance`` → the front door, like ps.compliance.protection.outlook.com (cisagov/ScubaGear
  ``EXORestHelper.psm1``, KelvinTegelaar/CIPP-API ``New-ExoRequest.ps1``): ``GET
  /adminapi/v1.0/{tenant}/EXOModuleFile`` and ``POST /adminapi/beta/{tenant}/InvokeCommand``
  answer ``302`` to ``https://nam12b.admin.protection.outlook.com:446/…`` (``office365.us`` for
  the US government clouds), a host that does not serve the REST API. The REST API's regional
  host ``nam12b.ps.compliance.protection.outlook.com`` is stood in for on 127.0.0.1 by
  ``/{tenant}/compliance/region/nam12b/adminapi/beta/…``. A tenant's ``--compliance-endpoint``
  is ``http://127.0.0.1:PORT/{tenant-id}/compliance/adminapi/beta``.

``POST /beta/{tenant}/$batch`` (Exchange only) takes up to 10 InvokeCommand requests in the shape
KelvinTegelaar/CIPP-API ``New-ExoBulkRequest.ps1`` sends (``requests[]`` of ``id``, ``method``,
``url`` — the whole InvokeCommand URL —, ``body``, ``headers``) and answers ``{"responses": [{"id",
"status", "headers", "body"}]}``; each item is one operation, with the tenant's fault rules and
chaos drawn for it as for a single call, a non-JSON body (the NUL-filled 403) base64-encoded.

Answers use the real envelope ``{"@odata.context": "…/$metadata#Collection(Exchange.GenericHashTable)",
"value": [...], "@odata.nextLink": "…"}``, honour ``$select`` and ``Prefer: odata.maxpagesize``,
page with a ``$skiptoken`` link (the client POSTs the same body to it), cap ``Get-Mailbox`` at
``ResultSize`` (1000 unless ``Unlimited``, with an ``@adminapi.warnings`` note), and send errors
in Exchange's shape ``{"error": {"code", "message", "details": [{"code", "target", "message"}],
"innererror": {…, "internalexception": {"message"}}}}``.

Like the real service (rknightion/graph2otel ``internal/exoclient``, CIPP-API ``New-ExoRequest``):

- a ``$skiptoken`` is bound to the backend the first page was served from, chosen by the
  ``X-AnchorMailbox`` header: a replay with another anchor, or none, answers
  400 "Expired or Invalid pagination request. Default Expiry time is 00:30:00".
  ``paging: broken`` makes every replay fail (what graph2otel measured with its anchor);
  ``unpaged_page`` caps an answer requested without ``Prefer`` (default: every row);
- a 403 (``deny: 403``, or a cmdlet the app may not run) has a body of 4096 NUL bytes, not JSON;
- a fault with ``status: 200`` answers 200 with the ``error`` object in the body.

Mailboxes derive from the tenant's users: every in-scope user (enabled member with an enabled
Exchange Online plan) has a ``UserMailbox``; ``shared_mailboxes`` adds SharedMailbox recipients.
The spec's reserved ``exchange:`` key::

    exchange:
      ingestion_enabled: true            # Get-AdminAuditLogConfig UnifiedAuditLogIngestionEnabled
      audit_disabled: false              # Get-OrganizationConfig AuditDisabled
      bypass: [svc-backup@contoso.com]   # extra accounts whose AuditBypassEnabled is True
      bypass_users: ["e3-staff[4]"]      # mailbox users whose association is bypassed
      shared_mailboxes: 3
      customised:                        # the first `count` mailboxes of a segment (after earlier groups)
        - {segment: e3-staff, count: 12, audit_owner: [Update, HardDelete]}   # Owner leaves DefaultAuditSet
      retention_policies:
        - {name: Exchange 7 days, priority: 1, retention_duration: SevenDays, record_types: [ExchangeItem]}
      deny: 403                          # every Exchange call answers this (401 or 403)
      compliance_deny: null              # same for the compliance endpoint
      compliance_redirect: true
      paging: affinity                   # or broken: every nextLink replay fails
      unpaged_page: null                 # rows in an answer without Prefer: odata.maxpagesize
      faults:                            # per cmdlet, like the Graph faults; page: any|first|next
        - {cmdlet: Get-Mailbox, status: 429, times: 1, retry_after: 0}
        - {cmdlet: Get-Mailbox, status: 400, page: next, times: 1}   # a failed next page

``deny``, ``compliance_deny`` and ``faults`` become the server's fault rules
(:func:`spec_faults`, :mod:`assessor.sandbox.faults`), checked once the cmdlet is read.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypedDict
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assessor.jsontypes import Json, JsonObject, JsonValue
from assessor.knowledge import load_knowledge
from assessor.sandbox.api import Operation, serve_operation
from assessor.sandbox.faults import Fault
from assessor.sandbox.graph import QueryError, parse_query
from assessor.sandbox.http import Headers, SandboxRequest, SandboxResponse, path_after_root
from assessor.sandbox.spec import SandboxTenant, Segment, SpecError

LOGON_TYPES = ("Owner", "Delegate", "Admin")
DEFAULT_RESULT_SIZE = 1000
MAX_PAGE = 1000
REGION = "nam12b"
PAGINATION_EXPIRED = "Expired or Invalid pagination request. Default Expiry time is 00:30:00"
NUL_BODY = bytes(4096)
MAX_BATCH = 10  # CIPP-API New-ExoBulkRequest.ps1 sends at most 10 cmdlets per $batch
CONTEXT = "$metadata#Collection(Exchange.GenericHashTable)"


# --------------------------------------------------------------------------- spec


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CustomisedGroupSpec(_Spec):
    segment: str
    count: int = Field(ge=1)
    name: str | None = None
    audit_enabled: bool = True
    audit_owner: list[str] | None = Field(None, description="Customises Owner (leaves DefaultAuditSet)")
    audit_delegate: list[str] | None = None
    audit_admin: list[str] | None = None

    def customised(self, logon_type: str) -> list[str] | None:
        return {"Owner": self.audit_owner, "Delegate": self.audit_delegate, "Admin": self.audit_admin}[logon_type]


class RetentionPolicySpec(_Spec):
    name: str
    priority: int = Field(ge=1, le=10000)
    retention_duration: str
    record_types: list[str] = Field(default_factory=list)
    operations: list[str] = Field(default_factory=list)
    user_ids: list[str] = Field(default_factory=list)
    enabled: bool = True
    mode: str = "Enforce"
    description: str | None = None


class ExchangeFaultSpec(_Spec):
    cmdlet: str = Field("*", description="Cmdlet name, or * for every cmdlet")
    status: int = Field(ge=200, le=599, description="200: the error object in a 200 answer")
    api: Literal["exchange", "compliance", "any"] = "any"
    times: int | None = Field(None, ge=1)
    retry_after: int | None = Field(None, ge=0)
    code: str | None = None
    message: str | None = None
    page: Literal["any", "first", "next"] = "any"


class AccessPolicySpec(_Spec):
    """An application access policy: the app (a service principal name or an AppId) and its scope group."""

    app: str
    access_right: Literal["RestrictAccess", "DenyAccess"] = "RestrictAccess"
    scope: str = "mail-readers@contoso.com"


class AppRoleAssignmentSpec(_Spec):
    """An RBAC for Applications grant: the app, the role and the management scope (None: organisation)."""

    app: str
    role: str = "Application Mail.Read"
    scope: str | None = None


class ExchangeSpec(_Spec):
    ingestion_enabled: bool = True
    audit_disabled: bool = False
    bypass: list[str] = Field(default_factory=list)
    bypass_users: list[str] = Field(default_factory=list)
    shared_mailboxes: int = Field(0, ge=0)
    customised: list[CustomisedGroupSpec] = Field(default_factory=list)
    retention_policies: list[RetentionPolicySpec] = Field(default_factory=list)
    application_access_policies: list[AccessPolicySpec] = Field(default_factory=list)
    app_role_assignments: list[AppRoleAssignmentSpec] = Field(default_factory=list)
    deny: Literal[401, 403] | None = None
    compliance_deny: Literal[401, 403] | None = None
    compliance_redirect: bool = True
    paging: Literal["affinity", "broken"] = "affinity"
    unpaged_page: int | None = Field(None, ge=1)
    faults: list[ExchangeFaultSpec] = Field(default_factory=list)


def exchange_spec(tenant: SandboxTenant) -> ExchangeSpec:
    raw = tenant.extensions.get("exchange") or {}
    try:
        return ExchangeSpec.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SpecError(f"{tenant.name}: exchange.{where}: {first['msg']}") from None


# --------------------------------------------------------------------------- generated Exchange org


@dataclass(frozen=True)
class _Range:
    """Mailboxes [start, start+count) are the users [user_start, user_start+count) of a segment."""

    start: int
    count: int
    user_start: int
    segment: Segment


@dataclass(frozen=True)
class _Custom:
    local_start: int
    local_stop: int
    group: CustomisedGroupSpec


class ExchangeOrg:
    """The Exchange view of a sandbox tenant: mailboxes, bypass associations, policies."""

    def __init__(self, tenant: SandboxTenant) -> None:
        self.tenant = tenant
        self.spec = exchange_spec(tenant)
        kb = load_knowledge()
        self._mailbox_plans = kb.mailbox_plan_ids
        self._defaults = {lt: sorted(kb.default_actions(lt), key=str.lower) for lt in LOGON_TYPES}
        # "subject to the user having the appropriate license": users whose licences have no documented
        # default (Business plans, F1/F3, Exchange Online plans alone) get no MailItemsAccessed or Send
        licensed_only = {"mailitemsaccessed", "send"}
        self._basic_defaults = {
            lt: [a for a in acts if a.lower() not in licensed_only] for lt, acts in self._defaults.items()
        }
        self._premium_plans = kb.premium_plan_ids
        self._expanded_skus = kb.expanded_event_sku_ids
        self._documented: dict[str, bool] = {}
        self.ranges = self._mailbox_ranges()
        self._starts = [r.start for r in self.ranges]
        self.user_mailboxes = sum(r.count for r in self.ranges)
        self.customised = self._customised_ranges()
        self.bypassed_users = {tenant.resolve_ref(ref) for ref in self.spec.bypass_users}
        for ref in self.spec.bypass_users:
            if self._mailbox_index_of_user(tenant.resolve_ref(ref)) is None:
                raise SpecError(f"{tenant.name}: exchange.bypass_users: {ref!r} has no mailbox")

    # ---- mailboxes

    def _in_scope(self, segment: Segment) -> bool:
        if not segment.spec.enabled or segment.spec.type != "Member":
            return False
        return any(
            p["capabilityStatus"] in ("Enabled", "Warning") and p["servicePlanId"].lower() in self._mailbox_plans
            for p in segment.assigned_plans
        )

    def _mailbox_ranges(self) -> list[_Range]:
        out: list[_Range] = []
        start = 0
        for seg in self.tenant.segments:
            if seg.spec.count and self._in_scope(seg):
                out.append(_Range(start, seg.spec.count, seg.start, seg))
                start += seg.spec.count
        return out

    def _customised_ranges(self) -> dict[str, list[_Custom]]:
        cursor: dict[str, int] = {}
        out: dict[str, list[_Custom]] = {}
        segments = {r.segment.spec.name: r.segment for r in self.ranges}
        for group in self.spec.customised:
            seg = segments.get(group.segment)
            if seg is None:
                raise SpecError(
                    f"{self.tenant.name}: exchange.customised: segment {group.segment!r} has no "
                    "mailboxes (unknown, disabled, guest, or without an Exchange plan)"
                )
            begin = cursor.get(group.segment, 0)
            if begin + group.count > seg.spec.count:
                raise SpecError(
                    f"{self.tenant.name}: exchange.customised: more customised mailboxes than "
                    f"segment {group.segment!r} has"
                )
            cursor[group.segment] = begin + group.count
            out.setdefault(group.segment, []).append(_Custom(begin, begin + group.count, group))
        return out

    @property
    def total_mailboxes(self) -> int:
        return self.user_mailboxes + self.spec.shared_mailboxes

    def _mailbox_index_of_user(self, user_id: str) -> int | None:
        index = self.tenant.index_of(user_id)
        if index is None:
            return None
        for r in self.ranges:
            if r.user_start <= index < r.user_start + r.count:
                return r.start + index - r.user_start
        return None

    def group_of(self, segment: str, local: int) -> CustomisedGroupSpec | None:
        for c in self.customised.get(segment, []):
            if c.local_start <= local < c.local_stop:
                return c.group
        return None

    def has_documented_defaults(self, segment: Segment) -> bool:
        """E5-level (an SKU with the Premium plan) or E3/G3-level users get the defaults with MailItemsAccessed."""
        known = self._documented.get(segment.spec.name)
        if known is not None:
            return known
        # an E5-level SKU counts even with its Premium plan switched off: the user still holds E5
        premium = any(
            p["capabilityStatus"] in ("Enabled", "Deleted") and p["servicePlanId"].lower() in self._premium_plans
            for p in segment.assigned_plans
        )
        documented = premium or any(lic["skuId"].lower() in self._expanded_skus for lic in segment.assigned_licenses)
        self._documented[segment.spec.name] = documented
        return documented

    def audit_settings(self, group: CustomisedGroupSpec | None, documented: bool = True) -> AuditSettings:
        default_set = [lt for lt in LOGON_TYPES if group is None or group.customised(lt) is None]
        defaults = self._defaults if documented else self._basic_defaults

        def actions(logon_type: str) -> list[str]:
            custom = None if group is None else group.customised(logon_type)
            return list(custom) if custom is not None else list(defaults[logon_type])

        return {
            "AuditEnabled": True if group is None else group.audit_enabled,
            "DefaultAuditSet": default_set,
            "AuditOwner": actions("Owner"),
            "AuditDelegate": actions("Delegate"),
            "AuditAdmin": actions("Admin"),
        }

    def mailbox(self, index: int) -> MailboxRow:
        """Mailbox ``index`` (user mailboxes first, then shared ones) as Get-Mailbox emits it."""
        if index >= self.user_mailboxes:
            return self._shared_mailbox(index - self.user_mailboxes)
        r = self.ranges[bisect.bisect_right(self._starts, index) - 1]
        user_index = r.user_start + index - r.start
        user = self.tenant.user(user_index)
        group = self.group_of(r.segment.spec.name, user_index - r.segment.start)
        settings = self.audit_settings(group, self.has_documented_defaults(r.segment))
        return self._mailbox_row(user["userPrincipalName"], user["displayName"], user["id"], "UserMailbox", settings)

    def _shared_mailbox(self, i: int) -> MailboxRow:
        upn = f"shared.{i:04d}@{self.tenant.spec.default_domain}"
        return self._mailbox_row(
            upn, f"Shared Mailbox {i}", _guid(self.tenant.id, upn), "SharedMailbox", self.audit_settings(None)
        )

    def _mailbox_row(self, upn: str, display: str, object_id: str, kind: str, audit: AuditSettings) -> MailboxRow:
        alias = upn.split("@", 1)[0]
        return {
            "Identity": alias,
            "Name": alias,
            "Alias": alias,
            "DisplayName": display,
            "UserPrincipalName": upn,
            "PrimarySmtpAddress": upn,
            "ExternalDirectoryObjectId": object_id,
            "Guid": _guid(self.tenant.id, "mbx/" + upn),
            "RecipientType": "UserMailbox",
            "RecipientTypeDetails": kind,
            "IsDirSynced": False,
            "AuditLogAgeLimit": "90.00:00:00",
            "WhenCreated": "2024-01-15T09:00:00Z",
            **audit,
        }

    # ---- bypass associations

    @property
    def total_associations(self) -> int:
        return self.user_mailboxes + len(self.spec.bypass)

    def association(self, index: int) -> dict[str, Json]:
        if index >= self.user_mailboxes:
            name = self.spec.bypass[index - self.user_mailboxes]
            return {
                "Identity": name,
                "Name": name,
                "AuditBypassEnabled": True,
                "Guid": _guid(self.tenant.id, "bypass/" + name),
            }
        row = self.mailbox(index)
        return {
            "Identity": row["Identity"],
            "Name": row["Name"],
            "Guid": _guid(self.tenant.id, "bp/" + row["Name"]),
            "AuditBypassEnabled": row["ExternalDirectoryObjectId"] in self.bypassed_users,
        }

    # ---- singletons and policies

    def admin_audit_log_config(self, compliance: bool) -> dict[str, Json]:
        # Security & Compliance PowerShell always reports False here (DOMAIN.md): read it from Exchange.
        return {
            "Identity": "Admin Audit Log Settings",
            "Name": "Admin Audit Log Settings",
            "AdminAuditLogEnabled": True,
            "UnifiedAuditLogIngestionEnabled": False if compliance else self.spec.ingestion_enabled,
        }

    def organization_config(self) -> dict[str, Json]:
        return {
            "Identity": self.tenant.spec.domains[0],
            "Name": self.tenant.spec.domains[0],
            "DisplayName": self.tenant.spec.display_name,
            "AuditDisabled": self.spec.audit_disabled,
            "IsDehydrated": False,
        }

    def retention_policies(self) -> list[dict[str, Json]]:
        return [
            {
                "Name": p.name,
                "Identity": p.name,
                "Guid": _guid(self.tenant.id, "ret/" + p.name),
                "Priority": p.priority,
                "RetentionDuration": p.retention_duration,
                "RecordTypes": p.record_types,
                "Operations": p.operations,
                "UserIds": p.user_ids,
                "Enabled": p.enabled,
                "Mode": p.mode,
                "Description": p.description,
                "WhenCreatedUTC": "2024-03-01T10:00:00Z",
            }
            for p in self.spec.retention_policies
        ]


class AuditSettings(TypedDict):
    """A mailbox's audit settings as Get-Mailbox reports them."""

    AuditEnabled: bool
    DefaultAuditSet: list[str]  # the logon types still on Microsoft's default actions
    AuditOwner: list[str]
    AuditDelegate: list[str]
    AuditAdmin: list[str]


class MailboxRow(AuditSettings):
    """A row of Get-Mailbox (the properties the emulator emits, audit settings last)."""

    Identity: str
    Name: str
    Alias: str
    DisplayName: str
    UserPrincipalName: str
    PrimarySmtpAddress: str
    ExternalDirectoryObjectId: str
    Guid: str
    RecipientType: str
    RecipientTypeDetails: str
    IsDirSynced: bool
    AuditLogAgeLimit: str
    WhenCreated: str


def _guid(tenant_id: str, key: str) -> str:
    return str(uuid.UUID(hashlib.sha256(f"{tenant_id}/{key}".encode()).hexdigest()[:32]))


def exchange_org(tenant: SandboxTenant) -> ExchangeOrg:
    """The Exchange view of ``tenant`` (the server keeps one per served tenant: :func:`_org`)."""
    return ExchangeOrg(tenant)


def _org(request: SandboxRequest) -> ExchangeOrg:
    return request.tenant.local(exchange_org)


# --------------------------------------------------------------------------- faults


DENIED_401 = "The access token is invalid or was not issued for this resource."


def spec_faults(tenant: SandboxTenant) -> list[Fault]:
    """The fault rules of a tenant's ``exchange:`` spec: ``deny`` and ``compliance_deny`` first
    (every cmdlet of that API), then ``faults`` in order (``api: any`` is one rule over both APIs,
    so its ``times`` counts calls to either)."""
    spec = exchange_spec(tenant)
    rules: list[Fault] = []
    for api, deny in (("exchange", spec.deny), ("compliance", spec.compliance_deny)):
        if deny == 401:
            headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            rules.append(Fault(401, "Unauthorized", DENIED_401, headers=headers, apis=(api,), kind="deny"))
        elif deny == 403:
            rules.append(Fault(403, apis=(api,), kind="deny"))
    for fault in spec.faults:
        rules.append(
            Fault(
                fault.status,
                fault.code,
                fault.message,
                retry_after=fault.retry_after,
                apis=("exchange", "compliance") if fault.api == "any" else (fault.api,),
                operations=() if fault.cmdlet == "*" else (fault.cmdlet,),
                page=fault.page,
                times=fault.times,
                kind="exchange",
            )
        )
    return rules


_FAULT_CODES = {429: "TooManyRequests", 401: "Unauthorized", 403: "Forbidden", 400: "BadRequest"}


def fault_response(fault: Fault, cmdlet: str) -> SandboxResponse:
    """A fault rule's answer in Exchange's shape (a 403 without a message is the NUL-byte body)."""
    if fault.status == 403 and fault.message is None:
        return nul_forbidden()
    headers = dict(fault.headers)
    if fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
    code = fault.code or _FAULT_CODES.get(fault.status, "InternalServerError")
    message = fault.message or (
        PAGINATION_EXPIRED if fault.page == "next" else f"Injected {fault.status} for {cmdlet}."
    )
    return exchange_error(fault.status, code, message, headers=headers)


def nul_forbidden() -> SandboxResponse:
    """The 403 the admin API sends for a cmdlet the app may not run: 4096 NUL bytes, not JSON
    (live capture in rknightion/graph2otel ``internal/exoclient``)."""
    return SandboxResponse(403, NUL_BODY, "application/json; charset=utf-8")


# --------------------------------------------------------------------------- HTTP


def exchange_error(
    status: int, code: str, message: str, *, exception: str = "Exception", headers: dict[str, str] | None = None
) -> SandboxResponse:
    detail = f"Ex{status:04X}|Microsoft.Exchange.Management.{exception}|{message}"
    body = {
        "error": {
            "code": code,
            "message": message,
            "details": [{"code": "Context", "target": "", "message": detail}],
            "innererror": {
                "message": message,
                "type": "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
                "stacktrace": "",
                "internalexception": {"message": message, "type": exception, "stacktrace": ""},
            },
        }
    }
    return SandboxResponse.json(body, status, headers)


@dataclass(frozen=True)
class _Call:
    cmdlet: str
    parameters: JsonObject  # the cmdlet's Parameters, as sent
    tenant_path: str = ""  # {prefix}/{tenant} as requested


def _parse_call(request: SandboxRequest) -> _Call | SandboxResponse:
    if request.method != "POST":
        return exchange_error(405, "MethodNotAllowed", "InvokeCommand accepts POST only.")
    body = request.json()
    cmd = body.get("CmdletInput") if isinstance(body, dict) else None
    name = cmd.get("CmdletName") if isinstance(cmd, dict) else None
    params = cmd.get("Parameters", {}) if isinstance(cmd, dict) else None
    if not isinstance(name, str) or not isinstance(params, dict):
        return exchange_error(
            400, "BadRequest", 'The request body must be {"CmdletInput":{"CmdletName":…,"Parameters":{…}}}.'
        )
    return _Call(name, params)


def _split(path: str, prefix: str) -> str | None:
    """The tenant segment of ``{prefix}/{tenant}/InvokeCommand``, or None."""
    if not path.lower().startswith(prefix.lower()):
        return None
    rest = path[len(prefix) :].strip("/").split("/")
    if len(rest) == 2 and rest[1].lower() == "invokecommand":
        return rest[0]
    return None


def _batch_tenant(path: str, prefix: str) -> str | None:
    """The tenant segment of ``{prefix}/{tenant}/$batch``, or None."""
    if not path.lower().startswith(prefix.lower()):
        return None
    rest = path[len(prefix) :].strip("/").split("/")
    if len(rest) == 2 and rest[1].lower() == "$batch":
        return rest[0]
    return None


class BatchItemAnswer(TypedDict):
    """One item of a ``$batch`` answer's ``responses``."""

    id: str
    status: int
    headers: dict[str, str]
    body: JsonValue  # the item's JSON answer, or its body base64-encoded when it is not JSON


def _item_answer(key: str, response: SandboxResponse) -> BatchItemAnswer:
    """A response as a ``$batch`` item: JSON bodies as JSON, anything else (the NUL-filled 403)
    base64-encoded under its own content type, as Graph's ``$batch`` carries such bodies."""
    content_type = response.content_type
    body: JsonValue
    try:
        body = response.decoded() if content_type.startswith("application/json") else None
        if body is None and response.body:
            raise ValueError("not JSON")
    except (ValueError, UnicodeDecodeError):
        content_type = "application/octet-stream"
        body = base64.b64encode(response.body).decode("ascii")
    return {
        "id": key,
        "status": response.status,
        "headers": {"Content-Type": content_type, **response.headers},
        "body": body,
    }


def _tenant_matches(org: ExchangeOrg, key: str) -> bool:
    names = {org.tenant.id, org.tenant.name.lower(), *(d.lower() for d in org.tenant.spec.domains)}
    return key.lower() in names


class ExchangeApi:
    """Root ``adminapi``: ``/beta/{tenant}/InvokeCommand`` and ``/beta/{tenant}/$batch``.

    A ``$batch`` envelope is no operation of its own (only the rules scoped to no API, which run
    before :meth:`resolve`, can fail it as a whole): it is answered here, each of its items being one
    operation through :func:`~assessor.sandbox.api.serve_operation`, faults included."""

    name = "exchange"

    def resolve(self, request: SandboxRequest) -> Operation | SandboxResponse:
        tenant_key = _batch_tenant(request.path, "/beta")
        if tenant_key is not None:
            return self._batch(request, tenant_key)
        return _resolve_call(request, "/beta")

    def _batch(self, request: SandboxRequest, tenant_key: str) -> SandboxResponse:
        """``{"requests": [{"id", "method": "POST", "url": "<base>/…/InvokeCommand?…", "body":
        {"CmdletInput": …}, "headers": {…}}]}`` → ``{"responses": [{"id", "status", "headers",
        "body"}]}`` (the request's shape as KelvinTegelaar/CIPP-API ``New-ExoBulkRequest.ps1`` sends
        it, the answer's fields as it reads them: ``id``, ``status``, ``headers``, ``body``)."""
        if request.method != "POST":
            return exchange_error(405, "MethodNotAllowed", "$batch accepts POST only.")
        if request.in_batch:
            return exchange_error(400, "BadRequest", "A batch request cannot contain another batch.")
        if not _tenant_matches(_org(request), tenant_key):
            return exchange_error(400, "InvalidTenant", f"Tenant '{tenant_key}' does not match the served tenant.")
        body = request.json()
        items = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            return exchange_error(400, "BadRequest", "Invalid batch payload format.")
        if len(items) > MAX_BATCH:
            return exchange_error(400, "BadRequest", f"Number of requests exceeds the limit of {MAX_BATCH}.")
        ids = [i.get("id") for i in items if isinstance(i, dict)]
        if len({str(i) for i in ids}) != len(ids) or not all(isinstance(i, str) and i for i in ids):
            return exchange_error(400, "BadRequest", "Every batch request needs a unique id.")
        answers = [self._batch_item(request, item) for item in items if isinstance(item, dict)]
        return SandboxResponse.json({"responses": answers})

    def _batch_item(self, outer: SandboxRequest, item: JsonObject) -> BatchItemAnswer:
        key = str(item["id"])
        url = str(item.get("url", ""))
        rest = path_after_root(url, outer.base_url)
        if rest is None:
            return _item_answer(key, exchange_error(400, "BadRequest", "The request URL is not of this service."))
        parts = urlsplit(rest)
        try:
            query = parse_query(parts.query)
        except QueryError as err:
            return _item_answer(key, exchange_error(400, err.code, err.message))
        raw_headers = item.get("headers") or {}
        if not isinstance(raw_headers, dict):
            return _item_answer(key, exchange_error(400, "BadRequest", "A batch request's headers must be an object."))
        headers = {str(k): str(v) for k, v in raw_headers.items()}
        if "authorization" in outer.headers and not any(k.lower() == "authorization" for k in headers):
            headers["Authorization"] = outer.headers["authorization"]
        content = item.get("body")
        sub = SandboxRequest(
            method=str(item.get("method", "POST")).upper(),
            path=unquote(parts.path),
            query=query,
            headers=Headers(headers),
            body=b"" if content is None else json.dumps(content).encode("utf-8"),
            tenant=outer.tenant,
            base_url=outer.base_url,
            in_batch=True,
        )
        return _item_answer(key, serve_operation(self, sub))

    def answer(self, request: SandboxRequest, operation: Operation) -> SandboxResponse:
        return _answer(request, operation, _EXCHANGE_CMDLETS)

    def error(self, fault: Fault, request: SandboxRequest, operation: Operation) -> SandboxResponse:
        return fault_response(fault, operation.name)


class ComplianceApi:
    """Root ``compliance``: the front door redirects to the admin.protection host; the regional
    stand-in serves the cmdlets."""

    name = "compliance"

    def resolve(self, request: SandboxRequest) -> Operation | SandboxResponse:
        return _resolve_compliance(request)

    def answer(self, request: SandboxRequest, operation: Operation) -> SandboxResponse:
        return _answer(request, operation, _COMPLIANCE_CMDLETS)

    def error(self, fault: Fault, request: SandboxRequest, operation: Operation) -> SandboxResponse:
        return fault_response(fault, operation.name)


def _admin_protection_host(org: ExchangeOrg) -> str:
    domain = "office365.us" if org.tenant.cloud in ("gcc-high", "dod") else "outlook.com"
    return f"{REGION}.admin.protection.{domain}:446"


def _resolve_compliance(request: SandboxRequest) -> Operation | SandboxResponse:
    org = _org(request)
    path = request.path
    if path.lower().startswith("/region/"):
        prefix = path[len("/region/") :].partition("/")[0]
        if prefix.lower() != REGION:
            return exchange_error(404, "NotFound", f"No regional host {prefix}.")
        return _resolve_call(request, f"/region/{prefix}/adminapi/beta")
    module = path.lower().rstrip("/").split("/")
    if (
        request.method == "GET"
        and len(module) == 5
        and module[1:3] == ["adminapi", "v1.0"]
        and module[4] == "exomodulefile"
    ):
        if org.spec.compliance_redirect:
            location = f"https://{_admin_protection_host(org)}/AdminApi/v1.0/{path.split('/')[3]}/EXOModuleFile"
            return SandboxResponse(302, b"", "text/plain", {"Location": location})
        return SandboxResponse.json({"value": [{"exportedCmdlets": "Get-UnifiedAuditLogRetentionPolicy"}]})
    if org.spec.compliance_redirect and _split(path, "/adminapi/beta") is not None:
        query = "&".join(f"{k}={v}" for k, v in request.query.items())
        location = f"https://{_admin_protection_host(org)}{path}" + (f"?{query}" if query else "")
        return SandboxResponse(302, b"", "text/plain", {"Location": location})
    return _resolve_call(request, "/adminapi/beta")


def _resolve_call(request: SandboxRequest, prefix: str) -> Operation | SandboxResponse:
    """The cmdlet a ``{prefix}/{tenant}/InvokeCommand`` call runs, or the error for a malformed call."""
    org = _org(request)
    tenant_key = _split(request.path, prefix)
    if tenant_key is None:
        return exchange_error(404, "NotFound", f"No resource at {request.path}.")
    if not _tenant_matches(org, tenant_key):
        return exchange_error(400, "InvalidTenant", f"Tenant '{tenant_key}' does not match the served tenant.")
    call = _parse_call(request)
    if isinstance(call, SandboxResponse):
        return call
    return Operation(call.cmdlet, _Call(call.cmdlet, call.parameters, f"{prefix}/{tenant_key}"))


def _answer(request: SandboxRequest, operation: Operation, table: dict[str, _Cmdlet]) -> SandboxResponse:
    call = operation.detail
    if not isinstance(call, _Call):
        raise TypeError(f"an Exchange operation carries {type(call).__name__}, not the parsed call")
    source = table.get(call.cmdlet.lower())
    if source is None:
        return exchange_error(
            400,
            "BadRequest",
            f"The term '{call.cmdlet}' is not recognized as a name of a cmdlet.",
            exception="CommandNotFoundException",
        )
    org = _org(request)
    return _page(request, org, source(org, call.parameters), call.tenant_path, call)


# ---- cmdlet sources: (total, row(i), warnings)


@dataclass(frozen=True)
class _Source:
    total: int
    row: Callable[[int], Mapping[str, object]]  # row i of the answer
    warnings: tuple[str, ...] = ()


def _result_size(params: JsonObject) -> int | None:
    value = params.get("ResultSize", DEFAULT_RESULT_SIZE)
    if isinstance(value, str) and value.lower() == "unlimited":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return DEFAULT_RESULT_SIZE


def _capped(total: int, params: JsonObject) -> tuple[int, tuple[str, ...]]:
    size = _result_size(params)
    if size is not None and total > size:
        return size, (
            f"WARNING: By default, only the first {size} items are returned. Use the ResultSize "
            "parameter to specify the number of items returned. To return all items, specify "
            '"-ResultSize Unlimited".',
        )
    return total, ()


def _get_mailbox(org: ExchangeOrg, params: JsonObject) -> _Source:
    wanted = params.get("RecipientTypeDetails")
    kinds = {wanted.lower()} if isinstance(wanted, str) else {str(w).lower() for w in _listed(wanted)}
    only_user = kinds == {"usermailbox"}  # other filters are not emulated: everything is returned
    total = org.user_mailboxes if only_user else org.total_mailboxes
    count, warnings = _capped(total, params)
    return _Source(count, org.mailbox, warnings)


def _listed(value: JsonValue) -> Iterable[JsonValue]:
    """The values of a multi-valued parameter (absent or empty: none; an object: its keys)."""
    if not value:
        return ()
    if not isinstance(value, (list, dict)):
        raise TypeError(f"a multi-valued parameter is {type(value).__name__}")
    return value


def _get_bypass(org: ExchangeOrg, params: JsonObject) -> _Source:
    count, warnings = _capped(org.total_associations, params)
    return _Source(count, org.association, warnings)


def _single(row: Mapping[str, object]) -> _Source:
    return _Source(1, lambda _i: row)


def _app_of(org: ExchangeOrg, name: str) -> tuple[str, str]:
    """(AppId, display name) of a spec's app reference: a service principal's name, or an AppId."""
    for p in org.tenant.principals.values():
        if p.kind == "servicePrincipal" and name in (p.display_name, p.app_id):
            return str(p.app_id), p.display_name
    return name.lower(), name


def _rows(rows: Sequence[Mapping[str, object]]) -> _Source:
    return _Source(len(rows), rows.__getitem__)


def _access_policies(org: ExchangeOrg, _p: JsonObject) -> _Source:
    rows: list[dict[str, Json]] = []
    for i, policy in enumerate(org.spec.application_access_policies):
        app_id, _name = _app_of(org, policy.app)
        rows.append(
            {
                "Identity": f"{org.tenant.id}\\{app_id}:S-1-5-21-1000-{i};{_guid(org.tenant.id, policy.scope)}",
                "AppId": app_id,
                "ScopeName": policy.scope.split("@")[0],
                "ScopeIdentity": policy.scope,
                "AccessRight": policy.access_right,
                "Description": f"Restrict {app_id}",
                "IsValid": True,
            }
        )
    return _rows(rows)


def _exchange_principals(org: ExchangeOrg) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for grant in org.spec.app_role_assignments:
        app_id, name = _app_of(org, grant.app)
        rows.append(
            {
                "Identity": name,
                "Name": name,
                "DisplayName": name,
                "AppId": app_id,
                "ObjectId": _guid(org.tenant.id, name),
            }
        )
    return list({r["AppId"]: r for r in rows}.values())


def _role_assignments(org: ExchangeOrg, params: JsonObject) -> _Source:
    wanted = str(params.get("RoleAssigneeType") or "").lower()
    rows: list[dict[str, Json]] = []
    for grant in org.spec.app_role_assignments:
        _app_id, name = _app_of(org, grant.app)
        rows.append(
            {
                "Name": f"{grant.role}-{name}"[:64],
                "Role": grant.role,
                "RoleAssignee": name,
                "RoleAssigneeName": name,
                "RoleAssigneeType": "ServicePrincipal",
                "RecipientWriteScope": "CustomRecipientScope" if grant.scope else "Organization",
                "CustomResourceScope": grant.scope,
                "Enabled": True,
            }
        )
    return _rows(rows if wanted in ("", "serviceprincipal") else [])


_Cmdlet = Callable[[ExchangeOrg, JsonObject], _Source]
_EXCHANGE_CMDLETS: dict[str, _Cmdlet] = {
    "get-applicationaccesspolicy": _access_policies,
    "get-managementroleassignment": _role_assignments,
    "get-serviceprincipal": lambda org, _p: _rows(_exchange_principals(org)),
    "get-adminauditlogconfig": lambda org, _p: _single(org.admin_audit_log_config(False)),
    "get-organizationconfig": lambda org, _p: _single(org.organization_config()),
    "get-mailboxauditbypassassociation": _get_bypass,
    "get-mailbox": _get_mailbox,
}
_COMPLIANCE_CMDLETS: dict[str, _Cmdlet] = {
    "get-unifiedauditlogretentionpolicy": lambda org, _p: _Source(
        len(org.retention_policies()), org.retention_policies().__getitem__
    ),
    "get-adminauditlogconfig": lambda org, _p: _single(org.admin_audit_log_config(True)),
}


def _page_size(request: SandboxRequest) -> int:
    prefer = str(request.headers.get("prefer", ""))
    for part in prefer.split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "odata.maxpagesize" and value.strip().isdigit():
            return max(1, min(MAX_PAGE, int(value.strip())))
    return MAX_PAGE


def _select(row: Mapping[str, object], select: list[str]) -> Mapping[str, object]:
    if not select:
        return row
    lower = {k.lower(): k for k in row}
    return {lower[s.lower()]: row[lower[s.lower()]] for s in select if s.lower() in lower}


def _backend(request: SandboxRequest, call: _Call) -> str:
    """The backend a request lands on: the anchor mailbox routes it; without one, any backend."""
    anchor = str(request.headers.get("x-anchormailbox", "")).strip().lower()
    key = anchor or uuid.uuid4().hex
    return hashlib.sha256(f"{key}/{call.cmdlet.lower()}".encode()).hexdigest()[:12]


def _page(request: SandboxRequest, org: ExchangeOrg, source: _Source, tenant_path: str, call: _Call) -> SandboxResponse:
    select = [s.strip() for s in request.query.get("$select", "").split(",") if s.strip()]
    token = request.query.get("$skiptoken", "0")
    offset, _, bound_to = token.partition("-")
    if not offset.isdigit():
        return exchange_error(400, "BadRequest", "Invalid $skiptoken.")
    backend = _backend(request, call)
    if (offset != "0" or bound_to) and (org.spec.paging == "broken" or bound_to != backend):
        return exchange_error(400, "BadRequest", PAGINATION_EXPIRED, exception="InvalidPaginationException")
    start = int(offset)
    prefer = "prefer" in request.headers
    size = _page_size(request) if prefer else (org.spec.unpaged_page or source.total or 1)
    stop = min(source.total, start + size)
    doc: dict[str, object] = {"@odata.context": f"{request.base_url}{tenant_path}/{CONTEXT}"}
    if source.warnings and start == 0:
        doc["@adminapi.warnings"] = list(source.warnings)
    doc["value"] = [_select(source.row(i), select) for i in range(start, stop)]
    if stop < source.total:
        if not prefer:  # the service's own truncation notice, as on a page cut short
            doc["@adminapi.warnings"] = [
                "There are more results available than are currently displayed. To view them, increase "
                "the value for the ResultSize parameter."
            ]
        query = {"$skiptoken": f"{stop}-{backend}", **({"$select": ",".join(select)} if select else {})}
        doc["@odata.nextLink"] = f"{request.base_url}{request.path}?" + "&".join(f"{k}={v}" for k, v in query.items())
    body = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return SandboxResponse(200, body, "application/json; odata.metadata=minimal; charset=utf-8")
