"""The templates ship in the wheel: every file in templates/ matches the package-data globs."""

from __future__ import annotations

import fnmatch
from importlib import resources
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_every_template_file_is_package_data() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert config["package-dir"]["assessor.templates"] == "templates"
    globs = config["package-data"]["assessor.templates"]
    files = [p.name for p in (ROOT / "templates").iterdir() if p.is_file() and p.suffix != ".py"]
    assert {"report.html.j2", "report.md.j2", "report.css", "report.js"} <= set(files)
    for name in files:
        assert any(fnmatch.fnmatch(name, g) for g in globs), f"templates/{name} would not be in the wheel"


def test_templates_load_through_the_package_not_a_path() -> None:
    root = resources.files("assessor.templates")
    for name in ("report.html.j2", "report.md.j2", "report.css", "report.js"):
        assert root.joinpath(name).read_text(encoding="utf-8")
