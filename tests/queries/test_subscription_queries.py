"""The subscription-side and sync queries on a real PostgreSQL built from simulator syncs, checked against
ground truth computed here from the simulator's own records (never from the same SQL)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import psycopg
import pytest
from pydantic import SecretStr

from glp_pipeline import queries as q
from glp_pipeline.greenlake import GreenLakeClient
from glp_pipeline.queries.subscriptions import (
    evaluation_subscriptions,
    expiring_subscriptions,
    license_utilization,
    renewal_forecast,
    subscription_detail,
)
from glp_pipeline.queries.sync_runs import sync_history, sync_metrics
from glp_pipeline.queries.trends import subscription_summary, subscriptions_by_tier
from glp_pipeline.sources.greenlake import parse_api_time
from glp_pipeline.sync import SyncError, run_sync
from glp_pipeline.transform import build


@pytest.fixture(scope="module")
def db(synced_database):
    """100 subscriptions (evaluations among them, live and ended), three removed by a second full sync, then
    a sync that fails on bad credentials, and an old failure 40 days back in the history."""
    built = synced_database(devices=300, subscriptions=100, seed=21)
    first_devices = len(built.sim.devices())
    first_subscriptions = len(built.sim.subscriptions())
    removed = built.sim.mutate(remove=3, resource="subscriptions").removed
    with GreenLakeClient.from_settings(built.settings) as client:
        run_sync(built.settings, client, mode="full", url=built.url)
    build(built.settings, url=built.url)
    bad = built.settings.model_copy(update={"glp_client_secret": SecretStr("not-the-secret")})
    with pytest.raises(SyncError) as failure, GreenLakeClient.from_settings(bad) as client:
        run_sync(bad, client, mode="full", url=built.url)
    with psycopg.connect(built.url, autocommit=True) as conn:
        conn.execute(
            "insert into glp.sync_history (run_id, resource, mode, trigger, status, started_at, finished_at,"
            " error_message) values (gen_random_uuid(), 'devices', 'full', 'cli', 'failed',"
            " now() - interval '40 days', now() - interval '40 days' + interval '3 seconds', 'old failure')"
        )
    devices, subscriptions = built.sim.devices(), built.sim.subscriptions()
    linked: Counter[str] = Counter()
    for device in devices:
        for sub_id in {link["id"] for link in device.get("subscription") or []}:
            linked[sub_id] += 1
    return SimpleNamespace(
        url=built.url,
        devices=devices,
        subscriptions=subscriptions,
        removed=set(removed),
        linked=linked,
        error=str(failure.value),
        fetched={
            "devices": first_devices + len(devices),
            "subscriptions": first_subscriptions + len(subscriptions),
        },
    )


# --- ground truth from the simulator's records ------------------------------------------------------------


def _end(sub: dict) -> datetime | None:
    return parse_api_time(sub["endTime"]) if sub.get("endTime") else None


def _used(sub: dict) -> int:
    return int(sub["quantity"]) - int(sub["availableQuantity"])


def _pct(sub: dict) -> float | None:
    quantity = int(sub["quantity"])
    return round(100.0 * _used(sub) / quantity, 1) if quantity else None


def _days_remaining(end: datetime) -> int:
    return (end.date() - datetime.now(UTC).date()).days


def _ending_within(db, days: int) -> list[dict]:
    now = datetime.now(UTC)
    subs = [s for s in db.subscriptions if _end(s) and now <= _end(s) < now + timedelta(days=days)]
    return sorted(subs, key=lambda s: (_end(s), s["id"]))


def _all_pages(fetch, page_size: int) -> tuple[list[dict], object]:
    first = fetch(page=1, page_size=page_size)
    items = list(first.items)
    for page in range(2, first.pages + 1):
        items += fetch(page=page, page_size=page_size).items
    return items, first


def _totals(db, subs: list[dict]) -> dict:
    return {
        "subscriptions": len(subs),
        "licences": sum(int(s["quantity"]) for s in subs),
        "licences_in_use": sum(_used(s) for s in subs),
        "devices_covered": sum(db.linked[s["id"]] for s in subs),
    }


# --- one subscription ---------------------------------------------------------------------------------------


def test_one_subscription_in_full_by_id_or_key(db):
    sub = max(db.subscriptions, key=lambda s: (db.linked[s["id"]], bool(s.get("tags")), s["id"]))
    assert db.linked[sub["id"]] > 0
    detail = subscription_detail(db.url, sub["id"])
    assert detail["subscription"]["subscription_key"] == sub["key"]
    assert detail["subscription"]["subscription_type"] == sub["subscriptionType"]
    assert detail["subscription"]["tier"] == sub["tier"]
    assert detail["subscription"]["ends_at"] == _end(sub)
    assert detail["subscription"]["ends_at"].utcoffset() == timedelta(0)
    assert detail["subscription"]["is_removed"] is False
    assert detail["days_remaining"] == _days_remaining(_end(sub))
    assert detail["licences"] == {
        "quantity": int(sub["quantity"]),
        "used": _used(sub),
        "available": int(sub["availableQuantity"]),
        "utilization_pct": _pct(sub),
    }
    assert detail["tags"] == (sub.get("tags") or {})
    assert detail["linked_devices"] == db.linked[sub["id"]]
    assert "search_vector" not in detail["subscription"]

    by_key = subscription_detail(db.url, subscription_key=sub["key"].lower())
    assert by_key["subscription"]["subscription_id"] == sub["id"]


def test_a_removed_subscription_is_still_found_and_marked(db):
    gone = next(iter(db.removed))
    detail = subscription_detail(db.url, gone)
    assert detail["subscription"]["is_removed"] is True
    assert detail["linked_devices"] == db.linked[gone]


def test_an_unknown_subscription_is_none_and_one_identifier_is_required(db):
    assert subscription_detail(db.url, "00000000-0000-0000-0000-000000000000") is None
    assert subscription_detail(db.url, subscription_key="NOPE") is None
    for kwargs in ({}, {"subscription_id": "x", "subscription_key": "y"}, {"subscription_id": "  "}):
        with pytest.raises(q.InvalidParameter, match="subscription_id or a subscription_key"):
            subscription_detail(db.url, **kwargs)


# --- what ends, evaluations ---------------------------------------------------------------------------------


@pytest.mark.parametrize("days", [30, 90, 400])
def test_expiring_subscriptions_are_the_window_soonest_first_with_totals(db, days):
    truth = _ending_within(db, days)
    assert truth, "the simulator ends some subscriptions in every window"
    items, first = _all_pages(lambda **p: expiring_subscriptions(db.url, days, **p), page_size=7)
    assert [i["subscription_id"] for i in items] == [s["id"] for s in truth]
    assert first.total == len(truth) and first.totals == _totals(db, truth)
    by_id = {s["id"]: s for s in truth}
    for item in items:
        sub = by_id[item["subscription_id"]]
        assert item["linked_devices"] == db.linked[sub["id"]]
        assert (item["quantity"], item["used_quantity"]) == (int(sub["quantity"]), _used(sub))
        assert item["days_remaining"] == _days_remaining(_end(sub))
        assert item["has_ended"] is False
    assert not db.removed & {i["subscription_id"] for i in items}


def test_expiring_subscriptions_by_type_and_tier(db):
    truth = _ending_within(db, 400)
    tier, sub_type = Counter((s["tier"], s["subscriptionType"]) for s in truth).most_common(1)[0][0]
    page = expiring_subscriptions(db.url, 400, tier=tier, subscription_type=sub_type, page_size=100)
    expected = [s["id"] for s in truth if s["tier"] == tier and s["subscriptionType"] == sub_type]
    assert [i["subscription_id"] for i in page.items] == expected
    assert expiring_subscriptions(db.url, 400, tier="NO_SUCH_TIER").total == 0, "unknown values are data"


def test_evaluation_subscriptions_live_and_ended(db):
    now = datetime.now(UTC)
    evals = [s for s in db.subscriptions if s["isEval"]]
    live = sorted((s for s in evals if _end(s) >= now), key=lambda s: (_end(s), s["id"]))
    ended = [s for s in evals if _end(s) < now]
    assert live and ended, "the simulator's data covers both"

    page = evaluation_subscriptions(db.url, page_size=100)
    assert [i["subscription_id"] for i in page.items] == [s["id"] for s in live]
    assert page.totals == _totals(db, live)
    assert all(i["is_eval"] and not i["has_ended"] for i in page.items)

    everything = evaluation_subscriptions(db.url, include_ended=True, page_size=100)
    assert {i["subscription_id"] for i in everything.items} == {s["id"] for s in evals}
    assert {i["subscription_id"] for i in everything.items if i["has_ended"]} == {s["id"] for s in ended}
    assert [i["ends_at"] for i in everything.items] == sorted(i["ends_at"] for i in everything.items)


# --- utilisation --------------------------------------------------------------------------------------------


def test_license_utilization_ranges_sorting_and_totals(db):
    def pcts(items):
        return [i["utilization_pct"] for i in items]

    everything, first = _all_pages(
        lambda **p: license_utilization(db.url, sort="utilization_pct", descending=True, **p), page_size=30
    )
    assert {i["subscription_id"] for i in everything} == {s["id"] for s in db.subscriptions}
    ranked = [p for p in pcts(everything) if p is not None]
    assert ranked == sorted(ranked, reverse=True) and pcts(everything)[len(ranked) :] == [None] * (
        len(everything) - len(ranked)
    ), "highest first, subscriptions without a quantity last"
    by_id = {s["id"]: s for s in db.subscriptions}
    for item in everything:
        sub = by_id[item["subscription_id"]]
        assert item["utilization_pct"] == _pct(sub)
        assert item["linked_devices"] == db.linked[sub["id"]]
    assert first.totals["licences_in_use"] == sum(_used(s) for s in db.subscriptions)

    band = license_utilization(db.url, min_pct=5, max_pct=50, status="STARTED", page_size=500)
    expected = {
        s["id"]
        for s in db.subscriptions
        if s["subscriptionStatus"] == "STARTED" and _pct(s) is not None and 5 <= _pct(s) <= 50
    }
    assert expected and {i["subscription_id"] for i in band.items} == expected
    assert pcts(band.items) == sorted(pcts(band.items)), "ascending by default"

    tier = Counter(s["tier"] for s in db.subscriptions).most_common(1)[0][0]
    by_devices = license_utilization(db.url, tier=tier, sort="linked_devices", descending=True, page_size=500)
    assert [i["linked_devices"] for i in by_devices.items] == sorted(
        (db.linked[s["id"]] for s in db.subscriptions if s["tier"] == tier), reverse=True
    )


def test_license_utilization_refuses_bad_arguments(db):
    with pytest.raises(q.InvalidParameter, match="swap them"):
        license_utilization(db.url, min_pct=60, max_pct=40)
    with pytest.raises(q.InvalidParameter, match="max_pct must be between 0 and 100"):
        license_utilization(db.url, max_pct=120)
    with pytest.raises(q.InvalidParameter, match="Cannot sort by"):
        license_utilization(db.url, sort="utilization_pct; drop table x")
    with pytest.raises(q.InvalidParameter, match="page_size"):
        license_utilization(db.url, page_size=0)


def test_summaries_by_type_status_and_tier(db):
    truth: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for s in db.subscriptions:
        row = truth[(s["subscriptionType"], s["subscriptionStatus"])]
        for n, value in enumerate((1, int(s["quantity"]), _used(s), db.linked[s["id"]])):
            row[n] += value
    rows = subscription_summary(db.url)
    assert {
        (r["subscription_type"], r["subscription_status"]): [
            r["subscriptions"],
            r["total_quantity"],
            r["used_quantity"],
            r["linked_devices"],
        ]
        for r in rows
    } == dict(truth)

    started = [s for s in db.subscriptions if s["subscriptionStatus"] == "STARTED"]
    tiers = subscriptions_by_tier(db.url)
    assert sum(r["subscriptions"] for r in tiers) == len(started)
    for row in tiers:
        subs = [
            s
            for s in started
            if (s["tier"], s["subscriptionType"]) == (row["tier"], row["subscription_type"])
        ]
        quantity, used = sum(int(s["quantity"]) for s in subs), sum(_used(s) for s in subs)
        assert (row["total_quantity"], row["used_quantity"]) == (quantity, used)
        assert row["utilization_pct"] == (round(100.0 * used / quantity, 1) if quantity else None)
        assert row["linked_devices"] == sum(db.linked[s["id"]] for s in subs)


# --- the renewal forecast -----------------------------------------------------------------------------------


def _month_start(moment: datetime, ahead: int = 0) -> date:
    month = moment.month - 1 + ahead
    return date(moment.year + month // 12, month % 12 + 1, 1)


@pytest.mark.parametrize(
    ("months", "group_by", "key"), [(12, "tier", "tier"), (36, "subscription_type", "subscriptionType")]
)
def test_renewal_forecast_matches_the_months_ahead(db, months, group_by, key):
    now = datetime.now(UTC)
    window_end = datetime.combine(_month_start(now, months), datetime.min.time(), UTC)
    truth: dict[date, dict] = {}
    for s in db.subscriptions:
        end = _end(s)
        if end and now <= end < window_end:
            values = (1, int(s["quantity"]), _used(s), db.linked[s["id"]])
            for bucket in (truth.setdefault(end.date().replace(day=1), {}), truth.setdefault("all", {})):
                for name in ("total", s[key]):
                    current = bucket.setdefault(name, [0, 0, 0, 0])
                    bucket[name] = [a + b for a, b in zip(current, values, strict=True)]

    forecast = renewal_forecast(db.url, months, group_by=group_by)
    assert forecast["group_by"] == group_by
    assert [m["month"] for m in forecast["months"]] == [_month_start(now, n) for n in range(months)]
    metrics = ("subscriptions_ending", "licences_ending", "licences_in_use", "devices_affected")
    for month in forecast["months"]:
        expected = truth.get(month["month"], {})
        assert [month[m] for m in metrics] == expected.get("total", [0, 0, 0, 0]), month["month"]
        assert {g[group_by]: [g[m] for m in metrics] for g in month["groups"]} == {
            name: v for name, v in expected.items() if name != "total"
        }
        in_use = [g["licences_in_use"] for g in month["groups"]]
        assert in_use == sorted(in_use, reverse=True), "the groups that need most renewing first"
    assert [forecast["totals"][m] for m in metrics] == truth["all"]["total"]


def test_renewal_forecast_refuses_bad_arguments(db):
    for months in (0, 37):
        with pytest.raises(q.InvalidParameter, match="months must be between 1 and 36"):
            renewal_forecast(db.url, months)
    with pytest.raises(q.InvalidParameter, match="Cannot group by 'region'"):
        renewal_forecast(db.url, 6, group_by="region")


# --- sync history and metrics -------------------------------------------------------------------------------


def test_sync_history_newest_first_and_filtered(db):
    runs = sync_history(db.url)
    assert len(runs) == 7  # three runs of two resources, and the old failure
    started = [r["started_at"] for r in runs]
    assert started == sorted(started, reverse=True) and all(s.utcoffset() == timedelta(0) for s in started)
    assert [r["sync_status"] for r in runs[:2]] == ["failed", "failed"]
    assert {r["error_message"] for r in runs[:2]} == {db.error}

    failed = sync_history(db.url, status="failed", resource="devices")
    assert [r["error_message"] for r in failed] == [db.error, "old failure"]
    assert len(sync_history(db.url, limit=3)) == 3
    assert sync_history(db.url, resource="nothing") == [], "unknown values are data"
    with pytest.raises(q.InvalidParameter, match="limit"):
        sync_history(db.url, limit=0)


def test_sync_metrics_per_resource_over_a_window(db):
    metrics = {m["resource"]: m for m in sync_metrics(db.url, 30)}
    assert set(metrics) == {"devices", "subscriptions"}
    for resource, m in metrics.items():
        assert (m["runs"], m["successes"], m["failures"], m["running"]) == (3, 2, 1, 0), resource
        assert m["success_rate_pct"] == 66.7
        assert m["records_loaded"] == db.fetched[resource]
        assert m["last_error_message"] == db.error
        assert m["last_failure_at"] > m["last_success_at"] > datetime.now(UTC) - timedelta(hours=1)
        assert 0 <= m["median_duration_seconds"] <= m["p95_duration_seconds"] <= m["max_duration_seconds"]
    assert metrics["subscriptions"]["removed"] == len(db.removed)

    longer = {m["resource"]: m for m in sync_metrics(db.url, 60)}
    assert (longer["devices"]["runs"], longer["devices"]["failures"]) == (4, 2), "the old failure counts"
    assert longer["devices"]["success_rate_pct"] == 50.0
    assert longer["devices"]["median_duration_seconds"] == metrics["devices"]["median_duration_seconds"]
    for days in (0, 3651):
        with pytest.raises(q.InvalidParameter, match="days must be between 1"):
            sync_metrics(db.url, days)
