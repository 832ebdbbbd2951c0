"""Shared fixtures: example evidence as plain dicts that tests mutate."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.support import example


@pytest.fixture
def mixed() -> dict[str, Any]:
    return example("mixed-e5-e3-priority-trap")


@pytest.fixture
def e3() -> dict[str, Any]:
    return example("e3-standard-ingestion-off")


@pytest.fixture
def gov() -> dict[str, Any]:
    return example("gcc-high-no-exchange")
