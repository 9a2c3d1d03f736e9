"""`glp backup` / `glp restore`: a synced database dumped and restored into a fresh embedded PostgreSQL gives
the same rows in every table of every GLP schema, and the reporting views answer; a non-empty target is
refused without --clean; a file that is not a backup, or a client tool too old for the server, is a one-line
error that says what to do, with no secret in it."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from glp_pipeline.cli import app
from glp_pipeline.database import DatabaseError, EmbeddedPostgres
from glp_pipeline.dbdump import SCHEMAS, DumpError, Tool, backup, find_tool, restore
from glp_pipeline.settings import get_settings

runner = CliRunner()


def _row_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema = any(%s) and table_type = 'BASE TABLE' order by 1, 2",
            (list(SCHEMAS),),
        ).fetchall()
        return {
            f"{s}.{t}": conn.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in tables
        }


@pytest.fixture(scope="module")
def synced(synced_database):
    return synced_database(devices=120, subscriptions=30, seed=7)


@pytest.fixture(scope="module")
def backup_file(synced) -> Path:
    root = Path(tempfile.mkdtemp(prefix="glp-test-dump-"))
    result = backup(synced.url, root / "glp.dump")
    yield result.path
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def fresh_server():
    """A new embedded PostgreSQL 18, outside pytest's basetemp (it may run as another OS user)."""
    root = Path(tempfile.mkdtemp(prefix="glp-test-restore-"))
    server = EmbeddedPostgres(root / "pgdata")
    yield server.start(), root
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def test_backup_then_restore_into_a_fresh_server_gives_the_same_rows(synced, backup_file, fresh_server):
    url, _home = fresh_server
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600
    source = _row_counts(synced.url)
    assert source["greenlake_raw.devices"] == 120 and source["marts.devices"] == 120
    assert any(name.startswith("snapshots.") for name in source)

    result = restore(url, backup_file, reader_role="glp_reader", reader_login=True)
    assert set(result.schemas) >= {"greenlake_raw", "glp", "snapshots", "staging", "marts", "reporting"}
    assert _row_counts(url) == source
    with psycopg.connect(url) as conn:
        active = conn.execute("select count(*) from reporting.active_devices").fetchone()[0]
        assert active > 0
        assert conn.execute("select count(*) from reporting.license_utilization").fetchone()[0] > 0
    reader_url = url.replace("postgresql://postgres:embedded@", "postgresql://glp_reader@")
    with psycopg.connect(reader_url) as conn:  # the read-only surfaces' login works at once
        assert conn.execute("select count(*) from marts.devices").fetchone()[0] == 120
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select count(*) from glp.sync_history")

    # a second restore finds data there: refused, then replaced with --clean (same rows again)
    with pytest.raises(DumpError, match=r"already has data in .*marts.*--clean"):
        restore(url, backup_file)
    restore(url, backup_file, clean=True)
    assert _row_counts(url) == source


def test_cli_restore_refuses_a_non_empty_database_and_replaces_it_when_asked(
    synced, backup_file, fresh_server, monkeypatch
):
    url, home = fresh_server
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("GLP_HOME", str(home))
    get_settings.cache_clear()
    first = runner.invoke(app, ["restore", str(backup_file)])
    assert first.exit_code == 0, first.output
    assert "restored" in first.output
    refused = runner.invoke(app, ["restore", str(backup_file)])
    assert refused.exit_code == 1
    assert "--clean" in refused.output
    declined = runner.invoke(app, ["restore", str(backup_file), "--clean"], input="n\n")
    assert declined.exit_code == 1 and "nothing restored" in declined.output
    replaced = runner.invoke(app, ["restore", str(backup_file), "--clean"], input="y\n")
    assert replaced.exit_code == 0, replaced.output
    assert _row_counts(url) == _row_counts(synced.url)


def test_cli_backup_writes_a_file_that_restores(synced, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", synced.url)
    get_settings.cache_clear()
    target = tmp_path / "out" / "glp.dump"
    done = runner.invoke(app, ["backup", str(target)])
    assert done.exit_code == 0, done.output
    assert target.read_bytes()[:5] == b"PGDMP"
    assert "marts" in done.output and "keep it private" in done.output
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_file_that_is_not_a_backup_is_a_clear_error(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello")
    done = runner.invoke(app, ["restore", str(bogus)])
    assert done.exit_code == 1
    assert "not a backup made by `glp backup`" in done.output
    missing = runner.invoke(app, ["restore", str(tmp_path / "nope.dump")])
    assert missing.exit_code == 1 and "does not exist" in missing.output
    truncated = tmp_path / "cut.dump"
    truncated.write_bytes(b"PGDMP\x01\x10garbage")
    done = runner.invoke(app, ["restore", str(truncated)])
    assert done.exit_code == 1 and "cannot be read by pg_restore" in done.output


def test_backup_of_a_database_without_glp_schemas_says_so(database_url, tmp_path):
    with pytest.raises(DumpError, match="Nothing to back up"):
        backup(database_url, tmp_path / "x.dump")
    assert not (tmp_path / "x.dump").exists()


def test_a_client_older_than_the_server_is_named_with_what_to_install(tmp_path):
    old = tmp_path / "pg_dump"
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)'\n")
    old.chmod(0o755)
    with pytest.raises(DumpError) as caught:
        find_tool("pg_dump", 18, candidates=[old])
    message = str(caught.value)
    assert "at least version 18" in message and "pg_dump 15" in message and "postgresql-client-18" in message
    new = tmp_path / "new" / "pg_dump"
    new.parent.mkdir()
    new.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 18.6'\n")
    new.chmod(0o755)
    assert find_tool("pg_dump", 18, candidates=[old, new]) == Tool(new, 18)
    assert find_tool("pg_dump", 15, candidates=[new, old]) == Tool(old, 15), "the closest version wins"


def test_the_password_goes_through_the_environment_and_never_into_a_message(synced, tmp_path, monkeypatch):
    """A wrong password: pg_dump's refusal is reported without it, and it was never on the command line."""
    from glp_pipeline import dbdump

    seen: list[list[str]] = []
    real_run = dbdump.subprocess.run

    def spy(argv, **kwargs):
        seen.append([str(a) for a in argv])
        if kwargs.get("env"):
            seen[-1].append(f"PGPASSWORD={kwargs['env'].get('PGPASSWORD')}")
        return real_run(argv, **kwargs)

    monkeypatch.setattr(dbdump.subprocess, "run", spy)
    url = synced.url.replace("postgresql://postgres:embedded@", "postgresql://postgres:pw-s3cret-42@")
    assert "pw-s3cret-42" in url
    backup(url, tmp_path / "b.dump")  # trust auth on the socket: the password is not checked
    dump_call = next(call for call in seen if Path(call[0]).name == "pg_dump" and "--format=custom" in call)
    assert "PGPASSWORD=pw-s3cret-42" in dump_call
    assert not any("pw-s3cret-42" in arg for arg in dump_call[:-1])
    with pytest.raises((DumpError, DatabaseError)) as caught:
        restore(url.replace("/glp_test", "/no_such_db_glp_test"), tmp_path / "b.dump")
    assert "pw-s3cret-42" not in str(caught.value)
    assert os.environ.get("PGPASSWORD") is None


def test_restore_into_an_older_server_uses_a_pg_restore_that_reads_the_archive(backup_file, monkeypatch):
    """For a PostgreSQL 15 server the closest client is 15, which cannot read an archive pg_dump 18 wrote:
    the next usable one (18) is taken."""
    from glp_pipeline import dbdump

    embedded = dbdump.find_tool("pg_restore", 18)
    old = Path("/usr/bin/pg_restore")
    if not old.exists() or dbdump._tool_major(old) != 15:
        pytest.skip("needs /usr/bin/pg_restore 15")
    monkeypatch.setattr(dbdump, "_candidates", lambda name: [old, embedded.path])
    tool, archive = dbdump.open_archive(backup_file, 15)
    assert tool.major == 18 and "marts" in archive.schemas
