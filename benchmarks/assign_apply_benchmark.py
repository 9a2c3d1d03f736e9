"""Benchmark: apply throughput of a bulk assignment against GreenLake's write budget.

    uv run python benchmarks/assign_apply_benchmark.py                 # PATCH budget 60/min, 2 windows
    uv run python benchmarks/assign_apply_benchmark.py --rpm 40 --windows 3

Journals one tag change for (budget x windows + 1) x 25 devices of a simulated workspace and applies it
with the real engine (journal in an embedded PostgreSQL, the GreenLake client, real HTTP to the simulator).
The simulator enforces the same PATCH budget as the client is given (a sliding minute, like GreenLake), and
its async operations take 2 s each. A sliding window lets `budget` calls through in any minute, so the
(k x budget + 1)-th call can go out k minutes after the first at the earliest: the ideal run takes exactly
`windows` minutes. Printed: PATCH calls per minute against the budget, devices per minute, 429s received.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import psycopg

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from glp_pipeline.assign import apply
from glp_pipeline.assign import journal as j
from glp_pipeline.assign import plan as p
from glp_pipeline.database import EmbeddedPostgres
from glp_pipeline.greenlake import ClientConfig, GreenLakeClient
from glp_pipeline.simulator import GreenLakeSimulator, SimulatorConfig


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rpm", type=int, default=60, help="PATCH budget per minute (client and simulator)")
    parser.add_argument("--windows", type=int, default=2, help="minutes the ideal run takes")
    args = parser.parse_args()
    calls = args.rpm * args.windows + 1
    devices = calls * 25
    async_rpm = args.rpm * 3  # room for the polls (each operation needs one or two)

    sim = GreenLakeSimulator(
        SimulatorConfig(
            devices=devices,
            subscriptions=20,
            devices_v2_patch_rpm=args.rpm,
            async_ops_rpm=async_rpm,
            async_polls_to_finish=None,
            async_seconds_to_finish=2,
            async_poll_interval_seconds=1,
        )
    )
    server = sim.start("127.0.0.1", 0)
    with tempfile.TemporaryDirectory(prefix="glp-apply-bench-") as tmp:
        embedded = EmbeddedPostgres(Path(tmp) / "pg")
        url = embedded.start()
        try:
            changes = [
                p.Change(p.TAGS, d["serialNumber"], d["id"], {"bench": None}, {"bench": "1"}, n)
                for n, d in enumerate(sim.devices(), start=2)
            ]
            config = ClientConfig(
                base_url=server.base_url,
                token_url=server.token_url,
                client_id=sim.config.client_id,
                client_secret=sim.config.client_secret,
                devices_patch_rpm=args.rpm,
                async_operations_rpm=async_rpm,
            )
            with psycopg.connect(url, autocommit=True) as conn, GreenLakeClient(config) as client:
                run_id = j.create_run(conn, changes, requested_by="benchmark")
                started = time.monotonic()
                run = apply.apply_run(client, conn, run_id)
                elapsed = time.monotonic() - started
                rate_limited = client.stats.rate_limited
                failures = [o for o in j.operations(conn, run_id) if o.status != j.SUCCEEDED]
        finally:
            embedded.stop()
            server.stop()

    patches = sorted(r.at for r in sim.request_log if r.method == "PATCH" and r.status == 202)
    span = (patches[-1] - patches[0]).total_seconds()
    per_minute = (len(patches) - 1) / (span / 60)
    print(
        f"{devices:,} devices, one tag change each: {len(patches)} PATCH calls of 25, budget {args.rpm}/min"
    )
    print(
        f"  run {run['status']}: {run['succeeded']:,} succeeded, {run['failed']:,} failed, in {elapsed:.1f} s"
    )
    print(
        f"  PATCH calls: {per_minute:.1f}/min over {span:.1f} s = {per_minute / args.rpm:.1%} of the budget"
    )
    print(f"  devices: {devices / (elapsed / 60):,.0f}/min end to end (ideal {args.rpm * 25:,}/min)")
    print(f"  429 answers received: {rate_limited}")
    for failure in failures[:5]:
        print(f"  not applied: {failure.change.serial_number}: {failure.error_code} {failure.error_message}")


if __name__ == "__main__":
    main()
