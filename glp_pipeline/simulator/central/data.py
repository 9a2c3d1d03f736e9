"""Deterministic Aruba Central inventory that overlaps the GreenLake simulator's.

Why it is built this way:
- the GreenLake side is the GreenLake simulator's own generator run for the same (seed, now, devices,
  subscriptions), so the serials Central shares are exactly those `GreenLakeSimulator` serves;
- Central takes GreenLake's Aruba network gear (APs, switches, gateways/controllers), leaves out a
  deterministic share (and all non-Aruba discovered gear), and adds devices only Central knows; every
  `mismatch_every`-th shared device differs in model or name, so a cross view has something to find;
- a few shared serials are lower-case or padded with spaces, as hand-typed serials are: serials match only
  trimmed and upper-cased, and the ground truth (`CrossTruth`) is computed that way;
- each device and client is generated once as a neutral record, then rendered in New Central shapes
  (camelCase, `ONLINE`/`Online` by endpoint) and Classic shapes (snake_case, `Up`/`Down`) from the same
  values, so both source modes describe one network.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..catalog import SITES
from ..data import DAY_MS, InventoryGenerator, _below, _pick, iso_ms, to_epoch_ms

Record = dict[str, Any]

# GreenLake deviceType -> Central deviceType (anything else is not Central gear)
CENTRAL_TYPES = {
    "IAP": "ACCESS_POINT",
    "AP": "ACCESS_POINT",
    "WIFI7_AP": "ACCESS_POINT",
    "SWITCH": "SWITCH",
    "GATEWAY": "GATEWAY",
    "CONTROLLER": "GATEWAY",
}
ARUBA = "HPE Aruba Networking"
MODELS = {
    "ACCESS_POINT": ("AP-515", "AP-535", "AP-635", "AP-303", "AP-345", "AP-735", "IAP-225-US"),
    "SWITCH": ("6300M", "6200F", "CX 8360", "6100", "2930F"),
    "GATEWAY": ("9004", "7010", "EC-V", "7210", "9240"),
}
PARTS = {
    "ACCESS_POINT": ("R4W02A", "JZ336A", "R7J28A", "JZ320A", "JZ033A", "S1T33A", "JW212A"),
    "SWITCH": ("JL658A", "JL724A", "JL700A", "JL675A", "JL253A"),
    "GATEWAY": ("R1B21A", "JW679A", "R3V58A", "JW743A", "R8E05A"),
}
ONLY_PREFIX = {"ACCESS_POINT": "CNR", "SWITCH": "SGR", "GATEWAY": "CGR"}  # 10-character serials
FIRMWARE = {
    "ACCESS_POINT": ("10.6.0.3_90581", "10.7.1.0_91235", "8.12.0.1_89312"),
    "SWITCH": ("10.13.1010", "10.14.0020", "16.11.0012"),
    "GATEWAY": ("10.6.0.2_90400", "10.7.0.0_91002"),
}
GROUPS = {
    "ACCESS_POINT": ("Campus-APs", "Branch-APs", "Lab-APs"),
    "SWITCH": ("Access-Switches", "Core-Switches"),
    "GATEWAY": ("Branch-Gateways", "Mobility-Controllers"),
}
SITE_SUFFIXES = ("HQ", "Campus", "Branch", "Warehouse", "DC", "Lab", "Store")
LABELS = ("floor-1", "floor-2", "outdoor", "critical", "retail")
FIRST_NAMES = ("Jürgen", "Zoë", "Ana", "Kenji", "Søren", "Łukasz", "Noor", "Priya", "Lee", "Omar")

# manufacturer, operating system, category, hostname pattern, where it connects ("wireless"|"wired"|"both")
CLIENT_KINDS: tuple[tuple[str | None, str | None, str | None, str, str], ...] = (
    ("Apple", "iOS", "Smartphone", "{first}s-iPhone", "wireless"),
    ("Apple", "macOS", "Computer", "{first}s-MacBook-Pro", "both"),
    ("Samsung", "Android", "Smartphone", "Galaxy-S24-{n}", "wireless"),
    ("Google", "Android", "Smartphone", "Pixel-8-{n}", "wireless"),
    ("Dell", "Windows", "Computer", "DESKTOP-{hex}", "both"),
    ("Lenovo", "Windows", "Computer", "LAPTOP-{hex}", "both"),
    ("Microsoft", "Windows", "Computer", "Surface-{n}", "wireless"),
    ("Zebra", "Android", "Handheld", "TC52-{n}", "wireless"),
    ("Raspberry Pi", "Linux", "IoT", "raspberrypi-{n}", "both"),
    ("Cisco", "Cisco IP Phone", "VoIP Phone", "SEP{mac}", "wired"),
    ("Axis", "Linux", "IP Camera", "axis-{mac}", "wired"),
    ("HP", "Printer", "Printer", "HP-LaserJet-{n}", "wired"),
    (None, None, None, "", "both"),  # not fingerprinted: no name, manufacturer or OS
)
CLIENT_OUIS = {"Apple": "f0:18:98", "Samsung": "8c:f5:a3", "Google": "3c:28:6d", "Dell": "f8:bc:12",
               "Lenovo": "54:ee:75", "Microsoft": "c0:33:5e", "Zebra": "00:a0:f8", "Raspberry Pi": "dc:a6:32",
               "Cisco": "00:1b:54", "Axis": "ac:cc:8e", "HP": "3c:52:82", None: "02:42:ac"}  # fmt: skip
# SSID, VLAN, VLAN name, role, authentication, security, key management
SSIDS = (
    ("Corp", 10, "corp", "employee", "802.1X", "WPA3-Enterprise", "WPA3-Enterprise-192"),
    ("Corp-Legacy", 10, "corp", "employee", "802.1X", "WPA2-Enterprise", "WPA2-Enterprise"),
    ("Guest", 200, "guest", "guest", "Captive Portal", "Enhanced Open", "OWE"),
    ("IoT", 300, "iot", "iot", "PSK", "WPA2-Personal", "WPA2-PSK"),
    ("Voice", 400, "voice", "voice", "PSK", "WPA3-Personal", "SAE"),
)
WIRED_VLANS = ((10, "corp", "employee", "802.1X"), (20, "printers", "printer", "MAC Auth"),
               (30, "cameras", "iot", "MAC Auth"), (400, "voice", "voice", "802.1X"))  # fmt: skip
BANDS = ((2.4, (1, 6, 11)), (5.0, (36, 40, 44, 48, 100, 149)), (6.0, (37, 69, 101)))
FAILURE_STAGES = (("Authentication", "Invalid credentials"), ("DHCP", "No IP address offered"),
                  ("Association", "Association rejected: AP at capacity"))  # fmt: skip


def normalise_serial(serial: str) -> str:
    """How serials are compared across GreenLake and Central: trimmed and upper-case."""
    return serial.strip().upper()


def _b36(index: int, width: int, salt: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    n = (index * 2654435761 + salt) % 36**width
    out = []
    for _ in range(width):
        n, r = divmod(n, 36)
        out.append(digits[r])
    return "".join(reversed(out))


@dataclass(frozen=True)
class Site:
    """A Central site: devices sit in one, clients in their device's."""

    site_id: str
    name: str
    city: str
    country: str

    def as_json(self) -> Record:
        return {"siteId": self.site_id, "siteName": self.name, "city": self.city, "country": self.country}


@dataclass
class Device:
    """One Central device, neutral; rendered per endpoint and generation by `render.py`."""

    index: int
    serial: str  # as Central shows it (a few lower-case or padded)
    device_type: str  # ACCESS_POINT | SWITCH | GATEWAY
    name: str
    mac: str  # lower-case, colon separated
    model: str
    part: str
    site: Site
    online: bool
    firmware: str
    ipv4: str
    group: str
    group_id: str
    deployment: str
    uptime_ms: int | None
    last_seen_ms: int | None  # None while online
    config_modified_ms: int
    labels: list[str]
    cpu: int
    memory: int
    glp: Record | None  # the GreenLake device it is, or None (Central only)
    extra: dict[str, Any] = field(default_factory=dict)
    clients: int = 0  # connected clients, filled once clients exist


@dataclass
class Client:
    """One client, neutral; wireless on an AP or wired on a switch."""

    index: int
    mac: str
    wired: bool
    status: str  # Connected | Failed | Connecting | Disconnected | Blocked
    device: Device
    name: str | None
    username: str | None
    ipv4: str | None
    ipv6: str | None
    manufacturer: str | None
    os: str | None
    category: str | None
    vlan: int
    vlan_name: str
    role: str
    authentication: str
    ssid: str | None
    security: str | None
    key_management: str | None
    band: float | None
    channel: int | None
    snr: int | None
    health: int
    port: str | None
    connected_ms: int | None
    last_seen_ms: int
    failure: tuple[str, str] | None
    tunneled: bool


@dataclass(frozen=True)
class CrossTruth:
    """What a GreenLake ↔ Central cross view must find; serials normalised (trimmed, upper-case).

    `greenlake_only` holds every GreenLake serial Central lacks (compute and storage included);
    `greenlake_only_network` only the Central kinds of gear among them. A mismatch maps a serial in both to
    (GreenLake value, Central value); it is counted where GreenLake has a value and the trimmed values
    differ (a device GreenLake has no name for is no name mismatch).
    """

    both: frozenset[str]
    greenlake_only: frozenset[str]
    greenlake_only_network: frozenset[str]
    central_only: frozenset[str]
    model_mismatches: dict[str, tuple[str | None, str]]
    name_mismatches: dict[str, tuple[str | None, str]]


def greenlake_inventory(
    seed: int, now: datetime, workspace_id: str, devices: int, subscriptions: int
) -> list[Record]:
    """The GreenLake simulator's devices for these settings (what `GreenLakeSimulator.devices()` serves)."""
    generator = InventoryGenerator(seed, now, workspace_id)
    return generator.devices(devices, generator.subscriptions(subscriptions))


class CentralGenerator:
    """Builds sites, devices (shared with GreenLake and Central-only) and clients for one seed."""

    def __init__(
        self,
        *,
        seed: int,
        now: datetime,
        glp_devices: list[Record],
        glp_only_share: float,
        mismatch_every: int,
        central_only: int,
        sites: int,
        clients: int,
        wired_share: float,
    ) -> None:
        self.now_ms = to_epoch_ms(now)
        self.rng = random.Random(f"{seed}:central")
        self.salt = self.rng.getrandbits(40)
        self.sites = self._sites(sites)
        self._site_numbers = {site.site_id: n for n, site in enumerate(self.sites)}
        self._by_city: dict[str, list[Site]] = {}
        for site in self.sites:
            self._by_city.setdefault(site.city, []).append(site)
        self.devices: list[Device] = []
        self._glp_serials = {normalise_serial(d["serialNumber"]) for d in glp_devices}
        self._shared(glp_devices, glp_only_share, mismatch_every)
        self._central_only(central_only)
        self.clients = self._clients(clients, wired_share)
        self.truth = self._truth(glp_devices)

    # --- sites ------------------------------------------------------------------------------------------

    def _sites(self, count: int) -> list[Site]:
        sites = []
        for k in range(count):
            city, _state, country = SITES[k % len(SITES)][:3]
            round_, suffix = divmod(k // len(SITES), len(SITE_SUFFIXES))
            name = f"{city} {SITE_SUFFIXES[suffix]}" + (f" {round_ + 1}" if round_ else "")
            site_id = str(24_000_000 + (k * 7919 + self.salt) % 1_000_000)  # 7919 is coprime with 10**6
            sites.append(Site(site_id, name, city, country))
        return sites

    def _site_for(self, glp: Record | None) -> Site:
        glp = glp or {}
        # GreenLake names devices after their city, located or not: keep the device in that city
        city = (glp.get("location") or {}).get("city") or (glp.get("deviceName") or "").split("-")[0]
        return _pick(self.rng, self._by_city.get(city) or self.sites)

    # --- devices ----------------------------------------------------------------------------------------

    def _shared(self, glp_devices: list[Record], glp_only_share: float, every: int) -> None:
        shared = 0
        for glp in glp_devices:
            central_type = CENTRAL_TYPES.get(glp["deviceType"])
            if central_type is None or glp["make"] != ARUBA:
                continue
            if self.rng.random() < glp_only_share:
                continue
            serial = glp["serialNumber"]
            if shared % 29 == 3:
                serial = serial.lower()
            elif shared % 41 == 8:
                serial = f"{serial}  "
            elif shared % 53 == 20:
                serial = f" {serial} "
            model, name = glp["model"] or MODELS[central_type][0], glp["deviceName"]
            if shared % every == every - 1:
                if (shared // every) % 2 and name:
                    name = f"{name.split('-')[0]}-{central_type[:2]}-{shared:04d}"
                else:
                    options = [m for m in MODELS[central_type] if m != model]
                    model = options[shared % len(options)]
            mac = (glp["macAddress"] or self._mac(len(self.devices))).lower()
            self._add(central_type, serial, name, mac, model, glp["partNumber"], glp)
            shared += 1

    def _central_only(self, count: int) -> None:
        kinds = ("ACCESS_POINT",) * 6 + ("SWITCH",) * 3 + ("GATEWAY",)
        for k in range(count):
            central_type = kinds[_below(self.rng, len(kinds))]
            width = 7
            serial = ONLY_PREFIX[central_type] + _b36(k, width, self.salt)
            assert normalise_serial(serial) not in self._glp_serials  # 10 characters: never a GLP serial
            model = _pick(self.rng, MODELS[central_type])
            part = _pick(self.rng, PARTS[central_type])
            self._add(central_type, serial, None, self._mac(len(self.devices)), model, part, None)

    def _mac(self, index: int) -> str:
        low = (index * 0x9E3779B1 + self.salt) % (1 << 24)
        return f"b8:d4:e7:{low >> 16:02x}:{(low >> 8) & 255:02x}:{low & 255:02x}"

    def _add(
        self,
        central_type: str,
        serial: str,
        name: str | None,
        mac: str,
        model: str,
        part: str | None,
        glp: Record | None,
    ) -> None:
        rng, index = self.rng, len(self.devices)
        site = self._site_for(glp)
        online = rng.random() < 0.88
        label = {"ACCESS_POINT": "AP", "SWITCH": "SW", "GATEWAY": "GW"}[central_type]
        if not name:
            name = f"{site.name.split(' ')[0]}-{label}-{index:04d}"
        site_no = self._site_numbers[site.site_id]
        start = _below(rng, len(LABELS))
        group = _pick(rng, GROUPS[central_type])
        deployment = {
            "ACCESS_POINT": ("Standalone", "Virtual Controller", "Campus"),
            "SWITCH": ("Standalone", "Stack"),
            "GATEWAY": ("Standalone", "Cluster"),
        }[central_type][_below(rng, 3 if central_type == "ACCESS_POINT" else 2)]
        uptime = _below(rng, 3_600_000, 90 * DAY_MS) if online else None
        last_seen = None if online else self.now_ms - _below(rng, 60_000, 20 * DAY_MS)
        device = Device(
            index=index, serial=serial, device_type=central_type, name=name, mac=mac, model=model,
            part=part or PARTS[central_type][0], site=site, online=online,
            firmware=_pick(rng, FIRMWARE[central_type]),
            ipv4=f"10.{site_no % 250}.{index // 250 % 250}.{index % 250 + 2}", group=group,
            group_id=str(1000 + GROUPS[central_type].index(group) + 10 * list(GROUPS).index(central_type)),
            deployment=deployment, uptime_ms=uptime, last_seen_ms=last_seen,
            config_modified_ms=self.now_ms - _below(rng, DAY_MS, 400 * DAY_MS),
            labels=list(LABELS[start : start + _below(rng, 3)]), cpu=_below(rng, 1, 95) if online else 0,
            memory=_below(rng, 10, 90) if online else 0, glp=glp,
        )  # fmt: skip
        if central_type == "SWITCH" and deployment == "Stack":
            device.extra["stack_id"] = f"0100{_b36(site_no, 8, self.salt).lower()}"
        if central_type == "GATEWAY":
            device.extra["cluster"] = (
                f"{site.name.split(' ')[0]}-gw-cluster" if deployment == "Cluster" else None
            )
            device.extra["function"] = (
                "Mobility Controller" if model in ("7210", "9240") else "Branch Gateway"
            )
        self.devices.append(device)

    # --- clients ----------------------------------------------------------------------------------------

    def _clients(self, count: int, wired_share: float) -> list[Client]:
        aps = [d for d in self.devices if d.device_type == "ACCESS_POINT"]
        switches = [d for d in self.devices if d.device_type == "SWITCH"]
        if not aps and not switches:
            return []
        wireless_kinds = [k for k in CLIENT_KINDS if k[4] in ("wireless", "both")]
        wired_kinds = [k for k in CLIENT_KINDS if k[4] in ("wired", "both")]
        rng, clients = self.rng, []
        mac_salt = rng.getrandbits(24)
        for i in range(count):
            wired = not aps or (bool(switches) and rng.random() < wired_share)
            device = _pick(rng, switches if wired else aps)
            kind = _pick(rng, wired_kinds if wired else wireless_kinds)
            clients.append(self._client(i, wired, device, kind, mac_salt))
        return clients

    def _client(self, i: int, wired: bool, device: Device, kind: tuple[Any, ...], mac_salt: int) -> Client:
        rng = self.rng
        manufacturer, os_name, category, pattern, _ = kind
        low = (i * 0x9E3779B1 + mac_salt) % (1 << 24)  # unique per client
        oui = CLIENT_OUIS[manufacturer] if rng.random() > 0.1 or wired else "da:a1:19"  # randomised MAC
        mac = f"{oui}:{low >> 16:02x}:{(low >> 8) & 255:02x}:{low & 255:02x}"
        roll = rng.random()
        if not device.online:
            status = "Disconnected"
        elif wired:
            status = "Connected" if roll < 0.86 else ("Disconnected" if roll < 0.97 else "Blocked")
        else:
            statuses = ((0.76, "Connected"), (0.84, "Failed"), (0.93, "Disconnected"), (0.97, "Connecting"))
            status = next((s for bound, s in statuses if roll < bound), "Blocked")
        first = _pick(rng, FIRST_NAMES)
        name = (
            pattern.format(first=first, n=i % 1000, hex=f"{low:06X}", mac=mac.replace(":", "")[-6:].upper())
            if pattern
            else None
        )
        if wired:
            vlan, vlan_name, role, auth = _pick(rng, WIRED_VLANS)
            ssid = security = key_mgmt = None
            band = channel = snr = None
            health = _below(rng, 70, 101)
            port = f"1/1/{_below(rng, 1, 49)}"
        else:
            ssid, vlan, vlan_name, role, auth, security, key_mgmt = _pick(rng, SSIDS)
            band, channels = BANDS[0 if rng.random() < 0.25 else (1 if rng.random() < 0.8 else 2)]
            channel = _pick(rng, channels)
            snr = _below(rng, 5, 21) if status == "Failed" else _below(rng, 8, 61)
            health = max(0, min(100, snr * 2 + _below(rng, -10, 11)))
            port = None
        if status == "Failed":
            health = _below(rng, 0, 40)
        failure = _pick(rng, FAILURE_STAGES) if status == "Failed" else None
        if status in ("Connected", "Connecting", "Blocked"):
            last_seen = self.now_ms - _below(rng, 0, 300_000)
        elif status == "Failed":
            last_seen = self.now_ms - _below(rng, 60_000, 3 * 3_600_000)
        else:
            last_seen = self.now_ms - _below(rng, 3_600_000, 7 * DAY_MS)
        connected = None if status == "Failed" else last_seen - _below(rng, 60_000, 3 * DAY_MS)
        has_ip = status in ("Connected", "Disconnected")
        return Client(
            index=i, mac=mac, wired=wired, status=status, device=device, name=name,
            username=f"{first.lower()}.{i}@example.com" if auth == "802.1X" else None,
            ipv4=f"10.{100 + vlan % 100}.{(i // 254) % 256}.{i % 254 + 1}" if has_ip else None,
            ipv6=f"2001:db8:{vlan:x}::{i:x}" if has_ip and i % 4 == 0 else None,
            manufacturer=manufacturer, os=os_name, category=category, vlan=vlan, vlan_name=vlan_name,
            role=role, authentication=auth, ssid=ssid, security=security, key_management=key_mgmt,
            band=band, channel=channel, snr=snr, health=health, port=port, connected_ms=connected,
            last_seen_ms=last_seen, failure=failure, tunneled=ssid == "Guest",
        )  # fmt: skip

    # --- ground truth -----------------------------------------------------------------------------------

    def _truth(self, glp_devices: list[Record]) -> CrossTruth:
        central = {normalise_serial(d.serial): d for d in self.devices}
        glp = {normalise_serial(d["serialNumber"]): d for d in glp_devices}
        both = frozenset(central) & frozenset(glp)
        models: dict[str, tuple[str | None, str]] = {}
        names: dict[str, tuple[str | None, str]] = {}
        for serial in both:
            ours, theirs = central[serial], glp[serial]
            if theirs["model"] is not None and theirs["model"].strip() != ours.model.strip():
                models[serial] = (theirs["model"], ours.model)
            if theirs["deviceName"] is not None and theirs["deviceName"].strip() != ours.name.strip():
                names[serial] = (theirs["deviceName"], ours.name)
        glp_only = frozenset(glp) - both
        network = frozenset(s for s in glp_only if glp[s]["deviceType"] in CENTRAL_TYPES)
        return CrossTruth(both, glp_only, network, frozenset(central) - both, models, names)


def iso(epoch_ms: int | None) -> str | None:
    """RFC 3339 with milliseconds and Z, or None."""
    return None if epoch_ms is None else iso_ms(epoch_ms)
