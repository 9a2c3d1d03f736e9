"""Serving the Central simulator beside the GreenLake one (what `glp simulate --central` runs).

Central gets its own port rather than sharing GreenLake's: both APIs answer `POST /as/token.oauth2` with
their own credentials, and a separate base URL is what a real deployment has too (Central's cluster host is
not GreenLake's). The banner names the settings to point the pipeline at it (ARUBA_*), ids but no secrets:
the secrets are the options' values, which `glp simulate --help` shows.
"""

from __future__ import annotations

from ..server import SimulatorServer
from .config import CentralSimulatorConfig
from .core import CentralSimulator


def start_central(
    config: CentralSimulatorConfig, host: str = "127.0.0.1", port: int = 8401
) -> tuple[CentralSimulator, SimulatorServer]:
    """Build the simulator and serve it from a daemon thread (port 0: any free port)."""
    sim = CentralSimulator(config)
    return sim, sim.start(host, port)


def central_banner(sim: CentralSimulator, server: SimulatorServer) -> str:
    """The settings that point the pipeline at this simulator, New and Classic Central (no secrets)."""
    config, truth, base = sim.config, sim.cross_truth, server.base_url
    devices = len(truth.both) + len(truth.central_only)
    return (
        f"Aruba Central simulator (New and Classic): {devices} devices ({len(truth.both)} also in GreenLake, "
        f"{len(truth.central_only)} only in Central), {config.clients} clients, {config.sites} sites, "
        f"seed {config.seed}\n"
        f"  New Central:  ARUBA_BASE_URL={base}\n"
        f"                ARUBA_TOKEN_URL={base}/as/token.oauth2\n"
        f"                ARUBA_CLIENT_ID={config.client_id}  (ARUBA_CLIENT_SECRET: the configured secret)\n"
        f"  Classic:      ARUBA_CLASSIC_BASE_URL={base}\n"
        f"                ARUBA_CLASSIC_CLIENT_ID={config.classic_client_id}\n"
        f"                (ARUBA_CLASSIC_CLIENT_SECRET and ARUBA_CLASSIC_REFRESH_TOKEN: the configured ones; "
        f"the refresh token rotates at its first use)"
    )
