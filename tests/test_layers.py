"""The layers of the README's "Layers" section, enforced: imports point one way only.

Every import in ``assessor/`` and ``checks/`` (module level, inside functions and under
``TYPE_CHECKING`` alike: a lazy import is still a dependency) is read from the source with
:mod:`ast` and checked against :data:`ALLOWED`. The allowed directions themselves must form no
cycle, and every module must belong to a layer (a new top-level module is placed here on purpose).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.support import ROOT

# layer → the layers it may import (besides itself)
ALLOWED: dict[str, frozenset[str]] = {
    "base": frozenset(),
    "evidence": frozenset({"base"}),
    "knowledge": frozenset({"base", "evidence"}),
    "catalogue": frozenset({"base"}),
    "profiles": frozenset({"base", "evidence", "knowledge", "catalogue"}),
    "collect": frozenset({"base", "evidence", "knowledge"}),
    "sandbox": frozenset({"base", "evidence", "knowledge"}),
    "engine": frozenset({"base", "evidence", "knowledge", "catalogue", "profiles"}),
    "report": frozenset({"base", "catalogue", "engine.model"}),
    "bulk": frozenset({"base", "evidence", "knowledge", "catalogue", "profiles", "collect", "engine.model"}),
    "pipeline": frozenset(
        {"base", "evidence", "knowledge", "catalogue", "profiles", "collect", "sandbox", "engine", "report", "bulk"}
    ),
    "cli": frozenset(
        {
            "base",
            "evidence",
            "knowledge",
            "catalogue",
            "profiles",
            "collect",
            "sandbox",
            "engine",
            "report",
            "bulk",
            "pipeline",
        }
    ),
}
BASE_MODULES = {"errors", "redact", "textfile", "yamlsafe", "fileio", "csvsafe", "trace", "vocabulary", "jsontypes"}


def layer_of(module: str) -> str | None:
    """The layer of an ``assessor``/``checks`` module (None: not ours, e.g. a third-party import)."""
    parts = module.split(".")
    if parts[0] == "checks":
        return "engine"  # the check functions sit with the engine that runs them
    if parts[0] != "assessor":
        return None
    if len(parts) == 1 or parts[1] in BASE_MODULES:
        return "base"
    name = parts[1]
    if name in ("cli", "__main__"):
        return "cli"
    if name == "checks":
        return "engine"
    if name == "printable":
        return "evidence"  # makes evidence-shaped trees printable
    if name == "engine" and parts[2:3] == ["model"]:
        return "engine.model"
    if name in ALLOWED:
        return name
    return "unplaced"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, module: str) -> Iterator[tuple[int, str]]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield node.lineno, target
            for alias in node.names:  # ``from assessor.engine import model`` imports assessor.engine.model
                if _is_module(f"{target}.{alias.name}"):
                    yield node.lineno, f"{target}.{alias.name}"


def _is_module(name: str) -> bool:
    parts = name.split(".")
    if parts[0] == "assessor" and parts[1:2] == ["checks"]:
        parts = parts[1:]
    here = ROOT.joinpath(*parts)
    return here.with_suffix(".py").is_file() or (here / "__init__.py").is_file()


def _sources() -> list[Path]:
    return sorted([*(ROOT / "assessor").rglob("*.py"), *(ROOT / "checks").glob("*.py")])


def _allowed(source: str, target: str) -> bool:
    if source == target:
        return True
    if source == "engine.model":
        source = "engine"
    if target == "engine.model":
        return source in ("engine", "report", "bulk", "pipeline", "cli") or "engine.model" in ALLOWED[source]
    return target in ALLOWED[source]


def violations() -> list[str]:
    found = []
    for path in _sources():
        module = _module_name(path)
        source = layer_of(module)
        for line, imported in _imports(path, module):
            target = layer_of(imported)
            if target is None or source is None:
                continue
            if target == "unplaced" or source == "unplaced":
                found.append(f"{path.relative_to(ROOT)}:{line}: {imported} has no layer in tests/test_layers.py")
            elif not _allowed(source, target):
                found.append(f"{path.relative_to(ROOT)}:{line}: {source} may not import {target} ({imported})")
    return sorted(set(found))


def test_every_import_follows_the_layers() -> None:
    assert violations() == []


def test_the_allowed_directions_have_no_cycle() -> None:
    graph = {layer: {t.split(".")[0] for t in targets} - {layer} for layer, targets in ALLOWED.items()}
    done: set[str] = set()

    def visit(layer: str, path: tuple[str, ...]) -> None:
        if layer in path:
            pytest.fail(f"cycle: {' -> '.join((*path, layer))}")
        if layer in done:
            return
        for target in graph[layer]:
            visit(target, (*path, layer))
        done.add(layer)

    for layer in graph:
        visit(layer, ())


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    """The test itself can fail: an engine module importing a renderer is reported."""
    assert not _allowed("engine", "report") and not _allowed("sandbox", "collect")
    assert not _allowed("collect", "engine.model") and not _allowed("report", "engine")
    assert _allowed("report", "engine.model") and _allowed("pipeline", "sandbox")
    assert layer_of("assessor.engine.model") == "engine.model" and layer_of("checks.audit") == "engine"
    assert layer_of("assessor.something_new") == "unplaced" and layer_of("httpx") is None


def test_the_sandbox_imports_nothing_from_collect() -> None:
    """The emulator stands in for Microsoft's services: it may not borrow the client's code (its
    shapes would then agree with the collector by construction). The layer table says so
    (``sandbox`` may import base, evidence, knowledge); this names the rule on its own."""
    sandbox = sorted((ROOT / "assessor" / "sandbox").rglob("*.py"))
    assert sandbox
    found = [
        f"{path.relative_to(ROOT)}:{line}: {imported}"
        for path in sandbox
        for line, imported in _imports(path, _module_name(path))
        if imported == "assessor.collect" or imported.startswith("assessor.collect.")
    ]
    assert found == []
    assert not _allowed("sandbox", "collect") and "collect" not in ALLOWED["sandbox"]


def test_check_modules_are_discovered() -> None:
    """Adding a module to checks/ needs no list edited: the registry walks the package."""
    from assessor.engine.registry import check_modules

    on_disk = sorted(f"assessor.checks.{p.stem}" for p in (ROOT / "checks").glob("*.py") if not p.stem.startswith("_"))
    assert check_modules() == on_disk and len(on_disk) >= 5


SHARED_COLLECT = ("interface", "wire", "retry", "paging", "bearer", "tls", "errorbody")
SOURCES = ("graph", "exchange", "probe", "azure", "attestation")
SOURCE_USES = {("probe", "graph")}  # the probe runs over the Graph connection


def test_collect_shared_modules_and_sources_stay_below_the_orchestration() -> None:
    """Inside collect: the contract and the shared HTTP policy import no source, and no source imports the
    orchestration (or the package that re-exports it) — the orchestration alone lists the sources — and
    sources share code through the shared modules, not through each other (the probe uses Graph's client)."""
    found = []
    for path in sorted((ROOT / "assessor" / "collect").rglob("*.py")):
        module = _module_name(path)
        part = module.split(".")[2] if module.count(".") >= 2 else ""
        for line, imported in _imports(path, module):
            if not imported.startswith("assessor.collect"):
                continue
            target = imported.split(".")[2] if imported.count(".") >= 2 else ""
            if part in SHARED_COLLECT and target in (*SOURCES, "orchestrate"):
                found.append(f"{path.relative_to(ROOT)}:{line}: shared module imports {imported}")
            if part in SOURCES and (target in ("orchestrate", "") or imported == "assessor.collect"):
                found.append(f"{path.relative_to(ROOT)}:{line}: source imports the orchestration ({imported})")
            if part in SOURCES and target in SOURCES and target != part and (part, target) not in SOURCE_USES:
                found.append(f"{path.relative_to(ROOT)}:{line}: source {part} imports source {target} ({imported})")
    assert found == []
