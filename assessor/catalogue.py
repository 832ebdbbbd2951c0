"""The check catalogue (``checks/catalogue.yaml``): ids, titles, default severity, rationale,
references, least-privilege permissions and the evidence each check needs.

It sits below the engine and the profiles: a profile names catalogue ids and overrides a default
severity only where it differs; the engine joins each entry to its function
(:mod:`assessor.engine.registry`). Nothing here imports either of them.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assessor.errors import CatalogueError
from assessor.vocabulary import SEVERITIES, Severity

SEVERITY_ORDER: dict[str, int] = {s.value: i for i, s in enumerate(SEVERITIES)}


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


class CheckMeta(BaseModel):
    """Validated metadata of one catalogue entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^(AUD|LIC|RET|EVT|EXP)-\d{2}$")
    title: str = Field(min_length=5)
    area: Literal["audit", "licensing", "retention", "events", "export"]
    severity: Severity
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


def default_severity(check_id: str) -> Severity:
    """The catalogue's severity of a check (what a profile gets unless it says otherwise)."""
    for meta in load_catalogue():
        if meta.id == check_id:
            return meta.severity
    raise CatalogueError(f"unknown check id {check_id!r}")
