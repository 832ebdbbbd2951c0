"""``assessor merge DIR… --output DIR``: combine shard outputs into one portfolio.

Each input directory is a bulk run's output (or an earlier merge). Every tenant directory holding a
``result.json`` is copied into the output (so the portfolio's links work) and the portfolio is
rebuilt from all the rows. A tenant present in several inputs (a shard re-run into another
directory) is taken once: a ``done`` result wins over a ``failed`` one, then the latest.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assessor.bulk.command import exit_code
from assessor.bulk.paths import safe_dir_name
from assessor.bulk.portfolio import write_portfolio
from assessor.bulk.runner import TenantResult, read_result
from assessor.errors import UsageError


@dataclass(frozen=True)
class Found:
    result: TenantResult
    directory: Path


@dataclass(frozen=True)
class MergeOutcome:
    results: list[TenantResult]
    exit_code: int


def _better(new: Found, old: Found) -> bool:
    rank = {"done": 1, "failed": 0}
    return (rank[new.result.status], new.result.finished_at) > (rank[old.result.status], old.result.finished_at)


def find_results(inputs: Sequence[Path]) -> dict[str, Found]:
    """Every tenant result under the input directories, one per tenant key."""
    found: dict[str, Found] = {}
    for root in inputs:
        if not root.is_dir():
            raise UsageError(f"merge: {root} is not a directory")
        for child in sorted(p for p in root.iterdir() if p.is_dir()):
            result = read_result(child)
            if result is None:
                continue
            if child.name != safe_dir_name(result.key):
                raise UsageError(f"merge: {child} holds tenant {result.key!r} under an unexpected name")
            candidate = Found(result, child)
            current = found.get(result.key)
            if current is None or _better(candidate, current):
                found[result.key] = candidate
    return found


def merge(inputs: Sequence[Path], output: Path, fail_on: str = "none") -> MergeOutcome:
    if not inputs:
        raise UsageError("merge: give at least one input directory")
    found = find_results(inputs)
    if not found:
        raise UsageError("merge: no tenant results (result.json) found in " + ", ".join(map(str, inputs)))
    output.mkdir(parents=True, exist_ok=True)
    target_root = output.resolve()
    for item in found.values():
        destination = target_root / item.directory.name
        if item.directory.resolve() != destination:
            shutil.copytree(item.directory, destination, dirs_exist_ok=True)
    results = [found[key].result for key in sorted(found)]
    write_portfolio(results, output)
    return MergeOutcome(results, exit_code(results, fail_on))
