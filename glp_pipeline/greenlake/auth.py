"""OAuth2 client-credentials tokens for GreenLake: cached in memory, refreshed early, single-flight.

Either issuer works: the SSO one (`https://sso.common.cloud.hpe.com/as/token.oauth2`) or the workspace-scoped
`.../authorization/v2/oauth2/{workspaceId}/token` (reference A.1). Credentials go in the form body
(client_secret_post) by default, or as HTTP Basic.

Refresh timing: a token is replaced `margin` seconds before it expires, where margin is 10 % of its lifetime
clamped to 30..300 s (never more than half the lifetime, so short-lived tokens are still reused), plus up to
10 % jitter so many processes do not refresh in the same second.

Concurrency: one lock guards the fetch. The first thread to find the token stale fetches; the others block on
the lock and then reuse what it fetched (they re-check under the lock), so N threads cause one token request.

Secrets: the client secret stays a `SecretStr` until the moment the request body is built, and neither the
secret nor any token is put in a message, a log line or a repr. `redact()` scrubs both from server text.

`CachedTokenManager` holds what does not depend on how a token is obtained (the cache, early refresh, single
flight, invalidation after a 401, redaction, retries of the token request); `TokenManager` is the
client-credentials grant on top of it, for GreenLake and New Central alike (`service` and the setting names
only change the messages). Aruba Central Classic's refresh-token grant (`glp_pipeline.central.auth`) is the
other subclass.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from glp_pipeline.greenlake.errors import (
    AuthenticationError,
    ErrorEnvelope,
    GreenLakeError,
    InvalidResponseError,
    NetworkError,
    RateLimitedError,
    ServerError,
)
from glp_pipeline.greenlake.retry import RetryPolicy, rate_limit_delay
from glp_pipeline.greenlake.stats import StatsRecorder

log = logging.getLogger(__name__)

TokenAuthMethod = Literal["form", "basic"]
DEFAULT_TOKEN_TTL_SECONDS = 900  # GreenLake platform tokens last 15 minutes (reference A.3)
_CREDENTIAL_ERRORS = frozenset({"invalid_client", "unauthorized_client", "invalid_grant", "access_denied"})
_CREDENTIALS_HINT = "check GLP_CLIENT_ID / GLP_CLIENT_SECRET"
_MIN_REDACT_LENGTH = 6


def refresh_margin(ttl: float, rng: random.Random) -> float:
    """Seconds before expiry at which to refresh: 10 % of the lifetime in 30..300 s, jittered, ≤ ttl/2."""
    margin = min(max(0.1 * ttl, 30.0), 300.0)
    margin += rng.uniform(0, 0.1 * margin)
    return min(margin, ttl / 2)


@dataclass(frozen=True)
class Token:
    """A bearer token and when to stop using it. The value never shows in a repr."""

    value: str
    refresh_at: float  # clock time after which the token is considered stale
    expires_at: datetime  # wall-clock expiry, UTC

    def __repr__(self) -> str:
        return f"Token(expires_at={self.expires_at.isoformat()})"


_Token = Token  # the name before the Aruba Central clients shared it


class CachedTokenManager:
    """Caches one bearer token, refreshes it early, fetches it once for all threads (module docstring).

    Subclasses say how a token is obtained (`_request_token`) and which secrets `redact` scrubs
    (`_secrets`). `service` names the API in messages ("GreenLake", "Aruba Central").
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        token_url: str,
        client_id: str,
        service: str = "GreenLake",
        policy: RetryPolicy | None = None,
        stats: StatsRecorder | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.service = service
        self._http = http
        self._policy = policy or RetryPolicy()
        self._stats = stats or StatsRecorder()
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._token: Token | None = None
        self._old_tokens: list[str] = []  # kept (a few) only so that redact() can scrub them

    def __repr__(self) -> str:
        return f"{type(self).__name__}(token_url={self.token_url!r}, client_id={self.client_id!r})"

    @property
    def expires_at(self) -> datetime | None:
        """When the cached token expires (UTC), or None when there is none."""
        token = self._token
        return token.expires_at if token else None

    def get_token(self) -> str:
        """A valid bearer token, fetching one if the cached one is missing or due for refresh."""
        token = self._token
        if token is not None and self._clock() < token.refresh_at:
            return token.value
        with self._lock:
            token = self._token
            if token is not None and self._clock() < token.refresh_at:
                return token.value  # another thread refreshed while we waited for the lock
            token = self._fetch()
            if self._token is not None:
                self._remember(self._token.value)
            self._token = token
            return token.value

    def invalidate(self, rejected: str) -> None:
        """The API answered 401 to `rejected`: drop it, unless another thread already replaced it."""
        with self._lock:
            if self._token is not None and self._token.value == rejected:
                self._remember(rejected)
                self._token = None

    def redact(self, text: str) -> str:
        """`text` with the client secret and any token this manager has held replaced by `***`."""
        secrets = [*self._secrets(), *self._old_tokens]
        if self._token is not None:
            secrets.append(self._token.value)
        for secret in secrets:
            if len(secret) >= _MIN_REDACT_LENGTH:  # a toy secret like "b" would mangle every message
                text = text.replace(secret, "***")
        return text

    def _secrets(self) -> list[str]:
        """The credentials `redact` scrubs besides the tokens (the client secret, a refresh token, ...)."""
        return []

    def _remember(self, value: str) -> None:
        self._old_tokens = [*self._old_tokens[-4:], value]

    # --- fetching -----------------------------------------------------------------------------------

    def _request_token(self, attempt: int) -> Token:
        """One request for a token (attempt `attempt` of the retry policy); raise a GreenLakeError."""
        raise NotImplementedError

    def _fetch(self) -> Token:
        def on_retry(exc: BaseException, attempt: int, delay: float) -> None:
            self._stats.add("retries")
            log.warning(
                "%s token endpoint %s failed (%s); attempt %d of %d, retrying in %.1f s",
                self.service,
                self.token_url,
                exc,
                attempt,
                self._policy.max_attempts,
                delay,
            )

        retrying = self._policy.retrying(
            should_retry=lambda exc: isinstance(exc, GreenLakeError) and exc.retryable,
            sleep=self._timed_sleep,
            rng=self._rng,
            on_retry=on_retry,
        )
        token: _Token | None = None
        for attempt in retrying:
            with attempt:
                token = self._request_token(attempt.retry_state.attempt_number)
        assert token is not None
        return token

    def _timed_sleep(self, seconds: float) -> None:
        self._stats.add("backoff_wait_seconds", seconds)
        self._sleep(seconds)

    def _new_token(self, value: str, ttl: float) -> Token:
        """A token obtained now that lives `ttl` seconds, due for refresh a margin before that."""
        now = self._clock()
        self._stats.add("token_fetches")
        expires_at = datetime.now(UTC) + timedelta(seconds=ttl)
        log.info(
            "%s token obtained from %s, expires at %s", self.service, self.token_url, expires_at.isoformat()
        )
        refresh_at = now + ttl - refresh_margin(ttl, self._rng)
        return Token(value=value, refresh_at=refresh_at, expires_at=expires_at)


class TokenManager(CachedTokenManager):
    """The OAuth2 client-credentials grant (GreenLake, New Central). Thread-safe; module docstring: rules.

    `credentials_hint` and `token_url_setting` name the settings a person fixes when the issuer refuses;
    `default_ttl` is the lifetime assumed when the answer has no `expires_in`.
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        auth_method: TokenAuthMethod = "form",
        scope: str | None = None,
        service: str = "GreenLake",
        credentials_hint: str = _CREDENTIALS_HINT,
        token_url_setting: str = "GLP_TOKEN_URL",  # noqa: S107 - a setting's name
        default_ttl: float = DEFAULT_TOKEN_TTL_SECONDS,
        policy: RetryPolicy | None = None,
        stats: StatsRecorder | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(
            http,
            token_url=token_url,
            client_id=client_id,
            service=service,
            policy=policy,
            stats=stats,
            clock=clock,
            sleep=sleep,
            rng=rng,
        )
        self._secret = client_secret
        self._auth_method = auth_method
        self._scope = scope
        self._credentials_hint = credentials_hint
        self._token_url_setting = token_url_setting
        self._default_ttl = default_ttl

    def _secrets(self) -> list[str]:
        return [self._secret.get_secret_value()]

    def _request_token(self, attempt: int) -> Token:
        form = {"grant_type": "client_credentials"}
        auth: httpx.BasicAuth | None = None
        if self._auth_method == "basic":
            auth = httpx.BasicAuth(self.client_id, self._secret.get_secret_value())
        else:
            form["client_id"] = self.client_id
            form["client_secret"] = self._secret.get_secret_value()
        if self._scope:
            form["scope"] = self._scope
        where = f"token endpoint {self.token_url} (attempt {attempt} of {self._policy.max_attempts})"
        self._stats.add("token_requests")
        try:
            response = self._http.post(
                self.token_url, data=form, auth=auth, headers={"Accept": "application/json"}
            )
        except httpx.TransportError as exc:
            self._stats.add("network_errors")
            sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
            raise NetworkError(
                self.redact(f"Could not reach the {self.service} {where}: {type(exc).__name__}: {exc}"),
                request_sent=sent,
            ) from exc
        if response.status_code == 200:
            return self._parse_token(response, where)
        raise self._token_error(response, where)

    def _parse_token(self, response: httpx.Response, where: str) -> Token:
        body = read_token_body(response, self.service, where, self._stats)
        return self._new_token(body["access_token"], token_ttl(body, self._default_ttl))

    def _token_error(self, response: httpx.Response, where: str) -> GreenLakeError:
        status = response.status_code
        envelope = ErrorEnvelope.from_response(response)
        server_text = self.redact(envelope.oauth_error_description or envelope.message or "")
        detail = f": {server_text}" if server_text else ""
        common = {"status_code": status, "method": "POST", "path": self.token_url, "envelope": envelope}
        if status == 429:
            self._stats.add("rate_limited")
            return RateLimitedError(
                f"{self.service} {where} answered 429 Too Many Requests",
                retry_after=rate_limit_delay(response.headers),
                **common,
            )
        if status >= 500:
            self._stats.add("server_errors")
            return ServerError(f"{self.service} {where} answered {status}{detail}", **common)
        code = envelope.oauth_error
        if code in _CREDENTIAL_ERRORS or status == 401:
            reason = f" ({code})" if code else ""
            return AuthenticationError(
                f"{self.service} rejected the client credentials{reason} at {self.token_url}: "
                f"{self._credentials_hint} (HTTP {status}{detail})"
            )
        if status == 404:
            return AuthenticationError(
                f"{self.service} token endpoint {self.token_url} does not exist (HTTP 404): "
                f"check {self._token_url_setting}"
            )
        reason = f" ({code})" if code else ""
        hint = self._credentials_hint.removeprefix("check ")
        return AuthenticationError(
            f"{self.service} token endpoint {self.token_url} refused the token request{reason} "
            f"(HTTP {status}{detail}): check {self._token_url_setting}, {hint}"
        )


def read_token_body(
    response: httpx.Response, service: str, where: str, stats: StatsRecorder
) -> dict[str, Any]:
    """The JSON object of a 200 from a token endpoint, with a non-empty string `access_token`."""
    try:
        body = response.json()
        value = body["access_token"]
    except (ValueError, KeyError, TypeError):
        stats.add("network_errors")
        raise InvalidResponseError(f"{service} {where} returned no readable access_token") from None
    if not isinstance(value, str) or not value:
        raise InvalidResponseError(f"{service} {where} returned an empty access_token")
    return body


def token_ttl(body: dict[str, Any], default: float) -> float:
    """`expires_in` of a token answer in seconds, or `default` when it is missing or unreadable."""
    try:
        return float(body.get("expires_in") or default)
    except (TypeError, ValueError):
        return default
