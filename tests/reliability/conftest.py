"""Prints the reliability figures (faults injected per kind, false passes, soak counts) after the run."""

from __future__ import annotations

import pytest

from tests.helpers.chaos import FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not (FIGURES.runs or FIGURES.lines or FIGURES.auth_modes):
        return
    terminalreporter.section("reliability figures")
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(FIGURES.injected.items()))
    if FIGURES.runs:
        terminalreporter.write_line(
            f"fault tests: {FIGURES.runs} chaos runs, {sum(FIGURES.injected.values())} "
            f"faults injected ({kinds}); false passes {FIGURES.false_passes}, "
            f"untruths {FIGURES.untruths}"
        )
    if FIGURES.auth_modes:
        modes = ", ".join(sorted(FIGURES.auth_modes))
        terminalreporter.write_line(
            f"secrets (credential modes failing offline: {modes}): canary hits {sum(FIGURES.auth_modes.values())}"
        )
    for line in FIGURES.lines:
        terminalreporter.write_line(line)
