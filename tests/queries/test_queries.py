"""The query layer on a real PostgreSQL built from simulator syncs: its answers are the simulator's truth."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import errors, sql
from pydantic import SecretStr

from glp_pipeline import queries as q
from glp_pipeline.greenlake import GreenLakeClient
from glp_pipeline.settings import Settings
from glp_pipeline.simulator import GreenLakeSimulator, SimulatorConfig
from glp_pipeline.sources.greenlake import parse_api_time
from glp_pipeline.sync import run_sync
from glp_pipeline.transform import build


@pytest.fixture(scope="module")
def db(pg_admin_url, tmp_path_factory):
    """Two full syncs and builds of one simulated workspace; two devices disappear between them."""
    name = f"glp_test_q_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(pg_admin_url)._replace(path=f"/{name}"))
    sim = GreenLakeSimulator(SimulatorConfig(devices=400, subscriptions=100, seed=11))
    server = sim.start("127.0.0.1", 0)
    settings = Settings(
        _env_file=None,
        glp_home=tmp_path_factory.mktemp("queries-home"),
        glp_base_url=server.base_url,
        glp_token_url=server.token_url,
        glp_client_id=sim.config.client_id,
        glp_client_secret=SecretStr(sim.config.client_secret),
        database_url=SecretStr(url),
    )
    try:
        with GreenLakeClient.from_settings(settings) as client:
            run_sync(settings, client, mode="full", url=url)
            build(settings, url=url)
            removed = sim.mutate(remove=2, resource="devices").removed
            run_sync(settings, client, mode="full", url=url)
            build(settings, url=url)
        yield SimpleNamespace(
            url=url,
            sim=sim,
            devices=sim.devices(),
            subscriptions=sim.subscriptions(),
            removed=removed,
            config=q.QueryConfig.from_settings(settings),
        )
    finally:
        server.stop()
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def _ends_within(sub: dict, days: int) -> bool:
    end = parse_api_time(sub["endTime"]) if sub.get("endTime") else None
    now = datetime.now(UTC)
    return end is not None and now <= end < now + timedelta(days=days)


def _removed_ids(db) -> set[str]:
    return {r if isinstance(r, str) else r["id"] for r in db.removed}


# --- overview and dropdowns -----------------------------------------------------------------------------


def test_overview_matches_the_simulator(db):
    ov = q.overview(db.url, db.config)
    devices, subs = db.devices, db.subscriptions
    assert ov.devices.total == len(devices)
    assert ov.devices.assigned == sum(1 for d in devices if d["application"])
    assert ov.devices.unassigned == sum(1 for d in devices if not d["application"])
    assert ov.devices.archived == sum(1 for d in devices if d["archived"])
    assert ov.devices.removed_last_7_days == len(db.removed) == 2
    assert ov.subscriptions_by_status == dict(Counter(s["subscriptionStatus"] for s in subs))
    for days in (30, 60, 90):
        assert ov.expiring[days] == sum(1 for s in subs if _ends_within(s, days))
    started = [s for s in subs if s["subscriptionStatus"] == "STARTED"]
    assert ov.utilization.total == sum(int(s["quantity"]) for s in started)
    assert ov.utilization.used == sum(int(s["quantity"]) - int(s["availableQuantity"]) for s in started)
    assert ov.utilization.pct is not None
    assert {f.resource: f.stale for f in ov.freshness} == {"devices": False, "subscriptions": False}
    assert all(f.last_success_at is not None for f in ov.freshness)


def test_freshness_goes_stale(db):
    config = q.QueryConfig(freshness_hours=1e-6)
    assert all(f.stale for f in q.sync_freshness(db.url, config))


def test_filter_options(db):
    opts = q.filter_options(db.url, db.config)
    assert opts["device_types"] == sorted({d["deviceType"] for d in db.devices})
    assert opts["regions"] == sorted({d["region"] for d in db.devices if d["region"]})
    assert opts["subscription_statuses"] == sorted({s["subscriptionStatus"] for s in db.subscriptions})
    assert opts["subscription_types"] == sorted({s["subscriptionType"] for s in db.subscriptions})
    assert opts["tiers"] == sorted({s["tier"] for s in db.subscriptions if s["tier"]})
    assert opts["tag_keys"] == sorted({k for d in db.devices for k in d.get("tags") or {}})
    applications = {d["application"]["id"] for d in db.devices if d.get("application")}
    assert opts["application_ids"] == sorted(applications)


def test_sync_status_lists_recent_runs(db):
    rows = q.sync_status(db.url, limit=3, config=db.config)
    assert len(rows) == 3
    assert [r["started_at"] for r in rows] == sorted((r["started_at"] for r in rows), reverse=True)
    assert {r["sync_status"] for r in rows} == {"success"}


# --- device search ---------------------------------------------------------------------------------------


def _all_devices(db, **filters) -> list[dict]:
    page = q.search_devices(db.url, page_size=500, config=db.config, **filters)
    assert page.total == len(page.items)
    return page.items


def test_device_filters_match_the_simulator(db):
    devices = db.devices
    assert {d["device_id"] for d in _all_devices(db)} == {d["id"] for d in devices}
    kind = Counter(d["deviceType"] for d in devices).most_common(1)[0][0]
    assert {d["device_id"] for d in _all_devices(db, device_type=kind)} == {
        d["id"] for d in devices if d["deviceType"] == kind
    }
    region = next(d["region"] for d in devices if d["region"])
    assert {d["device_id"] for d in _all_devices(db, region=region)} == {
        d["id"] for d in devices if d["region"] == region
    }
    assert {d["device_id"] for d in _all_devices(db, assigned=False)} == {
        d["id"] for d in devices if not d["application"]
    }
    app = next(d["application"]["id"] for d in devices if d["application"])
    assert {d["device_id"] for d in _all_devices(db, application_id=app)} == {
        d["id"] for d in devices if d["application"] and d["application"]["id"] == app
    }
    key, value = next((k, v) for d in devices for k, v in (d["tags"] or {}).items())
    assert {d["device_id"] for d in _all_devices(db, tag=(key, value))} == {
        d["id"] for d in devices if (d["tags"] or {}).get(key) == value
    }
    assert {d["device_id"] for d in _all_devices(db, tag=(key, None))} == {
        d["id"] for d in devices if key in (d["tags"] or {})
    }
    tier = next(s["tier"] for d in devices for s in (d["subscription"] or []) if s.get("tier"))
    assert {d["device_id"] for d in _all_devices(db, tier=tier)} == {
        d["id"] for d in devices if any(s.get("tier") == tier for s in d["subscription"] or [])
    }


def test_devices_expiring_within(db):
    subs = {s["id"]: s for s in db.subscriptions}
    for days in (30, 365):
        expected = {
            d["id"]
            for d in db.devices
            if any(s["id"] in subs and _ends_within(subs[s["id"]], days) for s in d["subscription"] or [])
        }
        assert {d["device_id"] for d in _all_devices(db, expiring_within_days=days)} == expected


def test_removed_devices_only_on_request(db):
    removed = _removed_ids(db)
    live = {d["device_id"] for d in _all_devices(db)}
    assert not live & removed
    every = {d["device_id"]: d for d in _all_devices(db, include_removed=True)}
    assert removed <= set(every)
    assert all(every[i]["is_removed"] for i in removed)


def test_text_search_finds_a_serial_a_fragment_and_a_mac(db):
    target = db.devices[17]
    page = q.search_devices(db.url, text=target["serialNumber"], config=db.config)
    assert page.items[0]["device_id"] == target["id"]
    fragment = q.search_devices(
        db.url, text=target["serialNumber"][:6].lower(), page_size=500, config=db.config
    )
    assert target["id"] in {d["device_id"] for d in fragment.items}
    assert all(
        d["serial_number"].upper().startswith(target["serialNumber"][:6].upper()) or d["rank"] > 0
        for d in fragment.items
    )
    mac = next(d for d in db.devices if d["macAddress"])
    dashed = mac["macAddress"].replace(":", "-").lower()
    assert mac["id"] in {
        d["device_id"] for d in q.search_devices(db.url, text=dashed, config=db.config).items
    }
    hex_digits = mac["macAddress"].replace(":", "")
    dotted = f"{hex_digits[:4]}.{hex_digits[4:8]}".lower()  # Cisco notation, first 8 digits
    assert mac["id"] in {
        d["device_id"] for d in q.search_devices(db.url, text=dotted, page_size=500, config=db.config).items
    }
    assert q.search_devices(db.url, text="no-such-thing-zzz", config=db.config).total == 0
    # Wildcards and query operators in the text are literal, not "match everything" or a syntax error.
    for text in ("%", "*", "!", "a & | !b", "'", "\\", "x:*"):
        page = q.search_devices(db.url, text=text, config=db.config)
        assert page.total < len(db.devices), text


def test_text_search_matches_the_start_of_any_word_of_a_name(db):
    named = next(d for d in db.devices if d.get("deviceName") and "-" in d["deviceName"])
    words = named["deviceName"].split("-")
    text = " ".join(word[:3] for word in words[1:])  # e.g. "GW-668" -> "GW 668"
    page = q.search_devices(db.url, text=text, page_size=500, config=db.config)
    assert named["id"] in {d["device_id"] for d in page.items}
    assert page.total < len(db.devices)


def test_paging_is_complete_stable_and_without_overlap(db):
    first = q.search_devices(db.url, page=1, page_size=70, config=db.config)
    assert first.total == len(db.devices)
    assert first.pages == -(-len(db.devices) // 70)
    seen: list[str] = []
    for page in range(1, first.pages + 1):
        items = q.search_devices(db.url, page=page, page_size=70, config=db.config).items
        seen += [d["device_id"] for d in items]
    assert len(seen) == len(set(seen)) == len(db.devices)
    again = q.search_devices(db.url, page=2, page_size=70, config=db.config).items
    assert [d["device_id"] for d in again] == seen[70:140]
    beyond = q.search_devices(db.url, page=first.pages + 1, page_size=70, config=db.config)
    assert beyond.items == [] and beyond.total == len(db.devices)


def test_sorting(db):
    serials = [d["serial_number"] for d in _all_devices(db)]
    assert serials == sorted(serials, key=lambda s: (s is None, s))  # database collation may differ: check
    down = [
        d["updated_at"]
        for d in q.search_devices(
            db.url, sort="updated_at", descending=True, page_size=500, config=db.config
        ).items
    ]
    assert down == sorted(down, reverse=True)


def test_bad_parameters_are_refused(db):
    with pytest.raises(q.InvalidParameter, match="Cannot sort by"):
        q.search_devices(db.url, sort="serial_number; drop table marts.devices", config=db.config)
    with pytest.raises(q.InvalidParameter, match="page must be"):
        q.search_devices(db.url, page=0, config=db.config)
    with pytest.raises(q.InvalidParameter, match="page_size"):
        q.search_subscriptions(db.url, page_size=10_000, config=db.config)
    with pytest.raises(ValueError, match="expiring_within_days"):
        q.search_subscriptions(db.url, expiring_within_days=-1, config=db.config)


# --- device detail ---------------------------------------------------------------------------------------


def test_device_detail(db):
    target = next(d for d in db.devices if d["subscription"] and d["tags"])
    detail = q.device_detail(db.url, target["id"], db.config)
    assert detail is not None
    assert detail["device"]["serial_number"] == target["serialNumber"]
    assert detail["device"]["raw"]["serialNumber"] == target["serialNumber"]
    assert "search_vector" not in detail["device"]
    assert [s["subscription_id"] for s in detail["subscriptions"]] == [
        s["id"] for s in target["subscription"]
    ]
    assert detail["tags"] == target["tags"]
    assert detail["history"] and detail["history"][0]["valid_from"] is not None
    assert q.device_detail(db.url, str(uuid.uuid4()), db.config) is None


# --- subscriptions ---------------------------------------------------------------------------------------


def test_subscription_filters(db):
    subs = db.subscriptions

    def ids(**filters) -> set[str]:
        page = q.search_subscriptions(db.url, page_size=500, config=db.config, **filters)
        assert page.total == len(page.items)
        return {s["subscription_id"] for s in page.items}

    assert ids() == {s["id"] for s in subs}
    assert ids(status="STARTED") == {s["id"] for s in subs if s["subscriptionStatus"] == "STARTED"}
    kind = subs[0]["subscriptionType"]
    assert ids(subscription_type=kind) == {s["id"] for s in subs if s["subscriptionType"] == kind}
    tier = subs[0]["tier"]
    assert ids(tier=tier) == {s["id"] for s in subs if s["tier"] == tier}
    for days in (30, 90, 365):
        assert ids(expiring_within_days=days) == {s["id"] for s in subs if _ends_within(s, days)}
    target = subs[5]
    found = q.search_subscriptions(db.url, text=target["key"], config=db.config)
    assert found.items[0]["subscription_id"] == target["id"]
    assert target["id"] in ids(text=target["key"][:5])


def test_subscription_sort_and_devices(db):
    ends = [s["ends_at"] for s in q.search_subscriptions(db.url, page_size=500, config=db.config).items]
    present = [e for e in ends if e is not None]
    assert present == sorted(present)
    linked = Counter(s["id"] for d in db.devices for s in d["subscription"] or [])
    sub_id, count = linked.most_common(1)[0]
    devices = q.subscription_devices(db.url, sub_id, config=db.config)
    assert {d["device_id"] for d in devices} == {
        d["id"] for d in db.devices if any(s["id"] == sub_id for s in d["subscription"] or [])
    }
    assert len(devices) == count
    row = next(
        s
        for s in q.search_subscriptions(db.url, page_size=500, config=db.config).items
        if s["subscription_id"] == sub_id
    )
    assert row["linked_devices"] == count


# --- guards and errors -----------------------------------------------------------------------------------


def test_connection_uses_the_reader_role_and_cannot_write(db):
    with q.read_only_connection(db.url, db.config) as conn:
        assert conn.execute("select current_user as u").fetchone()["u"] == "glp_reader"
        assert conn.execute("show transaction_read_only").fetchone()["transaction_read_only"] == "on"
        assert conn.execute("show statement_timeout").fetchone()["statement_timeout"] == "15s"
    statements = [
        "insert into marts.device_tags values ('x', 'y', 'z')",
        "delete from marts.devices",
        "create table marts.evil (id int)",
        "select * from greenlake_raw.devices",
        "select * from staging.stg_greenlake__devices",
        "select * from glp.sync_history",
    ]
    for statement in statements:
        with pytest.raises(q.QueryError) as caught, q.read_only_connection(db.url, db.config) as conn:
            conn.execute(statement)
        assert isinstance(
            caught.value.__cause__, errors.InsufficientPrivilege | errors.ReadOnlySqlTransaction
        ), statement


def test_without_the_role_it_is_still_read_only(db):
    with (
        pytest.raises(q.QueryError) as caught,
        q.read_only_connection(db.url, db.config, use_role=False) as c,
    ):
        c.execute("delete from glp.sync_history")
    assert isinstance(caught.value.__cause__, errors.ReadOnlySqlTransaction)


def test_missing_role_falls_back_to_read_only(db, caplog):
    config = q.QueryConfig(reader_role="glp_no_such_role")
    with caplog.at_level("INFO", logger="glp_pipeline.queries.connection"):
        with q.read_only_connection(db.url, config) as conn:
            assert conn.execute("select current_user as u").fetchone()["u"] != "glp_no_such_role"
        with q.read_only_connection(db.url, config):
            pass
    assert sum("without the reader role" in r.message for r in caplog.records) == 1
    with pytest.raises(q.QueryError), q.read_only_connection(db.url, config) as conn:
        conn.execute("delete from marts.devices")


def test_empty_database_says_what_to_run(database_url):
    with pytest.raises(q.QueryError, match="glp demo"):
        q.overview(database_url)
    with pytest.raises(q.QueryError, match="glp transform"):
        q.search_devices(database_url)
    with pytest.raises(q.QueryError, match="glp demo"):
        q.sync_status(database_url)


def test_unreachable_database_is_a_query_error():
    with pytest.raises(q.QueryError, match="Cannot connect"):
        q.overview("postgresql://nobody@127.0.0.1:1/none")


def test_statement_timeout_is_a_query_error(db):
    config = q.QueryConfig(statement_timeout_seconds=0.05)
    with pytest.raises(q.QueryError, match="longer than"), q.read_only_connection(db.url, config) as conn:
        conn.execute("select pg_sleep(1)")


# --- chart series ------------------------------------------------------------------------------------------


def test_devices_by_type_and_region_add_up_to_the_live_devices(db):
    rows = q.devices_by_type_and_region(db.url, db.config)
    assert sum(r["total_devices"] for r in rows) == len(db.devices)
    by_type: dict[str, int] = {}
    for device in db.devices:
        by_type[device["deviceType"]] = by_type.get(device["deviceType"], 0) + 1
    got: dict[str, int] = {}
    for r in rows:
        got[r["device_type"]] = got.get(r["device_type"], 0) + r["total_devices"]
    assert got == by_type


def test_expiry_timeline_counts_each_future_expiry_once(db):
    rows = q.expiry_timeline(db.url, db.config)
    this_month = datetime.now(UTC).date().replace(day=1)
    expected = sum(
        1
        for s in db.subscriptions
        if s.get("endTime") and parse_api_time(s["endTime"]).date().replace(day=1) >= this_month
    )
    assert sum(r["subscriptions_ending"] for r in rows) == expected
    assert [r["expiry_month"] for r in rows] == sorted(r["expiry_month"] for r in rows)


def test_trends_cover_the_weeks_since_the_first_sync(db):
    inventory = q.inventory_trend(db.url, db.config)
    licences = q.license_trend(db.url, db.config)
    assert inventory and licences
    assert inventory[-1]["devices_at_week_end"] == len(db.devices)
    assert sum(r["devices_removed"] for r in inventory) == len(db.removed)
    started = [s for s in db.subscriptions if s["subscriptionStatus"] == "STARTED"]
    assert licences[-1]["subscriptions"] == len(started)
