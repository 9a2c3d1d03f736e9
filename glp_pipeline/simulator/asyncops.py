"""Async operations (greenlake-api.md B.7): what a write's 202 points at, and when its change happens.

An operation moves INITIALIZED → RUNNING (progressPercent rising) → SUCCEEDED | FAILED (or TIMEDOUT when a
fault says so). Deterministic for tests: it reaches its terminal state at its `async_polls_to_finish`-th GET
(default 3: INITIALIZED 0 %, RUNNING 50 %, then done) or `async_seconds_to_finish` after submit, whichever
comes first; the latter also finishes operations nobody polls, as GreenLake would. With 0 polls it finishes at
submit.

The change is applied when the operation reaches its terminal state, all at once (store.py), so reads never
see half a batch; reads settle the operations that are due by time first, so a list after an operation's
deadline shows its effect. The result is per device (`succeededDevices`, `failedDevices`). An operation
where every device failed is FAILED; a partial one is SUCCEEDED with its `failedDevices` (the documented
per-device reporting; the API's choice for partial batches is not documented). TIMEDOUT applies nothing.
Operations answer 404 `async_retention_seconds` (24 h) after they ended, as GreenLake documents.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .config import SimulatorConfig
from .data import iso_ms

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMEDOUT"})


@dataclass(frozen=True)
class Outcome:
    """How an operation ended once its change ran: status, progressPercent and `result`."""

    status: str  # SUCCEEDED | FAILED
    result: dict[str, Any]
    progress: int = 100


@dataclass
class AsyncOperation:
    """One submitted write. `run` applies its change and says how it went; it is called once."""

    id: str
    namespace: str  # "devices" | "subscriptions": the path it is served under
    result_type: str
    run: Callable[[], Outcome] = field(repr=False)
    created: float  # the registry's clock
    started_ms: int  # wall clock, for startedAt
    times_out: bool = False
    polls: int = 0
    status: str = "INITIALIZED"
    progress: int = 0
    ended: float | None = None
    ended_ms: int | None = None
    result: dict[str, Any] | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


class AsyncOperations:
    """Every operation of one simulator, thread-safe. `clock` may be replaced by a test's fake clock."""

    def __init__(self, config: SimulatorConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self._ops: dict[str, AsyncOperation] = {}
        self._lock = threading.RLock()

    def submit(
        self, namespace: str, result_type: str, run: Callable[[], Outcome], *, times_out: bool = False
    ) -> AsyncOperation:
        """Register a new operation (finished at once when `async_polls_to_finish` is 0)."""
        op = AsyncOperation(
            str(uuid.uuid4()), namespace, result_type, run, self.clock(), int(time.time() * 1000), times_out
        )
        with self._lock:
            self._expire()
            self._ops[op.id] = op
            self._advance(op, polled=False)
        return op

    def poll(self, namespace: str, op_id: str) -> dict[str, Any] | None:
        """What GET .../async-operations/{id} answers (one more poll), or None for 404."""
        with self._lock:
            self._expire()
            op = self._ops.get(op_id.lower())
            if op is None or op.namespace != namespace:
                return None
            self._advance(op, polled=True)
            return self.as_json(op)

    def get(self, op_id: str) -> AsyncOperation | None:
        """The operation itself (tests), without counting a poll."""
        with self._lock:
            return self._ops.get(op_id.lower())

    def settle(self) -> None:
        """Finish every operation whose time is up (reads call this first)."""
        if self.config.async_seconds_to_finish is None:
            return
        with self._lock:
            for op in list(self._ops.values()):
                if not op.terminal:
                    self._advance(op, polled=False)

    def finish_all(self) -> list[AsyncOperation]:
        """Finish every pending operation now, in submit order; returns them."""
        with self._lock:
            pending = [op for op in self._ops.values() if not op.terminal]
            for op in pending:
                self._finish(op)
            return pending

    def pending(self) -> list[AsyncOperation]:
        with self._lock:
            return [op for op in self._ops.values() if not op.terminal]

    def _advance(self, op: AsyncOperation, *, polled: bool) -> None:
        if op.terminal:
            return
        if polled:
            op.polls += 1
        polls, seconds = self.config.async_polls_to_finish, self.config.async_seconds_to_finish
        elapsed = self.clock() - op.created
        if (
            (polls is None and seconds is None)
            or (polls is not None and op.polls >= polls)
            or (seconds is not None and elapsed >= seconds)
        ):
            self._finish(op)
            return
        fractions = [0.0]
        if polls is not None and polls > 1 and op.polls >= 1:
            fractions.append((op.polls - 1) / (polls - 1))
        if seconds:
            fractions.append(elapsed / seconds)
        op.progress = max(op.progress, min(99, int(100 * max(fractions))))
        op.status = "RUNNING" if op.progress > 0 else "INITIALIZED"

    def _finish(self, op: AsyncOperation) -> None:
        if op.times_out:
            op.status = "TIMEDOUT"
        else:
            outcome = op.run()
            op.status, op.result, op.progress = outcome.status, outcome.result, outcome.progress
        op.ended = self.clock()
        op.ended_ms = int(time.time() * 1000)

    def _expire(self) -> None:
        now, keep = self.clock(), self.config.async_retention_seconds
        gone = [key for key, op in self._ops.items() if op.ended is not None and now - op.ended >= keep]
        for key in gone:
            del self._ops[key]

    def as_json(self, op: AsyncOperation) -> dict[str, Any]:
        config = self.config
        return {
            "id": op.id,
            "type": f"{op.namespace}/asyncOperation",
            "status": op.status,
            "startedAt": iso_ms(op.started_ms),
            "endedAt": iso_ms(op.ended_ms) if op.ended_ms is not None else None,
            "progressPercent": op.progress,
            "suggestedPollingIntervalSeconds": config.async_poll_interval_seconds,
            "timeoutMinutes": config.async_timeout_minutes,
            "resultType": op.result_type if op.result is not None else None,
            "result": op.result,
            "logMessages": [],
        }
