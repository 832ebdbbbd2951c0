"""JSON as a service answered it, before a source reads it into the evidence's models.

Decoded JSON (``json.loads``, ``httpx.Response.json()``) carries no types: a source reads each
value it needs with an ``isinstance`` check and builds the section's evidence model
(:mod:`assessor.evidence`) from it right where the answer is read. Nothing past a source sees
these values; the orchestration and everything after it work on the models.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

JsonObject: TypeAlias = Mapping[str, object]
"""A decoded JSON object as the service answered it (an audit record, an ARM resource): each value
is an ``object`` until an ``isinstance`` (or ``type(…) is``) check says what it is."""
