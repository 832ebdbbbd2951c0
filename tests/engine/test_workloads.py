"""Probe records are classified by the Workload they carry, as Microsoft classifies them (its Premium
default policy keeps a year the records whose Workload is Exchange, SharePoint, OneDrive or
AzureActiveDirectory): the readiness retention of MailItemsAccessed follows the records' Workload."""

from __future__ import annotations

from typing import Any

from tests.helpers.support import assess_doc, example


def _retention(doc: dict[str, Any]) -> Any:
    report = assess_doc(doc, "cisa-aa23-193a")
    return next(e for e in report.readiness.elements if e.id == "retention")


def _with_workloads(workloads: dict[str, int] | None) -> dict[str, Any]:
    doc = example("northwind-storm-like")
    doc["audit_probe"]["data"]["operations"]["MailItemsAccessed"]["workloads"] = workloads
    return doc


def test_exchange_records_get_exchange_retention() -> None:
    assert "at least 365 days" in _retention(_with_workloads({"Exchange": 40})).detail
    assert "at least 365 days" in _retention(_with_workloads(None)).detail  # older evidence: the event's workload


def test_records_of_another_workload_get_its_retention_and_the_shortest_decides() -> None:
    """A Workload outside the four of the Premium default is kept by the 'Other' rules (180 days here);
    records of two workloads are judged by the shorter-kept one."""
    assert "at least 180 days" in _retention(_with_workloads({"MicrosoftTeams": 3})).detail
    assert "at least 180 days" in _retention(_with_workloads({"Exchange": 40, "MicrosoftTeams": 3})).detail
    assert "at least 365 days" in _retention(_with_workloads({"exchange": 40, "unknown": 2})).detail
