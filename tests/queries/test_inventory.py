"""The device-side inventory queries (aggregations, tags, recent changes, a device's subscriptions) on a real
PostgreSQL built from the simulator, checked against the simulator's own records, not the same SQL."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from glp_pipeline import queries as q
from glp_pipeline.greenlake import GreenLakeClient
from glp_pipeline.queries import devices as dq
from glp_pipeline.queries import inventory as inv
from glp_pipeline.sources.greenlake import parse_api_time
from glp_pipeline.sync import run_sync
from glp_pipeline.transform import build


@pytest.fixture(scope="module")
def db(synced_database):
    """A synced workspace, then changes in GreenLake (devices and subscriptions updated and removed) and a
    second full sync and build, so that removals and fresh updates are in the data."""
    synced = synced_database(devices=220, subscriptions=60, seed=23)
    sim = synced.sim
    subscriptions_before = sim.subscriptions()
    removed_devices = sim.mutate(update=4, remove=3, resource="devices").removed
    removed_subscriptions = sim.mutate(update=2, remove=2, resource="subscriptions").removed
    with GreenLakeClient.from_settings(synced.settings) as client:
        run_sync(synced.settings, client, mode="full", url=synced.url)
    build(synced.settings, url=synced.url)
    return SimpleNamespace(
        url=synced.url,
        config=q.QueryConfig.from_settings(synced.settings),
        devices=sim.devices(),
        subscriptions=sim.subscriptions(),
        removed_devices=set(removed_devices),
        removed_subscriptions=set(removed_subscriptions),
        subscriptions_before=subscriptions_before,
    )


def _assigned(device: dict) -> bool:
    return bool((device.get("application") or {}).get("id"))


def _counts(devices: list[dict]) -> dict[str, int]:
    assigned = sum(_assigned(d) for d in devices)
    return {
        "total_devices": len(devices),
        "assigned_devices": assigned,
        "unassigned_devices": len(devices) - assigned,
    }


def _by(devices: list[dict], key) -> dict:
    groups = defaultdict(list)
    for device in devices:
        groups[key(device)].append(device)
    return groups


# --- device_summary --------------------------------------------------------------------------------------


def test_device_summary_counts_live_devices_per_type_and_region(db):
    result = inv.device_summary(db.url, group_by=["device_type", "region"], limit=500, config=db.config)
    expected = {
        key: _counts(group) | {"archived_devices": sum(bool(d["archived"]) for d in group)}
        for key, group in _by(db.devices, lambda d: (d["deviceType"], d["region"])).items()
    }
    got = {
        (r["device_type"], r["region"]): {k: v for k, v in r.items() if k.endswith("_devices")}
        for r in result["rows"]
    }
    assert got == expected
    assert result["groups"] == len(expected)
    assert result["totals"]["total_devices"] == len(db.devices)
    totals = [r["total_devices"] for r in result["rows"]]
    assert totals == sorted(totals, reverse=True), "largest groups first"


def test_device_summary_filters_limits_and_an_ungrouped_total(db):
    types = Counter(d["deviceType"] for d in db.devices)
    top = inv.device_summary(db.url, limit=2, config=db.config)
    assert [r["total_devices"] for r in top["rows"]] == sorted(types.values(), reverse=True)[:2]
    assert top["groups"] == len(types) and top["totals"]["total_devices"] == len(db.devices)

    switches = [d for d in db.devices if d["deviceType"] == "SWITCH"]
    only = inv.device_summary(db.url, group_by=[], device_type="SWITCH", config=db.config)
    assert only["rows"] == [only["totals"]]
    assert only["totals"]["total_devices"] == len(switches)
    assert only["totals"]["unassigned_devices"] == sum(not _assigned(d) for d in switches)

    nothing = inv.device_summary(
        db.url, device_type="NO_SUCH_TYPE", config=db.config
    )  # unknown values are data
    assert nothing["rows"] == [] and nothing["groups"] == 0 and nothing["totals"]["total_devices"] == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"group_by": ["device_type", "colour"]}, "group_by must be one of"),
        ({"limit": 0}, "limit must be between"),
        ({"limit": 10_000}, "limit must be between"),
    ],
)
def test_device_summary_refuses_bad_arguments(db, arguments, message):
    with pytest.raises(q.InvalidParameter, match=message):
        inv.device_summary(db.url, config=db.config, **arguments)


# --- devices_by_location -----------------------------------------------------------------------------------

_LEVEL_KEYS = {
    "country": ("country",),
    "state": ("country", "state"),
    "city": ("country", "state", "city"),
    "site": ("country", "state", "city", "id", "locationName"),
}
_OUTPUT_KEYS = {
    "country": "country",
    "state": "state",
    "city": "city",
    "id": "site_id",
    "locationName": "site",
}


@pytest.mark.parametrize("level", ["country", "state", "city", "site"])
def test_devices_by_location_counts_each_level_and_the_devices_without_one(db, level):
    result = inv.devices_by_location(db.url, level=level, limit=500, config=db.config)
    located = [d for d in db.devices if d.get("location")]
    keys = _LEVEL_KEYS[level]
    expected = {
        key: _counts(group)
        for key, group in _by(located, lambda d: tuple(d["location"].get(k) for k in keys)).items()
    }
    got = {
        tuple(r[_OUTPUT_KEYS[k]] for k in keys): {
            k: r[k] for k in ("total_devices", "assigned_devices", "unassigned_devices")
        }
        for r in result["rows"]
    }
    assert got == expected
    assert result["locations"] == len(expected)
    assert result["no_location"] == _counts([d for d in db.devices if not d.get("location")])
    assert result["totals"] == _counts(db.devices)


def test_devices_by_location_filters_by_type_and_caps_the_rows(db):
    gateways = [d for d in db.devices if d["deviceType"] == "GATEWAY" and d.get("location")]
    result = inv.devices_by_location(db.url, level="city", device_type="GATEWAY", limit=2, config=db.config)
    cities = Counter(d["location"]["city"] for d in gateways)
    assert [r["total_devices"] for r in result["rows"]] == sorted(cities.values(), reverse=True)[:2]
    assert result["locations"] == len(cities)
    with pytest.raises(q.InvalidParameter, match="level must be one of: country, state, city, site"):
        inv.devices_by_location(db.url, level="continent", config=db.config)


# --- device_age_analysis -----------------------------------------------------------------------------------


def _age_bucket(device: dict, today) -> str:
    created = parse_api_time(device.get("createdAt"))
    if created is None:
        return "unknown"
    months = (today.year * 12 + today.month) - (created.year * 12 + created.month)
    return (
        "<1y"
        if months < 12
        else "1-2y"
        if months < 24
        else "2-3y"
        if months < 36
        else "3-5y"
        if months < 60
        else "5y+"
    )


def _support(device: dict, today) -> dict[str, int]:
    level = ((device.get("warranty") or {}).get("currentSupportLevel")) or {}
    end = parse_api_time(level.get("endDate"))
    if end is None:
        return {"ended": 0, "ends_within_90_days": 0, "ends_within_180_days": 0, "no_end_date": 1}
    left = (end.astimezone(UTC).date() - today).days
    return {
        "ended": int(left < 0),
        "ends_within_90_days": int(0 <= left <= 90),
        "ends_within_180_days": int(0 <= left <= 180),
        "no_end_date": 0,
    }


def _age_row(devices: list[dict], today) -> dict:
    ages = Counter(_age_bucket(d, today) for d in devices)
    support: Counter = Counter()
    for device in devices:
        support.update(_support(device, today))
    return {
        "total_devices": len(devices),
        "age": {k: ages.get(k, 0) for k in ("<1y", "1-2y", "2-3y", "3-5y", "5y+", "unknown")},
        "support": {
            k: support.get(k, 0)
            for k in ("ended", "ends_within_90_days", "ends_within_180_days", "no_end_date")
        },
    }


def test_device_age_analysis_buckets_every_live_device_by_age_and_support(db):
    result = inv.device_age_analysis(db.url, config=db.config)
    today = result["as_of"]
    assert today == datetime.now(UTC).date()
    expected = _age_row(db.devices, today)
    assert result["rows"] == [expected] and result["totals"] == expected
    assert sum(expected["age"].values()) == len(db.devices)
    assert expected["age"]["<1y"] and expected["age"]["3-5y"], "the simulator spreads devices over four years"
    assert expected["support"]["ended"] and expected["support"]["no_end_date"]


@pytest.mark.parametrize(("group_by", "field"), [("device_type", "deviceType"), ("model", "model")])
def test_device_age_analysis_per_type_or_model(db, group_by, field):
    result = inv.device_age_analysis(db.url, group_by=group_by, limit=500, config=db.config)
    today = result["as_of"]
    expected = {
        key: {group_by: key} | _age_row(group, today)
        for key, group in _by(db.devices, lambda d: d[field]).items()
    }
    assert {r[group_by]: r for r in result["rows"]} == expected
    assert result["groups"] == len(expected)
    totals = [r["total_devices"] for r in result["rows"]]
    assert totals == sorted(totals, reverse=True)

    capped = inv.device_age_analysis(db.url, group_by=group_by, limit=3, config=db.config)
    assert capped["rows"] == result["rows"][:3] and capped["groups"] == len(expected)


def test_device_age_analysis_of_one_type_and_bad_arguments(db):
    switches = [d for d in db.devices if d["deviceType"] == "SWITCH"]
    result = inv.device_age_analysis(db.url, group_by="model", device_type="SWITCH", config=db.config)
    assert result["totals"] == _age_row(switches, result["as_of"])
    with pytest.raises(q.InvalidParameter, match="group_by must be one of: device_type, model"):
        inv.device_age_analysis(db.url, group_by="region", config=db.config)


# --- model_distribution ------------------------------------------------------------------------------------


def test_model_distribution_counts_models_with_their_share(db):
    result = inv.model_distribution(db.url, limit=500, config=db.config)
    expected = {
        key: _counts(group) for key, group in _by(db.devices, lambda d: (d["deviceType"], d["model"])).items()
    }
    got = {
        (r["device_type"], r["model"]): {
            k: r[k] for k in ("total_devices", "assigned_devices", "unassigned_devices")
        }
        for r in result["rows"]
    }
    assert got == expected
    assert result["models"] == len(expected) and result["total_devices"] == len(db.devices)
    for row in result["rows"]:
        assert row["share_pct"] == round(100 * row["total_devices"] / len(db.devices), 1)

    switches = [d for d in db.devices if d["deviceType"] == "SWITCH"]
    of_switches = inv.model_distribution(db.url, device_type="SWITCH", limit=1, config=db.config)
    top_count = Counter(d["model"] for d in switches).most_common(1)[0][1]
    assert of_switches["rows"][0]["total_devices"] == top_count
    assert of_switches["rows"][0]["share_pct"] == round(100 * top_count / len(switches), 1), (
        "share of the type"
    )
    assert of_switches["total_devices"] == len(switches)


# --- tags --------------------------------------------------------------------------------------------------


def _tag_truth(db) -> tuple[dict, dict]:
    """key -> {value -> [devices, subscriptions]}, over live devices and subscriptions."""
    values: dict = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for slot, records in ((0, db.devices), (1, db.subscriptions)):
        for record in records:
            for key, value in (record.get("tags") or {}).items():
                values[key][value][slot] += 1
    keys = {
        key: (sum(c[0] for c in by_value.values()), sum(c[1] for c in by_value.values()), len(by_value))
        for key, by_value in values.items()
    }
    return keys, values


def test_tag_statistics_lists_keys_with_counts_and_top_values(db):
    keys, values = _tag_truth(db)
    result = inv.tag_statistics(db.url, limit=500, top_values=3, config=db.config)
    assert result["total_keys"] == len(keys)
    got = {k["tag_key"]: (k["devices"], k["subscriptions"], k["distinct_values"]) for k in result["keys"]}
    assert got == keys
    uses = [k["devices"] + k["subscriptions"] for k in result["keys"]]
    assert uses == sorted(uses, reverse=True), "most used keys first"
    for key in result["keys"]:
        ranked = sorted(values[key["tag_key"]].items(), key=lambda kv: (-(kv[1][0] + kv[1][1]), kv[0]))[:3]
        assert [(v["value"], v["devices"], v["subscriptions"]) for v in key["top_values"]] == [
            (value, d, s) for value, (d, s) in ranked
        ], key["tag_key"]
    assert any(k["subscriptions"] for k in result["keys"]), "subscription tags count too"

    few = inv.tag_statistics(db.url, limit=2, top_values=1, config=db.config)
    assert [k["tag_key"] for k in few["keys"]] == [k["tag_key"] for k in result["keys"][:2]]
    assert all(len(k["top_values"]) == 1 for k in few["keys"]) and few["total_keys"] == len(keys)
    with pytest.raises(q.InvalidParameter, match="top_values must be between 1 and 100"):
        inv.tag_statistics(db.url, top_values=0, config=db.config)


def _all_pages(fetch, page_size: int = 7) -> tuple[list[dict], int]:
    items, page = [], 1
    while True:
        result = fetch(page=page, page_size=page_size)
        items += result.items
        if page >= result.pages:
            return items, result.total
        page += 1


def test_devices_by_tag_pages_through_every_device_with_the_tag(db):
    _, values = _tag_truth(db)
    key = max(values, key=lambda k: sum(c[0] for c in values[k].values()))
    value = max(values[key], key=lambda v: values[key][v][0])
    with_key = {d["id"] for d in db.devices if key in (d.get("tags") or {})}
    with_value = {d["id"] for d in db.devices if (d.get("tags") or {}).get(key) == value}

    items, total = _all_pages(lambda **p: dq.devices_by_tag(db.url, key, config=db.config, **p))
    assert [i["device_id"] for i in items] and {i["device_id"] for i in items} == with_key
    assert total == len(items) == len(with_key), "no device twice, none left out"
    serials = [i["serial_number"] for i in items]
    assert serials == sorted(serials), "by serial number"

    items, total = _all_pages(
        lambda **p: dq.devices_by_tag(db.url, key, tag_value=value, config=db.config, **p)
    )
    assert {i["device_id"] for i in items} == with_value and total == len(with_value)
    assert all(i["tags"][key] == value for i in items)


def test_devices_by_tag_matches_keys_exactly_and_suggests_other_cases(db):
    keys, _ = _tag_truth(db)
    key = next(k for k in keys if k != k.upper())
    page = dq.devices_by_tag(db.url, key.upper(), config=db.config)
    assert page.total == 0 and page.items == []
    assert key in inv.similar_tag_keys(db.url, key.upper(), config=db.config)
    assert dq.devices_by_tag(db.url, key, tag_value="no such value", config=db.config).total == 0
    with pytest.raises(q.InvalidParameter, match="tag_key"):
        dq.devices_by_tag(db.url, "", config=db.config)


# --- unassigned devices ------------------------------------------------------------------------------------


def test_unassigned_devices_pages_through_every_live_unassigned_device(db):
    expected = {d["id"] for d in db.devices if not _assigned(d)}
    items, total = _all_pages(lambda **p: dq.unassigned_devices(db.url, config=db.config, **p), page_size=25)
    assert {i["device_id"] for i in items} == expected and total == len(items) == len(expected)
    assert not any(i["is_assigned"] or i["is_removed"] for i in items)
    assert any(i["is_archived"] for i in items), "archived devices are listed, flagged"
    assert total == q.overview(db.url, db.config).devices.unassigned, "the same number as the overview's"

    switches = {d["id"] for d in db.devices if not _assigned(d) and d["deviceType"] == "SWITCH"}
    items, total = _all_pages(
        lambda **p: dq.unassigned_devices(db.url, device_type="SWITCH", config=db.config, **p)
    )
    assert {i["device_id"] for i in items} == switches and total == len(switches)

    beyond = dq.unassigned_devices(db.url, page=1000, page_size=50, config=db.config)
    assert beyond.items == [] and beyond.total == len(expected)
    with pytest.raises(q.InvalidParameter, match="page_size"):
        dq.unassigned_devices(db.url, page_size=0, config=db.config)


# --- recent changes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "days"), [("devices", 30), ("subscriptions", 60), ("devices", 365)])
def test_recently_updated_lists_changes_and_removals_newest_first(db, kind, days):
    records = db.devices if kind == "devices" else db.subscriptions
    removed = db.removed_devices if kind == "devices" else db.removed_subscriptions
    key = "device_id" if kind == "devices" else "subscription_id"
    first = inv.recently_updated(db.url, days=days, kind=kind, page_size=100, config=db.config)
    since = first["since"]
    assert abs((datetime.now(UTC) - since).total_seconds() - days * 86400) < 120
    expected = {r["id"] for r in records if parse_api_time(r["updatedAt"]) >= since}

    updated, total = _all_pages(
        lambda **p: inv.recently_updated(db.url, days=days, kind=kind, config=db.config, **p)["updated"],
        page_size=9,
    )
    assert {u[key] for u in updated} == expected and total == len(updated) == len(expected)
    stamps = [u["updated_at"] for u in updated]
    assert stamps == sorted(stamps, reverse=True), "newest first"
    assert first["removed"].total == len(removed) and {r[key] for r in first["removed"].items} == removed
    assert all(r["is_removed"] and r["removed_at"] >= since for r in first["removed"].items)


def test_recently_updated_puts_the_latest_changes_first_and_refuses_bad_arguments(db):
    result = inv.recently_updated(db.url, days=1, page_size=4, config=db.config)
    newest = sorted(db.devices, key=lambda d: d["updatedAt"], reverse=True)[:4]
    assert [u["device_id"] for u in result["updated"].items] == [d["id"] for d in newest]
    for arguments, message in (
        ({"days": 0}, "days must be between 1 and 365"),
        ({"days": 366}, "days must be between 1 and 365"),
        ({"kind": "applications"}, "kind must be one of: devices, subscriptions"),
        ({"page": 0}, "page must be"),
    ):
        with pytest.raises(q.InvalidParameter, match=message):
            inv.recently_updated(db.url, config=db.config, **arguments)


# --- one device's subscriptions ----------------------------------------------------------------------------


def test_device_subscriptions_lists_the_links_with_their_subscription(db):
    """Each link in the device's order, with its subscription's details; a subscription removed from
    GreenLake is still known (flagged removed), one GLP Sync never saw is flagged unknown."""
    subscriptions = {s["id"]: s for s in db.subscriptions_before} | {s["id"]: s for s in db.subscriptions}
    today = datetime.now(UTC).date()
    linked = [d for d in db.devices if d.get("subscription")]
    seen = Counter()
    for device in linked:
        result = dq.device_subscriptions(db.url, device["id"], config=db.config)
        assert result["device"]["serial_number"] == device["serialNumber"]
        assert [s["subscription_id"] for s in result["subscriptions"]] == [
            link["id"] for link in device["subscription"]
        ]
        for row, link in zip(result["subscriptions"], device["subscription"], strict=True):
            known = subscriptions.get(link["id"])
            removed = link["id"] in db.removed_subscriptions
            assert row["is_known_subscription"] is (known is not None)
            assert row["is_subscription_removed"] is removed
            assert row["subscription_key"] == (known or link)["key"]
            end = parse_api_time((known or link)["endTime"])
            assert row["ends_at"] == end and row["days_remaining"] == (end.date() - today).days
            if known:
                assert (row["tier"], row["subscription_type"], row["subscription_status"]) == (
                    known["tier"], known["subscriptionType"], known["subscriptionStatus"]
                )  # fmt: skip
            else:
                assert row["subscription_status"] is None and row["tier"] == link["tier"]
            seen["unknown" if not known else "removed" if removed else "live"] += 1
    assert seen["live"] and seen["unknown"], f"the data has live and dangling links: {seen}"

    bare = next(d for d in db.devices if not d.get("subscription"))
    assert dq.device_subscriptions(db.url, bare["id"], config=db.config)["subscriptions"] == []
    assert dq.device_subscriptions(db.url, "00000000-0000-0000-0000-000000000000", config=db.config) is None
