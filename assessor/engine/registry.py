"""The check registry: catalogue metadata (:mod:`assessor.catalogue`) joined to check functions.

Check modules (every module of the ``assessor.checks`` package, found by walking it: adding a
module needs no list to be edited) register one function per id with :func:`check`. Loading
verifies that both sides agree exactly — a catalogue id without a function, or a function without
a catalogue entry, is a packaging defect and fails loudly.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from assessor.catalogue import FIGURE_GROUPS, SECTIONS, CheckMeta, catalogue_ids, load_catalogue
from assessor.errors import CatalogueError

if TYPE_CHECKING:
    from assessor.engine.context import CheckContext
    from assessor.engine.model import Outcome

__all__ = [
    "FIGURE_GROUPS",
    "SECTIONS",
    "CheckFn",
    "CheckMeta",
    "RegisteredCheck",
    "catalogue_ids",
    "check",
    "check_modules",
    "load_catalogue",
    "registry",
]

CheckFn = Callable[["CheckContext"], "Outcome"]


@dataclass(frozen=True)
class RegisteredCheck:
    meta: CheckMeta
    fn: CheckFn


_FUNCTIONS: dict[str, CheckFn] = {}


def check(check_id: str) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated function as the implementation of catalogue entry `check_id`."""

    def register(fn: CheckFn) -> CheckFn:
        if check_id in _FUNCTIONS and _FUNCTIONS[check_id] is not fn:
            raise CatalogueError(f"check {check_id} registered twice")
        _FUNCTIONS[check_id] = fn
        return fn

    return register


def check_modules() -> list[str]:
    """The check modules of the ``assessor.checks`` package, discovered (sorted by name)."""
    package = importlib.import_module("assessor.checks")
    return sorted(
        f"assessor.checks.{m.name}" for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")
    )


@lru_cache(maxsize=1)
def registry() -> tuple[RegisteredCheck, ...]:
    """Every catalogue check with its function, in catalogue order."""
    for module in check_modules():
        importlib.import_module(module)
    metas = load_catalogue()
    missing = [m.id for m in metas if m.id not in _FUNCTIONS]
    extra = sorted(set(_FUNCTIONS) - {m.id for m in metas})
    if missing or extra:
        raise CatalogueError(
            f"catalogue and implementations disagree: no function for {missing}, no catalogue entry for {extra}"
        )
    return tuple(RegisteredCheck(meta=m, fn=_FUNCTIONS[m.id]) for m in metas)
