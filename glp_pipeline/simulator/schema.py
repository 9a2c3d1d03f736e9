"""Which device and subscription properties the list endpoints can filter, sort and select, and their types.

The names are the documented filter properties (greenlake-api.md B.2, C.2) plus nested paths written with `/`.
A few documented names are not top-level keys of the object (`inUseWorkspaceId`,
`currentSupportLevelEndDate`): they read into the nested object, as the real API does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from glp_pipeline.greenlake import fields as api_fields

from .odata import FieldSpec, FilterError, Kind

S, N, B, T = Kind.STRING, Kind.NUMBER, Kind.BOOLEAN, Kind.TIMESTAMP

DEVICE_FIELDS: tuple[str, ...] = tuple(api_fields.DEVICE_FIELDS)
SUBSCRIPTION_FIELDS: tuple[str, ...] = tuple(api_fields.SUBSCRIPTION_FIELDS)


def _path(*keys: str) -> Callable[[dict[str, Any]], Any]:
    """A getter that walks nested objects and yields None at the first missing level."""
    if len(keys) == 1:
        key = keys[0]
        return lambda record: record.get(key)

    def get(record: dict[str, Any]) -> Any:
        value: Any = record
        for key in keys:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    return get


def _list_of(list_key: str, key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda record: [item.get(key) for item in record.get(list_key) or ()]


def _specs(simple: dict[str, Kind], extra: list[FieldSpec]) -> dict[str, FieldSpec]:
    specs = {name: FieldSpec(name, kind, _path(*name.split("/"))) for name, kind in simple.items()}
    specs.update({spec.name: spec for spec in extra})
    return specs


DEVICE_SPECS: dict[str, FieldSpec] = _specs(
    {
        "id": S,
        "type": S,
        "serialNumber": S,
        "partNumber": S,
        "macAddress": S,
        "deviceType": S,
        "category": S,
        "model": S,
        "region": S,
        "deviceName": S,
        "secondaryName": S,
        "assignedState": S,
        "archived": B,
        "createdAt": T,
        "updatedAt": T,
        "tenantWorkspaceId": S,
        "make": S,
        "source": S,
        "ownership": S,
        "management": S,
        "isFlex": B,
        "billingAccountId": S,
        "billingAccountName": S,
        "billingTier": S,
        "manufacturedDate": T,
        "subscriptionCategory": S,
        "application/id": S,
        "application/resourceUri": S,
        "dedicatedPlatformWorkspace/id": S,
        "inUseWorkspace/id": S,
        "location/id": S,
        "location/city": S,
        "location/state": S,
        "location/country": S,
        "location/postalCode": S,
        "location/locationName": S,
        "warranty/country": S,
        "contact/type": S,
    },
    [
        FieldSpec("inUseWorkspaceId", S, _path("inUseWorkspace", "id")),
        FieldSpec("currentSupportLevelEndDate", T, _path("warranty", "currentSupportLevel", "endDate")),
        FieldSpec("subscription/id", S, _list_of("subscription", "id"), many=True),
        FieldSpec("subscription/key", S, _list_of("subscription", "key"), many=True),
        FieldSpec("subscription/tier", S, _list_of("subscription", "tier"), many=True),
        FieldSpec("subscription/endTime", T, _list_of("subscription", "endTime"), many=True),
    ],
)

SUBSCRIPTION_SPECS: dict[str, FieldSpec] = _specs(
    {
        "id": S,
        "type": S,
        "key": S,
        "subscriptionType": S,
        "subscriptionStatus": S,
        "quantity": N,
        "availableQuantity": N,
        "isEval": B,
        "sku": S,
        "skuDescription": S,
        "contract": S,
        "startTime": T,
        "endTime": T,
        "productType": S,
        "tier": S,
        "tierDescription": S,
        "quote": S,
        "po": S,
        "resellerPo": S,
        "createdAt": T,
        "updatedAt": T,
    },
    [],
)


def resolver(specs: dict[str, FieldSpec], what: str) -> Callable[[str, int], FieldSpec]:
    """A resolver for `compile_filter`/sort that names the allowed properties when it refuses one."""

    def resolve(name: str, position: int) -> FieldSpec:
        spec = specs.get(name)
        if spec is None:
            allowed = ", ".join(sorted(specs))
            raise FilterError(
                f"unknown {what} property {name!r} at position {position}; allowed: {allowed}", position
            )
        return spec

    return resolve


def tag_spec(key: str) -> FieldSpec:
    """A tag key as a string property; keys compare case-insensitively, as GLP stores them."""
    wanted = key.lower()

    def get(record: dict[str, Any]) -> Any:
        tags = record.get("tags") or {}
        if key in tags:
            return tags[key]
        for name, value in tags.items():
            if name.lower() == wanted:
                return value
        return None

    return FieldSpec(key, Kind.STRING, get)
