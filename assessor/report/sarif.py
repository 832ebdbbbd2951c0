"""report.sarif: SARIF 2.1.0 for code-scanning dashboards.

Rules are the whole check catalogue; there is one result per failing or warning finding, with
its level from the severity. Checks that could not be decided (unknown, error — including a
catalogue check with no result) are tool execution notifications, so they are visible without
pretending to be findings.
"""

from __future__ import annotations

import hashlib

from assessor.catalogue import CheckMeta
from assessor.engine.model import Finding, Report, Status
from assessor.fileio import dumps_pretty
from assessor.report.interface import Renderer, RenderOptions
from assessor.report.view import ReportView, Row, build_view

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://learn.microsoft.com/purview/audit-solutions-overview"
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}


def level_for(severity: str) -> str:
    return LEVEL.get(severity, "warning")


def _rule(meta: CheckMeta) -> dict[str, object]:
    return {
        "id": meta.id,
        "name": meta.id.replace("-", ""),
        "shortDescription": {"text": meta.title},
        "fullDescription": {"text": meta.rationale},
        "help": {"text": meta.remediation},
        "helpUri": meta.references[0],
        "defaultConfiguration": {"level": level_for(meta.severity)},
        "properties": {
            "tags": ["microsoft-365", "audit-log", meta.area],
            "severity": meta.severity,
            "security-severity": SECURITY_SEVERITY[meta.severity],
            "references": list(meta.references),
            "permissions": list(meta.permissions),
        },
    }


def _fingerprint(report: Report, f: Finding) -> str:
    tenant = str(report.tenant.get("id") or report.tenant.get("name") or "")
    return hashlib.sha256(f"{tenant}|{report.profile.id}|{f.check_id}".encode()).hexdigest()


def _result(view: ReportView, row: Row, rule_index: dict[str, int]) -> dict[str, object]:
    f = row.finding
    text = f.message if not f.remediation else f"{f.message} Remediation: {f.remediation}"
    result: dict[str, object] = {
        "ruleId": f.check_id,
        "level": level_for(f.severity),
        "kind": "fail",
        "message": {"text": text},
        "locations": [
            {
                "logicalLocations": [
                    {
                        "name": f.check_id,
                        "fullyQualifiedName": f"{view.tenant_name}/{f.area}/{f.check_id}",
                        "kind": "resource",
                    }
                ]
            }
        ],
        "partialFingerprints": {"assessorCheck/v1": _fingerprint(view.report, f)},
        "properties": {
            "status": f.status.value,
            "severity": f.severity,
            "evidence": f.evidence,
            "controls": list(f.controls),
            "assumptions": list(f.assumptions),
        },
    }
    if f.check_id in rule_index:
        result["ruleIndex"] = rule_index[f.check_id]
    return result


def _notification(row: Row, rule_index: dict[str, int]) -> dict[str, object]:
    f = row.finding
    rule: dict[str, object] = {"id": f.check_id}
    if f.check_id in rule_index:
        rule["index"] = rule_index[f.check_id]
    return {
        "level": "error" if f.status == Status.ERROR else "warning",
        "message": {"text": f"{f.check_id} {f.status.value}: {f.message}" + (f" Fix: {f.fix}" if f.fix else "")},
        "associatedRule": rule,
    }


def build_sarif(view: ReportView) -> dict[str, object]:
    report = view.report
    metas = [row.meta for row in view.rows if row.meta is not None]
    rule_index = {m.id: i for i, m in enumerate(metas)}
    results = [_result(view, row, rule_index) for row in view.rows if row.status in (Status.FAIL, Status.WARN)]
    notes = [_notification(row, rule_index) for row in view.rows if row.status in (Status.UNKNOWN, Status.ERROR)]
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "assessor",
                        "fullName": "Microsoft 365 audit-log assessor",
                        "version": report.tool_version,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(m) for m in metas],
                    }
                },
                "automationDetails": {"id": f"assessor/{report.profile.id}/{report.assessment_date.isoformat()}"},
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "endTimeUtc": report.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "toolExecutionNotifications": notes,
                    }
                ],
                "results": results,
                "properties": {
                    "tenant": view.tenant_name,
                    "profile": report.profile.id,
                    "profile_version": report.profile.version,
                    "profile_text": report.profile.text,
                    "profile_verified": report.profile.verified,
                    "privileged_definition": report.profile.privileged_definition,
                    "verdict": view.verdict,
                    "summary": view.counts,
                    "pseudonymized": view.pseudonymized,
                },
            }
        ],
    }


class SarifRenderer(Renderer):
    name = "sarif"
    filename = "report.sarif"

    def render(self, report: Report, options: RenderOptions) -> str:
        view = build_view(report, pseudonymized=options.pseudonymize_key is not None, prices=options.prices)
        return dumps_pretty(build_sarif(view)) + "\n"
