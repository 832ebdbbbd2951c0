"""The portfolio: every tenant's result rolled up into one JSON, CSV and HTML report.

Built only from the tenants' ``result.json`` rows, so a single run and a merge of shard runs give
the same portfolio. Rows are ordered largest gap first: users without Audit (Premium) coverage,
then failing checks weighted by severity, then the tenant key. Failed tenants are listed with
their reasons, never dropped.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TypedDict

import jinja2
from markupsafe import Markup

from assessor import __version__
from assessor.bulk.runner import ResultDoc, TenantResult
from assessor.evidence import write_json_atomic, write_text_atomic

PORTFOLIO_SCHEMA = "assessor.portfolio/1"
SEVERITY_WEIGHT = {"critical": 8, "high": 4, "medium": 2, "low": 1, "info": 0}
FAILING = ("fail", "warn")
TOTAL_FIELDS = (
    "users_in_scope",
    "users_without_premium_audit",
    "privileged_users_without_premium_audit",
    "seats_to_buy",
    "seats_to_assign",
    "premium_audit_seats_unassigned",
)
CSV_COLUMNS = (
    "tenant",
    "name",
    "status",
    "reason",
    "tags",
    "profile",
    "verdict",
    "gap_score",
    *TOTAL_FIELDS,
    "fail",
    "warn",
    "pass",
    "unknown",
    "error",
    "report",
)


def gap_score(result: TenantResult) -> int:
    """Failing checks weighted by severity (critical 8, high 4, medium 2, low 1)."""
    checks = result.summary.get("checks", {})
    return sum(SEVERITY_WEIGHT.get(c["severity"], 0) for c in checks.values() if c["status"] in FAILING)


def _order(result: TenantResult) -> tuple[int, int, int, str]:
    failed = 1 if result.status == "failed" else 0
    users = result.summary.get("users_without_premium_audit") or 0
    return (failed, -users, -gap_score(result), result.key)


def check_ids(results: Iterable[TenantResult]) -> list[str]:
    ids = {cid for r in results for cid in r.summary.get("checks", {})}
    return sorted(ids)


class PortfolioRow(ResultDoc):
    gap_score: int | None


class Failure(TypedDict):
    tenant: str
    name: str
    reason: str | None


class Portfolio(TypedDict):
    """``portfolio.json``."""

    schema: str
    generated_at: str
    tool_version: str
    selection: str | None
    checks: list[str]
    totals: dict[str, int]
    tenants: list[PortfolioRow]
    failures: list[Failure]


def totals(results: Sequence[TenantResult]) -> dict[str, int]:
    """Sums over assessed tenants; a figure unknown for a tenant is counted in ``unknown``."""
    assessed = [r for r in results if r.status == "done"]
    out: dict[str, int] = {"tenants": len(results), "assessed": len(assessed), "failed": len(results) - len(assessed)}
    for name in TOTAL_FIELDS:
        values = [r.summary.get(name) for r in assessed]
        out[name] = sum(v for v in values if isinstance(v, int))
        out[f"{name}_unknown"] = sum(1 for v in values if v is None)
    out["tenants_failing_checks"] = sum(1 for r in assessed if r.summary.get("verdict") == "fail")
    return out


def _row(result: TenantResult) -> PortfolioRow:
    return {**result.to_json(), "gap_score": gap_score(result) if result.status == "done" else None}


def build_portfolio(
    results: Iterable[TenantResult], generated_at: datetime | None = None, selection: str | None = None
) -> Portfolio:
    rows = sorted(results, key=_order)
    when = generated_at or datetime.now(timezone.utc)
    return {
        "schema": PORTFOLIO_SCHEMA,
        "generated_at": when.replace(microsecond=0).isoformat(),
        "tool_version": __version__,
        "selection": selection,  # e.g. "tenants tagged gold; shard 1/3" — None: the whole manifest
        "checks": check_ids(rows),
        "totals": totals(rows),
        "tenants": [_row(r) for r in rows],
        "failures": [{"tenant": r.key, "name": r.name, "reason": r.reason} for r in rows if r.status == "failed"],
    }


def portfolio_csv(portfolio: Portfolio) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in portfolio["tenants"]:
        summary = row["summary"]
        counts = summary.get("counts", {})
        writer.writerow(
            {
                "tenant": _csv_safe(row["key"]),
                "name": _csv_safe(row["name"]),
                "status": row["status"],
                "reason": _csv_safe(row["reason"] or ""),
                "tags": ";".join(row["tags"]),
                "profile": row["profile"],
                "verdict": summary.get("verdict", ""),
                "gap_score": row["gap_score"],
                **{name: summary.get(name) for name in TOTAL_FIELDS},
                **{s: counts.get(s, 0) if summary else "" for s in ("fail", "warn", "pass", "unknown", "error")},
                "report": f"{row['dir']}/{summary['report']}" if summary.get("report") else "",
            }
        )
    return buffer.getvalue()


def _csv_safe(value: str) -> str:
    """Neutralise spreadsheet formulas in free text (a tenant name like ``=HYPERLINK(…)``)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# --------------------------------------------------------------------------- HTML


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    def load(name: str) -> str:
        try:
            return resources.files("assessor.templates").joinpath(name).read_text(encoding="utf-8")
        except (FileNotFoundError, OSError):
            raise jinja2.TemplateNotFound(name) from None

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(load),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda v: "–" if v is None else (f"{v:,}" if isinstance(v, int) else str(v))
    return env


FILTER_SCRIPT = """
(function () {
  var select = document.getElementById("tag"), shown = document.getElementById("shown");
  function apply() {
    var tag = select.value, rows = document.querySelectorAll("table.heat tbody tr"), n = 0;
    rows.forEach(function (row) {
      var show = !tag || row.dataset.tags.split(" ").indexOf(tag) >= 0;
      row.hidden = !show; if (show) { n += 1; }
    });
    shown.textContent = n + " of " + rows.length + " tenants";
  }
  select.addEventListener("change", apply); apply();
})();
"""
STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1d2330}
h1{margin:0}.meta{color:#5b6475}small{display:block;color:#6b7385;font-size:11px}
.cards{display:flex;flex-wrap:wrap;gap:.75rem;margin:1rem 0}
.card{border:1px solid #d6dae3;border-radius:6px;padding:.6rem .9rem;min-width:10rem}
.card.bad{border-color:#c0392b}.big{display:block;font-size:1.6rem;font-weight:600}
.scroll{overflow-x:auto}table{border-collapse:collapse}
th,td{border:1px solid #e2e5ec;padding:.25rem .4rem;text-align:left;vertical-align:top}
th.check{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:500}
td.num{text-align:right}td.reason{color:#8e2b20}tr.failed td.name{background:#fbeae8}
.heat td[class^=s-],.legend span{text-align:center;font-weight:600;min-width:1.4rem}
.s-fail{background:#e74c3c;color:#fff}.s-warn{background:#f39c12;color:#fff}
.s-pass{background:#27ae60;color:#fff}.s-unknown{background:#bdc3c7}.s-error{background:#8e44ad;color:#fff}
.s-not_applicable,.s-none{background:#f4f5f8;color:#9aa1b0}.s-manual{background:#3498db;color:#fff}
.legend span{display:inline-block;padding:0 .3rem;border-radius:3px}
"""


def _csp_hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def portfolio_html(portfolio: Portfolio) -> str:
    """The self-contained HTML portfolio (inline CSS and script, pinned by hash in the CSP)."""
    tags = sorted({t for row in portfolio["tenants"] for t in row["tags"]})
    return (
        _environment()
        .get_template("portfolio.html.j2")
        .render(
            p=portfolio,
            tags=tags,
            style=Markup(STYLE),  # noqa: S704 - constants
            script=Markup(FILTER_SCRIPT),  # noqa: S704 - constants
            style_hash=_csp_hash(STYLE),
            script_hash=_csp_hash(FILTER_SCRIPT),
        )
    )


def write_portfolio(
    results: Iterable[TenantResult], output: Path, generated_at: datetime | None = None, selection: str | None = None
) -> Portfolio:
    """Write portfolio.json, portfolio.csv and portfolio.html into ``output`` (each atomically)."""
    portfolio = build_portfolio(results, generated_at, selection)
    html = portfolio_html(portfolio)
    table = portfolio_csv(portfolio)
    write_json_atomic(output / "portfolio.json", portfolio)
    write_text_atomic(output / "portfolio.csv", table)
    write_text_atomic(output / "portfolio.html", html)
    return portfolio
