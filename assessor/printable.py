"""Tenant-supplied text made safe to display: control and bidi-override characters made visible.

A tenant or user name can carry terminal escape sequences (which recolour a terminal, set its
title or write its clipboard when a report is printed or ``cat``), other C0/C1 controls, or
Unicode bidi overrides that make a displayed name read differently from what it is. Every such
character is replaced by its ``\\uXXXX`` spelling, so it is neither executed nor hidden.
"""

from __future__ import annotations

import re

from assessor.evidence import map_strings

_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) if _UNSAFE.search(text) else text


# In JSON text written by pydantic-core, an unsafe C0 control can only appear escaped (``\b``, ``\f``
# or ``\u00XX``) and the other unsafe characters raw; a backslash before b, f or u is therefore
# the only escape to look for (an escaped backslash before such a letter merely costs the full walk).
# Searched piecewise (a substring test first), which is several times faster than one pattern.
_UNSAFE_ESCAPE = re.compile(r"\\[bfu]")
_UNSAFE_RAW = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def may_be_unprintable(json_text: str) -> bool:
    """False when the JSON text of a document holds no string that :func:`printable` would change."""
    if "\\" in json_text and _UNSAFE_ESCAPE.search(json_text):
        return True
    if json_text.isascii():
        return "\x7f" in json_text
    return _UNSAFE_RAW.search(json_text) is not None


def printable_tree(value: object) -> object:
    """``value`` (JSON-shaped) with every string, key included, made printable."""
    return map_strings(value, printable)
