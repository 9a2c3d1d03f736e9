"""Benchmark: MCP tool latency at scale.

    uv run python benchmarks/mcp_benchmark.py                       # 100,000 devices + 50,000 subscriptions
    uv run python benchmarks/mcp_benchmark.py --scale 10000:5000

Loads the simulator's workspace into a fresh embedded PostgreSQL (sync + dbt build, not timed), then calls
every tool of the MCP server (all but `ask_database`, whose time is the model's) 20 times through the SDK's
in-process client (the whole MCP round trip: validation, the query layer, serialisation) and prints p50 and
p95 per tool.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

from sync_benchmark import load_workspace

from glp_pipeline.settings import get_settings

RUNS = 20


async def _measure(url: str) -> dict[str, list[float]]:
    from mcp import Client

    from mcp_server.server import build_server

    server = build_server()
    timings: dict[str, list[float]] = {}
    async with Client(server) as client:
        first = (await client.call_tool("search_devices", {"page_size": 1})).structured_content["items"][0]
        subs = (await client.call_tool("search_subscriptions", {"page_size": 1})).structured_content["items"][
            0
        ]
        calls = {
            "search_devices": {"page_size": 25},
            "search_devices (text)": {"text": first["serial_number"][:5]},
            "search_devices (filters)": {"device_type": first["device_type"], "assigned": False},
            "get_device": {"device_id": first["device_id"]},
            "search_subscriptions": {"expiring_within_days": 90},
            "subscription_devices": {"subscription_id": subs["subscription_id"]},
            "inventory_overview": {},
            "devices_by_type_and_region": {},
            "expiry_timeline": {},
            "inventory_trend": {},
            "license_trend": {},
            "filter_values": {},
            "sync_status": {},
            "device_subscriptions": {"device_id": first["device_id"]},
            "unassigned_devices": {"device_type": "SWITCH", "page_size": 25},
            "unassigned_devices (all)": {"page_size": 25},
            "device_summary": {"group_by": ["device_type", "region"], "limit": 100},
            "devices_by_location": {"level": "site", "limit": 50},
            "device_age_analysis": {"group_by": "model", "limit": 50},
            "model_distribution": {"limit": 50},
            "devices_by_tag": {"tag_key": "site", "tag_value": "hq", "page_size": 25},
            "devices_by_tag (key only)": {"tag_key": "site", "page_size": 25},
            "tag_statistics": {"limit": 25, "top_values": 5},
            "recently_updated": {"days": 30, "kind": "devices", "page_size": 25},
            "recently_updated (subs)": {"days": 30, "kind": "subscriptions", "page_size": 25},
            "get_subscription": {"subscription_id": subs["subscription_id"]},
            "get_subscription (by key)": {"subscription_key": subs["subscription_key"]},
            "expiring_subscriptions": {"days": 90, "page_size": 25},
            "subscription_summary": {},
            "license_utilization": {"status": "STARTED", "max_pct": 20, "page_size": 25},
            "license_utilization (sorted)": {"sort": "available_quantity", "descending": True},
            "subscriptions_by_tier": {},
            "evaluation_subscriptions": {"include_ended": True, "page_size": 25},
            "renewal_forecast": {"months": 36, "group_by": "sku"},
            "sync_history": {"limit": 20},
            "sync_metrics": {"days": 30},
            "run_query (group by type)": {
                "sql": "select device_type, count(*) from reporting.active_devices group by 1 order by 2 desc"
            },
        }
        for label, arguments in calls.items():
            tool = label.split(" ")[0]
            for _ in range(RUNS):
                started = time.perf_counter()
                result = await client.call_tool(tool, arguments)
                timings.setdefault(label, []).append(time.perf_counter() - started)
                if result.is_error:
                    raise RuntimeError(f"{label}: {result.content[0].text}")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="100000:50000", help="DEVICES:SUBSCRIPTIONS")
    args = parser.parse_args()
    devices, subscriptions = map(int, args.scale.split(":"))
    with tempfile.TemporaryDirectory(prefix="glp-mcp-bench-") as tmp:
        embedded, url, _ = load_workspace(Path(tmp), devices, subscriptions)
        try:
            os.environ.update({"DATABASE_URL": url, "GLP_HOME": str(Path(tmp) / "home")})
            get_settings.cache_clear()
            timings = anyio.run(_measure, url)
        finally:
            embedded.stop()
    print(f"{devices:,} devices + {subscriptions:,} subscriptions, {RUNS} calls per tool")
    for label, runs in timings.items():
        runs.sort()
        p95 = runs[int(0.95 * (len(runs) - 1))]
        print(f"  {label:30s} p50 {statistics.median(runs) * 1000:6.0f} ms   p95 {p95 * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
