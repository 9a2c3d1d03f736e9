"""GreenLake simulator: an HTTP server on loopback that behaves like the documented GreenLake Platform API.

A product feature (demo mode, tests, benchmarks), not a test fixture: the GLP client talks to it exactly as it
talks to GreenLake. See `/work/shared/reference/greenlake-api.md` for the behaviour it follows.

    sim = GreenLakeSimulator(SimulatorConfig(devices=1000, subscriptions=200, seed=42))
    with sim.serve() as server:
        ...  # server.base_url, server.token_url; sim.mutate(...), sim.faults.error_rate = 0.5

Writes (PATCH/POST devices, subscription tags) answer 202 and change the inventory when their async
operation ends: after `async_polls_to_finish` polls or `async_seconds_to_finish` seconds, or at
`sim.finish_operations()`.
"""

from .asyncops import AsyncOperation
from .config import FaultConfig, SimulatorConfig
from .core import GreenLakeSimulator, RequestRecord
from .server import SimulatorServer, run_forever
from .store import MutationReport, ScheduledMutation

__all__ = [
    "AsyncOperation",
    "FaultConfig",
    "GreenLakeSimulator",
    "MutationReport",
    "RequestRecord",
    "ScheduledMutation",
    "SimulatorConfig",
    "SimulatorServer",
    "run_forever",
]
