"""What a bulk run's tenants are assessed with, and what the portfolio keeps of each report.

The assessment itself is :class:`assessor.pipeline.BulkAssess` (the one pipeline, handed to the
scheduler by the CLI); this module holds the settings it is run with, the fingerprint ``--resume``
compares, and how a sandbox tenant's endpoints are given to it (resolved by the caller: bulk does
not import the sandbox).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from assessor.bulk.manifest import TenantEntry
from assessor.bulk.runner import TenantSummary
from assessor.engine.model import Report
from assessor.profiles import Profile
from assessor.vocabulary import UsersMode

EVIDENCE_FILE = "evidence.json"


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
    users_mode: UsersMode = UsersMode.SUMMARY
    environ: Mapping[str, str] | None = field(default=None, repr=False)
    attestation: Path | None = None  # --attest: for every tenant without its own ``attest:``
    prices: Mapping[str, object] | None = None  # --prices, as loaded (only fingerprinted here)
    pseudonymize: bool = False


def _file_digest(path: Path | None) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path is not None else None
    except OSError:
        return None


def settings_fingerprint(entry: TenantEntry, profile: Profile, settings: PipelineSettings) -> str:
    """What a tenant's stored result depends on (its manifest entry, the profile's content, the
    date, the formats, the user mode, the attestation's content, prices, pseudonyms): ``--resume``
    re-assesses a done tenant whose fingerprint changed."""
    entry_doc = entry.model_dump(mode="json")
    if entry_doc.get("attest") is None:
        entry_doc.pop("attest", None)  # fingerprints of runs without attestations stay as they were
    doc: dict[str, object] = {
        "entry": entry_doc,
        "profile": profile.model_dump(mode="json"),
        "on": settings.on.isoformat(),
        "formats": sorted(settings.formats),
        "users_mode": settings.users_mode,
    }
    attestation = entry.attest or settings.attestation
    if attestation is not None:
        doc["attestation_sha256"] = _file_digest(attestation)
    if settings.prices is not None:
        doc["prices"] = settings.prices
    if settings.pseudonymize:
        doc["pseudonymize"] = True
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def report_summary(report: Report, files: Sequence[str]) -> TenantSummary:
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
