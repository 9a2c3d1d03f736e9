"""List and read-by-id endpoints: envelope, paging, limits, select, sort, 404s."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .support import Live

Serve = Callable[..., Live]
DEVICES, SUBSCRIPTIONS = "/devices/v1/devices", "/subscriptions/v1/subscriptions"


def test_paging_returns_exactly_the_ground_truth(shared: Live) -> None:
    truth = shared.sim.devices()
    first = shared.get(DEVICES, limit=100).json()
    assert set(first) == {"items", "count", "offset", "total"}
    assert (first["count"], first["offset"], first["total"]) == (100, 0, 1000)
    third = shared.get(DEVICES, limit=100, offset=200).json()
    assert third["offset"] == 200
    assert third["items"] == truth[200:300]
    assert shared.list_all(DEVICES, limit=333) == truth
    assert shared.list_all(SUBSCRIPTIONS) == shared.sim.subscriptions()


def test_ground_truth_is_a_copy_at_the_top_level(shared: Live) -> None:
    truth = shared.sim.devices()
    serial = truth[0]["serialNumber"]
    truth[0]["serialNumber"] = "CHANGED"
    assert shared.sim.devices()[0]["serialNumber"] == serial
    assert shared.get(DEVICES, limit=1).json()["items"][0]["serialNumber"] == serial


def test_default_limits(shared: Live) -> None:
    assert shared.get(DEVICES).json()["count"] == 1000  # default 2000
    subs = shared.get(SUBSCRIPTIONS).json()
    assert (subs["count"], subs["total"]) == (50, 200)
    v2 = shared.get("/devices/v2beta1/devices").json()
    assert (v2["count"], v2["total"]) == (100, 1000)
    assert shared.get("/devices/v2beta1/devices", limit=500).json()["count"] == 500
    assert shared.get("/devices/v2beta1/devices", limit=501).status_code == 400


def test_offset_past_the_end_is_an_empty_page(shared: Live) -> None:
    body = shared.get(DEVICES, offset=5000).json()
    assert (body["items"], body["count"], body["offset"], body["total"]) == ([], 0, 5000, 1000)


@pytest.mark.parametrize(
    ("path", "params", "subject"),
    [
        (DEVICES, {"limit": 0}, "limit"),
        (DEVICES, {"limit": 2001}, "limit"),
        (DEVICES, {"limit": -1}, "limit"),
        (DEVICES, {"limit": "ten"}, "limit"),
        (DEVICES, {"limit": "1.5"}, "limit"),
        (DEVICES, {"offset": -1}, "offset"),
        (DEVICES, {"offset": "x"}, "offset"),
        (SUBSCRIPTIONS, {"limit": 51}, "limit"),
    ],
)
def test_bad_paging_parameters_are_400_with_the_glp_envelope(
    shared: Live, path: str, params: dict[str, object], subject: str
) -> None:
    response = shared.get(path, **params)
    assert response.status_code == 400
    body = response.json()
    assert body["errorCode"] == "HPE_GL_ERROR_BAD_REQUEST"
    assert subject in body["message"]
    issue = body["errorDetails"][0]["issues"][0]
    assert (issue["source"], issue["subject"]) == ("query.parameter", subject)


def test_cap_mode_silently_clamps_the_limit(serve: Serve) -> None:
    live = serve(limit_out_of_range="cap", rate_limits=False)
    body = live.get(SUBSCRIPTIONS, limit=200).json()
    assert (body["count"], body["total"]) == (50, 60)
    assert live.get(SUBSCRIPTIONS, limit=0).json()["count"] == 1
    assert live.get(SUBSCRIPTIONS, limit=-1).status_code == 400  # negative is never legal


def test_subscription_maximum_is_a_setting(serve: Serve) -> None:
    live = serve(subscriptions_max_limit=200, rate_limits=False)
    assert live.get(SUBSCRIPTIONS, limit=200).json()["count"] == 60


def test_page_cap_returns_fewer_items_than_asked_but_the_true_total(serve: Serve) -> None:
    live = serve(page_cap=7, rate_limits=False)
    body = live.get(DEVICES, limit=100).json()
    assert (body["count"], body["total"]) == (7, 300)
    assert len(body["items"]) == 7
    assert live.list_all(DEVICES, limit=100) == live.sim.devices()


def test_get_by_id(shared: Live) -> None:
    device = shared.sim.devices()[17]
    assert shared.get(f"{DEVICES}/{device['id']}").json() == device
    assert shared.get(f"/devices/v2beta1/devices/{device['id']}").json() == device
    subscription = shared.sim.subscriptions()[3]
    assert shared.get(f"{SUBSCRIPTIONS}/{subscription['id']}").json() == subscription


def test_unknown_id_is_404_and_malformed_id_is_400(shared: Live) -> None:
    missing = shared.get(f"{DEVICES}/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["errorCode"] == "HPE_GL_ERROR_NOT_FOUND"
    assert shared.get(f"{SUBSCRIPTIONS}/00000000-0000-4000-8000-000000000000").status_code == 404
    malformed = shared.get(f"{DEVICES}/not-a-uuid")
    assert malformed.status_code == 400
    assert malformed.json()["errorDetails"][0]["issues"][0]["subject"] == "id"


def test_unknown_path_and_method_use_the_glp_envelope(shared: Live) -> None:
    unknown = shared.get("/devices/v9/devices")
    assert unknown.status_code == 404
    assert unknown.json()["errorCode"] == "HPE_GL_ERROR_NOT_FOUND"
    wrong_method = shared.http.delete(DEVICES, headers={"Authorization": f"Bearer {shared.token}"})
    assert wrong_method.status_code == 405
    assert wrong_method.json()["httpStatusCode"] == 405


def test_select_keeps_only_the_named_properties_plus_id_and_type(shared: Live) -> None:
    items = shared.get(DEVICES, limit=5, select="serialNumber,macAddress").json()["items"]
    assert [set(item) for item in items] == [{"id", "type", "serialNumber", "macAddress"}] * 5
    truth = shared.sim.devices()[:5]
    assert [item["serialNumber"] for item in items] == [d["serialNumber"] for d in truth]
    subs = shared.get(SUBSCRIPTIONS, limit=2, select="key,quantity").json()["items"]
    assert set(subs[0]) == {"id", "type", "key", "quantity"}


def test_select_without_id_when_configured(serve: Serve) -> None:
    live = serve(select_keeps_id=False, rate_limits=False)
    items = live.get(DEVICES, limit=3, select="serialNumber").json()["items"]
    assert [set(item) for item in items] == [{"serialNumber"}] * 3


def test_select_unknown_property_is_400(shared: Live) -> None:
    response = shared.get(DEVICES, select="serialNumber,colour")
    assert response.status_code == 400
    assert "colour" in response.json()["message"]


def test_sort(shared: Live) -> None:
    truth = shared.sim.devices()
    by_serial = [d["serialNumber"] for d in shared.list_all(DEVICES, sort="serialNumber", limit=400)]
    assert by_serial == sorted(d["serialNumber"] for d in truth)
    desc = shared.get(DEVICES, sort="serialNumber desc", limit=3).json()["items"]
    assert [d["serialNumber"] for d in desc] == sorted((d["serialNumber"] for d in truth), reverse=True)[:3]
    multi = shared.list_all(DEVICES, sort="deviceType, updatedAt desc")
    keys = [(d["deviceType"], d["updatedAt"]) for d in multi]
    assert keys == sorted(keys, key=lambda k: (k[0], [-ord(c) for c in k[1]]))
    named = [d["deviceName"] for d in shared.list_all(DEVICES, sort="deviceName")]
    assert named[-1] is None and named[0] is not None  # nulls last when ascending
    subs = [int(s["quantity"]) for s in shared.list_all(SUBSCRIPTIONS, sort="quantity desc")]
    assert subs == sorted(subs, reverse=True)  # numerically, although quantities are strings


def test_sort_by_unknown_property_is_400(shared: Live) -> None:
    response = shared.get(DEVICES, sort="serialNumber, colour desc")
    assert response.status_code == 400
    body = response.json()
    assert "'colour' at position 14" in body["message"]
    assert body["errorDetails"][0]["issues"][0]["subject"] == "sort"
