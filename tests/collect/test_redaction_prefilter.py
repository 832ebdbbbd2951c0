"""The evidence's last redaction step skips the per-string pass only when nothing could change."""

from __future__ import annotations

from typing import Any

import pytest

from assessor.collect.orchestrate import redacted
from assessor.evidence import parse_evidence
from assessor.redact import REDACTED, register_secret
from tests.helpers.support import example


def _with_name(name: str) -> Any:
    doc = example("mixed-e5-e3-priority-trap")
    doc["tenant"]["name"] = name
    return parse_evidence(doc)


def test_clean_evidence_is_returned_as_is() -> None:
    evidence = _with_name("Contoso Ltd")
    assert redacted(evidence) is evidence


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Contoso\x00\x01Ltd", "Contoso Ltd"),  # escaped as \u0000 in JSON
        ("Contoso\nLtd", "Contoso Ltd"),  # escaped as \n
        ("Contoso\x85Ltd", "Contoso Ltd"),  # a C1 control, as is in JSON
        ("Bearer abcdefghijkl", f"Bearer {REDACTED}"),
        ("x eyJhbGciOi.eyJzdWIiOi.c2ln y", f"x {REDACTED} y"),
    ],
)
def test_what_redact_would_change_is_changed(name: str, expected: str) -> None:
    assert redacted(_with_name(name)).tenant.name == expected


def test_a_registered_secret_is_found_even_when_json_escapes_it() -> None:
    secret = 'pa"ss\\word-7f3k'
    register_secret(secret)
    assert redacted(_with_name(f"before {secret} after")).tenant.name == f"before {REDACTED} after"
