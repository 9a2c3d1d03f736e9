"""Counters of one client, for progress displays and the sync-history table.

The recorder is shared by every thread using the client; `GreenLakeClient.stats` hands out an immutable
snapshot so a reader never sees a half-updated set of numbers.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields, replace


@dataclass(frozen=True)
class ClientStats:
    """A snapshot of the client's counters since it was created."""

    requests: int = 0  # HTTP attempts sent to the API (token endpoint not included)
    retries: int = 0  # attempts repeated after a 429, a 5xx or a network error (API and token endpoint)
    rate_limited: int = 0  # 429 answers received (API and token endpoint)
    server_errors: int = 0  # 5xx answers received
    network_errors: int = 0  # connect/read failures, timeouts, dropped connections, unreadable bodies
    auth_refreshes: int = 0  # tokens thrown away after the API answered 401
    token_requests: int = 0  # POSTs to the token endpoint
    token_fetches: int = 0  # tokens obtained
    breaker_rejections: int = 0  # calls refused because the circuit breaker was open
    pacing_wait_seconds: float = 0.0  # time spent waiting for the client-side endpoint budgets
    backoff_wait_seconds: float = 0.0  # time spent waiting before retries (Retry-After and backoff)
    pages: int = 0  # list pages read
    reconcile_passes: int = 0  # paging passes restarted from offset 0 because the inventory changed
    writes_accepted: int = 0  # device writes (PATCH/POST) GreenLake answered 2xx with an operation id
    writes_unknown: int = 0  # device writes whose outcome stayed unknown (not repeated)
    operation_polls: int = 0  # GETs of async operations
    poll_wait_seconds: float = 0.0  # time spent between async-operation polls

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


_FIELDS = frozenset(f.name for f in fields(ClientStats))


class StatsRecorder:
    """Thread-safe accumulator behind `ClientStats`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats = ClientStats()

    def add(self, name: str, amount: float = 1) -> None:
        if name not in _FIELDS:
            raise KeyError(name)
        with self._lock:
            self._stats = replace(self._stats, **{name: getattr(self._stats, name) + amount})

    def snapshot(self) -> ClientStats:
        with self._lock:
            return self._stats
