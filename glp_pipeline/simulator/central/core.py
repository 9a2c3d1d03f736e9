"""`CentralSimulator`: one simulated Aruba Central account, both API generations, and its ground truth.

It owns the inventory (rendered once per record shape: the data does not change while serving), both token
flows, the rate limiters, the live faults and the request log. Ground truth (`devices()`, `aps()`, ...,
`classic_clients()`, `cross_truth`) is the very data the API serialises, so a test compares like with like.
"""

from __future__ import annotations

import random
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from ..auth import TokenIssuer
from ..config import FaultConfig
from ..core import RequestRecord
from ..faults import ASGIApp, Scope, query_lists
from ..ratelimit import SlidingWindowLimiter
from ..server import SimulatorServer
from .app import build_app
from .config import CentralSimulatorConfig
from .data import CentralGenerator, CrossTruth, Site, greenlake_inventory, normalise_serial
from .faults import CentralFaultMiddleware
from .limits import ClassicLimiter
from .query import QueryCache
from .render import (
    classic_ap,
    classic_client,
    classic_gateway,
    classic_switch,
    new_ap,
    new_client,
    new_device,
    new_gateway,
    new_switch,
)

Record = dict[str, Any]
NEW_RESOURCES = ("devices", "aps", "switches", "gateways", "clients")
CLASSIC_RESOURCES = ("aps", "switches", "gateways")
CLASSIC_STATUSES = {"Connected": "CONNECTED", "Failed": "FAILED_TO_CONNECT"}


class RefreshTokens:
    """Classic refresh tokens: each works once, and using it yields its successor. Thread-safe."""

    def __init__(self, initial: str) -> None:
        self._valid = {initial}
        self._lock = threading.Lock()

    def rotate(self, token: str) -> str | None:
        """The new refresh token, or None if `token` is unknown or already used."""
        with self._lock:
            if token not in self._valid:
                return None
            self._valid.discard(token)
            new = secrets.token_urlsafe(32)
            self._valid.add(new)
            return new

    def issue(self) -> str:
        """A further valid refresh token (another client of the same application)."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._valid.add(token)
        return token

    def is_valid(self, token: str) -> bool:
        with self._lock:
            return token in self._valid


class CentralSimulator:
    """An Aruba Central account on loopback, New and Classic: build it from a config, then `start()` it."""

    def __init__(self, config: CentralSimulatorConfig | None = None) -> None:
        """Generate the GreenLake side and the Central inventory now (well under a second for the defaults).

        The config is copied: `sim.config` (limits, budgets, header formats) and `sim.faults` are the live
        ones.
        """
        self.config: CentralSimulatorConfig = (config or CentralSimulatorConfig()).model_copy(deep=True)
        self.faults: FaultConfig = self.config.faults
        config = self.config
        self._glp = greenlake_inventory(
            config.seed, config.now, config.workspace_id, config.glp_devices, config.glp_subscriptions
        )
        generator = CentralGenerator(
            seed=config.seed,
            now=config.now,
            glp_devices=self._glp,
            glp_only_share=config.glp_only_share,
            mismatch_every=config.mismatch_every,
            central_only=config.central_only_devices,
            sites=config.sites,
            clients=config.clients,
            wired_share=config.wired_share,
        )
        for client in generator.clients:
            if client.status == "Connected":
                client.device.clients += 1
        self.cross_truth: CrossTruth = generator.truth
        self._sites: list[Site] = generator.sites
        self._new, self._classic = self._render(generator)
        self._classic_clients: dict[tuple[str, str], list[Record]] = {}
        for client in generator.clients:
            status = CLASSIC_STATUSES.get(client.status)
            if status is not None:
                kind = ("WIRED" if client.wired else "WIRELESS", status)
                self._classic_clients.setdefault(kind, []).append(classic_client(client))
        self._by_key: dict[str, dict[str, Record]] = {
            name: {self._key(name, r): r for r in self._new[name]} for name in NEW_RESOURCES
        }
        self.lock = threading.RLock()
        self.query_cache = QueryCache()
        self.tokens = TokenIssuer()
        self.refresh_tokens = RefreshTokens(config.classic_refresh_token)
        self.limiter = SlidingWindowLimiter()
        self.classic_limiter = ClassicLimiter()
        self.fault_rng = random.Random(f"{config.seed}:central-faults")
        self.request_log: list[RequestRecord] = []
        self.app: ASGIApp = CentralFaultMiddleware(build_app(self), self)

    @staticmethod
    def _render(generator: CentralGenerator) -> tuple[dict[str, list[Record]], dict[str, list[Record]]]:
        devices = generator.devices
        by_type = {
            t: [d for d in devices if d.device_type == t] for t in ("ACCESS_POINT", "SWITCH", "GATEWAY")
        }
        aps_per_site: dict[str, int] = {}
        for ap in by_type["ACCESS_POINT"]:
            aps_per_site[ap.site.site_id] = aps_per_site.get(ap.site.site_id, 0) + 1
        new = {
            "devices": [new_device(d) for d in devices],
            "aps": [new_ap(d) for d in by_type["ACCESS_POINT"]],
            "switches": [new_switch(d) for d in by_type["SWITCH"]],
            "gateways": [new_gateway(d) for d in by_type["GATEWAY"]],
            "clients": [new_client(c) for c in generator.clients],
        }
        classic = {
            "aps": [classic_ap(d) for d in by_type["ACCESS_POINT"]],
            "switches": [classic_switch(d) for d in by_type["SWITCH"]],
            "gateways": [classic_gateway(d, aps_per_site.get(d.site.site_id, 0)) for d in by_type["GATEWAY"]],
        }
        return new, classic

    @staticmethod
    def _key(resource: str, record: Record) -> str:
        return record["id"].lower() if resource == "clients" else normalise_serial(record["serialNumber"])

    # --- what the handlers read ---------------------------------------------------------------------

    def new_records(self, resource: str) -> list[Record]:
        """The served New Central records of a list endpoint, in default order (shared: read-only)."""
        return self._new[resource]

    def new_record(self, resource: str, key: str) -> Record | None:
        """One record by serial (any case or padding) or, for clients, by MAC address."""
        lookup = key.lower() if resource == "clients" else normalise_serial(key)
        return self._by_key[resource].get(lookup)

    def classic_records(self, resource: str) -> list[Record]:
        """The served Classic records of aps, switches or gateways (shared: read-only)."""
        return self._classic[resource]

    # --- ground truth: New Central shapes -----------------------------------------------------------

    def devices(self) -> list[Record]:
        """Every device as GET /network-monitoring/v1/devices returns them, in default order (fresh dicts)."""
        return [dict(r) for r in self._new["devices"]]

    def aps(self) -> list[Record]:
        """Every access point as /network-monitoring/v1/aps returns them."""
        return [dict(r) for r in self._new["aps"]]

    def switches(self) -> list[Record]:
        """Every switch as /network-monitoring/v1/switches returns them."""
        return [dict(r) for r in self._new["switches"]]

    def gateways(self) -> list[Record]:
        """Every gateway as /network-monitoring/v1/gateways returns them."""
        return [dict(r) for r in self._new["gateways"]]

    def clients(self) -> list[Record]:
        """Every client (all statuses; the endpoint's default filter shows only Connected ones)."""
        return [dict(r) for r in self._new["clients"]]

    def sites(self) -> list[Record]:
        """The sites devices and clients are placed in: `{siteId, siteName, city, country}`."""
        return [site.as_json() for site in self._sites]

    # --- ground truth: Classic shapes ---------------------------------------------------------------

    def classic_aps(self) -> list[Record]:
        """Every AP as /monitoring/v2/aps returns them."""
        return [dict(r) for r in self._classic["aps"]]

    def classic_switches(self) -> list[Record]:
        """Every switch as /monitoring/v1/switches returns them with show_resource_details=true."""
        return [dict(r) for r in self._classic["switches"]]

    def classic_gateways(self) -> list[Record]:
        """Every gateway as /monitoring/v1/gateways returns them."""
        return [dict(r) for r in self._classic["gateways"]]

    def classic_clients(
        self, client_type: str | None = None, client_status: str | None = None
    ) -> list[Record]:
        """Classic clients (only Connected and Failed ones exist there), optionally of one type and status.

        `client_type` WIRELESS|WIRED and `client_status` CONNECTED|FAILED_TO_CONNECT as the endpoint takes
        them; in the order /monitoring/v2/clients serves each combination.
        """
        return [
            dict(record)
            for (kind, status), records in self._classic_clients.items()
            if client_type in (None, kind) and client_status in (None, status)
            for record in records
        ]

    # --- ground truth: the GreenLake side -----------------------------------------------------------

    def greenlake_devices(self) -> list[Record]:
        """The GreenLake simulator's devices for the same seed, now, glp_devices and glp_subscriptions."""
        return [dict(r) for r in self._glp]

    # --- controls -----------------------------------------------------------------------------------

    def valid_classic_refresh_token(self) -> str:
        """A Classic refresh token valid now: the configured one until it is used, then a newly issued one.

        For tests and demos that start a second Classic client after the first rotated the configured token.
        """
        if self.refresh_tokens.is_valid(self.config.classic_refresh_token):
            return self.config.classic_refresh_token
        return self.refresh_tokens.issue()

    def expire_tokens(self) -> None:
        """Every access token (both kinds) issued so far is expired from now on."""
        self.tokens.expire_all()

    def reset_rate_limits(self) -> None:
        """Forget all counted requests: every budget (hourly, per second, per day) is full again."""
        self.limiter.reset()
        self.classic_limiter.reset()

    def record_request(self, scope: Scope, status: int, fault: str | None, at: datetime) -> None:
        """Called by the fault middleware once per request; keeps the newest `request_log_size` records."""
        self.request_log.append(
            RequestRecord(scope["method"], scope["path"], query_lists(scope), status, at, fault)
        )
        excess = len(self.request_log) - self.config.request_log_size
        if excess > 0:
            del self.request_log[:excess]

    # --- serving ------------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> SimulatorServer:
        """Serve both generations on host:port (0 = any free port) from a daemon thread; `.stop()` it."""
        return SimulatorServer.start(self.app, host, port, self.config.workspace_id)

    @contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[SimulatorServer]:
        """`with sim.serve() as server:` runs the server for the block and stops it after."""
        server = self.start(host, port)
        try:
            yield server
        finally:
            server.stop()
