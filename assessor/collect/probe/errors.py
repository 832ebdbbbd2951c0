"""Typed failures of the audit-log probe. Each becomes a ``not_collected`` reason, never a crash."""

from __future__ import annotations

from assessor.redact import redact


class ProbeError(Exception):
    """The probe could not produce whole figures; ``reason`` says why, ``fix`` what would help."""

    def __init__(self, reason: str, fix: str | None = None) -> None:
        reason = redact(reason)  # a service may echo what it was sent
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


class ProbeForbidden(ProbeError):
    """The audit search answered 401/403: the app lacks an AuditLogsQuery permission."""


class QueryEnded(ProbeError):
    """A query reached ``failed``, ``cancelled`` or an unknown terminal status."""


class ProbeTimeout(ProbeError):
    """The probe did not finish within its time bound."""


class ProbeHttpError(ProbeError):
    """The audit search answered an error, could not be reached, or answered something unparseable."""

    def __init__(self, reason: str, fix: str | None = None, status: int | None = None) -> None:
        super().__init__(reason, fix)
        self.status = status
