"""Benchmark: the event probe over ~1,000,000 audit records in bounded memory.

The parent process serves a rescaled contoso tenant whose audit log yields ``--records`` records
(one MailItemsAccessed query over ``--days`` days) after a simulated query time of
``--query-seconds``. Each measured probe runs in a child process (the real msgraph-sdk client,
streaming and aggregating the pages) that reports its own peak RSS with
``resource.getrusage(RUSAGE_SELF)``; the parent cross-checks with ``RUSAGE_CHILDREN``. Runs at
several sizes show whether memory grows with the number of records.

Wall-time overhead = probe wall time − simulated query time. It is split into the wait after the
service finished (poll back-off granularity) and the record streaming (server generation + HTTP +
JSON + aggregation on one machine).

    python benchmarks/probe.py                      # 10k, 100k and 1M records
    python benchmarks/probe.py --sizes 1000000 --keep-records /tmp/records.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

MAILBOX_APPS = [
    {"app_id": "00000002-0000-0ff1-ce00-000000000000", "name": "OWA", "weight": 45},
    {"app_id": "d3590ed6-52b3-4102-aeff-aad2292ab01c", "name": "Outlook desktop", "weight": 35},
    {"app_id": "27922004-5251-4030-b22d-91ecd9a37ea4", "name": "Outlook Mobile", "weight": 15},
    {"app_id": "5d661950-3475-41cd-a2c3-d671a3162bc1", "name": "Outlook (new)", "weight": 5},
]
USERS = 12_000  # contoso rescaled: about 10,190 in-scope users


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _maxrss_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


# --------------------------------------------------------------------------- child: one probe


async def _child_probe(url: str, days: int, keep: str | None, poll: list[float]) -> dict[str, Any]:
    from azure.core.credentials import AccessToken
    from msgraph import GraphServiceClient

    from assessor.collect.interface import Collected
    from assessor.collect.probe import PollPolicy, ProbeSettings, run_probe

    class Token:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            return AccessToken("bench", int(time.time()) + 3600)

    client = GraphServiceClient(credentials=Token(), scopes=["https://graph.microsoft.com/.default"])
    client.request_adapter.base_url = url
    settings = ProbeSettings(poll=PollPolicy(*poll))
    baseline_rss = _maxrss_mib(resource.RUSAGE_SELF)  # interpreter + msgraph-sdk imported, client built
    started = time.perf_counter()
    run = await run_probe(
        client,
        cloud="global",
        operations=["MailItemsAccessed"],
        days=days,
        timeout=3600,
        keep_records=Path(keep) if keep else None,
        settings=settings,
    )
    wall = time.perf_counter() - started
    if not isinstance(run.outcome, Collected):
        raise SystemExit(f"probe not collected: {run.outcome.reason}")
    data = run.outcome.data
    obs = data.operations["MailItemsAccessed"]
    return {
        "wall_s": wall,
        "records": data.total_records,
        "users": obs.distinct_users,
        "distinct_app_ids": obs.distinct_app_ids,
        "peak_rss_mib": _maxrss_mib(resource.RUSAGE_SELF),
        "child_cpu_s": _cpu(resource.RUSAGE_SELF),
        "rss_before_probe_mib": baseline_rss,
    }


def child_main(args: argparse.Namespace) -> None:
    result = asyncio.run(_child_probe(args.child, args.days, args.keep_records, args.poll))
    print(json.dumps(result))


# --------------------------------------------------------------------------- parent: server and runs


def _tenant(records: int, days: int, query_seconds: float) -> tuple[Any, int]:
    from assessor.sandbox.auditlog import audit_log_of, with_audit_log

    base = with_audit_log("contoso", users=USERS, operations={})
    eligible = sum(stop - start for _n, start, stop in _eligible(base))
    ratio = records / (eligible * days)
    fraction, per_user_per_day = (ratio, 1) if ratio < 1 else (1.0, round(ratio))
    operations = {
        "MailItemsAccessed": {
            "record_type": "ExchangeItemAggregated",
            "users": fraction,
            "per_user_per_day": per_user_per_day,
            "app_ids": MAILBOX_APPS,
        }
    }
    tenant = with_audit_log(base, query_seconds=query_seconds, page_size=1000, operations=operations)
    plan = audit_log_of(tenant).plan("MailItemsAccessed")
    assert plan is not None
    return tenant, plan.per_day() * days


def _eligible(tenant: Any) -> list[tuple[str, int, int]]:
    from assessor.sandbox.auditlog import _in_scope_segments

    return _in_scope_segments(tenant)


def _run_child(url: str, days: int, keep: str | None, poll: list[float]) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", url, "--days", str(days), "--poll", *map(str, poll)]
    if keep:
        cmd += ["--keep-records", keep]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def parent_main(args: argparse.Namespace) -> None:
    from assessor.sandbox.server import SandboxServer

    rows = []
    for size in args.sizes:
        tenant, expected = _tenant(size, args.days, args.query_seconds)
        server_cpu = _cpu(resource.RUSAGE_SELF)
        with SandboxServer([tenant]) as server:
            result = _run_child(server.graph_url(tenant.id), args.days, args.keep_records, args.poll)
            pages = sum(1 for r in server.log.snapshot() if r.path.split("?")[0].endswith("/records"))
            records_reqs = [r for r in server.log.snapshot() if r.path.split("?")[0].endswith("/records")]
            streaming = (records_reqs[-1].end - records_reqs[0].start) if records_reqs else 0.0
            server_s = sum(r.end - r.start for r in records_reqs)
        server_cpu = _cpu(resource.RUSAGE_SELF) - server_cpu
        assert result["records"] == expected, (result, expected)
        overhead = result["wall_s"] - args.query_seconds
        rows.append(
            {
                **result,
                "expected": expected,
                "pages": pages,
                "query_s": args.query_seconds,
                "overhead_s": overhead,
                "streaming_s": streaming,
                "server_page_s": server_s,
                "server_cpu_s": server_cpu,
                "poll_wait_s": max(0.0, overhead - streaming),
                "records_per_s": result["records"] / streaming if streaming else None,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    print(
        json.dumps(
            {
                "parent_children_maxrss_mib": _maxrss_mib(resource.RUSAGE_CHILDREN),
                "parent_self_maxrss_mib (server)": _maxrss_mib(resource.RUSAGE_SELF),
            }
        )
    )
    _table(rows)


def _table(rows: list[dict[str, Any]]) -> None:
    print()
    print(
        "| records | pages | distinct users | simulated query s | probe wall s | overhead s | "
        "of which streaming s | records/s | probe CPU s | sandbox CPU s | probe peak RSS MiB (before probe) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        rate = f"{r['records_per_s']:,.0f}" if r["records_per_s"] else "-"
        print(
            f"| {r['records']:,} | {r['pages']:,} | {r['users']:,} | {r['query_s']:g} | {r['wall_s']:.1f} | "
            f"{r['overhead_s']:.1f} | {r['streaming_s']:.1f} | {rate} | {r['child_cpu_s']:.1f} | "
            f"{r['server_cpu_s']:.1f} | {r['peak_rss_mib']:.0f} ({r['rss_before_probe_mib']:.0f}) |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--query-seconds", type=float, default=30.0)
    parser.add_argument(
        "--poll",
        type=float,
        nargs=3,
        default=[1.0, 1.25, 5.0],
        metavar=("INITIAL", "FACTOR", "MAX"),
        help="poll back-off (the probe's defaults)",
    )
    parser.add_argument("--keep-records", help="also stream the raw records to this JSON Lines file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args)
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
