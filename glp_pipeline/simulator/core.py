"""`GreenLakeSimulator`: one simulated GreenLake workspace and the handles tests and demos drive it by.

It owns the inventory, the service catalog, the async operations of writes, the token issuer, the rate
limiter, the live faults and the request log, and builds the ASGI app over them. Ground truth (`devices()`,
`subscriptions()`) is the very data the API serialises, so a test compares like with like.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .app import build_app, endpoint_budget
from .asyncops import AsyncOperation, AsyncOperations
from .auth import TokenIssuer
from .config import FaultConfig, SimulatorConfig
from .data import to_epoch_ms
from .faults import ASGIApp, FaultMiddleware, Scope, query_lists
from .ratelimit import SlidingWindowLimiter
from .server import SimulatorServer
from .services import ServiceCatalog
from .store import Inventory, MutationReport, Resource, ScheduledMutation


@dataclass(frozen=True)
class RequestRecord:
    """One request the simulator received.

    `at` is the arrival time (UTC); `status` is 0 when the connection was dropped unanswered; `fault` names
    the injected fault (drop, truncate, error_rate, error_burst, rate_limit_burst, accept_then_fail), or None.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    at: datetime
    fault: str | None = None


class GreenLakeSimulator:
    """A GreenLake workspace on loopback: build it from a `SimulatorConfig`, then `serve()` it."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        """Generate the inventory now (about 3 s for 100,000 devices + 50,000 subscriptions).

        The config is copied: `sim.config` (limits, budgets) and `sim.faults` are the live ones to change.
        """
        self.config: SimulatorConfig = (config or SimulatorConfig()).model_copy(deep=True)
        self.faults: FaultConfig = self.config.faults
        self.inventory = Inventory(
            self.config.seed,
            self.config.now,
            self.config.workspace_id,
            self.config.devices,
            self.config.subscriptions,
        )
        self.catalog = ServiceCatalog(self.inventory.generator.applications, to_epoch_ms(self.config.now))
        self.operations = AsyncOperations(self.config)
        self.write_rng = random.Random(f"{self.config.seed}:writes")
        self.tokens = TokenIssuer()
        self.limiter = SlidingWindowLimiter()
        self.fault_rng = random.Random(f"{self.config.seed}:faults")
        self.request_log: list[RequestRecord] = []
        self.app: ASGIApp = FaultMiddleware(build_app(self), self)

    # --- ground truth ---------------------------------------------------------------------------

    def devices(self) -> list[dict[str, Any]]:
        """Every current device, equal to what GET /devices/v1/devices returns, in the API's default order.

        Each record is a fresh top-level dict, but nested objects (application, location, tags, ...) are
        shared with the simulator: treat them as read-only. A deep copy of 100,000 devices would cost
        about 1 GB and seconds; this costs a fraction of that.
        """
        return self._snapshot("devices")

    def subscriptions(self) -> list[dict[str, Any]]:
        """Every current subscription, as GET /subscriptions/v1/subscriptions returns them (see `devices`)."""
        return self._snapshot("subscriptions")

    def _snapshot(self, resource: Resource) -> list[dict[str, Any]]:
        with self.inventory.lock:
            records = self.inventory.collection(resource).all()
        return [dict(record) for record in records]

    # --- changes --------------------------------------------------------------------------------

    def mutate(
        self, add: int = 0, update: int = 0, remove: int = 0, resource: Resource = "devices"
    ) -> MutationReport:
        """Now: add records, update some (later updatedAt, a field changed), remove some."""
        return self.inventory.mutate(resource, add, update, remove)

    def schedule_mutation(
        self,
        after_list_requests: int,
        resource: Resource = "devices",
        add: int = 0,
        update: int = 0,
        remove: int = 0,
    ) -> ScheduledMutation:
        """Mutate once, right before serving the Nth list request of `resource` from now (N >= 1).

        Counted are list requests the endpoint actually serves: not those refused (401, 429, 400) nor
        those a fault answered.

        The returned handle's `fired` event is set and `report` filled once it has happened.
        """
        return self.inventory.schedule(resource, after_list_requests, add, update, remove)

    def finish_operations(self) -> list[AsyncOperation]:
        """Bring every pending async operation to its end now (its change applied), in submit order."""
        return self.operations.finish_all()

    def operation(self, op_id: str) -> AsyncOperation | None:
        """An async operation by id (status, polls, result), without counting a poll; None if unknown."""
        return self.operations.get(op_id)

    def service_managers(self) -> list[dict[str, Any]]:
        """The applications devices can be assigned to, each with `regions` it serves (ground truth)."""
        return [{**m.as_json(), "regions": list(m.regions)} for m in self.catalog.managers]

    def expire_tokens(self) -> None:
        """Every token issued so far is expired from now on."""
        self.tokens.expire_all()

    def reset_rate_limits(self) -> None:
        """Forget all counted requests: every budget is full again."""
        self.limiter.reset()

    def budget_for(self, method: str, path: str) -> tuple[str, int]:
        """(endpoint key, per-window budget) of a request path."""
        return endpoint_budget(self.config, method, path)

    def record_request(self, scope: Scope, status: int, fault: str | None, at: datetime) -> None:
        """Called by FaultMiddleware once per request; keeps the newest `request_log_size` records."""
        self.request_log.append(
            RequestRecord(scope["method"], scope["path"], query_lists(scope), status, at, fault)
        )
        excess = len(self.request_log) - self.config.request_log_size
        if excess > 0:
            del self.request_log[:excess]

    # --- serving --------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> SimulatorServer:
        """Serve on host:port (0 = any free port) from a daemon thread; call `.stop()` on the handle."""
        return SimulatorServer.start(self.app, host, port, self.config.workspace_id)

    @contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[SimulatorServer]:
        """`with sim.serve() as server:` runs the server for the block and stops it after."""
        server = self.start(host, port)
        try:
            yield server
        finally:
            server.stop()
