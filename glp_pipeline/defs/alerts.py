"""Posting alerts to the Slack-compatible webhook (`GLP_ALERT_WEBHOOK_URL`).

An alert is a courtesy on top of what the sensors record in the database: a webhook that is down, slow or
misconfigured must never fail a sensor, so every error is caught and logged. The URL is a secret (a Slack
webhook URL is its own credential), so it is never logged, and neither are httpx's error messages, which
quote the URL.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from glp_pipeline.settings import Settings

log = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 5.0
MAX_TEXT_CHARS = 3500  # Slack shows about 4,000 characters of a message's text


def webhook_url(settings: Settings) -> str | None:
    """The webhook URL, or None when alerts are off. A secret: never log it."""
    secret = settings.glp_alert_webhook_url
    url = secret.get_secret_value().strip() if secret is not None else ""
    return url or None


def post_alert(settings: Settings, text: str) -> bool:
    """POST `{"text": text}` to the webhook. True when it answered 2xx; False (logged) otherwise."""
    url = webhook_url(settings)
    if url is None:
        return False
    if len(text) > MAX_TEXT_CHARS:
        text = text[: MAX_TEXT_CHARS - 1] + "…"
    try:
        response = httpx.post(url, json={"text": text}, timeout=WEBHOOK_TIMEOUT_SECONDS)
    except Exception as exc:  # network errors, bad URL, anything: an alert must not break a sensor
        log.warning("alert webhook not reached (%s)", type(exc).__name__)
        return False
    if response.is_success:
        return True
    log.warning("alert webhook answered HTTP %s", response.status_code)
    return False
