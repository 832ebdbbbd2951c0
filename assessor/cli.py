"""The command line: the only place that wires concrete collectors, engine and renderers together.

Exit codes: 0 assessed and nothing at or above --fail-on; 1 findings at or above it; 2 usage or
input error (one line, no traceback); 3 collection failed entirely.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import click
from tabulate import tabulate

from assessor import __version__
from assessor.collect.attestation import with_attestation
from assessor.engine.model import Report, Status
from assessor.engine.registry import load_catalogue, registry
from assessor.engine.runner import evaluate
from assessor.errors import AssessorError, UsageError
from assessor.evidence import (
    Evidence,
    evidence_json_schema,
    load_evidence,
    verify_seal,
)
from assessor.profiles import SEVERITY_ORDER, Profile, builtin_profile_ids, load_profile, profile_json_schema
from assessor.report import RENDERERS, RenderOptions
from assessor.report.console import render_console
from assessor.report.prices import load_prices
from assessor.report.pseudonymize import KEY_ENV, pseudonymize_report, resolve_key

FAIL_ON = ("none", "info", "low", "medium", "high", "critical")


def _parse_formats(value: str) -> list[str]:
    formats = [f.strip().lower() for f in value.split(",") if f.strip()]
    known = [*RENDERERS, "console"]
    for f in formats:
        if f not in known:
            raise UsageError(f"--format: unknown format {f!r} (known: {', '.join(known)})")
    if not formats:
        raise UsageError("--format: give at least one format")
    return list(dict.fromkeys(formats))


def _parse_date(value: str | None) -> date:
    if value is None:
        return datetime.now(timezone.utc).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--date: {value!r} is not a date (YYYY-MM-DD)") from None


def _write_outputs(report: Report, formats: list[str], output: Path | None, options: RenderOptions) -> list[Path]:
    """Render everything in memory first, then write each file atomically: no half-written report."""
    rendered: list[tuple[Path, str]] = []
    for fmt in formats:
        if fmt == "console":
            continue
        if output is None:
            raise UsageError("--output DIR is needed for file formats")
        renderer = RENDERERS[fmt]()
        rendered.append((output / renderer.filename, renderer.render(report, options)))
    written = []
    for path, text in rendered:
        _atomic_text(path, text)
        written.append(path)
    return written


def _atomic_text(path: Path, text: str) -> None:
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def exit_code_for(report: Report, fail_on: str) -> int:
    if fail_on == "none":
        return 0
    threshold = SEVERITY_ORDER[fail_on]
    for f in report.findings:
        if f.status in (Status.FAIL, Status.WARN) and SEVERITY_ORDER.get(f.severity, 0) >= threshold:
            return 1
    return 0


def run_assessment(evidence: Evidence, profile: Profile, on: date) -> Report:
    return evaluate(evidence, profile, on=on, generated_at=datetime.now(timezone.utc).replace(microsecond=0))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="assessor")
def cli() -> None:
    """Assess Microsoft 365 audit-log coverage, retention and licensing against requirement profiles."""


def _report_options(report: Report, pseudonymize: bool, prices_file: Path | None) -> tuple[Report, RenderOptions]:
    """Pseudonymise once, on the model, so every format (and the terminal) shows the same pseudonyms."""
    prices = load_prices(prices_file) if prices_file is not None else None
    key = None
    if pseudonymize:
        key, stable = resolve_key()
        if not stable:
            click.echo(f"assessor: {KEY_ENV} is not set: pseudonyms use a random key and differ on every run",
                       err=True)
        report = pseudonymize_report(report, key)
    return report, RenderOptions(pseudonymize_key=key, prices=prices)


@cli.command()
@click.option("--evidence", "evidence_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Evaluate a saved evidence file (offline).")
@click.option("--profile", "profile_name", default="baseline", show_default=True,
              help="Built-in profile id or a YAML file.")
@click.option("--format", "formats", default="console,json", show_default=True,
              help="Comma-separated: " + ",".join([*RENDERERS, "console"]))
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), help="Directory for report files.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="none", show_default=True,
              help="Exit 1 when a fail/warn finding has at least this severity.")
@click.option("--date", "on", help="Assessment date (YYYY-MM-DD); default today (UTC).")
@click.option("--attest", "attestation", type=click.Path(dir_okay=False, path_type=Path),
              help="Log-export attestation (YAML/JSON) used as the log_export evidence section.")
@click.option("--pseudonymize", is_flag=True,
              help=f"Replace UPNs, display names and tenant names by keyed hashes in every format (key: ${KEY_ENV}).")
@click.option("--prices", "prices_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Price list (YAML/JSON: currency, skus: {SKU part number: price per seat per month}).")
def assess(evidence_path: Path | None, profile_name: str, formats: str, output: Path | None, fail_on: str,
           on: str | None, attestation: Path | None, pseudonymize: bool, prices_file: Path | None) -> None:
    """Evaluate evidence against a profile and write the reports."""
    fmt = _parse_formats(formats)
    if evidence_path is None:
        raise UsageError("give --evidence FILE")
    profile = load_profile(profile_name)
    when = _parse_date(on)
    evidence = load_evidence(evidence_path)
    if attestation is not None:
        evidence = with_attestation(evidence, attestation)
    report = run_assessment(evidence, profile, when)
    report, options = _report_options(report, pseudonymize, prices_file)
    written = _write_outputs(report, fmt, output, options)
    if "console" in fmt:
        click.echo(render_console(report))
    for path in written:
        click.echo(f"wrote {path}", err=True)
    sys.exit(exit_code_for(report, fail_on))


@cli.command("checks")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.")
def list_checks(as_json: bool) -> None:
    """List every check in the catalogue with its least-privilege permissions."""
    checks = registry()
    if as_json:
        click.echo(json.dumps([c.meta.model_dump() for c in checks], indent=2))
        return
    rows = [[c.meta.id, c.meta.severity, c.meta.title, "; ".join(c.meta.permissions)] for c in checks]
    click.echo(tabulate(rows, headers=["Id", "Default severity", "Title", "Least privilege"], tablefmt="simple",
                        maxcolwidths=[None, None, 60, 50]))


@cli.command("permissions")
def permissions() -> None:
    """Print the least-privilege permission set, per check."""
    rows = [[m.id, "\n".join(m.permissions)] for m in load_catalogue()]
    click.echo(tabulate(rows, headers=["Check", "Needs"], tablefmt="simple"))


@cli.command("profiles")
def list_profiles() -> None:
    """List the built-in requirement profiles."""
    rows = []
    for pid in builtin_profile_ids():
        p = load_profile(pid)
        rows.append([p.id, p.name, p.premium_scope, p.retention.searchable_days, p.retention.retrievable_days,
                     ", ".join(p.required_events), len(p.checks)])
    click.echo(tabulate(rows, headers=["Id", "Name", "Premium for", "Searchable days", "Retrievable days",
                                       "Required events", "Checks"], tablefmt="simple",
                        maxcolwidths=[None, 30, None, None, None, 40, None]))


@cli.command("schema")
@click.argument("which", type=click.Choice(["evidence", "profile", "report"]))
def schema(which: str) -> None:
    """Print the JSON Schema of the evidence document, a profile, or report.json."""
    doc: dict[str, Any]
    if which == "evidence":
        doc = evidence_json_schema()
    elif which == "profile":
        doc = profile_json_schema()
    else:
        doc = Report.model_json_schema(by_alias=True)
    click.echo(json.dumps(doc, indent=2))


@cli.command("verify")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def verify(path: Path) -> None:
    """Say whether an evidence file was altered after collection (SHA-256 over canonical content)."""
    load_evidence(path)  # must be valid evidence first
    ok, message = verify_seal(json.loads(path.read_text(encoding="utf-8")))
    click.echo(f"{path}: {message}")
    sys.exit(0 if ok else 1)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: one clear line and exit 2 for bad input, never a traceback."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="assessor", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("assessor: aborted", err=True)
        sys.exit(2)
    except click.ClickException as err:
        click.echo(f"assessor: {err.format_message()}", err=True)
        sys.exit(err.exit_code)
    except AssessorError as err:
        click.echo(f"assessor: {err}", err=True)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        click.echo("assessor: interrupted", err=True)
        sys.exit(130)
    except OSError as err:
        click.echo(f"assessor: {err.strerror or err}: {err.filename or ''}".rstrip(": "), err=True)
        sys.exit(2)
    sys.exit(0)


if __name__ == "__main__":
    main()
