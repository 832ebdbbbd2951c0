"""The wheel carries checks/ and templates/: build it, install it into a fresh venv, run from it."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.helpers.support import ROOT


@pytest.mark.slow
def test_wheel_installs_and_lists_checks(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(dist.glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "assessor/checks/catalogue.yaml" in names
    assert "assessor/checks/audit.py" in names
    assert "assessor/knowledge/skus.json" in names
    assert any(n.startswith("assessor/profiles/") and n.endswith(".yaml") for n in names)
    assert any(n.startswith("assessor/templates/") for n in names)
    # packages are found, not listed: every package of the tree is in the wheel, and nothing at the top
    packages = {str(p.parent.relative_to(ROOT)) for p in (ROOT / "assessor").rglob("__init__.py")}
    assert all(f"{p}/__init__.py" in names for p in packages), sorted(
        p for p in packages if f"{p}/__init__.py" not in names
    )
    assert "assessor/py.typed" in names and "assessor/pipeline.py" in names
    assert not any(n.startswith(("checks/", "templates/", "tests/")) for n in names)

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run(
        [str(py), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    # Dependencies come from this interpreter's site-packages; the assessor itself only from the wheel.
    env = dict(os.environ, PYTHONPATH=sysconfig.get_paths()["purelib"])
    res = subprocess.run(
        [str(env_dir / "bin" / "assessor"), "checks"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert sum(1 for line in res.stdout.splitlines() if line[:4] in ("AUD-", "LIC-", "RET-", "EVT-", "EXP-")) == 19
    where = subprocess.run(
        [str(py), "-c", "import assessor.checks, sys; print(assessor.checks.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    assert str(env_dir) in where.stdout
