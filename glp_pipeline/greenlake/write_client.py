"""The write side of `GreenLakeClient`: device PATCH and POST, async operations, the service catalog.

A mixin of `GreenLakeClient`, so writes share its token, pacing, retries and circuit breaker; only the retry
rule differs. Retry policy of a write (`retry.is_write_retryable`):

- repeated: a 429 (after `Retry-After` / `ratelimit-reset`, which also holds the endpoint's pacer), a failure
  before the request left (connect error, connect or pool timeout), a 503 carrying `Retry-After`, and a 401
  (refused before anything happened: new token, once);
- never repeated: a 500, 502, 504, a 503 without `Retry-After`, a read timeout or a dropped connection after
  the request was sent. GreenLake may have accepted such a write, and a second PATCH would start a second
  operation, a second POST would report the first one's devices as duplicates. These raise
  `WriteOutcomeUnknownError`: re-read the devices (or poll the operation) to learn what happened;
- 400/415/422 raise `BadRequestError` at once: GreenLake refused the request and changed nothing.

Pacing: PATCH and POST have their own per-endpoint budgets (`ClientConfig.devices_patch_rpm`, default 20/min,
`devices_post_rpm` 25/min: the lower of the published values) and polling has the async-operations budget
(90/min). `wait_for_operation` polls at GreenLake's `suggestedPollingIntervalSeconds`, clamped to
`async_poll_min_seconds`..`async_poll_max_seconds` and never faster than that budget. The field's description
says minutes, its name seconds; captured payloads (2) and other clients read seconds, and so does this one.

`apply_device_operation` and `add_devices` submit one batch, hand its operation id to `on_submit` (journal it
to resume after a crash), wait for the operation, and move to the next batch: one operation in flight at a
time, so a device is never in two running operations and the budgets are spent evenly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import orjson

from glp_pipeline.greenlake.config import ASYNC_OPERATIONS_PATH, DEVICES_PATH, DEVICES_V2_PATH
from glp_pipeline.greenlake.errors import (
    AsyncOperationTimeoutError,
    BadRequestError,
    GreenLakeError,
    NetworkError,
    ServerError,
    WriteOutcomeUnknownError,
)
from glp_pipeline.greenlake.pacing import endpoint_key
from glp_pipeline.greenlake.retry import is_write_retryable
from glp_pipeline.greenlake.writes import (
    ADD_MAX_DEVICES,
    PATCH_MAX_IDS,
    AsyncOperationResult,
    DeviceOperation,
    DeviceOutcome,
    NewDevice,
    ServiceManager,
    add_devices_body,
    add_outcomes,
    check_patch_body,
    combine_service_managers,
    patch_outcomes,
    plan_add_batches,
)

if TYPE_CHECKING:
    from glp_pipeline.greenlake.config import ClientConfig
    from glp_pipeline.greenlake.pacing import Pacer
    from glp_pipeline.greenlake.paging import PageIterator
    from glp_pipeline.greenlake.stats import StatsRecorder

log = logging.getLogger(__name__)

MERGE_PATCH = "application/merge-patch+json"
SERVICE_MANAGERS_PATH = "/service-catalog/v1/service-managers"
PER_REGION_SERVICE_MANAGERS_PATH = "/service-catalog/v1/per-region-service-managers"
OnSubmit = Callable[[tuple[str, ...], str], None]
OnProgress = Callable[[int], None]


class DeviceWritesMixin:
    """Device writes for `GreenLakeClient` (module docstring: the retry and pacing policy)."""

    if TYPE_CHECKING:  # provided by GreenLakeClient
        config: ClientConfig
        pacer: Pacer
        _stats: StatsRecorder
        _sleep: Callable[[float], None]
        _clock: Callable[[], float]

        def _execute(
            self,
            method: str,
            path: str,
            params: Mapping[str, Any] | None,
            json: Any,
            headers: Mapping[str, str] | None,
            *,
            parse_json: bool,
            idempotent: bool | None,
            retry_if: Callable[[BaseException], bool] | None = None,
        ) -> tuple[httpx.Response, Any]: ...

        def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]: ...

        def iter_pages(
            self, path: str, *, params: Mapping[str, Any] | None = None, page_size: int = 100
        ) -> PageIterator: ...

    # --- submitting -------------------------------------------------------------------------------

    def submit_device_patch(
        self, ids: Sequence[str], body: Mapping[str, Any], api_version: str = "v2beta1"
    ) -> str:
        """PATCH /devices/{api_version}/devices?id=... with a merge-patch body; returns the operation id.

        At most 5 ids (v1) or 25 (v2beta1), unique; one operation class per body (ValueError otherwise,
        before anything is sent). The id is the answer's `transactionId`, else the last segment of its
        `Location`. Raises BadRequestError when GreenLake refuses the request, WriteOutcomeUnknownError when
        it may have been accepted without the client learning so.
        """
        check_patch_body(body, api_version)
        ids = tuple(ids)
        limit = PATCH_MAX_IDS[api_version]
        if not ids or len(ids) > limit or len(set(ids)) != len(ids):
            raise ValueError(
                f"PATCH /devices/{api_version}/devices takes 1-{limit} unique ids, got {len(ids)}"
            )
        path = DEVICES_V2_PATH if api_version == "v2beta1" else DEVICES_PATH
        return self._submit("PATCH", path, {"id": list(ids)}, dict(body), MERGE_PATCH, ids)

    def submit_device_add(
        self,
        *,
        network: Sequence[Mapping[str, Any] | NewDevice] = (),
        compute: Sequence[Mapping[str, Any] | NewDevice] = (),
        storage: Sequence[Mapping[str, Any] | NewDevice] = (),
        dry_run: bool = False,
    ) -> str:
        """POST /devices/v1/devices (all three arrays sent, at most 5 devices in all); the operation id.

        Entries are `{serialNumber, macAddress}` (network) or `{serialNumber, partNumber}` (compute, storage),
        with optional `tags`, or `NewDevice`s. A serial already claimed fails in the operation, not here.
        `dry_run` asks GreenLake to validate only.
        """
        body = {
            name: [entry.as_json() if isinstance(entry, NewDevice) else dict(entry) for entry in entries]
            for name, entries in (("network", network), ("compute", compute), ("storage", storage))
        }
        count = sum(len(entries) for entries in body.values())
        if not 1 <= count <= ADD_MAX_DEVICES:
            raise ValueError(f"POST /devices/v1/devices adds 1-{ADD_MAX_DEVICES} devices, got {count}")
        serials = tuple(str(e.get("serialNumber")) for entries in body.values() for e in entries)
        params = {"dry-run": "true"} if dry_run else None
        return self._submit("POST", DEVICES_PATH, params, body, "application/json", serials)

    def _submit(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Any,
        content_type: str,
        items: tuple[str, ...],
    ) -> str:
        what = f"{method} {path} for {len(items)} device(s)"
        try:
            response, _ = self._execute(
                method, path, params, body, {"Content-Type": content_type},
                parse_json=False, idempotent=False, retry_if=is_write_retryable,
            )  # fmt: skip
        except NetworkError as exc:
            if not exc.request_sent:
                raise
            raise self._unknown(
                method, path, items, f"{what}: the connection failed after sending ({exc})"
            ) from exc
        except ServerError as exc:
            if is_write_retryable(exc):  # a 503 with Retry-After, retries spent: refused, not carried out
                raise
            message = f"{what}: GreenLake answered {exc.status_code} ({exc})"
            raise self._unknown(method, path, items, message, exc.status_code) from exc
        operation_id = _operation_id(response)
        if operation_id is None:
            message = f"{what}: GreenLake answered {response.status_code} without an operation id"
            raise self._unknown(method, path, items, message, response.status_code)
        self._stats.add("writes_accepted")
        log.info("%s accepted: async operation %s", what, operation_id)
        return operation_id

    def _unknown(
        self, method: str, path: str, items: tuple[str, ...], message: str, status: int | None = None
    ) -> WriteOutcomeUnknownError:
        self._stats.add("writes_unknown")
        return WriteOutcomeUnknownError(
            f"{message}. The write may or may not have been carried out and was not repeated (a repeat could "
            f"apply it twice); re-read the devices to see what happened",
            method=method,
            path=path,
            items=items,
            status_code=status,
        )

    # --- async operations ---------------------------------------------------------------------------

    def get_operation(self, operation_id: str) -> AsyncOperationResult:
        """One read of an async operation (an id, or the `Location` path a write answered with)."""
        path = _operation_path(operation_id)
        body = self.get_json(path)
        self._stats.add("operation_polls")
        return AsyncOperationResult.from_json(path.rsplit("/", 1)[-1], body)

    def wait_for_operation(
        self,
        operation_id: str,
        *,
        timeout_seconds: float | None = None,
        on_progress: OnProgress | None = None,
    ) -> AsyncOperationResult:
        """Poll until the operation is SUCCEEDED, FAILED, TIMEOUT or TIMEDOUT and return that reading.

        Other statuses (INITIALIZED, RUNNING, PAUSED, any new one) keep it polling. `on_progress(percent)`
        is called after every read. After `timeout_seconds` (default `config.async_timeout_seconds`) it
        raises AsyncOperationTimeoutError carrying the id and the last reading; NotFoundError if GreenLake
        does not know the operation (it forgets them 24 h after they end).
        """
        timeout = self.config.async_timeout_seconds if timeout_seconds is None else timeout_seconds
        started = self._clock()
        while True:
            reading = self.get_operation(operation_id)
            if on_progress is not None:
                on_progress(reading.progress_percent or 0)
            if reading.terminal:
                return reading
            interval = self._poll_interval(reading.suggested_polling_seconds)
            if self._clock() + interval > started + timeout:
                raise AsyncOperationTimeoutError(
                    reading.id, waited_seconds=self._clock() - started, last=reading
                )
            self._stats.add("poll_wait_seconds", interval)
            self._sleep(interval)

    def _poll_interval(self, suggested: float | None) -> float:
        config = self.config
        interval = config.async_poll_default_seconds if suggested is None else suggested
        interval = min(max(interval, config.async_poll_min_seconds), config.async_poll_max_seconds)
        budget = self.pacer.budget(endpoint_key("GET", f"{ASYNC_OPERATIONS_PATH}/x"))
        if self.pacer.enabled and budget:
            interval = max(interval, self.pacer.window_seconds / budget)
        return interval

    # --- whole operations ---------------------------------------------------------------------------

    def apply_device_operation(
        self,
        op: DeviceOperation,
        ids: Iterable[str],
        *,
        on_submit: OnSubmit | None = None,
        on_progress: OnProgress | None = None,
        timeout_seconds: float | None = None,
    ) -> list[DeviceOutcome]:
        """Apply `op` to every device: batches (25 on v2beta1, 5 on v1), paced submits, waits.

        Returns one outcome per unique id, in order. `on_submit(batch_ids, operation_id)` runs right after
        each batch is accepted, before waiting; `on_progress(percent)` reports the whole job, 0-100.
        A batch GreenLake refuses (400) fails its devices and the next batch goes on; when GreenLake cannot
        be written to (429 or 503 after every retry, breaker open, 401/403), that batch and the rest are
        `not_submitted`.
        """
        batches = op.batches(ids)

        def submit(batch: tuple[str, ...]) -> str:
            return self.submit_device_patch(batch, op.body, op.api_version)

        def outcomes(batch: tuple[str, ...], reading: AsyncOperationResult) -> list[DeviceOutcome]:
            return patch_outcomes(batch, reading)

        def outcome(key: str, status: Any, op_id: str | None, code: str | None, msg: str) -> DeviceOutcome:
            return DeviceOutcome(key, None, status, op_id, code, msg)

        return self._run_batches(batches, submit, outcomes, outcome, on_submit, on_progress, timeout_seconds)

    def add_devices(
        self,
        devices: Iterable[NewDevice],
        *,
        on_submit: OnSubmit | None = None,
        on_progress: OnProgress | None = None,
        timeout_seconds: float | None = None,
        dry_run: bool = False,
    ) -> list[DeviceOutcome]:
        """Add (claim) devices 5 per POST, like `apply_device_operation`; outcomes keyed by serial number
        (`device_id` filled when GreenLake reports it). `on_submit` gets the batch's serial numbers."""
        batches = plan_add_batches(devices)
        by_serial = {device.serial_number: device for batch in batches for device in batch}
        serial_batches = [tuple(device.serial_number for device in batch) for batch in batches]

        def submit(serials: tuple[str, ...]) -> str:
            body = add_devices_body([by_serial[serial] for serial in serials])
            return self.submit_device_add(**body, dry_run=dry_run)

        def outcomes(serials: tuple[str, ...], reading: AsyncOperationResult) -> list[DeviceOutcome]:
            return add_outcomes([by_serial[serial] for serial in serials], reading)

        def outcome(key: str, status: Any, op_id: str | None, code: str | None, msg: str) -> DeviceOutcome:
            return DeviceOutcome(None, key, status, op_id, code, msg)

        return self._run_batches(
            serial_batches, submit, outcomes, outcome, on_submit, on_progress, timeout_seconds
        )

    def _run_batches(
        self,
        batches: Sequence[tuple[str, ...]],
        submit: Callable[[tuple[str, ...]], str],
        outcomes: Callable[[tuple[str, ...], AsyncOperationResult], list[DeviceOutcome]],
        outcome: Callable[[str, Any, str | None, str | None, str], DeviceOutcome],
        on_submit: OnSubmit | None,
        on_progress: OnProgress | None,
        timeout_seconds: float | None,
    ) -> list[DeviceOutcome]:
        results: list[DeviceOutcome] = []
        stopped: GreenLakeError | None = None
        total = max(1, len(batches))
        for index, batch in enumerate(batches):
            if stopped is not None:
                results.extend(outcome(k, "not_submitted", None, None, f"not sent: {stopped}") for k in batch)
                continue
            try:
                operation_id = submit(batch)
            except BadRequestError as exc:
                results.extend(outcome(k, "failed", None, exc.error_code, str(exc)) for k in batch)
                continue
            except WriteOutcomeUnknownError as exc:
                results.extend(outcome(k, "unknown", None, None, str(exc)) for k in batch)
                continue
            except GreenLakeError as exc:  # 429/503 after every retry, breaker open, 401, 403: stop here
                stopped = exc
                results.extend(outcome(k, "not_submitted", None, None, f"not sent: {exc}") for k in batch)
                continue
            if on_submit is not None:
                on_submit(batch, operation_id)
            progress = _batch_progress(on_progress, index, total)
            try:
                reading = self.wait_for_operation(
                    operation_id, timeout_seconds=timeout_seconds, on_progress=progress
                )
            except GreenLakeError as exc:  # timed out, expired, unreachable: the batch was accepted
                results.extend(outcome(k, "unknown", operation_id, None, str(exc)) for k in batch)
                continue
            results.extend(outcomes(batch, reading))
        if on_progress is not None and batches:
            on_progress(100)
        return results

    # --- service catalog ----------------------------------------------------------------------------

    def service_managers(self) -> list[ServiceManager]:
        """The applications devices can be assigned to, each with the regions it serves.

        Combines GET /service-catalog/v1/service-managers with /per-region-service-managers (module
        `writes.combine_service_managers` on the shapes read).
        """
        managers = self._all_items(SERVICE_MANAGERS_PATH)
        per_region = self._all_items(PER_REGION_SERVICE_MANAGERS_PATH)
        return combine_service_managers(managers, per_region)

    def _all_items(self, path: str) -> list[dict[str, Any]]:
        items: dict[str, dict[str, Any]] = {}
        for page in self.iter_pages(path, page_size=100):
            for item in page.items:
                items[str(item.get("id"))] = item  # a reconcile pass repeats items: merge on id
        return list(items.values())


def _batch_progress(on_progress: OnProgress | None, index: int, total: int) -> OnProgress | None:
    """Turn one batch's percent into the whole job's."""
    if on_progress is None:
        return None

    def report(percent: int) -> None:
        on_progress(min(100, (index * 100 + max(0, min(100, percent))) // total))

    return report


def _operation_path(operation_id: str) -> str:
    if operation_id.startswith("/"):
        return operation_id.split("?", 1)[0]
    return f"{ASYNC_OPERATIONS_PATH}/{quote(operation_id, safe='')}"


def _operation_id(response: httpx.Response) -> str | None:
    """`transactionId` of a 202 body, else the last segment of its `Location`."""
    try:
        body = orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        transaction = body.get("transactionId")
        if isinstance(transaction, str) and transaction.strip():
            return transaction.strip()
    location = response.headers.get("location", "").split("?", 1)[0].rstrip("/")
    if not location:
        return None
    return location.rsplit("/", 1)[-1] or None
