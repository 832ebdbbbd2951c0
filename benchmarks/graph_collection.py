"""Graph collection benchmark: requests, sequential rounds, wall time and peak RSS.

Runs the sandbox (in this process) with injected latency and collects each tenant size in a
child process through the real msgraph-sdk, so the child's peak RSS is the collector's alone.

    /work/venv/bin/python benchmarks/graph_collection.py                 # 1k, 100k, 1M users
    /work/venv/bin/python benchmarks/graph_collection.py --sizes 1000,100000 --latency-ms 50

Sequential rounds come from the server's request log: the longest chain of requests each of
which started after the previous one ended (requests in flight together form one round).
The naive design (enumerate users, then GET /users/{id}/licenseDetails per user, one after
another, as Prowler's M365 provider does) is measured on the smallest size for comparison.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assessor.sandbox import SandboxServer, load_tenant

TENANT = "fabrikam"
TOKEN = "benchmark-token"  # noqa: S105 - the sandbox accepts any bearer token


@dataclass(frozen=True)
class Row:
    users: int
    mode: str
    requests: int
    rounds: int
    wall: float
    peak_rss_mb: float | None
    figure: str

    def markdown(self) -> str:
        rss = f"{self.peak_rss_mb:.0f}" if self.peak_rss_mb is not None else "–"
        return (
            f"| {self.users:,} | {self.mode} | {self.requests:,} | {self.rounds:,} | {self.wall:.2f} | {rss} "
            f"| {self.figure} |"
        )


# --------------------------------------------------------------------------- child side


async def _naive(url: str) -> dict[str, Any]:
    """Enumerate users, then licenseDetails per user, sequentially (the per-user design)."""
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder

    from assessor.collect.auth import StaticTokenCredential
    from assessor.collect.graph import GraphSettings, connect

    conn = connect(
        StaticTokenCredential({"graph": TOKEN}),
        GraphSettings(base_url=url, scopes=("https://graph.microsoft.com/.default",)),
    )
    premium = 0
    try:
        query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(select=["id", "userPrincipalName"], top=999)
        page = await conn.client.users.get(request_configuration=RequestConfiguration(query_parameters=query))
        ids: list[str] = []
        while page is not None:
            ids.extend(u.id for u in page.value or [] if u.id)
            page = await conn.client.users.with_url(page.odata_next_link).get() if page.odata_next_link else None
        for uid in ids:
            details = await conn.client.users.by_user_id(uid).license_details.get()
            plans = {
                p.service_plan_name
                for d in (details.value or [])
                for p in (d.service_plans or [])
                if p.provisioning_status == "Success"
            }
            premium += "M365_ADVANCED_AUDITING" in plans
    finally:
        await conn.aclose()
    return {"premium_plan_holders": premium, "users": len(ids)}


def _warm_up(url: str) -> None:
    """Import the SDK's lazily loaded request builders so wall time measures collection, not imports."""
    from assessor.collect.auth import StaticTokenCredential
    from assessor.collect.graph import GraphSettings, connect

    conn = connect(
        StaticTokenCredential({"graph": TOKEN}),
        GraphSettings(base_url=url, scopes=("https://graph.microsoft.com/.default",)),
    )
    client = conn.client
    for builder in (
        client.users,
        client.users.count,
        client.organization,
        client.subscribed_skus,
        client.role_management.directory.role_assignments,
        client.directory_roles,
        client.groups,
    ):
        builder.to_get_request_information()
    asyncio.run(conn.aclose())
    _warm_models()


def _warm_models() -> None:
    """Deserialise one tiny body of each response type (the SDK imports model modules on first use)."""
    from kiota_serialization_json.json_parse_node_factory import JsonParseNodeFactory
    from msgraph.generated.models.organization_collection_response import OrganizationCollectionResponse
    from msgraph.generated.models.subscribed_sku_collection_response import SubscribedSkuCollectionResponse
    from msgraph.generated.models.unified_role_assignment_collection_response import (
        UnifiedRoleAssignmentCollectionResponse,
    )
    from msgraph.generated.models.user_collection_response import UserCollectionResponse

    principals = [
        {"principal": {"@odata.type": f"#microsoft.graph.{t}", "id": "x"}}
        for t in ("user", "group", "servicePrincipal")
    ]
    bodies = [
        (OrganizationCollectionResponse, {"value": [{"id": "x", "verifiedDomains": [{"name": "a"}]}]}),
        (
            SubscribedSkuCollectionResponse,
            {
                "value": [
                    {
                        "skuId": "06ebc4ee-1bb5-47dd-8120-11324bc54e06",
                        "prepaidUnits": {"enabled": 1},
                        "servicePlans": [{"servicePlanName": "p"}],
                    }
                ]
            },
        ),
        (UnifiedRoleAssignmentCollectionResponse, {"value": principals}),
        (UserCollectionResponse, {"value": [{"id": "x", "assignedLicenses": [{"disabledPlans": []}]}]}),
    ]
    factory = JsonParseNodeFactory()
    for model, body in bodies:
        factory.get_root_parse_node("application/json", json.dumps(body).encode()).get_object_value(model)


def child(url: str, tenant_id: str, mode: str) -> None:
    from assessor.collect import CollectOptions, collect
    from assessor.collect.auth import StaticTokenCredential

    _warm_up(url)
    start = time.perf_counter()
    if mode == "naive":
        figure = asyncio.run(_naive(url))
    else:
        options = CollectOptions(
            tenant=tenant_id,
            graph_endpoint=url,
            no_exchange=True,
            users_mode=mode,  # type: ignore[arg-type]
            credential=StaticTokenCredential({"graph": TOKEN}),
            tenant_timeout=3600,
        )
        evidence = asyncio.run(collect(options))
        if evidence.users.data is None:
            raise SystemExit(f"users not collected: {evidence.users.provenance.reason}")
        figure = evidence.users.data.counts.model_dump()
    wall = time.perf_counter() - start
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"wall": wall, "peak_rss_mb": rss_kb / 1024, "figure": figure}))


# --------------------------------------------------------------------------- parent side


def measure(users: int, mode: str, latency_ms: int) -> Row:
    tenant = load_tenant(TENANT, users=users)
    with SandboxServer([tenant], latency_ms=latency_ms) as server:
        url = server.graph_url(tenant.id)
        proc = subprocess.run(
            [sys.executable, __file__, "--child", url, tenant.id, mode], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise SystemExit(f"child failed ({users} users, {mode}):\n{proc.stderr[-3000:]}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        stats = server.stats(tenant.id)
    figure = result["figure"]
    if "in_scope" in figure:
        text = f"in scope {figure['in_scope']:,}, Premium {figure['in_scope_premium']:,}"
    else:
        text = f"{figure['users']:,} users, {figure['premium_plan_holders']:,} with the Premium plan"
    return Row(users, mode, stats["requests"], stats["sequential_rounds"], result["wall"], result["peak_rss_mb"], text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--modes", default="summary,detail")
    parser.add_argument("--naive-size", type=int, default=1000)
    parser.add_argument("--child", nargs=3, metavar=("URL", "TENANT", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s]
    rows: list[Row] = []
    print(
        f"Graph collection, sandbox tenant {TENANT!r} rescaled, {args.latency_ms} ms injected latency per request",
        file=sys.stderr,
    )
    for users in sizes:
        for mode in args.modes.split(","):
            row = measure(users, mode, args.latency_ms)
            print(
                f"  {users:>9,} {mode:<8} {row.requests:>6} requests {row.rounds:>6} rounds {row.wall:8.2f} s",
                file=sys.stderr,
            )
            rows.append(row)
    naive = measure(args.naive_size, "naive", args.latency_ms) if args.naive_size else None
    print("| users | mode | requests | sequential rounds | wall (s) | peak RSS (MB) | figures |")
    print("|---:|---|---:|---:|---:|---:|---|")
    for row in [*rows, *([naive] if naive else [])]:
        print(row.markdown())
    if naive is not None:
        base = next((r for r in rows if r.users == naive.users and r.mode == "summary"), None)
        if base is not None:
            print(
                f"\nNaive per-user design at {naive.users:,} users: {naive.requests / base.requests:.0f}× the "
                f"requests, {naive.rounds / base.rounds:.0f}× the sequential rounds and "
                f"{naive.wall / base.wall:.0f}× the wall time of summary mode."
            )
        detail = [r for r in rows if r.mode == "detail"]
        for r in detail:
            expected = math.ceil(r.users / 999)
            print(f"detail {r.users:,}: {r.rounds} rounds for ⌈n/999⌉ = {expected} pages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
