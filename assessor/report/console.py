"""Terminal summary: verdict, figures and the findings table (tabulate)."""

from __future__ import annotations

from tabulate import tabulate

from assessor.engine.model import Report, Status
from assessor.report.view import export_summary

ORDER = {
    Status.FAIL: 0,
    Status.ERROR: 1,
    Status.UNKNOWN: 2,
    Status.WARN: 3,
    Status.MANUAL: 4,
    Status.PASS: 5,
    Status.NOT_APPLICABLE: 6,
}


def _fmt(value: object) -> str:
    return "unknown" if value is None else str(value)


READINESS_TEXT = {True: "YES", False: "NO", None: "NOT KNOWN"}


def readiness_lines(report: Report) -> list[str]:
    """The Storm-0558 readiness verdict and each element's gap (empty for reports without it)."""
    ready = report.readiness
    if ready is None:
        return []
    lines = [f"Would a Storm-0558-style intrusion be visible here? {READINESS_TEXT[ready.visible]}"]
    for e in ready.elements:
        if e.status != "pass":
            fix = f" (fix: {e.fix})" if e.fix else ""
            lines.append(f"  {e.status.upper()} {e.id}: {e.detail}{fix}")
    return lines


def render_console(report: Report, width: int = 100) -> str:
    lic, ret, aud = report.licensing, report.retention, report.audit
    tenant = report.tenant.get("name") or report.tenant.get("id")
    head = [
        f"Tenant {tenant} ({report.tenant.get('cloud')}) against {report.profile.name} — verdict: "
        f"{report.verdict.upper()}",
        "  " + ", ".join(f"{k} {v}" for k, v in report.summary.items() if v),
        *readiness_lines(report),
    ]
    figures = [
        ["Audit tier", _fmt(lic.audit_tier)],
        ["In-scope users", _fmt(lic.users_in_scope)],
        ["…without Audit (Premium)", _fmt(lic.users_without_premium_audit)],
        [
            "Privileged users without Premium",
            f"{_fmt(lic.privileged_users_without_premium_audit)} of {_fmt(lic.privileged_users)}",
        ],
        ["Unassigned Premium seats", _fmt(lic.premium_audit_seats_unassigned)],
        ["UAL ingestion enabled", _fmt(aud.ual_ingestion_enabled)],
        ["Mailboxes missing MailItemsAccessed", _fmt(aud.mailboxes_missing_mailitemsaccessed)],
        ["Audit bypass accounts", _fmt(aud.bypass_mailboxes)],
    ]
    for workload, w in ret.workloads.items():
        figures.append(
            [
                f"Retention {workload} (min days / users short of {ret.required.searchable_days})",
                f"{_fmt(w.effective_days_min)} / {_fmt(w.users_short)}",
            ]
        )
    rows = []
    for f in sorted(report.findings, key=lambda f: (ORDER[f.status], f.check_id)):
        message = f.message if len(f.message) <= width else f.message[: width - 1] + "…"
        rows.append([f.check_id, f.status.value.upper(), f.severity, message])
    parts = [
        "\n".join(head),
        tabulate(figures, tablefmt="simple"),
        tabulate(rows, headers=["Check", "Status", "Severity", "Finding"], tablefmt="simple"),
    ]
    parts.append(export_summary(report))
    if report.mail_clients:
        unknown = [c for c in report.mail_clients if c.publisher == "unknown"]
        new = [c for c in report.mail_clients if c.recent_only]
        parts.append(
            f"Mail clients: {len(report.mail_clients)} (unknown to the tenant and Microsoft: {len(unknown)}, "
            f"new in the recent window: {len(new)})"
        )
    if lic.recommendation:
        parts.append("Licensing: " + lic.recommendation.text)
    return "\n\n".join(parts) + "\n"
