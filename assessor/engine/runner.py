"""Evaluate: evidence + profile + knowledge base + date in, report out. Pure: no I/O, no clock.

Every catalogue check gets exactly one finding. A check the profile does not select is
`not_applicable`; a check whose evidence is missing is `unknown` with the reason and the
permission that would fix it; a check that raises becomes `error` with the message — one check
never stops the run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

from assessor import __version__
from assessor.engine.context import CheckContext, Figures
from assessor.engine.events import compute_events
from assessor.engine.export import compute_export
from assessor.engine.licensing import compute_licensing
from assessor.engine.mailbox import compute_audit
from assessor.engine.mailclients import compute_mail_clients, compute_mail_permissions, compute_readiness
from assessor.engine.model import (
    AssumptionRef,
    AuditFigures,
    CollectionEntry,
    ExportFigures,
    Finding,
    LicensingFigures,
    Outcome,
    ProfileRef,
    Report,
    RequiredRetention,
    RetentionFigures,
    Status,
    WorkloadRetention,
)
from assessor.engine.privileged import compare_definitions, definition_used, resolve_privileged
from assessor.engine.registry import RegisteredCheck, registry
from assessor.engine.retention import compute_retention
from assessor.errors import AssessorError
from assessor.evidence import Evidence, SealedDocument, integrity
from assessor.knowledge import WORKLOADS, Knowledge, load_knowledge
from assessor.printable import may_be_unprintable, printable_tree
from assessor.profiles import Profile

F = TypeVar("F", LicensingFigures, RetentionFigures, AuditFigures, ExportFigures)


def _guard(compute: Callable[[], F], fallback: Callable[[str], F]) -> F:
    """A figure computation that fails yields null figures carrying the error, never a crash."""
    try:
        return compute()
    except (AssessorError, ValueError, KeyError, TypeError, ArithmeticError) as err:
        return fallback(f"{type(err).__name__}: {err}")


def compute_figures(evidence: Evidence, profile: Profile, kb: Knowledge, on: date) -> Figures:
    licensing = _guard(lambda: compute_licensing(evidence, profile, kb), lambda e: LicensingFigures(error=e))
    required = RequiredRetention(
        searchable_days=profile.retention.searchable_days, retrievable_days=profile.retention.retrievable_days
    )
    retention = _guard(
        lambda: compute_retention(evidence, profile, kb, on),
        lambda e: RetentionFigures(required=required, workloads={w: WorkloadRetention() for w in WORKLOADS}, error=e),
    )
    audit = _guard(lambda: compute_audit(evidence, profile, kb), lambda e: AuditFigures(error=e))
    events = compute_events(evidence, profile, kb, licensing, on)
    export = _guard(lambda: compute_export(evidence), lambda e: ExportFigures(error=e))
    return Figures(
        licensing=licensing,
        retention=retention,
        audit=audit,
        events=events,
        export=export,
        mail_clients=compute_mail_clients(evidence),
        mail_permissions=compute_mail_permissions(evidence),
        readiness=compute_readiness(evidence, profile, audit, retention, events),
    )


def _missing_evidence(rc: RegisteredCheck, evidence: Evidence) -> Outcome | None:
    for name in rc.meta.needs:
        section = evidence.section(name)
        if section.data is None:
            prov = section.provenance
            return Outcome(
                Status.UNKNOWN,
                f"Cannot be decided: evidence '{name}' was not collected ({prov.reason}).",
                evidence={"missing_section": name, "reason": prov.reason},
                fix=prov.fix or ", ".join(rc.meta.permissions),
            )
    return None


def _figure_error(rc: RegisteredCheck, figures: Figures) -> Outcome | None:
    for group in rc.meta.figures:
        err = figures.error_of(group)
        if err:
            return Outcome(
                Status.ERROR,
                f"The {group} figures could not be computed: {err}",
                evidence={"figure_group": group, "error": err},
            )
    return None


def run_check(rc: RegisteredCheck, ctx: CheckContext) -> Outcome:
    setting = ctx.profile.checks.get(rc.meta.id)
    if setting is None:
        return Outcome(Status.NOT_APPLICABLE, f"Not part of the {ctx.profile.name} profile.")
    early = _missing_evidence(rc, ctx.evidence) or _figure_error(rc, ctx.figures)
    if early is not None:
        return early
    try:
        outcome = rc.fn(ctx)
    except Exception as err:
        return Outcome(Status.ERROR, f"Check raised {type(err).__name__}: {err}")
    if not isinstance(outcome, Outcome):
        return Outcome(Status.ERROR, f"Check returned {type(outcome).__name__}, not an Outcome")
    return outcome


def _finding(rc: RegisteredCheck, outcome: Outcome, profile: Profile, kb: Knowledge) -> Finding:
    setting = profile.checks.get(rc.meta.id)
    return Finding(
        check_id=rc.meta.id,
        title=rc.meta.title,
        area=rc.meta.area,
        status=outcome.status,
        severity=profile.severity_of(rc.meta.id) if setting else rc.meta.severity,
        message=outcome.message,
        evidence=outcome.evidence,
        remediation=(outcome.remediation or rc.meta.remediation)
        if outcome.status in (Status.FAIL, Status.WARN, Status.UNKNOWN, Status.ERROR, Status.MANUAL)
        else None,
        references=list(rc.meta.references),
        controls=list(setting.controls) if setting else [],
        rationale=rc.meta.rationale,
        permissions=list(rc.meta.permissions),
        fix=outcome.fix,
        caused_by=outcome.caused_by,
        assumptions=[a.id for a in kb.assumptions_for(rc.meta.id)] if outcome.status != Status.NOT_APPLICABLE else [],
    )


def assumptions_of(findings: list[Finding], kb: Knowledge) -> list[AssumptionRef]:
    """The ledger entries the findings rest on, each naming the findings that rest on it."""
    out: list[AssumptionRef] = []
    for a in kb.assumptions:
        checks = [f.check_id for f in findings if a.id in f.assumptions]
        if checks:
            out.append(
                AssumptionRef(
                    id=a.id,
                    statement=a.statement,
                    source=a.source,
                    holds_from=a.from_,
                    confidence=a.confidence,
                    checks=checks,
                )
            )
    return out


def _verdict(findings: list[Finding]) -> str:
    statuses = {f.status for f in findings}
    if Status.FAIL in statuses or Status.WARN in statuses:
        return "fail"
    if statuses & {Status.UNKNOWN, Status.ERROR, Status.MANUAL}:
        return "incomplete"
    return "pass"


def collection_log(evidence: Evidence) -> list[CollectionEntry]:
    origins = [("tenant", evidence.tenant.provenance)] if evidence.tenant.provenance is not None else []
    origins += [(name, s.provenance) for name, s in evidence.sections().items()]
    return [
        CollectionEntry(section=name, status=p.status, source=p.source, reason=p.reason, fix=p.fix, file=p.file)
        for name, p in origins
    ]


def _integrity(evidence: Evidence, sealed: SealedDocument | None) -> dict[str, str]:
    """The digest of the content actually assessed, and whether it still matches its seal."""
    actual, state = integrity(evidence, sealed)
    return {"evidence_sha256": actual, "evidence_integrity": state}


def evaluate(
    evidence: Evidence,
    profile: Profile,
    on: date,
    generated_at: datetime,
    kb: Knowledge | None = None,
    sealed: SealedDocument | None = None,
) -> Report:
    """Assess `evidence` against `profile` as of `on`. `generated_at` is stamped, never read from a clock.
    `sealed`: what sealing the evidence in this process made (see :func:`integrity`)."""
    kb = kb or load_knowledge()
    definitions = compare_definitions(evidence, profile)
    collected = evidence  # what was collected: its log and digest are reported as they are
    evidence, profile_used = resolve_privileged(evidence, profile)
    figures = compute_figures(evidence, profile_used, kb, on)
    ctx = CheckContext(evidence=evidence, profile=profile_used, kb=kb, figures=figures, on=on)
    findings = [_finding(rc, run_check(rc, ctx), profile, kb) for rc in registry()]
    summary = Counter(f.status.value for f in findings)
    report = Report(
        tenant=evidence.tenant.model_dump(mode="json", exclude={"provenance"}),
        profile=ProfileRef(
            id=profile.id,
            name=profile.name,
            framework=profile.framework,
            as_of=profile.as_of,
            version=profile.version,
            text=profile.text,
            verified=profile.verified,
            privileged_definition=definition_used(profile),
        ),
        generated_at=generated_at,
        assessment_date=on,
        tool_version=__version__,
        verdict=_verdict(findings),
        summary={s.value: summary.get(s.value, 0) for s in Status},
        findings=findings,
        licensing=figures.licensing,
        retention=figures.retention,
        audit=figures.audit,
        events=figures.events,
        export=figures.export,
        collection=collection_log(collected),
        assumptions=assumptions_of(findings, kb),
        mail_clients=figures.mail_clients,
        mail_permissions=figures.mail_permissions,
        readiness=figures.readiness,
        privileged_definition=definitions,
        **_integrity(collected, sealed),
    )
    # tenant-supplied names may carry terminal escapes or bidi overrides: made visible for every format
    if not may_be_unprintable(report.model_dump_json(by_alias=True)):
        return report
    doc = report.model_dump(mode="json", by_alias=True)
    safe = printable_tree(doc)
    return report if safe == doc else Report.model_validate(safe)
