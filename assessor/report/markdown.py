"""report.md: the report for tickets and wikis. Tables via tabulate (GitHub pipe tables).

Text from the tenant is escaped for Markdown: HTML-significant characters become entities and
table pipes are escaped, so a name like ``<script>`` renders as text in any wiki.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from tabulate import tabulate

from assessor.engine.model import Report
from assessor.report.interface import Renderer, RenderOptions
from assessor.report.prices import format_money
from assessor.report.templating import compact_json, environment, number
from assessor.report.view import ReportView, build_view

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def md(value: object) -> str:
    """Escape text for inline Markdown (also inside table cells)."""
    text = "" if value is None else str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return " ".join(text.split())


def code(value: object) -> str:
    """Inline code span that survives backticks; text with markup characters is escaped text instead."""
    if any(ch in str(value) for ch in "<>&"):
        return md(value)
    text = " ".join(str(value).split()).replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


def command(value: object) -> str:
    """A command to paste (our remediation text): a code span, literal — Markdown shows code spans as
    written and never interprets HTML in them — so ``-Identity <account>`` pastes as it reads."""
    text = " ".join(str(value).split()).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}" if longest else f"`{text}`"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], align: Sequence[str] | None = None) -> str:
    body = [[c if isinstance(c, str) else number(c) for c in row] for row in rows]
    return tabulate(
        body, headers=list(headers), tablefmt="github", disable_numparse=True, colalign=list(align) if align else None
    )


def _tables(view: ReportView) -> dict[str, str]:
    r = view.report
    lic, ret = r.licensing, r.retention
    findings = table(
        ["Status", "Severity", "Check", "Title", "Finding"],
        (
            [
                f"{row.symbol} {row.label}",
                row.finding.severity,
                row.finding.check_id,
                md(row.finding.title),
                md(row.finding.message),
            ]
            for row in sorted(view.rows, key=lambda x: (x.status_rank, x.position))
        ),
    )
    figures = table(
        ["Figure", "Value"],
        [
            ["Audit tier", md(lic.audit_tier or "unknown")],
            ["Users (all / in scope)", f"{number(lic.users_total)} / {number(lic.users_in_scope)}"],
            ["In-scope users without Audit (Premium)", number(lic.users_without_premium_audit)],
            [
                "Privileged users without Audit (Premium)",
                f"{number(lic.privileged_users_without_premium_audit)} of {number(lic.privileged_users)}",
            ],
            ["Unassigned Premium-audit seats", number(lic.premium_audit_seats_unassigned)],
            ["Entra ID level", md(lic.entra or "unknown")],
        ],
        align=["left", "right"],
    )
    options = (
        table(
            ["Option", "Seats", "Licence", "Per seat / month", "Per month", "Per year"],
            [
                [
                    "assign unused seats" if o.no_cost else o.option,
                    number(o.seats),
                    "already paid for"
                    if o.no_cost
                    else f"{md(o.display_name or o.sku_part_number)} ({md(o.sku_part_number)})",
                    "—" if o.no_cost else format_money(o.price_per_seat_month, o.currency),
                    "no cost" if o.no_cost else format_money(o.monthly, o.currency),
                    "no cost" if o.no_cost else format_money(o.annual, o.currency),
                ]
                for o in view.options
            ],
            align=["left", "right", "left", "right", "right", "right"],
        )
        if view.options
        else ""
    )
    retention = table(
        ["Workload", "Shortest (days)", "Longest (days)", "Users short of searchable", "Users short of retrievable"],
        (
            [
                name,
                number(w.effective_days_min),
                number(w.effective_days_max),
                number(w.users_short),
                number(w.users_short_retrievable),
            ]
            for name, w in ret.workloads.items()
        ),
        align=["left", "right", "right", "right", "right"],
    )
    events = table(
        ["Event", "Required", "Available", "Configured (mailboxes)", "Observed (users)", "Coverage"],
        [
            [
                e.name,
                "yes" if e.required else "no",
                "unknown" if e.available is None else ("yes" if e.available else f"no (needs {e.tier_needed})"),
                "unknown"
                if e.audited_mailboxes is None
                else f"{number(e.audited_mailboxes)} of {number(e.user_mailboxes)}",
                (("at least " if e.lower_bound else "") + number(e.observed_users))
                + (f" ({md(e.other_actors_text)})" if e.other_actors_text else "")
                if e.observed_users is not None
                else ("not probed" if not e.probed else "unknown"),
                e.coverage_text,
            ]
            for e in view.events
        ],
        align=["left", "left", "left", "right", "right", "right"],
    )
    app_ids = "\n\n".join(
        f"**{md(e.name)}** ({number(e.distinct_app_ids)} distinct client AppIds"
        f"{'; the probe hit the record limit' if e.lower_bound else ''}):\n\n"
        + table(
            ["Client AppId", "Records", "Share"],
            ([code(a), number(n), f"{share:.1f} %"] for a, n, share in e.top_app_ids),
            align=["left", "right", "right"],
        )
        for e in view.events
        if e.top_app_ids
    )
    mail_clients = (
        table(
            [
                "Client",
                "Publisher",
                "Access",
                "Records",
                "Mailboxes",
                "First seen",
                "Last seen",
                "New",
                "Privileged/VIP",
            ],
            (
                [
                    md(c.display_name or "unnamed")
                    + f" {code(c.app_id)}"
                    + (
                        f" via {md(c.client_display_name or 'unnamed')} {code(c.client_app_id)}"
                        if c.client_app_id
                        else ""
                    ),
                    c.publisher,
                    (c.access or "unknown").replace("_", "-"),
                    number(c.records),
                    number(c.mailboxes),
                    c.first_seen.strftime("%Y-%m-%d %H:%M") if c.first_seen else "—",
                    c.last_seen.strftime("%Y-%m-%d %H:%M") if c.last_seen else "—",
                    "unknown" if c.recent_only is None else ("**new**" if c.recent_only else "no"),
                    number(c.privileged_mailboxes),
                ]
                for c in r.mail_clients or []
            ),
            align=["left", "left", "left", "right", "right", "left", "left", "left", "right"],
        )
        if r.mail_clients
        else ""
    )
    mail_permissions = (
        table(
            ["Application", "App-only mail permissions", "Scoped"],
            (
                [
                    md(p.display_name or "unnamed") + (f" {code(p.app_id)}" if p.app_id else ""),
                    md(", ".join(p.permissions)),
                    "unknown" if p.scoped is None else (md(p.scope or "yes") if p.scoped else "**no**"),
                ]
                for p in r.mail_permissions or []
            ),
        )
        if r.mail_permissions
        else ""
    )
    collection = table(
        ["Evidence", "Status", "Source", "Why not / fix"],
        [
            [
                code(c.section),
                c.status.replace("_", " "),
                md(c.source or c.file or "—"),
                md(" ".join(x for x in (c.reason, f"Fix: {c.fix}" if c.fix else None) if x) or "—"),
            ]
            for c in r.collection
        ],
    )
    destinations = table(
        ["Destination", "Receives", "Retention", "Required (days)", "Verdict", "Source"],
        [
            [
                md(d.name),
                md(d.receives),
                md(d.retention),
                d.required_text,
                d.verdict,
                d.source,
            ]
            for d in view.destinations
        ],
        align=["left", "left", "left", "right", "left", "left"],
    )
    return {
        "destinations": destinations,
        "findings": findings,
        "figures": figures,
        "options": options,
        "retention": retention,
        "events": events,
        "app_ids": app_ids,
        "mail_clients": mail_clients,
        "mail_permissions": mail_permissions,
        "collection": collection,
    }


def render_markdown(view: ReportView) -> str:
    env = environment(autoescape=False)
    env.filters.setdefault("md", md)
    env.filters.setdefault("code", code)
    template = env.get_template("report.md.j2")
    return template.render(
        v=view, r=view.report, t=_tables(view), md=md, code=code, command=command, cjson=compact_json
    )


class MarkdownRenderer(Renderer):
    name = "md"
    filename = "report.md"

    def render(self, report: Report, options: RenderOptions) -> str:
        view = build_view(report, pseudonymized=options.pseudonymize_key is not None, prices=options.prices)
        return render_markdown(view)
