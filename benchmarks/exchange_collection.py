"""Benchmark: Exchange mailbox audit settings of 100,000 mailboxes at 50 ms latency.

The parent process serves a generated tenant (one segment of Microsoft 365 E3 users, so every
user has a mailbox; 5% of them with a customised Owner action list, three bypassed service
accounts, two retention policies) on 127.0.0.1 with ``--latency-ms`` added to every request.
Each measured collection runs in a child process — the real httpx client and collector, all five
sections, streaming ``Get-Mailbox`` and ``Get-MailboxAuditBypassAssociation`` in 1,000-row pages —
that reports its wall time and its own peak RSS (``resource.getrusage(RUSAGE_SELF)``). The parent
reports the server's request count and sequential rounds (the longest chain of requests each
starting after the previous ended). Several sizes show whether memory grows with mailboxes.

    python benchmarks/exchange_collection.py                    # 10k and 100k mailboxes, 50 ms
    python benchmarks/exchange_collection.py --sizes 100000 --latency-ms 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from typing import Any

LEGACY_OWNER = ["HardDelete", "MailboxLogin", "MoveToDeletedItems", "SoftDelete", "Update"]
TENANT_ID = "0e0c4a11-5e7c-4d2b-9b1a-4f2e6d8c1a00"


def _maxrss_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


def tenant_spec(mailboxes: int) -> dict[str, Any]:
    return {
        "id": TENANT_ID,
        "name": "bench",
        "display_name": "Exchange benchmark",
        "cloud": "global",
        "domains": ["bench.onmicrosoft.com", "bench.example"],
        "default_domain": "bench.example",
        "skus": [{"part": "SPE_E3", "units": mailboxes}],
        "users": [{"name": "staff", "count": mailboxes, "licenses": [{"sku": "SPE_E3"}]}],
        "exchange": {
            "bypass": ["svc-a@bench.example", "svc-b@bench.example", "svc-c@bench.example"],
            "customised": [{"segment": "staff", "count": mailboxes // 20, "audit_owner": LEGACY_OWNER}],
            "retention_policies": [
                {"name": "Short", "priority": 1, "retention_duration": "SevenDays", "record_types": ["ExchangeItem"]},
                {"name": "Long", "priority": 2, "retention_duration": "TwelveMonths", "record_types": ["ExchangeItem"]},
            ],
        },
    }


# --------------------------------------------------------------------------- child: one collection


async def _child(base: str) -> dict[str, Any]:
    from assessor.collect.auth import StaticTokenCredential
    from assessor.collect.clouds import cloud_endpoints
    from assessor.collect.exchange import ExchangePlan, collect_exchange

    plan = ExchangePlan(
        tenant=TENANT_ID,
        cloud=cloud_endpoints("global"),
        exchange_endpoint=f"{base}/{TENANT_ID}/adminapi/beta",
        compliance_endpoint=f"{base}/{TENANT_ID}/compliance/adminapi/beta",
    )
    credential = StaticTokenCredential({"graph": "b", "exchange": "b", "compliance": "b"})
    started = time.perf_counter()
    result = await collect_exchange(credential, plan)
    wall = time.perf_counter() - started
    from assessor.collect.interface import section_of
    from assessor.evidence import MailboxAudit, MailboxAuditBypass

    sections = result.sections
    statuses = {name: section_of(s)["provenance"]["status"] for name, s in sections.items()}
    mbx = getattr(sections["mailboxes"], "data", None)
    bypass = getattr(sections["bypass"], "data", None)
    return {
        "wall_s": round(wall, 2),
        "statuses": statuses,
        "notes": result.notes,
        "user_mailboxes": mbx.total_user_mailboxes if isinstance(mbx, MailboxAudit) else None,
        "configurations": len(mbx.configurations) if isinstance(mbx, MailboxAudit) else 0,
        "bypassed": len(bypass.bypassed) if isinstance(bypass, MailboxAuditBypass) else 0,
        "client_requests": sum(s.requests for s in result.stats.values()),
        "peak_rss_mib": round(_maxrss_mib(resource.RUSAGE_SELF), 1),
    }


# --------------------------------------------------------------------------- parent: serve and measure


def run_size(mailboxes: int, latency_ms: int) -> dict[str, Any]:
    from assessor.sandbox.server import SandboxServer
    from assessor.sandbox.spec import SandboxTenant, parse_spec

    tenant = SandboxTenant(parse_spec(tenant_spec(mailboxes), "benchmark tenant"))
    with SandboxServer([tenant], latency_ms=latency_ms) as server:
        server.reset_stats()
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, __file__, "--child", server.base_url], capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(f"child failed:\n{proc.stderr}")
        child = json.loads(proc.stdout)
        stats = server.stats()
    return {
        "mailboxes": mailboxes,
        "latency_ms": latency_ms,
        "requests": stats["requests"],
        "sequential_rounds": stats["sequential_rounds"],
        "peak_concurrency": stats["peak_concurrency"],
        "process_wall_s": round(wall, 2),
        **child,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(_child(args.child))))
        return
    results = [run_size(int(n), args.latency_ms) for n in args.sizes.split(",")]
    for r in results:
        print(json.dumps(r))
    print(f"children peak RSS (RUSAGE_CHILDREN): {_maxrss_mib(resource.RUSAGE_CHILDREN):.1f} MiB")


if __name__ == "__main__":
    main()
