"""Type aliases for JSON documents, for code that decodes or encodes JSON itself.

Two directions, two kinds of alias:

- **Decoded** — what :func:`json.loads` returns: :data:`JsonValue` (any JSON value) and
  :data:`JsonObject` (a JSON object). The containers are the concrete, mutable ``list`` and
  ``dict``; a reader narrows with ``isinstance`` before it relies on a shape, because a document
  read from the wire can be anything.
- **To encode** — what :func:`json.dumps` turns into JSON without a ``default=``: :data:`Json`
  (read-only ``Sequence``/``Mapping`` containers, so a ``list[dict[str, str]]`` is a ``Json``
  as it stands) and :data:`JsonMap` (a JSON object to encode).

A third alias, :data:`WireObject`, is what the collectors read a service's answer as: a decoded
JSON object whose every value stays ``object`` until an ``isinstance`` check says what it is (a
source reads it into the evidence's models right where the answer is read; nothing past a source
sees these values).

A document with a fixed shape that the code relies on is better typed as a ``TypedDict`` or a
dataclass; data that is only passed through is ``object`` / ``Mapping[str, object]``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TypeAlias

JsonScalar: TypeAlias = str | int | float | bool | None
"""A JSON string, number, boolean or null (``bool`` is listed although it is an ``int``: readers
that tell them apart must test ``bool`` first)."""

JsonValue: TypeAlias = JsonScalar | list["JsonValue"] | dict[str, "JsonValue"]
"""Any decoded JSON value, as :func:`json.loads` returns it."""

JsonObject: TypeAlias = dict[str, JsonValue]
"""A decoded JSON object."""

Json: TypeAlias = JsonScalar | Sequence["Json"] | Mapping[str, "Json"]
"""A value :func:`json.dumps` encodes as it stands (containers read-only, hence covariant)."""

JsonMap: TypeAlias = Mapping[str, Json]
"""A JSON object to encode."""

WireObject: TypeAlias = Mapping[str, object]
"""A decoded JSON object as a service answered it (an audit record, an ARM resource, a Graph page),
read value by value with ``isinstance`` checks (read-only, so any decoded JSON object is one)."""


def decode(data: str | bytes) -> JsonValue:
    """:func:`json.loads` with its return typed: with the default hooks it only ever builds
    ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` and ``None``. Raises what it raises
    (:class:`json.JSONDecodeError`, :class:`UnicodeDecodeError`)."""
    value: JsonValue = json.loads(data)
    return value


__all__ = ["Json", "JsonMap", "JsonObject", "JsonScalar", "JsonValue", "decode"]
