"""The HTML report: one self-contained file (inline CSS, inline SVG, a few lines of inline JS).

No network: no fonts, no CDN, nothing fetched. A Content-Security-Policy pins the inline style and
script by hash, so even a value that escaped escaping could not run. Jinja autoescape is on.
"""

from __future__ import annotations

import base64
import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup

from assessor.engine.model import Report, RetentionFigures, Status
from assessor.report.interface import Renderer, RenderOptions
from assessor.report.templating import environment, read_resource
from assessor.report.view import ReportView, build_view

DONUT_R = 15.915494309189533  # circumference 100: dash lengths are percentages
RET_W, RET_LABEL, RET_RIGHT, RET_ROW = 720, 150, 190, 34


@dataclass(frozen=True)
class Donut:
    title: str
    total: int | None
    covered: int | None
    uncovered: int | None
    required: bool = True  # False when the profile does not ask for this coverage (its check is not applicable)

    @property
    def known(self) -> bool:
        return self.total is not None and self.uncovered is not None

    @property
    def covered_pct(self) -> float:
        if not self.known or not self.total:
            return 0.0
        return round(100.0 * (self.total - (self.uncovered or 0)) / self.total, 2)

    @property
    def dash(self) -> str:
        pct = self.covered_pct
        return f"{pct:.2f} {100 - pct:.2f}"

    @property
    def headline(self) -> str:
        if not self.known:
            return "?"
        if not self.total:
            return "–"
        return f"{round(self.covered_pct)}%"


@dataclass(frozen=True)
class RetentionBar:
    workload: str
    y: float
    min_days: int | None
    max_days: int | None
    users_short: int | None
    users_short_retrievable: int | None
    x_min: float
    x_max: float
    clipped: bool

    @property
    def short(self) -> bool:
        return bool(self.users_short)


@dataclass(frozen=True)
class RetentionChart:
    width: int
    height: int
    x0: float
    x1: float
    searchable_days: int
    retrievable_days: int
    x_searchable: float
    x_retrievable: float
    bars: tuple[RetentionBar, ...]
    ticks: tuple[tuple[int, float], ...]
    unavailable: str | None


@dataclass(frozen=True)
class Tile:
    """A headline figure of the summary: a label, the value, a line of context, and whether it shows a gap."""

    label: str
    value: str
    context: str
    gap: bool | None  # None: unknown


def _of(part: int | None, whole: int | None) -> str:
    if part is None:
        return "unknown"
    return f"{part:,}" if whole is None else f"{part:,} of {whole:,}"


def _positive(n: int | None) -> bool | None:
    return None if n is None else n > 0


def summary_tiles(report: Report) -> list[Tile]:
    lic, aud, ret = report.licensing, report.audit, report.retention
    known = [(w.effective_days_min, name) for name, w in ret.workloads.items() if w.effective_days_min is not None]
    shortest = min(known) if known else None
    short_users = [w.users_short for w in ret.workloads.values() if w.users_short is not None]
    ual = aud.ual_ingestion_enabled
    return [
        Tile(
            "Audit log ingestion",
            "unknown" if ual is None else ("on" if ual else "OFF"),
            "unified audit log",
            None if ual is None else not ual,
        ),
        Tile(
            "Privileged users without Premium audit",
            _of(lic.privileged_users_without_premium_audit, lic.privileged_users),
            "need the longest retention",
            _positive(lic.privileged_users_without_premium_audit),
        ),
        Tile(
            "Mailboxes missing MailItemsAccessed",
            _of(aud.mailboxes_missing_mailitemsaccessed, aud.user_mailboxes),
            "user mailboxes",
            _positive(aud.mailboxes_missing_mailitemsaccessed),
        ),
        Tile(
            "Shortest effective retention",
            "unknown" if shortest is None else f"{shortest[0]:,} days",
            (
                f"{shortest[1]} · {ret.required.searchable_days} required"
                if shortest
                else f"{ret.required.searchable_days} days required"
            ),
            _positive(max(short_users) if short_users else None),
        ),
        Tile("Unassigned Premium seats", _of(lic.premium_audit_seats_unassigned, None), "paid, usable today", None),
        Tile(
            "Accounts bypassing audit",
            _of(aud.bypass_mailboxes, None),
            "invisible in mailbox logs",
            _positive(aud.bypass_mailboxes),
        ),
    ]


def coverage_donuts(view: ReportView) -> list[Donut]:
    report = view.report
    lic = report.licensing
    applies = {r.finding.check_id: r.status != Status.NOT_APPLICABLE for r in view.rows}
    in_scope_covered = (
        lic.users_in_scope - lic.users_without_premium_audit
        if lic.users_in_scope is not None and lic.users_without_premium_audit is not None
        else None
    )
    priv_covered = (
        lic.privileged_users - lic.privileged_users_without_premium_audit
        if lic.privileged_users is not None and lic.privileged_users_without_premium_audit is not None
        else None
    )
    return [
        Donut(
            "In-scope users",
            lic.users_in_scope,
            in_scope_covered,
            lic.users_without_premium_audit,
            required=applies.get("LIC-02", True),
        ),
        Donut(
            "Privileged users",
            lic.privileged_users,
            priv_covered,
            lic.privileged_users_without_premium_audit,
            required=applies.get("LIC-03", True),
        ),
    ]


def retention_chart(ret: RetentionFigures) -> RetentionChart:
    """Bars of effective retention (minimum to maximum across users) against the required days, linear scale."""
    req = ret.required
    domain = max(req.searchable_days, req.retrievable_days, 30) * 1.15
    x0, x1 = float(RET_LABEL), float(RET_W - RET_RIGHT)

    def x(days: float) -> float:
        return round(x0 + (x1 - x0) * min(days, domain) / domain, 1)

    bars = []
    for i, (name, w) in enumerate(ret.workloads.items()):
        lo, hi = w.effective_days_min, w.effective_days_max
        bars.append(
            RetentionBar(
                workload=name,
                y=28 + i * RET_ROW,
                min_days=lo,
                max_days=hi if hi is not None else lo,
                users_short=w.users_short,
                users_short_retrievable=w.users_short_retrievable,
                x_min=x(lo or 0),
                x_max=x(hi if hi is not None else (lo or 0)),
                clipped=(hi or lo or 0) > domain,
            )
        )
    steps = [30, 90, 180, 365, 730, 1095, 1825, 3650]
    ticks = tuple((d, x(d)) for d in steps if d <= domain)
    return RetentionChart(
        width=RET_W,
        height=28 + RET_ROW * len(bars) + 26,
        x0=x0,
        x1=x1,
        searchable_days=req.searchable_days,
        retrievable_days=req.retrievable_days,
        x_searchable=x(req.searchable_days),
        x_retrievable=x(req.retrievable_days),
        bars=tuple(bars),
        ticks=ticks,
        unavailable=ret.unavailable or ret.error,
    )


def mini_bar(part: int | None, whole: int | None, width: int = 90) -> float | None:
    if part is None or not whole:
        return None
    return round(width * max(0, min(part, whole)) / whole, 1)


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


@lru_cache(maxsize=1)
def _assets() -> tuple[str, str, str]:
    """The packaged stylesheet and script, and the Content-Security-Policy naming their hashes."""
    css = read_resource("report.css")
    js = read_resource("report.js")
    csp = (
        f"default-src 'none'; style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )
    return css, js, csp


def render_html(view: ReportView) -> str:
    css, js, csp = _assets()
    template = environment(autoescape=True).get_template("report.html.j2")
    return template.render(
        v=view,
        r=view.report,
        css=Markup(css),  # noqa: S704 - our own packaged files
        js=Markup(js),  # noqa: S704 - our own packaged files
        csp=csp,
        donuts=coverage_donuts(view),
        tiles=summary_tiles(view.report),
        retention=retention_chart(view.report.retention),
        mini_bar=mini_bar,
        donut_r=DONUT_R,
        math=math,
    )


class HtmlRenderer(Renderer):
    name = "html"
    filename = "report.html"

    def render(self, report: Report, options: RenderOptions) -> str:
        view = build_view(report, pseudonymized=options.pseudonymize_key is not None, prices=options.prices)
        return render_html(view)
