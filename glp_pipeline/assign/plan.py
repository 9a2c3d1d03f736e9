"""The plan: what applying a spreadsheet would change in GreenLake, device by device and operation by
operation, computed against the current inventory (the marts, as of the last sync) and the applications and
regions GreenLake offers.

A plan is pure data: building it writes nothing, and a dry run is a plan shown. Each change records the value
before and after, so a finished run can be undone by applying the inverse plan. Rows with errors produce no
changes, and any error blocks the plan from being applied; all rows are checked either way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from glp_pipeline.assign import workbook as wb
from glp_pipeline.assign.rows import ADD_KINDS, Issue, RowRequest, parse_row
from glp_pipeline.queries.assignment import devices_by_serial, subscriptions_by_key
from glp_pipeline.queries.connection import DEFAULT_CONFIG, QueryConfig

# The order operations are applied in: a device must exist before it is assigned, be unarchived before it
# is changed, have its application before its subscription (GreenLake races otherwise), and be archived last.
ADD = "add"
UNARCHIVE = "unarchive"
APPLICATION = "application"
UNASSIGN = "unassign_application"
SUBSCRIPTION = "subscription"
REMOVE_SUBSCRIPTION = "remove_subscription"
TAGS = "tags"
ARCHIVE = "archive"
ORDER = (ADD, UNARCHIVE, APPLICATION, UNASSIGN, SUBSCRIPTION, REMOVE_SUBSCRIPTION, TAGS, ARCHIVE)

# Which device types a device subscription can be applied to, by subscription type. A type not listed here
# is not checked (a warning says so); a device type outside GreenLake's documented enum likewise.
SUBSCRIPTION_DEVICE_TYPES = {
    "CENTRAL_AP": {"AP", "IAP"},
    "CENTRAL_SWITCH": {"SWITCH"},
    "CENTRAL_GW": {"GATEWAY", "SD_WAN_GW"},
    "CENTRAL_CONTROLLER": {"CONTROLLER", "MC"},
    "CENTRAL_COMPUTE": {"COMPUTE", "DHCI_COMPUTE"},
    "CENTRAL_STORAGE": {"STORAGE", "DHCI_STORAGE"},
    "UXI_SENSOR_CLOUD": {"SENSOR"},
}
DOCUMENTED_DEVICE_TYPES = {
    "ALS", "AP", "BLE", "COMPUTE", "CONTROLLER", "DHCI_COMPUTE", "DHCI_STORAGE", "EINAR", "EINR", "GATEWAY",
    "IAP", "LTE_MODEM", "MC", "STORAGE", "SWITCH", "NW_THIRD_PARTY", "PCE", "SD_WAN_GW", "OPSRAMP_SAAS",
    "SD_SAAS", "SENSOR", "BRIDGES", "UNKNOWN",
}  # fmt: skip
ENDED_STATUSES = {"ENDED", "CANCELLED", "EXPIRED", "SUSPENDED", "LOCKED"}


@dataclass(frozen=True)
class Application:
    """An application (service manager) devices can be assigned to, and the regions it serves."""

    id: str
    name: str
    regions: tuple[str, ...]


@dataclass(frozen=True)
class Change:
    """One operation on one device. `device_id` is None for a device that is added by the same run."""

    kind: str
    serial_number: str
    device_id: str | None
    before: Any
    after: Any
    row: int


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    rows: int = 0
    unchanged: list[str] = field(default_factory=list)  # serials whose row asks for nothing new
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def can_apply(self) -> bool:
        return not self.errors and bool(self.changes)

    def counts(self) -> dict[str, int]:
        """Changes per operation, in the order they are applied."""
        counted = Counter(c.kind for c in self.changes)
        return {kind: counted[kind] for kind in ORDER if counted[kind]}

    def ordered(self) -> list[Change]:
        rank = {kind: i for i, kind in enumerate(ORDER)}
        return sorted(self.changes, key=lambda c: (rank[c.kind], c.row))


@dataclass(frozen=True)
class Inventory:
    """The current state the plan is computed against (see `glp_pipeline.queries.assignment`)."""

    devices: Mapping[str, Mapping[str, Any]]  # by upper-case serial
    subscriptions: Mapping[str, Mapping[str, Any]]  # by upper-case key
    applications: tuple[Application, ...]


def load_inventory(
    url: str, sheet: wb.Sheet, applications: Iterable[Application], config: QueryConfig = DEFAULT_CONFIG
) -> Inventory:
    """The devices and subscriptions a sheet names, read through the query layer (read-only), with the
    applications GreenLake offers (from its service catalog)."""
    serials = {row.get(wb.SERIAL).strip().upper() for row in sheet.rows}
    keys = {row.get(wb.SUBSCRIPTION).strip().upper() for row in sheet.rows}
    return Inventory(
        devices=devices_by_serial(url, serials - {""}, config),
        subscriptions=subscriptions_by_key(url, keys - {"", "-"}, config),
        applications=tuple(applications),
    )


def build_plan(sheet: wb.Sheet, inventory: Inventory, *, now: datetime | None = None) -> Plan:
    """The plan for a sheet: every row checked, every effective change listed."""
    now = now or datetime.now(UTC)
    plan = Plan(rows=len(sheet.rows), notes=list(sheet.notes))
    first_row: dict[str, int] = {}
    requests: list[tuple[RowRequest, bool]] = []
    for row in sheet.rows:
        request, issues = parse_row(row)
        plan.issues += issues
        if request is None:
            continue
        if request.serial_number in first_row:
            plan.issues.append(
                Issue(row.number, wb.SERIAL, f"Serial {request.serial_number} is also in row "
                      f"{first_row[request.serial_number]}; give each device one row.")
            )  # fmt: skip
            continue
        first_row[request.serial_number] = row.number
        requests.append((request, any(i.severity == "error" for i in issues)))

    seats_taken: Counter[str] = Counter()
    for request, row_has_errors in requests:  # rows with errors are checked further, but plan nothing
        issues, changes = _plan_row(request, inventory, now, seats_taken, row_has_errors)
        plan.issues += issues
        if row_has_errors or any(i.severity == "error" for i in issues):
            for change in changes:
                if change.kind == SUBSCRIPTION:
                    seats_taken[change.after["key"].upper()] -= 1
            continue
        if changes:
            plan.changes += changes
        else:
            plan.unchanged.append(request.serial_number)
    plan.issues.sort(key=lambda i: (i.row, i.severity != "error"))
    return plan


def _plan_row(
    request: RowRequest,
    inventory: Inventory,
    now: datetime,
    seats_taken: Counter[str],
    row_has_errors: bool = False,
) -> tuple[list[Issue], list[Change]]:
    issues: list[Issue] = []
    changes: list[Change] = []
    row, serial = request.row, request.serial_number

    def error(column: str | None, message: str) -> None:
        issues.append(Issue(row, column, message))

    def warn(column: str | None, message: str) -> None:
        issues.append(Issue(row, column, message, "warning"))

    def change(kind: str, before: Any, after: Any) -> None:
        changes.append(Change(kind, serial, device_id, before, after, row))

    device = inventory.devices.get(serial)
    device_id: str | None = device["device_id"] if device else None
    device_type = (device or {}).get("device_type") or request.device_type

    if device is None:
        # A row already wrong (e.g. a malformed MAC) would only get a confusing second message here.
        added = None if row_has_errors else _plan_add(request, error)
        if added is not None:
            change(ADD, None, added)
    else:
        _check_identity(request, device, warn)
        if request.archive is False and device.get("is_archived"):
            change(UNARCHIVE, True, False)
        elif device.get("is_archived") and _changes_more_than_archive(request):
            error(wb.ARCHIVE, f"Device {serial} is archived; put 'no' in Archive to unarchive it first.")

    current_app = (device or {}).get("application_id")
    current_region = (device or {}).get("region")
    if request.application is not None:
        application = _find_application(request.application, inventory.applications, error)
        if application is not None:
            if request.region not in application.regions:
                error(
                    wb.REGION,
                    f"Application '{application.name}' is not offered in region '{request.region}' "
                    f"(it is in: {', '.join(application.regions) or 'no region'}).",
                )
            elif (application.id, request.region) != (current_app, current_region):
                before = {"application_id": current_app, "region": current_region} if current_app else None
                change(APPLICATION, before, {"application_id": application.id, "region": request.region})
    elif request.unassign_application and current_app:
        change(UNASSIGN, {"application_id": current_app, "region": current_region}, None)

    current_subscriptions = list((device or {}).get("subscriptions") or [])
    current_keys = {str(s.get("key") or "").upper() for s in current_subscriptions}
    if request.subscription_key is not None:
        subscription = inventory.subscriptions.get(request.subscription_key)
        if subscription is None or subscription.get("is_removed"):
            error(wb.SUBSCRIPTION, f"Subscription key {request.subscription_key} is not in the workspace.")
        elif request.subscription_key not in current_keys:
            problem = _subscription_problem(subscription, device_type, now, seats_taken, warn)
            if problem:
                error(wb.SUBSCRIPTION, problem)
            else:
                seats_taken[request.subscription_key] += 1
                change(
                    SUBSCRIPTION,
                    current_subscriptions or None,
                    {"id": subscription["subscription_id"], "key": subscription["subscription_key"]},
                )
    elif request.remove_subscription and current_subscriptions:
        change(REMOVE_SUBSCRIPTION, current_subscriptions, None)

    if request.tags:
        before, after = _tag_changes(request.tags, dict((device or {}).get("tags") or {}))
        if after:
            change(TAGS, before, after)

    if request.archive is True and not (device or {}).get("is_archived"):
        change(ARCHIVE, False, True)
    return issues, changes


def _plan_add(request: RowRequest, error: Any) -> dict[str, Any] | None:
    """The POST body entry for a device GreenLake does not have yet, or None (with an error) if the row
    does not say enough to add it."""
    kind = request.device_type if request.device_type in ADD_KINDS else None
    if kind is None and request.mac_address and not request.part_number:
        kind = "NETWORK"
    if kind is None:
        if request.part_number and not request.mac_address:
            error(wb.DEVICE_TYPE, f"Serial {request.serial_number} is not in the workspace: to add it, "
                  "put COMPUTE or STORAGE in Device Type (it has a Part Number).")  # fmt: skip
        else:
            error(wb.SERIAL, f"Serial {request.serial_number} is not in the workspace: to add it, give "
                  "its MAC Address (network) or Part Number and Device Type (compute, storage).")  # fmt: skip
        return None
    if kind == "NETWORK" and not request.mac_address:
        error(wb.MAC, f"Network device {request.serial_number} needs a MAC Address to be added.")
        return None
    if kind in ("COMPUTE", "STORAGE") and not request.part_number:
        error(wb.PART, f"{kind.title()} device {request.serial_number} needs a Part Number to be added.")
        return None
    entry: dict[str, Any] = {"kind": kind, "serialNumber": request.serial_number}
    if kind == "NETWORK":
        entry["macAddress"] = request.mac_address
    else:
        entry["partNumber"] = request.part_number
    return entry


def _check_identity(request: RowRequest, device: Mapping[str, Any], warn: Any) -> None:
    """The row's MAC, part number and type, when given, should match what GreenLake has."""
    mac = device.get("mac_address")
    if request.mac_address and mac and request.mac_address != mac:
        warn(wb.MAC, f"MAC {request.mac_address} differs from GreenLake's {mac}; the serial decides.")
    part = device.get("part_number")
    if request.part_number and part and request.part_number != str(part).upper():
        warn(wb.PART, f"Part number {request.part_number} differs from GreenLake's {part}.")
    kind = request.device_type
    if kind and kind not in ADD_KINDS and kind != str(device.get("device_type") or "").upper():
        warn(wb.DEVICE_TYPE, f"Device type {kind} differs from GreenLake's {device.get('device_type')}.")


def _changes_more_than_archive(request: RowRequest) -> bool:
    return bool(
        request.application
        or request.unassign_application
        or request.subscription_key
        or request.remove_subscription
        or request.tags
    )


def _find_application(text: str, applications: Iterable[Application], error: Any) -> Application | None:
    """By id, else by name (case-insensitive); an unknown one is an error listing the choices."""
    options = list(applications)
    for application in options:
        if application.id == text:
            return application
    named = [a for a in options if a.name.lower() == text.lower()]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        error(wb.APPLICATION, f"Several applications are named '{text}'; use the id of the one you mean.")
        return None
    names = ", ".join(sorted(a.name for a in options)) or "none available"
    error(wb.APPLICATION, f"Unknown application '{text}' (the workspace offers: {names}).")
    return None


def _subscription_problem(
    subscription: Mapping[str, Any], device_type: str | None, now: datetime, taken: Counter[str], warn: Any
) -> str | None:
    """Why this subscription cannot go on this device, or None."""
    key = subscription["subscription_key"]
    status = str(subscription.get("subscription_status") or "").upper()
    ends_at = subscription.get("ends_at")
    if status in ENDED_STATUSES or (ends_at is not None and ends_at <= now):
        return f"Subscription {key} has ended ({status or 'past its end date'})."
    product = str(subscription.get("product_type") or "DEVICE").upper()
    if product != "DEVICE":
        return f"Subscription {key} is a {product} subscription; only DEVICE subscriptions go on devices."
    available = subscription.get("available_quantity")
    if available is not None and taken[key.upper()] >= int(available):
        return (
            f"Subscription {key} has {int(available)} licence(s) left, used up by earlier rows of this file."
            if taken[key.upper()]
            else f"Subscription {key} has no licences left."
        )
    allowed = SUBSCRIPTION_DEVICE_TYPES.get(str(subscription.get("subscription_type") or "").upper())
    kind = (device_type or "").upper()
    if allowed is None or kind in ADD_KINDS or kind not in DOCUMENTED_DEVICE_TYPES:
        warn(wb.SUBSCRIPTION, f"Cannot check that {key} ({subscription.get('subscription_type')}) fits a "
             f"{kind or 'device of unknown type'}; GreenLake will say if it does not.")  # fmt: skip
        return None
    if kind not in allowed:
        return f"Subscription {key} is for {', '.join(sorted(allowed))} devices, not {kind}."
    return None


def _tag_changes(
    wanted: Mapping[str, str | None], current: Mapping[str, Any]
) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """(before, after) of the tags that actually change. Keys are matched without case and the existing
    key's spelling is kept (GreenLake refuses a second key that differs only in case)."""
    existing = {key.lower(): key for key in current}
    before: dict[str, str | None] = {}
    after: dict[str, str | None] = {}
    for key, value in wanted.items():
        actual = existing.get(key.lower(), key)
        old = current.get(actual)
        if actual not in current and value is None:
            continue  # removing a tag that is not there
        if actual in current and old == value:
            continue
        before[actual] = old if actual in current else None
        after[actual] = value
    return before, after
