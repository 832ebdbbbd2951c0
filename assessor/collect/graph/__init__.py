"""Microsoft Graph collectors (msgraph-sdk, asyncio). Entry point: :func:`collect_graph`."""

from assessor.collect.graph.client import GraphConnection, GraphSettings, connect
from assessor.collect.graph.collector import GraphPlan, GraphResult, collect_graph
from assessor.collect.graph.outcome import Collected, GraphFailure, NotCollected
from assessor.collect.retry import RetryPolicy

__all__ = [
    "Collected",
    "GraphConnection",
    "GraphFailure",
    "GraphPlan",
    "GraphResult",
    "GraphSettings",
    "NotCollected",
    "RetryPolicy",
    "collect_graph",
    "connect",
]
