"""Benchmark: planning a bulk assignment from a spreadsheet.

    uv run python benchmarks/assign_benchmark.py                    # 10,000 rows, 100,000-device workspace
    uv run python benchmarks/assign_benchmark.py --rows 2000 --scale 10000:5000

Loads the simulator's workspace into a fresh embedded PostgreSQL (sync + dbt build, not timed), writes an
.xlsx of N rows (95 % devices of the workspace with an application, region, subscription and tags; 5 % new
devices with a MAC), then times what happens between upload and the plan on screen: reading the workbook,
looking up its devices and subscriptions through the query layer, and building the plan (5 runs).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

from sync_benchmark import load_workspace

from glp_pipeline.assign import plan as p
from glp_pipeline.assign import workbook as wb
from glp_pipeline.simulator.catalog import REGIONS


def _workbook(url: str, rows: int) -> tuple[bytes, tuple[p.Application, ...]]:
    with psycopg.connect(url) as conn:
        devices = conn.execute(
            "select serial_number, device_type from marts.devices where not is_removed order by device_id"
        ).fetchall()
        keys = conn.execute(
            "select subscription_type, subscription_key from marts.subscriptions"
            " where not is_removed and subscription_status = 'STARTED'"
        ).fetchall()
        app_ids = [r[0] for r in conn.execute("select distinct application_id from marts.devices").fetchall()]
    applications = tuple(
        p.Application(a, f"App {n}", REGIONS) for n, a in enumerate(sorted(filter(None, app_ids)))
    )
    by_type: dict[str, list[str]] = {}
    for subscription_type, key in keys:
        by_type.setdefault(subscription_type, []).append(key)
    kinds = {"IAP": "CENTRAL_AP", "AP": "CENTRAL_AP", "SWITCH": "CENTRAL_SWITCH", "GATEWAY": "CENTRAL_GW"}
    rng = random.Random(7)
    book = Workbook()
    sheet = book.active
    sheet.append(list(wb.COLUMNS))
    existing = rng.sample(devices, int(rows * 0.95))
    for serial, device_type in existing:
        key = rng.choice(by_type.get(kinds.get(device_type, ""), [""]) or [""])
        app = rng.choice(applications).name
        sheet.append(
            [serial, "", "", "", app, rng.choice(REGIONS), key, f"site=hq{rng.randint(1, 9)}; -old", ""]
        )
    for n in range(rows - len(existing)):
        mac = ":".join(f"{(n >> s) & 0xFF:02X}" for s in (40, 32, 24, 16, 8, 0))
        sheet.append([f"NEW{n:07d}", mac, "", "", applications[0].name, "us-west", "", "", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), applications


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--scale", default="100000:50000", help="DEVICES:SUBSCRIPTIONS of the workspace")
    args = parser.parse_args()
    devices, subscriptions = map(int, args.scale.split(":"))

    with tempfile.TemporaryDirectory(prefix="glp-assign-bench-") as tmp:
        embedded, url, _ = load_workspace(Path(tmp), devices, subscriptions)
        try:
            data, applications = _workbook(url, args.rows)
            timings: dict[str, list[float]] = {"read": [], "lookup": [], "plan": [], "total": []}
            for _ in range(5):
                started = time.perf_counter()
                sheet = wb.read_sheet(data, "bench.xlsx")
                read = time.perf_counter()
                inventory = p.load_inventory(url, sheet, applications)
                lookup = time.perf_counter()
                plan = p.build_plan(sheet, inventory)
                done = time.perf_counter()
                for name, seconds in (
                    ("read", read - started),
                    ("lookup", lookup - read),
                    ("plan", done - lookup),
                    ("total", done - started),
                ):
                    timings[name].append(seconds)
        finally:
            embedded.stop()

    print(
        f"{args.rows:,} rows ({len(data) / 1024:.0f} kB .xlsx) against {devices:,} devices"
        f" + {subscriptions:,} subscriptions"
    )
    for name, runs in timings.items():
        print(f"  {name:7s} best {min(runs):.2f} s, median {statistics.median(runs):.2f} s")
    print(
        f"  plan: {len(plan.changes):,} changes {plan.counts()}, {len(plan.errors):,} errors,"
        f" {len(plan.unchanged):,} unchanged"
    )


if __name__ == "__main__":
    main()
