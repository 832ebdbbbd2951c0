"""The collector settings a scan runs under, and that they are put back afterwards."""

from __future__ import annotations

import gc

import pytest

from assessor.bulk.runner import GC_THRESHOLDS, collector_tuned_for_scan


def test_scan_settings_apply_inside_and_are_restored_after() -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with collector_tuned_for_scan():
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > 0  # what existed before the scan is out of the collector's sight
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_settings_are_restored_when_the_scan_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), collector_tuned_for_scan():
        raise RuntimeError("a scan that breaks")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_cycles_made_during_the_scan_are_still_collected() -> None:
    with collector_tuned_for_scan():
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1
