"""The Jinja environment of the templated reports, loading from the installed `assessor.templates` package."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from numbers import Number

import jinja2
from markupsafe import Markup, escape

from assessor.report.prices import format_money

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


_NONE = Markup('<span class="null">none</span>')


def value_html(x: object) -> Markup:
    """An evidence value as HTML: null, booleans, numbers, strings, and nested mappings and lists."""
    if x is None:
        return Markup('<span class="null">unknown (null)</span>')
    if x is True:
        return Markup('<span class="mono">true</span>')
    if x is False:
        return Markup('<span class="mono">false</span>')
    if isinstance(x, Mapping):
        if not x:
            return _NONE
        items = "".join(f"<dt>{escape(k)}</dt><dd>{value_html(y)}</dd>" for k, y in x.items())
        return _built(f'<dl class="kv">{items}</dl>')
    if isinstance(x, str):
        return escape(x)
    try:
        values = iter(x)  # type: ignore[call-overload]  # any iterable, as Jinja's `iterable` test
    except TypeError:
        values = None
    if values is not None:
        items = "".join(f"<li>{value_html(y)}</li>" for y in values)
        return _built(f'<ul class="vals">{items}</ul>') if items else _NONE
    if isinstance(x, Number):
        return _built(f'<span class="mono">{escape(number(x))}</span>')
    return escape(x)


def badge_html(status: object, label: object, symbol: object) -> Markup:
    """A status badge: ``<span class="badge st-{status}">{symbol} {label}</span>``."""
    return _built(f'<span class="badge st-{escape(status)}">{escape(symbol)} {escape(label)}</span>')


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
        env.globals.update(value=value_html, badge=badge_html, plural=plural_html)
    return env
