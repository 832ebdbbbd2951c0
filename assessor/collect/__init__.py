"""Collection: the only part of the assessor that talks to the network.

The CLI and the pipeline build a :class:`CollectOptions` and call :func:`collect` (async) or
:func:`collect_sync`; the result is an :class:`~assessor.evidence.Evidence` whose every section
says whether it was collected, and if not, why and what would fix it.

    options = CollectOptions(tenant="contoso.com", auth=AuthOptions(mode="token"),
                             graph_endpoint="http://127.0.0.1:8080/<tenant-id>/v1.0", no_exchange=True)
    evidence = collect_sync(options)

Every source (:mod:`.graph`, :mod:`.exchange` with the ``--import`` files, :mod:`.probe`,
:mod:`.azure`, :mod:`.attestation`) implements one contract (:mod:`.interface`: a name and an async
``collect()`` returning :class:`Collected` or :class:`NotCollected` per section); the HTTP clients
share one retry policy (:mod:`.retry`) and one paging guard (:mod:`.paging`). :mod:`.orchestrate`
lists the sources, runs them and assembles the evidence. This module only re-exports the public API.
"""

from assessor.collect.auth import AuthOptions
from assessor.collect.interface import Collected, NotCollected, Source, SourceResult
from assessor.collect.orchestrate import CollectOptions, collect, collect_sync, graph_preflight
from assessor.collect.permissions import required_permissions
from assessor.collect.retry import RetryPolicy

__all__ = [
    "AuthOptions",
    "CollectOptions",
    "Collected",
    "NotCollected",
    "RetryPolicy",
    "Source",
    "SourceResult",
    "collect",
    "collect_sync",
    "graph_preflight",
    "required_permissions",
]
