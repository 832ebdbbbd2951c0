"""The command line: the only place that wires concrete collectors, engine and renderers together.

Exit codes: 0 assessed and nothing at or above --fail-on; 1 findings at or above it; 2 usage or
input error (one line, no traceback); 3 collection failed entirely.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

import click
from tabulate import tabulate

from assessor import __version__
from assessor.catalogue import SEVERITIES, load_catalogue
from assessor.engine.model import Report
from assessor.engine.registry import registry
from assessor.errors import AssessorError, UsageError
from assessor.evidence import evidence_json_schema, load_evidence, verify_seal
from assessor.knowledge import load_knowledge
from assessor.profiles import Profile, builtin_profile_ids, load_profile, profile_json_schema
from assessor.report import RENDERERS
from assessor.report.console import render_console
from assessor.report.prices import load_prices
from assessor.report.pseudonymize import KEY_ENV, pseudonymize_user_list, resolve_key
from assessor.trace import tracing
from assessor.vocabulary import AUTH_MODES, CLOUDS, USERS_MODES, AuthMode, Cloud, UsersMode

if TYPE_CHECKING:  # collection (msgraph-sdk) is imported only by the commands that collect
    from typing_extensions import Unpack  # typing.Unpack from Python 3.11

    from assessor.collect import CollectOptions

FAIL_ON = ("none", *(s.value for s in SEVERITIES))


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


def exit_code_for(report: Report, fail_on: str) -> int:
    return 1 if report.gaps_at_or_above(fail_on) else 0


_COLLECT_OPTIONS = [
    click.option("--tenant", help="Tenant id (GUID) or a verified domain."),
    click.option("--cloud", type=click.Choice(CLOUDS), default=Cloud.GLOBAL.value, show_default=True),
    click.option(
        "--auth",
        "auth_mode",
        type=click.Choice(AUTH_MODES),
        default=AuthMode.DEFAULT.value,
        show_default=True,
        help="How to authenticate; secrets come only from env vars or files.",
    ),
    click.option("--client-id", help="App (client) id for secret/certificate/device-code/browser auth."),
    click.option(
        "--secret-env",
        default="AZURE_CLIENT_SECRET",
        show_default=True,
        help="NAME of the env var holding the client secret.",
    ),
    click.option(
        "--secret-file", type=click.Path(dir_okay=False, path_type=Path), help="File holding the client secret."
    ),
    click.option("--certificate", type=click.Path(dir_okay=False, path_type=Path), help="PEM/PFX certificate path."),
    click.option(
        "--certificate-password-env",
        default="AZURE_CLIENT_CERTIFICATE_PASSWORD",
        show_default=True,
        help="NAME of the env var holding the certificate password.",
    ),
    click.option("--managed-identity-client-id", help="User-assigned managed identity client id."),
    click.option("--graph-endpoint", help="Graph base URL override (http only on loopback)."),
    click.option("--exchange-endpoint", help="Exchange admin API base URL override (…/adminapi/beta)."),
    click.option("--compliance-endpoint", help="Security & Compliance admin API base URL override."),
    click.option("--no-exchange", is_flag=True, help="Do not call the Exchange admin API."),
    click.option(
        "--azure-subscription",
        "azure_subscriptions",
        multiple=True,
        metavar="ID",
        help="Azure subscription to read Log Analytics/Sentinel/storage from (repeatable; default: every "
        "subscription the credential can list).",
    ),
    click.option("--no-azure", is_flag=True, help="Do not read where logs go from Azure Resource Manager."),
    click.option("--arm-endpoint", help="Azure Resource Manager base URL override (http only on loopback)."),
    click.option(
        "--import",
        "imports",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="ConvertTo-Json exports of the Exchange/Purview cmdlets (examples/export-exchange-audit.ps1); "
        "FILE… or repeated. Imported sections replace collection.",
    ),
    click.option(
        "--users",
        "users_mode",
        type=click.Choice(USERS_MODES),
        default=UsersMode.SUMMARY.value,
        show_default=True,
        help="summary: $count queries; detail: enumerate users.",
    ),
    click.option(
        "--user-list",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Detail mode: stream the per-user gap list to this file.",
    ),
    click.option(
        "--probe-events",
        "probe_days",
        type=click.IntRange(1, 180),
        help="Verify the required events in the audit log over DAYS (Global cloud only).",
    ),
    click.option(
        "--recent-days",
        type=click.IntRange(1, 90),
        default=7,
        show_default=True,
        help="The probe window's recent part: clients first seen in it are new (the rest is the baseline).",
    ),
    click.option(
        "--vip",
        "vip_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Mailboxes to watch like privileged ones: UPNs or object ids, one per line (# comments).",
    ),
    click.option(
        "--probe-timeout",
        type=click.FloatRange(1, 86400),
        default=600.0,
        show_default=True,
        help="Bound on the whole audit-log probe (create, wait, read records), in seconds.",
    ),
    click.option(
        "--keep-records",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Stream the probe's raw audit records to this JSON Lines file (written only if it finished).",
    ),
    click.option(
        "--trace",
        "trace_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write one JSON line per HTTP exchange (method, host, redacted path, query option names, status, "
        "duration, bytes, response shape) — never tokens, cookies, values or bodies.",
    ),
    click.option("--request-timeout", type=click.FloatRange(1, 3600), default=60.0, show_default=True),
    click.option("--tenant-timeout", type=click.FloatRange(1, 86400), default=900.0, show_default=True),
]


USER_GAP_FILE = "user-gaps.csv"


class CollectParams(TypedDict):
    """The collection options' values as click passes them (one key per option of ``_COLLECT_OPTIONS``)."""

    tenant: str | None
    cloud: str
    auth_mode: str
    client_id: str | None
    secret_env: str
    secret_file: Path | None
    certificate: Path | None
    certificate_password_env: str
    managed_identity_client_id: str | None
    graph_endpoint: str | None
    exchange_endpoint: str | None
    compliance_endpoint: str | None
    no_exchange: bool
    azure_subscriptions: tuple[str, ...]
    no_azure: bool
    arm_endpoint: str | None
    imports: tuple[Path, ...]
    users_mode: str
    user_list: Path | None
    probe_days: int | None
    recent_days: int
    vip_file: Path | None
    probe_timeout: float
    keep_records: Path | None
    trace_file: Path | None
    request_timeout: float
    tenant_timeout: float


_Command = TypeVar("_Command", bound=Callable[..., object])


def collect_options(fn: _Command) -> _Command:
    for option in reversed(_COLLECT_OPTIONS):
        fn = option(fn)
    return fn


def _collect_param_names() -> frozenset[str]:
    @collect_options
    def probe(**_: object) -> None:
        """Only carries the collection options' click parameters."""

    return frozenset(p.name for p in getattr(probe, "__click_params__", []) if p.name)


_COLLECT_PARAM_NAMES = _collect_param_names()


def build_collect_options(params: CollectParams, profile: Profile | None = None) -> CollectOptions:
    """CollectOptions from the command line (no secret values: names of env vars and paths only)."""
    from assessor.collect import AuthOptions, CollectOptions

    tenant = params.get("tenant")
    if not tenant:
        raise UsageError("--tenant is required to collect (or use --evidence FILE / --sandbox NAME)")
    auth = AuthOptions(
        mode=AuthMode(params["auth_mode"]),
        tenant=tenant,
        client_id=params.get("client_id"),
        secret_env=params["secret_env"],
        secret_file=params.get("secret_file"),
        certificate_path=params.get("certificate"),
        certificate_password_env=params["certificate_password_env"],
        managed_identity_client_id=params.get("managed_identity_client_id"),
    )
    probe = params.get("probe_days") or (profile.probe_days if profile is not None else None)
    vip_file = params.get("vip_file")
    return CollectOptions(
        tenant=tenant,
        cloud=Cloud(params["cloud"]),
        auth=auth,
        graph_endpoint=params.get("graph_endpoint"),
        exchange_endpoint=params.get("exchange_endpoint"),
        compliance_endpoint=params.get("compliance_endpoint"),
        no_exchange=params["no_exchange"],
        no_azure=params.get("no_azure", False),
        arm_endpoint=params.get("arm_endpoint"),
        azure_subscriptions=tuple(params.get("azure_subscriptions") or ()),
        imports=tuple(params.get("imports") or ()),
        probe_events_days=probe,
        users_mode=UsersMode(params["users_mode"]),
        user_list_path=params.get("user_list"),
        request_timeout=params["request_timeout"],
        tenant_timeout=params["tenant_timeout"],
        probe_timeout=params.get("probe_timeout") or 600.0,
        keep_records=params.get("keep_records"),
        recent_days=params.get("recent_days") or 7,
        vip=read_vip_file(vip_file) if vip_file else (),
        privileged_roles=profile.collection_roles() if profile is not None else None,
    )


VIP_LIMIT = 1 << 20
_GUID_TEXT = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_UPN_TEXT = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def read_vip_file(path: Path) -> tuple[str, ...]:
    """--vip FILE: one UPN or object id per line; blank lines and # comments skipped."""
    from assessor.textfile import read_user_text

    text = read_user_text(path, "the VIP list", VIP_LIMIT, UsageError)
    out: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), 1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        if not (_GUID_TEXT.match(entry) or _UPN_TEXT.match(entry)):
            shown = entry[:60].encode("unicode_escape").decode("ascii")
            raise UsageError(f"{path}: line {number}: {shown!r} is neither a UPN nor an object id")
        out[entry.lower()] = None
    return tuple(out)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="assessor")
def cli() -> None:
    """Assess Microsoft 365 audit-log coverage, retention and licensing against requirement profiles."""


def _warn_if_altered(path: Path) -> None:
    """Assess altered evidence (an auditor may want to see what it says) but say so, once, on stderr."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    if (raw.get("meta") or {}).get("sha256"):
        ok, message = verify_seal(raw)
        if not ok:
            click.echo(f"assessor: warning: {path}: {message}; the report reflects the altered content", err=True)


def _pseudonym_key() -> bytes:
    key, stable = resolve_key()
    if not stable:
        click.echo(f"assessor: {KEY_ENV} is not set: pseudonyms use a random key and differ on every run", err=True)
    return key


# Options that only mean something when collecting from a real tenant (not with --sandbox, which
# brings its own tenant, endpoints and token), and those that mean nothing with --evidence.
TENANT_ONLY_OPTIONS = (
    "tenant",
    "cloud",
    "auth_mode",
    "client_id",
    "secret_env",
    "secret_file",
    "certificate",
    "certificate_password_env",
    "managed_identity_client_id",
    "graph_endpoint",
    "exchange_endpoint",
    "compliance_endpoint",
    "arm_endpoint",
    "azure_subscriptions",
    "request_timeout",
    "tenant_timeout",
)


def _reject_unused_collect_options(evidence_path: Path | None, sandbox_name: str | None) -> None:
    """A collection option given where nothing is collected would be silently ignored: refuse it."""
    if evidence_path is None and sandbox_name is None:
        return
    ctx = click.get_current_context()
    given = [
        p
        for p in ctx.command.params
        if p.name is not None
        and p.name in _COLLECT_PARAM_NAMES
        and ctx.get_parameter_source(p.name) not in (click.core.ParameterSource.DEFAULT, None)
    ]
    for param in given:
        if evidence_path is not None:
            raise UsageError(f"{param.opts[0]} applies only when collecting; --evidence evaluates a saved file")
        if param.name in TENANT_ONLY_OPTIONS:
            raise UsageError(
                f"{param.opts[0]} applies only to a real tenant; --sandbox brings its own tenant, endpoints and token"
            )


@cli.command()
@click.option(
    "--evidence",
    "evidence_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Evaluate a saved evidence file (offline).",
)
@click.option("--sandbox", "sandbox_name", help="Collect from a bundled sandbox tenant (e.g. contoso) in-process.")
@click.option(
    "--save-evidence",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the collected evidence here (default: evidence.json in --output, "
    "except with --pseudonymize: evidence keeps real names).",
)
@click.option(
    "--profile", "profile_name", default="baseline", show_default=True, help="Built-in profile id or a YAML file."
)
@click.option(
    "--format",
    "formats",
    default="console,json",
    show_default=True,
    help="Comma-separated: " + ",".join([*RENDERERS, "console"]),
)
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), help="Directory for report files.")
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="none",
    show_default=True,
    help="Exit 1 when a fail/warn finding has at least this severity.",
)
@click.option("--date", "on", help="Assessment date (YYYY-MM-DD); default today (UTC).")
@click.option(
    "--attest",
    "attestation",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Log-export attestation (YAML/JSON) used as the log_export evidence section.",
)
@click.option(
    "--pseudonymize",
    is_flag=True,
    help=f"Replace UPNs, display names and tenant names by keyed hashes in every format (key: ${KEY_ENV}).",
)
@click.option(
    "--prices",
    "prices_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Price list (YAML/JSON: currency, skus: {SKU part number: price per seat per month}).",
)
@collect_options
def assess(
    evidence_path: Path | None,
    sandbox_name: str | None,
    save_evidence: Path | None,
    profile_name: str,
    formats: str,
    output: Path | None,
    fail_on: str,
    on: str | None,
    attestation: Path | None,
    pseudonymize: bool,
    prices_file: Path | None,
    **collect_params: Unpack[CollectParams],
) -> None:
    """Assess a tenant (collect, --evidence FILE or --sandbox NAME) against a profile and write the reports."""
    fmt = _parse_formats(formats)
    if evidence_path is not None and sandbox_name is not None:
        raise UsageError("give either --evidence or --sandbox, not both")
    _reject_unused_collect_options(evidence_path, sandbox_name)
    profile = load_profile(profile_name)
    when = _parse_date(on)
    key = _pseudonym_key() if pseudonymize else None
    if (
        evidence_path is None
        and "csv" in fmt
        and output is not None
        and collect_params["users_mode"] == UsersMode.DETAIL
        and collect_params.get("user_list") is None
    ):
        collect_params["user_list"] = output / USER_GAP_FILE  # the CSV format's per-user gap list
    from assessor import pipeline

    presentation = pipeline.Presentation(
        formats=[f for f in fmt if f != "console"],
        prices=load_prices(prices_file) if prices_file is not None else None,
        pseudonym_key=key,
    )
    evidence_file = save_evidence or (output / "evidence.json" if output is not None and key is None else None)
    if presentation.formats and output is None:
        raise UsageError("--output DIR is needed for file formats")
    with contextlib.ExitStack() as stack:
        target: pipeline.Target
        if evidence_path is not None:
            target = pipeline.EvidenceFile(evidence_path)
        elif sandbox_name is not None:
            resolve = stack.enter_context(pipeline.sandbox_tenants([sandbox_name]))
            served = resolve(sandbox_name)
            base = build_collect_options({**collect_params, "tenant": served.tenant_id, "auth_mode": "token"}, profile)
            target = pipeline.sandbox_options(served, replace(base, collector="sandbox"))
        else:
            target = build_collect_options(collect_params, profile)
        stack.enter_context(tracing(collect_params.get("trace_file")))
        done = asyncio.run(
            pipeline.run(
                target, profile, when, presentation, output=output, evidence_file=evidence_file, attestation=attestation
            )
        )
    if evidence_path is not None:
        _warn_if_altered(evidence_path)  # read (and validated) by the pipeline by now
    if done.evidence_file is not None:
        click.echo(f"wrote {done.evidence_file}", err=True)
    elif key is not None and output is not None and not isinstance(target, pipeline.EvidenceFile):
        click.echo(
            "assessor: --pseudonymize: evidence.json (real names) is not written into --output; "
            "pass --save-evidence FILE to keep it elsewhere",
            err=True,
        )
    report = done.report
    written = list(done.files)
    user_list = collect_params.get("user_list")
    if evidence_path is None and user_list is not None and Path(user_list).is_file():
        if key is not None:
            pseudonymize_user_list(Path(user_list), key)  # same pseudonyms as the reports
        written.append(Path(user_list))
    if "console" in fmt:
        click.echo(render_console(report))
    for path in written:
        click.echo(f"wrote {path}", err=True)
    sys.exit(exit_code_for(report, fail_on))


@cli.command()
@collect_options
@click.option(
    "--output",
    "output_file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write evidence.json.",
)
@click.option(
    "--profile",
    "profile_name",
    default="baseline",
    show_default=True,
    help="Profile whose privileged roles and required events shape collection.",
)
def collect(output_file: Path, profile_name: str, **collect_params: Unpack[CollectParams]) -> None:
    """Collect a tenant's evidence (Graph, Exchange admin API, imports) into one sealed JSON file."""
    from assessor import pipeline

    profile = load_profile(profile_name)
    with tracing(collect_params.get("trace_file")):
        evidence = asyncio.run(pipeline.gather(build_collect_options(collect_params, profile))).evidence
    pipeline.save(evidence, output_file)
    missing = [n for n, sec in evidence.sections().items() if sec.provenance.status == "not_collected"]
    click.echo(f"wrote {output_file}" + (f" (not collected: {', '.join(missing)})" if missing else ""), err=True)


@cli.group()
def sandbox() -> None:
    """The bundled tenant emulator (Graph, Exchange admin API, audit search) on 127.0.0.1."""


@sandbox.command("serve")
@click.argument("name")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True)
@click.option("--latency-ms", type=click.IntRange(0, 60000), default=0, show_default=True)
@click.option("--throttle", help="Inject 429s, e.g. 'first:3' or a rate (see assessor.sandbox.faults).")
@click.option(
    "--chaos",
    "chaos_seed",
    type=int,
    metavar="SEED",
    help="Chaos mode: seeded random faults of every kind (see assessor.sandbox.chaos).",
)
@click.option("--chaos-rate", type=float, default=0.1, show_default=True, help="Share of requests given a fault.")
def sandbox_serve(
    name: str, port: int, latency_ms: int, throttle: str | None, chaos_seed: int | None, chaos_rate: float
) -> None:
    """Serve sandbox tenant(s) NAME (comma-separated, or 'all') until interrupted."""
    from assessor.sandbox.chaos import chaos_for_serve
    from assessor.sandbox.server import serve

    serve(name, port=port, latency_ms=latency_ms, throttle=throttle, chaos=chaos_for_serve(chaos_seed, chaos_rate))


@sandbox.command("list")
def sandbox_list() -> None:
    """List the bundled sandbox tenants."""
    from assessor.sandbox.spec import list_tenants, load_tenant

    rows = []
    for name in list_tenants():
        t = load_tenant(name)
        rows.append([name, t.id, t.cloud, t.user_count])
    click.echo(tabulate(rows, headers=["Name", "Tenant id", "Cloud", "Users"], tablefmt="simple"))


@cli.command("checks")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.")
def list_checks(as_json: bool) -> None:
    """List every check in the catalogue with its least-privilege permissions."""
    checks = registry()
    if as_json:
        click.echo(json.dumps([c.meta.model_dump() for c in checks], indent=2))
        return
    rows = [[c.meta.id, c.meta.severity, c.meta.title, "; ".join(c.meta.permissions)] for c in checks]
    click.echo(
        tabulate(
            rows,
            headers=["Id", "Default severity", "Title", "Least privilege"],
            tablefmt="simple",
            maxcolwidths=[None, None, 60, 50],
        )
    )


@cli.command("knowledge")
@click.option("--json", "as_json", is_flag=True, help="Print the ledger as JSON.")
def knowledge(as_json: bool) -> None:
    """Print the assumption ledger: every knowledge entry and assumption with source, date and confidence."""
    kb = load_knowledge()
    entries = kb.ledger()
    if as_json:
        doc = {
            "knowledge": [e.model_dump(mode="json", by_alias=True) for e in entries],
            "assumptions": [a.model_dump(mode="json", by_alias=True) for a in kb.assumptions],
        }
        click.echo(json.dumps(doc, indent=2))
        return
    rows = [[e.name, e.from_.isoformat() if e.from_ else "—", e.confidence or "—", e.source] for e in entries]
    click.echo(
        tabulate(
            rows, headers=["Knowledge entry", "Holds from", "Confidence", "Source"], maxcolwidths=[45, None, None, 60]
        )
    )
    click.echo()
    rows = [[a.id, a.from_.isoformat(), a.confidence, ", ".join(a.checks), a.statement] for a in kb.assumptions]
    click.echo(
        tabulate(
            rows,
            headers=["Assumption", "Holds from", "Confidence", "Checks", "Statement"],
            maxcolwidths=[None, None, None, 24, 70],
        )
    )


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
        rows.append(
            [
                p.id,
                p.name + ("" if p.verified else " (unverified)"),
                p.version or "—",
                p.premium_scope,
                p.retention.searchable_days,
                p.retention.retrievable_days,
                ", ".join(p.required_events),
                len(p.checks),
            ]
        )
    click.echo(
        tabulate(
            rows,
            headers=[
                "Id",
                "Name",
                "Version",
                "Premium for",
                "Searchable days",
                "Retrievable days",
                "Required events",
                "Checks",
            ],
            tablefmt="simple",
            maxcolwidths=[None, 30, 20, None, None, None, 40, None],
        )
    )


@cli.command("schema")
@click.argument("which", type=click.Choice(["evidence", "profile", "report", "manifest"]))
def schema(which: str) -> None:
    """Print the JSON Schema of the evidence document, a profile, report.json, or a bulk manifest."""
    doc: dict[str, Any]  # a JSON Schema document
    if which == "evidence":
        doc = evidence_json_schema()
    elif which == "profile":
        doc = profile_json_schema()
    elif which == "manifest":
        from assessor.bulk.manifest import manifest_json_schema

        doc = manifest_json_schema()
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


@cli.command("bulk")
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for per-tenant outputs, the state file and the portfolio.",
)
@click.option("--concurrency", type=int, default=16, show_default=True, help="Tenants assessed at once (in all).")
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Worker processes sharing the tenants and --concurrency (default: the CPU count; 1: this process only).",
)
@click.option(
    "--tenant-timeout",
    type=float,
    default=900.0,
    show_default=True,
    help="Seconds before one tenant is given up (recorded as failed).",
)
@click.option("--resume", is_flag=True, help="Continue a run in --output: skip tenants done, retry the others.")
@click.option("--shard", "shard_text", metavar="I/N", help="Assess only shard I (0-based) of N.")
@click.option("--only", "only", multiple=True, metavar="TAG", help="Only tenants carrying this tag (repeatable).")
@click.option(
    "--format",
    "formats",
    default="json,html",
    show_default=True,
    help="Per-tenant reports, comma-separated: " + ",".join(RENDERERS),
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="none",
    show_default=True,
    help="Exit 1 when some tenant has a fail/warn finding of at least this severity.",
)
@click.option("--date", "on", help="Assessment date (YYYY-MM-DD); default today (UTC).")
@click.option(
    "--attest",
    "attestation",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Log-export attestation for every tenant without its own 'attest:' in the manifest.",
)
@click.option(
    "--pseudonymize",
    is_flag=True,
    help=f"Pseudonymise every tenant's reports (key: ${KEY_ENV}); evidence.json is then not written.",
)
@click.option(
    "--prices",
    "prices_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Price list (YAML/JSON) added to every tenant's licensing options.",
)
@click.option(
    "--trace",
    "trace_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="One JSON line per HTTP exchange of every tenant (labelled t-<hash of its manifest key>); never values. "
    "Worker processes send their lines to this process, which alone writes the file.",
)
def bulk(
    manifest: Path,
    output: Path,
    concurrency: int,
    workers: int | None,
    tenant_timeout: float,
    resume: bool,
    shard_text: str | None,
    only: tuple[str, ...],
    formats: str,
    fail_on: str,
    on: str | None,
    attestation: Path | None,
    pseudonymize: bool,
    prices_file: Path | None,
    trace_file: Path | None,
) -> None:
    """Assess every tenant of a manifest (YAML or CSV) and write a portfolio.

    Exit 0 all assessed; 1 findings at or above --fail-on; 2 manifest/usage error; 3 some tenants failed.
    """
    from assessor import pipeline
    from assessor.bulk.command import BulkRequest
    from assessor.bulk.shard import parse_shard

    fmt = [f for f in _parse_formats(formats) if f != "console"]
    prices = load_prices(prices_file) if prices_file is not None else None
    key = _pseudonym_key() if pseudonymize else None
    request = BulkRequest(
        manifest=manifest,
        output=output,
        formats=fmt,
        on=_parse_date(on),
        concurrency=concurrency,
        workers=workers if workers is not None else default_workers(),
        tenant_timeout=tenant_timeout,
        resume=resume,
        shard=parse_shard(shard_text) if shard_text else None,
        only=only,
        fail_on=fail_on,
        attestation=attestation,
        prices=prices,
        pseudonymize=key is not None,
    )
    with tracing(trace_file):
        outcome = pipeline.bulk(request, pipeline.Presentation(formats=fmt, prices=prices, pseudonym_key=key))
    failed = sum(1 for r in outcome.results if r.status == "failed")
    click.echo(
        f"bulk: {len(outcome.results)} tenants ({outcome.skipped} already done), {failed} failed; "
        f"portfolio in {output / 'portfolio.html'}",
        err=True,
    )
    sys.exit(outcome.exit_code)


def default_workers() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@cli.command("merge")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for the merged tenants and portfolio.",
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="none",
    show_default=True,
    help="Exit 1 when some tenant has a fail/warn finding of at least this severity.",
)
def merge_cmd(inputs: tuple[Path, ...], output: Path, fail_on: str) -> None:
    """Combine bulk (shard) output directories into one portfolio. Exit codes as for bulk."""
    from assessor.bulk.merge import merge

    outcome = merge(list(inputs), output, fail_on)
    failed = sum(1 for r in outcome.results if r.status == "failed")
    click.echo(
        f"merge: {len(outcome.results)} tenants, {failed} failed; portfolio in {output / 'portfolio.html'}", err=True
    )
    sys.exit(outcome.exit_code)


MULTI_VALUE_OPTIONS = ("--import",)


def expand_multi_value_options(args: Sequence[str]) -> list[str]:
    """``--import a.json b.json`` → ``--import a.json --import b.json`` (click options take one value each).

    Values are the arguments after the option up to the next one starting with ``-``, so a shell
    glob (``--import export/*.json``) works as the contract's ``--import FILE…`` promises.
    """
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            out.extend(args[i:])
            break
        if arg not in MULTI_VALUE_OPTIONS:
            out.append(arg)
            i += 1
            continue
        j = i + 1
        while j < len(args) and not args[j].startswith("-"):
            out.extend([arg, args[j]])
            j += 1
        if j == i + 1:
            out.append(arg)  # no value: click reports it
        i = j
    return out


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: one clear line and exit 2 for bad input, never a traceback."""
    try:
        args = expand_multi_value_options(list(argv) if argv is not None else sys.argv[1:])
        cli.main(args=args, prog_name="assessor", standalone_mode=False)
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
