"""Log output: text or JSON lines (`GLP_LOG_FORMAT`), with secrets redacted from every record.

`RedactingFilter` rewrites each record's message (its arguments merged in) so that none of these survive,
in either format: the value of every `SecretStr` setting, a URL's password (`scheme://user:***@host`),
`Authorization: Bearer ...` / `Basic ...`, and `client_secret=`, `refresh_token=`, `access_token=`,
`password=` in query strings or form bodies. `JsonFormatter` writes one JSON object per line: `time` (UTC,
ISO 8601), `level`, `logger`, `message`, the record's extras, and `exception` when there is one.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from glp_pipeline.settings import Settings

MASK = "***"
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@]*:)(?P<pw>[^@\s/]+)(?=@)")
_AUTH_HEADER = re.compile(r"(?i)(?P<head>\b(?:bearer|basic)\s+)(?P<pw>[A-Za-z0-9\-._~+/=]+)")
_QUERY_SECRET = re.compile(
    r"(?i)(?P<head>\b(?:client_secret|refresh_token|access_token|password|api_key)=)(?P<pw>[^&\s\"']+)"
)
# Attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
_MIN_SECRET_CHARS = 4  # shorter "secrets" would mask ordinary words


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with the given secret values and every recognisable credential masked."""
    for secret in sorted({s for s in secrets if s and len(s) >= _MIN_SECRET_CHARS}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    text = _AUTH_HEADER.sub(lambda m: m.group("head") + MASK, text)
    return _QUERY_SECRET.sub(lambda m: m.group("head") + MASK, text)


def settings_secrets(settings: Settings) -> list[str]:
    """The values of every SecretStr setting that is set."""
    from pydantic import SecretStr

    values = []
    for name in type(settings).model_fields:
        value = getattr(settings, name, None)
        if isinstance(value, SecretStr) and value.get_secret_value():
            values.append(value.get_secret_value())
    return values


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's message and arguments (and string extras) before any handler sees it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: log what we have, redacted
            message = f"{record.msg} {record.args}"
        record.msg = redact_text(message, self.secrets)
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, redact_text(value, self.secrets))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text, self.secrets)
            record.exc_info = None  # formatters would format (unredacted) again otherwise
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC ISO 8601), level, logger, message, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: str, fmt: str, secrets: Iterable[str], stream: Any) -> logging.Handler:
    """Replace the root logger's handlers with one on `stream`, in `fmt` (text or json), redacting."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_glp_handler", False):
            root.removeHandler(old)
    handler._glp_handler = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return handler
