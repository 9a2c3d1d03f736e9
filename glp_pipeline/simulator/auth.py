"""OAuth2 client-credentials tokens for the simulator (greenlake-api.md A).

Tokens are opaque random strings bound to one workspace, and they really expire: a client that forgets to
refresh gets the 401 it would get from GreenLake. `expire_all` lets a test force that moment without waiting.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote_plus


@dataclass
class IssuedToken:
    workspace_id: str
    issued_at: float  # monotonic clock
    ttl: float
    revoked: bool = False


class TokenCheck:
    """Why a bearer token was accepted or refused."""

    OK = "ok"
    MISSING = "missing"
    UNKNOWN = "unknown"
    EXPIRED = "expired"


class TokenIssuer:
    """Issues and validates bearer tokens. Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tokens: dict[str, IssuedToken] = {}
        self._lock = threading.Lock()

    def issue(self, workspace_id: str, ttl: float) -> str:
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            if (
                len(self._tokens) > 10_000
            ):  # forget long-dead tokens so a long demo does not grow without bound
                self._tokens = {k: v for k, v in self._tokens.items() if now - v.issued_at < 2 * v.ttl}
            self._tokens[token] = IssuedToken(workspace_id, now, ttl)
        return token

    def check(self, authorization: str | None, ttl_override: float | None = None) -> tuple[str, str | None]:
        """(TokenCheck value, workspace id) for an `Authorization` header value."""
        if not authorization:
            return TokenCheck.MISSING, None
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return TokenCheck.MISSING, None
        with self._lock:
            issued = self._tokens.get(value.strip())
        if issued is None:
            return TokenCheck.UNKNOWN, None
        lifetime = ttl_override if ttl_override is not None else issued.ttl
        if issued.revoked or self._clock() >= issued.issued_at + lifetime:
            return TokenCheck.EXPIRED, issued.workspace_id
        return TokenCheck.OK, issued.workspace_id

    def expire_all(self) -> None:
        """Every token issued so far stops working now."""
        with self._lock:
            for issued in self._tokens.values():
                issued.revoked = True


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """(client_id, client_secret) from an HTTP Basic header (RFC 6749 2.3.1 form-encodes both), or None."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


class OAuthError(Exception):
    """A token request the issuer refuses: HTTP status plus the RFC 6749 `error` code and description."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


def client_credentials(
    content_type: str | None, body: bytes, authorization: str | None
) -> tuple[str, str, bool]:
    """(client_id, client_secret, came_by_basic) from a client-credentials token request, or OAuthError.

    Accepts the secret in the form body (client_secret_post, as HPE's cURL samples do) or as HTTP Basic with
    only `grant_type` in the form (as HPE's Python sample does), never both at once (RFC 6749 2.3).
    """
    if content_type and not content_type.startswith("application/x-www-form-urlencoded"):
        raise OAuthError(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    form = {key: values[0] for key, values in parsed.items()}
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError(400, "invalid_request", "grant_type is required")
    if grant_type != "client_credentials":
        raise OAuthError(400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
    basic = basic_credentials(authorization)
    if basic is not None:
        if "client_secret" in form:
            raise OAuthError(400, "invalid_request", "use one client authentication method, not two")
        return basic[0], basic[1], True
    client_id, secret = form.get("client_id"), form.get("client_secret")
    if not client_id or secret is None:
        raise OAuthError(401, "invalid_client", "client authentication is missing")
    return client_id, secret, False


def same_secret(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode(), expected.encode())
