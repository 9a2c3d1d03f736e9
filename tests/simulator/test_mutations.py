"""Inventory changes: immediate mutations and mutations scheduled in the middle of paging."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .support import Live

Serve = Callable[..., Live]
DEVICES, SUBSCRIPTIONS = "/devices/v1/devices", "/subscriptions/v1/subscriptions"
VOLATILE = {"updatedAt"}


def test_mutations_are_visible_through_the_api(serve: Serve) -> None:
    live = serve(rate_limits=False)
    before = {d["id"]: d for d in live.list_all(DEVICES)}
    latest = max(d["updatedAt"] for d in before.values())
    report = live.sim.mutate(add=5, update=10, remove=3)
    assert (len(report.added), len(report.updated), len(report.removed)) == (5, 10, 3)
    assert not set(report.updated) & set(report.removed)
    after = {d["id"]: d for d in live.list_all(DEVICES)}
    assert live.get(DEVICES, limit=1).json()["total"] == 300 + 5 - 3
    assert set(after) == (set(before) - set(report.removed)) | set(report.added)
    for device_id in report.removed:
        assert live.get(f"{DEVICES}/{device_id}").status_code == 404
    for device_id in report.updated:
        old, new = before[device_id], after[device_id]
        assert new["updatedAt"] > latest
        assert {k: v for k, v in old.items() if k not in VOLATILE} != {
            k: v for k, v in new.items() if k not in VOLATILE
        }, "an update must change something besides updatedAt"
    for device_id in report.added:
        assert after[device_id]["createdAt"] > latest
    serials = [d["serialNumber"] for d in after.values()]
    assert len(set(serials)) == len(serials)
    assert list(after.values()) == live.sim.devices()


def test_updated_at_always_moves_forward(serve: Serve) -> None:
    live = serve(rate_limits=False)
    stamps = []
    for _ in range(3):
        report = live.sim.mutate(update=4)
        stamps.extend(live.get(f"{DEVICES}/{i}").json()["updatedAt"] for i in report.updated)
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)


def test_incremental_filter_finds_exactly_the_changes(serve: Serve) -> None:
    live = serve(rate_limits=False)
    cursor = max(d["updatedAt"] for d in live.sim.devices())
    report = live.sim.mutate(add=2, update=6, remove=1)
    changed = {d["id"] for d in live.list_all(DEVICES, filter=f"updatedAt gt '{cursor}'")}
    assert changed == set(report.added) | set(report.updated)


def test_subscription_mutations(serve: Serve) -> None:
    live = serve(rate_limits=False)
    before = {s["id"]: s for s in live.list_all(SUBSCRIPTIONS)}
    report = live.sim.mutate(add=2, update=5, remove=1, resource="subscriptions")
    after = {s["id"]: s for s in live.list_all(SUBSCRIPTIONS)}
    assert set(after) == (set(before) - set(report.removed)) | set(report.added)
    for sub_id in report.updated:
        assert after[sub_id]["updatedAt"] > before[sub_id]["updatedAt"]
        assert isinstance(after[sub_id]["quantity"], str)
    assert all(after[i]["type"] == "subscriptions/subscription" for i in report.added)


def test_scheduled_mutation_changes_the_total_between_pages(serve: Serve) -> None:
    live = serve(rate_limits=False)
    pending = live.sim.schedule_mutation(after_list_requests=2, resource="devices", add=5, remove=2)
    first = live.get(DEVICES, limit=100, offset=0).json()
    assert first["total"] == 300
    assert not pending.fired.is_set()
    second = live.get(DEVICES, limit=100, offset=100).json()
    assert second["total"] == 303
    assert pending.fired.is_set()
    assert pending.report is not None
    assert len(pending.report.added) == 5
    third = live.get(DEVICES, limit=100, offset=200).json()
    assert third["total"] == 303  # it fired once only


def test_refused_list_requests_do_not_count_towards_a_schedule(serve: Serve) -> None:
    live = serve(rate_limits=False)
    pending = live.sim.schedule_mutation(after_list_requests=1, add=1)
    assert live.http.get(DEVICES).status_code == 401
    assert live.get(DEVICES, filter="colour eq 'x'").status_code == 400
    assert live.get(DEVICES, limit=0).status_code == 400
    assert not pending.fired.is_set()
    assert live.get(DEVICES, limit=1).json()["total"] == 301


def test_scheduled_mutation_counts_only_its_resource(serve: Serve) -> None:
    live = serve(rate_limits=False)
    pending = live.sim.schedule_mutation(after_list_requests=1, resource="subscriptions", update=3)
    live.get(DEVICES, limit=1)
    assert not pending.fired.is_set()
    live.get(SUBSCRIPTIONS, limit=1)
    assert pending.fired.is_set()


def test_removed_subscriptions_leave_dangling_device_links(serve: Serve) -> None:
    live = serve(rate_limits=False)
    linked = {link["id"] for d in live.sim.devices() for link in d["subscription"] or []}
    report = live.sim.mutate(remove=60, resource="subscriptions")
    assert linked & set(report.removed)
    assert live.get(SUBSCRIPTIONS, limit=1).json()["total"] == 0
    assert live.get(DEVICES, limit=1).json()["total"] == 300


@pytest.mark.parametrize(
    "call",
    [
        lambda sim: sim.mutate(add=-1),
        lambda sim: sim.mutate(add=1, resource="clients"),
        lambda sim: sim.schedule_mutation(after_list_requests=0, add=1),
    ],
)
def test_bad_mutation_requests_are_refused(serve: Serve, call: Callable[..., object]) -> None:
    live = serve()
    with pytest.raises(ValueError, match=r"must be|resource"):
        call(live.sim)
