"""The simulated workspace's inventory: current state, queries, mutations and ground truth.

Records are treated as immutable: a change builds a new dict and swaps it in (copy-on-write), and the ordered
list a page is cut from is rebuilt rather than edited. A page being serialised therefore never sees a
half-made change, even though tests mutate from another thread. Default order is insertion order: new
records go to the end and removed ones shift later offsets, which is exactly the paging hazard a real client
must survive.

The write endpoints change state through `patch_devices`, `add_devices` and `patch_subscription_tags`, next
to `mutate`, so that ground truth stays in one place. Each works on copies and swaps every changed record in
at once under the lock: a GET never sees half of a batch. Per-device failures (unknown device, exhausted or
unfitting subscription, tag clash, unknown application or a region it does not serve) are reported, not
raised; error codes are the documented GLP ones (`HPE_GL_ERROR_NOT_FOUND` for an unknown device,
subscription or application, `HPE_GL_UNPROCESSABLE_CONTENT` for a rule the device's state breaks).
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from .data import DEVICE_SUBSCRIPTION_TYPES, InventoryGenerator, iso_ms, parse_iso_ms
from .odata import FieldSpec, FilterError, compile_filter, parse_filter, parse_sort, sort_records
from .schema import DEVICE_SPECS, SUBSCRIPTION_SPECS, resolver, tag_spec

if TYPE_CHECKING:
    from .services import ServiceCatalog
    from .write_checks import DevicePatch, NewDevice

Resource = Literal["devices", "subscriptions"]
RESOURCES: tuple[Resource, ...] = ("devices", "subscriptions")
Record = dict[str, Any]


class QueryError(FilterError):
    """A bad `filter`, `filter-tags`, `sort` or `select`; `subject` names the query parameter."""

    def __init__(self, subject: str, error: FilterError) -> None:
        super().__init__(f"invalid {subject}: {error.message}", error.position)
        self.subject = subject


@dataclass(frozen=True)
class MutationReport:
    """Ids touched by one mutation, in the order they were touched."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass
class ScheduledMutation:
    """A mutation that fires right before the Nth list request of its resource is served."""

    resource: Resource
    remaining: int
    add: int
    update: int
    remove: int
    fired: threading.Event = field(default_factory=threading.Event)
    report: MutationReport | None = None


NOT_FOUND = "HPE_GL_ERROR_NOT_FOUND"
UNPROCESSABLE = "HPE_GL_UNPROCESSABLE_CONTENT"
ENDED_STATUSES = frozenset({"ENDED", "CANCELLED"})


@dataclass(frozen=True)
class ItemFailure:
    """One device (or subscription) a write could not change, as the async operation reports it."""

    id: str | None
    serial_number: str | None
    error_code: str
    message: str


@dataclass
class WriteReport:
    """What one write did: the (id, serial) of each changed or added record, and the failures."""

    succeeded: list[tuple[str, str | None]] = field(default_factory=list)
    failed: list[ItemFailure] = field(default_factory=list)


class _Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class Collection:
    """One resource's records by id, with cached ordered views and cached query results."""

    def __init__(self, name: Resource, records: list[Record], specs: dict[str, FieldSpec]) -> None:
        self.name = name
        self.specs = specs
        self._records: dict[str, Record] = {record["id"]: record for record in records}
        self._ordered: list[Record] | None = None
        self._queries: OrderedDict[tuple[str | None, ...], list[Record]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._records)

    def all(self) -> list[Record]:
        if self._ordered is None:
            self._ordered = list(self._records.values())
        return self._ordered

    def ids(self) -> list[str]:
        return list(self._records)

    def get(self, record_id: str) -> Record | None:
        return self._records.get(record_id)

    def put(self, record: Record) -> None:
        self._records[record["id"]] = record
        self._changed()

    def delete(self, record_id: str) -> None:
        del self._records[record_id]
        self._changed()

    def _changed(self) -> None:
        self._ordered = None
        self._queries.clear()

    def query(self, filter_: str | None, filter_tags: str | None, sort: str | None) -> list[Record]:
        """Matching records in sort (else insertion) order; repeated page requests reuse the result."""
        key = (filter_, filter_tags, sort)
        cached = self._queries.get(key)
        if cached is not None:
            self._queries.move_to_end(key)
            return cached
        tests: list[Callable[[Record], bool]] = []
        if filter_ is not None:
            tests.append(self._compile("filter", filter_, tags=False))
        if filter_tags is not None:
            tests.append(self._compile("filter-tags", filter_tags, tags=True))
        records = self.all()
        for test in tests:
            records = [record for record in records if test(record)]
        if sort is not None:
            records = sort_records(records, self._sort_keys(sort))
        self._queries[key] = records
        if len(self._queries) > 16:
            self._queries.popitem(last=False)
        return records

    def check(self, filter_: str | None, filter_tags: str | None, sort: str | None) -> None:
        """Raise QueryError if the query is invalid, without running it."""
        if filter_ is not None:
            self._compile("filter", filter_, tags=False)
        if filter_tags is not None:
            self._compile("filter-tags", filter_tags, tags=True)
        if sort is not None:
            self._sort_keys(sort)

    def _compile(self, subject: str, text: str, *, tags: bool) -> Callable[[Record], bool]:
        try:
            expr = parse_filter(text, tags=tags)
            resolve = (lambda name, _pos: tag_spec(name)) if tags else resolver(self.specs, "filter")
            return compile_filter(expr, resolve, tags=tags)
        except FilterError as error:
            raise QueryError(subject, error) from None

    def _sort_keys(self, text: str) -> list[tuple[FieldSpec, bool]]:
        try:
            resolve = resolver(self.specs, "sort")
            return [(resolve(term.name, term.position), term.descending) for term in parse_sort(text)]
        except FilterError as error:
            raise QueryError("sort", error) from None


class Inventory:
    """Devices and subscriptions of the simulated workspace, plus the mutation machinery tests drive."""

    def __init__(self, seed: int, now: datetime, workspace_id: str, devices: int, subscriptions: int) -> None:
        self.generator = InventoryGenerator(seed, now, workspace_id)
        subs = self.generator.subscriptions(subscriptions)
        devs = self.generator.devices(devices, subs)
        self.collections: dict[Resource, Collection] = {
            "devices": Collection("devices", devs, DEVICE_SPECS),
            "subscriptions": Collection("subscriptions", subs, SUBSCRIPTION_SPECS),
        }
        self.lock = threading.RLock()
        self._rng = random.Random(f"{seed}:mutations")
        self._last_stamp_ms = max(
            (parse_iso_ms(r["updatedAt"]) for c in self.collections.values() for r in c.all()), default=0
        )
        self._scheduled: list[ScheduledMutation] = []

    def collection(self, resource: str) -> Collection:
        if resource not in self.collections:
            raise ValueError(f"resource must be one of {RESOURCES}, not {resource!r}")
        return self.collections[resource]  # type: ignore[index]

    def _stamp(self) -> int:
        """A new updatedAt: the wall clock, but always strictly after every timestamp handed out so far."""
        self._last_stamp_ms = max(int(time.time() * 1000), self._last_stamp_ms + 1)
        return self._last_stamp_ms

    def mutate(self, resource: Resource, add: int = 0, update: int = 0, remove: int = 0) -> MutationReport:
        """Add new records, update existing ones (new updatedAt, one field changed), remove others."""
        if min(add, update, remove) < 0:
            raise ValueError("add, update and remove must be >= 0")
        with self.lock:
            coll = self.collection(resource)
            ids = coll.ids()
            chosen = self._rng.sample(ids, min(len(ids), update + remove))
            to_update, to_remove = chosen[:update], chosen[update:]
            report = MutationReport()
            for record_id in to_update:
                record = coll.get(record_id)
                assert record is not None
                if resource == "devices":
                    new = self.generator.changed_device(self._rng, record, self._stamp())
                else:
                    new = self.generator.changed_subscription(self._rng, record, self._stamp())
                coll.put(new)
                report.updated.append(record_id)
            for record_id in to_remove:
                coll.delete(record_id)
                report.removed.append(record_id)
            for _ in range(add):
                if resource == "devices":
                    record = self.generator.make_device(self._rng, stamp_ms=self._stamp())
                else:
                    record = self.generator.make_subscription(self._rng, stamp_ms=self._stamp())
                coll.put(record)
                report.added.append(record["id"])
            return report

    def schedule(
        self, resource: Resource, after_list_requests: int, add: int, update: int, remove: int
    ) -> ScheduledMutation:
        if after_list_requests < 1:
            raise ValueError("after_list_requests must be >= 1")
        self.collection(resource)
        pending = ScheduledMutation(resource, after_list_requests, add, update, remove)
        with self.lock:
            self._scheduled.append(pending)
        return pending

    def before_list(self, resource: Resource) -> None:
        """Called by the list endpoints right before they serve a request: fires due scheduled mutations."""
        with self.lock:
            due = []
            for pending in self._scheduled:
                if pending.resource == resource:
                    pending.remaining -= 1
                    if pending.remaining <= 0:
                        due.append(pending)
            for pending in due:
                self._scheduled.remove(pending)
                pending.report = self.mutate(pending.resource, pending.add, pending.update, pending.remove)
                pending.fired.set()

    # --- writes (the async operations of app_writes.py call these when they complete) -------------------

    def patch_devices(
        self, ids: list[str], patch: DevicePatch, catalog: ServiceCatalog, max_tags: int
    ) -> WriteReport:
        """Apply one validated device PATCH to `ids`, device by device; commit every success at once."""
        report = WriteReport()
        with self.lock:
            devices, subs = self.collections["devices"], self.collections["subscriptions"]
            sub_copies: dict[str, Record] = {}  # subscriptions whose availableQuantity this batch moved
            changed: list[Record] = []
            for device_id in ids:
                device = devices.get(device_id)
                if device is None:
                    report.failed.append(
                        ItemFailure(device_id, None, NOT_FOUND, f"device {device_id} not found")
                    )
                    continue
                pending = dict(sub_copies)
                try:
                    new = self._patched(device, patch, catalog, max_tags, pending, subs)
                except _Refused as refused:
                    failure = ItemFailure(device_id, device["serialNumber"], refused.code, refused.message)
                    report.failed.append(failure)
                    continue
                sub_copies = pending
                new["updatedAt"] = iso_ms(self._stamp())
                changed.append(new)
                report.succeeded.append((device_id, device["serialNumber"]))
            for sub in sub_copies.values():
                sub["updatedAt"] = iso_ms(self._stamp())
                subs.put(sub)
            for new in changed:
                devices.put(new)
        return report

    def _patched(
        self,
        device: Record,
        patch: DevicePatch,
        catalog: ServiceCatalog,
        max_tags: int,
        subs_copy: dict[str, Record],
        subs: Collection,
    ) -> Record:
        new = dict(device)
        if patch.assign:
            if patch.application_id is None:
                new.update(application=None, region=None, assignedState="UNASSIGNED", inUseWorkspace=None)
            else:
                manager = catalog.get(patch.application_id)
                if manager is None:
                    raise _Refused(NOT_FOUND, f"application {patch.application_id} is not a service manager")
                if patch.region not in manager.regions:
                    raise _Refused(
                        UNPROCESSABLE,
                        f"application {manager.name} is not deployed in region {patch.region!r} "
                        f"(it serves {', '.join(manager.regions)})",
                    )
                new.update(
                    application=self.generator.application_ref(manager.id),
                    region=patch.region,
                    assignedState="ASSIGNED_TO_SERVICE",
                    inUseWorkspace=self.generator.workspace_ref(),
                )
        if patch.tags is not None:
            new["tags"] = _tags_after(device.get("tags") or {}, patch.tags, max_tags)
        if patch.archived is not None:
            new["archived"] = patch.archived
        if patch.subscription_ids is not None:
            new["subscription"] = self._relinked(device, patch.subscription_ids, subs_copy, subs)
        return new

    def _relinked(
        self, device: Record, wanted: tuple[str, ...], subs_copy: dict[str, Record], subs: Collection
    ) -> list[Record]:
        """The device's new subscription links; moves availableQuantity in `subs_copy` (one per device)."""

        def current(sub_id: str) -> Record | None:
            return subs_copy.get(sub_id) or subs.get(sub_id)

        held = [link["id"] for link in device.get("subscription") or ()]
        links = []
        for sub_id in wanted:
            sub = current(sub_id)
            if sub is None:
                raise _Refused(NOT_FOUND, f"subscription {sub_id} not found")
            fits = DEVICE_SUBSCRIPTION_TYPES.get(device["deviceType"])
            if sub["productType"] != "DEVICE" or fits != sub["subscriptionType"]:
                raise _Refused(
                    UNPROCESSABLE,
                    f"subscription {sub['key']} ({sub['subscriptionType']}) does not fit a "
                    f"{device['deviceType']} device",
                )
            if sub["subscriptionStatus"] in ENDED_STATUSES:
                raise _Refused(UNPROCESSABLE, f"subscription {sub['key']} is {sub['subscriptionStatus']}")
            if sub_id not in held:
                available = int(sub["availableQuantity"])
                if available < 1:
                    raise _Refused(UNPROCESSABLE, f"subscription {sub['key']} has no available quantity left")
                subs_copy[sub_id] = {**sub, "availableQuantity": str(available - 1)}
            links.append(self.generator.subscription_link(current(sub_id) or sub))
        for sub_id in held:
            sub = current(sub_id)
            if sub_id not in wanted and sub is not None:
                freed = min(int(sub["quantity"]), int(sub["availableQuantity"]) + 1)
                subs_copy[sub_id] = {**sub, "availableQuantity": str(freed)}
        return links

    def add_devices(
        self, devices: list[NewDevice], rng: random.Random, *, commit: bool = True
    ) -> WriteReport:
        """Claim new devices; a serial already in the workspace fails (nothing written unless `commit`)."""
        report = WriteReport()
        with self.lock:
            coll = self.collections["devices"]
            known = {record["serialNumber"].upper() for record in coll.all()}
            for new in devices:
                if new.serial_number.upper() in known:
                    message = f"device {new.serial_number} is already in a workspace"
                    report.failed.append(ItemFailure(None, new.serial_number, UNPROCESSABLE, message))
                    continue
                record = self.generator.claimed_device(
                    rng, new.category, new.serial_number, new.mac_address, new.part_number, new.tags,
                    self._stamp(),
                )  # fmt: skip
                if commit:
                    coll.put(record)
                report.succeeded.append((record["id"] if commit else "", new.serial_number))
        return report

    def patch_subscription_tags(
        self, ids: list[str], tags: dict[str, str | None], max_tags: int
    ) -> WriteReport:
        """Merge a tag update into subscriptions (C.4: PATCH changes tags only)."""
        report = WriteReport()
        with self.lock:
            coll = self.collections["subscriptions"]
            changed = []
            for sub_id in ids:
                sub = coll.get(sub_id)
                if sub is None:
                    report.failed.append(
                        ItemFailure(sub_id, None, NOT_FOUND, f"subscription {sub_id} not found")
                    )
                    continue
                try:
                    new_tags = _tags_after(sub.get("tags") or {}, tags, max_tags)
                except _Refused as refused:
                    report.failed.append(ItemFailure(sub_id, sub["key"], refused.code, refused.message))
                    continue
                changed.append({**sub, "tags": new_tags, "updatedAt": iso_ms(self._stamp())})
                report.succeeded.append((sub_id, sub["key"]))
            for new in changed:
                coll.put(new)
        return report


def _tags_after(existing: dict[str, str], update: Mapping[str, str | None], max_tags: int) -> dict[str, str]:
    """Merge a tag update: null deletes; keys compare case-insensitively (a differently cased key fails)."""
    tags = dict(existing)
    for key, value in update.items():
        match = next((name for name in tags if name.lower() == key.lower()), None)
        if value is None:
            if match is not None:
                del tags[match]
        elif match is not None and match != key:
            raise _Refused(
                UNPROCESSABLE, f"tag key {key!r} clashes with the existing key {match!r} (keys ignore case)"
            )
        else:
            tags[key] = value
    if len(tags) > max_tags:
        raise _Refused(
            UNPROCESSABLE, f"a device carries at most {max_tags} tags; this update makes {len(tags)}"
        )
    return tags
