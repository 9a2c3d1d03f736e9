"""The GreenLake simulator in its own process, steered over stdin, for benchmarks.

The benchmark must not count the simulator's memory or CPU as the sync's, so the simulator runs here.
It prints `READY <base_url> <token_url> <client_id> <client_secret>` once listening, then reads commands:
`mutate <resource> <update> <add> <remove>` → `OK <n changed>`; `quit` or end of input stops it.
"""

from __future__ import annotations

import argparse
import sys

from glp_pipeline.simulator import GreenLakeSimulator, SimulatorConfig


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, required=True)
    parser.add_argument("--subscriptions", type=int, required=True)
    parser.add_argument("--subscriptions-max-limit", type=int, default=50)
    args = parser.parse_args()
    config = SimulatorConfig(
        devices=args.devices,
        subscriptions=args.subscriptions,
        subscriptions_max_limit=args.subscriptions_max_limit,
        rate_limits=False,
    )
    sim = GreenLakeSimulator(config)
    with sim.serve(host="127.0.0.1", port=0) as server:
        print("READY", server.base_url, server.token_url, config.client_id, config.client_secret, flush=True)
        for line in sys.stdin:
            words = line.split()
            if not words or words[0] == "quit":
                break
            if words[0] == "mutate":
                resource, update, add, remove = words[1], int(words[2]), int(words[3]), int(words[4])
                report = sim.mutate(update=update, add=add, remove=remove, resource=resource)
                changed = len(report.updated) + len(report.added) + len(report.removed)
                print("OK", changed, flush=True)


if __name__ == "__main__":
    main()
