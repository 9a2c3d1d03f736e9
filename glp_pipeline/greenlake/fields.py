"""The documented fields of GreenLake's device and subscription objects, in the order the API sends them,
with their JSON types (greenlake-api.md B.3 and C.3).

One home for the object model: the simulator serves exactly these fields, and the raw load declares a
column for each, so a field that is null in every object of a load still has its column.
"""

from __future__ import annotations

from typing import Literal

FieldType = Literal["string", "timestamp", "boolean", "object", "array"]

DEVICE_FIELDS: dict[str, FieldType] = {
    "id": "string",
    "type": "string",
    "serialNumber": "string",
    "partNumber": "string",
    "macAddress": "string",
    "deviceType": "string",
    "category": "string",
    "model": "string",
    "region": "string",
    "deviceName": "string",
    "secondaryName": "string",
    "assignedState": "string",
    "archived": "boolean",
    "application": "object",
    "subscription": "array",
    "tags": "object",
    "location": "object",
    "dedicatedPlatformWorkspace": "object",
    "tenantWorkspaceId": "string",
    "inUseWorkspace": "object",
    "management": "string",
    "ownership": "string",
    "source": "string",
    "make": "string",
    "manufacturedDate": "timestamp",
    "isFlex": "boolean",
    "billingAccountId": "string",
    "billingAccountName": "string",
    "billingTier": "string",
    "subscriptionCategory": "string",
    "warranty": "object",
    "contact": "object",
    "createdAt": "timestamp",
    "updatedAt": "timestamp",
}

SUBSCRIPTION_FIELDS: dict[str, FieldType] = {
    "id": "string",
    "type": "string",
    "key": "string",
    "subscriptionType": "string",
    "subscriptionStatus": "string",
    "quantity": "string",  # a number sent as a string, e.g. "20"
    "availableQuantity": "string",
    "sku": "string",
    "skuDescription": "string",
    "startTime": "timestamp",
    "endTime": "timestamp",
    "tier": "string",
    "tierDescription": "string",
    "productType": "string",
    "isEval": "boolean",
    "contract": "string",
    "quote": "string",
    "po": "string",
    "resellerPo": "string",
    "tags": "object",
    "createdAt": "timestamp",
    "updatedAt": "timestamp",
}
