"""Configuration of the two Aruba Central clients, built from `Settings` or directly (tests, benchmarks).

Plain frozen dataclasses, as `glp_pipeline.greenlake.ClientConfig`, so a client can be built without the
environment. Retries, timeouts and the circuit breaker reuse the GLP_* knobs of the GreenLake client (one
policy for how GLP Sync treats a flaky API); the budgets and page sizes are Central's own ARUBA_* settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import SecretStr

from glp_pipeline.central.errors import CentralNotConfiguredError

if TYPE_CHECKING:
    from glp_pipeline.settings import Settings

CentralMode = Literal["new", "classic"]
TIMERANGES = ("3H", "1D", "1W", "1M", "3M")

NEW_PREFIX = "/network-monitoring/v1"
NEW_DEVICES_PATH = f"{NEW_PREFIX}/devices"
NEW_APS_PATH = f"{NEW_PREFIX}/aps"
NEW_SWITCHES_PATH = f"{NEW_PREFIX}/switches"
NEW_GATEWAYS_PATH = f"{NEW_PREFIX}/gateways"
NEW_CLIENTS_PATH = f"{NEW_PREFIX}/clients"

CLASSIC_TOKEN_PATH = "/oauth2/token"  # noqa: S105 - a path
CLASSIC_APS_PATH = "/monitoring/v2/aps"
CLASSIC_SWITCHES_PATH = "/monitoring/v1/switches"
CLASSIC_GATEWAYS_PATH = "/monitoring/v1/gateways"
CLASSIC_CLIENTS_PATH = "/monitoring/v2/clients"

DEFAULT_TOKEN_TTL_SECONDS = 7200  # both generations issue 2 h access tokens (reference E)


def _secret(value: Any) -> SecretStr:
    return value if isinstance(value, SecretStr) else SecretStr("" if value is None else str(value))


@dataclass(frozen=True, kw_only=True)
class _Common:
    """What both clients share: HTTP, retries, breaker, paging."""

    base_url: str
    request_timeout_seconds: float = 60.0
    max_attempts: int = 6
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    max_retry_after_seconds: float = 120.0
    breaker_failures: int = 5
    breaker_reset_seconds: float = 60.0
    pacing: bool = True
    page_size: int = 1000
    max_reconcile_attempts: int = 3
    user_agent: str = "glp-sync"

    def _check(self) -> None:
        if self.max_attempts < 1 or self.breaker_failures < 1 or self.max_reconcile_attempts < 0:
            raise ValueError("max_attempts and breaker_failures must be ≥ 1, max_reconcile_attempts ≥ 0")
        if not 1 <= self.page_size <= 1000:
            raise ValueError("page_size must be within 1..1000 (Central's documented maximum)")


@dataclass(frozen=True, kw_only=True)
class CentralConfig(_Common):
    """New Central: client credentials from a GreenLake personal API client scoped to the Central service."""

    token_url: str
    client_id: str
    client_secret: SecretStr
    requests_per_hour: int = 5000
    max_budget_wait_seconds: float = 300.0  # a spent hourly window further off than this fails the sync
    clients_filter: str | None = "status in ('Connected', 'Failed')"

    def __post_init__(self) -> None:
        object.__setattr__(self, "client_secret", _secret(self.client_secret))
        missing = [
            name
            for name, value in (
                ("ARUBA_BASE_URL", self.base_url),
                ("ARUBA_CLIENT_ID", self.client_id),
                ("ARUBA_CLIENT_SECRET", self.client_secret.get_secret_value()),
            )
            if not value
        ]
        if missing:
            raise CentralNotConfiguredError(f"New Central is not configured: set {', '.join(missing)}")
        if self.requests_per_hour < 1:
            raise ValueError("requests_per_hour must be ≥ 1")
        self._check()

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> CentralConfig:
        values: dict[str, Any] = {
            "base_url": settings.aruba_base_url or "",
            "token_url": settings.aruba_token_url,
            "client_id": settings.aruba_client_id or "",
            "client_secret": settings.aruba_client_secret,
            "requests_per_hour": settings.aruba_requests_per_hour,
            "clients_filter": settings.aruba_clients_filter,
            **_common_values(settings),
        }
        values.update(overrides)
        return cls(**values)


@dataclass(frozen=True, kw_only=True)
class ClassicCentralConfig(_Common):
    """Classic Central: an API gateway application and the refresh token to start its chain from."""

    client_id: str
    client_secret: SecretStr
    refresh_token: SecretStr
    access_token: SecretStr | None = None
    requests_per_second: int = 7
    requests_per_day: int = 5000
    clients_timerange: str = "3H"
    daily_quota_max_wait_seconds: float = 60.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "client_secret", _secret(self.client_secret))
        object.__setattr__(self, "refresh_token", _secret(self.refresh_token))
        if self.access_token is not None:
            object.__setattr__(self, "access_token", _secret(self.access_token))
        missing = [
            name
            for name, value in (
                ("ARUBA_CLASSIC_BASE_URL", self.base_url),
                ("ARUBA_CLASSIC_CLIENT_ID", self.client_id),
                ("ARUBA_CLASSIC_CLIENT_SECRET", self.client_secret.get_secret_value()),
                ("ARUBA_CLASSIC_REFRESH_TOKEN", self.refresh_token.get_secret_value()),
            )
            if not value
        ]
        if missing:
            raise CentralNotConfiguredError(f"Classic Central is not configured: set {', '.join(missing)}")
        if self.requests_per_second < 1 or self.requests_per_day < 1:
            raise ValueError("requests_per_second and requests_per_day must be ≥ 1")
        if self.clients_timerange not in TIMERANGES:
            raise ValueError(f"clients_timerange must be one of {', '.join(TIMERANGES)}")
        self._check()

    @property
    def token_url(self) -> str:
        return self.base_url.rstrip("/") + CLASSIC_TOKEN_PATH

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ClassicCentralConfig:
        values: dict[str, Any] = {
            "base_url": settings.aruba_classic_base_url or "",
            "client_id": settings.aruba_classic_client_id or "",
            "client_secret": settings.aruba_classic_client_secret,
            "refresh_token": settings.aruba_classic_refresh_token,
            "access_token": settings.aruba_classic_access_token,
            "requests_per_second": settings.aruba_classic_requests_per_second,
            "requests_per_day": settings.aruba_classic_requests_per_day,
            "clients_timerange": settings.aruba_clients_timerange,
            **_common_values(settings),
        }
        values.update(overrides)
        return cls(**values)


def _common_values(settings: Settings) -> dict[str, Any]:
    return {
        "request_timeout_seconds": settings.glp_request_timeout_seconds,
        "max_attempts": settings.glp_max_attempts,
        "backoff_initial_seconds": settings.glp_backoff_initial_seconds,
        "backoff_max_seconds": settings.glp_backoff_max_seconds,
        "breaker_failures": settings.glp_breaker_failures,
        "breaker_reset_seconds": settings.glp_breaker_reset_seconds,
        "pacing": settings.aruba_pacing,
        "page_size": settings.aruba_page_size,
        "max_reconcile_attempts": settings.glp_max_reconcile_attempts,
    }
