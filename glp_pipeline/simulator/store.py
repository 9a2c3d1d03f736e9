"""The simulated workspace's inventory: current state, queries, mutations and ground truth.

Records are treated as immutable: a change builds a new dict and swaps it in (copy-on-write), and the ordered
list a page is cut from is rebuilt rather than edited. A page being serialised therefore never sees a
half-made change, even though tests mutate from another thread. Default order is insertion order: new
records go to the end and removed ones shift later offsets, which is exactly the paging hazard a real client
must survive.

Write endpoints (PATCH/POST devices, subscription claims, async operations) will change state through methods
added here, next to `mutate`, so that ground truth stays in one place.
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from .data import InventoryGenerator, parse_iso_ms
from .odata import FieldSpec, FilterError, compile_filter, parse_filter, parse_sort, sort_records
from .schema import DEVICE_SPECS, SUBSCRIPTION_SPECS, resolver, tag_spec

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
