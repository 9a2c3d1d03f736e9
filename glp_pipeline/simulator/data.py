"""Deterministic, realistic GreenLake inventory.

Why it looks the way it does:
- every field of the documented device (B.3) and subscription (C.3) objects is present, nullable ones are
  sometimes null, and the awkward real-world cases exist on purpose: values outside the documented enums,
  `ASSIGNED_TO_ACTIVATE_CONFIG`, `LOCKED`, quantities of "0", non-ASCII names, devices linked to a
  subscription the list does not contain, tags that are null, empty or large;
- rare cases are placed by index (not left to chance) so they exist even in a small inventory;
- timestamps are anchored to `now` (default today 00:00 UTC) so "expiring in 30 days" works in a demo, yet
  the same seed and `now` give the same data;
- nested objects that many devices share (application, location, warranty, contact, subscription link) are
  shared Python objects, which keeps 100,000 devices in modest memory. Nothing mutates them in place: updates
  build new objects (copy-on-write, see store.py).
"""

from __future__ import annotations

import bisect
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from .catalog import (
    BILLING_ACCOUNTS,
    CONTACT_NAMES,
    DEVICE_KINDS,
    FORCED_SUBSCRIPTION_TYPES,
    OUIS,
    RARE_DEVICE_KINDS,
    REGION_WEIGHTS,
    REGIONS,
    SECONDARY_NAMES,
    SERVICE_CATEGORIES,
    SITES,
    SUBSCRIPTION_KINDS,
    SUPPORT_LEVELS,
    TAG_KEYS,
    TAG_VALUES,
    DeviceKind,
    SubscriptionKind,
)

Record = dict[str, Any]
DAY_MS = 86_400_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


_DAYS: dict[int, str] = {}


def iso_ms(epoch_ms: int) -> str:
    """`2024-02-13T09:00:22.920Z`: milliseconds and Z, the format GLP sends (dates cached: it is hot)."""
    day, rest = divmod(epoch_ms, DAY_MS)
    date = _DAYS.get(day)
    if date is None:
        date = _DAYS[day] = (_EPOCH + timedelta(days=day)).date().isoformat()
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{date}T{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"


def to_epoch_ms(moment: datetime) -> int:
    return int((moment - _EPOCH) / timedelta(milliseconds=1))


def parse_iso_ms(text: str) -> int:
    return to_epoch_ms(datetime.fromisoformat(text))


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def _below(rng: random.Random, start: int, stop: int | None = None) -> int:
    """`randrange` without its argument checks: a third of the generator's time went there."""
    if stop is None:
        start, stop = 0, start
    return start + int(rng.random() * (stop - start))


def _pick(rng: random.Random, seq: Any) -> Any:
    return seq[int(rng.random() * len(seq))]


def _hex32(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def _scramble36(index: int, width: int, salt: int) -> str:
    """A unique base-36 code per index: multiplying by a number coprime with 36 permutes the code space."""
    n = (index * 2654435761 + salt) % 36**width
    digits = []
    for _ in range(width):
        n, r = divmod(n, 36)
        digits.append(_B36[r])
    return "".join(reversed(digits))


class _Weighted:
    """Fast weighted choice from one uniform draw."""

    def __init__(self, items: list[Any], weights: list[int]) -> None:
        self.items = items
        self.cum: list[float] = []
        total = 0
        for weight in weights:
            total += weight
            self.cum.append(total)
        self.total = total

    def pick(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


_ALL_KINDS = (*DEVICE_KINDS, *RARE_DEVICE_KINDS)
# deviceType -> the subscriptionType it consumes (None: no device subscription fits it)
DEVICE_SUBSCRIPTION_TYPES: dict[str, str | None] = {k.device_type: k.subscription_type for k in _ALL_KINDS}


def kind_for(part: str | None, serial: str | None) -> DeviceKind | None:
    """The device kind a claimed device is: by part number, else by the longest matching serial prefix."""
    for kind in _ALL_KINDS:
        if part and part.upper() in kind.parts:
            return kind
    matches = [k for k in _ALL_KINDS if serial and serial.upper().startswith(k.serial_prefix)]
    return max(matches, key=lambda k: len(k.serial_prefix)) if matches else None


class InventoryGenerator:
    """Builds subscriptions, then devices linked to them; also makes the records that mutations add."""

    def __init__(self, seed: int, now: datetime, workspace_id: str) -> None:
        self.seed = seed
        self.now_ms = to_epoch_ms(now)
        self.workspace_id = workspace_id
        rng = random.Random(f"{seed}:catalog")
        self._salt = rng.getrandbits(40)
        self._mac_salt = rng.getrandbits(24)
        self._applications: dict[str | None, Record] = {}
        for category in SERVICE_CATEGORIES:
            app_id = _uuid(rng)
            uri = f"/service-catalog/v1beta1/service-managers/{app_id}"
            self._applications[category] = {"id": app_id, "resourceUri": uri}
        self._locations = [self._location(rng, site, n) for n in range(3) for site in SITES]
        self._warranties = [self._warranty(rng) for _ in range(60)]
        self._contacts = [self._contact(rng, n) for n in range(30)]
        self._tenants = [_hex32(rng) for _ in range(4)]
        self._dedicated = [{"id": _hex32(rng)} for _ in range(2)]
        self._workspaces = {
            ws: {"id": ws, "resourceUri": f"/workspaces/v1/workspaces/{ws}", "type": "workspaces/workspace"}
            for ws in [workspace_id, *self._tenants]
        }
        self._billing = [(f"BA-{_below(rng, 10**6):06d}", name, tier) for name, tier in BILLING_ACCOUNTS]
        self._kind_pick = _Weighted(list(DEVICE_KINDS), [kind.weight for kind in DEVICE_KINDS])
        self._region_pick = _Weighted(list(REGIONS), list(REGION_WEIGHTS))
        self._sub_pick = _Weighted(list(SUBSCRIPTION_KINDS), [kind.weight for kind in SUBSCRIPTION_KINDS])
        self._sub_refs: dict[str, list[Record]] = {}  # subscriptionType -> device-side links to it
        self.next_device_index = 0
        self.next_subscription_index = 0

    # --- shared nested objects --------------------------------------------------------------------

    @staticmethod
    def _location(rng: random.Random, site: tuple[Any, ...], n: int) -> Record:
        city, state, country, lat, lon, postal = site
        loc_id = _uuid(rng)
        return {
            "id": loc_id, "resourceUri": f"/locations/v1/locations/{loc_id}", "city": city, "state": state,
            "country": country, "latitude": round(lat + rng.uniform(-0.05, 0.05), 6),
            "longitude": round(lon + rng.uniform(-0.05, 0.05), 6), "postalCode": postal,
            "locationName": f"{city} {('HQ', 'Campus', 'DC')[n]}",
            "streetAddress": f"{rng.randint(1, 250)} Main Street",
            "locationSource": _pick(rng, ("MANUAL", None)),
        }  # fmt: skip

    def _warranty(self, rng: random.Random) -> Record:
        levels = []
        start = self.now_ms - _below(rng, 100, 1500) * DAY_MS
        for rank, (service, contract) in enumerate(SUPPORT_LEVELS[: rng.randint(1, 2)], start=1):
            end = start + _pick(rng, (1, 3, 5)) * 365 * DAY_MS
            levels.append({
                "serviceLevel": service, "serviceLevelRank": rank, "contractLevel": contract,
                "contractLevelRank": rank, "startDate": iso_ms(start), "endDate": iso_ms(end),
            })  # fmt: skip
        country = _pick(rng, ("US", "DE", "JP", "GB", "CH"))
        return {"country": country, "currentSupportLevel": levels[-1], "supportLevels": levels}

    @staticmethod
    def _contact(rng: random.Random, n: int) -> Record:
        """Shaped like the spec examples: `workspaceUser{...}` / `nonWorkspaceUser{...}` under a `type`."""
        if n % 3:
            user_id = _uuid(rng)
            user = {"id": user_id, "resourceUri": f"/identity/v1/users/{user_id}"}
            return {"type": "WORKSPACE-USER", "workspaceUser": user}
        first, last = _pick(rng, CONTACT_NAMES)
        person = {"email": f"{first.lower()}.{n}@example.com", "firstName": first, "lastName": last,
                  "phoneNumber": f"+1-555-01{n:02d}"}  # fmt: skip
        return {"type": "NON-WORKSPACE-USER", "nonWorkspaceUser": person}

    @staticmethod
    def _tags(rng: random.Random, index: int) -> dict[str, str] | None:
        if index % 97 == 5:  # a few devices carry many tags
            count = rng.randint(15, 25)
            return {f"{TAG_KEYS[k % 10]}{k // 10 or ''}": _pick(rng, TAG_VALUES) for k in range(count)}
        roll = rng.random()
        if roll < 0.2:
            return None
        if roll < 0.3:
            return {}
        return {key: _pick(rng, TAG_VALUES) for key in rng.sample(TAG_KEYS, rng.randint(1, 4))}

    # --- subscriptions ------------------------------------------------------------------------------

    def subscriptions(self, count: int) -> list[Record]:
        rng = random.Random(f"{self.seed}:subscriptions")
        return [self.make_subscription(rng) for _ in range(count)]

    def _subscription_kind(self, i: int, rng: random.Random) -> SubscriptionKind:
        if i < len(FORCED_SUBSCRIPTION_TYPES):
            return next(k for k in SUBSCRIPTION_KINDS if k.subscription_type == FORCED_SUBSCRIPTION_TYPES[i])
        return self._sub_pick.pick(rng)

    def _term(self, i: int, rng: random.Random, sub_type: str) -> tuple[int, int, str]:
        """(start, end, status): every 20 subscriptions, one has ended and three end within 30/60/90 days."""
        bucket = i % 20
        if bucket == 0:
            end = self.now_ms - _below(rng, 1, 400) * DAY_MS
        elif bucket <= 3:
            end = self.now_ms + ((bucket - 1) * 30 + _below(rng, 1, 31)) * DAY_MS
        else:
            end = self.now_ms + _below(rng, 91, 1800) * DAY_MS
        start = end - _pick(rng, (1, 3, 5)) * 365 * DAY_MS
        if end < self.now_ms:
            return start, end, "CANCELLED" if i % 3 == 0 else "ENDED"
        status = {13: "SUSPENDED", 21: "LOCKED", 29: "GRACE_PERIOD", 37: "NOT_STARTED"}.get(i % 40, "STARTED")
        if sub_type in ("SUPPORT", "SERVICE") and i % 7 == 0:
            status = "NONE"
        if status == "NOT_STARTED":
            start = self.now_ms + _below(rng, 1, 60) * DAY_MS
        return start, end, status

    def make_subscription(self, rng: random.Random, stamp_ms: int | None = None) -> Record:
        """One subscription; `stamp_ms` (for mutation adds) sets createdAt/updatedAt."""
        i = self.next_subscription_index
        self.next_subscription_index += 1
        kind = self._subscription_kind(i, rng)
        tier, tier_description, sku = _pick(rng, kind.tiers)
        start, end, status = self._term(i, rng, kind.subscription_type)
        if stamp_ms is None:
            created = min(start, self.now_ms) - _below(rng, DAY_MS, 30 * DAY_MS)
            updated = created + _below(rng, 0, self.now_ms - created)
        else:
            created = updated = stamp_ms
        sub_id, key = _uuid(rng), "E" + _scramble36(i, 10, self._salt)
        spare = str(_pick(rng, (0, 0, 1, 5, 10, 25, 50, 100)))  # devices() adds the devices using it
        tags = _pick(rng, ({}, {}, None, {"costCenter": _pick(rng, TAG_VALUES)}, {"owner": "netops"}))
        record = {
            "id": sub_id, "type": "subscriptions/subscription", "key": key,
            "subscriptionType": kind.subscription_type, "subscriptionStatus": status,
            "quantity": spare, "availableQuantity": spare, "sku": sku,
            "skuDescription": f"{tier_description} subscription {round((end - start) / DAY_MS / 365)}y",
            "startTime": iso_ms(start), "endTime": iso_ms(end),
            "tier": tier, "tierDescription": tier_description,
            "productType": kind.product_type, "isEval": i % 19 == 4,
            "contract": f"CT-{_below(rng, 10**7):07d}" if rng.random() < 0.6 else None,
            "quote": f"Q-{_below(rng, 10**6):06d}" if rng.random() < 0.7 else None,
            "po": f"PO-{_below(rng, 10**6):06d}" if rng.random() < 0.8 else None,
            "resellerPo": _pick(rng, (None, None, "NONE", f"RPO-{_below(rng, 10**5):05d}")),
            "tags": dict(tags) if tags is not None else None,
            "createdAt": iso_ms(created), "updatedAt": iso_ms(updated),
        }  # fmt: skip
        if kind.product_type == "DEVICE" and status != "CANCELLED":
            link = {"id": sub_id, "resourceUri": f"/subscriptions/v1/subscriptions/{sub_id}", "key": key,
                    "tier": tier, "startTime": record["startTime"], "endTime": record["endTime"]}  # fmt: skip
            self._sub_refs.setdefault(kind.subscription_type, []).append(link)
        return record

    # --- devices ------------------------------------------------------------------------------------

    def devices(self, count: int, subscriptions: list[Record]) -> list[Record]:
        """Devices linked to `subscriptions`; each subscription's `quantity` then counts its devices too."""
        rng = random.Random(f"{self.seed}:devices")
        devices = [self.make_device(rng) for _ in range(count)]
        used: dict[str, int] = {}
        for device in devices:
            for link in device["subscription"] or ():
                used[link["id"]] = used.get(link["id"], 0) + 1
        for sub in subscriptions:
            sub["quantity"] = str(int(sub["quantity"]) + used.get(sub["id"], 0))
        return devices

    def _kind(self, i: int, rng: random.Random) -> DeviceKind:
        if i % 50 == 7:
            return RARE_DEVICE_KINDS[(i // 50) % len(RARE_DEVICE_KINDS)]
        return self._kind_pick.pick(rng)

    @staticmethod
    def _assigned_state(i: int, rng: random.Random) -> str:
        roll = rng.random()
        if i % 50 == 11:
            return "ASSIGNED_TO_ACTIVATE_CONFIG"
        if roll < 0.70:
            return "ASSIGNED_TO_SERVICE"
        return "UNASSIGNED" if roll < 0.96 else "ASSIGNED_TO_DEDICATED_PLATFORM"

    def _links(self, i: int, rng: random.Random, kind: DeviceKind, assigned: bool) -> list[Record] | None:
        """Most assigned devices use one subscription of their type, a few two; one in 211 a vanished one."""
        refs = self._sub_refs.get(kind.subscription_type or "")
        if assigned and kind.subscription_type and i % 211 == 9:
            gone = _uuid(rng)
            return [{"id": gone, "resourceUri": f"/subscriptions/v1/subscriptions/{gone}",
                     "key": "EGONE" + _scramble36(i, 6, self._salt), "tier": "FOUNDATION_AP",
                     "startTime": iso_ms(self.now_ms - 700 * DAY_MS),
                     "endTime": iso_ms(self.now_ms + 300 * DAY_MS)}]  # fmt: skip
        if assigned and refs and rng.random() < 0.8:
            links = [_pick(rng, refs)]
            if i % 31 == 0 and len(refs) > 1:
                second = _pick(rng, refs)
                if second is not links[0]:
                    links.append(second)
            return links
        return [] if i % 2 else None  # GLP sends both an empty list and null

    def _mac(self, i: int, kind: DeviceKind) -> str | None:
        if kind.category in ("COMPUTE", "STORAGE") and i % 3 == 0:
            return None
        low = (i * 0x9E3779B1 + self._mac_salt) % (1 << 24)  # odd multiplier: unique per index
        return f"{OUIS[i % len(OUIS)]}:{low >> 16:02X}:{(low >> 8) & 255:02X}:{low & 255:02X}"

    def make_device(self, rng: random.Random, stamp_ms: int | None = None) -> Record:
        """One device; `stamp_ms` (for mutation adds) sets createdAt/updatedAt."""
        i = self.next_device_index
        self.next_device_index += 1
        kind = self._kind(i, rng)
        hardware = kind.category in ("COMPUTE", "STORAGE")
        state = self._assigned_state(i, rng)
        assigned = state == "ASSIGNED_TO_SERVICE"
        source = "DISCOVERED" if i % 53 == 17 else "MANAGED"
        flex = hardware and i % 23 == 3
        management = {1: "MSP", 2: "TENANT"}.get(i % 19)
        tenant = self._tenants[i % len(self._tenants)] if management == "TENANT" else None
        links = self._links(i, rng, kind, assigned)
        site = _below(rng, len(self._locations))
        location = self._locations[site] if rng.random() < 0.65 else None
        city = self._locations[site]["city"]
        if stamp_ms is None:
            created = self.now_ms - _below(rng, DAY_MS, 1500 * DAY_MS)
            updated = created + _below(rng, 0, self.now_ms - created)
        else:
            created = updated = stamp_ms
        made = None if i % 7 == 2 else iso_ms((created - _below(rng, 30, 900) * DAY_MS) // DAY_MS * DAY_MS)
        billing = self._billing[i % len(self._billing)] if flex else (None, None, None)
        return {
            "id": _uuid(rng), "type": "devices/device",
            "serialNumber": kind.serial_prefix + _scramble36(i, 7, self._salt),  # fixed width: unique
            "partNumber": _pick(rng, kind.parts), "macAddress": self._mac(i, kind),
            "deviceType": kind.device_type, "category": kind.category, "model": _pick(rng, kind.models),
            "region": self._region_pick.pick(rng) if assigned else None,
            "deviceName": None if i % 10 == 3 else f"{city}-{kind.label}-{i % 1000:03d}",
            "secondaryName": SECONDARY_NAMES[(i // 4) % len(SECONDARY_NAMES)] if i % 4 == 1 else None,
            "assignedState": state, "archived": state == "UNASSIGNED" and i % 9 == 0,
            "application": self._applications[kind.category] if assigned else None,
            "subscription": links, "tags": self._tags(rng, i), "location": location,
            "dedicatedPlatformWorkspace":
                self._dedicated[i % 2] if state == "ASSIGNED_TO_DEDICATED_PLATFORM" else None,
            "tenantWorkspaceId": tenant,
            "inUseWorkspace":
                self._workspaces[tenant or self.workspace_id] if state != "UNASSIGNED" else None,
            "management": management,
            "ownership": "DISCOVERED" if source == "DISCOVERED" else ("FLEX" if flex else "MANAGED"),
            "source": source,
            "make": _pick(rng, ("Cisco", "Dell", "Juniper")) if source == "DISCOVERED" else kind.make,
            "manufacturedDate": made, "isFlex": flex,
            "billingAccountId": billing[0], "billingAccountName": billing[1], "billingTier": billing[2],
            "subscriptionCategory":
                _pick(rng, ("ProLiant", "Synergy", "Apollo")) if kind.category == "COMPUTE" else None,
            "warranty":
                self._warranties[i % len(self._warranties)] if (hardware or i % 4 == 0) and i % 5 else None,
            "contact": self._contacts[i % len(self._contacts)] if i % 7 == 1 else None,
            "createdAt": iso_ms(created), "updatedAt": iso_ms(updated),
        }  # fmt: skip

    # --- what the write endpoints need -------------------------------------------------------------

    @property
    def applications(self) -> dict[str | None, Record]:
        """The application reference (`{id, resourceUri}`) of each device category: the service managers."""
        return dict(self._applications)

    def application_ref(self, app_id: str) -> Record:
        """The `application` object a device assigned to `app_id` carries (shared when it is a known one)."""
        for application in self._applications.values():
            if application["id"] == app_id:
                return application
        return {"id": app_id, "resourceUri": f"/service-catalog/v1beta1/service-managers/{app_id}"}

    def workspace_ref(self) -> Record:
        """The `inUseWorkspace` object of a device assigned in this workspace."""
        return self._workspaces[self.workspace_id]

    @staticmethod
    def subscription_link(sub: Record) -> Record:
        """The `subscription[]` entry a device using `sub` carries."""
        return {"id": sub["id"], "resourceUri": f"/subscriptions/v1/subscriptions/{sub['id']}",
                "key": sub["key"], "tier": sub["tier"], "startTime": sub["startTime"],
                "endTime": sub["endTime"]}  # fmt: skip

    def claimed_device(
        self,
        rng: random.Random,
        category: str,
        serial: str,
        mac: str | None,
        part: str | None,
        tags: dict[str, str] | None,
        stamp_ms: int,
    ) -> Record:
        """A device added by POST: unassigned, no subscription; type and model from its part or serial."""
        kind = kind_for(part, serial)
        device_type = (
            kind.device_type
            if kind
            else {"COMPUTE": "COMPUTE", "STORAGE": "STORAGE"}.get(category, "UNKNOWN")
        )
        return {
            "id": _uuid(rng), "type": "devices/device", "serialNumber": serial, "partNumber": part,
            "macAddress": mac, "deviceType": device_type, "category": category,
            "model": kind.models[0] if kind else None, "region": None, "deviceName": None,
            "secondaryName": None, "assignedState": "UNASSIGNED", "archived": False, "application": None,
            "subscription": [], "tags": dict(tags or {}), "location": None,
            "dedicatedPlatformWorkspace": None, "tenantWorkspaceId": None, "inUseWorkspace": None,
            "management": None, "ownership": "MANAGED", "source": "MANAGED",
            "make": kind.make if kind else "HPE", "manufacturedDate": None, "isFlex": False,
            "billingAccountId": None, "billingAccountName": None, "billingTier": None,
            "subscriptionCategory": None, "warranty": None, "contact": None,
            "createdAt": iso_ms(stamp_ms), "updatedAt": iso_ms(stamp_ms),
        }  # fmt: skip

    # --- changes for mutations ----------------------------------------------------------------------

    def changed_device(self, rng: random.Random, device: Record, stamp_ms: int) -> Record:
        """A copy of `device` with one visible field changed and a new updatedAt."""
        new = dict(device)
        field = _pick(rng, ("deviceName", "tags", "archived", "location", "secondaryName"))
        if field == "deviceName":
            new["deviceName"] = f"{(device['deviceName'] or 'device').split('~')[0]}~r{stamp_ms % 100000}"
        elif field == "tags":
            new["tags"] = {**(device["tags"] or {}), "revision": str(stamp_ms)}
        elif field == "archived":
            new["archived"] = not device["archived"]
        elif field == "location":
            places = [loc for loc in self._locations[:8] if loc is not device["location"]]
            new["location"] = _pick(rng, places)
        else:
            new["secondaryName"] = f"Moved {iso_ms(stamp_ms)[:10]}"
        new["updatedAt"] = iso_ms(stamp_ms)
        return new

    def changed_subscription(self, rng: random.Random, sub: Record, stamp_ms: int) -> Record:
        """A copy of `sub` with one visible field changed and a new updatedAt."""
        new = dict(sub)
        field = _pick(rng, ("tags", "availableQuantity", "endTime"))
        if field == "tags":
            new["tags"] = {**(sub["tags"] or {}), "revision": str(stamp_ms)}
        elif field == "availableQuantity":  # one more device uses it, or the order grows by one
            quantity, available = int(sub["quantity"]), int(sub["availableQuantity"])
            if available > 0:
                new["availableQuantity"] = str(available - 1)
            else:
                new["quantity"], new["availableQuantity"] = str(quantity + 1), "1"
        else:  # renewed for a year
            new["endTime"] = iso_ms(parse_iso_ms(sub["endTime"]) + 365 * DAY_MS)
        new["updatedAt"] = iso_ms(stamp_ms)
        return new
