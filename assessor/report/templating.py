"""The Jinja environment of the templated reports, loading from the installed `assessor.templates` package."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import lru_cache
from importlib import resources

import jinja2

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
    return env
