"""One tenant's assessment inside a bulk run: collect → evidence.json → evaluate → reports.

This is the concrete :data:`~assessor.bulk.runner.Assess` the CLI hands to the scheduler. Every
file is written atomically (temp file + rename) into the tenant's directory; the reports are
rendered in memory first so an interrupted tenant never leaves a half-written report.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from assessor.bulk.manifest import TenantEntry
from assessor.bulk.runner import TenantJob
from assessor.collect import CollectOptions, RetryPolicy, collect
from assessor.collect.auth import AuthOptions, StaticTokenCredential
from assessor.engine.model import Report
from assessor.engine.runner import evaluate
from assessor.evidence import save_evidence, seal, write_text_atomic
from assessor.profiles import Profile
from assessor.report import RENDERERS, RenderOptions

EVIDENCE_FILE = "evidence.json"
SANDBOX_TOKEN = "sandbox-static-token"  # noqa: S105 - the in-process sandbox accepts any bearer token


@dataclass(frozen=True)
class SandboxTarget:
    """Where an in-process sandbox tenant is served (Exchange/compliance where its emulators exist)."""

    tenant_id: str
    graph_url: str
    cloud: str = "global"
    other_endpoints: Mapping[str, str] = field(default_factory=dict)


SandboxResolver = Callable[[str], SandboxTarget]


@dataclass(frozen=True)
class PipelineSettings:
    formats: Sequence[str]
    on: date
    tenant_timeout: float = 900.0
    users_mode: str = "summary"
    environ: Mapping[str, str] | None = field(default=None, repr=False)


def settings_fingerprint(entry: TenantEntry, profile: Profile, settings: PipelineSettings) -> str:
    """What a tenant's stored result depends on (its manifest entry, the profile's content, the
    date, the formats, the user mode): ``--resume`` re-assesses a done tenant whose fingerprint changed."""
    doc = {
        "entry": entry.model_dump(mode="json"),
        "profile": profile.model_dump(mode="json"),
        "on": settings.on.isoformat(),
        "formats": sorted(settings.formats),
        "users_mode": settings.users_mode,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def collect_options(
    entry: TenantEntry, settings: PipelineSettings, profile: Profile, sandbox: SandboxResolver | None
) -> CollectOptions:
    """The collector's options for one manifest entry (sandbox entries get static tokens)."""
    common: dict[str, Any] = {
        "users_mode": settings.users_mode,
        "tenant_timeout": settings.tenant_timeout,
        "collector": "bulk",
        "privileged_roles": tuple(r.template_id for r in profile.privileged_roles),
        "probe_events_days": profile.probe_days,
        # a throttling storm is reported as such before the tenant's time runs out
        "retry": RetryPolicy(max_total_wait=min(RetryPolicy().max_total_wait, settings.tenant_timeout / 4)),
    }
    if entry.sandbox is not None:
        if sandbox is None:
            raise RuntimeError("a sandbox entry needs the bulk run's sandbox server")
        target = sandbox(entry.sandbox)
        endpoints = dict(target.other_endpoints)
        no_exchange = entry.no_exchange or "exchange_endpoint" not in endpoints
        token = StaticTokenCredential({"graph": SANDBOX_TOKEN, "exchange": SANDBOX_TOKEN, "compliance": SANDBOX_TOKEN})
        return CollectOptions(
            tenant=target.tenant_id,
            cloud=target.cloud,
            auth=AuthOptions(mode="token"),
            graph_endpoint=entry.graph_endpoint or target.graph_url,
            no_exchange=no_exchange,
            exchange_endpoint=endpoints.get("exchange_endpoint"),
            compliance_endpoint=endpoints.get("compliance_endpoint"),
            credential=token,
            **common,
        )
    assert entry.auth is not None  # enforced by the manifest model
    return CollectOptions(
        tenant=entry.tenant,
        cloud=entry.cloud,
        auth=entry.auth.to_options(entry.tenant, settings.environ),
        graph_endpoint=entry.graph_endpoint,
        exchange_endpoint=entry.exchange_endpoint,
        compliance_endpoint=entry.compliance_endpoint,
        no_exchange=entry.no_exchange,
        **common,
    )


def render_reports(report: Report, formats: Sequence[str], directory: Path) -> list[str]:
    """Render every format in memory, then write each file atomically; the file names written."""
    renderers = [RENDERERS[fmt]() for fmt in formats]
    rendered = [(r.filename, r.render(report, RenderOptions())) for r in renderers]
    for name, text in rendered:
        write_text_atomic(directory / name, text)
    return [name for name, _ in rendered]


def report_summary(report: Report, files: Sequence[str]) -> dict[str, Any]:
    """The figures of one report that the portfolio rolls up."""
    lic = report.licensing
    rec = lic.recommendation
    link = "report.html" if "report.html" in files else ("report.json" if "report.json" in files else None)
    return {
        "tenant_id": report.tenant.get("id"),
        "display_name": report.tenant.get("name"),
        "verdict": report.verdict,
        "counts": dict(report.summary),
        "checks": {f.check_id: {"status": f.status.value, "severity": f.severity} for f in report.findings},
        "audit_tier": lic.audit_tier,
        "users_in_scope": lic.users_in_scope,
        "users_without_premium_audit": lic.users_without_premium_audit,
        "privileged_users_without_premium_audit": lic.privileged_users_without_premium_audit,
        "premium_audit_seats_unassigned": lic.premium_audit_seats_unassigned,
        "seats_to_buy": rec.buy if rec else None,
        "seats_to_assign": rec.assign_unassigned if rec else None,
        "report": link,
        "files": list(files),
    }


class TenantPipeline:
    """Collect, save, evaluate and render one tenant (the bulk run's ``assess``)."""

    def __init__(
        self, settings: PipelineSettings, profiles: Mapping[str, Profile], sandbox: SandboxResolver | None = None
    ) -> None:
        self.settings = settings
        self.profiles = profiles
        self.sandbox = sandbox

    async def __call__(self, job: TenantJob) -> dict[str, Any]:
        entry = job.row.entry
        profile = self.profiles[entry.profile]
        evidence = seal(await collect(collect_options(entry, self.settings, profile, self.sandbox)))
        save_evidence(evidence, job.directory / EVIDENCE_FILE)
        report = evaluate(
            evidence, profile, on=self.settings.on, generated_at=datetime.now(timezone.utc).replace(microsecond=0)
        )
        files = render_reports(report, self.settings.formats, job.directory)
        summary = report_summary(report, [EVIDENCE_FILE, *files])
        summary["settings_sha256"] = settings_fingerprint(entry, profile, self.settings)
        return summary
