"""The two Aruba Central clients, on the GreenLake client's machinery (`ResilientClient`).

Both get, per request: the circuit breaker, pacing, a bearer token refreshed early, retries (429 waits what
the server asks, 5xx and network errors back off), one fresh token after a 401, and complete paging that
raises rather than hand over a partial list. What differs, and lives here:

`CentralClient` (New Central, `/network-monitoring/v1/...`)
- client-credentials tokens (the GreenLake SSO issuer by default; 2 h), the shared `TokenManager`;
- one account-wide hourly budget (`X-RateLimit-Limit` per hour; `X-RateLimit-Reset` an RFC 3339 time, or
  a number, both read): paced as a shared window, held by the server's word when `Remaining` hits 0, and
  when that hold is longer than `max_budget_wait_seconds` the sync fails at once (`PacingBudgetError`)
  rather than sleep most of an hour;
- page-number paging (`limit` + `next`) followed to the end (`PageNumberIterator`);
- the `{httpStatusCode, errorCode, message, debugId}` envelope; a 400 "Unknown query parameter" becomes
  `UnknownQueryParameterError` naming the parameter (network-monitoring refuses any it does not define).

`ClassicCentralClient` (Classic API gateway, `/monitoring/...`)
- the rotating refresh-token grant (`central/auth.py`), its pair persisted by a `TokenStore`;
- 7 calls per second and a daily allowance, both account-wide: paced as shared windows; a per-second 429
  waits a second, a spent day raises `PacingBudgetError` at once (it resets at midnight UTC);
- offset paging with `calculate_total=true`, envelopes named after the resource (`aps`, `switches`, ...);
- Kong's and the monitoring service's error bodies (`{"message": ...}`, `{"description": ...}`).
"""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from glp_pipeline.central.auth import (
    DatabaseTokenStore,
    MemoryTokenStore,
    RefreshTokenManager,
    TokenStore,
    install_log_filter,
)
from glp_pipeline.central.config import (
    CLASSIC_APS_PATH,
    CLASSIC_CLIENTS_PATH,
    CLASSIC_GATEWAYS_PATH,
    CLASSIC_SWITCHES_PATH,
    DEFAULT_TOKEN_TTL_SECONDS,
    NEW_APS_PATH,
    NEW_CLIENTS_PATH,
    NEW_DEVICES_PATH,
    NEW_GATEWAYS_PATH,
    NEW_SWITCHES_PATH,
    CentralConfig,
    ClassicCentralConfig,
)
from glp_pipeline.central.errors import CentralNotConfiguredError, UnknownQueryParameterError
from glp_pipeline.greenlake.auth import TokenManager
from glp_pipeline.greenlake.base_client import ResilientClient
from glp_pipeline.greenlake.errors import (
    ApiError,
    BadRequestError,
    ErrorEnvelope,
    GreenLakeError,
    PacingBudgetError,
    RateLimitedError,
)
from glp_pipeline.greenlake.pacing import Pacer, SharedLimit
from glp_pipeline.greenlake.paging import Page, PageIterator, PageNumberIterator
from glp_pipeline.greenlake.retry import RetryPolicy, parse_reset

if TYPE_CHECKING:
    from glp_pipeline.settings import Settings

HOUR = 3600.0
DAY = 86_400.0
_UNKNOWN_PARAMETER = re.compile(r"unknown query parameter[:\s]+['\"]?([^'\"\s,;)]+)", re.IGNORECASE)

OnPage = Callable[[Page], None]


def _retry_policy(config: CentralConfig | ClassicCentralConfig) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=config.max_attempts,
        backoff_initial_seconds=config.backoff_initial_seconds,
        backoff_max_seconds=config.backoff_max_seconds,
        max_retry_after_seconds=config.max_retry_after_seconds,
    )


class _CentralBase(ResilientClient):
    """What both Central clients share beyond `ResilientClient`: account-wide budgets and paging helpers."""

    config: CentralConfig | ClassicCentralConfig

    def _on_rate_limited(self, key: str, error: ApiError) -> None:
        # Central counts calls per account, not per endpoint: a 429 on one path holds them all.
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            self.pacer.hold_all(min(error.retry_after, self._policy.max_retry_after_seconds))

    def _fetcher(self, path: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def fetch(query: dict[str, Any]) -> dict[str, Any]:
            body = self.get_json(path, query)
            self._stats.add("pages")
            return body

        return fetch

    def _on_reconcile(self, attempt: int, reasons: list[str]) -> None:
        self._stats.add("reconcile_passes")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, client_id={self.config.client_id!r})"

    __str__ = __repr__


class CentralClient(_CentralBase):
    """New Central (`/network-monitoring/v1`). Thread-safe; a context manager."""

    service = "Aruba Central"
    unauthorized_hint = (
        "check that ARUBA_CLIENT_ID is a personal API client of the Central service instance (tokens of a "
        "GreenLake-scoped client, or Classic tokens, are refused) and ARUBA_TOKEN_URL"
    )
    echoed_params = ("filter", "sort", "limit", "next")
    config: CentralConfig
    mode = "new"

    def __init__(
        self,
        config: CentralConfig,
        *,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        super().__init__(
            base_url=config.base_url,
            request_timeout_seconds=config.request_timeout_seconds,
            user_agent=config.user_agent,
            policy=_retry_policy(config),
            breaker_failures=config.breaker_failures,
            breaker_reset_seconds=config.breaker_reset_seconds,
            http_client=http_client,
            sleep=sleep,
            clock=clock,
            rng=rng,
        )
        self.tokens = TokenManager(
            self._http,
            token_url=config.token_url,
            client_id=config.client_id,
            client_secret=config.client_secret,
            service=self.service,
            credentials_hint="check ARUBA_CLIENT_ID / ARUBA_CLIENT_SECRET",
            token_url_setting="ARUBA_TOKEN_URL",  # noqa: S106 - a setting's name
            default_ttl=DEFAULT_TOKEN_TTL_SECONDS,
            policy=self._policy,
            stats=self._stats,
            clock=clock,
            sleep=sleep,
            rng=self._rng,
        )
        self.pacer = Pacer(
            {},
            default_rpm=None,
            enabled=config.pacing,
            clock=clock,
            sleep=sleep,
            shared_limits=[
                SharedLimit(
                    "New Central requests per hour",
                    config.requests_per_hour,
                    HOUR,
                    max_wait_seconds=config.max_budget_wait_seconds,
                )
            ],
            max_hold_seconds=config.max_budget_wait_seconds,
            service=self.service,
        )

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> CentralClient:
        """From ARUBA_* (and the GLP_* retry knobs); `CentralNotConfiguredError` names what is missing."""
        overrides = {k: kwargs.pop(k) for k in list(kwargs) if k in CentralConfig.__dataclass_fields__}
        return cls(CentralConfig.from_settings(settings, **overrides), **kwargs)

    def __enter__(self) -> CentralClient:
        return self

    # --- hooks --------------------------------------------------------------------------------------

    def _observe(self, key: str, response: httpx.Response) -> None:
        """`X-RateLimit-Remaining: 0` holds every endpoint until `X-RateLimit-Reset` (time or seconds)."""
        remaining = response.headers.get("x-ratelimit-remaining")
        if remaining is None:
            return
        try:
            if int(float(remaining)) > 0:
                return
        except ValueError:
            return
        reset = parse_reset(response.headers.get("x-ratelimit-reset"))
        self.pacer.hold_all(HOUR if reset is None else reset)

    def _api_error(
        self, response: httpx.Response, method: str, path: str, where: str, query: Mapping[str, Any]
    ) -> GreenLakeError:
        error = super()._api_error(response, method, path, where, query)
        if response.status_code != 400 or not isinstance(error, BadRequestError):
            return error
        parameter = _unknown_parameter(error)
        if parameter is None:
            return error
        sent = ", ".join(sorted(query))
        return UnknownQueryParameterError(
            f"Aruba Central refused the query parameter {parameter!r} on {method} {path} (400 Unknown query "
            f"parameter): the network-monitoring API accepts only the parameters it defines, so this is a "
            f"bug in GLP Sync's Central client or a filter this endpoint does not support "
            f"(parameters sent: {sent}; debugId={error.debug_id})",
            parameter=parameter,
            status_code=400,
            method=method,
            path=path,
            envelope=ErrorEnvelope.from_response(response),
        )

    # --- lists --------------------------------------------------------------------------------------

    def iter_pages(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        page_size: int | None = None,
        on_page: OnPage | None = None,
        id_key: str = "id",
    ) -> PageNumberIterator:
        """Every page of a `limit`/`next` listing, checked for completeness; then `.result`."""
        return PageNumberIterator(
            self._fetcher(path),
            path=path,
            params=params,
            page_size=page_size or self.config.page_size,
            max_reconcile_attempts=self.config.max_reconcile_attempts,
            on_page=on_page,
            on_reconcile=self._on_reconcile,
            id_key=id_key,
            service=self.service,
        )

    def list_devices(self, filter: str | None = None, *, on_page: OnPage | None = None) -> PageNumberIterator:
        """`GET /network-monitoring/v1/devices`: every device (APs, switches, gateways), generic fields."""
        return self.iter_pages(NEW_DEVICES_PATH, params={"filter": filter}, on_page=on_page)

    def list_aps(self, filter: str | None = None, *, on_page: OnPage | None = None) -> PageNumberIterator:
        return self.iter_pages(NEW_APS_PATH, params={"filter": filter}, on_page=on_page)

    def list_switches(
        self, filter: str | None = None, *, on_page: OnPage | None = None
    ) -> PageNumberIterator:
        return self.iter_pages(NEW_SWITCHES_PATH, params={"filter": filter}, on_page=on_page)

    def list_gateways(
        self, filter: str | None = None, *, on_page: OnPage | None = None
    ) -> PageNumberIterator:
        return self.iter_pages(NEW_GATEWAYS_PATH, params={"filter": filter}, on_page=on_page)

    def list_clients(
        self, filter: str | None = None, *, on_page: OnPage | None = None, **scope: str
    ) -> PageNumberIterator:
        """`GET /network-monitoring/v1/clients`; `filter` defaults to ARUBA_CLIENTS_FILTER (without one the
        API lists connected clients only). `scope`: `site_id=`, `serial_number=`, `start_at=`, ... (sent
        kebab-case, as the API names them)."""
        params: dict[str, Any] = {"filter": filter if filter is not None else self.config.clients_filter}
        params.update({name.replace("_", "-"): value for name, value in scope.items()})
        return self.iter_pages(NEW_CLIENTS_PATH, params=params, on_page=on_page)


def _unknown_parameter(error: BadRequestError) -> str | None:
    """The parameter a New Central 400 refused as unknown, from its issues or its message."""
    for issue in error.issues:
        description = str(issue.get("description") or "")
        if "unknown query parameter" in description.lower() and issue.get("subject"):
            return str(issue["subject"])
    match = _UNKNOWN_PARAMETER.search(error.server_message or "")
    return match.group(1) if match else None


class ClassicCentralClient(_CentralBase):
    """Classic Central (the API gateway's `/monitoring/...`). Thread-safe; a context manager."""

    service = "Aruba Central Classic"
    unauthorized_hint = (
        "check that the application in ARUBA_CLASSIC_CLIENT_ID belongs to this cluster's API gateway "
        "(ARUBA_CLASSIC_BASE_URL)"
    )
    echoed_params = ("limit", "offset", "client_type", "client_status", "timerange")
    config: ClassicCentralConfig
    mode = "classic"

    def __init__(
        self,
        config: ClassicCentralConfig,
        *,
        token_store: TokenStore | None = None,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        """`token_store`: where the rotated pair is kept (`DatabaseTokenStore` from `from_settings`); by
        default the process's memory, which loses a rotation when the process ends."""
        self.config = config
        super().__init__(
            base_url=config.base_url,
            request_timeout_seconds=config.request_timeout_seconds,
            user_agent=config.user_agent,
            policy=_retry_policy(config),
            breaker_failures=config.breaker_failures,
            breaker_reset_seconds=config.breaker_reset_seconds,
            http_client=http_client,
            sleep=sleep,
            clock=clock,
            rng=rng,
        )
        install_log_filter()
        self.token_store = token_store or MemoryTokenStore()
        self.tokens: RefreshTokenManager = RefreshTokenManager(
            self._http,
            token_url=config.token_url,
            client_id=config.client_id,
            client_secret=config.client_secret,
            refresh_token=config.refresh_token,
            access_token=config.access_token,
            store=self.token_store,
            policy=self._policy,
            stats=self._stats,
            clock=clock,
            sleep=sleep,
            rng=self._rng,
        )
        self.pacer = Pacer(
            {},
            default_rpm=None,
            enabled=config.pacing,
            clock=clock,
            sleep=sleep,
            shared_limits=[
                SharedLimit("Classic Central calls per second", config.requests_per_second, 1.0),
                SharedLimit(
                    "Classic Central calls per day",
                    config.requests_per_day,
                    DAY,
                    max_wait_seconds=config.daily_quota_max_wait_seconds,
                ),
            ],
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, *, url: str | None = None, **kwargs: Any
    ) -> ClassicCentralClient:
        """From ARUBA_CLASSIC_* (and the GLP_* retry knobs), the token pair kept in `glp.central_tokens` of
        the database at `url` (default: DATABASE_URL or the embedded PostgreSQL)."""
        from glp_pipeline.database import database_url

        overrides = {k: kwargs.pop(k) for k in list(kwargs) if k in ClassicCentralConfig.__dataclass_fields__}
        config = ClassicCentralConfig.from_settings(settings, **overrides)
        if "token_store" not in kwargs:
            kwargs["token_store"] = DatabaseTokenStore(
                url or database_url(settings), base_url=config.base_url, client_id=config.client_id
            )
        return cls(config, **kwargs)

    def __enter__(self) -> ClassicCentralClient:
        return self

    # --- hooks --------------------------------------------------------------------------------------

    def _observe(self, key: str, response: httpx.Response) -> None:
        """`X-RateLimit-Remaining-second: 0` holds every path a second (the window is one second)."""
        if _header_int(response.headers, "x-ratelimit-remaining-second") == 0:
            self.pacer.hold_all(1.0)

    def _api_error(
        self, response: httpx.Response, method: str, path: str, where: str, query: Mapping[str, Any]
    ) -> GreenLakeError:
        status = response.status_code
        if status == 429 and _header_int(response.headers, "x-ratelimit-remaining-day") == 0:
            resumes = _next_utc_midnight()
            return PacingBudgetError(
                f"{self.service}'s daily API allowance is spent (X-RateLimit-Remaining-day: 0, limit "
                f"{response.headers.get('x-ratelimit-limit-day', '?')}) on {method} {path}; it resets at "
                f"{resumes.isoformat(timespec='minutes')} (00:00 UTC). Nothing from this run was loaded.",
                resumes_at=resumes,
            )
        error = super()._api_error(response, method, path, where, query)
        # Kong's 429 says nothing about when; with the per-second window spent, a second is enough.
        if (
            isinstance(error, RateLimitedError)
            and error.retry_after is None
            and _header_int(response.headers, "x-ratelimit-remaining-second") == 0
        ):
            error.retry_after = 1.0
        if status in (400, 422) and isinstance(error, BadRequestError) and not error.server_message:
            description = _description(response)
            if description:
                request_bits = ", ".join(f"{k} {query[k]!r}" for k in self.echoed_params if k in query)
                suffix = f" ({request_bits})" if request_bits else ""
                return BadRequestError(
                    f"{self.service} rejected the request {method} {path}: "
                    f"{self.tokens.redact(description)}{suffix}",
                    status_code=status,
                    method=method,
                    path=path,
                    envelope=ErrorEnvelope(message=description),
                )
        return error

    # --- lists --------------------------------------------------------------------------------------

    def iter_pages(
        self,
        path: str,
        *,
        items_key: str,
        id_key: str = "serial",
        params: Mapping[str, Any] | None = None,
        page_size: int | None = None,
        on_page: OnPage | None = None,
    ) -> PageIterator:
        """Every page of an offset listing (`calculate_total=true`), checked for completeness."""
        return PageIterator(
            self._fetcher(path),
            path=path,
            params={"calculate_total": "true", **(params or {})},
            page_size=page_size or self.config.page_size,
            max_reconcile_attempts=self.config.max_reconcile_attempts,
            on_page=on_page,
            on_reconcile=self._on_reconcile,
            id_key=id_key,
            items_key=items_key,
            service=self.service,
        )

    def list_aps(self, *, on_page: OnPage | None = None) -> PageIterator:
        """`GET /monitoring/v2/aps` (envelope `aps`, id `serial`)."""
        return self.iter_pages(CLASSIC_APS_PATH, items_key="aps", on_page=on_page)

    def list_switches(self, *, on_page: OnPage | None = None) -> PageIterator:
        """`GET /monitoring/v1/switches` with `show_resource_details=true` (power, temperature, ...)."""
        return self.iter_pages(
            CLASSIC_SWITCHES_PATH,
            items_key="switches",
            params={"show_resource_details": "true"},
            on_page=on_page,
        )

    def list_gateways(self, *, on_page: OnPage | None = None) -> PageIterator:
        """`GET /monitoring/v1/gateways` (envelope `gateways`, id `serial`)."""
        return self.iter_pages(CLASSIC_GATEWAYS_PATH, items_key="gateways", on_page=on_page)

    def list_clients(
        self,
        client_type: str,
        client_status: str = "CONNECTED",
        *,
        timerange: str | None = None,
        on_page: OnPage | None = None,
    ) -> PageIterator:
        """`GET /monitoring/v2/clients` of one kind (`WIRELESS`/`WIRED`, `CONNECTED`/`FAILED_TO_CONNECT`);
        `timerange` defaults to ARUBA_CLIENTS_TIMERANGE. Keyed on `macaddr`."""
        params = {
            "timerange": timerange or self.config.clients_timerange,
            "client_type": client_type,
            "client_status": client_status,
        }
        return self.iter_pages(
            CLASSIC_CLIENTS_PATH, items_key="clients", id_key="macaddr", params=params, on_page=on_page
        )


def _header_int(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if math.isfinite(number) else None


def _description(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and body.get("description"):
        return str(body["description"])
    return None


def _next_utc_midnight() -> datetime:
    now = datetime.now(UTC)
    return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def central_client(
    settings: Settings, *, url: str | None = None, **kwargs: Any
) -> CentralClient | ClassicCentralClient:
    """The client of the configured mode (ARUBA_MODE, or inferred). `url`: the database that keeps Classic's
    token pair. Raises `CentralNotConfiguredError` when Aruba Central is not (completely) configured."""
    mode = settings.aruba_effective_mode
    if mode is None:
        raise CentralNotConfiguredError(
            "Aruba Central is not configured: set ARUBA_CLIENT_ID, ARUBA_CLIENT_SECRET and ARUBA_BASE_URL "
            "(New Central), or ARUBA_CLASSIC_BASE_URL, ARUBA_CLASSIC_CLIENT_ID, ARUBA_CLASSIC_CLIENT_SECRET "
            "and ARUBA_CLASSIC_REFRESH_TOKEN (Classic)"
        )
    if mode == "classic":
        return ClassicCentralClient.from_settings(settings, url=url, **kwargs)
    return CentralClient.from_settings(settings, **kwargs)
