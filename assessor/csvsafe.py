"""CSV cells a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR) are neutralised."""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Prefix a single quote to any cell a spreadsheet would read as a formula."""
    stripped = value.lstrip(" ")
    if value.startswith(FORMULA_TRIGGERS) or (stripped and stripped.startswith(FORMULA_TRIGGERS)):
        return "'" + value
    return value
