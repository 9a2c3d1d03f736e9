"""The simulated service catalog: the applications (service managers) devices are assigned to, and the
regions each one serves (greenlake-api.md B.6; GLP-SVCCAT).

The managers are the very applications the generated devices already carry (`data.py`, one per device
category), so `application.id` of every device is a manager here and every region a generated device sits in
is served by its manager. A few managers serve extra documented regions, and none serves them all, so "region
not served by that application" can happen.

Shapes are inferred, not captured: `GET /service-catalog/v1/service-managers` and
`GET /service-catalog/v1/per-region-service-managers` answer the usual `{items, count, offset, total}`
envelope; a manager carries the fields of the documented `serviceManagers[]` objects of the v1beta1
per-region page (`id, type, name, description, resourceUri, standaloneSupported, mspSupported, ...`), and a
per-region item is `{id: <region code>, regionName, serviceManagers: [...]}` as that page documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .catalog import REGIONS
from .data import iso_ms

REGION_NAMES = {
    "ap-ausnz": "AP AusNZ", "ap-east": "AP East", "ap-northeast": "AP Northeast", "ap-south": "AP South",
    "ap-southeast": "AP Southeast", "ca-central": "Canada Central", "ca-east": "Canada East",
    "cn-east": "China East", "cn-north": "China North", "eu-central": "EU Central", "eu-north": "EU North",
    "eu-west": "EU West", "mea": "Middle East and Africa", "sa-east": "South America East",
    "us-central": "US Central", "us-east": "US East", "us-gov": "US Government", "us-west": "US West",
}  # fmt: skip

# Per device category (data.SERVICE_CATEGORIES): name, description, regions beyond the generated ones.
_MANAGERS: dict[str | None, tuple[str, str, tuple[str, ...]]] = {
    "NETWORK": ("HPE Aruba Networking Central", "Network management", ("ap-south", "sa-east", "eu-north")),
    "COMPUTE": ("HPE Compute Ops Management", "Server management", ("us-gov", "ap-south")),
    "STORAGE": ("HPE Data Services Cloud Console", "Storage management", ("eu-north",)),
    None: ("HPE OpsRamp", "IT operations management", ()),
}


@dataclass(frozen=True)
class ServiceManager:
    """One application devices can be assigned to, with the regions it is deployed in."""

    id: str
    name: str
    description: str
    category: str | None  # the device category whose generated devices carry it
    regions: tuple[str, ...]
    created_ms: int

    @property
    def resource_uri(self) -> str:
        return f"/service-catalog/v1/service-managers/{self.id}"

    def as_json(self) -> dict[str, Any]:
        stamp = iso_ms(self.created_ms)
        return {
            "id": self.id, "type": "service-catalog/service-manager", "name": self.name,
            "description": self.description, "resourceUri": self.resource_uri,
            "standaloneSupported": True, "mspSupported": self.category == "NETWORK",
            "mspOnlySupported": False, "tenantOnlySupported": False, "honorUnprovisionResponse": True,
            "workspaceTransferSupported": False, "createdAt": stamp, "updatedAt": stamp, "generation": 1,
        }  # fmt: skip


class ServiceCatalog:
    """The managers of one simulated workspace (read-only)."""

    def __init__(self, applications: dict[str | None, dict[str, Any]], now_ms: int) -> None:
        self.managers: list[ServiceManager] = []
        for category, application in applications.items():
            name, description, extra = _MANAGERS.get(category, (f"Service {category}", "Service", ()))
            regions = tuple(sorted({*REGIONS, *extra}))
            created = now_ms - 900 * 86_400_000
            self.managers.append(
                ServiceManager(application["id"], name, description, category, regions, created)
            )
        self._by_id = {manager.id: manager for manager in self.managers}

    def get(self, manager_id: str | None) -> ServiceManager | None:
        return self._by_id.get(manager_id or "")

    def managers_json(self) -> list[dict[str, Any]]:
        return [manager.as_json() for manager in self.managers]

    def per_region_json(self) -> list[dict[str, Any]]:
        """One item per region some manager serves, in region-code order."""
        regions = sorted({region for manager in self.managers for region in manager.regions})
        return [
            {
                "id": region,
                "type": "service-catalog/per-region-service-manager",
                "regionName": REGION_NAMES.get(region, region),
                "serviceManagers": [m.as_json() for m in self.managers if region in m.regions],
            }
            for region in regions
        ]
