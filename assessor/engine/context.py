"""What a check function sees: the evidence, the profile, the knowledge base and the gap figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from assessor.engine.model import (
    AuditFigures,
    EventFigures,
    ExportFigures,
    LicensingFigures,
    MailClientFigure,
    MailPermissionFigure,
    ReadinessFigures,
    RetentionFigures,
)
from assessor.evidence import Evidence
from assessor.knowledge import Knowledge
from assessor.profiles import Profile


@dataclass(frozen=True)
class Figures:
    licensing: LicensingFigures
    retention: RetentionFigures
    audit: AuditFigures
    events: dict[str, EventFigures]
    mail_clients: list[MailClientFigure] | None = None
    mail_permissions: list[MailPermissionFigure] | None = None
    readiness: ReadinessFigures | None = None
    export: ExportFigures = field(default_factory=ExportFigures)

    def error_of(self, group: str) -> str | None:
        if group in ("events", "mail_clients"):
            return None
        return getattr(self, group).error  # type: ignore[no-any-return]


@dataclass(frozen=True)
class CheckContext:
    evidence: Evidence
    profile: Profile
    kb: Knowledge
    figures: Figures
    on: date
