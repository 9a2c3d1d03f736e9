"""Device writes through the one client, against the simulator over real HTTP (and pure planning).

Waits go through the fake clock; where the simulator's rate limiter must see the same time as the client it
gets the fake clock too. Nothing here asserts on wall-clock durations.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from glp_pipeline.greenlake import (
    AsyncOperationTimeoutError,
    ClientConfig,
    DeviceOperation,
    GreenLakeClient,
    NewDevice,
    OperationKind,
    WriteOutcomeUnknownError,
    add_devices_body,
    check_patch_body,
    plan_add_batches,
    plan_batches,
)
from glp_pipeline.greenlake.errors import BadRequestError, NotFoundError, RateLimitedError
from glp_pipeline.greenlake.writes import AsyncOperationResult, patch_outcomes
from glp_pipeline.simulator.ratelimit import SlidingWindowLimiter

from .conftest import CLIENT_ID, CLIENT_SECRET, api_requests, settled_log

V1, V2 = "/devices/v1/devices", "/devices/v2beta1/devices"
MISSING = "00000000-0000-4000-8000-000000000000"


def _writes(sim: Any, method: str, path: str) -> list[Any]:
    return [r for r in api_requests(sim, path) if r.method == method]


def _manager(client: GreenLakeClient, name_start: str):
    return next(m for m in client.service_managers() if m.name.startswith(name_start))


# --- pure planning --------------------------------------------------------------------------------------


def test_batches_follow_the_per_call_limits() -> None:
    ids = [f"id-{n}" for n in range(60)]
    assert [len(b) for b in plan_batches(ids, "v2beta1")] == [25, 25, 10]
    assert [len(b) for b in plan_batches(ids, "v1")] == [5] * 12
    assert plan_batches(["a", "b", "a", "c"], 2) == [("a", "b"), ("c",)]  # unique, order kept
    assert plan_batches([], "v1") == []
    with pytest.raises(ValueError, match="non-empty"):
        plan_batches(["a", ""])
    op = DeviceOperation.apply_subscription("sub-1", api_version="v1")
    assert (op.max_ids, [len(b) for b in op.batches(ids[:12])]) == (5, [5, 5, 2])
    devices = [NewDevice(f"CN{n}", "NETWORK", mac_address="aa") for n in range(7)]
    assert [len(b) for b in plan_add_batches([*devices, devices[0]])] == [5, 2]


def test_each_operation_is_one_class_with_its_documented_body() -> None:
    cases = [
        (DeviceOperation.assign_application("app-1", "eu"), {"application": {"id": "app-1"}, "region": "eu"}),
        (DeviceOperation.unassign_application(), {"application": {"id": None}, "region": None}),
        (DeviceOperation.apply_subscription("sub-1"), {"subscription": [{"id": "sub-1"}]}),
        (DeviceOperation.remove_subscription(), {"subscription": []}),
        (DeviceOperation.update_tags({"site": "hq", "old": None}), {"tags": {"site": "hq", "old": None}}),
        (DeviceOperation.archive(), {"archived": True}),
        (DeviceOperation.unarchive(), {"archived": False}),
    ]  # fmt: skip
    for op, body in cases:
        assert dict(op.body) == body
        assert op.api_version == "v2beta1" and op.max_ids == 25
    assert {op.kind for op, _ in cases} == set(OperationKind)
    with pytest.raises(ValueError, match="region"):
        DeviceOperation.assign_application("app-1", "")
    with pytest.raises(ValueError, match="v2beta1"):
        DeviceOperation(OperationKind.ARCHIVE, {"archived": True}, "v1")
    with pytest.raises(ValueError, match="alone"):
        check_patch_body({"subscription": [], "tags": {"a": "b"}}, "v2beta1")
    with pytest.raises(ValueError, match="alone"):
        check_patch_body({"archived": True, "application": {"id": None}}, "v2beta1")
    with pytest.raises(ValueError, match="one operation"):
        check_patch_body({"application": {"id": None}, "subscription": []}, "v1")
    check_patch_body({"application": {"id": "a"}, "region": "r", "tags": {"a": "b"}}, "v2beta1")  # combinable


@pytest.mark.parametrize(
    "tags", [{"bad/key": "x"}, {"k": "no#"}, {"": "x"}, {"k" * 129: "x"}, {"A": "1", "a": "2"}, {}]
)
def test_tag_updates_are_checked_before_sending(tags: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="tag"):
        DeviceOperation.update_tags(tags)


def test_add_bodies_send_all_three_arrays() -> None:
    body = add_devices_body([
        NewDevice("CN1", "NETWORK", mac_address="20:4C:03:00:00:01", tags={"site": "lab"}),
        NewDevice("MXQ1", "COMPUTE", part_number="P52534-B21"),
    ])  # fmt: skip
    assert body == {
        "network": [{"serialNumber": "CN1", "macAddress": "20:4C:03:00:00:01", "tags": {"site": "lab"}}],
        "compute": [{"serialNumber": "MXQ1", "partNumber": "P52534-B21"}],
        "storage": [],
    }
    with pytest.raises(ValueError, match="MAC"):
        NewDevice("CN2", "NETWORK")
    with pytest.raises(ValueError, match="part number"):
        NewDevice("SGH1", "STORAGE")
    with pytest.raises(ValueError, match="at most 5"):
        add_devices_body([NewDevice(f"CN{n}", "NETWORK", mac_address="a") for n in range(6)])


def test_outcomes_read_every_result_shape() -> None:
    captured = AsyncOperationResult.from_json("op", {
        "id": "op", "status": "SUCCEEDED", "progressPercent": 100, "resultType": "PatchDeviceResponseV2",
        "result": {"succeededDevices": [{"id": "a"}]},
    })  # fmt: skip
    assert [o.status for o in patch_outcomes(["a", "b"], captured)] == ["succeeded", "unknown"]
    bare = AsyncOperationResult.from_json("op", {"status": "SUCCEEDED", "result": None})
    assert [o.status for o in patch_outcomes(["a"], bare)] == ["succeeded"]
    failed = AsyncOperationResult.from_json("op", {
        "status": "FAILED", "progressPercent": 0, "resultType": "postDevicesResponse",
        "result": {"failedDevicesSerial": ["SER1"]},
    })  # fmt: skip
    assert failed.terminal and failed.failed_serials == ("SER1",)
    timed_out = AsyncOperationResult.from_json("op", {"status": "TIMEOUT"})
    assert timed_out.terminal
    assert [o.status for o in patch_outcomes(["a"], timed_out)] == ["unknown"]
    for status in ("INITIALIZED", "RUNNING", "PAUSED", "SOMETHING_NEW"):
        assert not AsyncOperationResult.from_json("op", {"status": status}).terminal


# --- PATCH through the client ------------------------------------------------------------------------------


def test_apply_assigns_in_batches_of_25_with_journal_and_progress(serve, make_client) -> None:
    sim, server = serve()
    client = make_client(server)
    central = _manager(client, "HPE Aruba")
    ids = [d["id"] for d in sim.devices()[:30]]
    journal: list[tuple[tuple[str, ...], str]] = []
    progress: list[int] = []
    op = DeviceOperation.assign_application(central.id, "eu-central")
    outcomes = client.apply_device_operation(
        op, ids, on_submit=lambda b, i: journal.append((b, i)), on_progress=progress.append
    )

    assert [o.device_id for o in outcomes] == ids
    assert all(o.ok for o in outcomes)
    patches = _writes(sim, "PATCH", V2)
    assert [len(r.query["id"]) for r in patches] == [25, 5]
    assert [batch for batch, _ in journal] == [tuple(ids[:25]), tuple(ids[25:])]
    assert {o.operation_id for o in outcomes} == {op_id for _, op_id in journal}
    assert progress == sorted(progress) and progress[-1] == 100
    for device_id in ids:
        device = next(d for d in sim.devices() if d["id"] == device_id)
        assert (device["application"]["id"], device["region"]) == (central.id, "eu-central")
    polls = api_requests(sim, "/devices/v1/async-operations/")
    assert len(polls) == 6  # three polls per operation: INITIALIZED, RUNNING, SUCCEEDED
    assert client.stats.writes_accepted == 2 and client.stats.operation_polls == 6


def test_v1_subscription_batches_of_5_and_quantities(serve, make_client) -> None:
    sim, server = serve(subscriptions=40)
    client = make_client(server)
    sub = next(
        s
        for s in sim.subscriptions()
        if s["subscriptionType"] == "CENTRAL_AP" and s["subscriptionStatus"] == "STARTED"
    )
    coll = sim.inventory.collection("subscriptions")
    coll.put({**coll.get(sub["id"]), "availableQuantity": "6"})
    aps = [d["id"] for d in sim.devices() if d["deviceType"] in ("IAP", "AP") and not d["subscription"]][:7]
    outcomes = client.apply_device_operation(
        DeviceOperation.apply_subscription(sub["id"], api_version="v1"), aps
    )
    assert [len(r.query["id"]) for r in _writes(sim, "PATCH", V1)] == [5, 2]
    assert [o.status for o in outcomes] == ["succeeded"] * 6 + ["failed"]
    assert "no available quantity" in (outcomes[-1].message or "")
    assert outcomes[-1].error_code == "HPE_GL_UNPROCESSABLE_CONTENT"
    assert client.get_subscription(sub["id"])["availableQuantity"] == "0"


def test_per_device_failures_and_a_refused_batch(serve, make_client) -> None:
    sim, server = serve()
    client = make_client(server)
    central = _manager(client, "HPE Aruba")
    known = sim.devices()[0]["id"]
    op = DeviceOperation.assign_application(central.id, "us-gov")  # a region Central does not serve
    outcomes = client.apply_device_operation(op, [known, MISSING])
    assert [(o.status, o.error_code) for o in outcomes] == [
        ("failed", "HPE_GL_UNPROCESSABLE_CONTENT"),
        ("failed", "HPE_GL_ERROR_NOT_FOUND"),
    ]
    # a malformed id makes GreenLake refuse its whole batch (400); the next batch still goes
    ids = ["not-a-uuid", *[d["id"] for d in sim.devices()[1:30]]]
    outcomes = client.apply_device_operation(DeviceOperation.archive(), ids)
    assert {o.status for o in outcomes[:25]} == {"failed"} and outcomes[0].operation_id is None
    assert "not a valid UUID" in (outcomes[0].message or "")
    assert all(o.ok for o in outcomes[25:])


def test_timedout_operation_leaves_its_devices_unknown(serve, make_client) -> None:
    sim, server = serve()
    client = make_client(server)
    sim.faults.async_timeout_burst = 1
    ids = [d["id"] for d in sim.devices()[:3]]
    outcomes = client.apply_device_operation(DeviceOperation.archive(), ids)
    assert {o.status for o in outcomes} == {"unknown"}
    assert "TIMEDOUT" in (outcomes[0].message or "")
    assert client.get_operation(outcomes[0].operation_id).status == "TIMEDOUT"


def test_wait_honours_the_suggested_interval_within_bounds(serve, make_client, fake_clock) -> None:
    sim, server = serve(async_polls_to_finish=3, async_poll_interval_seconds=7)
    client = make_client(server)
    device = sim.devices()[0]["id"]
    reading = client.wait_for_operation(client.submit_device_patch([device], {"archived": True}))
    assert reading.succeeded and reading.progress_percent == 100
    assert fake_clock.sleeps == [7, 7]
    for suggested, expected in ((0, 1.0), (500, 30.0)):
        sim.config.async_poll_interval_seconds = suggested
        fake_clock.sleeps.clear()
        client.wait_for_operation(client.submit_device_patch([device], {"archived": False}))
        assert fake_clock.sleeps == [expected, expected]
    slow = make_client(server, async_operations_rpm=6)  # never faster than the async-operation budget
    sim.config.async_poll_interval_seconds = 2
    fake_clock.sleeps.clear()
    slow.wait_for_operation(slow.submit_device_patch([device], {"archived": True}))
    assert fake_clock.sleeps == [10.0, 10.0]


def test_client_side_timeout_carries_the_operation_id(serve, make_client) -> None:
    sim, server = serve(async_polls_to_finish=50)
    client = make_client(server)
    op_id = client.submit_device_patch([sim.devices()[0]["id"]], {"archived": True})
    with pytest.raises(AsyncOperationTimeoutError) as info:
        client.wait_for_operation(op_id, timeout_seconds=5)
    assert info.value.operation_id == op_id
    assert info.value.last.status == "RUNNING"
    assert op_id in str(info.value)
    with pytest.raises(NotFoundError):
        client.wait_for_operation(MISSING)


def test_statuses_outside_the_terminal_set_keep_polling(fake_clock) -> None:
    """PAUSED and statuses GreenLake may add later are not terminal (the simulator never sends them)."""
    statuses = iter(["PAUSED", "SOMETHING_NEW", "TIMEOUT"])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("token.oauth2"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 900})
        return httpx.Response(200, json={"id": "op-1", "status": next(statuses), "progressPercent": 10})

    config = ClientConfig(
        base_url="http://glp.invalid",
        token_url="http://glp.invalid/as/token.oauth2",
        client_id="c",
        client_secret="s",
    )
    http = httpx.Client(base_url="http://glp.invalid", transport=httpx.MockTransport(handler))
    client = GreenLakeClient(config, http_client=http, clock=fake_clock, sleep=fake_clock.sleep)
    seen: list[int] = []
    reading = client.wait_for_operation("op-1", on_progress=seen.append)
    assert reading.status == "TIMEOUT" and reading.terminal
    assert seen == [10, 10, 10]
    assert reading.raw["status"] == "TIMEOUT"


# --- retries, pacing, unknown outcomes ---------------------------------------------------------------------


def test_429_on_a_write_is_retried_after_the_reset(serve, make_client, fake_clock) -> None:
    sim, server = serve(devices_v2_patch_rpm=1)
    sim.limiter = SlidingWindowLimiter(clock=fake_clock)
    client = make_client(server, pacing=False)
    device = sim.devices()[0]["id"]
    first = client.submit_device_patch([device], {"archived": True})
    second = client.submit_device_patch([device], {"archived": False})
    assert first != second
    assert [r.status for r in _writes(sim, "PATCH", V2)] == [202, 429, 202]
    assert client.stats.rate_limited == 1
    assert 60 <= fake_clock.sleeps[-1] <= 61  # ratelimit-reset, plus jitter
    sim.config.retry_after = True
    sim.faults.rate_limit_burst = 1
    client.submit_device_add(network=[{"serialNumber": "CNRETRY001", "macAddress": "aa"}])
    assert [r.status for r in _writes(sim, "POST", V1)] == [429, 202]  # a POST after a 429 is safe
    assert len(sim.operations.pending()) == 3


def test_pacing_keeps_writes_under_the_budget(serve, make_client, fake_clock) -> None:
    sim, server = serve(devices=150, devices_v2_patch_rpm=3)
    sim.limiter = SlidingWindowLimiter(clock=fake_clock)
    client = make_client(server, devices_patch_rpm=3)
    submitted: list[float] = []
    ids = [d["id"] for d in sim.devices()[:125]]
    outcomes = client.apply_device_operation(
        DeviceOperation.archive(), ids, on_submit=lambda b, i: submitted.append(fake_clock.now)
    )
    assert all(o.ok for o in outcomes)
    assert len(submitted) == 5
    assert all(later - earlier >= 60 for earlier, later in zip(submitted, submitted[3:], strict=False))
    assert client.stats.rate_limited == 0 and client.stats.pacing_wait_seconds > 0  # polls wait too
    assert 429 not in {r.status for r in settled_log(sim)}


def test_a_write_is_never_repeated_once_it_may_have_been_accepted(serve, make_client) -> None:
    sim, server = serve(async_polls_to_finish=0)
    client = make_client(server)
    sim.faults.accept_then_fail_burst = 1  # GreenLake adds the device, then answers 500
    with pytest.raises(WriteOutcomeUnknownError) as info:
        client.submit_device_add(network=[{"serialNumber": "CNUNSURE01", "macAddress": "aa"}])
    assert info.value.status_code == 500 and info.value.items == ("CNUNSURE01",)
    assert "re-read" in str(info.value)
    assert len(_writes(sim, "POST", V1)) == 1  # not repeated
    assert any(d["serialNumber"] == "CNUNSURE01" for d in sim.devices())  # and it did happen

    sim.faults.error_burst = 1  # a 503 without Retry-After: cannot tell either
    with pytest.raises(WriteOutcomeUnknownError):
        client.submit_device_patch([sim.devices()[0]["id"]], {"archived": True})
    assert len(_writes(sim, "PATCH", V2)) == 1
    assert client.stats.writes_unknown == 2


def test_a_503_with_retry_after_is_a_refusal_and_retried(serve, make_client, fake_clock) -> None:
    sim, server = serve()
    client = make_client(server)
    client.tokens.get_token()
    sim.faults.unavailable_retry_after = 3
    sim.faults.error_burst = 1
    op_id = client.submit_device_patch([sim.devices()[0]["id"]], {"archived": True})
    assert [r.status for r in _writes(sim, "PATCH", V2)] == [503, 202]
    assert fake_clock.sleeps and fake_clock.sleeps[-1] >= 3
    assert client.wait_for_operation(op_id).succeeded


def test_a_dropped_connection_after_sending_is_an_unknown_outcome(serve, make_client) -> None:
    sim, server = serve()
    client = make_client(server)
    client.tokens.get_token()
    sim.faults.drop_rate = 1.0
    with pytest.raises(WriteOutcomeUnknownError):
        client.submit_device_patch([sim.devices()[0]["id"]], {"archived": True})
    assert len(_writes(sim, "PATCH", V2)) == 1


def test_apply_stops_sending_when_greenlake_keeps_refusing(serve, make_client) -> None:
    sim, server = serve()
    client = make_client(server, max_attempts=1)
    client.tokens.get_token()
    sim.faults.rate_limit_burst = 1
    ids = [d["id"] for d in sim.devices()[:30]]
    outcomes = client.apply_device_operation(DeviceOperation.archive(), ids)
    assert {o.status for o in outcomes} == {"not_submitted"}
    assert len(_writes(sim, "PATCH", V2)) == 1
    sim.faults.rate_limit_burst = 1
    with pytest.raises(RateLimitedError):
        client.submit_device_patch(ids[:2], {"archived": True})


def test_unknown_outcome_of_one_batch_does_not_stop_the_next(serve, make_client) -> None:
    sim, server = serve()
    client = make_client(server)
    client.tokens.get_token()
    sim.faults.accept_then_fail_burst = 1
    ids = [d["id"] for d in sim.devices()[:30]]
    outcomes = client.apply_device_operation(DeviceOperation.archive(), ids)
    assert {o.status for o in outcomes[:25]} == {"unknown"}
    assert all(o.ok for o in outcomes[25:])


def test_bad_request_is_not_retried(serve, make_client) -> None:
    sim, server = serve()
    client = make_client(server)
    with pytest.raises(BadRequestError):
        client.submit_device_add(network=[{"serialNumber": "CN1"}])  # no macAddress
    assert [r.status for r in _writes(sim, "POST", V1)] == [400]
    with pytest.raises(ValueError, match="1-25 unique ids"):
        client.submit_device_patch([f"id{n}" for n in range(26)], {"archived": True})
    with pytest.raises(ValueError, match="alone"):
        client.submit_device_patch(["a"], {"archived": True, "tags": {"a": "b"}})
    assert len(_writes(sim, "PATCH", V2)) == 0


# --- adds, resume, catalog, settings -----------------------------------------------------------------------


def test_add_devices_in_batches_of_5_with_duplicates_failing(serve, make_client) -> None:
    sim, server = serve()
    client = make_client(server)
    taken = sim.devices()[0]["serialNumber"]
    devices = [NewDevice(f"CNADD{n:05d}", "NETWORK", mac_address=f"20:4C:03:00:01:{n:02X}") for n in range(6)]
    devices.append(NewDevice(taken, "COMPUTE", part_number="P52534-B21"))
    journal: list[tuple[str, ...]] = []
    outcomes = client.add_devices(devices, on_submit=lambda serials, op_id: journal.append(serials))
    assert [len(r) for r in journal] == [5, 2]
    assert [r.status for r in _writes(sim, "POST", V1)] == [202, 202]
    assert [o.serial_number for o in outcomes] == [d.serial_number for d in devices]
    assert all(o.ok and o.device_id for o in outcomes[:6])
    assert outcomes[6].status == "failed" and outcomes[6].device_id is None
    by_serial = {d["serialNumber"]: d for d in sim.devices()}
    assert all(by_serial[o.serial_number]["id"] == o.device_id for o in outcomes[:6])
    dry = client.add_devices([NewDevice("CNDRY00001", "NETWORK", mac_address="aa")], dry_run=True)
    assert dry[0].ok and "CNDRY00001" not in {d["serialNumber"] for d in sim.devices()}


def test_a_journaled_operation_can_be_resumed_by_another_client(serve, make_client) -> None:
    sim, server = serve()
    client = make_client(server)
    journal: list[str] = []

    class Crash(Exception):
        pass

    def crash_after_journaling(batch: tuple[str, ...], op_id: str) -> None:
        journal.append(op_id)
        raise Crash

    ids = [d["id"] for d in sim.devices()[:3]]
    with pytest.raises(Crash):
        client.apply_device_operation(DeviceOperation.archive(), ids, on_submit=crash_after_journaling)
    later = make_client(server)
    reading = later.wait_for_operation(journal[0])
    assert reading.succeeded and set(reading.succeeded_ids) == set(ids)


def test_service_managers_with_their_regions(serve, make_client) -> None:
    sim, server = serve()
    client = make_client(server)
    managers = client.service_managers()
    truth = {m["id"]: m for m in sim.service_managers()}
    assert {m.id for m in managers} == set(truth)
    for manager in managers:
        assert manager.name == truth[manager.id]["name"]
        assert manager.regions == tuple(sorted(truth[manager.id]["regions"]))
    central = next(m for m in managers if m.name.startswith("HPE Aruba"))
    assert central.serves("us-west") and not central.serves("us-gov")


def test_write_budgets_come_from_settings(serve) -> None:
    from pydantic import SecretStr

    from glp_pipeline.settings import Settings

    defaults = ClientConfig(base_url="http://x", token_url="http://x/t", client_id="c", client_secret="s")
    budgets = defaults.budgets()
    assert budgets["PATCH /devices/v1/devices"] == budgets["PATCH /devices/v2beta1/devices"] == 20
    assert budgets["POST /devices/v1/devices"] == 25
    assert budgets["GET /devices/v1/async-operations/{id}"] == 90
    _, server = serve()
    settings = Settings(
        _env_file=None, glp_client_id=CLIENT_ID, glp_client_secret=SecretStr(CLIENT_SECRET),
        glp_base_url=server.base_url, glp_token_url=server.token_url,
        glp_devices_patch_rpm=40, glp_devices_post_rpm=50, glp_async_rpm=30, glp_async_timeout_seconds=60,
    )  # fmt: skip
    with GreenLakeClient.from_settings(settings) as client:
        assert client.pacer.budget("PATCH /devices/v2beta1/devices") == 40
        assert client.pacer.budget("POST /devices/v1/devices") == 50
        assert client.pacer.budget("GET /devices/v1/async-operations/{id}") == 30
        assert client.config.async_timeout_seconds == 60
