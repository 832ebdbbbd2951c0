"""Collection: the only part of the assessor that talks to the network.

The CLI builds a :class:`CollectOptions` and calls :func:`collect` (async) or
:func:`collect_sync`; the result is an :class:`~assessor.evidence.Evidence` whose every section
says whether it was collected, and if not, why and what would fix it.

    options = CollectOptions(tenant="contoso.com", auth=AuthOptions(mode="token"),
                             graph_endpoint="http://127.0.0.1:8080/<tenant-id>/v1.0", no_exchange=True)
    evidence = collect_sync(options)

The Graph sections (tenant, skus, users, privileged), the Exchange/Purview sections
(:mod:`assessor.collect.exchange`: ``--import`` files first, the admin API for the rest) and the
audit probe and the Azure side (:mod:`assessor.collect.azure`: where the logs go) run concurrently.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError

import assessor
from assessor.collect.auth import AuthOptions, StaticTokenCredential, build_credential
from assessor.collect.clouds import CloudEndpoints, cloud_endpoints, validate_endpoint
from assessor.collect.exchange import SECTIONS as EXCHANGE_SECTIONS
from assessor.collect.exchange import (
    ExchangeResult,
    ImportedSections,
    exchange_evidence,
    read_imports,
    skipped_sections,
)
from assessor.collect.graph import (
    Collected,
    GraphPlan,
    GraphResult,
    GraphSettings,
    NotCollected,
    collect_graph,
    connect,
)
from assessor.collect.graph.client import GraphConnection
from assessor.collect.graph.named import NamedUsers, policy_user_ids, resolve_named_users
from assessor.collect.graph.outcome import GraphFailure, provenance
from assessor.collect.permissions import EXCHANGE_API, PreflightResult, preflight, required_permissions
from assessor.collect.probe.clients import ClientBooks
from assessor.collect.retry import RetryPolicy
from assessor.errors import CollectionError, UsageError
from assessor.evidence import (
    GUID,
    TENANT_ID_PATTERN,
    Applications,
    Evidence,
    Meta,
    Provenance,
    Tenant,
    map_strings,
)
from assessor.redact import may_need_redaction, redact

__all__ = [
    "AuthOptions",
    "CollectOptions",
    "RetryPolicy",
    "collect",
    "collect_sync",
    "graph_preflight",
    "required_permissions",
]

UsersMode = Literal["summary", "detail"]


@dataclass(frozen=True)
class CollectOptions:
    """Everything one tenant's collection needs. Holds no secret values."""

    tenant: str
    cloud: str = "global"
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
    users_mode: UsersMode = "summary"
    user_list_path: Path | None = None
    count_via: Literal["batch", "parallel"] = "batch"
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
    if options.users_mode not in ("summary", "detail"):
        raise UsageError(f"--users must be summary or detail, not {options.users_mode!r}")
    if options.user_list_path is not None and options.users_mode != "detail":
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


# --------------------------------------------------------------------------- not-yet-collected sections


def _skipped(reason: str, fix: str | None = None, source: str | None = None) -> dict[str, Any]:
    return {"provenance": {"status": "not_collected", "reason": reason, "fix": fix, "source": source}}


async def _probe_section(
    conn: GraphConnection,
    options: CollectOptions,
    observed: dict[str, set[str]] | None = None,
    books: list[ClientBooks] | None = None,
) -> dict[str, Any]:
    if options.probe_events_days is None:
        skipped = _skipped(
            "the audit-log probe was not requested (--probe-events DAYS)", None, "POST /security/auditLog/queries"
        )
        skipped["provenance"]["requested"] = False
        return skipped
    from assessor.collect.probe import ProbeSettings, all_event_operations, probe_events

    section = await probe_events(
        conn.client,
        cloud=options.cloud,
        operations=options.probe_operations or all_event_operations(),
        days=options.probe_events_days,
        timeout=options.probe_timeout,
        keep_records=options.keep_records,
        observed_accounts=observed,
        settings=ProbeSettings(recent_days=options.recent_days),
        client_books=books,
    )
    return section.model_dump()


# --------------------------------------------------------------------------- mail clients


def _privileged_upns(result: GraphResult) -> set[str] | None:
    """UPNs of the privileged users (None when the role holders were not collected)."""
    outcome = result.outcomes.get("privileged")
    if not isinstance(outcome, Collected):
        return None
    return {
        h.user.user_principal_name.lower()
        for h in outcome.data.holders
        if h.principal_type == "user" and h.user is not None and h.user.user_principal_name
    }


async def _vip_upns(conn: GraphConnection, vip: tuple[str, ...], notes: list[str]) -> set[str]:
    """--vip entries as UPNs: object ids are looked up (one $batch); an id that fails is noted."""
    upns = {v.lower() for v in vip if "@" in v}
    ids = [v for v in vip if "@" not in v]
    if ids:
        from assessor.collect.graph.users import fetch_users

        try:
            found, failed = await fetch_users(conn, ids)
        except GraphFailure as failure:
            notes.append(f"vip: object ids not resolved ({failure.describe()}); those mailboxes are not watched")
            return upns
        upns.update(u.user_principal_name.lower() for u in found.values() if u.user_principal_name)
        for name in failed:
            notes.append(f"vip: {name} matches no user (or could not be read); not watched")
    return upns


def _attach_clients(probe: dict[str, Any], books: list[ClientBooks], watched: set[str] | None) -> None:
    """Privileged/VIP reach per client and the watched mailboxes' MailItemsAccessed coverage."""
    data = probe.get("data")
    if not isinstance(data, dict) or not books or not books[0].books:
        return
    book = books[0]
    data["clients"] = [c.model_dump() for c in book.observations(watched)]
    if watched is not None:
        seen = book.watched_mailboxes(watched)
        data["watched"] = seen.model_dump() if seen is not None else None


def _client_app_ids(probe: dict[str, Any]) -> list[str]:
    data = probe.get("data")
    clients = data.get("clients") if isinstance(data, dict) else None
    ids: dict[str, None] = {}
    for c in clients or []:
        ids[c["app_id"]] = None
        if c.get("client_app_id"):
            ids[c["client_app_id"]] = None
    return list(ids)


async def _applications(
    conn: GraphConnection, options: CollectOptions, probe: dict[str, Any], exchange: ExchangeResult, at: datetime
) -> dict[str, Any] | None:
    """The ``applications`` section (only when the probe ran): AppIds resolved, mail permissions scoped."""
    if options.probe_events_days is None:
        return None
    from assessor.collect.exchange.appaccess import AppScoping, apply_scoping
    from assessor.collect.graph.applications import resolve_applications

    outcome = await resolve_applications(conn, _client_app_ids(probe))
    if isinstance(outcome, Collected):
        apps: Applications = outcome.data
        scoping = exchange.app_scoping
        if apps.mail_permissions is not None:
            if isinstance(scoping, AppScoping):
                apps = apps.model_copy(update={"mail_permissions": apply_scoping(apps.mail_permissions, scoping)})
            else:
                why = scoping or "the Exchange admin API was not asked for application access policies"
                apps = apps.model_copy(update={"scoping_unavailable": why})
        outcome = Collected(apps, outcome.source, outcome.notes)
    return _section(outcome, at)


def _count_in_scope_observed(
    probe: dict[str, Any], observed: dict[str, set[str]], in_scope: set[str], ids: dict[str, str]
) -> None:
    """Detail mode: how many of each operation's observed accounts are in-scope users. Actors the
    records name only by object id count when the id is an enumerated in-scope user's."""
    data = probe.get("data")
    if not isinstance(data, dict):
        return
    for name, obs in (data.get("operations") or {}).items():
        seen = observed.get(name)
        if seen is None or not isinstance(obs, dict):
            continue
        accounts = {key for key in seen if "@" in key}
        guids = seen - accounts
        resolved = {ids[g] for g in guids if g in ids}
        users = accounts | resolved
        obs["in_scope_users"] = len(users & in_scope)
        obs["distinct_users"] = len(users)
        actors = obs.get("actors")
        if isinstance(actors, dict):
            actors["accounts"] = len(users)
            actors["ids"] = len([g for g in guids if g not in ids])


async def _bounded_exchange(
    options: CollectOptions, credential: TokenCredential, imported: ImportedSections
) -> ExchangeResult:
    """The Exchange part under the same --tenant-timeout as the Graph part; on expiry every section
    that was not imported is not_collected (timed out)."""
    try:
        return await asyncio.wait_for(exchange_evidence(options, credential, imported), options.tenant_timeout)
    except asyncio.TimeoutError:
        reason = f"timed out: the tenant's collection exceeded {options.tenant_timeout:g} s"
        sections = dict(imported.sections)
        missing = tuple(s for s in EXCHANGE_SECTIONS if s not in sections)
        sections.update(skipped_sections(reason, "retry later or raise --tenant-timeout", missing))
        return ExchangeResult({s: sections[s] for s in EXCHANGE_SECTIONS}, [f"exchange: {reason}"])


async def _log_export_section(options: CollectOptions, credential: TokenCredential) -> tuple[dict[str, Any], list[str]]:
    """Where the logs go, read from Azure Resource Manager (or not requested: --no-azure)."""
    from assessor.collect.azure import log_export_section, skipped_section

    if options.no_azure:
        return skipped_section(), []
    return await log_export_section(
        options.arm_base_url(),
        options.endpoints().arm_scope,
        credential,
        subscriptions=tuple(s.strip() for s in options.azure_subscriptions),
        request_timeout=options.request_timeout,
        timeout=options.tenant_timeout,
        retry=options.retry,  # the tenant's retry policy, as for Graph and Exchange
    )


# --------------------------------------------------------------------------- assembly


def _section(outcome: Collected[Any] | NotCollected, at: datetime) -> dict[str, Any]:
    data = outcome.data if isinstance(outcome, Collected) else None
    return {"provenance": provenance(outcome, at), "data": data}


def _verify_tenant(result: GraphResult, options: CollectOptions) -> list[str]:
    """The endpoint must have answered for ``--tenant``: a wrong endpoint or a credential signed in to
    another tenant would otherwise file one customer's figures under another's name."""
    org = result.outcomes["tenant"]
    if not isinstance(org, Collected):
        return [f"tenant: not verified that the data is {options.tenant}'s (organization not collected)"]
    tenant: Tenant = org.data
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


def _tenant(result: GraphResult, options: CollectOptions, notes: list[str], at: datetime) -> Tenant:
    org = result.outcomes["tenant"]
    origin = Provenance.model_validate(provenance(org, at))
    if isinstance(org, Collected):
        return org.data.model_copy(update={"provenance": origin})  # type: ignore[no-any-return]
    notes.append(f"tenant: organization not collected ({org.reason}); tenant id taken from --tenant")
    return Tenant(id=options.tenant, cloud=options.cloud, provenance=origin)


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
    options: CollectOptions,
    result: GraphResult,
    graph_url: str,
    notes: list[str],
    at: datetime,
    probe: dict[str, Any],
    exchange: dict[str, Any],
    log_export: dict[str, Any],
    applications: dict[str, Any] | None = None,
) -> Evidence:
    all_notes = notes + result.notes()
    tenant = _tenant(result, options, all_notes, at)
    meta = Meta(
        tool_version=assessor.__version__,
        collected_at=at,
        collector=options.collector,
        endpoints=_endpoints(options, graph_url),
        notes=all_notes,
    )
    evidence = Evidence.model_validate(
        {
            "schema": "assessor.evidence/1",
            "meta": meta,
            "tenant": tenant,
            "skus": _section(result.outcomes["skus"], at),
            "users": _section(result.outcomes["users"], at),
            "privileged": _section(result.outcomes["privileged"], at),
            "exchange": exchange,
            "audit_probe": probe,
            "log_export": log_export,
            "applications": applications,
            "vip": list(options.vip) if options.vip else None,
        }
    )
    return _redacted(evidence)


def _redacted(evidence: Evidence) -> Evidence:
    """Last line of defence: no registered secret, bearer header or JWT anywhere in the evidence.

    The whole document is scanned once (as JSON) first; only when it could hold one is every
    string redacted and the evidence rebuilt (most tenants' evidence holds none)."""
    if not may_need_redaction(evidence.model_dump_json(by_alias=True)):
        return evidence
    return Evidence.model_validate(map_strings(evidence.model_dump(by_alias=True), redact))


def _attach_named_users(result: GraphResult, named: NamedUsers) -> None:
    """Put the users retention policies name into the users section (the engine needs their licences)."""
    users = result.outcomes["users"]
    if isinstance(users, Collected) and (named.found or named.unresolved):
        data = users.data.model_copy(update={"named": named.found, "unresolved_names": named.unresolved})
        result.outcomes["users"] = replace(users, data=data)


def _nothing_collected(result: GraphResult) -> NotCollected | None:
    outcomes = list(result.outcomes.values())
    if any(isinstance(o, Collected) for o in outcomes):
        return None
    return next(o for o in outcomes if isinstance(o, NotCollected))


async def collect(options: CollectOptions) -> Evidence:
    """Collect one tenant's evidence. Raises CollectionError only if nothing at all could be read."""
    _validate(options)
    imported = read_imports(options)  # a bad --import file is an input error, before any network call
    cloud = options.endpoints()
    graph_url = options.graph_base_url()
    credential = _credential(options, cloud)
    notes: list[str] = []
    app_only = options.auth.mode in ("secret", "certificate", "managed-identity") and options.credential is None
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
    intersect = options.users_mode == "detail" and options.probe_events_days is not None
    observed: dict[str, set[str]] = {}
    books: list[ClientBooks] = []
    try:
        plan = GraphPlan(
            cloud=options.cloud,
            users_mode=options.users_mode,
            count_via=options.count_via,
            user_list_path=options.user_list_path,
            privileged_roles=options.privileged_roles,
            tenant_timeout=options.tenant_timeout,
            in_scope_keys=set() if intersect else None,
            in_scope_ids={} if intersect else None,
        )
        # the probe mostly waits for the audit search service, Exchange is another API: run all alongside
        result, probe, exchange, (log_export, azure_notes) = await asyncio.gather(
            collect_graph(conn, plan),
            _probe_section(conn, options, observed if intersect else None, books),
            _bounded_exchange(options, credential, imported),
            _log_export_section(options, credential),
        )
        users_done = isinstance(result.outcomes.get("users"), Collected)
        if intersect and users_done and plan.in_scope_keys is not None:
            _count_in_scope_observed(probe, observed, plan.in_scope_keys, plan.in_scope_ids or {})
        observed.clear()
        named, applications, vip = await asyncio.gather(
            resolve_named_users(conn, policy_user_ids(exchange.sections.get("retention_policies"))),
            _applications(conn, options, probe, exchange, at),
            _vip_upns(conn, options.vip, notes),
        )
        privileged = _privileged_upns(result)
        _attach_clients(probe, books, privileged | vip if privileged is not None else None)
        books.clear()
    finally:
        await conn.aclose()
    if conn.budget.retries:
        notes.append(
            f"graph: {conn.budget.retries} retries after throttling/unavailability, {conn.budget.waited:.1f} s waited"
        )
    notes.extend(exchange.notes)
    notes.extend(azure_notes)
    notes.extend(named.notes)
    _attach_named_users(result, named)
    failed = _nothing_collected(result)
    if failed is not None:
        raise CollectionError(f"collection failed for tenant {options.tenant}: {failed.reason}")
    notes.extend(_verify_tenant(result, options))
    return _assemble(options, result, graph_url, notes, at, probe, exchange.sections, log_export, applications)


def collect_sync(options: CollectOptions) -> Evidence:
    """:func:`collect` for synchronous callers (runs its own event loop)."""
    return asyncio.run(collect(options))
