"""Who reads mail, as data: Microsoft's first-party applications, the mail app roles, Storm-0558's timeline.

``microsoft_apps.json`` is a dated copy of merill/microsoft-info's list (MIT; refreshed by
``scripts/refresh_microsoft_apps.py``); ``mail_access.yaml`` holds the rest with its sources.
"""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from assessor.errors import KnowledgeError


class _KB(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Incident(_KB):
    first_access: date
    detected: date
    days_unnoticed: int
    source: str
    note: str | None = None


class MailAppRole(_KB):
    resource: str
    resource_app_id: str
    id: str
    name: str


class MailAccess(_KB):
    storm_0558: Incident
    microsoft_tenants: list[str]
    mail_app_roles: list[MailAppRole]
    exchange_mail_roles: list[str]


class MicrosoftApps(_KB):
    source: str
    licence: str
    commit: str | None = None
    as_of: str
    apps: dict[str, str]

    def describe(self) -> str:
        return f"{self.source}, as of {self.as_of} ({len(self.apps)} applications; {self.licence})"


@lru_cache(maxsize=1)
def load_mail_access() -> MailAccess:
    text = resources.files("assessor.knowledge").joinpath("mail_access.yaml").read_text(encoding="utf-8")
    try:
        return MailAccess.model_validate(yaml.safe_load(text))
    except ValidationError as err:
        raise KnowledgeError(f"knowledge/mail_access.yaml: {err.errors()[0]['msg']}") from None


@lru_cache(maxsize=1)
def load_microsoft_apps() -> MicrosoftApps:
    text = resources.files("assessor.knowledge").joinpath("microsoft_apps.json").read_text(encoding="utf-8")
    try:
        return MicrosoftApps.model_validate(json.loads(text))
    except (ValidationError, ValueError) as err:
        raise KnowledgeError(f"knowledge/microsoft_apps.json: {err}") from None
