"""`ClientConfig`: everything a `GreenLakeClient` needs, with the defaults of `glp_pipeline.settings`.

A plain frozen dataclass rather than the Settings object itself, so that tests, benchmarks and the simulator
demo can build a client without touching the environment. `from_settings` maps one onto the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import SecretStr

from glp_pipeline.greenlake.auth import TokenAuthMethod
from glp_pipeline.greenlake.errors import AuthenticationError
from glp_pipeline.greenlake.pacing import DEFAULT_BUDGETS, DEFAULT_RPM

DEVICES_V2_PATH = "/devices/v2beta1/devices"
ASYNC_OPERATIONS_PATH = "/devices/v1/async-operations"

if TYPE_CHECKING:
    from glp_pipeline.settings import Settings

DEVICES_PATH = "/devices/v1/devices"
SUBSCRIPTIONS_PATH = "/subscriptions/v1/subscriptions"


@dataclass(frozen=True, kw_only=True)
class ClientConfig:
    """Connection, credentials and the pacing/retry/breaker/paging knobs of one GreenLake client."""

    base_url: str
    token_url: str
    client_id: str
    client_secret: SecretStr  # a plain str is accepted and wrapped, so it never shows in a repr
    token_auth_method: TokenAuthMethod = "form"  # noqa: S105 (a method name, not a password)
    token_scope: str | None = None
    request_timeout_seconds: float = 60.0
    # Retries (attempts include the first try).
    max_attempts: int = 6
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    max_retry_after_seconds: float = 120.0
    # Circuit breaker.
    breaker_failures: int = 5
    breaker_reset_seconds: float = 60.0
    # Pacing: requests per minute keyed by "METHOD /path/template"; these override DEFAULT_BUDGETS.
    pacing: bool = True
    endpoint_rpm: Mapping[str, int] = field(default_factory=dict)
    default_rpm: int = DEFAULT_RPM
    # Write budgets (requests per minute, v1 and v2beta1 alike). The 2026 spec says PATCH 40 / POST 50, the
    # index page and the changelog 20 / 25: the lower published value is the default.
    devices_patch_rpm: int = 20
    devices_post_rpm: int = 25
    async_operations_rpm: int = 90
    # Polling async operations: GreenLake's suggestedPollingIntervalSeconds, clamped to this range.
    async_poll_min_seconds: float = 1.0
    async_poll_max_seconds: float = 30.0
    async_poll_default_seconds: float = 2.0  # when an operation suggests nothing
    async_timeout_seconds: float = 300.0  # how long `wait_for_operation` waits by default
    # Paging.
    devices_page_size: int = 2000
    subscriptions_page_size: int = 50
    max_reconcile_attempts: int = 3  # full re-reads from offset 0 after the first pass
    verify_page_boundaries: bool = True  # overlap reads by one item to see shifts (paging.py)
    user_agent: str = "glp-sync"

    def __post_init__(self) -> None:
        if not isinstance(self.client_secret, SecretStr):
            object.__setattr__(self, "client_secret", SecretStr(str(self.client_secret)))
        if not self.client_id or not self.client_secret.get_secret_value():
            raise AuthenticationError(
                "GreenLake credentials are not configured: set GLP_CLIENT_ID and GLP_CLIENT_SECRET"
            )
        if self.token_auth_method not in ("form", "basic"):
            raise ValueError(f"token_auth_method must be 'form' or 'basic', not {self.token_auth_method!r}")
        if self.max_attempts < 1 or self.breaker_failures < 1 or self.max_reconcile_attempts < 0:
            raise ValueError("max_attempts and breaker_failures must be ≥ 1, max_reconcile_attempts ≥ 0")
        if min(self.devices_patch_rpm, self.devices_post_rpm, self.async_operations_rpm) < 1:
            raise ValueError("devices_patch_rpm, devices_post_rpm and async_operations_rpm must be ≥ 1")
        if not 0 <= self.async_poll_min_seconds <= self.async_poll_max_seconds:
            raise ValueError("async_poll_min_seconds must be ≥ 0 and ≤ async_poll_max_seconds")

    def budgets(self) -> dict[str, int]:
        """The effective per-endpoint budgets: the published defaults, the write budgets, the overrides."""
        writes = {
            f"PATCH {DEVICES_PATH}": self.devices_patch_rpm,
            f"PATCH {DEVICES_V2_PATH}": self.devices_patch_rpm,
            f"POST {DEVICES_PATH}": self.devices_post_rpm,
            f"POST {DEVICES_V2_PATH}": self.devices_post_rpm,
            f"GET {ASYNC_OPERATIONS_PATH}/{{id}}": self.async_operations_rpm,
        }
        return {**DEFAULT_BUDGETS, **writes, **self.endpoint_rpm}

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> ClientConfig:
        """Build from `glp_pipeline.settings.Settings`; keyword overrides win (e.g. `pacing=False`)."""
        values: dict[str, object] = {
            "base_url": settings.glp_base_url,
            "token_url": settings.glp_token_url,
            "client_id": settings.glp_client_id or "",
            "client_secret": settings.glp_client_secret or SecretStr(""),
            "request_timeout_seconds": settings.glp_request_timeout_seconds,
            "max_attempts": settings.glp_max_attempts,
            "backoff_initial_seconds": settings.glp_backoff_initial_seconds,
            "backoff_max_seconds": settings.glp_backoff_max_seconds,
            "breaker_failures": settings.glp_breaker_failures,
            "breaker_reset_seconds": settings.glp_breaker_reset_seconds,
            "pacing": settings.glp_pacing,
            "endpoint_rpm": {
                f"GET {DEVICES_PATH}": settings.glp_devices_rpm,
                f"GET {DEVICES_PATH}/{{id}}": settings.glp_device_rpm,
                f"GET {SUBSCRIPTIONS_PATH}": settings.glp_subscriptions_rpm,
                f"GET {SUBSCRIPTIONS_PATH}/{{id}}": settings.glp_subscription_rpm,
            },
            "devices_patch_rpm": settings.glp_devices_patch_rpm,
            "devices_post_rpm": settings.glp_devices_post_rpm,
            "async_operations_rpm": settings.glp_async_rpm,
            "async_timeout_seconds": settings.glp_async_timeout_seconds,
            "devices_page_size": settings.glp_devices_page_size,
            "subscriptions_page_size": settings.glp_subscriptions_page_size,
            "max_reconcile_attempts": settings.glp_max_reconcile_attempts,
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
