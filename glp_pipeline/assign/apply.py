"""Applying a journalled run to GreenLake: stage by stage, batched and paced, every step journalled.

Stages follow `plan.ORDER` (add, unarchive, application, subscription, tags, archive), so a device is never
in two operations at once. Within a stage, changes that send the same body (the same application and region,
the same subscription, the same tag edits) share PATCH calls of up to 25 devices; all batches of a stage are
submitted before any is waited for, so the run goes as fast as GreenLake's write budget (the client paces
the calls) rather than as fast as its async operations finish. Each operation id is journalled the moment
GreenLake accepts the call, and each device's outcome as soon as it is known, so a run that dies can be
resumed (`apply_run` again on the same run id: it first learns the outcome of what was already submitted).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from glp_pipeline.assign import journal as j
from glp_pipeline.assign import plan as p
from glp_pipeline.greenlake.errors import BadRequestError, GreenLakeError, WriteOutcomeUnknownError
from glp_pipeline.greenlake.writes import (
    AsyncOperationResult,
    DeviceOperation,
    NewDevice,
    add_devices_body,
    add_outcomes,
    patch_outcomes,
    plan_add_batches,
)

if TYPE_CHECKING:
    import psycopg

    from glp_pipeline.greenlake import GreenLakeClient


@dataclass
class Progress:
    """Where a run is: operations done (succeeded, failed or unknown) of the total, and an estimate."""

    total: int
    done: int = 0
    failed: int = 0
    stage: str = ""
    started: float = field(default_factory=time.monotonic)

    @property
    def eta_seconds(self) -> float | None:
        if not self.done or self.done >= self.total:
            return None
        elapsed = time.monotonic() - self.started
        return elapsed / self.done * (self.total - self.done)


OnProgress = Callable[[Progress], None]


@dataclass
class _Submitted:
    operation_id: str
    seqs: tuple[int, ...]
    keys: tuple[str, ...]  # device ids (PATCH) or serial numbers (add)
    new_devices: tuple[NewDevice, ...] = ()


def apply_run(
    client: GreenLakeClient,
    conn: psycopg.Connection,
    run_id: UUID,
    *,
    on_progress: OnProgress | None = None,
) -> dict[str, Any]:
    """Carry out (or resume) a journalled run; returns the finished run's journal row.

    The run ends `finished` when every operation has an outcome (some may have failed: see the journal),
    or `interrupted` when GreenLake stopped taking writes (rate limit after every retry, circuit breaker,
    credentials): its pending operations can be resumed later."""
    journalled = j.operations(conn, run_id)
    progress = Progress(total=len(journalled))
    progress.done = sum(1 for o in journalled if o.status not in (j.PENDING, j.SUBMITTED))
    progress.failed = sum(1 for o in journalled if o.status in (j.FAILED, j.UNKNOWN))

    def report(stage: str) -> None:
        progress.stage = stage
        if on_progress is not None:
            on_progress(progress)

    device_ids = {o.change.serial_number: o.change.device_id for o in journalled if o.change.device_id}
    # 1. What a previous attempt submitted but never learnt the outcome of.
    by_operation: dict[str, list[j.JournalledChange]] = {}
    for item in journalled:
        if item.status == j.SUBMITTED and item.operation_id:
            by_operation.setdefault(item.operation_id, []).append(item)
    for operation_id, items in by_operation.items():
        adds = [i for i in items if i.change.kind == p.ADD]
        submitted = _Submitted(
            operation_id,
            tuple(i.seq for i in items),
            tuple(i.change.serial_number if adds else (i.change.device_id or "") for i in items),
            tuple(_new_device(i.change) for i in adds),
        )
        _collect(client, conn, run_id, [submitted], progress, device_ids)
    report("resumed")

    # 2. Everything still pending, stage by stage.
    pending = [o for o in j.operations(conn, run_id) if o.status == j.PENDING]
    for stage in p.ORDER:
        items = [o for o in pending if o.change.kind == stage]
        if not items:
            continue
        report(stage)
        try:
            if stage == p.ADD:
                submitted = _submit_adds(client, conn, run_id, items)
            else:
                submitted = _submit_patches(client, conn, run_id, items, device_ids, progress)
        except GreenLakeError as exc:  # GreenLake takes no more writes now: resume later
            report(stage)
            return j.finish_run(conn, run_id, j.INTERRUPTED, f"GreenLake stopped taking writes: {exc}")
        _collect(
            client, conn, run_id, submitted, progress, device_ids, on_progress=lambda: report(progress.stage)
        )
        report(stage)
    return j.finish_run(conn, run_id, j.FINISHED)


def _submit_adds(
    client: GreenLakeClient, conn: psycopg.Connection, run_id: UUID, items: list[j.JournalledChange]
) -> list[_Submitted]:
    seq_by_serial = {i.change.serial_number: i.seq for i in items}
    submitted = []
    for batch in plan_add_batches(_new_device(i.change) for i in items):
        seqs = tuple(seq_by_serial[d.serial_number] for d in batch)
        try:
            operation_id = client.submit_device_add(**add_devices_body(batch))
        except (BadRequestError, WriteOutcomeUnknownError) as exc:
            status = j.FAILED if isinstance(exc, BadRequestError) else j.UNKNOWN
            for seq in seqs:
                j.mark_outcome(conn, run_id, seq, status, error_message=str(exc))
            continue
        j.mark_submitted(conn, run_id, seqs, operation_id)
        submitted.append(_Submitted(operation_id, seqs, tuple(d.serial_number for d in batch), batch))
    return submitted


def _submit_patches(
    client: GreenLakeClient,
    conn: psycopg.Connection,
    run_id: UUID,
    items: list[j.JournalledChange],
    device_ids: dict[str, str],
    progress: Progress,
) -> list[_Submitted]:
    groups: dict[str, tuple[DeviceOperation, list[tuple[int, str]]]] = {}
    for item in items:
        device_id = item.change.device_id or device_ids.get(item.change.serial_number)
        if not device_id:  # a device this run was to add, and could not
            j.mark_outcome(conn, run_id, item.seq, j.FAILED, error_message="the device was not added")
            progress.done += 1
            progress.failed += 1
            continue
        operation = _operation(item.change)
        key = json.dumps([operation.kind, operation.body], sort_keys=True)
        groups.setdefault(key, (operation, []))[1].append((item.seq, device_id))
    submitted = []
    for operation, members in groups.values():
        seq_by_id = {device_id: seq for seq, device_id in members}
        for batch in operation.batches(device_id for _, device_id in members):
            seqs = tuple(seq_by_id[d] for d in batch)
            try:
                operation_id = client.submit_device_patch(batch, operation.body, operation.api_version)
            except (BadRequestError, WriteOutcomeUnknownError) as exc:
                status = j.FAILED if isinstance(exc, BadRequestError) else j.UNKNOWN
                for seq in seqs:
                    j.mark_outcome(conn, run_id, seq, status, error_message=str(exc))
                progress.done += len(seqs)
                progress.failed += len(seqs)
                continue
            j.mark_submitted(conn, run_id, seqs, operation_id)
            submitted.append(_Submitted(operation_id, seqs, batch))
    return submitted


def _collect(
    client: GreenLakeClient,
    conn: psycopg.Connection,
    run_id: UUID,
    submitted: list[_Submitted],
    progress: Progress,
    device_ids: dict[str, str],
    on_progress: Callable[[], None] | None = None,
) -> None:
    """Wait for each submitted operation and journal every device's outcome."""
    for item in submitted:
        try:
            reading: AsyncOperationResult | None = client.wait_for_operation(item.operation_id)
        except GreenLakeError as exc:  # accepted, but its outcome is not known (timed out, forgotten)
            reading = None
            for seq in item.seqs:
                j.mark_outcome(conn, run_id, seq, j.UNKNOWN, error_message=str(exc))
            progress.failed += len(item.seqs)
        if reading is not None:
            if item.new_devices:
                outcomes = add_outcomes(list(item.new_devices), reading)
                added = {o.serial_number: o.device_id for o in outcomes if o.ok and o.serial_number}
                added |= _look_up_ids(client, [s for s, i in added.items() if not i])
                device_ids.update({s: i for s, i in added.items() if i})
                j.set_device_ids(conn, run_id, {s: i for s, i in added.items() if i})
            else:
                outcomes = patch_outcomes(list(item.keys), reading)
            for seq, outcome in zip(item.seqs, outcomes, strict=True):
                status = {"succeeded": j.SUCCEEDED, "failed": j.FAILED}.get(outcome.status, j.UNKNOWN)
                j.mark_outcome(
                    conn,
                    run_id,
                    seq,
                    status,
                    device_id=outcome.device_id,
                    error_code=outcome.error_code,
                    error_message=outcome.message,
                )
                progress.failed += status != j.SUCCEEDED
        progress.done += len(item.seqs)
        if on_progress is not None:
            on_progress()


def _look_up_ids(client: GreenLakeClient, serials: list[str]) -> dict[str, str]:
    """Ids of just-added devices GreenLake's answer did not carry, read back by serial number."""
    found: dict[str, str] = {}
    for start in range(0, len(serials), 50):
        chunk = serials[start : start + 50]
        quoted = ", ".join("'" + s.replace("'", "''") + "'" for s in chunk)
        for page in client.list_devices(filter=f"serialNumber in ({quoted})"):
            for device in page.items:
                found[str(device.get("serialNumber", "")).upper()] = device["id"]
    return {s: found[s.upper()] for s in serials if s.upper() in found}


def _operation(change: p.Change) -> DeviceOperation:
    after = change.after
    if change.kind == p.APPLICATION:
        return DeviceOperation.assign_application(after["application_id"], after["region"])
    if change.kind == p.UNASSIGN:
        return DeviceOperation.unassign_application()
    if change.kind == p.SUBSCRIPTION:
        return DeviceOperation.apply_subscription(after["id"])
    if change.kind == p.REMOVE_SUBSCRIPTION:
        return DeviceOperation.remove_subscription()
    if change.kind == p.TAGS:
        return DeviceOperation.update_tags(after)
    if change.kind == p.ARCHIVE:
        return DeviceOperation.archive()
    if change.kind == p.UNARCHIVE:
        return DeviceOperation.unarchive()
    raise ValueError(f"no GreenLake operation for a {change.kind!r} change")


def _new_device(change: p.Change) -> NewDevice:
    after = change.after
    return NewDevice(
        serial_number=after["serialNumber"],
        category=after["kind"],
        mac_address=after.get("macAddress"),
        part_number=after.get("partNumber"),
    )
