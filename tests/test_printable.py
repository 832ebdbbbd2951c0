"""The printable pre-check: a report's JSON text is searched first, and the full walk runs only when
it may hold an unsafe character. A miss here would let a terminal escape through, so every code
point the walk would change must be found, in a value and in a mapping key."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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


_UNSAFE_RAW = set("\x7f\u200e\u200f") | {chr(c) for c in range(0x80, 0xA0)} | set("\u202a\u202b\u202c\u202d\u202e")
_UNSAFE_RAW |= set("\u2066\u2067\u2068\u2069")


def _needs_walk(text: str) -> bool:
    """The pre-check's definition, written plainly: an unsafe character, or a backslash before b, f or u."""
    return any(c in _UNSAFE_RAW for c in text) or any(f"\\{c}" in text for c in "bfu")


@settings(max_examples=3000, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list('\\bfuxn"é—…\U0001f600\u2010\u206a\xa0') + sorted(_UNSAFE_RAW)), max_size=8)
)
def test_the_pre_check_is_its_definition(text: str) -> None:
    assert may_be_unprintable(text) == _needs_walk(text)
