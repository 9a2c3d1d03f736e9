"""Validation of the write requests (greenlake-api.md B.5, B.6, C.4): what GreenLake refuses synchronously.

Pure functions from a parsed request to a plan (`DevicePatch`, `NewDevice`s, a tag update) or an `ApiError`
with GLP's 400 envelope. What depends on the state of a device or a subscription (unknown ids, exhausted
subscriptions, tag-key clashes with tags the device already has) is not decided here: the async operation
reports it per device (store.py).

Rules, as documented (B.6):
- v1 accepts `application`, `region`, `subscription`, `tenantPlatformCustomerId`, and one operation per call;
- v2beta1 adds `tags`, `archived`, `tenantWorkspaceId`, `location`, `contact`, `warranty/currentSupportLevel`;
  device operations (application + region, tags) combine, `subscription` stands alone, `archived` stands
  alone;
- an application needs its region; `{"application": {"id": null}, "region": null}` (region may be left
  out) unassigns;
- tag keys 1-128 characters, values 0-256 or null (null deletes), letters, digits, spaces and `_ . : = + - @`
  only, keys unique case-insensitively within the request.
The documented fields the simulator does not model (tenant, location, contact, warranty) are refused with a
400 that says so, rather than accepted and ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .config import SimulatorConfig
from .errors import ApiError, bad_request

UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
INTEGER = re.compile(r"^[+-]?\d+$")
TAG_PUNCTUATION = frozenset(" _.:=+-@")
TAG_KEY_MAX, TAG_VALUE_MAX = 128, 256

_V1_FIELDS = frozenset({"application", "region", "subscription", "tenantPlatformCustomerId"})
_V2_FIELDS = frozenset(
    {"application", "region", "subscription", "tags", "archived", "tenantWorkspaceId", "location", "contact",
     "warranty/currentSupportLevel"}
)  # fmt: skip
_NOT_SIMULATED = frozenset(
    {"tenantPlatformCustomerId", "tenantWorkspaceId", "location", "contact", "warranty/currentSupportLevel"}
)
CATEGORIES = ("network", "compute", "storage")


@dataclass(frozen=True)
class DevicePatch:
    """One validated device PATCH: which parts of a device it sets (None: left alone)."""

    version: str  # "v1" | "v2beta1"
    assign: bool = False  # application (and region) are set; application_id None = unassign
    application_id: str | None = None
    region: str | None = None
    subscription_ids: tuple[str, ...] | None = None  # () removes every subscription
    tags: Mapping[str, str | None] | None = None
    archived: bool | None = None

    @property
    def result_type(self) -> str:
        return "PatchDeviceResponseV2" if self.version == "v2beta1" else "PatchDeviceResponse"


@dataclass(frozen=True)
class NewDevice:
    """One device of a POST (add/claim)."""

    category: str  # NETWORK | COMPUTE | STORAGE
    serial_number: str
    mac_address: str | None
    part_number: str | None
    tags: dict[str, str] | None


def non_negative(raw: str | None, default: int, name: str) -> int:
    """An integer query parameter >= 0 (`offset`, `limit`), or a 400 naming it."""
    if raw is None:
        return default
    if not INTEGER.match(raw.strip()):
        raise bad_request(f"{name} must be an integer, got {raw!r}", "query.parameter", name)
    value = int(raw)
    if value < 0:
        raise bad_request(f"{name} must be >= 0, got {value}", "query.parameter", name)
    return value


def body_issue(message: str, subject: str) -> ApiError:
    return bad_request(message, "field", subject)


def patch_ids(values: list[str], maximum: int) -> list[str]:
    """The repeated `id` query parameter: required, at most `maximum`, unique UUIDs (lower-cased)."""
    if not values:
        raise bad_request(
            "the id query parameter is required (one or more device ids)", "query.parameter", "id"
        )
    if len(values) > maximum:
        raise bad_request(
            f"at most {maximum} device ids per request, got {len(values)}", "query.parameter", "id"
        )
    ids = []
    for value in values:
        if not UUID.match(value):
            raise bad_request(f"id {value!r} is not a valid UUID", "query.parameter", "id")
        ids.append(value.lower())
    if len(set(ids)) != len(ids):
        raise bad_request("device ids must be unique", "query.parameter", "id")
    return ids


def device_patch(version: str, body: Any, config: SimulatorConfig) -> DevicePatch:
    """Validate a merge-patch body of PATCH /devices/{version}/devices."""
    if not isinstance(body, dict):
        raise body_issue("the body must be a JSON object", "body")
    if not body:
        raise body_issue("the body names no operation", "body")
    allowed = _V2_FIELDS if version == "v2beta1" else _V1_FIELDS
    for name in body:
        if name not in allowed:
            raise body_issue(f"unknown field {name!r} for PATCH /devices/{version}/devices", name)
        if name in _NOT_SIMULATED:
            raise body_issue(
                f"field {name!r} is documented but not modelled by the GreenLake simulator", name
            )
    _one_class(version, set(body), config)
    values: dict[str, Any] = {"version": version}
    if "application" in body or "region" in body:
        values.update(_application(body))
    if "subscription" in body:
        values["subscription_ids"] = _subscriptions(body["subscription"])
    if "tags" in body:
        values["tags"] = tag_update(body["tags"], config, allow_null=True)
    if "archived" in body:
        if not isinstance(body["archived"], bool):
            raise body_issue("archived must be true or false", "archived")
        values["archived"] = body["archived"]
    return DevicePatch(**values)


def _one_class(version: str, names: set[str], config: SimulatorConfig) -> None:
    """One operation class per call (B.6): v1 one operation; v2beta1 device ops together, the rest alone."""
    classes = set()
    for name in names:
        classes.add({"region": "application", "tags": "device", "application": "application"}.get(name, name))
    if version == "v2beta1" and classes <= {"application", "device"}:
        return
    if len(classes) > 1:
        if version == "v1":
            why = "PATCH /devices/v1/devices takes one operation per call (application or subscription)"
        elif "archived" in classes:
            why = "archived cannot be combined with any other device operation"
        else:
            why = "subscription operations cannot be combined with device operations"
        listed = ", ".join(sorted(names))
        status = config.operation_conflict_status
        issue = {"source": "body", "subject": listed, "description": why}
        raise ApiError(
            status, f"{why} (got {listed})", [{"type": "hpe.greenlake.bad_request", "issues": [issue]}]
        )


def _application(body: dict[str, Any]) -> dict[str, Any]:
    if "application" not in body:
        raise body_issue("region is set together with application {id}", "region")
    application = body["application"]
    if not isinstance(application, dict) or "id" not in application:
        raise body_issue("application must be an object {id}", "application")
    app_id, region = application["id"], body.get("region")
    if app_id is None:
        if region is not None:
            raise body_issue("unassigning (application id null) takes region null", "region")
        return {"assign": True, "application_id": None, "region": None}
    if not isinstance(app_id, str) or not app_id.strip():
        raise body_issue("application.id must be a string or null", "application")
    if not isinstance(region, str) or not region.strip():
        raise body_issue("an application is assigned together with its region", "region")
    return {"assign": True, "application_id": app_id.lower(), "region": region}


def _subscriptions(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise body_issue("subscription must be an array of {id} ([] removes)", "subscription")
    ids = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not UUID.match(item["id"]):
            raise body_issue("each subscription entry must be {id: <uuid>}", "subscription")
        ids.append(item["id"].lower())
    if len(set(ids)) != len(ids):
        raise body_issue("subscription ids must be unique", "subscription")
    return tuple(ids)


def tag_text_ok(text: str) -> bool:
    return all(ch.isalnum() or ch in TAG_PUNCTUATION for ch in text)


def tag_update(value: Any, config: SimulatorConfig, *, allow_null: bool) -> dict[str, str | None]:
    """A `tags` object: checked keys and values; null (deletion) only where allowed."""
    if not isinstance(value, dict):
        raise body_issue("tags must be an object {key: value}", "tags")
    if len(value) > config.tags_max_per_request:
        raise body_issue(f"at most {config.tags_max_per_request} tags per request, got {len(value)}", "tags")
    seen: dict[str, str] = {}
    for key, tag_value in value.items():
        if not 1 <= len(key) <= TAG_KEY_MAX or not tag_text_ok(key):
            raise body_issue(
                f"tag key {key!r} must be 1-{TAG_KEY_MAX} letters, digits, spaces or _ . : = + - @", "tags"
            )
        if key.lower() in seen:
            raise body_issue(f"tag keys {seen[key.lower()]!r} and {key!r} differ only in case", "tags")
        seen[key.lower()] = key
        if tag_value is None:
            if not allow_null:
                raise body_issue(f"tag {key!r}: a new device's tag values cannot be null", "tags")
            continue
        if not isinstance(tag_value, str) or len(tag_value) > TAG_VALUE_MAX or not tag_text_ok(tag_value):
            raise body_issue(
                f"tag {key!r}: the value must be a string of 0-{TAG_VALUE_MAX} letters, digits, spaces "
                "or _ . : = + - @ (or null to delete)",
                "tags",
            )
    return dict(value)


def devices_add(body: Any, config: SimulatorConfig) -> list[NewDevice]:
    """The body of POST /devices/v1/devices: all three arrays required, at most `add_max_devices` in all."""
    if not isinstance(body, dict):
        raise body_issue("the body must be a JSON object {network, compute, storage}", "body")
    devices: list[NewDevice] = []
    for category in CATEGORIES:
        if not isinstance(body.get(category), list):
            raise body_issue(f"{category} is required: an array (send [] when unused)", category)
        for entry in body[category]:
            devices.append(_new_device(category.upper(), entry, config))
    return _checked_batch(devices, config)


def device_add_v2(body: Any, config: SimulatorConfig) -> list[NewDevice]:
    """The body of POST /devices/v2beta1/devices: one device with its `deviceType` (category)."""
    if not isinstance(body, dict):
        raise body_issue("the body must be a JSON object", "body")
    category = body.get("deviceType")
    if category not in ("NETWORK", "COMPUTE", "STORAGE"):
        raise body_issue("deviceType must be one of NETWORK, COMPUTE, STORAGE", "deviceType")
    for name in ("location", "contact"):
        if body.get(name) is not None:
            raise body_issue(
                f"field {name!r} is documented but not modelled by the GreenLake simulator", name
            )
    entry = {k: v for k, v in body.items() if k not in ("deviceType", "location", "contact")}
    return _checked_batch([_new_device(category, entry, config)], config)


def _new_device(category: str, entry: Any, config: SimulatorConfig) -> NewDevice:
    if not isinstance(entry, dict):
        raise body_issue(f"each {category.lower()} entry must be an object", category.lower())
    needed = ("serialNumber", "macAddress") if category == "NETWORK" else ("serialNumber", "partNumber")
    for name in needed:
        value = entry.get(name)
        if not isinstance(value, str) or not value.strip():
            raise body_issue(f"{name} is required and must not be blank ({category.lower()} device)", name)
    tags = entry.get("tags")
    checked = tag_update(tags, config, allow_null=False) if tags is not None else None
    return NewDevice(
        category,
        entry["serialNumber"].strip(),
        _text(entry.get("macAddress")),
        _text(entry.get("partNumber")),
        checked,  # type: ignore[arg-type]  # no None values: allow_null=False
    )


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _checked_batch(devices: list[NewDevice], config: SimulatorConfig) -> list[NewDevice]:
    if not devices:
        raise body_issue("no device to add", "body")
    if len(devices) > config.add_max_devices:
        raise body_issue(
            f"at most {config.add_max_devices} devices per request (network + compute + storage), "
            f"got {len(devices)}",
            "body",
        )
    serials = [device.serial_number.upper() for device in devices]
    if len(set(serials)) != len(serials):
        raise body_issue("a serial number appears twice in the request", "serialNumber")
    return devices
