"""Complete paging against the simulator: capped pages, changing inventories, missing totals, bad filters."""

from __future__ import annotations

import pytest

from glp_pipeline.greenlake.errors import (
    BadRequestError,
    IncompleteInventoryError,
    NotFoundError,
    ServerError,
)

from .conftest import api_requests

DEVICES = "/devices/v1/devices"


def _ids(records) -> set[str]:
    return {record["id"] for record in records}


def _drain(pages) -> tuple[list, dict[str, dict]]:
    """Consume like a real consumer: keep every page, merge items on id."""
    seen, merged = [], {}
    for page in pages:
        seen.append(page)
        merged.update({item["id"]: item for item in page.items})
    return seen, merged


def test_silent_page_cap_still_yields_every_id(serve, make_client) -> None:
    sim, server = serve(devices=250, page_cap=37)
    client = make_client(server)
    pages = client.list_devices(page_size=100)
    seen, merged = _drain(pages)
    assert set(merged) == _ids(sim.devices())
    # Short pages were not taken for the end. Reads overlap by one item, so later pages bring 36 new ones.
    assert [len(p.items) for p in seen] == [37, 36, 36, 36, 36, 36, 33]
    assert [p.offset for p in seen] == [0, 37, 73, 109, 145, 181, 217]
    assert [r.query["offset"] for r in api_requests(sim, DEVICES)] == [
        [str(o)] for o in (0, 36, 72, 108, 144, 180, 216)
    ]
    result = pages.result
    assert result.complete and result.total_verified
    assert result.total == 250 and result.count == 250 and result.ids == _ids(sim.devices())
    assert result.reconcile_attempts == 0


def test_limit_above_the_maximum_silently_capped(serve, make_client) -> None:
    sim, server = serve(devices=250, devices_max_limit=60, limit_out_of_range="cap")
    client = make_client(server)
    pages = client.list_devices(page_size=100)
    _, merged = _drain(pages)
    assert set(merged) == _ids(sim.devices())
    assert all(r.query["limit"] == ["100"] for r in api_requests(sim, DEVICES))
    assert pages.result.count == 250


def test_limit_above_the_maximum_rejected_says_so(serve, make_client) -> None:
    _, server = serve(subscriptions=30, subscriptions_max_limit=50)
    client = make_client(server)
    with pytest.raises(BadRequestError) as info:
        list(client.list_subscriptions(page_size=200))
    assert "limit must be between 1 and 50" in str(info.value)
    assert info.value.issues[0]["subject"] == "limit"


def test_subscriptions_default_page_size(serve, make_client) -> None:
    sim, server = serve(subscriptions=130)
    client = make_client(server)
    pages = client.list_subscriptions()
    seen, merged = _drain(pages)
    assert set(merged) == _ids(sim.subscriptions())
    assert [len(p.items) for p in seen] == [50, 49, 31]
    assert pages.result.total == 130


def test_total_changing_during_paging_is_reconciled(serve, make_client) -> None:
    sim, server = serve(devices=100)
    before = _ids(sim.devices())
    scheduled = sim.schedule_mutation(after_list_requests=2, add=5, remove=3)
    client = make_client(server)
    reported = []
    pages = client.list_devices(page_size=20, on_page=lambda p: reported.append(p.reconcile_attempt))
    seen, merged = _drain(pages)
    assert scheduled.fired.is_set()
    after = _ids(sim.devices())
    assert after != before
    result = pages.result
    assert result.reconcile_attempts == 1
    assert result.ids == after  # the final pass is exactly the inventory as it is now
    assert after <= set(merged)  # consumers merging on id have every current device...
    assert set(merged) - after <= set(scheduled.report.removed)  # ...plus only what was removed
    assert {p.reconcile_attempt for p in seen} == {0, 1}
    assert reported == [p.reconcile_attempt for p in seen]
    assert client.stats.reconcile_passes == 1
    assert any("total changed from 100 to 102" in reason for reason in result.reasons)


def _churn_after_first_page(sim, reports):
    """An on_page callback: right after page 0, remove 30 devices and add 30 (total unchanged)."""

    def churn(page) -> None:
        if page.reconcile_attempt == 0 and page.page_number == 0:
            reports.append(sim.mutate(add=30, remove=30))

    return churn


def test_a_change_that_keeps_the_total_is_caught_by_the_page_overlap(serve, make_client) -> None:
    sim, server = serve(devices=100)
    original = [d["id"] for d in sim.devices()]
    reports = []
    client = make_client(server)
    pages = client.list_devices(page_size=20, on_page=_churn_after_first_page(sim, reports))
    _drain(pages)
    assert any(original.index(i) < 19 for i in reports[0].removed)  # the list shifted under the offset
    result = pages.result
    assert result.total == 100 and result.reconcile_attempts == 1
    assert result.ids == _ids(sim.devices())
    assert "moved between two page reads" in result.reasons[0]


def test_without_the_overlap_the_same_change_would_pass_as_complete(serve, make_client) -> None:
    # The control for the test above: why `verify_page_boundaries` is on by default.
    sim, server = serve(devices=100)
    client = make_client(server, verify_page_boundaries=False)
    pages = client.list_devices(page_size=20, on_page=_churn_after_first_page(sim, []))
    _drain(pages)
    assert pages.result.complete and pages.result.count == 100
    assert pages.result.ids != _ids(sim.devices())  # silently not the inventory


def test_inventory_that_keeps_changing_raises_with_the_numbers(serve, make_client) -> None:
    sim, server = serve(devices=100)
    for n in range(2, 40, 2):
        sim.schedule_mutation(after_list_requests=n, add=1)
    client = make_client(server, max_reconcile_attempts=2)
    pages = client.list_devices(page_size=20)
    with pytest.raises(IncompleteInventoryError) as info:
        _drain(pages)
    error = info.value
    assert error.passes == 3
    assert "total changed" in str(error) and "3 passes" in str(error)
    assert error.expected_total is not None
    with pytest.raises(RuntimeError):
        _ = pages.result  # no result: nothing may be stored as complete


def test_missing_total_pages_to_an_empty_page_and_says_unverified(serve, make_client) -> None:
    sim, server = serve(devices=95)
    sim.faults.omit_total = True
    client = make_client(server)
    pages = client.list_devices(page_size=20)
    seen, merged = _drain(pages)
    assert set(merged) == _ids(sim.devices())
    assert [len(p.items) for p in seen] == [20, 19, 19, 19, 18, 0]  # not stopped by a short page
    result = pages.result
    assert result.total is None and result.total_verified is False
    assert result.complete and result.count == 95


def test_an_error_mid_paging_propagates_and_leaves_no_result(serve, make_client) -> None:
    sim, server = serve(devices=100)
    client = make_client(server, max_attempts=2)

    def break_after_first(page) -> None:
        sim.faults.error_burst = 10

    pages = client.iter_pages(DEVICES, page_size=20, on_page=break_after_first)
    with pytest.raises(ServerError):
        _drain(pages)
    assert not pages.finished


def test_bad_filter_is_a_bad_request_with_the_servers_message(serve, make_client) -> None:
    sim, server = serve()
    client = make_client(server)
    with pytest.raises(BadRequestError) as info:
        list(client.list_devices(filter="colour eq 'red'"))
    message = str(info.value)
    assert message.startswith("GreenLake rejected the request GET /devices/v1/devices: invalid filter")
    assert "colour" in message and "filter \"colour eq 'red'\"" in message
    assert info.value.status_code == 400 and info.value.error_code == "HPE_GL_ERROR_BAD_REQUEST"
    assert len(api_requests(sim)) == 1  # not retried


def test_filter_and_sort_are_sent(serve, make_client) -> None:
    sim, server = serve(devices=150)
    client = make_client(server)
    pages = client.list_devices(filter="deviceType eq 'SWITCH'", sort="serialNumber desc", page_size=10)
    _, merged = _drain(pages)
    expected = {d["id"] for d in sim.devices() if d["deviceType"] == "SWITCH"}
    assert set(merged) == expected and pages.result.total == len(expected)
    assert api_requests(sim)[0].query["sort"] == ["serialNumber desc"]


def test_get_device_and_subscription(serve, make_client) -> None:
    sim, server = serve()
    client = make_client(server)
    device = sim.devices()[3]
    subscription = sim.subscriptions()[2]
    assert client.get_device(device["id"]) == device
    assert client.get_subscription(subscription["id"]) == subscription
    with pytest.raises(NotFoundError) as info:
        client.get_device("00000000-0000-4000-8000-000000000000")
    assert "not found" in str(info.value)
    with pytest.raises(BadRequestError):
        client.get_device("not-a-uuid")


@pytest.mark.parametrize(("page_cap", "page_size"), [(1, 20), (None, 1), (2, 20)])
def test_pages_too_small_to_overlap_still_complete(serve, make_client, page_cap, page_size) -> None:
    sim, server = serve(devices=12, page_cap=page_cap)
    client = make_client(server)
    pages = client.list_devices(page_size=page_size)
    _, merged = _drain(pages)
    assert set(merged) == _ids(sim.devices()) == pages.result.ids
    assert pages.result.reconcile_attempts == 0
    assert pages.result.pages <= 24
