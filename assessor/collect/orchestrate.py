"""Collection of one tenant: the sources, run concurrently, and their outcomes assembled into evidence.

Every source implements :class:`~assessor.collect.interface.Source`; this module is the only place
that lists them and decides their order:

1. **Alongside** (one round of waiting): Graph (tenant, skus, users, privileged), the audit-log
   probe, Exchange/Purview (``--import`` files first, the admin API for the rest) and Azure
   Resource Manager (where the logs go).
2. **Then**, from what they returned: the users retention policies name, the applications the
   probe saw reading mail, the ``--vip`` mailboxes; the privileged/VIP reach per mail client and,
   in detail mode, how many of the probe's observed accounts are in-scope users.
3. **Assembly**: one :class:`~assessor.evidence.Evidence` whose every section says how it was
   obtained; secrets are redacted as a last line of defence.

Each step returns its values; nothing is filled in through a shared set or list.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError

import assessor
from assessor.collect.auth import AuthOptions, StaticTokenCredential, build_credential
from assessor.collect.azure import read_log_export, skipped
from assessor.collect.clouds import CloudEndpoints, cloud_endpoints, validate_endpoint
from assessor.collect.exchange import SECTIONS as EXCHANGE_SECTIONS
from assessor.collect.exchange import (
    ExchangeData,
    ExchangeOutcome,
    ImportedSections,
    exchange_evidence,
    read_imports,
    skipped_sections,
)
from assessor.collect.exchange.aggregate import MailboxAggregator
from assessor.collect.exchange.appaccess import AppScoping
from assessor.collect.graph import GraphPlan, GraphSettings, collect_graph, connect
from assessor.collect.graph.client import GraphConnection
from assessor.collect.graph.collector import GraphSection
from assessor.collect.graph.named import NamedUsers, policy_user_ids, resolve_named_users
from assessor.collect.graph.outcome import GraphFailure
from assessor.collect.graph.users import CountVia
from assessor.collect.interface import Collected, NotCollected, SourceResult, section_of
from assessor.collect.join import UserDirectory, join_mailboxes
from assessor.collect.permissions import EXCHANGE_API, PreflightResult, preflight
from assessor.collect.probe import ProbeOutcome
from assessor.collect.probe.clients import ClientBooks
from assessor.collect.retry import RetryPolicy
from assessor.errors import CollectionError, UsageError
from assessor.evidence import (
    GUID,
    TENANT_ID_PATTERN,
    Applications,
    AuditProbe,
    Evidence,
    LogExport,
    MailboxAudit,
    Meta,
    PrivilegedRoles,
    Provenance,
    RetentionPolicies,
    Tenant,
    Users,
    map_strings,
)
from assessor.redact import may_need_redaction, redact
from assessor.vocabulary import APP_ONLY_MODES, USERS_MODES, Cloud, UsersMode

Outcome = Collected[object] | NotCollected
"""Each source's section outcome (their data differ in type); a reader narrows ``data`` to its model."""


@dataclass(frozen=True)
class CollectOptions:
    """Everything one tenant's collection needs. Holds no secret values."""

    tenant: str
    cloud: Cloud = Cloud.GLOBAL
    auth: AuthOptions = field(default_factory=AuthOptions)
    graph_endpoint: str | None = None
    exchange_endpoint: str | None = None
    compliance_endpoint: str | None = None
    no_exchange: bool = False
    no_azure: bool = False  # --no-azure: do not read where logs go from Azure Resource Manager
    arm_endpoint: str | None = None  # --arm-endpoint: Azure Resource Manager base URL override
    azure_subscriptions: tuple[str, ...] = ()  # --azure-subscription (default: every one the credential lists)
    imports: tuple[Path, ...] = ()  # --import: ConvertTo-Json exports of the Exchange/Purview cmdlets
    probe_events_days: int | None = None
    probe_timeout: float = 600.0
    keep_records: Path | None = None
    probe_operations: tuple[str, ...] | None = None
    recent_days: int = 7  # --recent-days: the recent part of the probe window (the rest is the baseline)
    vip: tuple[str, ...] = ()  # --vip FILE: UPNs or object ids of mailboxes watched like privileged ones
    users_mode: UsersMode = UsersMode.SUMMARY
    user_list_path: Path | None = None
    count_via: CountVia = "batch"
    privileged_roles: tuple[str, ...] | None = None
    request_timeout: float = 60.0
    tenant_timeout: float = 900.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_connections: int = 32
    collector: str = "collect"
    credential: TokenCredential | None = field(default=None, repr=False, compare=False)

    def endpoints(self) -> CloudEndpoints:
        return cloud_endpoints(self.cloud)

    def arm_base_url(self) -> str:
        if self.arm_endpoint:
            return validate_endpoint(self.arm_endpoint, "--arm-endpoint")
        return self.endpoints().arm_url

    def graph_base_url(self) -> str:
        if self.graph_endpoint:
            return validate_endpoint(self.graph_endpoint, "--graph-endpoint")
        return self.endpoints().graph_url


def _validate(options: CollectOptions) -> None:
    if not options.tenant.strip():
        raise UsageError("--tenant is required (a tenant id or a verified domain)")
    if not re.fullmatch(TENANT_ID_PATTERN, options.tenant):
        # it becomes part of request URLs (…/adminapi/beta/{tenant}/InvokeCommand): no separators, no '..'
        raise UsageError(
            f"--tenant {options.tenant[:80]!r}: use the tenant id (GUID) or a verified domain such as contoso.com"
        )
    if options.users_mode not in USERS_MODES:
        raise UsageError(f"--users must be summary or detail, not {options.users_mode!r}")
    if options.user_list_path is not None and options.users_mode != UsersMode.DETAIL:
        raise UsageError("a per-user list needs --users detail")
    for sub in options.azure_subscriptions:
        if not GUID.match(sub.strip()):
            raise UsageError(f"--azure-subscription {sub[:80]!r}: give a subscription id (GUID)")
    for name in ("exchange_endpoint", "compliance_endpoint", "arm_endpoint"):
        value = getattr(options, name)
        if value:
            validate_endpoint(value, "--" + name.replace("_", "-"))


def _credential(options: CollectOptions, cloud: CloudEndpoints) -> TokenCredential:
    if options.credential is not None:
        return options.credential
    auth = options.auth if options.auth.tenant else AuthOptions(**{**options.auth.__dict__, "tenant": options.tenant})
    return build_credential(auth, cloud)


def graph_preflight(credential: TokenCredential, scope: str | None = None) -> PreflightResult | None:
    """Which sections the Graph token's app roles cannot collect (None: not an app-only JWT).

    Static tokens are read as given. Other credentials are asked for their Graph token once (it is
    cached for the collection that follows); a credential that cannot sign in is left to the
    collection itself, which reports that per section.
    """
    if isinstance(credential, StaticTokenCredential):
        token = credential.token_for("graph")
        return preflight(token) if token else None
    if scope is None:
        return None
    try:
        token = credential.get_token(scope).token
    except (AzureError, OSError, ValueError):  # sign-in failed: the collection reports it with its reason
        return None
    return preflight(token) if isinstance(token, str) else None


async def _preflight_notes(options: CollectOptions, credential: TokenCredential, cloud: CloudEndpoints) -> list[str]:
    """What the tokens' roles say cannot be collected, before any collection request."""
    notes: list[str] = []
    app_only = options.auth.mode in APP_ONLY_MODES and options.credential is None
    check = await asyncio.to_thread(graph_preflight, credential, cloud.graph_scope if app_only else None)
    if check is not None:
        # the probe's permission matters only when the probe was asked for
        skip = () if options.probe_events_days is not None else ("audit_probe", "applications")
        notes.extend(f"preflight: {m}" for m in check.messages(skip))
    if isinstance(credential, StaticTokenCredential) and not options.no_exchange:
        exchange_token = credential.token_for("exchange")
        exchange_check = preflight(exchange_token, EXCHANGE_API) if exchange_token else None
        if exchange_check is not None:
            notes.extend(f"preflight: {m}" for m in exchange_check.messages())
    if isinstance(credential, StaticTokenCredential) and not options.no_azure and not credential.has("arm"):
        notes.append(
            "preflight: no ARM token (ASSESSOR_ARM_TOKEN): evidence section log_export will not be read from Azure; "
            "it needs Reader on the subscriptions and at /providers/Microsoft.aadiam"
        )
    return notes


# --------------------------------------------------------------------------- the sources


@dataclass(frozen=True)
class GraphCollection(SourceResult[GraphSection]):
    """Graph's sections, and (detail mode with the probe) the in-scope users it enumerated."""

    in_scope_keys: frozenset[str] | None = None  # lower-cased UPNs
    in_scope_ids: Mapping[str, str] = field(default_factory=dict)  # object id → lower-cased UPN
    directory: UserDirectory | None = None  # users enumerated whole: each one's licence level


@dataclass(frozen=True)
class GraphSource:
    """Microsoft Graph: ``tenant``, ``skus``, ``users`` and ``privileged``."""

    conn: GraphConnection
    plan: GraphPlan
    at: datetime
    name: str = "graph"

    async def collect(self) -> GraphCollection:
        result = await collect_graph(self.conn, self.plan)
        sections = {name: replace(o, at=o.at or self.at) for name, o in result.outcomes.items()}
        return GraphCollection(
            sections, tuple(result.notes()), result.in_scope_keys, result.in_scope_ids or {}, result.directory
        )


@dataclass(frozen=True)
class ProbeCollection(SourceResult[AuditProbe]):
    """The ``audit_probe`` section, the accounts behind each operation's figures and the client books."""

    observed: Mapping[str, frozenset[str]] = field(default_factory=dict)
    books: ClientBooks | None = None


@dataclass(frozen=True)
class ProbeSource:
    """The audit-log probe (``--probe-events DAYS``): were the required events recorded?"""

    conn: GraphConnection
    options: CollectOptions
    want_accounts: bool = False
    name: str = "audit_probe"

    async def collect(self) -> ProbeCollection:
        options = self.options
        if options.probe_events_days is None:
            skipped = NotCollected(
                "the audit-log probe was not requested (--probe-events DAYS)",
                None,
                "POST /security/auditLog/queries",
                requested=False,
            )
            return ProbeCollection({"audit_probe": skipped})
        from assessor.collect.probe import ProbeSettings, all_event_operations, run_probe

        run = await run_probe(
            self.conn.client,
            cloud=options.cloud,
            operations=options.probe_operations or all_event_operations(),
            days=options.probe_events_days,
            timeout=options.probe_timeout,
            keep_records=options.keep_records,
            with_accounts=self.want_accounts,
            settings=ProbeSettings(recent_days=options.recent_days),
        )
        return ProbeCollection({"audit_probe": run.outcome}, (), run.observed, run.books)


@dataclass(frozen=True)
class ExchangeCollection(SourceResult[ExchangeData]):
    """The five Exchange/Purview sections, and the application scoping read (or why not)."""

    app_scoping: AppScoping | str | None = None
    mailboxes: MailboxAggregator | None = None  # the aggregator of the mailbox set, for the join with the users


@dataclass(frozen=True)
class ExchangeSource:
    """Exchange Online and Purview: ``--import`` files first, the admin API for the rest, under the same
    ``--tenant-timeout`` as Graph (on expiry every section not imported is not_collected, timed out)."""

    options: CollectOptions
    credential: TokenCredential
    imported: ImportedSections
    name: str = "exchange"

    async def collect(self) -> ExchangeCollection:
        options = self.options
        try:
            result = await asyncio.wait_for(
                exchange_evidence(options, self.credential, self.imported), options.tenant_timeout
            )
        except asyncio.TimeoutError:
            reason = f"timed out: the tenant's collection exceeded {options.tenant_timeout:g} s"
            sections = dict(self.imported.sections)
            missing = tuple(s for s in EXCHANGE_SECTIONS if s not in sections)
            sections.update(skipped_sections(reason, "retry later or raise --tenant-timeout", missing))
            return ExchangeCollection({s: sections[s] for s in EXCHANGE_SECTIONS}, (f"exchange: {reason}",))
        return ExchangeCollection(
            dict(result.sections),
            tuple(result.notes),
            result.app_scoping,
            result.mailboxes,
        )


@dataclass(frozen=True)
class AzureSource:
    """Azure Resource Manager: where the logs go (``log_export``), or not requested (``--no-azure``)."""

    options: CollectOptions
    credential: TokenCredential
    name: str = "azure"

    async def collect(self) -> SourceResult[LogExport]:
        options = self.options
        if options.no_azure:
            return SourceResult({"log_export": skipped()})
        outcome, notes = await read_log_export(
            options.arm_base_url(),
            options.endpoints().arm_scope,
            self.credential,
            subscriptions=tuple(s.strip() for s in options.azure_subscriptions),
            request_timeout=options.request_timeout,
            timeout=options.tenant_timeout,
            retry=options.retry,  # the tenant's retry policy, as for Graph and Exchange
        )
        return SourceResult({"log_export": outcome}, tuple(notes))


# --------------------------------------------------------------------------- what follows from the sources


def _joined_mailboxes(exchange: ExchangeCollection, graph: GraphCollection, options: CollectOptions) -> ExchangeOutcome:
    """The mailbox groups split by their users' licence level (users enumerated whole) and the privileged
    users' mailboxes counted (:mod:`assessor.collect.join`)."""
    outcome = exchange.sections["mailboxes"]
    if not isinstance(outcome, Collected) or not isinstance(outcome.data, MailboxAudit) or exchange.mailboxes is None:
        return outcome
    privileged = graph.sections.get("privileged")
    holders = (
        [h.principal_id for h in privileged.data.holders if h.principal_type == "user"]
        if isinstance(privileged, Collected) and isinstance(privileged.data, PrivilegedRoles)
        else None
    )
    data = join_mailboxes(outcome.data, exchange.mailboxes, graph.directory, holders, options.privileged_roles)
    return replace(outcome, data=data)


def _privileged_upns(graph: GraphCollection) -> set[str] | None:
    """UPNs of the privileged users (None when the role holders were not collected)."""
    outcome = graph.sections.get("privileged")
    if not isinstance(outcome, Collected) or not isinstance(outcome.data, PrivilegedRoles):
        return None
    return {
        h.user.user_principal_name.lower()
        for h in outcome.data.holders
        if h.principal_type == "user" and h.user is not None and h.user.user_principal_name
    }


async def _vip_upns(conn: GraphConnection, vip: tuple[str, ...]) -> tuple[set[str], list[str]]:
    """--vip entries as UPNs (object ids are looked up in one $batch), and notes on those that fail."""
    upns = {v.lower() for v in vip if "@" in v}
    ids = [v for v in vip if "@" not in v]
    notes: list[str] = []
    if ids:
        from assessor.collect.graph.users import fetch_users

        try:
            found, failed = await fetch_users(conn, ids)
        except GraphFailure as failure:
            notes.append(f"vip: object ids not resolved ({failure.describe()}); those mailboxes are not watched")
            return upns, notes
        upns.update(u.user_principal_name.lower() for u in found.values() if u.user_principal_name)
        notes.extend(f"vip: {name} matches no user (or could not be read); not watched" for name in failed)
    return upns, notes


def _with_clients(probe: ProbeOutcome, books: ClientBooks | None, watched: set[str] | None) -> ProbeOutcome:
    """The probe with each client's privileged/VIP reach and the watched mailboxes' coverage."""
    if not isinstance(probe, Collected) or books is None or not books.books:
        return probe
    update: dict[str, object] = {"clients": books.observations(watched)}
    if watched is not None:
        update["watched"] = books.watched_mailboxes(watched)
    return replace(probe, data=probe.data.model_copy(update=update))


def _client_app_ids(probe: ProbeOutcome) -> list[str]:
    clients = probe.data.clients if isinstance(probe, Collected) else None
    ids: dict[str, None] = {}
    for c in clients or []:
        ids[c.app_id] = None
        if c.client_app_id:
            ids[c.client_app_id] = None
    return list(ids)


async def _applications(
    conn: GraphConnection, options: CollectOptions, probe: ProbeOutcome, scoping: AppScoping | str | None, at: datetime
) -> Collected[Applications] | NotCollected | None:
    """The ``applications`` section (only when the probe ran): AppIds resolved, mail permissions scoped."""
    if options.probe_events_days is None:
        return None
    from assessor.collect.exchange.appaccess import apply_scoping
    from assessor.collect.graph.applications import resolve_applications

    outcome = await resolve_applications(conn, _client_app_ids(probe))
    if isinstance(outcome, Collected):
        apps = outcome.data
        if apps.mail_permissions is not None:
            if isinstance(scoping, AppScoping):
                apps = apps.model_copy(update={"mail_permissions": apply_scoping(apps.mail_permissions, scoping)})
            else:
                why = scoping or "the Exchange admin API was not asked for application access policies"
                apps = apps.model_copy(update={"scoping_unavailable": why})
        outcome = Collected(apps, outcome.source, outcome.notes)
    return replace(outcome, at=outcome.at or at)


def count_in_scope_observed(
    probe: AuditProbe, observed: Mapping[str, frozenset[str]], in_scope: frozenset[str], ids: Mapping[str, str]
) -> AuditProbe:
    """Detail mode: the probe's data with, per operation, how many of its observed accounts are in-scope
    users. Actors the records name only by object id count when the id is an enumerated in-scope user's."""
    operations = dict(probe.operations)
    for name, obs in probe.operations.items():
        seen = observed.get(name)
        if seen is None:
            continue
        accounts = {key for key in seen if "@" in key}
        guids = seen - accounts
        resolved = {ids[g] for g in guids if g in ids}
        users = accounts | resolved
        update: dict[str, object] = {"in_scope_users": len(users & in_scope), "distinct_users": len(users)}
        if obs.actors is not None:
            unresolved = len([g for g in guids if g not in ids])
            update["actors"] = obs.actors.model_copy(update={"accounts": len(users), "ids": unresolved})
        operations[name] = obs.model_copy(update=update)
    return probe.model_copy(update={"operations": operations})


def _with_in_scope_counts(probe: ProbeCollection, graph: GraphCollection) -> ProbeOutcome:
    outcome = probe.sections["audit_probe"]
    users_done = isinstance(graph.sections.get("users"), Collected)
    if not isinstance(outcome, Collected) or not users_done or graph.in_scope_keys is None or not probe.observed:
        return outcome
    data = count_in_scope_observed(outcome.data, probe.observed, graph.in_scope_keys, graph.in_scope_ids)
    return replace(outcome, data=data)


def _with_named_users(users: Outcome, named: NamedUsers) -> Outcome:
    """The users section with the users retention policies name (the engine needs their licences)."""
    if isinstance(users, Collected) and isinstance(users.data, Users) and (named.found or named.unresolved):
        return replace(
            users, data=users.data.model_copy(update={"named": named.found, "unresolved_names": named.unresolved})
        )
    return users


# --------------------------------------------------------------------------- assembly


def _verify_tenant(tenant_outcome: Outcome, options: CollectOptions) -> list[str]:
    """The endpoint must have answered for ``--tenant``: a wrong endpoint or a credential signed in to
    another tenant would otherwise file one customer's figures under another's name."""
    tenant = tenant_outcome.data if isinstance(tenant_outcome, Collected) else None
    if not isinstance(tenant, Tenant):
        return [f"tenant: not verified that the data is {options.tenant}'s (organization not collected)"]
    wanted = options.tenant.strip().lower()
    if GUID.match(wanted):
        matches = tenant.id.lower() == wanted
    else:
        matches = wanted in {d.lower() for d in tenant.domains} or tenant.id.lower() == wanted
    if not matches:
        raise CollectionError(
            f"collection refused for tenant {options.tenant}: the service answered for tenant {tenant.id} "
            f"({tenant.name or 'unnamed'}; domains {', '.join(tenant.domains[:3]) or 'none'}) — check "
            "--graph-endpoint and which tenant the credential signs in to"
        )
    return []


def _tenant(org: Outcome, options: CollectOptions) -> tuple[Tenant, list[str]]:
    origin = Provenance.model_validate(section_of(org)["provenance"])
    if isinstance(org, Collected):
        if not isinstance(org.data, Tenant):  # a programming error: Graph's tenant section holds a Tenant
            raise TypeError(f"the tenant section holds {type(org.data).__name__}, not a Tenant")
        return org.data.model_copy(update={"provenance": origin}), []
    note = f"tenant: organization not collected ({org.reason}); tenant id taken from --tenant"
    return Tenant(id=options.tenant, cloud=options.cloud, provenance=origin), [note]


def _endpoints(options: CollectOptions, graph_url: str) -> dict[str, str]:
    cloud = options.endpoints()
    out = {"graph": graph_url}
    if not options.no_exchange:
        out["exchange"] = options.exchange_endpoint or cloud.exchange_url
        out["compliance"] = options.compliance_endpoint or cloud.compliance_url
    if not options.no_azure:
        out["arm"] = options.arm_endpoint or cloud.arm_url
    return out


def _assemble(
    options: CollectOptions, sections: Mapping[str, Outcome], graph_url: str, notes: list[str], at: datetime
) -> Evidence:
    tenant, tenant_notes = _tenant(sections["tenant"], options)
    meta = Meta(
        tool_version=assessor.__version__,
        collected_at=at,
        collector=options.collector,
        endpoints=_endpoints(options, graph_url),
        notes=notes + tenant_notes,
    )
    exchange = {name: section_of(sections[name]) for name in EXCHANGE_SECTIONS}
    applications = sections.get("applications")
    evidence = Evidence.model_validate(
        {
            "schema": "assessor.evidence/1",
            "meta": meta,
            "tenant": tenant,
            "skus": section_of(sections["skus"]),
            "users": section_of(sections["users"]),
            "privileged": section_of(sections["privileged"]),
            "exchange": exchange,
            "audit_probe": section_of(sections["audit_probe"]),
            "log_export": section_of(sections["log_export"]),
            "applications": section_of(applications) if applications is not None else None,
            "vip": list(options.vip) if options.vip else None,
            "role_definitions": section_of(sections["role_definitions"]) if "role_definitions" in sections else None,
        }
    )
    return redacted(evidence)


def redacted(evidence: Evidence) -> Evidence:
    """Last line of defence: no registered secret, bearer header or JWT anywhere in the evidence.

    The whole document is scanned once (as JSON) first; only when it could hold one is every
    string redacted and the evidence rebuilt (most tenants' evidence holds none)."""
    if not may_need_redaction(evidence.model_dump_json(by_alias=True)):
        return evidence
    return Evidence.model_validate(map_strings(evidence.model_dump(by_alias=True), redact))


def _nothing_collected(graph: GraphCollection) -> NotCollected | None:
    outcomes = list(graph.sections.values())
    if any(isinstance(o, Collected) for o in outcomes):
        return None
    return next(o for o in outcomes if isinstance(o, NotCollected))


# --------------------------------------------------------------------------- one tenant


async def collect(options: CollectOptions) -> Evidence:
    """Collect one tenant's evidence. Raises CollectionError only if nothing at all could be read."""
    _validate(options)
    imported = read_imports(options)  # a bad --import file is an input error, before any network call
    cloud = options.endpoints()
    graph_url = options.graph_base_url()
    credential = _credential(options, cloud)
    notes = await _preflight_notes(options, credential, cloud)
    settings = GraphSettings(
        base_url=graph_url,
        scopes=(cloud.graph_scope,),
        request_timeout=options.request_timeout,
        max_connections=options.max_connections,
        retry=options.retry,
    )
    conn = connect(credential, settings)
    at = datetime.now(timezone.utc)
    # detail mode with the probe: count which observed accounts are in-scope users (exact coverage)
    intersect = options.users_mode == UsersMode.DETAIL and options.probe_events_days is not None
    plan = GraphPlan(
        cloud=options.cloud,
        users_mode=options.users_mode,
        count_via=options.count_via,
        user_list_path=options.user_list_path,
        privileged_roles=options.privileged_roles,
        tenant_timeout=options.tenant_timeout,
        track_in_scope=intersect,
    )
    try:
        # the probe mostly waits for the audit search service, Exchange and ARM are other APIs: all alongside
        graph, probe, exchange, azure = await asyncio.gather(
            GraphSource(conn, plan, at).collect(),
            ProbeSource(conn, options, want_accounts=intersect).collect(),
            ExchangeSource(options, credential, imported).collect(),
            AzureSource(options, credential).collect(),
        )
        probe_outcome = _with_in_scope_counts(probe, graph) if intersect else probe.sections["audit_probe"]
        retention = exchange.sections.get("retention_policies")
        policies = retention.data if isinstance(retention, Collected) else None
        named, applications, (vip, vip_notes) = await asyncio.gather(
            resolve_named_users(conn, policy_user_ids(policies if isinstance(policies, RetentionPolicies) else None)),
            _applications(conn, options, probe_outcome, exchange.app_scoping, at),
            _vip_upns(conn, options.vip),
        )
        privileged = _privileged_upns(graph)
        probe_outcome = _with_clients(probe_outcome, probe.books, privileged | vip if privileged is not None else None)
    finally:
        await conn.aclose()
    notes.extend(vip_notes)
    if conn.budget.retries:
        notes.append(
            f"graph: {conn.budget.retries} retries after throttling/unavailability, {conn.budget.waited:.1f} s waited"
        )
    notes.extend(exchange.notes)
    notes.extend(azure.notes)
    notes.extend(named.notes)
    failed = _nothing_collected(graph)
    if failed is not None:
        raise CollectionError(f"collection failed for tenant {options.tenant}: {failed.reason}")
    notes.extend(_verify_tenant(graph.sections["tenant"], options))
    sections: dict[str, Outcome] = {
        **graph.sections,
        "users": _with_named_users(graph.sections["users"], named),
        **exchange.sections,
        "mailboxes": _joined_mailboxes(exchange, graph, options),
        **azure.sections,
        "audit_probe": probe_outcome,
    }
    if applications is not None:
        sections["applications"] = applications
    return _assemble(options, sections, graph_url, notes + list(graph.notes), at)


def collect_sync(options: CollectOptions) -> Evidence:
    """:func:`collect` for synchronous callers (runs its own event loop)."""
    return asyncio.run(collect(options))
