"""One pipeline for ``assess``, ``collect`` and ``bulk``: target → collect → seal → evaluate → render.

A *target* is either a tenant to collect from (:class:`~assessor.collect.CollectOptions`: a real
tenant, or a sandbox tenant once :func:`sandbox_options` has resolved its endpoints) or a saved
evidence file (:class:`EvidenceFile`). Everything that adds to the evidence — Graph, Exchange, the
probe, ``--import`` files and the ``--attest`` attestation — happens in :func:`gather`, *before*
the evidence is sealed, so the document that is assessed, saved and named by the report's digest
is one and the same (``evidence_integrity: intact``).

The steps are ordered here and only here; the CLI parses options into targets and settings, and
the bulk scheduler calls :class:`BulkAssess` for each tenant of a manifest.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from assessor.bulk.command import BulkOutcome, BulkRequest, run_bulk
from assessor.bulk.manifest import SandboxConfig, TenantEntry
from assessor.bulk.runner import TenantJob, TenantSummary
from assessor.bulk.settings import (
    EVIDENCE_FILE,
    PipelineSettings,
    SandboxResolver,
    SandboxTarget,
    report_summary,
    settings_fingerprint,
)
from assessor.collect import CollectOptions, RetryPolicy, collect
from assessor.collect.attestation import AttestationSource, attach, attested_section
from assessor.collect.auth import AuthOptions, StaticTokenCredential
from assessor.engine.model import Report
from assessor.engine.runner import evaluate
from assessor.evidence import Evidence, SealedDocument, evidence_to_dict, integrity, load_evidence, sealed_document
from assessor.evidence import write_json_atomic as _write_json
from assessor.evidence import write_text_atomic as _write_text
from assessor.profiles import Profile
from assessor.report import RENDERERS, RenderOptions
from assessor.report.prices import PriceList
from assessor.report.pseudonymize import pseudonymize_report
from assessor.trace import tenant_label, trace_label
from assessor.vocabulary import AuthMode, Cloud

if TYPE_CHECKING:
    from assessor.sandbox.server import SandboxServer

SANDBOX_TOKEN = "sandbox-static-token"  # noqa: S105 - the in-process sandbox accepts any bearer token


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class EvidenceFile:
    """A saved evidence document, evaluated offline."""

    path: Path


Target = CollectOptions | EvidenceFile


def sandbox_options(
    target: SandboxTarget,
    base: CollectOptions | None = None,
    *,
    no_exchange: bool = False,
    no_azure: bool = False,
) -> CollectOptions:
    """Collection options that read a served sandbox tenant through the real clients (static tokens);
    everything else as in ``base``."""
    endpoints = dict(target.other_endpoints)
    token = StaticTokenCredential(
        {"graph": SANDBOX_TOKEN, "exchange": SANDBOX_TOKEN, "compliance": SANDBOX_TOKEN, "arm": SANDBOX_TOKEN}
    )
    options = base or CollectOptions(tenant=target.tenant_id)
    return replace(
        options,
        tenant=target.tenant_id,
        cloud=Cloud(target.cloud),
        auth=AuthOptions(mode=AuthMode.TOKEN),
        graph_endpoint=target.graph_url,
        exchange_endpoint=endpoints.get("exchange_endpoint"),
        compliance_endpoint=endpoints.get("compliance_endpoint"),
        no_exchange=no_exchange or options.no_exchange or "exchange_endpoint" not in endpoints,
        arm_endpoint=endpoints.get("arm_endpoint"),
        no_azure=no_azure or options.no_azure or "arm_endpoint" not in endpoints,
        credential=token,
    )


def collect_options(server: SandboxServer, name: str, **overrides: Any) -> CollectOptions:
    """Options that collect tenant ``name`` from a running sandbox ``server`` with a static token
    (Graph only unless ``overrides`` name the Exchange endpoints: ``**server.exchange_endpoints(name)``).

    ``overrides`` are CollectOptions fields of any type (tests and benchmarks pick them)."""
    tenant = server.state(name).tenant
    credential = StaticTokenCredential({"graph": SANDBOX_TOKEN, "exchange": SANDBOX_TOKEN, "compliance": SANDBOX_TOKEN})
    options = CollectOptions(
        tenant=tenant.id,
        cloud=Cloud(tenant.cloud),
        auth=AuthOptions(mode=AuthMode.TOKEN),
        graph_endpoint=server.graph_url(tenant.id),
        credential=credential,
        collector="sandbox",
    )
    return replace(options, **overrides)


@contextlib.contextmanager
def sandbox_tenants(names: Sequence[str], config: SandboxConfig | None = None) -> Iterator[SandboxResolver]:
    """One in-process sandbox server serving ``names`` (bundled tenants, or fleet tenants of ``config``)."""
    from assessor.sandbox.fleet import FleetSpec, add_fleet
    from assessor.sandbox.server import SandboxServer
    from assessor.sandbox.spec import list_tenants

    config = config or SandboxConfig()
    server = SandboxServer(latency_ms=config.latency_ms or None)
    bundled = set(list_tenants())
    for name in sorted(set(names)):
        if name in bundled:
            server.add_tenant(name)
    if config.fleet is not None and any(n not in bundled for n in names):
        fleet = config.fleet
        add_fleet(server, FleetSpec(fleet.count, fleet.prefix, fleet.users, fleet.failing, fleet.stall_seconds))

    def resolve(name: str) -> SandboxTarget:
        tenant = server.state(name).tenant
        endpoints = {**server.exchange_endpoints(tenant.id), **server.arm_endpoints(tenant.id)}
        return SandboxTarget(tenant.id, server.graph_url(name), tenant.cloud, endpoints)

    with server:
        yield resolve


class BundledSandbox:
    """The sandbox as the bulk command sees it: which names exist, and serving them for a run."""

    def names(self, config: SandboxConfig) -> set[str]:
        from assessor.sandbox.fleet import FleetSpec
        from assessor.sandbox.spec import list_tenants

        names = set(list_tenants())
        if config.fleet is not None:
            fleet = config.fleet
            names.update(FleetSpec(fleet.count, fleet.prefix, fleet.users).names())
        return names

    def serve(self, config: SandboxConfig, names: Sequence[str]) -> contextlib.AbstractContextManager[SandboxResolver]:
        return sandbox_tenants(names, config)


# --------------------------------------------------------------------------- collect (+ attest) → seal


@dataclass(frozen=True)
class Gathered:
    """The evidence to assess, and whether it differs from any file already on disk."""

    evidence: Evidence
    changed: bool
    sealed: SealedDocument | None = None  # what sealing it here made (its document as written, one dump)


async def gather(target: Target, attestation: Path | AttestationSource | None = None) -> Gathered:
    """Collect (or load) the evidence, add the attestation, then seal it.

    A loaded file is re-sealed only when it was intact before the attestation was added: one that
    no longer matched its seal stays ``altered`` (re-sealing would hide the alteration), and an
    unsealed one stays unsealed.
    """
    source = AttestationSource.read(attestation) if isinstance(attestation, Path) else attestation
    section = await attested_section(source) if source is not None else None
    if isinstance(target, EvidenceFile):
        evidence = load_evidence(target.path)
        if section is None:
            return Gathered(evidence, changed=False)
        was_intact = integrity(evidence)[1] == "intact"
        evidence = attach(evidence, section)
        if not was_intact:
            return Gathered(evidence, changed=True)
        evidence, proof = sealed_document(evidence)
        return Gathered(evidence, changed=True, sealed=proof)
    evidence = await collect(target)
    if section is not None:
        evidence = attach(evidence, section)  # beside what was read from Azure: a read value wins
    evidence, proof = sealed_document(evidence)
    return Gathered(evidence, changed=True, sealed=proof)


def save(evidence: Evidence, path: Path, sealed: SealedDocument | None = None) -> None:
    """Write the evidence exactly as gathered (already sealed: what the report's digest names);
    ``sealed``: what sealing it here made, whose document is this evidence's dump."""
    _write_json(path, sealed.document if sealed is not None else evidence_to_dict(evidence))


# --------------------------------------------------------------------------- evaluate → render


def assess(evidence: Evidence, profile: Profile, on: date, sealed: SealedDocument | None = None) -> Report:
    """``sealed``: what sealing the evidence here made (see :func:`assessor.evidence.integrity`)."""
    return evaluate(
        evidence, profile, on=on, generated_at=datetime.now(timezone.utc).replace(microsecond=0), sealed=sealed
    )


@dataclass(frozen=True)
class Presentation:
    """How reports are shown: file formats, prices, pseudonyms (one key for every format)."""

    formats: Sequence[str] = ()
    prices: PriceList | None = None
    pseudonym_key: bytes | None = field(default=None, repr=False)

    def options(self) -> RenderOptions:
        return RenderOptions(pseudonymize_key=self.pseudonym_key, prices=self.prices.copy() if self.prices else None)


def present(report: Report, presentation: Presentation) -> tuple[Report, list[tuple[str, str]]]:
    """The report as shown (pseudonymised once, on the model) and every file rendered in memory."""
    if presentation.pseudonym_key is not None:
        report = pseudonymize_report(report, presentation.pseudonym_key)
    options = presentation.options()
    rendered = []
    for fmt in presentation.formats:
        renderer = RENDERERS[fmt]()
        rendered.append((renderer.filename, renderer.render(report, options)))
    return report, rendered


def write_files(directory: Path, rendered: Sequence[tuple[str, str]]) -> list[Path]:
    """Write rendered files atomically (all were rendered first: no half-written report set)."""
    written = []
    for name, text in rendered:
        _write_text(directory / name, text)
        written.append(directory / name)
    return written


# --------------------------------------------------------------------------- one tenant


@dataclass(frozen=True)
class Assessed:
    evidence: Evidence
    report: Report  # as presented (pseudonymised when asked)
    files: list[Path]  # reports written
    evidence_file: Path | None  # where the evidence was saved, if it was


async def run(
    target: Target,
    profile: Profile,
    on: date,
    presentation: Presentation,
    *,
    output: Path | None = None,
    evidence_file: Path | None = None,
    attestation: Path | AttestationSource | None = None,
) -> Assessed:
    """Gather, seal, save (where asked and when it differs from a file on disk), evaluate, render, write."""
    gathered = await gather(target, attestation)
    saved = None
    source = target.path.resolve() if isinstance(target, EvidenceFile) else None
    if evidence_file is not None and gathered.changed and evidence_file.resolve() != source:
        save(gathered.evidence, evidence_file, gathered.sealed)
        saved = evidence_file
    report, rendered = present(assess(gathered.evidence, profile, on, gathered.sealed), presentation)
    if rendered and output is None:
        from assessor.errors import UsageError

        raise UsageError("--output DIR is needed for file formats")
    files = write_files(output, rendered) if output is not None else []
    return Assessed(gathered.evidence, report, files, saved)


# --------------------------------------------------------------------------- bulk


class BulkAssess:
    """One tenant of a bulk run through :func:`run` (the scheduler's ``assess``)."""

    def __init__(
        self,
        settings: PipelineSettings,
        profiles: Mapping[str, Profile],
        sandbox: SandboxResolver | None = None,
        presentation: Presentation | None = None,
    ) -> None:
        self.settings = settings
        self.profiles = profiles
        self.sandbox = sandbox
        self.presentation = presentation or Presentation(formats=settings.formats)
        self._attestations: dict[Path, AttestationSource] = {}

    def options(self, entry: TenantEntry, profile: Profile) -> CollectOptions:
        """The collector's options for one manifest entry (sandbox entries resolved to the served tenant)."""
        if entry.sandbox is not None:
            if self.sandbox is None:
                raise RuntimeError("a sandbox entry needs the bulk run's sandbox server")
            resolved = self.sandbox(entry.sandbox)
            base = CollectOptions(tenant=resolved.tenant_id, azure_subscriptions=entry.azure_subscriptions)
            options = sandbox_options(
                resolved, self._common(base, profile), no_exchange=entry.no_exchange, no_azure=entry.no_azure
            )
            return replace(
                options,
                graph_endpoint=entry.graph_endpoint or options.graph_endpoint,
                arm_endpoint=entry.arm_endpoint or options.arm_endpoint,
            )
        assert entry.auth is not None  # enforced by the manifest model
        options = CollectOptions(
            tenant=entry.tenant,
            cloud=entry.cloud,
            auth=entry.auth.to_options(entry.tenant, self.settings.environ),
            graph_endpoint=entry.graph_endpoint,
            exchange_endpoint=entry.exchange_endpoint,
            compliance_endpoint=entry.compliance_endpoint,
            no_exchange=entry.no_exchange,
            arm_endpoint=entry.arm_endpoint,
            no_azure=entry.no_azure,
            azure_subscriptions=entry.azure_subscriptions,
        )
        return self._common(options, profile)

    def _common(self, options: CollectOptions, profile: Profile) -> CollectOptions:
        """What every tenant of a bulk run shares: the run's settings and the tenant's profile."""
        settings = self.settings
        return replace(
            options,
            users_mode=settings.users_mode,
            tenant_timeout=settings.tenant_timeout,
            collector="bulk",
            privileged_roles=profile.collection_roles(),
            probe_events_days=profile.probe_days,
            # a throttling storm is reported as such before the tenant's time runs out
            retry=RetryPolicy(max_total_wait=min(RetryPolicy().max_total_wait, settings.tenant_timeout / 4)),
        )

    def attestation(self, entry: TenantEntry) -> AttestationSource | None:
        path = entry.attest or self.settings.attestation
        if path is None:
            return None
        if path not in self._attestations:
            self._attestations[path] = AttestationSource.read(path)
        return self._attestations[path]

    async def __call__(self, job: TenantJob) -> TenantSummary:
        trace_label.set(tenant_label(job.key))  # this job's task only: tells its trace lines apart
        entry = job.row.entry
        profile = self.profiles[entry.profile]
        # with pseudonyms the evidence (real names) is not written beside the reports
        keep = self.presentation.pseudonym_key is None
        done = await run(
            self.options(entry, profile),
            profile,
            self.settings.on,
            self.presentation,
            output=job.directory,
            evidence_file=job.directory / EVIDENCE_FILE if keep else None,
            attestation=self.attestation(entry),
        )
        files = [EVIDENCE_FILE] if keep else []
        summary = report_summary(done.report, [*files, *(p.name for p in done.files)])
        summary["settings_sha256"] = settings_fingerprint(entry, profile, self.settings)
        return summary


@dataclass(frozen=True)
class BulkAssessFactory:
    """Builds a :class:`BulkAssess` in the bulk process or in each worker process (picklable)."""

    presentation: Presentation

    def __call__(
        self, settings: PipelineSettings, profiles: Mapping[str, Profile], sandbox: SandboxResolver | None
    ) -> BulkAssess:
        return BulkAssess(settings, profiles, sandbox, replace(self.presentation, formats=settings.formats))


def bulk(request: BulkRequest, presentation: Presentation, stream: TextIO | None = None) -> BulkOutcome:
    """``assessor bulk``: the scheduler over the manifest, each tenant through :class:`BulkAssess`."""
    return run_bulk(request, BulkAssessFactory(presentation), BundledSandbox(), stream)
