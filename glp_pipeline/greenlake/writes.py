"""Device writes as data: operations, their request bodies, batches, and what an async operation reports.

Pure (no HTTP): the client methods of `write_client.py` send what is built here. Rules followed
(greenlake-api.md B.5-B.7):

- one operation per PATCH, one operation class per call: application + region; subscription; tags; archive.
  `DeviceOperation` holds exactly one, and `check_patch_body` refuses a body mixing classes before it is sent;
- ids per PATCH: v1 5, v2beta1 25. Application, subscription, tags and archive go through v2beta1 (25) by
  default; tags and archive exist only there. Adds go through POST /devices/v1/devices, 5 devices per call;
- an application is assigned with its region; `{"application": {"id": null}, "region": null}` unassigns;
  `{"subscription": [{"id": ...}]}` applies, `[]` removes; tags are merged, `None` deletes a tag;
- async operations end in SUCCEEDED, FAILED, TIMEOUT or TIMEDOUT; any other status (INITIALIZED, RUNNING,
  PAUSED, or one GreenLake adds later) is not terminal and is kept as the data it is.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

PATCH_MAX_IDS: Mapping[str, int] = {"v1": 5, "v2beta1": 25}
ADD_MAX_DEVICES = 5
TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMEOUT", "TIMEDOUT"})
TAG_PUNCTUATION = frozenset(" _.:=+-@")
TAG_KEY_MAX, TAG_VALUE_MAX = 128, 256

ApiVersion = Literal["v1", "v2beta1"]
OutcomeStatus = Literal["succeeded", "failed", "unknown", "not_submitted"]
Category = Literal["NETWORK", "COMPUTE", "STORAGE"]


class OperationKind(enum.StrEnum):
    ASSIGN_APPLICATION = "assign_application"
    UNASSIGN_APPLICATION = "unassign_application"
    APPLY_SUBSCRIPTION = "apply_subscription"
    REMOVE_SUBSCRIPTION = "remove_subscription"
    UPDATE_TAGS = "update_tags"
    ARCHIVE = "archive"
    UNARCHIVE = "unarchive"


# --- bodies -----------------------------------------------------------------------------------------


def assign_application_body(application_id: str, region: str) -> dict[str, Any]:
    """`{"application": {"id": ...}, "region": ...}`: an application always goes with its region."""
    if not application_id or not region:
        raise ValueError(
            "assigning an application needs both the application (service manager) id and region"
        )
    return {"application": {"id": application_id}, "region": region}


def unassign_application_body() -> dict[str, Any]:
    return {"application": {"id": None}, "region": None}


def apply_subscription_body(subscription_id: str) -> dict[str, Any]:
    if not subscription_id:
        raise ValueError("applying a subscription needs its id")
    return {"subscription": [{"id": subscription_id}]}


def remove_subscription_body() -> dict[str, Any]:
    return {"subscription": []}


def tags_body(tags: Mapping[str, str | None]) -> dict[str, Any]:
    """`{"tags": {...}}`: a value adds or updates a tag, None deletes it. Checked as GreenLake checks it."""
    check_tags(tags)
    return {"tags": dict(tags)}


def archive_body(archived: bool = True) -> dict[str, Any]:
    return {"archived": bool(archived)}


def check_tags(tags: Mapping[str, str | None]) -> None:
    """ValueError for what GreenLake would refuse: key 1-128, value 0-256 characters (or None to delete),
    letters, digits, spaces and `_ . : = + - @` only, keys unique ignoring case."""
    if not tags:
        raise ValueError("a tag update needs at least one tag")
    seen: dict[str, str] = {}
    for key, value in tags.items():
        if not isinstance(key, str) or not 1 <= len(key) <= TAG_KEY_MAX or not _tag_text(key):
            raise ValueError(f"tag key {key!r}: 1-{TAG_KEY_MAX} letters, digits, spaces or _ . : = + - @")
        if key.lower() in seen:
            raise ValueError(f"tag keys {seen[key.lower()]!r} and {key!r} differ only in case")
        seen[key.lower()] = key
        if value is not None and (
            not isinstance(value, str) or len(value) > TAG_VALUE_MAX or not _tag_text(value)
        ):
            raise ValueError(
                f"tag {key!r}: the value must be 0-{TAG_VALUE_MAX} letters, digits, spaces or "
                "_ . : = + - @, or None to delete the tag"
            )


def _tag_text(text: str) -> bool:
    return all(ch.isalnum() or ch in TAG_PUNCTUATION for ch in text)


def patch_classes(body: Mapping[str, Any]) -> set[str]:
    """The operation classes a PATCH body touches: application, subscription, tags, archive, other."""
    names = {"application": "application", "region": "application", "subscription": "subscription",
             "tags": "tags", "archived": "archive"}  # fmt: skip
    return {names.get(key, "other") for key in body}


def check_patch_body(body: Mapping[str, Any], api_version: str) -> None:
    """ValueError for a body GreenLake would refuse for mixing operation classes (B.6)."""
    if api_version not in PATCH_MAX_IDS:
        raise ValueError(f"api_version must be one of {sorted(PATCH_MAX_IDS)}, not {api_version!r}")
    classes = patch_classes(body)
    if not classes:
        raise ValueError("an empty PATCH body changes nothing")
    if api_version == "v1":
        if classes & {"tags", "archive"}:
            raise ValueError("tags and archive exist only in PATCH /devices/v2beta1/devices")
        if len(classes) > 1:
            raise ValueError(f"PATCH /devices/v1/devices takes one operation per call, got {sorted(classes)}")
        return
    if len(classes) > 1 and classes & {"subscription", "archive"}:
        raise ValueError(
            f"subscription and archive operations must each be sent alone, got {sorted(classes)}"
        )


# --- operations and batches -------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceOperation:
    """One operation to apply to many devices. Build it with the class methods; the body is not mutated."""

    kind: OperationKind
    body: Mapping[str, Any]
    api_version: ApiVersion = "v2beta1"

    def __post_init__(self) -> None:
        check_patch_body(self.body, self.api_version)

    @classmethod
    def assign_application(
        cls, application_id: str, region: str, *, api_version: ApiVersion = "v2beta1"
    ) -> DeviceOperation:
        return cls(
            OperationKind.ASSIGN_APPLICATION, assign_application_body(application_id, region), api_version
        )

    @classmethod
    def unassign_application(cls, *, api_version: ApiVersion = "v2beta1") -> DeviceOperation:
        return cls(OperationKind.UNASSIGN_APPLICATION, unassign_application_body(), api_version)

    @classmethod
    def apply_subscription(
        cls, subscription_id: str, *, api_version: ApiVersion = "v2beta1"
    ) -> DeviceOperation:
        return cls(OperationKind.APPLY_SUBSCRIPTION, apply_subscription_body(subscription_id), api_version)

    @classmethod
    def remove_subscription(cls, *, api_version: ApiVersion = "v2beta1") -> DeviceOperation:
        return cls(OperationKind.REMOVE_SUBSCRIPTION, remove_subscription_body(), api_version)

    @classmethod
    def update_tags(cls, tags: Mapping[str, str | None]) -> DeviceOperation:
        return cls(OperationKind.UPDATE_TAGS, tags_body(tags), "v2beta1")

    @classmethod
    def archive(cls) -> DeviceOperation:
        return cls(OperationKind.ARCHIVE, archive_body(True), "v2beta1")

    @classmethod
    def unarchive(cls) -> DeviceOperation:
        return cls(OperationKind.UNARCHIVE, archive_body(False), "v2beta1")

    @property
    def max_ids(self) -> int:
        """Device ids per PATCH for this operation's API version (v1 5, v2beta1 25)."""
        return PATCH_MAX_IDS[self.api_version]

    def batches(self, ids: Iterable[str]) -> list[tuple[str, ...]]:
        return plan_batches(ids, self.max_ids)


def plan_batches(ids: Iterable[str], max_per_call: int | str = "v2beta1") -> list[tuple[str, ...]]:
    """Split device ids into PATCH batches: unique (first occurrence kept, in order), at most the per-call
    limit each. `max_per_call` is a number or an API version ("v1" → 5, "v2beta1" → 25)."""
    size = PATCH_MAX_IDS[max_per_call] if isinstance(max_per_call, str) else max_per_call
    if size < 1:
        raise ValueError("a batch holds at least one id")
    unique: list[str] = []
    seen: set[str] = set()
    for device_id in ids:
        if not isinstance(device_id, str) or not device_id.strip():
            raise ValueError(f"device ids must be non-empty strings, got {device_id!r}")
        if device_id not in seen:
            seen.add(device_id)
            unique.append(device_id)
    return [tuple(unique[start : start + size]) for start in range(0, len(unique), size)]


@dataclass(frozen=True)
class NewDevice:
    """A device to add (claim): network devices need a MAC address, compute and storage a part number."""

    serial_number: str
    category: Category
    mac_address: str | None = None
    part_number: str | None = None
    tags: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        if not self.serial_number or not self.serial_number.strip():
            raise ValueError("a device to add needs its serial number")
        if self.category not in ("NETWORK", "COMPUTE", "STORAGE"):
            raise ValueError(f"category must be NETWORK, COMPUTE or STORAGE, not {self.category!r}")
        if self.category == "NETWORK" and not self.mac_address:
            raise ValueError(f"network device {self.serial_number}: the MAC address is required")
        if self.category != "NETWORK" and not self.part_number:
            raise ValueError(
                f"{self.category.lower()} device {self.serial_number}: the part number is required"
            )
        if self.tags:
            if any(value is None for value in self.tags.values()):
                raise ValueError(f"device {self.serial_number}: a new device's tags cannot be None")
            check_tags(self.tags)

    def as_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"serialNumber": self.serial_number}
        if self.category == "NETWORK":
            entry["macAddress"] = self.mac_address
        else:
            entry["partNumber"] = self.part_number
        if self.tags:
            entry["tags"] = dict(self.tags)
        return entry


def add_devices_body(devices: Sequence[NewDevice]) -> dict[str, list[dict[str, Any]]]:
    """The POST /devices/v1/devices body: all three arrays present, at most 5 devices in all."""
    if not devices:
        raise ValueError("no device to add")
    if len(devices) > ADD_MAX_DEVICES:
        raise ValueError(f"at most {ADD_MAX_DEVICES} devices per add request, got {len(devices)}")
    serials = [device.serial_number.upper() for device in devices]
    if len(set(serials)) != len(serials):
        raise ValueError("a serial number appears twice in one add request")
    body: dict[str, list[dict[str, Any]]] = {"network": [], "compute": [], "storage": []}
    for device in devices:
        body[device.category.lower()].append(device.as_json())
    return body


def plan_add_batches(devices: Iterable[NewDevice]) -> list[tuple[NewDevice, ...]]:
    """Adds in batches of at most 5; a serial number listed twice is kept once (first occurrence)."""
    unique: list[NewDevice] = []
    seen: set[str] = set()
    for device in devices:
        if device.serial_number.upper() not in seen:
            seen.add(device.serial_number.upper())
            unique.append(device)
    return [tuple(unique[i : i + ADD_MAX_DEVICES]) for i in range(0, len(unique), ADD_MAX_DEVICES)]


# --- what comes back ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceFailure:
    """One device an async operation reports as failed (by id, by serial number, or both)."""

    id: str | None
    serial_number: str | None
    error_code: str | None
    message: str | None


@dataclass(frozen=True)
class AsyncOperationResult:
    """One reading of GET .../async-operations/{id}.

    Per-device outcomes come from `result.succeededDevices[{id}]`, `result.failedDevices[{id, serialNumber,
    errorCode, message}]` and the captured `result.failedDevicesSerial[serial]` shape of failed adds.
    `raw` is the JSON as GreenLake sent it.
    """

    id: str
    status: str
    progress_percent: int | None
    suggested_polling_seconds: float | None
    result_type: str | None
    succeeded_ids: tuple[str, ...]
    succeeded_serials: tuple[str, ...]
    failures: tuple[DeviceFailure, ...]
    reports_devices: bool  # the result lists per-device success (succeededDevices present)
    started_at: str | None
    ended_at: str | None
    raw: Mapping[str, Any] = field(repr=False)

    @property
    def terminal(self) -> bool:
        return self.status.upper() in TERMINAL_STATUSES

    @property
    def succeeded(self) -> bool:
        return self.status.upper() == "SUCCEEDED"

    @property
    def failed_serials(self) -> tuple[str, ...]:
        return tuple(f.serial_number for f in self.failures if f.serial_number)

    @classmethod
    def from_json(cls, operation_id: str, body: Mapping[str, Any]) -> AsyncOperationResult:
        result = body.get("result") if isinstance(body.get("result"), dict) else {}
        succeeded = [item for item in _list(result.get("succeededDevices")) if isinstance(item, dict)]
        failures = [
            DeviceFailure(
                _str(item.get("id")),
                _str(item.get("serialNumber")),
                _str(item.get("errorCode")),
                _str(item.get("message")),
            )
            for item in _list(result.get("failedDevices"))
            if isinstance(item, dict)
        ]
        reported = {f.serial_number.upper() for f in failures if f.serial_number}
        for serial in _list(result.get("failedDevicesSerial")):
            if isinstance(serial, str) and serial.upper() not in reported:
                failures.append(DeviceFailure(None, serial, None, None))
        return cls(
            id=_str(body.get("id")) or operation_id,
            status=str(body.get("status") or "UNKNOWN"),
            progress_percent=_int(body.get("progressPercent")),
            suggested_polling_seconds=_float(body.get("suggestedPollingIntervalSeconds")),
            result_type=_str(body.get("resultType")),
            succeeded_ids=tuple(s for item in succeeded if (s := _str(item.get("id")))),
            succeeded_serials=tuple(s for item in succeeded if (s := _str(item.get("serialNumber")))),
            failures=tuple(failures),
            reports_devices="succeededDevices" in result,
            started_at=_str(body.get("startedAt")),
            ended_at=_str(body.get("endedAt")),
            raw=dict(body),
        )


@dataclass(frozen=True)
class DeviceOutcome:
    """What happened to one device of `apply_device_operation` / `add_devices`.

    status: `succeeded`; `failed` (GreenLake refused it: `error_code`/`message` say why); `unknown` (sent, but
    the outcome was not learned: the operation timed out, or the answer was lost; re-read the device);
    `not_submitted` (never sent, e.g. the circuit breaker was open: safe to send again).
    """

    device_id: str | None
    serial_number: str | None
    status: OutcomeStatus
    operation_id: str | None = None
    error_code: str | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


def patch_outcomes(ids: Sequence[str], op: AsyncOperationResult) -> list[DeviceOutcome]:
    """One outcome per device id of a PATCH batch from its terminal operation."""
    by_id = {f.id: f for f in op.failures if f.id}
    succeeded = set(op.succeeded_ids)
    status = op.status.upper()
    outcomes = []
    for device_id in ids:
        failure = by_id.get(device_id)
        if device_id in succeeded:
            outcomes.append(DeviceOutcome(device_id, None, "succeeded", op.id))
        elif failure is not None:
            outcomes.append(
                DeviceOutcome(
                    device_id, failure.serial_number, "failed", op.id, failure.error_code, failure.message
                )
            )
        elif status == "FAILED":
            outcomes.append(
                DeviceOutcome(device_id, None, "failed", op.id, None, "the async operation FAILED")
            )
        elif status == "SUCCEEDED" and not op.reports_devices and not op.failures:
            outcomes.append(DeviceOutcome(device_id, None, "succeeded", op.id))
        else:
            why = f"the async operation ended {op.status} without a result for this device"
            outcomes.append(DeviceOutcome(device_id, None, "unknown", op.id, None, why))
    return outcomes


def add_outcomes(devices: Sequence[NewDevice], op: AsyncOperationResult) -> list[DeviceOutcome]:
    """One outcome per device of an add batch, matched on serial number (ignoring case)."""
    failed = {f.serial_number.upper(): f for f in op.failures if f.serial_number}
    ids_by_serial: dict[str, str | None] = {}
    for item in _list((op.raw.get("result") or {}).get("succeededDevices")):
        if isinstance(item, dict) and isinstance(item.get("serialNumber"), str):
            ids_by_serial[item["serialNumber"].upper()] = _str(item.get("id"))
    status = op.status.upper()
    outcomes = []
    for device in devices:
        serial = device.serial_number
        failure = failed.get(serial.upper())
        if serial.upper() in ids_by_serial:
            outcomes.append(DeviceOutcome(ids_by_serial[serial.upper()], serial, "succeeded", op.id))
        elif failure is not None:
            message = failure.message or "GreenLake did not add it (already claimed, or in another workspace)"
            outcomes.append(DeviceOutcome(failure.id, serial, "failed", op.id, failure.error_code, message))
        elif status == "FAILED":
            outcomes.append(DeviceOutcome(None, serial, "failed", op.id, None, "the async operation FAILED"))
        elif status == "SUCCEEDED" and not op.reports_devices:
            outcomes.append(DeviceOutcome(None, serial, "succeeded", op.id))
        else:
            why = f"the async operation ended {op.status} without a result for this device"
            outcomes.append(DeviceOutcome(None, serial, "unknown", op.id, None, why))
    return outcomes


# --- service catalog ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceManager:
    """An application devices can be assigned to (`application.id`), with the regions it is deployed in."""

    id: str
    name: str
    regions: tuple[str, ...]
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def serves(self, region: str) -> bool:
        return region in self.regions


def combine_service_managers(
    managers: Iterable[Mapping[str, Any]], per_region: Iterable[Mapping[str, Any]]
) -> list[ServiceManager]:
    """Managers (GET service-managers) with their regions (GET per-region-service-managers).

    A per-region item is `{id: <region>, regionName, serviceManagers: [{id, name, ...}]}` (documented for
    v1beta1); `{region, serviceManagers}` is read too. Managers known only per region are included.
    """
    raw: dict[str, Mapping[str, Any]] = {}
    for manager in managers:
        if isinstance(manager.get("id"), str):
            raw[manager["id"]] = manager
    regions: dict[str, set[str]] = {}
    for item in per_region:
        region = item.get("id") if isinstance(item.get("id"), str) else item.get("region")
        if not isinstance(region, str):
            continue
        for manager in _list(item.get("serviceManagers")):
            if isinstance(manager, dict) and isinstance(manager.get("id"), str):
                raw.setdefault(manager["id"], manager)
                regions.setdefault(manager["id"], set()).add(region)
    return [
        ServiceManager(
            manager_id,
            str(manager.get("name") or manager_id),
            tuple(sorted(regions.get(manager_id, ()))),
            manager,
        )
        for manager_id, manager in raw.items()
    ]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
