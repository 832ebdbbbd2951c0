"""The check registry: catalogue metadata (checks/catalogue.yaml) joined to check functions.

The catalogue is the source of truth for ids, titles, severities, rationale, references and
permissions. Check modules register one function per id with :func:`check`. Loading verifies
that both sides agree exactly — a catalogue id without a function, or a function without a
catalogue entry, is a packaging defect and fails loudly.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assessor.errors import CatalogueError

if TYPE_CHECKING:
    from assessor.engine.context import CheckContext
    from assessor.engine.model import Outcome

CHECK_MODULES = ("audit", "licensing", "retention", "events", "export")
SECTIONS = (
    "skus",
    "users",
    "privileged",
    "audit_probe",
    "log_export",
    "exchange.admin_audit_log_config",
    "exchange.organization_config",
    "exchange.bypass",
    "exchange.mailboxes",
    "exchange.retention_policies",
)
FIGURE_GROUPS = ("licensing", "retention", "audit", "events", "mail_clients")

CheckFn = Callable[["CheckContext"], "Outcome"]


class CheckMeta(BaseModel):
    """Validated metadata of one catalogue entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^(AUD|LIC|RET|EVT|EXP)-\d{2}$")
    title: str = Field(min_length=5)
    area: Literal["audit", "licensing", "retention", "events", "export"]
    severity: Literal["critical", "high", "medium", "low", "info"]
    rationale: str = Field(min_length=10)
    remediation: str = Field(min_length=5)
    references: list[str] = Field(min_length=1)
    permissions: list[str] = Field(min_length=1, description="Least privilege needed to collect its evidence")
    needs: list[str] = Field(default_factory=list, description="Evidence sections without which it is unknown")
    figures: list[str] = Field(default_factory=list, description="Figure groups it reads")

    def model_post_init(self, _context: object) -> None:
        for section in self.needs:
            if section not in SECTIONS:
                raise ValueError(f"{self.id}: needs unknown section {section!r}")
        for group in self.figures:
            if group not in FIGURE_GROUPS:
                raise ValueError(f"{self.id}: unknown figure group {group!r}")


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


@lru_cache(maxsize=1)
def load_catalogue() -> tuple[CheckMeta, ...]:
    text = resources.files("assessor.checks").joinpath("catalogue.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    metas: list[CheckMeta] = []
    for entry in raw["checks"]:
        try:
            metas.append(CheckMeta.model_validate(entry))
        except ValidationError as err:
            raise CatalogueError(f"checks/catalogue.yaml: {entry.get('id', '?')}: {err.errors()[0]['msg']}") from None
    ids = [m.id for m in metas]
    if len(ids) != len(set(ids)):
        raise CatalogueError("checks/catalogue.yaml: duplicate check id")
    return tuple(metas)


def catalogue_ids() -> frozenset[str]:
    return frozenset(m.id for m in load_catalogue())


@lru_cache(maxsize=1)
def registry() -> tuple[RegisteredCheck, ...]:
    """Every catalogue check with its function, in catalogue order."""
    for module in CHECK_MODULES:
        importlib.import_module(f"assessor.checks.{module}")
    metas = load_catalogue()
    missing = [m.id for m in metas if m.id not in _FUNCTIONS]
    extra = sorted(set(_FUNCTIONS) - {m.id for m in metas})
    if missing or extra:
        raise CatalogueError(
            f"catalogue and implementations disagree: no function for {missing}, no catalogue entry for {extra}"
        )
    return tuple(RegisteredCheck(meta=m, fn=_FUNCTIONS[m.id]) for m in metas)
