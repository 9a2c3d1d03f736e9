"""Classic Central's refresh-token grant, and where the rotated token pair is kept.

Classic access tokens last 2 hours; a new one comes from `POST /oauth2/token?client_id=..&client_secret=..
&grant_type=refresh_token&refresh_token=..` (everything in the query string, body empty), and every refresh
**rotates** the refresh token: the answer carries a new one and the old one is refused from then on
(reference E.1). Lose the new one and the chain is broken until a person creates a new token in the API
gateway. So:

- the initial refresh token comes from ARUBA_CLASSIC_REFRESH_TOKEN; after the first refresh the rotated pair
  (refresh token, access token, its expiry) is persisted, and the stored pair is what the next run uses;
- the store remembers a fingerprint (SHA-256) of the environment's token it started from: when a person
  pastes a new token into the environment, its fingerprint differs and the chain restarts from it;
- reading the latest pair, refreshing and saving the new pair happen under one exclusive lock, so two
  processes (a scheduled Dagster run and `glp sync --central`) never spend the same refresh token;
- a 401 `invalid_token` from the API drops the access token (`invalidate`) and the next `get_token`
  refreshes, once (the request loop of `ResilientClient` repeats the call once).

Where the pair is kept: a table, `glp.central_tokens`, in the app's own schema, not a file under GLP_HOME.
Every face that syncs (the CLI, the Dagster daemon, maybe in other containers) shares the database but not
necessarily a disk; a file rotated by one process would leave another holding a dead token. PostgreSQL
also gives the cross-process lock (`pg_advisory_xact_lock`) and the atomic write (the transaction) for
free. The `glp` schema is not granted to the read-only role that the dashboard queries, the MCP server and
the chat use, and the table is revoked from PUBLIC. `MemoryTokenStore` keeps the pair in the process
(tests, one-off scripts).

Secrets: the tokens never reach a log line, an error message or a repr (`redact`, `StoredTokens.__repr__`);
httpx logs request URLs at INFO, and this grant puts secrets in the URL, so `QuerySecretFilter` on the
`httpx` logger masks them.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

import httpx
from pydantic import SecretStr

from glp_pipeline.central.errors import RefreshTokenRejectedError
from glp_pipeline.greenlake.auth import CachedTokenManager, Token, read_token_body, refresh_margin, token_ttl
from glp_pipeline.greenlake.errors import (
    AuthenticationError,
    ErrorEnvelope,
    GreenLakeError,
    NetworkError,
    RateLimitedError,
    ServerError,
)
from glp_pipeline.greenlake.retry import RetryPolicy, rate_limit_delay
from glp_pipeline.greenlake.stats import StatsRecorder

log = logging.getLogger(__name__)

SERVICE = "Aruba Central Classic"
DEFAULT_TTL_SECONDS = 7200
_RENEW_ADVICE = (
    "create a new token in Central's API Gateway (My Apps & Tokens) and set ARUBA_CLASSIC_REFRESH_TOKEN to "
    "its refresh token"
)

TOKENS_DDL = """
create schema if not exists glp;
create table if not exists glp.central_tokens (
    base_url           text        not null,
    client_id          text        not null,
    refresh_token      text        not null,
    access_token       text,
    access_expires_at  timestamptz,
    seed_fingerprint   text        not null,
    rotations          integer     not null default 0,
    rotated_at         timestamptz not null,
    primary key (base_url, client_id)
);
revoke all on glp.central_tokens from public;
comment on table glp.central_tokens is
    'Aruba Central Classic: the current (rotated) token pair per API gateway application. Secret.';
"""


def fingerprint(token: str) -> str:
    """SHA-256 of a token: recognises the environment's token without storing it twice."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class StoredTokens:
    """The current pair of one Classic application, as the store keeps it."""

    refresh_token: str
    access_token: str | None
    expires_at: datetime | None  # of the access token, UTC; None when unknown
    seed_fingerprint: str  # of the ARUBA_CLASSIC_REFRESH_TOKEN the chain started from
    rotations: int = 0

    def __repr__(self) -> str:
        expires = self.expires_at.isoformat() if self.expires_at else None
        return f"StoredTokens(expires_at={expires!r}, rotations={self.rotations})"


class TokenSlot(Protocol):
    """The stored pair, read under the store's lock, and the way to replace it within that lock."""

    current: StoredTokens | None

    def save(self, tokens: StoredTokens) -> None: ...


class TokenStore(Protocol):
    """Keeps the pair of one Classic application; `exclusive()` holds the lock for a read-refresh-save."""

    def exclusive(self) -> Iterator[TokenSlot]: ...


@dataclass
class _Slot:
    current: StoredTokens | None
    saved: StoredTokens | None = None

    def save(self, tokens: StoredTokens) -> None:
        self.saved = tokens
        self.current = tokens


class MemoryTokenStore:
    """The pair in this process only (tests, scripts). A rotation is lost when the process ends."""

    def __init__(self, initial: StoredTokens | None = None) -> None:
        self.tokens = initial
        self._lock = threading.Lock()

    @contextmanager
    def exclusive(self) -> Iterator[TokenSlot]:
        with self._lock:
            slot = _Slot(self.tokens)
            yield slot
            if slot.saved is not None:
                self.tokens = slot.saved


class DatabaseTokenStore:
    """The pair in `glp.central_tokens`, one row per (gateway base URL, client id); module docstring: why.

    `exclusive()` opens a connection, takes a transaction-scoped advisory lock, reads the row, and commits
    the saved pair when the block ends (a failed refresh rolls back: nothing saved).
    """

    def __init__(self, url: str, *, base_url: str, client_id: str) -> None:
        self._url = url
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id

    @contextmanager
    def exclusive(self) -> Iterator[TokenSlot]:
        from glp_pipeline.database import connect

        with connect(self._url) as conn, conn.transaction():
            # One lock for every application: refreshes are rare, and the table's creation is covered too.
            conn.execute("select pg_advisory_xact_lock(hashtext('glp.central_tokens'))")
            if conn.execute("select to_regclass('glp.central_tokens')").fetchone()[0] is None:  # type: ignore[index]
                conn.execute(TOKENS_DDL)
            row = conn.execute(
                "select refresh_token, access_token, access_expires_at, seed_fingerprint, rotations"
                " from glp.central_tokens where base_url = %s and client_id = %s",
                (self.base_url, self.client_id),
            ).fetchone()
            slot = _Slot(StoredTokens(*row) if row else None)
            yield slot
            if slot.saved is not None:
                saved = slot.saved
                conn.execute(
                    "insert into glp.central_tokens (base_url, client_id, refresh_token, access_token,"
                    " access_expires_at, seed_fingerprint, rotations, rotated_at)"
                    " values (%s, %s, %s, %s, %s, %s, %s, now())"
                    " on conflict (base_url, client_id) do update set"
                    " refresh_token = excluded.refresh_token, access_token = excluded.access_token,"
                    " access_expires_at = excluded.access_expires_at,"
                    " seed_fingerprint = excluded.seed_fingerprint, rotations = excluded.rotations,"
                    " rotated_at = excluded.rotated_at",
                    (
                        self.base_url,
                        self.client_id,
                        saved.refresh_token,
                        saved.access_token,
                        saved.expires_at,
                        saved.seed_fingerprint,
                        saved.rotations,
                    ),
                )


class RefreshTokenManager(CachedTokenManager):
    """Classic Central access tokens from the rotating refresh-token grant (module docstring: the rules)."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        refresh_token: SecretStr,
        store: TokenStore,
        access_token: SecretStr | None = None,
        default_ttl: float = DEFAULT_TTL_SECONDS,
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
            service=SERVICE,
            policy=policy,
            stats=stats,
            clock=clock,
            sleep=sleep,
            rng=rng,
        )
        self._secret = client_secret
        self._seed = refresh_token
        self._seed_access = access_token
        self._store = store
        self._default_ttl = default_ttl
        self._rejected: set[str] = set()
        self._refresh_tokens: list[str] = []  # held this run, for redact()
        self._spending: str | None = None  # the refresh token the current `_fetch` spends
        self.last_rotation: StoredTokens | None = None  # what the last refresh stored (no secrets in repr)

    def _secrets(self) -> list[str]:
        secrets = [self._secret.get_secret_value(), self._seed.get_secret_value(), *self._refresh_tokens]
        if self._seed_access is not None:
            secrets.append(self._seed_access.get_secret_value())
        return secrets

    def invalidate(self, rejected: str) -> None:
        """The API answered 401 `invalid_token`: never use that access token again, refresh instead."""
        self._rejected.add(rejected)
        super().invalidate(rejected)

    def _fetch(self) -> Token:
        seed = self._seed.get_secret_value()
        seed_print = fingerprint(seed)
        rotated = False
        try:
            with self._store.exclusive() as slot:
                current = slot.current
                if current is None or current.seed_fingerprint != seed_print:
                    if current is not None:
                        log.info("ARUBA_CLASSIC_REFRESH_TOKEN changed: the Classic token chain starts over")
                    access = self._seed_access.get_secret_value() if self._seed_access is not None else None
                    current = StoredTokens(seed, access, None, seed_print, 0)
                self._remember_refresh(current.refresh_token)
                reusable = self._reusable(current)
                if reusable is not None:
                    return reusable
                self._spending = current.refresh_token
                try:
                    token = super()._fetch()  # the retry policy around _request_token
                finally:
                    self._spending = None
                rotated = True
                assert self.last_rotation is not None
                self.last_rotation = replace(
                    self.last_rotation, seed_fingerprint=seed_print, rotations=current.rotations + 1
                )
                slot.save(self.last_rotation)
        except BaseException:
            if rotated:  # the server has replaced the refresh token, and its successor was not stored
                log.error(
                    "Classic Central rotated the refresh token but the new one could not be stored; if the "
                    "next sync reports the refresh token refused, %s",
                    _RENEW_ADVICE,
                )
            raise
        return token

    def _reusable(self, current: StoredTokens) -> Token | None:
        """The stored access token, when it is not known bad and not due for refresh."""
        value = current.access_token
        if not value or value in self._rejected:
            return None
        now = datetime.now(UTC)
        if current.expires_at is None:  # the environment's access token: use it until a 401 says otherwise
            expires_at = now + timedelta(seconds=self._default_ttl)
        else:
            expires_at = current.expires_at
        remaining = (expires_at - now).total_seconds()
        margin = refresh_margin(self._default_ttl, self._rng)
        if remaining <= margin:
            return None
        return Token(value=value, refresh_at=self._clock() + remaining - margin, expires_at=expires_at)

    def _remember_refresh(self, value: str) -> None:
        if value not in self._refresh_tokens:
            self._refresh_tokens = [*self._refresh_tokens[-4:], value]

    def _request_token(self, attempt: int) -> Token:
        assert self._spending is not None
        params = {
            "client_id": self.client_id,
            "client_secret": self._secret.get_secret_value(),
            "grant_type": "refresh_token",
            "refresh_token": self._spending,
        }
        where = f"token endpoint {self.token_url} (attempt {attempt} of {self._policy.max_attempts})"
        self._stats.add("token_requests")
        try:
            response = self._http.post(self.token_url, params=params, headers={"Accept": "application/json"})
        except httpx.TransportError as exc:
            self._stats.add("network_errors")
            sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
            raise NetworkError(
                self.redact(f"Could not reach the {SERVICE} {where}: {type(exc).__name__}: {exc}"),
                request_sent=sent,
            ) from exc
        if response.status_code != 200:
            raise self._refresh_error(response, where)
        body = read_token_body(response, SERVICE, where, self._stats)
        ttl = token_ttl(body, self._default_ttl)
        token = self._new_token(body["access_token"], ttl)
        new_refresh = body.get("refresh_token")
        if not isinstance(new_refresh, str) or not new_refresh:
            new_refresh = self._spending  # a gateway that does not rotate: the old one stays valid
        self._remember_refresh(new_refresh)
        self.last_rotation = StoredTokens(new_refresh, token.value, token.expires_at, "", 0)
        return token

    def _refresh_error(self, response: httpx.Response, where: str) -> GreenLakeError:
        status = response.status_code
        envelope = ErrorEnvelope.from_response(response)
        server_text = self.redact(envelope.oauth_error_description or envelope.message or "")
        detail = f": {server_text}" if server_text else ""
        common = {"status_code": status, "method": "POST", "path": self.token_url, "envelope": envelope}
        if status == 429:
            self._stats.add("rate_limited")
            return RateLimitedError(
                f"{SERVICE} {where} answered 429 Too Many Requests",
                retry_after=rate_limit_delay(response.headers),
                **common,
            )
        if status >= 500:
            self._stats.add("server_errors")
            return ServerError(f"{SERVICE} {where} answered {status}{detail}", **common)
        code = envelope.oauth_error
        if code == "invalid_grant":
            return RefreshTokenRejectedError(
                f"{SERVICE} refused the refresh token (invalid_grant{detail}): it expired, was revoked, or "
                f"was already used (each refresh replaces it). {_RENEW_ADVICE}."
            )
        if code in ("invalid_client", "unauthorized_client") or status == 401:
            return AuthenticationError(
                f"{SERVICE} rejected the application's credentials ({code or status}) at {self.token_url}: "
                f"check ARUBA_CLASSIC_CLIENT_ID / ARUBA_CLASSIC_CLIENT_SECRET (HTTP {status}{detail})"
            )
        if status == 404:
            return AuthenticationError(
                f"{SERVICE} token endpoint {self.token_url} does not exist (HTTP 404): check "
                "ARUBA_CLASSIC_BASE_URL (the API gateway of your cluster)"
            )
        reason = f" ({code})" if code else ""
        return AuthenticationError(
            f"{SERVICE} token endpoint {self.token_url} refused the refresh{reason} (HTTP {status}{detail}): "
            "check ARUBA_CLASSIC_BASE_URL and the application's credentials"
        )


_QUERY_SECRETS = ("client_secret", "refresh_token", "access_token", "code")


class QuerySecretFilter(logging.Filter):
    """Masks secrets that a request URL carries in its query string in httpx's request log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_mask_url(arg) for arg in record.args)
        return True


def _mask_url(value: object) -> object:
    if not isinstance(value, httpx.URL) or not value.query:
        return value
    params = [(k, "***" if k in _QUERY_SECRETS else v) for k, v in value.params.multi_items()]
    return value.copy_with(params=params)


def install_log_filter() -> None:
    """Attach `QuerySecretFilter` to the `httpx` logger once (idempotent)."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, QuerySecretFilter) for f in logger.filters):
        logger.addFilter(QuerySecretFilter())
