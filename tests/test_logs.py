"""Logs: GLP_LOG_FORMAT=json writes one JSON object per line (UTC time, level, logger, message, extras), and
in both formats no secret survives: SecretStr settings, URL passwords, bearer tokens, query-string secrets."""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime

import pytest
from pydantic import SecretStr

from glp_pipeline.logs import JsonFormatter, RedactingFilter, configure, redact_text, settings_secrets
from glp_pipeline.settings import Settings

SECRET = "cl1ent-s3cret-value"


@pytest.fixture
def capture():
    """Configure logging as `_setup_logging` does, onto a buffer; restore the root logger afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    buffers = []

    def setup(fmt: str, secrets=(SECRET,)) -> io.StringIO:
        buffer = io.StringIO()
        buffers.append(configure("INFO", fmt, secrets, buffer))
        return buffer

    yield setup
    for handler in buffers:
        root.removeHandler(handler)
    root.handlers[:], root.level = saved


def _leaky(logger: logging.Logger) -> None:
    logger.info("token request with client_secret=%s", SECRET)
    logger.warning("db at %s", "postgresql://glp:db-pw-123@db.example:5432/glp?sslmode=require")
    logger.error("sent headers %s", {"Authorization": "Bearer eyJhbGciOi.payload.sig"})
    logger.info("refresh via /oauth2/token?client_id=x&refresh_token=rt-987654&grant_type=refresh_token")
    logger.info("extra carries it", extra={"target": f"key {SECRET}", "devices": 12})


def test_json_format_is_one_object_per_line_with_utc_time_and_extras(capture):
    buffer = capture("json")
    logger = logging.getLogger("glp_pipeline.test")
    logger.info("synced %d devices", 12, extra={"resource": "devices", "fetched": 12})
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    lines = buffer.getvalue().strip().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "INFO" and first["logger"] == "glp_pipeline.test"
    assert first["message"] == "synced 12 devices"
    assert first["resource"] == "devices" and first["fetched"] == 12
    time = datetime.fromisoformat(first["time"])
    assert time.utcoffset() is not None and time.utcoffset().total_seconds() == 0
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exception"]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_no_secret_survives_in_either_format(capture, fmt):
    buffer = capture(fmt)
    _leaky(logging.getLogger("glp_pipeline.leaky"))
    out = buffer.getvalue()
    for secret in (SECRET, "db-pw-123", "eyJhbGciOi", "rt-987654"):
        assert secret not in out, (secret, out)
    assert "postgresql://glp:***@db.example:5432" in out
    assert "Bearer ***" in out and "client_secret=***" in out and "refresh_token=***" in out
    assert "grant_type=refresh_token" in out, "only the secret values are masked"
    if fmt == "json":
        assert all(json.loads(line) for line in out.strip().splitlines())


def test_an_exception_traceback_is_redacted_too(capture):
    buffer = capture("text")
    try:
        raise RuntimeError(f"token call failed: client_secret={SECRET}")
    except RuntimeError:
        logging.getLogger("glp_pipeline.x").exception("oops")
    assert SECRET not in buffer.getvalue() and "RuntimeError" in buffer.getvalue()


def test_every_secretstr_setting_is_a_secret_to_redact():
    settings = Settings(
        _env_file=None,
        glp_client_secret=SecretStr("glp-secret-1"),
        anthropic_api_key=SecretStr("sk-ant-abc"),
        glp_mcp_token=SecretStr("mcp-tok-9"),
        glp_client_id="not-a-secret-id",
    )
    secrets = settings_secrets(settings)
    assert {"glp-secret-1", "sk-ant-abc", "mcp-tok-9"} <= set(secrets)
    assert "not-a-secret-id" not in secrets
    assert redact_text("key sk-ant-abc and mcp-tok-9", secrets) == "key *** and ***"


def test_filter_and_formatter_work_on_a_plain_record():
    record = logging.LogRecord("n", logging.INFO, __file__, 1, "pw=%s", ("https://u:p4ss@h/x",), None)
    assert RedactingFilter().filter(record)
    assert json.loads(JsonFormatter().format(record))["message"] == "pw=https://u:***@h/x"


def test_glp_log_format_setting_is_text_by_default_and_checked(monkeypatch):
    assert Settings(_env_file=None).glp_log_format == "text"
    monkeypatch.setenv("GLP_LOG_FORMAT", "json")
    assert Settings(_env_file=None).glp_log_format == "json"
    monkeypatch.setenv("GLP_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="text"):
        Settings(_env_file=None)


def test_the_cli_logs_json_when_asked(monkeypatch, capsys):
    """`_setup_logging` reads GLP_LOG_FORMAT and the settings' secrets."""
    from glp_pipeline.cli import _setup_logging

    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        settings = Settings(
            _env_file=None, glp_log_format="json", glp_log_level="INFO", glp_client_secret=SecretStr(SECRET)
        )
        _setup_logging(settings)
        logging.getLogger("glp_pipeline.cli_test").info("secret is %s", SECRET)
        err = capsys.readouterr().err.strip().splitlines()
        entry = json.loads(err[-1])
        assert entry["message"] == "secret is ***" and entry["logger"] == "glp_pipeline.cli_test"
    finally:
        for handler in list(root.handlers):
            if getattr(handler, "_glp_handler", False):
                root.removeHandler(handler)
        root.handlers[:], root.level = saved
