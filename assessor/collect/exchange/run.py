"""The Exchange part of one ``assessor collect`` run: imported files first, the admin API for the rest.

:func:`read_imports` runs before any network call (a bad file is an input error, exit 2);
:func:`exchange_evidence` then collects every section that was not imported, unless
``--no-exchange`` was given, and never raises for an API failure — each section is collected,
imported, or not_collected with the reason and the exact role that would fix it.

The options object is :class:`RunOptions`, the part of :class:`assessor.collect.CollectOptions`
this module reads (a protocol, so this module does not import the package that imports it).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Protocol

from assessor.collect.clouds import CloudEndpoints
from assessor.collect.exchange.appaccess import AppScoping, parse_grants, parse_policies
from assessor.collect.exchange.client import TokenSource
from assessor.collect.exchange.collector import (
    SECTIONS,
    ExchangeOutcome,
    ExchangePlan,
    ExchangeResult,
    collect_exchange,
    skipped_sections,
)
from assessor.collect.exchange.imports import ImportedSections, import_exchange
from assessor.collect.retry import RetryPolicy


class RunOptions(Protocol):
    """What the Exchange part reads of :class:`assessor.collect.CollectOptions` (a protocol, so this
    module does not import the package that imports it)."""

    @property
    def tenant(self) -> str: ...
    @property
    def exchange_endpoint(self) -> str | None: ...
    @property
    def compliance_endpoint(self) -> str | None: ...
    @property
    def no_exchange(self) -> bool: ...
    @property
    def imports(self) -> tuple[Path, ...]: ...
    @property
    def users_mode(self) -> str: ...
    @property
    def request_timeout(self) -> float: ...
    @property
    def retry(self) -> RetryPolicy: ...
    @property
    def probe_events_days(self) -> int | None: ...
    @property
    def vip(self) -> tuple[str, ...]: ...
    def endpoints(self) -> CloudEndpoints: ...


NO_EXCHANGE_REASON = (
    "skipped: --no-exchange was given (the same settings can be imported: run "
    "examples/export-exchange-audit.ps1 and pass its files with --import)"
)


def read_imports(options: RunOptions) -> ImportedSections:
    """The ``--import`` files of a run (raises EvidenceError naming file and field)."""
    paths = tuple(getattr(options, "imports", ()) or ())
    return import_exchange(paths, detail=getattr(options, "users_mode", "summary") == "detail")


def _retry(options: RunOptions) -> RetryPolicy:
    policy = getattr(options, "retry", None)
    return policy if isinstance(policy, RetryPolicy) else RetryPolicy()


def plan_for(options: RunOptions, skip: frozenset[str]) -> ExchangePlan:
    vip = tuple(getattr(options, "vip", ()) or ())
    return ExchangePlan(
        tenant=options.tenant,
        cloud=options.endpoints(),
        exchange_endpoint=options.exchange_endpoint,
        compliance_endpoint=options.compliance_endpoint,
        detail=options.users_mode == "detail",
        skip=skip,
        request_timeout=options.request_timeout,
        retry=_retry(options),
        vip=frozenset(vip) if vip else None,
    )


async def exchange_evidence(
    options: RunOptions, credential: TokenSource, imported: ImportedSections | None = None
) -> ExchangeResult:
    """All five Exchange sections for ``ExchangeEvidence`` (imported ones win over collection), and the
    aggregator the mailbox set was read with (imported or collected), for the join with the users."""
    imported = imported or ImportedSections({}, {})
    result = await _exchange_sections(options, credential, imported)
    if "mailboxes" in imported.sections:
        result.mailboxes = imported.mailboxes
    return result


async def _exchange_sections(
    options: RunOptions, credential: TokenSource, imported: ImportedSections
) -> ExchangeResult:
    sections: dict[str, ExchangeOutcome] = dict(imported.sections)
    notes = [f"exchange: {section} imported from {file}" for section, file in imported.files.items()]
    remaining = tuple(s for s in SECTIONS if s not in sections)
    scoping_wanted = getattr(options, "probe_events_days", None) is not None
    scoping = imported_scoping(imported) if scoping_wanted else None
    ask_api = scoping_wanted and scoping is None
    if not remaining and not ask_api:
        return ExchangeResult(sections, notes, app_scoping=scoping)
    if options.no_exchange:
        sections.update(skipped_sections(NO_EXCHANGE_REASON, None, remaining))
        return ExchangeResult(sections, notes, app_scoping=scoping or (NO_EXCHANGE_REASON if ask_api else None))
    plan = replace(plan_for(options, frozenset(sections)), app_scoping=ask_api)
    result = await collect_exchange(credential, plan)
    sections.update(result.sections)
    return ExchangeResult(
        {s: sections[s] for s in SECTIONS},
        notes + result.notes,
        result.stats,
        scoping or result.app_scoping,
        result.mailboxes,
    )


def imported_scoping(imported: ImportedSections) -> AppScoping | None:
    """The app-scoping exports, when Get-ApplicationAccessPolicy's is among the --import files."""
    rows = imported.app_scoping
    if "Get-ApplicationAccessPolicy" not in rows:
        return None
    files = ", ".join(imported.files[c] for c in rows)
    return AppScoping(
        parse_policies(rows["Get-ApplicationAccessPolicy"]),
        parse_grants(rows.get("Get-ManagementRoleAssignment", []), rows.get("Get-ServicePrincipal", [])),
        f"imported from {files}",
    )
