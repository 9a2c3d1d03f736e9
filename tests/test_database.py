"""The database runtime: the embedded PostgreSQL's life cycle, and URLs every driver accepts."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import psycopg
import psycopg2
import pytest
from pydantic import SecretStr

from glp_pipeline.database import DatabaseError, EmbeddedPostgres, connect, database_url, redact_url
from glp_pipeline.settings import Settings


@pytest.fixture
def embedded():
    root = Path(tempfile.mkdtemp(prefix="glp-test-embedded-"))
    server = EmbeddedPostgres(root / "pgdata")
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def test_embedded_server_starts_stops_and_keeps_its_data(embedded):
    assert embedded.status().running is False
    url = embedded.start()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create table kept (n int)")
        conn.execute("insert into kept values (42)")
        assert conn.execute("select extversion from pg_extension where extname = 'plpgsql'").fetchone()
        conn.execute("create extension if not exists vector")
    assert embedded.status().running is True
    assert embedded.url() == url

    assert embedded.stop() is True
    assert embedded.status().running is False
    assert embedded.stop() is False

    url_again = embedded.start()
    with psycopg.connect(url_again) as conn:
        assert conn.execute("select n from kept").fetchone() == (42,)


def test_embedded_url_works_for_psycopg2_which_dlt_and_dbt_use(embedded):
    url = embedded.start()
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("select current_database()")
            assert cur.fetchone() == ("glp",)
    finally:
        conn.close()


def test_database_url_prefers_DATABASE_URL_and_starts_nothing(tmp_path):
    settings = Settings(
        _env_file=None, glp_home=tmp_path, database_url=SecretStr("postgresql://u:p@db:5432/x")
    )
    assert database_url(settings) == "postgresql://u:p@db:5432/x"
    assert not (tmp_path / "pgdata").exists()


def test_database_url_without_start_says_how_to_start(tmp_path):
    settings = Settings(_env_file=None, glp_home=tmp_path)
    with pytest.raises(DatabaseError, match="not running"):
        database_url(settings, start=False)


def test_unreachable_database_error_names_the_url_without_its_password():
    with pytest.raises(DatabaseError) as caught, connect("postgresql://glp:s3cret-pw@127.0.0.1:9/glp"):
        pass
    message = str(caught.value)
    assert "127.0.0.1:9" in message and "DATABASE_URL" in message
    assert "s3cret-pw" not in message


def test_redact_url_masks_only_the_password():
    assert redact_url("postgresql://glp:pw@h:5432/db") == "postgresql://glp:***@h:5432/db"
    assert redact_url("postgresql://h/db") == "postgresql://h/db"
