"""YAML from users, loaded with a bound on what aliases may expand to (no "billion laughs").

``yaml.safe_load`` builds aliases as shared references, so loading a bomb is cheap, but anything
that then walks the data (validation, the manifest's inline-secret scan) visits every expanded
node: nine levels of nine-fold aliases are 387 million. :func:`safe_load_bounded` allows anchors
(the built-in profiles use them) but refuses a document whose aliases add more than
``max_alias_nodes`` nodes, or that refers to itself. The error is a ``yaml.YAMLError``, so callers'
existing "not valid YAML" handling applies.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_ALIAS_NODES = 100_000

# libyaml's parser when PyYAML was built with it (the wheels are): the same safe constructor, a
# tenth of the parse time of the pure-Python one, which a 1,000-tenant manifest notices
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` through :data:`SAFE_LOADER`."""
    return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader (C or Python)


class YamlExpansionError(yaml.YAMLError):
    """The document's aliases expand too far, or form a cycle."""


def _sizes(value: Any, memo: dict[int, int], active: set[int], limit: int) -> int:
    """Expanded node count of ``value`` (memoised per object, so linear in the distinct nodes)."""
    if not isinstance(value, (dict, list)):
        return 1
    key = id(value)
    if key in memo:
        return memo[key]
    if key in active:
        raise YamlExpansionError("YAML aliases refer to themselves (a recursive structure)")
    active.add(key)
    children = [*value.keys(), *value.values()] if isinstance(value, dict) else value
    total = 1
    for child in children:
        total += _sizes(child, memo, active, limit)
        if total > limit:
            raise YamlExpansionError(f"YAML aliases expand to more than {limit:,} nodes")
    active.discard(key)
    memo[key] = total
    return total


def expanded_nodes(value: Any, limit: int) -> int:
    return _sizes(value, {}, set(), limit)


def _distinct_nodes(value: Any, seen: set[int]) -> int:
    if not isinstance(value, (dict, list)) or id(value) in seen:
        return 1 if not isinstance(value, (dict, list)) else 0
    seen.add(id(value))
    children = [*value.keys(), *value.values()] if isinstance(value, dict) else value
    return 1 + sum(_distinct_nodes(c, seen) for c in children)


def safe_load_bounded(text: str, max_alias_nodes: int = MAX_ALIAS_NODES) -> Any:
    """``yaml.safe_load`` whose aliases add at most ``max_alias_nodes`` nodes to the document."""
    try:
        raw = safe_load(text)
        if isinstance(raw, (dict, list)):
            expanded_nodes(raw, _distinct_nodes(raw, set()) + max_alias_nodes)
    except RecursionError:
        raise YamlExpansionError("YAML nested too deeply") from None
    return raw
