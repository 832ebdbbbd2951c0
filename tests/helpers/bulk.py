"""Helpers for the bulk tests: sandbox-fleet manifests and running the CLI in-process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from assessor.cli import main


def fleet_manifest(
    path: Path,
    count: int,
    *,
    failing: float = 0.0,
    latency_ms: int = 0,
    stall: float = 20.0,
    extra: list[dict[str, Any]] | None = None,
) -> Path:
    rows = [{"sandbox": f"fleet-{i:04d}", "tags": ["fleet", f"group-{i % 3}"]} for i in range(count)]
    doc = {
        "version": 1,
        "sandbox": {
            "latency_ms": latency_ms,
            "fleet": {"count": count, "failing": failing, "stall_seconds": stall, "users": 12},
        },
        "tenants": [*(extra or []), *rows],
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def run_cli(*args: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    return int(exit_info.value.code or 0)


def portfolio(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "portfolio.json").read_text(encoding="utf-8"))


def comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """A portfolio without what differs between runs (timestamps and durations)."""
    rows = [{k: v for k, v in row.items() if k not in ("finished_at", "duration_s")} for row in doc["tenants"]]
    return {**{k: v for k, v in doc.items() if k != "generated_at"}, "tenants": rows}
