"""The Jinja environment of the templated reports, loading from the installed `assessor.templates` package."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from numbers import Number

import jinja2
from markupsafe import Markup, escape

from assessor.engine.model import AssumptionRef, CollectionEntry, Recommendation, Status
from assessor.report.prices import format_money
from assessor.report.view import STATUS_LABEL, STATUS_SYMBOL, Row
from assessor.vocabulary import Severity

TEMPLATE_PACKAGE = "assessor.templates"


def read_resource(name: str) -> str:
    return resources.files(TEMPLATE_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def _load(name: str) -> str:
    try:
        return read_resource(name)
    except (FileNotFoundError, OSError):
        raise jinja2.TemplateNotFound(name) from None


def number(value: object, unknown: str = "unknown") -> str:
    """1234 -> '1,234'; None -> 'unknown' (a figure the evidence cannot support)."""
    if value is None:
        return unknown
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (float, Decimal)):
        return f"{value:,.1f}"
    return str(value)


def yes_no(value: bool | None, unknown: str = "unknown") -> str:
    return unknown if value is None else ("yes" if value else "no")


def compact_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


# --------------------------------------------------------------------------- HTML parts
# Small pieces the HTML report repeats hundreds of times per tenant, written in Python rather than
# as Jinja macros (a macro call costs tens of microseconds). Every value is escaped here.


def _built(html: str) -> Markup:
    """HTML assembled below from literals and escaped parts only (never from raw input)."""
    return Markup(html)  # noqa: S704 - every dynamic part was passed through escape() or is such HTML


@lru_cache(maxsize=4096)
def _escape_str(text: str) -> Markup:
    return escape(text)


def _esc(x: object) -> Markup:
    """``escape(x)``, memoised for plain strings: the catalogue's titles, rationales, remediations,
    permissions and references recur in every report, and escaping is most of a report's cost.
    Only exact ``str`` is memoised, so a Markup is never confused with an equal plain string."""
    return _escape_str(x) if x.__class__ is str else escape(x)


_NULL = '<span class="null">unknown (null)</span>'
_EMPTY = '<span class="null">none</span>'


def _value(x: object) -> str:
    """The HTML of :func:`value_html` as a plain string (nested values are not wrapped one by one)."""
    if x is None:
        return _NULL
    if x is True:
        return '<span class="mono">true</span>'
    if x is False:
        return '<span class="mono">false</span>'
    cls = x.__class__
    if cls is str:
        return escape(x)  # tenant data (names, ids): rarely repeated, not memoised
    if cls is int:
        return f'<span class="mono">{x:,}</span>'  # digits and commas: nothing to escape
    if isinstance(x, (dict, Mapping)):  # dict first: no ABC check for the common case
        if not x:
            return _EMPTY
        items = "".join(f"<dt>{_esc(k)}</dt><dd>{_value(y)}</dd>" for k, y in x.items())
        return f'<dl class="kv">{items}</dl>'
    if isinstance(x, str):
        return escape(x)
    try:
        values = iter(x)  # type: ignore[call-overload]  # any iterable, as Jinja's `iterable` test
    except TypeError:
        values = None
    if values is not None:
        items = "".join(f"<li>{_value(y)}</li>" for y in values)
        return f'<ul class="vals">{items}</ul>' if items else _EMPTY
    if isinstance(x, Number):
        return f'<span class="mono">{_esc(number(x))}</span>'
    return escape(x)


def value_html(x: object) -> Markup:
    """An evidence value as HTML: null, booleans, numbers, strings, and nested mappings and lists."""
    return _built(_value(x))


def badge_html(status: object, label: object, symbol: object) -> Markup:
    """A status badge: ``<span class="badge st-{status}">{symbol} {label}</span>``."""
    return _built(f'<span class="badge st-{_esc(status)}">{_esc(symbol)} {_esc(label)}</span>')


# A row's badge, status and severity depend on the status or severity alone: built once.
_ROW_BADGE = {s: badge_html(s.value, STATUS_LABEL[s], STATUS_SYMBOL[s]) for s in Status}
_STATUS_TEXT = {s: escape(s.value) for s in Status}
_SEVERITY_TEXT: dict[str, Markup] = {s: escape(s.value) for s in Severity}


def _severity(severity: str) -> Markup:
    """A finding's severity as text (a Severity; any other string escaped)."""
    return _SEVERITY_TEXT.get(severity) or _esc(severity)


def row_badge_html(row: Row) -> Markup:
    """The status badge of a report row."""
    return _ROW_BADGE[row.finding.status]


def finding_row_html(row: Row) -> Markup:
    """One row of the findings table (the table lists every check, so a report has dozens)."""
    f = row.finding
    check_id, severity = _esc(f.check_id), _severity(f.severity)
    return _built(
        f'      <tr data-status="{_STATUS_TEXT[f.status]}" data-check="{check_id}">\n'
        f'        <td data-key="{row.status_rank}">{row_badge_html(row)}</td>\n'
        f'        <td data-key="{4 - row.severity_rank}"><span class="sev sev-{severity}">{severity}</span></td>\n'
        f'        <td class="mono"><a href="#finding-{check_id}">{check_id}</a></td>\n'
        f'        <td class="msg"><b>{_esc(f.title)}</b><br><span class="small">{_esc(f.message)}</span></td>\n'
        f"        <td>{_esc(f.area)}</td>\n"
        f'        <td class="small">{_esc(", ".join(f.controls) or "—")}</td>\n'
        "      </tr>\n"
    )


def _items(values: Sequence[str], item: str, empty: str) -> str:
    """``item`` (a format with one ``{}``) per value, escaped; ``empty`` when there are none."""
    return "".join(item.format(_esc(x)) for x in values) or empty


def _reference_html(ref: str) -> str:
    if ref.startswith(("https://", "http://")):
        return f'<li><a href="{_esc(ref)}" rel="noreferrer noopener">{_esc(ref)}</a></li>'
    return f"<li>{_esc(ref)}</li>"


def finding_detail_html(row: Row, rec: Recommendation | None) -> Markup:
    """The expandable card of one check: result, what was checked, evidence values, why, how to fix."""
    f, meta = row.finding, row.meta
    check_id, title, severity = _esc(f.check_id), _esc(f.title), _severity(f.severity)
    out = [
        f'  <details class="finding card" id="finding-{check_id}"{" open" if row.is_gap else ""}>\n'
        f'    <summary>{row_badge_html(row)} <span class="mono">{check_id}</span> <b>{title}</b>'
        f' <span class="sev sev-{severity}">{severity}</span></summary>\n'
        f'    <div class="body">\n      <h4>Result</h4>\n      <p>{_esc(f.message)}</p>\n'
    ]
    if row.missing:
        out.append(
            '<p class="banner bad">This check is in the catalogue but has no result in the report.'
            " It is shown as an error; the report is incomplete.</p>"
        )
    out.append(f"      <h4>What was checked</h4>\n      <p>{title}.")
    if meta:
        out.append(' <span class="muted">Decided from ')
        if meta.needs:
            out.append(f"the evidence {_esc(', '.join(meta.needs))}")
            if meta.figures:
                out.append(" and ")
        if meta.figures:
            out.append(f"the {_esc(', '.join(meta.figures))} figures")
        if not meta.needs and not meta.figures:
            out.append("the evidence")
        out.append(".</span>")
    else:
        out.append(' <span class="muted">(not in this tool\'s catalogue)</span>')
    out.append("</p>\n      <h4>Evidence values</h4>\n")
    out.append(
        value_html(f.evidence) if f.evidence else '<p class="null">No evidence values recorded for this result.</p>'
    )
    if f.rationale:
        out.append(f"<h4>Why it matters</h4><p>{_esc(f.rationale)}</p>")
    if f.remediation:
        out.append(f"<h4>Remediation</h4><pre>{_esc(f.remediation)}</pre>")
    if f.area == "licensing" and rec and row.is_gap:
        out.append(f"<p><b>Licence:</b> {_esc(rec.text)}</p>")
    if f.fix:
        out.append(f"<h4>To decide it</h4><p>{_esc(f.fix)}</p>")
    out.append('      <h4>Least privilege to collect its evidence</h4>\n      <ul class="plain small">')
    out.append(_items(f.permissions, "<li>{}</li>", '<li class="muted">none listed</li>'))
    out.append('</ul>\n      <h4>References</h4>\n      <ul class="plain small refs">')
    out.append("".join(_reference_html(ref) for ref in f.references) or '<li class="muted">none</li>')
    out.append('</ul>\n      <h4>Framework controls</h4>\n      <p class="controls">')
    out.append(
        _items(f.controls, '<span class="badge">{}</span>', '<span class="muted">none mapped by this profile</span>')
    )
    out.append("</p>\n")
    if f.assumptions:
        links = ", ".join(f'<a href="#assumption-{_esc(a)}" class="mono">{_esc(a)}</a>' for a in f.assumptions)
        out.append(f'<h4>Assumes</h4><p class="small">{links}</p>')
    out.append("    </div>\n  </details>\n")
    return _built("".join(out))


def assumption_row_html(a: AssumptionRef) -> Markup:
    """One row of the assumptions table."""
    ident = _esc(a.id)
    return _built(
        f'      <tr id="assumption-{ident}">\n'
        f'        <td class="mono">{ident}</td>\n'
        f'        <td class="small">{_esc(a.statement)}</td>\n'
        f'        <td class="small">{_esc(a.source)} (from {_esc(a.holds_from.isoformat())})</td>\n'
        f"        <td>{_esc(a.confidence)}</td>\n"
        f'        <td class="mono small">{_esc(", ".join(a.checks))}</td>\n'
        "      </tr>\n"
    )


_COLLECTION_BADGE = {"collected": ("pass", "✓"), "imported": ("manual", "⇩")}


def collection_row_html(e: CollectionEntry) -> Markup:
    """One row of the collection log: the section, how it was obtained, and why not / how to collect it."""
    cls, symbol = _COLLECTION_BADGE.get(e.status, ("unknown", "✗"))
    source: str = _esc(e.source or "—")
    if e.file:
        source = f'{source}<br><span class="mono">{_esc(e.file)}</span>'
    why: str = _esc(e.reason) if e.reason else ""
    if e.fix:
        why = f"{why}<br><b>Fix:</b> {_esc(e.fix)}"
    return _built(
        f'      <tr>\n        <td class="mono">{_esc(e.section)}</td>\n'
        f'        <td><span class="badge st-{cls}">{symbol} {_esc(e.status.replace("_", " "))}</span></td>\n'
        f'        <td class="small">{source}</td>\n'
        f'        <td class="small">{why or "—"}</td>\n'
        "      </tr>\n"
    )


# Whole tables in one template call: a Jinja loop costs a call and an escape of the returned Markup per row.


def finding_rows_html(rows: Iterable[Row]) -> Markup:
    return _built("".join([finding_row_html(row) for row in rows]))


def finding_details_html(rows: Iterable[Row], rec: Recommendation | None) -> Markup:
    return _built("".join([finding_detail_html(row, rec) for row in rows]))


def assumption_rows_html(assumptions: Iterable[AssumptionRef]) -> Markup:
    return _built("".join([assumption_row_html(a) for a in assumptions]))


def collection_rows_html(entries: Iterable[CollectionEntry]) -> Markup:
    return _built("".join([collection_row_html(e) for e in entries]))


def plural_html(n: object, one: str, many: str) -> Markup:
    """``1 user``, ``1,234 users``, ``unknown users``."""
    return _built(f"{escape(number(n))} {escape(one if n == 1 else many)}")


@lru_cache(maxsize=2)
def environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load),
        autoescape=autoescape,  # noqa: S701 - HTML passes True; Markdown escapes values with md()
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = number
    env.filters["yesno3"] = yes_no
    env.filters["money"] = format_money
    env.filters["cjson"] = compact_json
    if autoescape:
        env.globals.update(
            value=value_html,
            badge=badge_html,
            row_badge=row_badge_html,
            plural=plural_html,
            finding_rows=finding_rows_html,
            finding_details=finding_details_html,
            assumption_rows=assumption_rows_html,
            collection_rows=collection_rows_html,
        )
    return env
