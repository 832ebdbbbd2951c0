"""The printable pre-check: a report's JSON text is searched first, and the full walk runs only when
it may hold an unsafe character. A miss here would let a terminal escape through, so every code
point the walk would change must be found, in a value and in a mapping key."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from assessor.printable import may_be_unprintable, printable


class Doc(BaseModel):
    name: str
    tags: dict[str, str]


CHANGED = [chr(c) for c in range(0x3000) if printable(chr(c)) != chr(c)]


def test_the_walk_changes_the_characters_it_should() -> None:
    assert "\x1b" in CHANGED and "\u202e" in CHANGED and "\x85" in CHANGED
    assert "\t" not in CHANGED and "\n" not in CHANGED and "é" not in CHANGED


@pytest.mark.parametrize("char", CHANGED, ids=lambda c: f"U+{ord(c):04X}")
def test_every_unsafe_character_is_found_in_values_and_keys(char: str) -> None:
    assert may_be_unprintable(Doc(name=f"a{char}b", tags={}).model_dump_json())
    assert may_be_unprintable(Doc(name="plain", tags={f"k{char}": "v"}).model_dump_json())


def test_ordinary_text_needs_no_walk() -> None:
    doc = Doc(name="Contoso Ltd — Zürich\ttab\nline", tags={"owner": "ops@contoso.example"})
    assert not may_be_unprintable(doc.model_dump_json())
