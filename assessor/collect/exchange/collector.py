"""Builds the five Exchange evidence sections from the admin API (and its compliance twin).

=================================  ==========================================  ===============
section                            cmdlet                                      endpoint
=================================  ==========================================  ===============
admin_audit_log_config             Get-AdminAuditLogConfig                     Exchange
organization_config                Get-OrganizationConfig                      Exchange
bypass                             Get-MailboxAuditBypassAssociation (paged)   Exchange
mailboxes                          Get-Mailbox -RecipientTypeDetails UserMailbox (paged, streamed)
retention_policies                 Get-UnifiedAuditLogRetentionPolicy          compliance
=================================  ==========================================  ===============

All five run concurrently; the first pages of the four Exchange cmdlets go in one ``$batch``
(``ExchangePlan.batch``; see :mod:`.client`), their next pages one by one. Every section ends up
either :class:`Collected` (its evidence model, built as the answer is normalised, so it is held to
the same rules as an imported or saved one) or :class:`NotCollected` with the reason and the role
that would fix it — a failure in one never hides another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import ValidationError

from assessor.collect.auth import Resource, StaticTokenCredential
from assessor.collect.clouds import CloudEndpoints, is_loopback, validate_endpoint
from assessor.collect.exchange.aggregate import BypassAggregator, MailboxAggregator, MailboxSink
from assessor.collect.exchange.appaccess import AppScoping, try_read_app_scoping
from assessor.collect.exchange.client import (
    ClientStats,
    ExchangeAuthError,
    ExchangeClient,
    ExchangeError,
    ExchangePagingError,
    ExchangePermissionError,
    ExchangeSettings,
    ExchangeTruncatedError,
    TokenSource,
)
from assessor.collect.exchange.normalize import (
    ADMIN_AUDIT_SELECT,
    BYPASS_SELECT,
    MAILBOX_SELECT,
    ORG_CONFIG_SELECT,
    RETENTION_SELECT,
    USER_MAILBOX,
    FieldError,
    audit_disabled,
    ingestion_enabled,
    retention_policies,
)
from assessor.collect.interface import Collected, NotCollected
from assessor.collect.retry import RetryPolicy
from assessor.collect.transport import new_client
from assessor.evidence import (
    AdminAuditLogConfig,
    MailboxAudit,
    MailboxAuditBypass,
    OrganizationConfig,
    RetentionPolicies,
    describe_validation_error,
)

EXCHANGE_FIX = "Exchange.ManageAsApp (application) + Global Reader (Entra role)"
COMPLIANCE_FIX = "Purview Organization Configuration role (it can also delete policies; no read-only role works)"
SECTIONS = ("admin_audit_log_config", "organization_config", "bypass", "mailboxes", "retention_policies")
CMDLETS = {
    "admin_audit_log_config": "Get-AdminAuditLogConfig",
    "organization_config": "Get-OrganizationConfig",
    "bypass": "Get-MailboxAuditBypassAssociation",
    "mailboxes": "Get-Mailbox",
    "retention_policies": "Get-UnifiedAuditLogRetentionPolicy",
}
COMPLIANCE_SECTIONS = frozenset({"retention_policies"})
# What an Exchange section holds: one of the five evidence models, or why it is not there.
ExchangeData = AdminAuditLogConfig | OrganizationConfig | MailboxAuditBypass | MailboxAudit | RetentionPolicies
ExchangeOutcome = Collected[ExchangeData] | NotCollected
M = TypeVar("M", bound=ExchangeData)
IMPORT_ROUTE = (
    "export the cmdlet's output with examples/export-exchange-audit.ps1 (Exchange Online PowerShell pages "
    "it itself) and pass the file with --import"
)


def fix_for(section: str) -> str:
    """The role that lets ``section`` be collected."""
    return COMPLIANCE_FIX if section in COMPLIANCE_SECTIONS else EXCHANGE_FIX


@dataclass(frozen=True)
class ExchangePlan:
    """What to collect from which endpoints."""

    tenant: str
    cloud: CloudEndpoints
    exchange_endpoint: str | None = None
    compliance_endpoint: str | None = None
    detail: bool = False
    skip: frozenset[str] = frozenset()  # sections obtained otherwise (imported)
    request_timeout: float = 60.0
    page_size: int = 1000
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    app_scoping: bool = False  # also read what scopes app-only mail access (when the probe runs)
    vip: frozenset[str] | None = None  # --vip UPNs or object ids: their mailboxes are counted per group
    batch: bool = True  # the Exchange cmdlets' first pages in one $batch (False: one POST each)

    def exchange_settings(self) -> ExchangeSettings:
        base = (
            validate_endpoint(self.exchange_endpoint, "--exchange-endpoint")
            if self.exchange_endpoint
            else self.cloud.exchange_url
        )
        return ExchangeSettings(
            base,
            self.tenant,
            self.cloud.exchange_scope,
            "Exchange admin API",
            self.page_size,
            self.request_timeout,
            retry=self.retry,
            batch=self.batch,
        )

    def compliance_settings(self) -> ExchangeSettings:
        base = (
            validate_endpoint(self.compliance_endpoint, "--compliance-endpoint")
            if self.compliance_endpoint
            else self.cloud.compliance_url
        )
        # The regional host is discovered from the cloud's front door (a pinned non-loopback
        # endpoint is taken as it is; the sandbox on loopback is discovered like a real tenant).
        pinned = bool(self.compliance_endpoint) and not is_loopback(urlsplit(base).hostname or "")
        return ExchangeSettings(
            base,
            self.tenant,
            self.cloud.compliance_scope,
            "Security & Compliance admin API",
            self.page_size,
            self.request_timeout,
            retry=self.retry,
            discover_host=None if pinned else self.cloud.compliance_host,
            discover_domain=None if pinned else self.cloud.compliance_domain,
        )


@dataclass
class ExchangeResult:
    sections: dict[str, ExchangeOutcome]  # section name → its model, or why not
    notes: list[str] = field(default_factory=list)
    stats: dict[str, ClientStats] = field(default_factory=dict)
    app_scoping: AppScoping | str | None = None  # the scoping read, or why it could not be
    mailboxes: MailboxAggregator | None = None  # the aggregator of the mailbox set, for the join with the users


# --------------------------------------------------------------------------- not collected


def not_collected(
    section: str, reason: str, fix: str | None, source: str | None = None, at: datetime | None = None
) -> NotCollected:
    return NotCollected(reason, fix, source or CMDLETS[section], at=at)


def skipped_sections(
    reason: str, fix: str | None = None, sections: tuple[str, ...] = SECTIONS
) -> dict[str, ExchangeOutcome]:
    """Every listed section not_collected for one reason (e.g. ``--no-exchange``)."""
    return {s: not_collected(s, reason, fix if fix is not None else fix_for(s)) for s in sections}


def _failure(section: str, error: ExchangeError, source: str, at: datetime) -> NotCollected:
    fix = fix_for(section)
    if isinstance(error, ExchangePermissionError):
        return not_collected(section, f"permission missing: {error.describe()}; needs {fix}", fix, source, at)
    if isinstance(error, ExchangeAuthError):
        return not_collected(section, f"not authenticated: {error.describe()}", fix, source, at)
    if isinstance(error, ExchangeTruncatedError | ExchangePagingError):
        return not_collected(
            section, f"only part of the set could be read: {error.describe()}; {IMPORT_ROUTE}", IMPORT_ROUTE, source, at
        )
    return not_collected(section, error.describe(), None, source, at)


def _missing_token(credential: TokenSource, resource: Resource) -> bool:
    return isinstance(credential, StaticTokenCredential) and not credential.has(resource)


# --------------------------------------------------------------------------- readers


async def _single_row(client: ExchangeClient, cmdlet: str, select: tuple[str, ...]) -> object:
    rows = await client.invoke(cmdlet, {}, select)
    if len(rows) != 1:
        raise FieldError("value", f"{cmdlet} returned {len(rows)} objects, expected exactly one")
    return rows[0]


async def read_admin_audit_log_config(client: ExchangeClient, _detail: bool) -> AdminAuditLogConfig:
    row = await _single_row(client, "Get-AdminAuditLogConfig", ADMIN_AUDIT_SELECT)
    return AdminAuditLogConfig(unified_audit_log_ingestion_enabled=ingestion_enabled(row))


async def read_organization_config(client: ExchangeClient, _detail: bool) -> OrganizationConfig:
    row = await _single_row(client, "Get-OrganizationConfig", ORG_CONFIG_SELECT)
    return OrganizationConfig(audit_disabled=audit_disabled(row))


F = TypeVar("F", covariant=True)


class _Fold(Protocol[F]):
    def add_all(self, rows: Iterable[object], where: str = "") -> None: ...

    def result(self) -> F: ...


async def read_whole_set(
    client: ExchangeClient,
    cmdlet: str,
    parameters: Mapping[str, str],
    select: tuple[str, ...],
    fold: Callable[[], _Fold[M]],
) -> M:
    """A paged cmdlet folded page by page, whole or not at all.

    The chain is read with the affinity header on every request; a next page that fails anyway
    restarts the chain once with a fresh fold (nothing of the failed attempt is kept); a second
    failure falls back to one answer without a page-size preference, which needs no replay. An
    answer that still announces more results raises :class:`ExchangeTruncatedError`.
    """
    for attempt in range(2):
        agg = fold()
        try:
            async for page in client.pages(cmdlet, parameters, select):
                agg.add_all(page, "value")
            return agg.result()
        except ExchangePagingError:
            if attempt == 0:
                client.stats.restarts += 1
    client.stats.unpaged += 1
    agg = fold()
    try:
        async for page in client.pages(cmdlet, parameters, select, paged=False):
            agg.add_all(page, "value")
    except ExchangeTruncatedError as err:
        raise ExchangeTruncatedError(
            err.cmdlet,
            err.endpoint,
            err.status,
            err.code,
            f"next pages failed twice and one unpaged answer was not whole ({err.message})",
        ) from None
    return agg.result()


async def read_bypass(client: ExchangeClient, _detail: bool) -> MailboxAuditBypass:
    params = {"ResultSize": "Unlimited"}
    return await read_whole_set(client, "Get-MailboxAuditBypassAssociation", params, BYPASS_SELECT, BypassAggregator)


async def read_mailboxes(
    client: ExchangeClient, detail: bool, vip: frozenset[str] | None = None, sink: MailboxSink | None = None
) -> MailboxAudit:
    """One paged stream of user mailboxes, folded into configuration groups as pages arrive (the
    aggregator of the whole set is left in ``sink`` for the join with the users)."""
    params = {"RecipientTypeDetails": USER_MAILBOX, "ResultSize": "Unlimited"}

    def fold() -> MailboxAggregator:
        agg = MailboxAggregator(detail=detail, vip=vip)
        if sink is not None:
            sink.aggregator = agg
        return agg

    return await read_whole_set(client, "Get-Mailbox", params, MAILBOX_SELECT, fold)


async def read_retention_policies(client: ExchangeClient, _detail: bool) -> RetentionPolicies:
    return retention_policies(await client.invoke("Get-UnifiedAuditLogRetentionPolicy", {}, RETENTION_SELECT), "value")


Reader = Callable[[ExchangeClient, bool], Awaitable[ExchangeData]]
READERS: dict[str, Reader] = {
    "admin_audit_log_config": read_admin_audit_log_config,
    "organization_config": read_organization_config,
    "bypass": read_bypass,
    "mailboxes": read_mailboxes,
    "retention_policies": read_retention_policies,
}


def _source(section: str, client: ExchangeClient) -> str:
    return f"{CMDLETS[section]} via {client.base_url}/{client.settings.tenant}/InvokeCommand"


async def read_section(
    section: str, client: ExchangeClient, detail: bool = False, reader: Reader | None = None
) -> ExchangeOutcome:
    """One section: its evidence model, or why it could not be read."""
    at = datetime.now(timezone.utc)
    try:
        data = await (reader or READERS[section])(client, detail)
    except ExchangeError as err:
        return _failure(section, err, _source(section, client), at)
    except FieldError as err:
        return not_collected(
            section, f"{CMDLETS[section]} answered an unexpected object: {err}", None, _source(section, client), at
        )
    except ValidationError as err:
        return not_collected(
            section,
            f"{CMDLETS[section]} answer is inconsistent: {describe_validation_error(err)}",
            None,
            _source(section, client),
            at,
        )
    return Collected(data, _source(section, client), at=at)


# --------------------------------------------------------------------------- orchestration


def _unavailable(plan: ExchangePlan, credential: TokenSource, api: str) -> str | None:
    """Why an API cannot be called at all (no network is needed to know), else None."""
    override = plan.exchange_endpoint if api == "exchange" else plan.compliance_endpoint
    if plan.cloud.name == "china" and not override:
        return (
            f"the {'Exchange' if api == 'exchange' else 'Security & Compliance'} admin API is not supported "
            "for the china cloud (21Vianet) by this tool; use --import with exported JSON"
        )
    if _missing_token(credential, "exchange" if api == "exchange" else "compliance"):
        var = "ASSESSOR_EXCHANGE_TOKEN" if api == "exchange" else "ASSESSOR_COMPLIANCE_TOKEN"
        return f"no {api} token: --auth token was given without {var}"
    return None


def _wanted(plan: ExchangePlan, api: str) -> list[str]:
    own = [s for s in SECTIONS if (s in COMPLIANCE_SECTIONS) == (api == "compliance")]
    return [s for s in own if s not in plan.skip]


def _stats_note(api: str, client: ExchangeClient) -> str:
    s = client.stats
    text = f"{api}: {s.requests} requests, {s.pages} pages, {s.rows} rows"
    if s.batches:
        text += f" ({s.batched} first pages in {s.batches} $batch request{'s' if s.batches > 1 else ''})"
    if client.batch_note:
        text += f", {client.batch_note}"
    if s.retries:
        text += f", {s.retries} retries ({s.waited:.1f} s waited)"
    if client.discovery_note:
        text += f", {client.discovery_note}"
    elif s.redirects:
        text += f", redirected to {client.base_url}"
    if s.restarts:
        text += f", {s.restarts} paging chain(s) restarted after a failed next page"
    if s.unpaged:
        text += f", {s.unpaged} set(s) read in one unpaged answer after paging failed twice"
    return text


def _reader(plan: ExchangePlan, section: str, sink: MailboxSink) -> Reader | None:
    if section != "mailboxes":
        return None
    return lambda client, detail: read_mailboxes(client, detail, plan.vip, sink)


async def _scoping_task(
    plan: ExchangePlan, credential: TokenSource, clients: list[tuple[str, ExchangeClient]], http: httpx.AsyncClient
) -> AppScoping | str | None:
    if not plan.app_scoping:
        return None
    why = _unavailable(plan, credential, "exchange")
    if why is not None:
        return why
    client = next((c for api, c in clients if api == "exchange"), None)
    if client is None:  # every Exchange section was imported: the scoping cmdlets still need a client
        client = ExchangeClient(plan.exchange_settings(), credential, http)
        clients.append(("exchange", client))
    return await try_read_app_scoping(client)


async def collect_exchange(
    credential: TokenSource, plan: ExchangePlan, http: httpx.AsyncClient | None = None
) -> ExchangeResult:
    """Collect every section not in ``plan.skip``; never raises for an API failure. The result keeps
    the aggregator the mailbox set was read with, for the join with the users."""
    result = ExchangeResult(sections={})
    sink = MailboxSink()
    own_http = http is None
    shared = http or new_client(httpx.Timeout(plan.request_timeout, connect=10.0))
    clients: list[tuple[str, ExchangeClient]] = []
    tasks: dict[str, Awaitable[ExchangeOutcome]] = {}
    try:
        for api, settings in (("exchange", plan.exchange_settings), ("compliance", plan.compliance_settings)):
            sections = _wanted(plan, api)
            if not sections:
                continue
            why = _unavailable(plan, credential, api)
            if why is not None:
                result.sections.update(skipped_sections(why, None, tuple(sections)))
                continue
            client = ExchangeClient(settings(), credential, shared)
            clients.append((api, client))
            tasks.update({s: read_section(s, client, plan.detail, _reader(plan, s, sink)) for s in sections})
        scoping = _scoping_task(plan, credential, clients, shared)
        outcomes, result.app_scoping = await asyncio.gather(asyncio.gather(*tasks.values()), scoping)
        result.sections.update(dict(zip(tasks, outcomes, strict=True)))
        result.mailboxes = sink.aggregator
    finally:
        if own_http:
            await shared.aclose()
    for api, client in clients:
        result.stats[api] = client.stats
        result.notes.append(_stats_note(api, client))
    return result
