"""Empirical event verification: the Purview audit search probe (``--probe-events DAYS``).

Public API: :func:`probe_events` (→ the ``audit_probe`` evidence section), :func:`operations_for`
(the operations behind a profile's required events), :class:`ProbeSettings`, :class:`PollPolicy`.
"""

from assessor.collect.probe.errors import ProbeError, ProbeForbidden, ProbeHttpError, ProbeTimeout, QueryEnded
from assessor.collect.probe.probe import (
    AUDIT_SEARCH_CLOUDS,
    DEFAULT_TIMEOUT,
    ProbeSettings,
    all_event_operations,
    operations_for,
    permission_for,
    probe_events,
)
from assessor.collect.probe.service import PollPolicy

__all__ = [
    "AUDIT_SEARCH_CLOUDS",
    "DEFAULT_TIMEOUT",
    "PollPolicy",
    "ProbeError",
    "ProbeForbidden",
    "ProbeHttpError",
    "ProbeSettings",
    "ProbeTimeout",
    "QueryEnded",
    "all_event_operations",
    "operations_for",
    "permission_for",
    "probe_events",
]
