"""Empirical event verification: the Purview audit search probe (``--probe-events DAYS``).

Public API: :func:`run_probe` (→ ``ProbeRun``: the ``audit_probe`` section's outcome, a
``ProbeOutcome`` — ``Collected[AuditProbe]`` or ``NotCollected`` — and what the collection adds
later: the client books and observed accounts), :func:`operations_for` (the operations behind a
profile's required events), :class:`ProbeSettings`, :class:`PollPolicy`.
"""

from assessor.collect.probe.errors import ProbeError, ProbeForbidden, ProbeHttpError, ProbeTimeout, QueryEnded
from assessor.collect.probe.probe import (
    AUDIT_SEARCH_CLOUDS,
    DEFAULT_TIMEOUT,
    ProbeOutcome,
    ProbeRun,
    ProbeSettings,
    all_event_operations,
    operations_for,
    permission_for,
    run_probe,
)
from assessor.collect.probe.service import PollPolicy

__all__ = [
    "AUDIT_SEARCH_CLOUDS",
    "DEFAULT_TIMEOUT",
    "PollPolicy",
    "ProbeError",
    "ProbeForbidden",
    "ProbeHttpError",
    "ProbeOutcome",
    "ProbeRun",
    "ProbeSettings",
    "ProbeTimeout",
    "QueryEnded",
    "all_event_operations",
    "operations_for",
    "permission_for",
    "run_probe",
]
