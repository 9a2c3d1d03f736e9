"""Aruba Central simulator: New Central (network-monitoring) and Classic Central (API gateway) on loopback.

A product feature like the GreenLake simulator beside it: the Central client talks to it exactly as to
Central. Its devices overlap the GreenLake simulator's for the same seed, so the GreenLake ↔ Central cross
view has devices in both, in one only, and some that disagree. See `/work/shared/reference/greenlake-api.md`
section E for the behaviour it follows.

    sim = CentralSimulator(CentralSimulatorConfig(seed=7, glp_devices=300, glp_subscriptions=60))
    with sim.serve() as server:
        ...  # server.base_url; POST /as/token.oauth2 (New), POST /oauth2/token?... (Classic)
"""

from .config import CentralSimulatorConfig
from .core import CentralSimulator, RefreshTokens
from .data import CrossTruth, normalise_serial

__all__ = ["CentralSimulator", "CentralSimulatorConfig", "CrossTruth", "RefreshTokens", "normalise_serial"]
