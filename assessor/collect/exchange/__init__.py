"""Exchange Online and Purview settings: the admin API collector and the ``--import`` reader.

- :mod:`.client` — async client for ``POST {endpoint}/{tenant}/InvokeCommand`` (paging, retries,
  regional redirects, typed errors).
- :mod:`.collector` — :func:`collect_exchange` reads the five sections, each ``Collected`` as its
  evidence model (``ExchangeData``) or ``NotCollected`` (``ExchangeOutcome``).
- :mod:`.imports` — :func:`import_exchange` reads ``ConvertTo-Json`` exports of the same cmdlets.
- :mod:`.run` — :func:`read_imports` + :func:`exchange_evidence`: the Exchange part of a collect run.
- :mod:`.normalize` / :mod:`.aggregate` — shared validation and streaming aggregation.
"""

from assessor.collect.exchange.client import (
    ExchangeAuthError,
    ExchangeClient,
    ExchangeError,
    ExchangePermissionError,
    ExchangeSettings,
    ExchangeThrottledError,
)
from assessor.collect.exchange.collector import (
    COMPLIANCE_FIX,
    EXCHANGE_FIX,
    SECTIONS,
    ExchangeData,
    ExchangeOutcome,
    ExchangePlan,
    ExchangeResult,
    collect_exchange,
    skipped_sections,
)
from assessor.collect.exchange.imports import ImportedSections, import_exchange
from assessor.collect.exchange.run import exchange_evidence, read_imports
from assessor.collect.retry import RetryPolicy

__all__ = [
    "COMPLIANCE_FIX",
    "EXCHANGE_FIX",
    "SECTIONS",
    "ExchangeAuthError",
    "ExchangeClient",
    "ExchangeData",
    "ExchangeError",
    "ExchangeOutcome",
    "ExchangePermissionError",
    "ExchangePlan",
    "ExchangeResult",
    "ExchangeSettings",
    "ExchangeThrottledError",
    "ImportedSections",
    "RetryPolicy",
    "collect_exchange",
    "exchange_evidence",
    "import_exchange",
    "read_imports",
    "skipped_sections",
]
