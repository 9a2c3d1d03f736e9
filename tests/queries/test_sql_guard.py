"""The parse check of ad-hoc SQL on its own, no database: what it accepts, and the attacks it refuses.

Every refusal must say what is not allowed (the fragment each case expects) in a message a person or an
assistant can act on. The seed's tool let `SELECT ... INTO`, `pg_read_file`, `pg_terminate_backend` and
`SELECT 1; COMMIT; DROP ...` through: they are all here.
"""

from __future__ import annotations

import pytest

from glp_pipeline.queries import InvalidParameter, QueryError, UnsafeQuery
from glp_pipeline.queries.sql_guard import ALLOWED_FUNCTIONS, MAX_SQL_LENGTH, GuardedQuery, check

ACCEPTED = [
    "select * from marts.devices",
    "select device_type, count(*) from devices group by 1 order by 2 desc",  # unqualified: the search_path
    "TABLE reporting.device_summary",
    "values (1, 'a'), (2, 'b')",
    "with t as (select device_type, count(*) as n from marts.devices group by 1) select * from t where n > 1",
    "with recursive r(n) as (select 1 union all select n + 1 from r where n < 10) select sum(n) from r",
    "select serial_number from marts.devices union select subscription_key from marts.subscriptions",
    "select device_id from marts.devices intersect select device_id from marts.device_subscriptions",
    "select device_id from marts.devices except all select device_id from reporting.active_devices",
    "select serial_number, row_number() over (partition by device_type order by created_at desc),"
    " lag(serial_number) over w from marts.devices window w as (order by serial_number)",
    "select raw ->> 'serialNumber', jsonb_array_length(raw -> 'subscription'), jsonb_typeof(raw),"
    " raw #>> '{location,city}' from marts.devices where raw ? 'tags' and raw @> '{\"archived\": false}'",
    "select d.device_id, t.key, t.value from marts.devices d cross join lateral jsonb_each_text(d.tags) t",
    "select x.a from jsonb_to_recordset('[{\"a\": 1}]') as x(a int)",
    "explain select * from marts.devices",
    "explain (format json) select count(*) from reporting.device_summary",
    "EXPLAIN (FORMAT JSON, VERBOSE, COSTS OFF, BUFFERS, SUMMARY) select * from marts.subscriptions",
    "explain verbose select 1",
    "select m, count(s.subscription_id) from generate_series(date_trunc('month', now()),"
    " date_trunc('month', now()) + interval '11 months', interval '1 month') as m"
    " left join marts.subscriptions s on date_trunc('month', s.ends_at) = m group by m order by m",
    "select device_name from marts.devices where search_vector @@ websearch_to_tsquery('simple', 'aruba')"
    " order by ts_rank(search_vector, websearch_to_tsquery('simple', 'aruba')) desc",
    "select percentile_cont(0.5) within group (order by quantity) from marts.subscriptions",
    "select count(*) filter (where is_assigned), sum(case when is_archived then 1 else 0 end),"
    " coalesce(max(region), 'none'), nullif(min(region), ''), greatest(1, 2) from marts.devices",
    "select extract(year from created_at), substring(serial_number from 1 for 3),"
    " trim(both ' ' from device_name), position('-' in device_name), created_at at time zone 'UTC'"
    " from marts.devices",
    "select * from marts.devices tablesample bernoulli (10) repeatable (1)",
    "/* which types */ select device_type -- the type\nfrom marts.devices;",
    "select 'drop table x; commit' as keywords_in_a_string",  # no keyword list: a string is a string
    "select $$pg_sleep(10); commit$$ as dollar_quoted_text",
    "select pg_catalog.count(*), pg_catalog.lower('A') from marts.devices",
    "select 1::int, '2026-01-01'::date, interval '1 day', 'x'::text, now()::timestamp with time zone,"
    " current_date, current_timestamp, localtimestamp",
    "select format('%s devices', count(*)), md5(string_agg(device_id, ',')), random() from marts.devices",
    "select make_interval(days => 3), age(now(), created_at) from marts.devices",
    "select a from marts.devices where region in (select region from reporting.device_summary)"
    " and exists (select 1 from marts.device_tags t where t.device_id = devices.device_id)",
    "select 1 /* /* nested */ ; drop table marts.devices; */",  # all of it a (nested) comment
]


@pytest.mark.parametrize("sql", ACCEPTED)
def test_accepted(sql):
    guarded = check(sql)
    assert isinstance(guarded, GuardedQuery)
    assert guarded.sql and not guarded.sql.endswith(";")
    assert guarded.explain == sql.lower().startswith("explain")


def test_the_guarded_query_names_what_it_uses():
    guarded = check("  with t as (select lower(region) r from marts.devices) select count(*) from t ;  ")
    assert guarded.sql == "with t as (select lower(region) r from marts.devices) select count(*) from t"
    assert guarded.explain is False
    assert guarded.relations == ("t", "marts.devices")
    assert guarded.functions == ("count", "lower")


def test_unsafe_query_is_an_invalid_parameter():
    with pytest.raises(UnsafeQuery) as caught:
        check("drop table marts.devices")
    assert isinstance(caught.value, InvalidParameter)
    assert isinstance(caught.value, QueryError)
    assert isinstance(caught.value, ValueError)


def test_the_allow_list_leaves_out_every_dangerous_function():
    dangerous = {
        "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "lo_import", "lo_export",
        "lo_create", "lo_unlink", "dblink", "dblink_exec", "set_config", "current_setting", "pg_sleep",
        "pg_sleep_for", "pg_sleep_until", "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf",
        "pg_rotate_logfile", "pg_advisory_lock", "pg_advisory_xact_lock", "pg_try_advisory_lock",
        "txid_current", "pg_current_xact_id", "pg_notify", "query_to_xml", "cursor_to_xml", "table_to_xml",
        "database_to_xml", "schema_to_xml", "ts_stat", "nextval", "setval", "currval", "pg_switch_wal",
        "pg_create_restore_point", "pg_logical_emit_message", "version", "inet_server_addr", "setseed",
    }  # fmt: skip
    assert not dangerous & ALLOWED_FUNCTIONS


# (attack, a fragment the refusal must contain)
ATTACKS = [
    # several statements: the seed's `SELECT 1; COMMIT; DROP ...`
    ("select 1; drop table marts.devices", "2 statements"),
    ("SELECT 1; COMMIT; DROP TABLE marts.devices", "3 statements"),
    ("select 1;\n-- harmless\ncommit", "2 statements"),
    ("select 1 /* ; */ ; rollback", "2 statements"),
    ("select 1 /* /* nested */ */ ; drop table marts.devices", "2 statements"),
    ("select 1 -- harmless\n; drop table marts.devices", "2 statements"),
    ("select $$ $$; drop table marts.devices", "2 statements"),
    # transaction control, in any case and behind comments
    ("COMMIT", "A COMMIT statement"),
    ("commit", "A COMMIT statement"),
    ("/* hi */ CoMmIt", "A COMMIT statement"),
    ("-- bye\nROLLBACK", "A ROLLBACK statement"),
    ("begin", "A BEGIN statement"),
    ("start transaction read write", "A START statement"),
    ("set transaction read write", "A SET statement"),
    ("savepoint s", "A SAVEPOINT statement"),
    ("end", "An END statement"),
    # SELECT ... INTO and friends
    ("select * into stolen from marts.devices", "SELECT ... INTO"),
    ("select device_id into temporary t from marts.devices", "SELECT ... INTO"),
    ("create table t as select * from marts.devices", "CREATE TABLE AS"),
    # COPY
    ("copy (select 1) to program 'rm -rf /'", "A COPY statement"),
    ("copy marts.devices to '/tmp/devices.csv'", "A COPY statement"),
    ("copy marts.devices from stdin", "A COPY statement"),
    # DO blocks
    ("do $$ begin perform pg_sleep(10); end $$", "A DO statement"),
    ("DO language plpgsql $x$ begin execute 'drop table marts.devices'; end $x$", "A DO statement"),
    # DDL and DCL
    ("create table marts.x (a int)", "A CREATE statement"),
    ("alter table marts.devices add column x int", "An ALTER statement"),
    ("alter role glp_reader superuser", "An ALTER statement"),
    ("alter system set statement_timeout = 0", "An ALTER statement"),
    ("drop table marts.devices", "A DROP statement"),
    ("drop schema marts cascade", "A DROP statement"),
    ("grant all on marts.devices to public", "A GRANT statement"),
    ("revoke select on marts.devices from glp_reader", "A REVOKE statement"),
    ("truncate marts.devices", "A TRUNCATE statement"),
    ("create function f() returns int language sql as 'select 1'", "A CREATE statement"),
    ("comment on table marts.devices is 'x'", "A COMMENT statement"),
    ("refresh materialized view reporting.x", "A REFRESH statement"),
    # DML
    ("insert into marts.devices (device_id) values ('x')", "An INSERT statement"),
    ("update marts.devices set region = 'x'", "An UPDATE statement"),
    ("delete from marts.devices", "A DELETE statement"),
    (
        "merge into marts.devices d using marts.devices s on d.device_id = s.device_id"
        " when matched then delete",
        "A MERGE statement",
    ),
    ("with x as (select 1) insert into marts.devices select * from x", "An INSERT statement"),
    # data-modifying WITH, at the top and hidden in a subquery
    (
        "with gone as (delete from marts.devices returning *) select count(*) from gone",
        "WITH gone AS (DELETE",
    ),
    ("with u as (update marts.subscriptions set quantity = 0 returning 1) select * from u", "(UPDATE ...)"),
    ("with i as (insert into marts.devices (device_id) values ('x') returning 1) select * from i", "(INSERT"),
    ("select * from (with d as (delete from marts.devices returning 1) select * from d) s", "changes data"),
    # locking clauses
    ("select * from marts.devices for update", "lock rows"),
    ("select * from marts.devices for share", "lock rows"),
    ("select * from marts.devices for no key update nowait", "lock rows"),
    ("select * from marts.devices for key share skip locked", "lock rows"),
    ("select * from (select * from marts.devices for update) s", "lock rows"),
    # EXPLAIN ANALYZE runs the query
    ("explain analyze select * from marts.devices", "EXPLAIN ANALYZE"),
    ("explain analyse verbose select 1", "EXPLAIN ANALYZE"),
    ("explain (analyze) select 1", "EXPLAIN ANALYZE"),
    ("explain (format json, analyze true) select 1", "EXPLAIN ANALYZE"),
    ("EXPLAIN (ANALYZE FALSE) select 1", "EXPLAIN ANALYZE"),
    ("explain (settings) select 1", "EXPLAIN option SETTINGS"),
    ("explain (wal) select 1", "EXPLAIN option WAL"),
    ("explain insert into marts.devices (device_id) values ('x')", "EXPLAIN of an INSERT statement"),
    ("explain execute p", "EXPLAIN of an EXECUTE statement"),
    ("explain create table t as select 1", "EXPLAIN of a CREATE TABLE AS statement"),
    ("explain select pg_sleep(10)", "function pg_sleep"),
    # other statements
    ("set role postgres", "A SET statement"),
    ("reset role", "A RESET statement"),
    ("set statement_timeout = 0", "A SET statement"),
    ("prepare p as select 1", "A PREPARE statement"),
    ("execute p", "An EXECUTE statement"),
    ("listen x", "A LISTEN statement"),
    ("notify x, 'y'", "A NOTIFY statement"),
    ("vacuum full", "A VACUUM statement"),
    ("analyze marts.devices", "An ANALYZE statement"),
    ("lock table marts.devices in access exclusive mode", "A LOCK statement"),
    ("call p()", "A CALL statement"),
    ("declare c cursor for select 1", "A DECLARE CURSOR statement"),
    ("show all", "A SHOW statement"),
    ("checkpoint", "A CHECKPOINT statement"),
    ("load '/tmp/evil.so'", "A LOAD statement"),
    ("discard all", "A DISCARD statement"),
    # functions: files, other servers, settings, sleeping, sessions, locks, SQL run by a function
    ("select pg_read_file('/etc/passwd')", "function pg_read_file"),
    ("select pg_read_binary_file('/etc/passwd')", "function pg_read_binary_file"),
    ("select * from pg_ls_dir('.')", "function pg_ls_dir"),
    ("select pg_stat_file('postgresql.conf')", "function pg_stat_file"),
    ("select lo_import('/etc/passwd')", "function lo_import"),
    ("select lo_export(1, '/tmp/x')", "function lo_export"),
    ("select * from dblink('host=evil', 'select 1') as t(a int)", "function dblink"),
    ("select dblink_exec('host=evil', 'drop table x')", "function dblink_exec"),
    ("select set_config('role', 'postgres', false)", "function set_config"),
    ("select pg_catalog.set_config('search_path', 'public', false)", "function pg_catalog.set_config"),
    ("select current_setting('data_directory')", "function current_setting"),
    ("select pg_sleep(60)", "function pg_sleep"),
    ("select pg_sleep_for('1 hour')", "function pg_sleep_for"),
    ("select pg_terminate_backend(pid) from (values (1)) v(pid)", "function pg_terminate_backend"),
    ("select pg_cancel_backend(1)", "function pg_cancel_backend"),
    ("select pg_reload_conf()", "function pg_reload_conf"),
    ("select pg_rotate_logfile()", "function pg_rotate_logfile"),
    ("select pg_advisory_lock(1)", "function pg_advisory_lock"),
    ("select pg_try_advisory_xact_lock(1)", "function pg_try_advisory_xact_lock"),
    ("select txid_current()", "function txid_current"),
    ("select pg_notify('c', 'x')", "function pg_notify"),
    ("select query_to_xml('select * from glp.sync_history', true, true, '')", "function query_to_xml"),
    ("select cursor_to_xml('c', 1, true, true, '')", "function cursor_to_xml"),
    ("select table_to_xml('glp.sync_history', true, true, '')", "function table_to_xml"),
    ("select database_to_xml(true, true, '')", "function database_to_xml"),
    ("select * from ts_stat('select search_vector from greenlake_raw.devices')", "function ts_stat"),
    ("select nextval('marts.seq')", "function nextval"),
    ("select setval('s', 1)", "function setval"),
    ("select pg_catalog.pg_read_file('/etc/passwd')", "function pg_catalog.pg_read_file"),
    ("select public.evil()", "function public.evil"),
    ("select marts.f()", "function marts.f"),
    ("select otherdb.pg_catalog.count(*)", "function otherdb.pg_catalog.count"),
    # a role reset followed by SQL run as the login user: refused twice over
    (
        "select set_config('role', 'none', false), (select count(*) from ts_stat("
        "'select to_tsvector(serial_number) from greenlake_raw.devices'))",
        "function set_config",
    ),
    # functions hidden in subqueries, LATERAL, CASE, ORDER BY, defaults, arguments and clauses
    ("select device_id from marts.devices where exists (select pg_sleep(10))", "function pg_sleep"),
    (
        "select * from marts.devices d cross join lateral (select pg_read_file('/etc/passwd')) f",
        "pg_read_file",
    ),
    ("select case when true then pg_sleep(10) end", "function pg_sleep"),
    ("select device_id from marts.devices order by pg_sleep(1)", "function pg_sleep"),
    ("select count(*) from marts.devices group by pg_sleep(1)", "function pg_sleep"),
    ("select count(*) from marts.devices having max(pg_sleep(0)::text) is null", "function pg_sleep"),
    ("select coalesce(null, pg_read_file('/etc/passwd'))", "function pg_read_file"),
    ("select device_id from marts.devices limit (select pg_sleep(10))::int", "function pg_sleep"),
    ("select count(*) filter (where pg_sleep(1) is null) from marts.devices", "function pg_sleep"),
    ("select row_number() over (partition by pg_sleep(1)) from marts.devices", "function pg_sleep"),
    ("select percentile_cont(0.5) within group (order by pg_sleep(1)) from marts.devices", "pg_sleep"),
    ("select * from marts.devices tablesample bernoulli (pg_sleep(1)::int)", "function pg_sleep"),
    ("with x as (select pg_sleep(10)) select * from x", "function pg_sleep"),
    ("select 1 union select pg_sleep(10)::text::int", "function pg_sleep"),
    ("values (pg_sleep(1))", "function pg_sleep"),
    ("select array[pg_read_file('/etc/passwd')]", "function pg_read_file"),
    ("select (select (select pg_sleep(1)))", "function pg_sleep"),
    ("select jsonb_build_object('k', pg_read_file('/etc/passwd'))", "function pg_read_file"),
    ("select * from marts.devices where device_id = any(select pg_sleep(1)::text)", "function pg_sleep"),
    ("select * from rows from (generate_series(1, 2), pg_ls_dir('.')) as t", "function pg_ls_dir"),
    # functions called with attribute notation (`row.f` is `f(row)`)
    ("select d.pg_column_size from marts.devices d", "name pg_column_size"),
    ("select (d).pg_typeof from marts.devices d", "name pg_typeof"),
    ("select d.quote_literal from marts.devices d", "name quote_literal"),
    # catalog snooping
    ("select * from pg_catalog.pg_authid", "pg_catalog.pg_authid cannot be read"),
    ("select usename, passwd from pg_shadow", "pg_shadow is a PostgreSQL system catalog"),
    ("select * from information_schema.tables", "information_schema.tables cannot be read"),
    ("select * from information_schema.role_table_grants", "information_schema.role_table_grants"),
    ("select * from pg_roles", "pg_roles is a PostgreSQL system catalog"),
    ("select name, setting from pg_settings", "pg_settings is a PostgreSQL system catalog"),
    ("select * from pg_user", "pg_user is a PostgreSQL system catalog"),
    ("select * from pg_stat_activity", "pg_stat_activity is a PostgreSQL system catalog"),
    ("select * from PG_CATALOG.PG_CLASS", "pg_catalog.pg_class cannot be read"),
    ("select * from marts.devices d join pg_class c on true", "pg_class is a PostgreSQL system catalog"),
    ("select (select count(*) from pg_proc)", "pg_proc is a PostgreSQL system catalog"),
    ("select 'pg_authid'::regclass", "type regclass"),
    ("select null::pg_catalog.pg_authid", "type pg_catalog.pg_authid"),
    ("select * from jsonb_to_recordset('[]') as x(a regclass)", "type regclass"),
    ("select current_user", "current_user is not allowed"),
    ("select session_user", "session_user is not allowed"),
    # other schemas
    ("select * from greenlake_raw.devices", "greenlake_raw.devices cannot be read"),
    ("select * from glp.sync_history", "glp.sync_history cannot be read"),
    ("select * from staging.stg_greenlake__devices", "staging.stg_greenlake__devices cannot be read"),
    ("select * from public.anything", "public.anything cannot be read"),
    ("select * from snapshots.device_assignment_history", "snapshots.device_assignment_history"),
    ("select * from pg_temp.t", "pg_temp.t cannot be read"),
    ("select * from otherdb.marts.devices", "database-qualified names are not allowed"),
    ("select * from marts.devices d join greenlake_raw.devices r using (serial_number)", "greenlake_raw"),
    ('select * from "greenlake_raw"."devices"', "greenlake_raw.devices cannot be read"),
    ('select * from "MARTS".devices', "MARTS.devices cannot be read"),
    # Unicode escapes and quoted identifiers: judged after the parser decoded them
    ('select U&"\\0070g_sleep"(10)', "function pg_sleep"),
    ('select * from U&"gr\\0065enlake_raw".devices', "greenlake_raw.devices cannot be read"),
    ("select * from U&\"!0070g_authid\" uescape '!'", "pg_authid is a PostgreSQL system catalog"),
    ('select "pg_sleep"(10)', "function pg_sleep"),
    ('select "pg_catalog"."pg_sleep"(10)', "function pg_catalog.pg_sleep"),
    ("select pg_catalog . pg_sleep (10)", "function pg_catalog.pg_sleep"),
    ("select $a$ ; $a$ || pg_read_file('/etc/passwd')", "function pg_read_file"),
    # XML, parameters, operators, collations, sampling methods
    ("select xmlparse(document '<!DOCTYPE x SYSTEM \"file:///etc/passwd\"><x/>')", "XML function"),
    ("select * from xmltable('/x' passing '<x/>' columns a int)", "XMLTABLE"),
    ("select $1", "parameter ($1"),
    ("select 1 order by 1 using operator(public.<)", "OPERATOR(public.<)"),
    ("select 1 operator(public.+) 1", "OPERATOR(public.+)"),
    ("select 'a' collate public.evil", "collation public.evil"),
    ("select * from marts.devices tablesample system_rows(10)", "TABLESAMPLE system_rows"),
    # comment tricks that break the SQL, syntax errors: PostgreSQL's own message and where
    ("select pg_sle/**/ep(1)", 'syntax error at or near "("'),
    ("sel/**/ect 1", 'syntax error at or near "sel"'),
    ("selec * from marts.devices", 'does not parse: syntax error at or near "selec" at line 1, column 1'),
    ("select *\nform marts.devices", 'syntax error at or near "form" at line 2, column 1'),
    ("select 'unterminated", "unterminated quoted string"),
    ("select 1 /* /* */ ; drop table marts.devices", "unterminated /* comment"),
    # empty, too long, NUL
    ("", "empty"),
    ("   \n\t ", "empty"),
    ("-- just a comment", "empty"),
    (";", "empty"),
    ("select 1" + " " * MAX_SQL_LENGTH, "the limit is 20,000"),
    ("select " + "1 + " * 6000 + "1", "the limit is 20,000"),
    ("select 1\x00; drop table marts.devices", "NUL"),
]


@pytest.mark.parametrize(("sql", "expected"), ATTACKS, ids=[f"attack-{n}" for n in range(len(ATTACKS))])
def test_attack_is_refused(sql, expected):
    with pytest.raises(UnsafeQuery) as caught:
        check(sql)
    message = str(caught.value)
    assert expected in message, message
    assert message.endswith("."), message
    assert "Traceback" not in message


def test_at_least_fifty_attacks():
    assert len(ATTACKS) >= 50
    assert len({sql for sql, _ in ATTACKS}) == len(ATTACKS)


def _refusal(sql: str) -> str:
    with pytest.raises(UnsafeQuery) as caught:
        check(sql)
    return str(caught.value)


def test_the_refusal_says_what_is_allowed():
    message = _refusal("drop table marts.devices")
    assert "SELECT" in message and "EXPLAIN" in message and "reporting and marts" in message
    message = _refusal("select pg_sleep(1)")
    assert "count" in message and "date_trunc" in message and "jsonb_array_elements" in message
    assert "reporting.active_devices" in _refusal("select * from glp.sync_history")


def test_the_length_limit_is_inclusive():
    assert check("select 1" + " " * (MAX_SQL_LENGTH - len("select 1"))).sql == "select 1"


def test_not_a_string():
    with pytest.raises(UnsafeQuery, match="must be a string"):
        check(b"select 1")  # type: ignore[arg-type]
