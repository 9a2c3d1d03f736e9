"""`run_query` and its layers after the parse check, each on its own, on a real PostgreSQL built by a sync of
the simulator and the real `dbt build` (which creates the reader role and its grants).

The execution layer (`execute`) is called directly with SQL the parse check would refuse, to show that the
read-only transaction, the reader role and the statement timeout hold by themselves.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from glp_pipeline.queries import QueryConfig, QueryError, QueryResult, UnsafeQuery, run_query
from glp_pipeline.queries import sql as adhoc
from glp_pipeline.queries.sql import Limits, cap_rows, execute, json_value
from glp_pipeline.queries.sql_guard import ALLOWED_FUNCTIONS

# Five copies of 60 devices: 777,600,000 rows, nested loops that need no memory and never finish in time.
ENDLESS = (
    "select count(*) from marts.devices a cross join marts.devices b cross join marts.devices c"
    " cross join marts.devices d cross join marts.devices e"
)


@pytest.fixture(scope="module")
def db(synced_database):
    """60 devices and 20 subscriptions, and a table the reader role may write (as if its grants were too
    generous), to show that the read-only transaction alone refuses the write."""
    synced = synced_database(devices=60, subscriptions=20, seed=3)
    with psycopg.connect(synced.url, autocommit=True) as conn:
        conn.execute("create table marts.scratch (n int)")
        conn.execute("grant select, insert, update, delete, truncate on marts.scratch to glp_reader")
    return synced


def _as_reader(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc="glp_reader@" + parts.netloc.rpartition("@")[2]))


def _admin_run(db, statement: str) -> None:
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute(statement)  # type: ignore[arg-type]


def _admin(db, query: str, params=None) -> list[dict]:
    with psycopg.connect(db.url, row_factory=psycopg.rows.dict_row) as conn:
        return conn.execute(query, params).fetchall()  # type: ignore[arg-type]


# --- end to end ------------------------------------------------------------------------------------------


def test_run_query_answers_a_question_like_a_direct_query(db):
    question = (
        "select device_type, count(*) as devices, count(*) filter (where is_assigned) as assigned"
        " from marts.devices where not is_removed group by device_type order by device_type"
    )
    result = run_query(db.url, question)
    assert isinstance(result, QueryResult)
    assert result.columns == ["device_type", "devices", "assigned"]
    assert result.rows == _admin(db, question)
    assert result.row_count == len(result.rows) > 0
    assert result.truncated is False and result.truncated_by is None
    assert result.sql == question
    assert result.elapsed_ms > 0
    assert sum(r["devices"] for r in result.rows) == len(db.sim.devices())


def test_run_query_reads_reporting_views_and_unqualified_names(db):
    direct = _admin(db, "select * from reporting.device_summary order by device_type, region")
    result = run_query(db.url, "select * from device_summary order by device_type, region;  -- per type")
    assert result.rows == [{k: json_value(v) for k, v in row.items()} for row in direct]
    assert result.sql == "select * from device_summary order by device_type, region"


def test_run_query_answers_analytical_queries(db):
    """A few of the accepted shapes, on the real marts: CTE, window, JSON, date spine, text search."""
    cte = run_query(
        db.url,
        "with t as (select subscription_status, sum(quantity) as q from marts.subscriptions group by 1)"
        " select subscription_status, q, rank() over (order by q desc) as r from t order by r, 1",
    )
    expected = _admin(db, "select sum(quantity) as q from marts.subscriptions")[0]["q"]
    assert sum(r["q"] for r in cte.rows) == expected
    tags = run_query(
        db.url,
        "select t.key, count(*) as n from marts.devices d cross join lateral jsonb_each_text(d.tags) t"
        " group by 1 order by 2 desc, 1",
    )
    assert tags.rows == _admin(
        db,
        "select t.key, count(*) as n from marts.devices d, jsonb_each_text(d.tags) t"
        " group by 1 order by 2 desc, 1",
    )
    spine = run_query(
        db.url,
        "select to_char(m, 'YYYY-MM') as month, count(s.subscription_id) as ending"
        " from generate_series(date_trunc('month', now()), date_trunc('month', now()) + interval '11 months',"
        " interval '1 month') as m left join marts.subscriptions s on date_trunc('month', s.ends_at) = m"
        " group by m order by m",
    )
    assert spine.row_count == 12
    serial = db.sim.devices()[0]["serialNumber"]
    found = run_query(
        db.url,
        "select serial_number from marts.devices where search_vector @@ websearch_to_tsquery('simple', "
        f"'{serial.lower()}')",
    )
    assert {"serial_number": serial} in found.rows


def test_run_query_explains_without_running(db):
    plan = run_query(db.url, "explain (format json) select * from marts.devices where device_type = 'AP'")
    assert plan.columns == ["QUERY PLAN"]
    assert plan.row_count == 1
    assert plan.rows[0]["QUERY PLAN"][0]["Plan"]["Node Type"]
    text = run_query(db.url, "explain select count(*) from marts.devices")
    assert text.row_count >= 1 and "Aggregate" in text.rows[0]["QUERY PLAN"]
    assert "actual" not in json.dumps(plan.rows)  # no ANALYZE: nothing ran


def test_run_query_refuses_before_connecting():
    """The parse check runs first: no database needed (this URL would not connect)."""
    with pytest.raises(UnsafeQuery, match="A DROP statement"):
        run_query("postgresql://nobody@127.0.0.1:1/none", "drop table marts.devices")


def test_postgresql_errors_say_what_and_where(db):
    with pytest.raises(QueryError, match=r'column "no_such_column" does not exist at line 1, column 8'):
        run_query(db.url, "select no_such_column from marts.devices")
    with pytest.raises(
        QueryError, match=r'relation "no_such_table" does not exist.*schemas reporting and marts'
    ):
        run_query(db.url, "select * from no_such_table")
    with pytest.raises(QueryError, match="division by zero"):
        run_query(db.url, "select 1 / 0")
    with pytest.raises(QueryError, match=r"Hint: .*explicit type casts"):
        run_query(db.url, "select lower(1)")


# --- the caps layer --------------------------------------------------------------------------------------


def test_row_cap_and_truncated(db):
    capped = run_query(db.url, "select n from generate_series(1, 50) as n order by n", max_rows=10)
    assert capped.rows == [{"n": n} for n in range(1, 11)]
    assert capped.truncated is True and capped.truncated_by == "max_rows"
    exact = run_query(db.url, "select n from generate_series(1, 50) as n", max_rows=50)
    assert exact.row_count == 50 and exact.truncated is False
    assert run_query(db.url, "select n from generate_series(1, 50) as n", max_rows=49).truncated is True


def test_default_and_largest_row_caps_read_in_batches(db):
    default = run_query(db.url, "select n from generate_series(1, 5000) as n order by n")
    assert default.row_count == 1000 and default.truncated_by == "max_rows"
    assert [r["n"] for r in default.rows] == list(range(1, 1001))
    largest = run_query(db.url, "select n from generate_series(1, 10000) as n", max_rows=10_000)
    assert largest.row_count == 10_000 and largest.truncated is False  # 21 batches, the last one empty


def test_size_cap_stops_reading(db):
    query = "select n, lpad('', 1000, 'x') as pad from generate_series(1, 100) as n order by n"
    capped = run_query(db.url, query, max_bytes=10_000)
    assert capped.truncated is True and capped.truncated_by == "max_bytes"
    assert 5 <= capped.row_count < 10
    assert len(json.dumps(capped.rows, separators=(",", ":")).encode()) <= 10_000
    assert run_query(db.url, query, max_bytes=200_000).truncated is False


def test_caps_layer_on_its_own():
    """cap_rows pulls batches lazily: it stops reading at the cap, and never asks for the next batch."""
    pulled = []

    def batches():
        for start in range(0, 1_000_000, 100):
            pulled.append(start)
            yield [(n, "x" * 10) for n in range(start, start + 100)]

    rows, cut = cap_rows(["n", "s"], batches(), max_rows=250, max_bytes=10_000_000)
    assert len(rows) == 250 and cut == "max_rows" and pulled == [0, 100, 200]
    pulled.clear()
    rows, cut = cap_rows(["n", "s"], batches(), max_rows=10_000, max_bytes=1_000)
    assert cut == "max_bytes" and 0 < len(rows) < 100 and pulled == [0]
    assert len(json.dumps(rows, separators=(",", ":"))) <= 1_000
    assert cap_rows(["n"], [[(1,)], [(2,)]], max_rows=2, max_bytes=1_000) == ([{"n": 1}, {"n": 2}], None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_rows": 0}, "max_rows must be between 1 and 10,000"),
        ({"max_rows": 10_001}, "max_rows must be between 1 and 10,000"),
        ({"max_rows": True}, "max_rows"),
        ({"max_rows": "5"}, "max_rows"),
        ({"max_bytes": 999}, "max_bytes must be between 1,000 and 20,000,000"),
        ({"max_bytes": 20_000_001}, "max_bytes"),
        ({"timeout_seconds": 0}, "timeout_seconds must be a number of seconds above 0"),
        ({"timeout_seconds": -1}, "timeout_seconds"),
        ({"timeout_seconds": float("nan")}, "timeout_seconds"),
        ({"timeout_seconds": 16}, "at most 15 (the configured statement timeout)"),
    ],
)
def test_cap_parameters_have_bounds(kwargs, message):
    with pytest.raises(QueryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_query("postgresql://nobody@127.0.0.1:1/none", "select 1", **kwargs)


# --- the execution layer ---------------------------------------------------------------------------------


def test_statement_timeout_cancels_an_endless_query(db):
    started = time.monotonic()
    with pytest.raises(QueryError, match=r"took longer than 0\.5 s and was cancelled"):
        run_query(db.url, ENDLESS, timeout_seconds=0.5)
    assert time.monotonic() - started < 5


def test_the_configured_timeout_applies_without_a_per_call_one(db):
    with pytest.raises(QueryError, match=r"took longer than 0\.3 s"):
        run_query(db.url, ENDLESS, config=QueryConfig(statement_timeout_seconds=0.3))


def test_the_timeout_bounds_the_whole_read_not_each_batch(db, monkeypatch):
    """One row per FETCH, each well under the timeout, 10,000 of them well over it: the run is cancelled."""
    monkeypatch.setattr(adhoc, "FETCH_BATCH", 1)
    slow_rows = (
        "select n, (select count(*) from marts.devices a, marts.devices b, marts.devices c"
        " where n > 0 and a.device_id < b.device_id) from generate_series(1, 100000) as n"
    )
    started = time.monotonic()
    with pytest.raises(QueryError, match=r"took longer than 0\.5 s"):
        execute(db.url, slow_rows, limits=Limits(max_rows=10_000, timeout_seconds=0.5))
    assert time.monotonic() - started < 5


def test_read_only_transaction_refuses_writes_the_role_may_do(db):
    """The reader role may write marts.scratch here; the READ ONLY transaction still refuses."""
    for write in (
        "insert into marts.scratch values (1)",
        "update marts.scratch set n = 2",
        "delete from marts.scratch",
        "truncate marts.scratch",
        "create temp table t (n int)",
        "select set_config('transaction_read_only', 'off', true)",
    ):
        with pytest.raises(QueryError, match=r"read-only transaction|read-write mode") as caught:
            execute(db.url, write, stream=False)
        assert "PostgreSQL could not run the query" in str(caught.value)
    with pytest.raises(QueryError, match="read-only transaction"):
        execute(
            db.url,
            "with x as (insert into marts.scratch values (3) returning n) select * from x",
            stream=False,
        )
    assert _admin(db, "select count(*) as n from marts.scratch") == [{"n": 0}]


def test_one_statement_only_even_without_the_parse_check(db):
    """The seed's `SELECT 1; COMMIT; DROP ...`: a prepared statement holds one command."""
    for stream in (False, True):
        with pytest.raises(QueryError, match="cannot insert multiple commands into a prepared statement"):
            execute(db.url, "select 1; commit; drop table marts.scratch", stream=stream)
    assert _admin(db, "select to_regclass('marts.scratch') is not null as present") == [{"present": True}]


def test_the_cursor_takes_only_a_query(db):
    """A SELECT runs as DECLARE ... CURSOR FOR: PostgreSQL's grammar takes nothing else there."""
    with pytest.raises(QueryError, match='syntax error at or near "update" at line 1, column 1'):
        execute(db.url, "update marts.scratch set n = 1")
    with pytest.raises(QueryError, match="must not contain data-modifying statements in WITH"):
        execute(db.url, "with x as (delete from marts.scratch returning *) select * from x")


def test_reader_role_cannot_read_other_schemas(db):
    """Without the parse check, the reader role alone keeps raw data, sync history and files out of reach."""
    for query, denied in (
        ("select * from greenlake_raw.devices", "permission denied for schema greenlake_raw"),
        ("select * from glp.sync_history", "permission denied for schema glp"),
        ("select * from staging.stg_greenlake__devices", "permission denied for schema staging"),
        ("select * from pg_catalog.pg_authid", "permission denied for table pg_authid"),
        ("select pg_read_file('/etc/hostname')", "permission denied for function pg_read_file"),
        ("select lo_import('/etc/hostname')", "permission denied for function lo_import"),
    ):
        with pytest.raises(QueryError, match=denied) as caught:
            execute(db.url, query)
        assert "run as the role glp_reader, which may read only the schemas reporting and marts" in str(
            caught.value
        )
    assert _admin(db, "select count(*) as n from greenlake_raw.devices")[0]["n"] == 60  # it is there


def test_logged_in_as_the_reader_role_no_statement_can_leave_it(db):
    """SET ROLE can be undone inside a statement (`set_config('role', 'none', false)`: only the parse check
    stops that); a session that logs in as the role (embedded server, GLP_READER_DATABASE_URL) cannot."""
    escape = "select set_config('role', 'none', false) as r, current_user as u"
    assert execute(db.url, escape, stream=False).rows[0]["u"] == "postgres", "SET ROLE alone lets it out"

    _admin_run(db, "alter role glp_reader login")
    try:
        reader_url = _as_reader(db.url)
        assert execute(reader_url, escape, stream=False).rows[0]["u"] == "glp_reader"
        with pytest.raises(QueryError, match="permission denied to set role"):
            execute(reader_url, "select set_config('role', 'postgres', false) as r", stream=False)
        assert execute(reader_url, "select session_user as s, current_user as c", stream=False).rows == [
            {"s": "glp_reader", "c": "glp_reader"}
        ]
        assert run_query(reader_url, "select count(*) as n from marts.devices").rows == [{"n": 60}]
    finally:
        _admin_run(db, "alter role glp_reader nologin")


def test_a_reader_role_that_cannot_log_in_yet_says_what_to_do(db):
    reader_url = _as_reader(db.url)  # the role is NOLOGIN outside the embedded server
    with pytest.raises(QueryError, match=r"glp_reader cannot log in yet: `glp transform`"):
        run_query(reader_url, "select 1")


def test_ad_hoc_sql_never_runs_without_the_reader_role(db):
    """read_only_connection carries on without the role (for the fixed queries); ad-hoc SQL refuses to."""
    config = QueryConfig(reader_role="glp_no_such_role")
    with pytest.raises(QueryError, match="runs only as the read-only role glp_no_such_role"):
        run_query(db.url, "select count(*) from marts.devices", config=config)


def test_results_are_json_safe(db):
    result = run_query(
        db.url,
        "select timestamptz '2026-01-31 12:00:00+02' as ts, timestamp '2026-01-31 12:00:00' as naive,"
        " date '2026-01-31' as d, 12.50::numeric as price, 1234::numeric as whole,"
        " 0.1234567890123456789::numeric as precise, 'NaN'::numeric as nan, 'infinity'::float8 as inf,"
        " 'infinity'::timestamptz as forever, '24:00'::time as midnight,"
        " interval '1 month 2 days 03:00:00' as span, '6b1c4f4e-1111-4222-8333-444455556666'::uuid as id,"
        " '{\"a\": [1, 2.5, null]}'::jsonb as doc, array[1, 2] as arr, array[date '2026-01-01'] as dates,"
        " '10.0.0.1'::inet as ip, int4range(1, 5) as r, 'x' as dup, 'y' as dup",
    )
    assert result.columns[-2:] == ["dup", "dup_2"]
    assert result.rows == [
        {
            "ts": "2026-01-31T10:00:00+00:00",
            "naive": "2026-01-31T12:00:00",
            "d": "2026-01-31",
            "price": 12.5,
            "whole": 1234,
            "precise": "0.1234567890123456789",
            "nan": "NaN",
            "inf": "Infinity",
            "forever": "infinity",
            "midnight": "24:00:00",
            "span": "1 mon 2 days 03:00:00",
            "id": "6b1c4f4e-1111-4222-8333-444455556666",
            "doc": {"a": [1, 2.5, None]},
            "arr": [1, 2],
            "dates": ["2026-01-01"],
            "ip": "10.0.0.1",
            "r": "[1, 5)",
            "dup": "x",
            "dup_2": "y",
        }
    ]
    json.dumps(result.rows, allow_nan=False)
    raw = execute(db.url, "select decode('00ff', 'hex') as b")  # bytea: no cast to it passes the check
    assert raw.rows == [{"b": "AP8="}]


def test_every_mart_and_view_reads_as_json(db):
    relations = _admin(
        db,
        "select table_schema || '.' || table_name as name from information_schema.tables"
        " where table_schema in ('marts', 'reporting') and table_name <> 'scratch' order by 1",
    )
    assert len(relations) >= 15
    for relation in relations:
        result = run_query(db.url, f"select * from {relation['name']}", max_rows=50)
        json.dumps(result.rows, allow_nan=False)


def test_json_value_rules():
    assert json_value(Decimal("1E+3")) == 1000
    assert json_value(Decimal("0.5")) == 0.5
    assert json_value(Decimal("-Infinity")) == "-Infinity"
    assert json_value(float("nan")) == "NaN"
    assert json_value(b"\x00\xff") == "AP8="
    assert json_value({"k": [Decimal("2.25"), float("-inf")]}) == {"k": [2.25, "-Infinity"]}


def test_every_allowed_function_is_a_builtin(db):
    """The allow-list names real pg_catalog functions (none of them misspelt, none from an extension)."""
    found = {
        r["proname"]
        for r in _admin(
            db,
            "select distinct p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
            " where n.nspname = 'pg_catalog' and p.proname = any(%s)",
            (sorted(ALLOWED_FUNCTIONS),),
        )
    }
    syntax_only = {"greatest", "least"}  # parsed into their own nodes, never calls
    assert ALLOWED_FUNCTIONS - found == syntax_only
