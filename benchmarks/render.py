"""Benchmark: CPU to render one tenant's reports (the per-tenant rendering work of a bulk scan).

Each tenant is collected once from an in-process sandbox (the real clients, Graph and Exchange),
assessed against a profile, and then every format is rendered ``--renders`` times in a row. The
figure is CPU time (``time.process_time``) per render, the median of three runs: the machine is
shared, so compare ratios measured at the same moment, not absolute milliseconds.

    python benchmarks/render.py                          # contoso and a 20-user fleet tenant, json and html
    python benchmarks/render.py --formats html,md,csv --renders 500 --profile cisa-aa23-193a

``fleet`` is tenant 0 of the generated fleet that ``benchmarks/bulk.py`` scans.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assessor.collect import collect  # noqa: E402
from assessor.engine.model import Report  # noqa: E402
from assessor.evidence import Evidence, seal  # noqa: E402
from assessor.pipeline import assess, collect_options  # noqa: E402
from assessor.profiles import load_profile  # noqa: E402
from assessor.report import RENDERERS, RenderOptions  # noqa: E402
from assessor.sandbox.fleet import FleetSpec, fleet_tenant  # noqa: E402
from assessor.sandbox.server import SandboxServer  # noqa: E402

ON = date(2026, 11, 30)


def collected(tenant: str, users: int) -> Evidence:
    """Evidence of a bundled sandbox tenant, or of fleet tenant 0 (``fleet``), read through the real clients."""
    with SandboxServer() as server:
        state = server.add_tenant(fleet_tenant(FleetSpec(1, "fleet", users), 0) if tenant == "fleet" else tenant)
        name = state.tenant.name
        options = collect_options(server, name, no_exchange=False, **server.exchange_endpoints(name))
        return seal(asyncio.run(collect(options)))


def cpu_ms_per_render(report: Report, fmt: str, renders: int) -> tuple[float, list[float]]:
    renderer, options = RENDERERS[fmt](), RenderOptions()
    renderer.render(report, options)  # warm-up: templates compiled, caches filled
    runs = []
    for _ in range(3):
        start = time.process_time()
        for _ in range(renders):
            renderer.render(report, options)
        runs.append((time.process_time() - start) / renders * 1000)
    return statistics.median(runs), runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenants", default="contoso,fleet", help="bundled sandbox tenants, or fleet")
    parser.add_argument("--users", type=int, default=20, help="users of the fleet tenant (bulk.py: 20)")
    parser.add_argument("--formats", default="json,html")
    parser.add_argument("--profile", default="baseline")
    parser.add_argument("--renders", type=int, default=200)
    args = parser.parse_args()
    profile = load_profile(args.profile)
    print(f"{'tenant':10} {'format':6} {'ms/render':>9}  runs (CPU ms per render, {args.renders} renders each)")
    for tenant in args.tenants.split(","):
        report = assess(collected(tenant, args.users), profile, ON)
        for fmt in args.formats.split(","):
            median, runs = cpu_ms_per_render(report, fmt, args.renders)
            print(f"{tenant:10} {fmt:6} {median:9.3f}  {', '.join(f'{r:.3f}' for r in runs)}")


if __name__ == "__main__":
    main()
