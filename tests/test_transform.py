"""dbt on a real PostgreSQL after real syncs from the simulator: the marts equal its ground truth."""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql
from pydantic import SecretStr

from glp_pipeline.greenlake import GreenLakeClient
from glp_pipeline.settings import Settings
from glp_pipeline.simulator import GreenLakeSimulator, SimulatorConfig
from glp_pipeline.sources.greenlake import parse_api_time
from glp_pipeline.sync import run_sync
from glp_pipeline.transform import build, dbt_environment

ASSIGNMENT_FIELDS = ("application", "region", "assignedState", "archived", "subscription", "tags")


@pytest.fixture(scope="module")
def built(pg_admin_url, tmp_path_factory):
    """Two full syncs and builds; between them some devices change and three disappear."""
    name = f"glp_test_dbt_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(pg_admin_url)._replace(path=f"/{name}"))
    sim = GreenLakeSimulator(SimulatorConfig(devices=800, subscriptions=200, seed=7))
    server = sim.start("127.0.0.1", 0)
    settings = Settings(
        _env_file=None,
        glp_home=tmp_path_factory.mktemp("dbt-home"),
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
            before = {d["id"]: d for d in sim.devices()}
            changed = sim.mutate(update=80, resource="devices").updated
            removed = sim.mutate(remove=3, resource="devices").removed
            second = run_sync(settings, client, mode="full", url=url)
            report = build(settings, url=url)
            before_incremental = {d["id"]: d for d in sim.devices()}
            changed_later = sim.mutate(update=25, add=2, resource="devices")
            sub_changes = sim.mutate(update=10, resource="subscriptions").updated
            incremental = run_sync(settings, client, mode="incremental", url=url)
            incremental_report = build(settings, url=url)
        yield SimpleNamespace(
            url=url,
            sim=sim,
            before=before,
            changed=changed,
            removed=removed,
            second=second,
            report=report,
            settings=settings,
            before_incremental=before_incremental,
            changed_later=changed_later,
            sub_changes=sub_changes,
            incremental=incremental,
            incremental_report=incremental_report,
        )
    finally:
        server.stop()
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def _colon_mac(mac: str | None) -> str | None:
    digits = re.sub("[^0-9A-F]", "", (mac or "").upper())
    if len(digits) == 12:
        return ":".join(digits[i : i + 2] for i in range(0, 12, 2))
    return (mac or "").strip().upper() or None


def _query(url: str, query: str, *params) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def _rows(url: str, query: str, *params) -> list[dict]:
    with psycopg.connect(url) as conn:
        cur = conn.execute(query, params)
        cols = [d.name for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def test_build_passes_with_warnings_only_for_unknown_values(built):
    assert built.report.success
    assert built.report.failures == []
    assert built.report.statuses.get("pass", 0) > 20
    assert all("accepted_values" in w or "relationships" in w for w in built.report.warnings)


def test_a_build_after_an_incremental_sync_applies_its_changes(built):
    assert built.incremental.mode == "incremental"
    assert built.incremental_report.failures == []
    rows = {
        r["device_id"]: r for r in _rows(built.url, "select device_id, raw, is_removed from marts.devices")
    }
    now = {d["id"]: d for d in built.sim.devices()}
    for device_id in [*built.changed_later.updated, *built.changed_later.added]:
        assert rows[device_id]["raw"] == now[device_id]
    untouched = [
        i for i in now if i not in built.changed_later.updated and i not in built.changed_later.added
    ]
    for device_id in random.Random(9).sample(untouched, 30):
        assert rows[device_id]["raw"] == now[device_id] == built.before_incremental[device_id]
    assert all(rows[i]["is_removed"] for i in built.removed), "removals survive an incremental build"
    subs = {r[0]: r[1] for r in _query(built.url, "select subscription_id, raw from marts.subscriptions")}
    current_subs = {s["id"]: s for s in built.sim.subscriptions()}
    assert all(subs[i] == current_subs[i] for i in built.sub_changes)


def test_mart_counts_equal_the_simulator(built):
    live_devices, live_subs = built.sim.devices(), built.sim.subscriptions()
    counts = _query(
        built.url,
        "select count(*), count(*) filter (where not is_removed) from marts.devices",
    )[0]
    assert counts == (802, len(live_devices))
    assert _query(built.url, "select count(*) from marts.subscriptions where not is_removed")[0][0] == len(
        live_subs
    )
    links = sum(len(d["subscription"] or []) for d in built.sim.devices())
    removed_links = sum(len(built.before[i]["subscription"] or []) for i in built.removed)
    assert _query(built.url, "select count(*) from marts.device_subscriptions")[0][0] == links + removed_links
    tags = sum(len(d["tags"] or {}) for d in built.sim.devices())
    removed_tags = sum(len(built.before[i]["tags"] or {}) for i in built.removed)
    assert _query(built.url, "select count(*) from marts.device_tags")[0][0] == tags + removed_tags


def test_devices_equal_the_simulator_field_by_field(built):
    rows = {r["device_id"]: r for r in _rows(built.url, "select * from marts.devices")}
    for device in random.Random(3).sample(built.sim.devices(), 60):
        row = rows[device["id"]]
        assert row["raw"] == device, "raw is the API object exactly"
        assert row["serial_number"] == device["serialNumber"]
        assert row["mac_address"] == _colon_mac(device["macAddress"])
        assert row["device_type"] == device["deviceType"]
        assert row["region"] == device["region"]
        assert row["application_id"] == (device["application"] or {}).get("id")
        assert row["is_archived"] == device["archived"]
        assert row["location_city"] == (device["location"] or {}).get("city")
        assert row["tags"] == (device["tags"] or {})
        current = (device["warranty"] or {}).get("currentSupportLevel") or {}
        assert row["support_ends_at"] == parse_api_time(current.get("endDate"))
        assert row["updated_at"] == parse_api_time(device["updatedAt"])
        assert row["subscription_count"] == len(device["subscription"] or [])
        assert row["is_removed"] is False


def test_subscription_quantities_are_integers(built):
    rows = {r["subscription_id"]: r for r in _rows(built.url, "select * from marts.subscriptions")}
    zero_seen = False
    for sub in built.sim.subscriptions():
        row = rows[sub["id"]]
        assert row["quantity"] == int(sub["quantity"])
        assert row["available_quantity"] == int(sub["availableQuantity"])
        assert row["used_quantity"] == int(sub["quantity"]) - int(sub["availableQuantity"])
        assert row["raw"] == sub
        zero_seen |= sub["availableQuantity"] == "0"
    assert zero_seen, "the simulator should have a subscription with availableQuantity '0'"


@pytest.mark.parametrize("days", [30, 90])
def test_expiring_soon_is_exactly_the_ground_truth(built, days):
    now = datetime.now(UTC)

    def ends_within(end: str | None) -> bool:
        moment = parse_api_time(end)
        return moment is not None and now <= moment < now + timedelta(days=days)

    subs = {s["id"]: s for s in built.sim.subscriptions()}
    expected_subs = {i for i, s in subs.items() if ends_within(s["endTime"])}
    expected_devices = {
        (d["id"], link["id"])
        for d in built.sim.devices()
        for link in d["subscription"] or []
        if link["id"] in subs and ends_within(subs[link["id"]]["endTime"])
    }
    window = "ends_at < now() + make_interval(days => %s)"
    got_subs = {
        r[0]
        for r in _query(
            built.url,
            f"select subscription_id from reporting.subscriptions_expiring_soon where {window}",
            days,
        )
    }
    got_devices = set(
        _query(
            built.url,
            f"select device_id, subscription_id from reporting.devices_expiring_soon where {window}",
            days,
        )
    )
    assert expected_subs and got_subs == expected_subs
    assert expected_devices and got_devices == expected_devices


def test_removed_devices_are_marked_removed(built):
    rows = _rows(
        built.url,
        "select device_id, removed_at from marts.devices where is_removed order by device_id",
    )
    assert {r["device_id"] for r in rows} == set(built.removed)
    assert all(r["removed_at"] == built.second.started_at for r in rows)
    active = {r[0] for r in _query(built.url, "select device_id from reporting.active_devices")}
    assert not active & set(built.removed)


def test_a_changed_assignment_is_recorded_in_history(built):
    now = built.before_incremental
    changed_again = set(built.changed_later.updated)
    still_there = [i for i in built.changed if i in now and i not in changed_again]
    reassigned = [i for i in still_there if any(built.before[i][f] != now[i][f] for f in ASSIGNMENT_FIELDS)]
    renamed_only = [i for i in still_there if i not in reassigned]
    assert reassigned and renamed_only
    versions = dict(
        _query(built.url, "select device_id, count(*) from snapshots.device_assignment_history group by 1")
    )
    assert all(versions[i] == 2 for i in reassigned)
    assert all(versions[i] == 1 for i in renamed_only)
    device = reassigned[0]
    history = _rows(
        built.url,
        "select tags, is_archived, dbt_valid_to from snapshots.device_assignment_history"
        " where device_id = %s order by dbt_valid_from",
        device,
    )
    assert history[0]["dbt_valid_to"] is not None and history[1]["dbt_valid_to"] is None
    assert (history[0]["tags"] or {}, history[0]["is_archived"]) == (
        built.before[device]["tags"] or {},
        built.before[device]["archived"],
    )
    assert (history[1]["tags"] or {}, history[1]["is_archived"]) == (
        now[device]["tags"] or {},
        now[device]["archived"],
    )


def test_dangling_subscription_links_are_kept_and_flagged(built):
    known = {s["id"] for s in built.sim.subscriptions()}
    dangling = {
        (d["id"], link["id"])
        for d in built.sim.devices()
        for link in d["subscription"] or []
        if link["id"] not in known
    }
    got = set(
        _query(
            built.url,
            "select l.device_id, l.subscription_id from marts.device_subscriptions l"
            " join marts.devices d using (device_id) where not l.is_known_subscription and not d.is_removed",
        )
    )
    assert dangling and got == dangling


def test_every_mart_and_reporting_column_has_a_persisted_description(built):
    undocumented = _query(
        built.url,
        """
        select c.table_schema, c.table_name, c.column_name
        from information_schema.columns c
        join pg_class t on t.relname = c.table_name
        join pg_namespace n on n.oid = t.relnamespace and n.nspname = c.table_schema
        where c.table_schema in ('marts', 'reporting')
          and coalesce(col_description(t.oid, c.ordinal_position), '') = ''
        """,
    )
    assert undocumented == []
    tables = _query(
        built.url,
        "select c.relname, obj_description(c.oid) from pg_class c"
        " join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname in ('marts', 'reporting') and c.relkind in ('r', 'v')",
    )
    assert len(tables) >= 17 and all(description for _, description in tables)


def test_schemas_are_named_exactly(built):
    schemas = {r[0] for r in _query(built.url, "select nspname from pg_namespace")}
    assert {"staging", "marts", "reporting", "snapshots"} <= schemas


def test_reader_role_reads_marts_and_reporting_only(built):
    with psycopg.connect(built.url, autocommit=True) as conn:
        conn.execute("set role glp_reader")
        assert conn.execute("select count(*) from reporting.active_devices").fetchone()[0] > 0
        assert conn.execute("select count(*) from marts.devices").fetchone()[0] == 802
        for forbidden in ("greenlake_raw.devices", "staging.stg_greenlake__devices", "glp.sync_history"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select 1 from {forbidden} limit 1")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("delete from marts.devices")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("create table reporting.mine (x int)")


def test_full_text_search_ranks_serial_matches_first(built):
    device = random.Random(5).choice(built.sim.devices())
    hits = _query(
        built.url,
        "select device_id from marts.devices where search_vector @@ websearch_to_tsquery('simple', %s)"
        " order by ts_rank(search_vector, websearch_to_tsquery('simple', %s)) desc",
        device["serialNumber"],
        device["serialNumber"],
    )
    assert hits[0][0] == device["id"]
    gin = _query(
        built.url,
        "select indexdef from pg_indexes where schemaname in ('marts') and indexdef ilike '%%using gin%%'"
        " and indexdef ilike '%%search_vector%%'",
    )
    assert len(gin) == 2, "devices and subscriptions each have a GIN index on search_vector"


def test_marts_keep_one_copy_of_each_index_and_fresh_statistics_across_builds(built):
    """Three builds ran (two full, one incremental): each index exists once, under its stable name, and
    every mart was analysed by the build itself (not left to autovacuum)."""
    indexes = _query(
        built.url,
        "select tablename, indexname, regexp_replace(indexdef, 'INDEX \\S+ ON', 'INDEX ON') from pg_indexes"
        " where schemaname = 'marts' order by 1, 2",
    )
    definitions = [(table, definition) for table, _, definition in indexes]
    assert len(definitions) == len(set(definitions)), f"duplicate indexes: {indexes}"
    names = {name for _, name, _ in indexes}
    assert {
        "devices__device_id",
        "devices__search_vector",
        "devices__device_type__serial_number",
        "devices__region__serial_number",
        "subscriptions__search_vector",
        "device_tags__tag_key__tag_value",
    } <= names
    analysed = dict(
        _query(
            built.url,
            "select relname, last_analyze is not null from pg_stat_user_tables where schemaname = 'marts'",
        )
    )
    assert set(analysed) == {
        "devices",
        "subscriptions",
        "device_subscriptions",
        "device_tags",
        "subscription_tags",
    }
    assert all(analysed.values()), analysed


def test_dbt_environment_reads_socket_and_tcp_urls():
    socket = dbt_environment("postgresql://postgres:pw@%2Ftmp%2FSome%20Dir%2Fpgdata:5432/glp")
    assert socket["GLP_DB_HOST"] == "/tmp/Some Dir/pgdata"
    assert (socket["GLP_DB_PORT"], socket["GLP_DB_NAME"], socket["GLP_DB_USER"]) == (
        "5432",
        "glp",
        "postgres",
    )
    assert socket["DBT_ENV_SECRET_GLP_DB_PASSWORD"] == "pw"
    tcp = dbt_environment("postgresql+psycopg://u:p%40ss@db.example:6543/inv?sslmode=require")
    assert (tcp["GLP_DB_HOST"], tcp["GLP_DB_PORT"], tcp["GLP_DB_NAME"]) == ("db.example", "6543", "inv")
    assert (tcp["DBT_ENV_SECRET_GLP_DB_PASSWORD"], tcp["GLP_DB_SSLMODE"]) == ("p@ss", "require")
    query_host = dbt_environment("postgresql://postgres:x@localhost:5432/glp?host=/run/pg")
    assert query_host["GLP_DB_HOST"] == "/run/pg"


def test_source_freshness_passes_right_after_a_sync(built):
    from glp_pipeline.transform import run_dbt

    report = run_dbt(["source", "freshness"], built.settings, built.url)
    assert report.success, report.failures
    assert report.statuses.get("pass", 0) >= 2


def test_build_works_for_a_user_who_cannot_create_roles(pg_admin_url, make_simulator, tmp_path):
    """Managed PostgreSQL often denies CREATEROLE: the build goes on without the reader role."""
    suffix = uuid.uuid4().hex[:8]
    user, db, reader = f"glp_limited_{suffix}", f"glp_test_limited_{suffix}", f"glp_reader_{suffix}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create role {} login password 'limited'").format(sql.Identifier(user)))
        conn.execute(sql.SQL("create database {} owner {}").format(sql.Identifier(db), sql.Identifier(user)))
    admin = urlsplit(pg_admin_url)
    netloc = f"{user}:limited@{admin.netloc.rsplit('@', 1)[-1]}"
    url = urlunsplit(admin._replace(netloc=netloc, path=f"/{db}"))
    sim, server = make_simulator(devices=60, subscriptions=20)
    settings = Settings(
        _env_file=None,
        glp_home=tmp_path / "home",
        glp_base_url=server.base_url,
        glp_token_url=server.token_url,
        glp_client_id=sim.config.client_id,
        glp_client_secret=SecretStr(sim.config.client_secret),
        database_url=SecretStr(url),
        glp_reader_role=reader,
    )
    try:
        with GreenLakeClient.from_settings(settings) as client:
            run_sync(settings, client, mode="full", url=url)
        report = build(settings, url=url)
        assert report.success and report.failures == []
        assert _query(url, "select count(*) from marts.devices")[0][0] == 60
        assert _query(url, "select count(*) from pg_roles where rolname = %s", reader)[0][0] == 0
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(db)))
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(user)))


def test_a_build_drops_the_hash_named_indexes_an_earlier_version_made(built):
    legacy = "0123456789abcdef0123456789abcdef"  # how dbt's own `indexes` config names them
    with psycopg.connect(built.url, autocommit=True) as conn:
        conn.execute(f'create index "{legacy}" on marts.devices (serial_number)')
    build(built.settings, url=built.url, select=["devices"])
    names = {r[0] for r in _query(built.url, "select indexname from pg_indexes where schemaname = 'marts'")}
    assert legacy not in names
    assert "devices__serial_number" in names
