"""Shared fixtures: example evidence as plain dicts that tests mutate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import example


@pytest.fixture
def mixed() -> dict[str, Any]:
    return example("mixed-e5-e3-priority-trap")


@pytest.fixture
def e3() -> dict[str, Any]:
    return example("e3-standard-ingestion-off")


@pytest.fixture
def gov() -> dict[str, Any]:
    return example("gcc-high-no-exchange")
