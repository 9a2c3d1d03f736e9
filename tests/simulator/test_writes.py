"""The write side of the simulator over real HTTP: device PATCH and POST, async operations, their rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from glp_pipeline.simulator import SimulatorConfig

from .support import Live

Serve = Callable[..., Live]
DEVICES, DEVICES_V2 = "/devices/v1/devices", "/devices/v2beta1/devices"
SUBSCRIPTIONS = "/subscriptions/v1/subscriptions"
MISSING = "00000000-0000-4000-8000-000000000000"


def _devices(live: Live, **where: Any) -> list[dict[str, Any]]:
    return [d for d in live.sim.devices() if all(d[k] == v for k, v in where.items())]


def _manager(live: Live, name_start: str) -> dict[str, Any]:
    return next(m for m in live.sim.service_managers() if m["name"].startswith(name_start))


def _set_available(live: Live, sub: dict[str, Any], available: int) -> None:
    coll = live.sim.inventory.collection("subscriptions")
    coll.put({**coll.get(sub["id"]), "availableQuantity": str(available)})


def _issue_subject(response) -> str:
    return response.json()["errorDetails"][0]["issues"][0]["subject"]


# --- PATCH: assignment, progression, visibility -----------------------------------------------------


def test_assign_goes_through_the_async_operation_and_shows_only_when_done(serve: Serve) -> None:
    live = serve(rate_limits=False)
    central = _manager(live, "HPE Aruba")
    targets = _devices(live, deviceType="SWITCH", assignedState="UNASSIGNED")[:3]
    ids = [d["id"] for d in targets]
    cursor = max(d["updatedAt"] for d in live.sim.devices())

    accepted = live.patch(DEVICES_V2, ids, {"application": {"id": central["id"]}, "region": "eu-central"})
    assert accepted.status_code == 202
    body = accepted.json()
    assert body["code"] == 202 and body["status"] == "202 ACCEPTED"
    assert accepted.headers["location"] == f"/devices/v1/async-operations/{body['transactionId']}"

    seen = []
    for _ in range(3):
        op = live.get(accepted.headers["location"]).json()
        seen.append((op["status"], op["progressPercent"]))
        if op["status"] != "SUCCEEDED":  # nothing applied while the operation runs
            assert live.get(f"{DEVICES}/{ids[0]}").json()["application"] is None
    assert seen == [("INITIALIZED", 0), ("RUNNING", 50), ("SUCCEEDED", 100)]
    assert op["type"] == "devices/asyncOperation"
    assert op["resultType"] == "PatchDeviceResponseV2"
    assert op["suggestedPollingIntervalSeconds"] == 2 and op["timeoutMinutes"] == 2
    assert op["startedAt"] <= op["endedAt"]
    assert op["result"] == {"succeededDevices": [{"id": i} for i in ids], "failedDevices": []}

    for device_id in ids:
        device = live.get(f"{DEVICES}/{device_id}").json()
        assert device["application"]["id"] == central["id"]
        assert (device["region"], device["assignedState"]) == ("eu-central", "ASSIGNED_TO_SERVICE")
        assert device["updatedAt"] > cursor
    changed = live.list_all(DEVICES, filter=f"updatedAt gt '{cursor}'")
    assert {d["id"] for d in changed} == set(ids)
    assert {d["id"] for d in live.list_all(DEVICES, filter=f"application/id eq '{central['id']}'")} >= set(
        ids
    )


def test_unassign_with_and_without_region(serve: Serve) -> None:
    live = serve(rate_limits=False)
    assigned = _devices(live, assignedState="ASSIGNED_TO_SERVICE")[:2]
    first = live.patch(DEVICES, [assigned[0]["id"]], {"application": {"id": None}, "region": None})
    second = live.patch(DEVICES_V2, [assigned[1]["id"]], {"application": {"id": None}})
    for response in (first, second):
        assert live.finish(response)["status"] == "SUCCEEDED"
    for device in assigned:
        now = live.get(f"{DEVICES}/{device['id']}").json()
        assert (now["application"], now["region"], now["assignedState"]) == (None, None, "UNASSIGNED")
    assert live.finish(first)["resultType"] == "PatchDeviceResponse"  # v1


@pytest.mark.parametrize(
    ("body", "subject"),
    [
        ({"application": {"id": "1bd439bf-ef53-5c5f-8e29-12d447d54d1f"}}, "region"),  # no region
        ({"region": "us-west"}, "region"),  # region without application
        ({"application": {"id": None}, "region": "us-west"}, "region"),
        ({"application": "central"}, "application"),
        ({}, "body"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_application_bodies_are_400(serve: Serve, body: dict[str, Any], subject: str) -> None:
    live = serve(rate_limits=False)
    response = live.patch(DEVICES_V2, [live.sim.devices()[0]["id"]], body)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "HPE_GL_ERROR_BAD_REQUEST"
    assert _issue_subject(response) == subject
    assert not live.sim.operations.pending()


def test_id_limits_per_version(serve: Serve) -> None:
    live = serve(rate_limits=False)
    ids = [d["id"] for d in live.sim.devices()[:26]]
    body = {"application": {"id": None}}
    assert live.patch(DEVICES, ids[:5], body).status_code == 202
    too_many = live.patch(DEVICES, ids[:6], body)
    assert too_many.status_code == 400
    assert "at most 5" in too_many.json()["message"]
    assert _issue_subject(too_many) == "id"
    assert live.patch(DEVICES_V2, ids[:25], body).status_code == 202
    assert live.patch(DEVICES_V2, ids, body).status_code == 400
    assert live.patch(DEVICES_V2, [], body).status_code == 400  # id is required
    assert live.patch(DEVICES_V2, ["nope"], body).status_code == 400
    assert live.patch(DEVICES_V2, [ids[0], ids[0].upper()], body).status_code == 400  # unique
    live.sim.config.patch_v1_max_ids = 6
    assert live.patch(DEVICES, ids[:6], body).status_code == 202


def test_merge_patch_content_type_is_required(serve: Serve) -> None:
    live = serve(rate_limits=False)
    device_id = live.sim.devices()[0]["id"]
    wrong = live.patch(DEVICES_V2, [device_id], {"archived": True}, content_type="application/json")
    assert wrong.status_code == 415
    assert wrong.json()["errorCode"] == "HPE_GL_ERROR_UNSUPPORTED_MEDIA_TYPE"
    live.sim.config.wrong_content_type_status = 400
    assert (
        live.patch(DEVICES_V2, [device_id], {"archived": True}, content_type="text/plain").status_code == 400
    )
    charset = live.patch(
        DEVICES_V2,
        [device_id],
        {"archived": True},
        content_type="application/merge-patch+json; charset=utf-8",
    )
    assert charset.status_code == 202


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (DEVICES, {"application": {"id": None}, "subscription": []}),  # v1: one operation per call
        (DEVICES_V2, {"application": {"id": None}, "subscription": []}),  # subscription stands alone
        (DEVICES_V2, {"tags": {"a": "b"}, "subscription": []}),
        (DEVICES_V2, {"archived": True, "tags": {"a": "b"}}),  # archive stands alone
        (DEVICES_V2, {"archived": False, "application": {"id": None}}),
    ],
)
def test_one_operation_class_per_call(serve: Serve, path: str, body: dict[str, Any]) -> None:
    live = serve(rate_limits=False)
    response = live.patch(path, [live.sim.devices()[0]["id"]], body)
    assert response.status_code == 400
    assert "combined" in response.json()["message"] or "one operation" in response.json()["message"]
    live.sim.config.operation_conflict_status = 422
    assert live.patch(path, [live.sim.devices()[0]["id"]], body).status_code == 422


def test_device_operations_combine_on_v2beta1_but_tags_and_archive_are_not_v1(serve: Serve) -> None:
    live = serve(rate_limits=False)
    central = _manager(live, "HPE Aruba")
    device = _devices(live, deviceType="IAP")[0]
    both = {"application": {"id": central["id"]}, "region": "us-west", "tags": {"Owner": "netops"}}
    assert live.finish(live.patch(DEVICES_V2, [device["id"]], both))["status"] == "SUCCEEDED"
    now = live.get(f"{DEVICES}/{device['id']}").json()
    assert now["tags"]["Owner"] == "netops" and now["region"] == "us-west"
    for body in ({"tags": {"a": "b"}}, {"archived": True}):
        response = live.patch(DEVICES, [device["id"]], body)
        assert response.status_code == 400
        assert _issue_subject(response) == next(iter(body))


def test_unknown_devices_fail_in_the_result_not_synchronously(serve: Serve) -> None:
    live = serve(rate_limits=False)
    known = live.sim.devices()[0]
    partial = live.finish(live.patch(DEVICES_V2, [known["id"], MISSING], {"archived": True}))
    assert partial["status"] == "SUCCEEDED"  # partial: SUCCEEDED, the failure listed per device
    assert partial["result"]["succeededDevices"] == [{"id": known["id"]}]
    [failure] = partial["result"]["failedDevices"]
    assert failure["id"] == MISSING and failure["errorCode"] == "HPE_GL_ERROR_NOT_FOUND"
    assert failure["message"]
    every = live.finish(live.patch(DEVICES_V2, [MISSING], {"archived": True}))
    assert every["status"] == "FAILED"
    assert every["result"]["succeededDevices"] == []


def test_unknown_application_and_unserved_region_fail_per_device(serve: Serve) -> None:
    live = serve(rate_limits=False)
    device = _devices(live, deviceType="SWITCH", assignedState="UNASSIGNED")[0]
    central = _manager(live, "HPE Aruba")
    assert "us-gov" not in central["regions"]
    unserved = live.finish(
        live.patch(DEVICES_V2, [device["id"]], {"application": {"id": central["id"]}, "region": "us-gov"})
    )
    assert unserved["status"] == "FAILED"
    [failure] = unserved["result"]["failedDevices"]
    assert failure["errorCode"] == "HPE_GL_UNPROCESSABLE_CONTENT"
    assert "us-gov" in failure["message"] and failure["serialNumber"] == device["serialNumber"]
    unknown = live.finish(
        live.patch(DEVICES_V2, [device["id"]], {"application": {"id": MISSING}, "region": "us-west"})
    )
    assert unknown["result"]["failedDevices"][0]["errorCode"] == "HPE_GL_ERROR_NOT_FOUND"
    assert live.get(f"{DEVICES}/{device['id']}").json() == device  # untouched, updatedAt included


# --- subscriptions ------------------------------------------------------------------------------------


def _ap_subscriptions(live: Live) -> list[dict[str, Any]]:
    return [
        s for s in live.sim.subscriptions()
        if s["subscriptionType"] == "CENTRAL_AP" and s["subscriptionStatus"] == "STARTED"
    ]  # fmt: skip


def _bare_aps(live: Live, count: int) -> list[dict[str, Any]]:
    aps = [d for d in live.sim.devices() if d["deviceType"] in ("IAP", "AP") and not d["subscription"]]
    assert len(aps) >= count
    return aps[:count]


def test_apply_subscription_uses_quantity_and_fails_devices_once_exhausted(serve: Serve) -> None:
    live = serve(rate_limits=False)
    sub = _ap_subscriptions(live)[0]
    _set_available(live, sub, 2)
    aps = _bare_aps(live, 3)
    ids = [d["id"] for d in aps]
    op = live.finish(live.patch(DEVICES_V2, ids, {"subscription": [{"id": sub["id"]}]}))
    assert op["status"] == "SUCCEEDED"
    assert [d["id"] for d in op["result"]["succeededDevices"]] == ids[:2]
    [failure] = op["result"]["failedDevices"]
    assert failure["id"] == ids[2] and "no available quantity" in failure["message"]
    after = live.get(f"{SUBSCRIPTIONS}/{sub['id']}").json()
    assert after["availableQuantity"] == "0"  # a string, as the API sends it
    assert after["updatedAt"] > sub["updatedAt"]
    links = live.get(f"{DEVICES}/{ids[0]}").json()["subscription"]
    assert [(link["id"], link["key"]) for link in links] == [(sub["id"], sub["key"])]
    assert live.get(f"{DEVICES}/{ids[2]}").json()["subscription"] == aps[2]["subscription"]
    # applying it again to a device that already has it uses no quantity
    again = live.finish(live.patch(DEVICES_V2, ids[:1], {"subscription": [{"id": sub["id"]}]}))
    assert again["status"] == "SUCCEEDED"


def test_moving_between_subscriptions_and_removing_frees_quantity(serve: Serve) -> None:
    live = serve(rate_limits=False)
    first, second = _ap_subscriptions(live)[:2]
    _set_available(live, first, 3)
    _set_available(live, second, 3)
    ids = [d["id"] for d in _bare_aps(live, 2)]

    def available(sub: dict[str, Any]) -> str:
        return live.get(f"{SUBSCRIPTIONS}/{sub['id']}").json()["availableQuantity"]

    live.finish(live.patch(DEVICES, ids, {"subscription": [{"id": first["id"]}]}))  # v1 works too
    assert (available(first), available(second)) == ("1", "3")
    live.finish(live.patch(DEVICES_V2, ids[:1], {"subscription": [{"id": second["id"]}]}))
    assert (available(first), available(second)) == ("2", "2")
    live.finish(live.patch(DEVICES_V2, ids, {"subscription": []}))
    assert (available(first), available(second)) == ("3", "3")
    assert all(live.get(f"{DEVICES}/{i}").json()["subscription"] == [] for i in ids)


def test_subscription_that_does_not_fit_the_device_fails_it(serve: Serve) -> None:
    live = serve(rate_limits=False)
    switch_sub = next(
        s for s in live.sim.subscriptions()
        if s["subscriptionType"] == "CENTRAL_SWITCH" and s["subscriptionStatus"] == "STARTED"
    )  # fmt: skip
    ended = next(s for s in live.sim.subscriptions() if s["subscriptionStatus"] in ("ENDED", "CANCELLED"))
    ap = _bare_aps(live, 1)[0]
    for sub in (switch_sub, ended, {"id": MISSING}):
        op = live.finish(live.patch(DEVICES_V2, [ap["id"]], {"subscription": [{"id": sub["id"]}]}))
        assert op["status"] == "FAILED"
        assert op["result"]["failedDevices"][0]["id"] == ap["id"]
    assert live.get(f"{SUBSCRIPTIONS}/{switch_sub['id']}").json() == switch_sub


# --- tags and archive ---------------------------------------------------------------------------------


def test_tags_add_update_delete_and_case_insensitive_clash(serve: Serve) -> None:
    live = serve(rate_limits=False)
    device, other = live.sim.devices()[:2]
    ids = [device["id"], other["id"]]
    first = {"LOCATION": "Zürich HQ", "rack": "R-12 u3", "e-mail": "ops@example.com"}
    assert live.finish(live.patch(DEVICES_V2, ids, {"tags": first}))["status"] == "SUCCEEDED"
    tags = live.get(f"{DEVICES}/{device['id']}").json()["tags"]
    assert {k: tags[k] for k in first} == first
    update = {"LOCATION": "Bern", "rack": None}
    live.finish(live.patch(DEVICES_V2, [device["id"]], {"tags": update}))
    tags = live.get(f"{DEVICES}/{device['id']}").json()["tags"]
    assert tags["LOCATION"] == "Bern" and "rack" not in tags
    # `Location` when `LOCATION` exists fails for that device only
    live.finish(live.patch(DEVICES_V2, [other["id"]], {"tags": {"LOCATION": None}}))
    clash = live.finish(live.patch(DEVICES_V2, ids, {"tags": {"Location": "Basel"}}))
    assert clash["status"] == "SUCCEEDED"
    assert clash["result"]["succeededDevices"] == [{"id": other["id"]}]
    [failure] = clash["result"]["failedDevices"]
    assert failure["id"] == device["id"] and failure["errorCode"] == "HPE_GL_UNPROCESSABLE_CONTENT"
    assert live.get(f"{DEVICES}/{device['id']}").json()["tags"]["LOCATION"] == "Bern"
    assert live.get(f"{DEVICES}/{other['id']}").json()["tags"]["Location"] == "Basel"


@pytest.mark.parametrize(
    "tags",
    [
        {"bad/key": "x"},
        {"key": "no#hash"},
        {"": "empty key"},
        {"k" * 129: "x"},
        {"k": "v" * 257},
        {"Env": "a", "env": "b"},
        {"k": 5},
        {f"k{i}": "v" for i in range(51)},
    ],
)
def test_malformed_tags_are_400(serve: Serve, tags: dict[str, Any]) -> None:
    live = serve(rate_limits=False)
    response = live.patch(DEVICES_V2, [live.sim.devices()[0]["id"]], {"tags": tags})
    assert response.status_code == 400
    assert _issue_subject(response) == "tags"


def test_tag_edge_values_are_accepted_and_the_per_device_cap_fails_the_device(serve: Serve) -> None:
    live = serve(rate_limits=False, tags_max_per_device=3)
    device = next(d for d in live.sim.devices() if not d["tags"])
    edge = {"k" * 128: "", "a b_c.d:e=f+g-h@i": "v" * 256}
    assert live.finish(live.patch(DEVICES_V2, [device["id"]], {"tags": edge}))["status"] == "SUCCEEDED"
    over = live.finish(live.patch(DEVICES_V2, [device["id"]], {"tags": {"x": "1", "y": "2"}}))
    assert over["status"] == "FAILED"
    assert "at most 3 tags" in over["result"]["failedDevices"][0]["message"]


def test_archive_and_unarchive(serve: Serve) -> None:
    live = serve(rate_limits=False)
    device = _devices(live, archived=False)[0]
    live.finish(live.patch(DEVICES_V2, [device["id"]], {"archived": True}))
    assert live.get(f"{DEVICES}/{device['id']}").json()["archived"] is True
    assert device["id"] in {d["id"] for d in live.list_all(DEVICES, filter="archived eq true")}
    live.finish(live.patch(DEVICES_V2, [device["id"]], {"archived": False}))
    assert live.get(f"{DEVICES}/{device['id']}").json()["archived"] is False
    assert live.patch(DEVICES_V2, [device["id"]], {"archived": "yes"}).status_code == 400


# --- POST: add devices ----------------------------------------------------------------------------------


def _add_body(network=(), compute=(), storage=()) -> dict[str, Any]:
    return {"network": list(network), "compute": list(compute), "storage": list(storage)}


def test_add_devices_appear_unassigned_with_ids(serve: Serve) -> None:
    live = serve(rate_limits=False)
    body = _add_body(
        network=[{"serialNumber": "CNNEW00001", "macAddress": "20:4C:03:00:00:01", "tags": {"site": "lab"}}],
        compute=[{"serialNumber": "MXQNEW0001", "partNumber": "P52534-B21"}],
        storage=[{"serialNumber": "SGHNEW0001", "partNumber": "Q8H72A"}],
    )
    accepted = live.post(DEVICES, body)
    assert accepted.status_code == 202
    assert accepted.headers["location"].startswith("/devices/v1/async-operations/")
    assert live.get(DEVICES, limit=1).json()["total"] == 300  # not before the operation ends
    op = live.finish(accepted)
    assert op["status"] == "SUCCEEDED" and op["resultType"] == "postDevicesResponse"
    assert op["result"]["failedDevicesSerial"] == []
    added = {
        d["serialNumber"]: d
        for d in live.list_all(DEVICES, filter="serialNumber in ('CNNEW00001', 'MXQNEW0001', 'SGHNEW0001')")
    }
    assert set(added) == {"CNNEW00001", "MXQNEW0001", "SGHNEW0001"}
    assert {d["id"] for d in added.values()} == {d["id"] for d in op["result"]["succeededDevices"]}
    ap = added["CNNEW00001"]
    assert (ap["deviceType"], ap["category"], ap["assignedState"], ap["application"]) == (
        "IAP",
        "NETWORK",
        "UNASSIGNED",
        None,
    )
    assert ap["tags"] == {"site": "lab"} and ap["subscription"] == []
    assert added["MXQNEW0001"]["deviceType"] == "COMPUTE"
    assert live.get(DEVICES, limit=1).json()["total"] == 303


def test_duplicate_serial_fails_in_the_async_operation(serve: Serve) -> None:
    live = serve(rate_limits=False)
    existing = next(d for d in live.sim.devices() if d["category"] == "COMPUTE")
    duplicate = _add_body(compute=[{"serialNumber": existing["serialNumber"], "partNumber": "P52534-B21"}])
    accepted = live.post(DEVICES, duplicate)
    assert accepted.status_code == 202  # not a synchronous error
    op = live.finish(accepted)
    assert (op["status"], op["progressPercent"]) == ("FAILED", 0)
    assert op["result"] == {"failedDevicesSerial": [existing["serialNumber"]]}
    mixed = _add_body(compute=[
        {"serialNumber": existing["serialNumber"].lower(), "partNumber": "P52534-B21"},
        {"serialNumber": "MXQNEW0002", "partNumber": "P52534-B21"},
    ])  # fmt: skip
    partial = live.finish(live.post(DEVICES, mixed))
    assert partial["status"] == "SUCCEEDED"
    assert partial["result"]["failedDevicesSerial"] == [existing["serialNumber"].lower()]
    assert [d["serialNumber"] for d in partial["result"]["succeededDevices"]] == ["MXQNEW0002"]
    assert live.get(DEVICES, limit=1).json()["total"] == 301


@pytest.mark.parametrize(
    ("body", "subject"),
    [
        ({"network": [], "compute": []}, "storage"),  # all three arrays are required
        (_add_body(), "body"),
        (_add_body(network=[{"serialNumber": f"CN{i}", "macAddress": "aa"} for i in range(6)]), "body"),
        (_add_body(network=[{"serialNumber": "CN1"}]), "macAddress"),
        (_add_body(compute=[{"serialNumber": " ", "partNumber": "P1"}]), "serialNumber"),
        (
            _add_body(
                compute=[{"serialNumber": "X1", "partNumber": "P"}, {"serialNumber": "x1", "partNumber": "P"}]
            ),
            "serialNumber",
        ),
        (_add_body(storage=[{"serialNumber": "S1", "partNumber": "P", "tags": {"k": None}}]), "tags"),
    ],
)
def test_bad_add_bodies_are_400(serve: Serve, body: dict[str, Any], subject: str) -> None:
    live = serve(rate_limits=False)
    response = live.post(DEVICES, body)
    assert response.status_code == 400
    assert _issue_subject(response) == subject


def test_dry_run_validates_and_adds_nothing(serve: Serve) -> None:
    live = serve(rate_limits=False)
    body = _add_body(network=[{"serialNumber": "CNDRY00001", "macAddress": "20:4C:03:00:00:09"}])
    op = live.finish(live.post(DEVICES, body, **{"dry-run": "true"}))
    assert op["status"] == "SUCCEEDED"
    assert op["result"]["succeededDevices"] == [{"serialNumber": "CNDRY00001"}]
    assert live.get(DEVICES, limit=1).json()["total"] == 300
    assert live.post(DEVICES, _add_body(), **{"dry-run": "true"}).status_code == 400
    assert live.post(DEVICES, body, **{"dry-run": "maybe"}).status_code == 400


def test_v2beta1_adds_a_single_device(serve: Serve) -> None:
    live = serve(rate_limits=False)
    body = {"serialNumber": "SGNEW00001", "deviceType": "NETWORK", "macAddress": "20:4C:03:00:00:02"}
    op = live.finish(live.post(DEVICES_V2, body))
    assert op["status"] == "SUCCEEDED"
    [device] = live.list_all(DEVICES, filter="serialNumber eq 'SGNEW00001'")
    assert device["deviceType"] == "SWITCH"
    assert live.post(DEVICES_V2, {"serialNumber": "X", "deviceType": "TOASTER"}).status_code == 400
    assert live.post(DEVICES_V2, {"serialNumber": "X", "deviceType": "COMPUTE"}).status_code == 400


# --- async operations -----------------------------------------------------------------------------------


def test_unknown_operation_is_404_and_operations_expire(serve: Serve) -> None:
    live = serve(rate_limits=False, async_polls_to_finish=1)
    missing = live.get(f"/devices/v1/async-operations/{MISSING}")
    assert missing.status_code == 404
    assert missing.json()["errorCode"] == "HPE_GL_ERROR_NOT_FOUND"
    now = [1000.0]
    live.sim.operations.clock = lambda: now[0]
    accepted = live.patch(DEVICES_V2, [live.sim.devices()[0]["id"]], {"archived": True})
    location = accepted.headers["location"]
    assert live.get(location).json()["status"] == "SUCCEEDED"
    now[0] += 86_399
    assert live.get(location).status_code == 200
    now[0] += 1
    assert live.get(location).status_code == 404
    op_id = location.rsplit("/", 1)[1]
    assert live.get(f"/subscriptions/v1/async-operations/{op_id}").status_code == 404


def test_operations_finish_by_time_without_polls(serve: Serve) -> None:
    live = serve(rate_limits=False, async_polls_to_finish=None, async_seconds_to_finish=30)
    now = [50.0]
    live.sim.operations.clock = lambda: now[0]
    device = _devices(live, archived=False)[0]
    accepted = live.patch(DEVICES_V2, [device["id"]], {"archived": True})
    now[0] += 15
    op = live.get(accepted.headers["location"]).json()
    assert (op["status"], op["progressPercent"]) == ("RUNNING", 50)
    assert live.get(f"{DEVICES}/{device['id']}").json()["archived"] is False
    now[0] += 15
    assert live.get(f"{DEVICES}/{device['id']}").json()["archived"] is True  # nobody polled
    assert live.get(accepted.headers["location"]).json()["status"] == "SUCCEEDED"


def test_zero_polls_finishes_at_submit_and_finish_operations(serve: Serve) -> None:
    live = serve(rate_limits=False, async_polls_to_finish=0)
    device = _devices(live, archived=False)[0]
    live.patch(DEVICES_V2, [device["id"]], {"archived": True})
    assert live.get(f"{DEVICES}/{device['id']}").json()["archived"] is True
    live.sim.config.async_polls_to_finish = 5
    accepted = live.patch(DEVICES_V2, [device["id"]], {"archived": False})
    [op] = live.sim.finish_operations()
    assert op.status == "SUCCEEDED"
    assert live.get(accepted.headers["location"]).json()["status"] == "SUCCEEDED"
    assert live.get(f"{DEVICES}/{device['id']}").json()["archived"] is False


def test_timedout_fault_applies_nothing(serve: Serve) -> None:
    live = serve(rate_limits=False)
    device = _devices(live, archived=False)[0]
    live.sim.faults.async_timeout_burst = 1
    op = live.finish(live.patch(DEVICES_V2, [device["id"]], {"archived": True}))
    assert op["status"] == "TIMEDOUT" and op["result"] is None
    assert live.get(f"{DEVICES}/{device['id']}").json() == device
    assert live.finish(live.patch(DEVICES_V2, [device["id"]], {"archived": True}))["status"] == "SUCCEEDED"


def test_accept_then_fail_fault_carries_the_write_out(serve: Serve) -> None:
    live = serve(rate_limits=False, async_polls_to_finish=0)
    live.sim.faults.accept_then_fail_burst = 1
    body = _add_body(network=[{"serialNumber": "CNLOST0001", "macAddress": "20:4C:03:00:00:03"}])
    response = live.post(DEVICES, body)
    assert response.status_code == 500
    assert live.list_all(DEVICES, filter="serialNumber eq 'CNLOST0001'")  # it happened all the same
    assert [r.fault for r in live.sim.request_log if r.path == DEVICES and r.method == "POST"] == [
        "accept_then_fail"
    ]


# --- budgets, catalog, subscription tags ---------------------------------------------------------------


def test_write_budgets_are_per_endpoint_with_the_429_envelope(serve: Serve) -> None:
    live = serve(devices_v2_patch_rpm=2, devices_post_rpm=1, async_ops_rpm=3, retry_after=True)
    device_id = live.sim.devices()[0]["id"]
    statuses = [live.patch(DEVICES_V2, [device_id], {"archived": True}).status_code for _ in range(3)]
    assert statuses == [202, 202, 429]
    refused = live.patch(DEVICES_V2, [device_id], {"archived": True})
    assert refused.json()["errorCode"] == "HPE_GL_ERROR_TOO_MANY_REQUESTS"
    assert refused.headers["ratelimit-limit"] == "2" and refused.headers["ratelimit-remaining"] == "0"
    assert int(refused.headers["retry-after"]) >= 1
    assert (
        live.patch(DEVICES, [device_id], {"application": {"id": None}}).status_code == 202
    )  # v1: own budget
    body = _add_body(network=[{"serialNumber": "CNRATE0001", "macAddress": "aa"}])
    assert [live.post(DEVICES, body).status_code for _ in range(2)] == [202, 429]
    op = live.sim.operations.pending()[0].id
    polls = [live.get(f"/devices/v1/async-operations/{op}").status_code for _ in range(4)]
    assert polls == [200, 200, 200, 429]
    defaults = SimulatorConfig()
    assert (defaults.devices_patch_rpm, defaults.devices_post_rpm, defaults.async_ops_rpm) == (40, 50, 90)


def test_service_catalog_matches_the_devices_applications(serve: Serve) -> None:
    live = serve(rate_limits=False)
    managers = live.get("/service-catalog/v1/service-managers").json()
    assert managers["count"] == managers["total"] == len(managers["items"]) == 4
    by_id = {m["id"]: m for m in managers["items"]}
    assert all(m["type"] == "service-catalog/service-manager" and m["name"] for m in by_id.values())
    per_region = live.get("/service-catalog/v1/per-region-service-managers").json()["items"]
    serves = {(sm["id"], item["id"]) for item in per_region for sm in item["serviceManagers"]}
    assert all(item["regionName"] for item in per_region)
    for device in live.sim.devices():
        if device["application"]:
            assert device["application"]["id"] in by_id
            assert device["application"]["resourceUri"].endswith(device["application"]["id"])
            assert (device["application"]["id"], device["region"]) in serves
    assert not all((manager_id, "us-gov") in serves for manager_id in by_id)  # not every region everywhere
    page = live.get("/service-catalog/v1/service-managers", limit=2, offset=1).json()
    assert (page["count"], page["offset"], page["total"]) == (2, 1, 4)


def test_subscription_tags_patch_uses_the_subscription_async_operations(serve: Serve) -> None:
    live = serve(rate_limits=False)
    sub = live.sim.subscriptions()[0]
    accepted = live.patch(SUBSCRIPTIONS, [sub["id"]], {"tags": {"costCenter": "CC-9", "gone": None}})
    assert accepted.headers["location"].startswith("/subscriptions/v1/async-operations/")
    op = live.finish(accepted)
    assert op["status"] == "SUCCEEDED" and op["type"] == "subscriptions/asyncOperation"
    assert live.get(f"{SUBSCRIPTIONS}/{sub['id']}").json()["tags"]["costCenter"] == "CC-9"
    assert live.patch(SUBSCRIPTIONS, [sub["id"]], {"tags": {}, "quantity": "5"}).status_code == 400


def test_injected_503_can_carry_retry_after(serve: Serve) -> None:
    live = serve(rate_limits=False)
    live.token  # noqa: B018
    live.sim.faults.unavailable_retry_after = 7
    live.sim.faults.error_burst = 1
    response = live.patch(DEVICES_V2, [MISSING], {"archived": True})
    assert (response.status_code, response.headers["retry-after"]) == (503, "7")
    assert not live.sim.operations.pending()  # refused before the API acted
