"""The database runtime: the embedded PostgreSQL's life cycle, and URLs every driver accepts."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import psycopg
import psycopg2
import pytest
from pydantic import SecretStr

from glp_pipeline.database import (
    DatabaseError,
    EmbeddedPostgres,
    connect,
    database_url,
    reader_database_url,
    redact_url,
    uses_embedded,
)
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


def test_reader_url_logs_in_as_the_reader_role_on_the_embedded_server_only(embedded, tmp_path):
    """The embedded server's reader URL has the role as its user; with DATABASE_URL set elsewhere the
    surfaces use DATABASE_URL (and SET ROLE), unless GLP_READER_DATABASE_URL says how to log in as it."""
    home = embedded.pgdata.parent
    url = embedded.start()
    settings = Settings(_env_file=None, glp_home=home, glp_reader_role="glp_ro")
    assert uses_embedded(settings)
    reader = reader_database_url(settings)
    assert reader.startswith("postgresql://glp_ro@") and reader.split("@")[1] == url.split("@")[1]
    handed_down = Settings(_env_file=None, glp_home=home, database_url=SecretStr(url))
    assert uses_embedded(handed_down), "glp demo hands the embedded URL to Dagster and the dashboard"

    other = Settings(_env_file=None, glp_home=tmp_path, database_url=SecretStr("postgresql://u:p@db/x"))
    assert not uses_embedded(other)
    assert reader_database_url(other) == "postgresql://u:p@db/x"
    own = Settings(
        _env_file=None,
        glp_home=tmp_path,
        database_url=SecretStr("postgresql://u:p@db/x"),
        glp_reader_database_url=SecretStr("postgresql://glp_reader:r@db/x"),
    )
    assert reader_database_url(own) == "postgresql://glp_reader:r@db/x"


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
