"""Benchmark: Aruba Central extracted and modelled (issue 9: 50,000 clients and 20,000 devices in 30 s).

    uv run python benchmarks/central_benchmark.py                   # 20,000 Central devices, 50,000 clients
    uv run python benchmarks/central_benchmark.py --glp-devices 3000 --clients 5000

Setup (not timed): an embedded PostgreSQL loaded with the GreenLake simulator's workspace (a full sync and
`dbt build`), so the cross view has GreenLake's side. Timed: `run_central_sync` (New Central, unpaced) from a
Central simulator in its own process (same seed, so about 63 % of GreenLake's devices are in Central too,
topped up with Central-only ones), then `dbt build` of the Central models and everything downstream of them
(staging, marts, the cross view, clients per site and device, client health, with their tests).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

from pydantic import SecretStr
from sync_benchmark import load_workspace

from glp_pipeline.central import central_client
from glp_pipeline.central.sync import run_central_sync
from glp_pipeline.transform import build

SEED = 42  # the GreenLake simulator's default seed, which load_workspace's simulator process uses
ALL_CLIENT_STATUSES = "status in ('Connected', 'Failed', 'Connecting', 'Disconnected', 'Blocked')"
SERVE = """
import json, sys, time
from glp_pipeline.simulator.central import CentralSimulator, CentralSimulatorConfig
config = CentralSimulatorConfig(**json.loads(sys.argv[1]))
sim = CentralSimulator(config)
server = sim.start("127.0.0.1", 0)
print(json.dumps({"base_url": server.base_url, "client_id": config.client_id,
                  "client_secret": config.client_secret, "devices": len(sim.devices()),
                  "clients": len(sim.clients())}), flush=True)
time.sleep(86400)
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--glp-devices", type=int, default=30000, help="GreenLake devices (setup).")
    parser.add_argument("--central-only", type=int, default=1000, help="Devices only in Central.")
    parser.add_argument("--clients", type=int, default=50000)
    args = parser.parse_args()
    config = {
        "seed": SEED,
        "glp_devices": args.glp_devices,
        "glp_subscriptions": max(1, args.glp_devices // 5),
        "central_only_devices": args.central_only,
        "clients": args.clients,
        "rate_limits": False,
    }
    with tempfile.TemporaryDirectory(prefix="glp-central-bench-") as tmp:
        embedded, url, glp_settings = load_workspace(Path(tmp), args.glp_devices, config["glp_subscriptions"])
        central = subprocess.Popen(  # noqa: S603 - our own script
            [sys.executable, "-c", SERVE, json.dumps(config)], stdout=subprocess.PIPE, text=True
        )
        try:
            served = json.loads(central.stdout.readline())  # type: ignore[union-attr]
            settings = glp_settings.model_copy(
                update={
                    "aruba_base_url": served["base_url"],
                    "aruba_token_url": f"{served['base_url']}/as/token.oauth2",
                    "aruba_client_id": served["client_id"],
                    "aruba_client_secret": SecretStr(served["client_secret"]),
                    "aruba_pacing": False,
                    "aruba_clients_filter": ALL_CLIENT_STATUSES,
                }
            )
            started = time.perf_counter()
            with central_client(settings, url=url) as client:
                report = run_central_sync(settings, client, url=url)
            extracted = time.perf_counter()
            build(settings, url=url, select=["path:models/staging/central+"])
            modelled = time.perf_counter()
        finally:
            central.kill()
            embedded.stop()
    devices, clients = report.counts["central_devices"], report.counts["central_clients"]
    print(
        f"Central: {devices.fetched:,} devices, {clients.fetched:,} clients "
        f"(simulator: {served['devices']:,}, {served['clients']:,})"
    )
    print(f"  extract (sync into aruba_raw):   {extracted - started:6.1f} s")
    print(f"  model (dbt build, Central models): {modelled - extracted:6.1f} s")
    print(f"  total:                           {modelled - started:6.1f} s   (target: at most 30 s)")


if __name__ == "__main__":
    main()
