"""dlt source `aruba`: Aruba Central devices and clients, raw, into `aruba_raw`.

Plain dlt, runnable without Dagster, built like `sources/greenlake.py`:

- One table per endpoint and mode; raw stays raw, so the two API generations are not unified here (dbt
  does that): New Central loads `devices` (every device, generic fields), `aps`, `switches`, `gateways`
  (the per-type details) and `clients`; Classic loads `classic_aps`, `classic_switches`,
  `classic_gateways` and `classic_clients` in Classic's own shapes (snake_case, `Up`/`Down`, epoch times).
- Merge (delete-insert) on the natural key: `id` in New Central (the serial, trimmed and upper-cased by
  Central; the MAC for clients), `serial` / `macaddr` in Classic.
- Each listing is read completely (the client pages to the end and raises on anything partial) and spooled
  to a temporary file before dlt sees a row, so a re-read pass never loads rows of an abandoned one and a
  failure loads nothing. Classic lists clients in three calls (wireless connected, wired connected,
  wireless failed to connect); `classic_clients` is their union, yielded only once all three are complete.
- `max_table_nesting=0`: nested objects and lists (`switchTrends`, `radios`, `labels`, ...) are `jsonb`.
  Top-level fields are declared, so a field null in every row still has its column; strings are `text`
  (times stay the exact text the API sent), counts `bigint`, measurements `double`. As in `greenlake_raw`,
  the CSV load stores an empty string (Classic sends `""` for "none", e.g. `swarm_id`) as NULL.
- Every row carries `_glp_synced_at` (the run's start; a row whose stamp is older than the last successful
  full read of its resource is gone from Central: removals without deleting raw rows) and
  `_glp_content_hash` (SHA-256 of the object as sent: the sync counts changed rows with it).
- Central's monitoring lists have no "changed since" filter, so every read is full.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import dlt
import orjson
from dlt.common.schema.typing import TColumnSchema

from glp_pipeline.sources.greenlake import PageSpool

if TYPE_CHECKING:
    from glp_pipeline.central import CentralClient, ClassicCentralClient
    from glp_pipeline.greenlake import Page, PagingResult

RAW_DATASET = "aruba_raw"
SYNCED_AT_COLUMN = "_glp_synced_at"
HASH_COLUMN = "_glp_content_hash"
RESOURCES = ("devices", "clients")
HISTORY_RESOURCES = {"devices": "central_devices", "clients": "central_clients"}
"""The `glp.sync_history` resource of each Central resource (GreenLake's are `devices`, `subscriptions`)."""

PageCallback = Callable[[str, "Page"], None]
DoneCallback = Callable[[str, "PagingResult"], None]
Lister = Callable[[Any], Any]  # client -> a PageIterator / PageNumberIterator

T, I, F, B, J = "text", "bigint", "double", "bool", "json"  # noqa: E741 - column type shorthands

_NEW_DEVICE = {
    "id": T, "type": T, "serialNumber": T, "macAddress": T, "deviceName": T, "deviceType": T, "siteId": T,
    "siteName": T, "status": T, "model": T, "partNumber": T, "firmwareVersion": T, "ipv4": T, "ipv6": T,
    "deployment": T, "deviceFunction": T, "role": T, "clusterName": T, "buildingId": T, "floorId": T,
    "configStatus": T, "configLastModifiedAt": T, "lastSeenAt": T, "uptimeInMillis": I, "notes": T,
}  # fmt: skip
_NEW_AP = _NEW_DEVICE | {
    "clientCount": I, "wlanCount": I, "cpuUtilization": F, "memoryUtilization": F, "powerConsumption": F,
    "publicIpv4": T, "subnetMask": T, "meshRole": T, "lastRebootReason": T, "clusterId": T,
    "deviceGroupId": T, "deviceGroupName": T,
}  # fmt: skip
_NEW_SWITCH = {
    "id": T, "type": T, "serialNumber": T, "deviceName": T, "macAddress": T, "model": T, "partNumber": T,
    "status": T, "ipv4": T, "ipv6": T, "firmwareVersion": T, "siteId": T, "siteName": T, "stackId": T,
    "deployment": T, "deviceFunction": T, "lastSeenAt": F, "uptimeInMillis": I, "switchTrends": J,
}  # fmt: skip
_NEW_GATEWAY = {
    "id": T, "type": T, "serialNumber": T, "deviceName": T, "macAddress": T, "macRange": T, "model": T,
    "status": T, "ipAddress": T, "firmwareVersion": T, "siteId": T, "siteName": T, "clusterName": T,
    "mode": T, "role": T, "deviceFunction": T, "cpuUtilization": F, "memoryUtilization": F,
    "rebootReason": T, "uptimeInMillis": I,
}  # fmt: skip
_NEW_CLIENT = {
    "id": T, "macAddress": T, "type": T, "clientName": T, "hostName": T, "userName": T, "ipv4": T,
    "ipv6": T, "status": T, "clientConnectionType": T, "connectedDeviceSerial": T, "connectedDeviceType": T,
    "connectedTo": T, "connectedAt": T, "lastSeenAt": T, "port": T, "role": T, "vlanId": T, "vlanName": T,
    "wlanName": T, "bssid": T, "radioMacAddress": T, "wirelessBand": T, "wirelessChannel": T,
    "wirelessSecurity": T, "keyManagement": T, "authenticationType": T, "snr": F, "phyType": T,
    "mloOperMode": T, "tunnelType": T, "tunnelId": T, "clientCategory": T, "clientFunction": T,
    "clientManufacturer": T, "clientOperatingSystem": T, "clientVendor": T, "clientCapabilities": J,
    "clientTags": J, "siteId": T, "siteName": T,
}  # fmt: skip
_CLASSIC_AP = {
    "serial": T, "macaddr": T, "name": T, "ip_address": T, "public_ip_address": T, "subnet_mask": T,
    "status": T, "down_reason": T, "model": T, "firmware_version": T, "group_name": T, "site": T,
    "labels": J, "swarm_id": T, "swarm_name": T, "swarm_master": B, "cluster_id": T,
    "ap_deployment_mode": T, "ap_group": T, "mesh_role": T, "notes": T, "last_modified": I,
    "client_count": I, "uptime": I, "cpu_utilization": F, "mem_free": I, "mem_total": I,
    "gateway_cluster_id": T, "gateway_cluster_name": T, "radios": J,
}  # fmt: skip
_CLASSIC_SWITCH = {
    "serial": T, "name": T, "macaddr": T, "model": T, "status": T, "ip_address": T, "public_ip_address": T,
    "firmware_version": T, "group_name": T, "site": T, "labels": J, "uplink_ports": J, "stack_id": T,
    "switch_type": T, "client_count": I, "uptime": I, "max_power": F, "power_consumption": F,
    "temperature": T, "fan_speed": T, "cpu_utilization": F, "mem_free": I, "mem_total": I,
    "poe_consumption": T,
}  # fmt: skip
_CLASSIC_GATEWAY = {
    "serial": T, "name": T, "macaddr": T, "model": T, "status": T, "ip_address": T, "firmware_version": T,
    "group_name": T, "site": T, "labels": J, "ap_count": I, "usage": F, "mode": T,
}  # fmt: skip
_CLASSIC_CLIENT = {
    "macaddr": T, "name": T, "hostname": T, "ip_address": T, "username": T, "associated_device": T,
    "associated_device_mac": T, "associated_device_name": T, "gateway_serial": T, "vlan": T, "site": T,
    "group_name": T, "group_id": T, "labels": J, "label_id": J, "authentication_type": T, "user_role": T,
    "health": F, "manufacturer": T, "os_type": T, "client_category": T, "client_type": T,
    "connected_device_type": T, "last_connection_time": I, "failure_stage": T, "failure_reason": T,
    "interface_mac": T, "interface_port": T, "speed": F, "radio_mac": T, "radio_number": I, "network": T,
    "swarm_id": T, "encryption_method": T, "signal_db": F, "signal_strength": I, "snr": F, "maxspeed": F,
    "band": F, "channel": T, "ht_type": T, "phy_type": T, "connection": T,
}  # fmt: skip

CLASSIC_CLIENT_KINDS = (("WIRELESS", "CONNECTED"), ("WIRED", "CONNECTED"), ("WIRELESS", "FAILED_TO_CONNECT"))
"""The /monitoring/v2/clients calls that together list every client Classic has (FAILED_TO_CONNECT is
defined for wireless clients only)."""


@dataclass(frozen=True)
class RawTable:
    """One `aruba_raw` table: what feeds it, its natural key, and whether it defines its resource's members.

    `members`: the keys of this table are the objects of the resource that the sync counts (fetched,
    inserted, removed). New Central's device count comes from `devices` alone (the type tables detail the
    same devices); Classic's from its three device tables together.
    """

    name: str
    resource: str
    key: str
    fields: dict[str, str]
    listers: tuple[Lister, ...]
    members: bool = True

    def columns(self) -> dict[str, TColumnSchema]:
        columns: dict[str, TColumnSchema] = {
            name: {"data_type": kind, "nullable": True}  # type: ignore[typeddict-item]
            for name, kind in self.fields.items()
        }
        columns[self.key] = {"data_type": "text", "nullable": False, "primary_key": True}
        columns[SYNCED_AT_COLUMN] = {"data_type": "timestamp", "nullable": True}
        columns[HASH_COLUMN] = {"data_type": "text", "nullable": True}
        return columns


def _classic_clients(kind: tuple[str, str]) -> Lister:
    return lambda client: client.list_clients(kind[0], kind[1])


NEW_TABLES = (
    RawTable("devices", "devices", "id", _NEW_DEVICE, (lambda c: c.list_devices(),)),
    RawTable("aps", "devices", "id", _NEW_AP, (lambda c: c.list_aps(),), members=False),
    RawTable("switches", "devices", "id", _NEW_SWITCH, (lambda c: c.list_switches(),), members=False),
    RawTable("gateways", "devices", "id", _NEW_GATEWAY, (lambda c: c.list_gateways(),), members=False),
    RawTable("clients", "clients", "id", _NEW_CLIENT, (lambda c: c.list_clients(),)),
)
CLASSIC_TABLES = (
    RawTable("classic_aps", "devices", "serial", _CLASSIC_AP, (lambda c: c.list_aps(),)),
    RawTable("classic_switches", "devices", "serial", _CLASSIC_SWITCH, (lambda c: c.list_switches(),)),
    RawTable("classic_gateways", "devices", "serial", _CLASSIC_GATEWAY, (lambda c: c.list_gateways(),)),
    RawTable(
        "classic_clients",
        "clients",
        "macaddr",
        _CLASSIC_CLIENT,
        tuple(_classic_clients(kind) for kind in CLASSIC_CLIENT_KINDS),
    ),
)
TABLES = {"new": NEW_TABLES, "classic": CLASSIC_TABLES}


def tables_for(mode: str, resources: tuple[str, ...] = RESOURCES) -> tuple[RawTable, ...]:
    """The raw tables a sync of `resources` in `mode` ("new" | "classic") loads."""
    if mode not in TABLES:
        raise ValueError(f"Unknown Aruba Central mode {mode!r}; choose new or classic")
    unknown = set(resources) - set(RESOURCES)
    if unknown:
        raise ValueError(f"Unknown Aruba Central resources: {sorted(unknown)}; choose from {RESOURCES}")
    return tuple(table for table in TABLES[mode] if table.resource in resources)


def content_hash(item: dict[str, Any]) -> str:
    """SHA-256 of an object as the API sent it (keys sorted), before our own columns are added."""
    return hashlib.sha256(orjson.dumps(item, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _read(
    client: CentralClient | ClassicCentralClient,
    table: RawTable,
    synced_at: datetime,
    on_page: PageCallback | None,
    on_done: DoneCallback | None,
) -> Iterator[list[dict[str, Any]]]:
    spools: list[PageSpool] = []
    try:
        for lister in table.listers:
            spool = PageSpool()
            spools.append(spool)
            pages = lister(client)
            for page in pages:
                spool.write(page)
                if on_page is not None:
                    on_page(table.name, page)
            if on_done is not None:
                on_done(table.name, pages.result)
        seen: set[str] = set()
        for spool in spools:
            for batch in spool.batches():
                rows = []
                for item in batch:
                    key = str(item[table.key])
                    if key in seen:  # a server may repeat an item across pages or listings
                        continue
                    seen.add(key)
                    item[HASH_COLUMN] = content_hash(item)
                    item[SYNCED_AT_COLUMN] = synced_at
                    rows.append(item)
                yield rows
    finally:
        for spool in spools:
            spool.close()


@dlt.source(name="aruba", max_table_nesting=0)
def aruba_source(
    client: CentralClient | ClassicCentralClient | None,
    mode: str = "new",
    resources: tuple[str, ...] = RESOURCES,
    synced_at: datetime | None = None,
    on_page: PageCallback | None = None,
    on_done: DoneCallback | None = None,
) -> list:
    """The raw tables of one Central mode as dlt resources (merge on the natural key).

    `client` may be None to describe the tables only (Dagster asset specs); nothing is read until dlt runs
    the resources."""
    stamp = synced_at or datetime.now(UTC)
    built = []
    for table in tables_for(mode, resources):
        built.append(
            dlt.resource(
                _read(client, table, stamp, on_page, on_done),  # type: ignore[arg-type]
                name=table.name,
                write_disposition={"disposition": "merge", "strategy": "delete-insert"},
                primary_key=table.key,
                columns=table.columns(),
            )
        )
    return built
