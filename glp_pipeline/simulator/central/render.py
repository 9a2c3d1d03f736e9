"""The neutral devices and clients of data.py in the record shapes of each endpoint (greenlake-api.md E).

New Central: camelCase, `status` `ONLINE`/`OFFLINE` on /devices and /aps but `Online`/`Offline` on /switches
and /gateways (as documented: a client must not assume one casing), RFC 3339 times except the switch's
`lastSeenAt`, which the spec gives as epoch seconds (a float).
Classic: snake_case, `Up`/`Down`, epoch seconds (`last_modified`) and epoch milliseconds
(`last_connection_time`), clients only while Connected or Failed (the two `client_status` values).
"""

from __future__ import annotations

from typing import Any

from .data import Client, Device, iso

Record = dict[str, Any]

NEW_TYPES = {
    "devices": "network-monitoring/device-monitoring",
    "aps": "network-monitoring/access-point-monitoring",
    "switches": "switch",
    "gateways": "network-monitoring/gateway-monitoring",
    "clients": "network-monitoring/client-monitoring",
}
# Classic switch fields sent only with show_resource_details=true
SWITCH_RESOURCE_FIELDS = ("max_power", "power_consumption", "temperature", "fan_speed", "cpu_utilization",
                          "mem_free", "mem_total", "poe_consumption")  # fmt: skip


def _public_ip(device: Device) -> str:
    """One documentation-range public address per site."""
    return f"203.0.113.{int(device.site.site_id) % 254 + 1}"


def _id(device: Device) -> str:
    """The record id: the serial without the padding or case a few serials carry."""
    return device.serial.strip().upper()


def new_device(device: Device) -> Record:
    """A /network-monitoring/v1/devices item."""
    gateway = device.device_type == "GATEWAY"
    return {
        "id": _id(device), "type": NEW_TYPES["devices"], "serialNumber": device.serial,
        "macAddress": device.mac, "deviceName": device.name, "deviceType": device.device_type,
        "siteId": device.site.site_id, "siteName": device.site.name,
        "status": "ONLINE" if device.online else "OFFLINE", "model": device.model,
        "partNumber": device.part, "firmwareVersion": device.firmware, "ipv4": device.ipv4,
        "ipv6": None, "deployment": device.deployment,
        "deviceFunction": device.extra.get("function") if gateway else None,
        "role": ("Leader" if device.index % 2 else "Member") if device.deployment == "Cluster" else None,
        "clusterName": device.extra.get("cluster"), "buildingId": None, "floorId": None,
        "configStatus": "Synchronized" if device.index % 17 else "Out of Sync",
        "configLastModifiedAt": iso(device.config_modified_ms), "lastSeenAt": iso(device.last_seen_ms),
        "uptimeInMillis": device.uptime_ms, "notes": None,
    }  # fmt: skip


def new_ap(device: Device) -> Record:
    """A /network-monitoring/v1/aps item: the device record plus AP metrics."""
    record = new_device(device)
    record.update({
        "type": NEW_TYPES["aps"], "clientCount": device.clients, "wlanCount": 3 + device.index % 3,
        "cpuUtilization": device.cpu, "memoryUtilization": device.memory,
        "powerConsumption": round(9.5 + device.index % 12 * 0.75, 2) if device.online else None,
        "publicIpv4": _public_ip(device), "subnetMask": "255.255.255.0",
        "meshRole": "Portal" if device.index % 23 == 4 else None,
        "lastRebootReason": ("Power loss", "Firmware upgrade", "User reboot")[device.index % 3],
        "clusterId": None, "deviceGroupId": device.group_id, "deviceGroupName": device.group,
    })  # fmt: skip
    return record


def new_switch(device: Device) -> Record:
    """A /network-monitoring/v1/switches item (`lastSeenAt` in epoch seconds, `Online`/`Offline`)."""
    return {
        "id": _id(device), "type": NEW_TYPES["switches"], "serialNumber": device.serial,
        "deviceName": device.name, "macAddress": device.mac, "model": device.model,
        "partNumber": device.part, "status": "Online" if device.online else "Offline", "ipv4": device.ipv4,
        "ipv6": None, "firmwareVersion": device.firmware, "siteId": device.site.site_id,
        "siteName": device.site.name, "stackId": device.extra.get("stack_id"),
        "deployment": device.deployment,
        "deviceFunction": "Access" if device.group == "Access-Switches" else "Core",
        "lastSeenAt": None if device.last_seen_ms is None else device.last_seen_ms / 1000,
        "uptimeInMillis": device.uptime_ms,
        "switchTrends": {
            "cpuUtilization": device.cpu, "memoryUtilization": device.memory,
            "poeAvailable": 740, "poeConsumption": round(device.clients * 4.2, 1),
            "powerConsumption": 120 + device.index % 60, "switchRole": "Conductor",
            "systemTemperature": 38 + device.index % 15, "upLinkPorts": ["1/1/49", "1/1/50"],
            "usage": device.clients * 1_048_576,
        },
    }  # fmt: skip


def new_gateway(device: Device) -> Record:
    """A /network-monitoring/v1/gateways item (`Online`/`Offline`)."""
    cluster = device.deployment == "Cluster"
    return {
        "id": _id(device), "type": NEW_TYPES["gateways"], "serialNumber": device.serial,
        "deviceName": device.name, "macAddress": device.mac,
        "macRange": f"{device.mac[:-2]}00-{device.mac[:-2]}0f",
        "model": device.model, "status": "Online" if device.online else "Offline",
        "ipAddress": device.ipv4, "firmwareVersion": device.firmware, "siteId": device.site.site_id,
        "siteName": device.site.name, "clusterName": device.extra.get("cluster"),
        "mode": "Cluster" if cluster else "Standalone",
        "role": ("Leader" if device.index % 2 else "Member") if cluster else "Isoleader",
        "deviceFunction": device.extra.get("function", "Unspecified"),
        "cpuUtilization": device.cpu, "memoryUtilization": device.memory,
        "rebootReason": "Power cycle" if device.index % 5 else "Firmware upgrade",
        "uptimeInMillis": device.uptime_ms,
    }  # fmt: skip


def _band_text(band: float | None) -> str | None:
    return None if band is None else f"{band:g}GHz"


def new_client(client: Client) -> Record:
    """A /network-monitoring/v1/clients item."""
    device, wired = client.device, client.wired
    return {
        "id": client.mac, "macAddress": client.mac, "type": NEW_TYPES["clients"],
        "clientName": client.name, "hostName": client.name, "userName": client.username,
        "ipv4": client.ipv4, "ipv6": client.ipv6, "status": client.status,
        "clientConnectionType": "Wired" if wired else "Wireless",
        "connectedDeviceSerial": device.serial, "connectedDeviceType": device.device_type,
        "connectedTo": device.name, "connectedAt": iso(client.connected_ms),
        "lastSeenAt": iso(client.last_seen_ms), "port": client.port, "role": client.role,
        "vlanId": str(client.vlan), "vlanName": client.vlan_name, "wlanName": client.ssid,
        "bssid": None if wired else f"{device.mac[:-1]}{int(client.band or 0) % 10}",
        "radioMacAddress": None if wired else f"{device.mac[:-1]}0",
        "wirelessBand": _band_text(client.band),
        "wirelessChannel": None if client.channel is None else str(client.channel),
        "wirelessSecurity": client.security, "keyManagement": client.key_management,
        "authenticationType": client.authentication, "snr": client.snr,
        "phyType": None if wired else ("802.11be" if client.band == 6.0 else "802.11ax"),
        "mloOperMode": "MLMR" if client.band == 6.0 and client.index % 3 == 0 else None,
        "tunnelType": "Tunneled" if client.tunneled else "Bridged",
        "tunnelId": (client.index % 4) + 1 if client.tunneled else None,
        "clientCategory": client.category, "clientFunction": client.category,
        "clientManufacturer": client.manufacturer, "clientOperatingSystem": client.os,
        "clientVendor": client.manufacturer,
        "clientCapabilities": [] if wired else ["802.11k", "802.11v", "802.11r"][: 1 + client.index % 3],
        "clientTags": ["vip"] if client.index % 97 == 0 else [],
        "siteId": device.site.site_id, "siteName": device.site.name,
    }  # fmt: skip


def _up(device: Device) -> str:
    return "Up" if device.online else "Down"


def classic_ap(device: Device) -> Record:
    """A /monitoring/v2/aps item."""
    swarm = device.deployment == "Virtual Controller"
    radios = [
        {"band": band, "index": index, "macaddr": f"{device.mac[:-1]}{index}", "status": _up(device),
         "channel": channel, "tx_power": 12 + index * 3, "utilization": (device.index * 7 + index) % 60,
         "radio_name": name, "radio_type": radio_type, "spatial_stream": "2x2:2", "mode": "Access"}
        for index, (band, channel, name, radio_type) in enumerate(
            ((0, "6", "Radio 2.4 GHz", "802.11ax"), (1, "36E", "Radio 5 GHz", "802.11ax"))
        )
    ]  # fmt: skip
    return {
        "serial": device.serial, "macaddr": device.mac, "name": device.name, "ip_address": device.ipv4,
        "public_ip_address": _public_ip(device),
        "subnet_mask": "255.255.255.0", "status": _up(device),
        "down_reason": None if device.online else "Heartbeat lost", "model": device.model,
        "firmware_version": device.firmware, "group_name": device.group,
        "site": device.site.name, "labels": list(device.labels),
        "swarm_id": f"{device.site.site_id}{device.group_id}" if swarm else "",
        "swarm_name": device.group if swarm else "", "swarm_master": swarm and device.index % 4 == 0,
        "cluster_id": "", "ap_deployment_mode": "IAP" if swarm else "AOS10", "ap_group": device.group,
        "mesh_role": "Portal" if device.index % 23 == 4 else "Unknown", "notes": "",
        "last_modified": device.config_modified_ms // 1000, "client_count": device.clients,
        "uptime": (device.uptime_ms or 0) // 1000, "cpu_utilization": device.cpu,
        "mem_free": (100 - device.memory) * 5_000_000, "mem_total": 500_000_000,
        "gateway_cluster_id": "", "gateway_cluster_name": "", "radios": radios,
    }  # fmt: skip


def classic_switch(device: Device) -> Record:
    """A /monitoring/v1/switches item, resource details included (the endpoint strips them on request)."""
    return {
        "serial": device.serial, "name": device.name, "macaddr": device.mac, "model": device.model,
        "status": _up(device), "ip_address": device.ipv4, "public_ip_address": "198.51.100.7",
        "firmware_version": device.firmware, "group_name": device.group, "site": device.site.name,
        "labels": list(device.labels), "uplink_ports": [{"port": "1/1/49", "vlan": None}],
        "stack_id": device.extra.get("stack_id"),
        "switch_type": "AOS-S" if device.model == "2930F" else "AOS-CX", "client_count": device.clients,
        "uptime": (device.uptime_ms or 0) // 1000, "max_power": 740,
        "power_consumption": 120 + device.index % 60, "temperature": str(38 + device.index % 15),
        "fan_speed": "Normal", "cpu_utilization": device.cpu,
        "mem_free": (100 - device.memory) * 10_000_000, "mem_total": 1_000_000_000,
        "poe_consumption": str(round(device.clients * 4.2, 1)),
    }  # fmt: skip


def classic_gateway(device: Device, ap_count: int) -> Record:
    """A /monitoring/v1/gateways item."""
    return {
        "serial": device.serial, "name": device.name, "macaddr": device.mac, "model": device.model,
        "status": _up(device), "ip_address": device.ipv4, "firmware_version": device.firmware,
        "group_name": device.group, "site": device.site.name, "labels": list(device.labels),
        "ap_count": ap_count, "usage": device.cpu * 1_000_000,
        "mode": "mc" if device.extra.get("function") == "Mobility Controller" else "sp_gw",
    }  # fmt: skip


def classic_client(client: Client) -> Record:
    """A /monitoring/v2/clients item (only Connected and Failed clients have one)."""
    device, wired = client.device, client.wired
    record: Record = {
        "macaddr": client.mac, "name": client.name, "hostname": client.name, "ip_address": client.ipv4,
        "username": client.username, "associated_device": device.serial,
        "associated_device_mac": device.mac, "associated_device_name": device.name,
        "gateway_serial": None, "vlan": client.vlan, "site": device.site.name,
        "group_name": device.group, "group_id": int(device.group_id), "labels": list(device.labels),
        "label_id": [], "authentication_type": client.authentication, "user_role": client.role,
        "health": client.health, "manufacturer": client.manufacturer, "os_type": client.os,
        "client_category": client.category, "client_type": "WIRED" if wired else "WIRELESS",
        "connected_device_type": "Switch" if wired else "AP",
        "last_connection_time": client.last_seen_ms if client.connected_ms is None else client.connected_ms,
        "failure_stage": client.failure[0] if client.failure else None,
        "failure_reason": client.failure[1] if client.failure else None,
    }  # fmt: skip
    if wired:
        record.update({"interface_mac": f"{device.mac[:-1]}1", "interface_port": client.port, "speed": 1000})
        return record
    band = client.band or 0.0
    record.update({
        "radio_mac": f"{device.mac[:-1]}0", "radio_number": 0 if band == 2.4 else 1,
        "network": client.ssid, "swarm_id": "", "encryption_method": client.security,
        "signal_db": (client.snr or 0) - 95, "signal_strength": min(5, max(1, (client.snr or 0) // 10)),
        "snr": client.snr, "speed": 866 if band >= 5 else 144, "maxspeed": 1201 if band >= 5 else 287,
        "band": band, "channel": f"{client.channel} (20 MHz)", "ht_type": "HE20",
        "phy_type": "6 GHz" if band == 6.0 else ("5 GHz" if band == 5.0 else "2.4 GHz"),
        "connection": "802.11ax" if band < 6 else "802.11be",
    })  # fmt: skip
    return record
