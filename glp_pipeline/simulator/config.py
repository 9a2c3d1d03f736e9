"""Settings of the GreenLake simulator.

Two models: `SimulatorConfig` fixes the inventory and the server's contract (limits, budgets, credentials)
when the simulator is built; `FaultConfig` holds the misbehaviour knobs, which tests flip while the server
runs (`sim.faults.error_rate = 0.5`). Every field carries a description so that `glp simulate --help` can show
it.
Defaults follow `greenlake-api.md`; values the docs disagree on (subscription page maximum, over-limit
handling, `select` and `id`, the write budgets, the status of a mixed-operation PATCH) are settings, not
guesses baked into code. Where the docs disagree the simulator defaults to the 2026 OpenAPI value (PATCH
40/min, POST 50/min) and the lower published value is one setting away.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


def workspace_id_for_seed(seed: int) -> str:
    """The default workspace id: 32 lower-case hex characters, stable for a seed."""
    return hashlib.sha256(f"glp-sim-workspace:{seed}".encode()).hexdigest()[:32]


def today_utc() -> datetime:
    """The current UTC day at 00:00: the default anchor of generated timestamps."""
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


class FaultConfig(BaseModel):
    """Misbehaviour injected into API requests; all off by default and settable at runtime.

    Faults apply to the API endpoints, never to the token endpoints (except `token_error_rate`). Random faults
    draw from a `random.Random` seeded from the simulator seed, so a test sees the same sequence every run.
    """

    model_config = ConfigDict(validate_assignment=True)

    error_rate: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Probability that an API request fails with a 5xx (500 with GLP retry_info, 502, 503).",
    )
    error_statuses: tuple[int, ...] = Field(
        default=(500, 502, 503), description="Statuses `error_rate` picks from (uniformly)."
    )
    retry_info_seconds: int = Field(
        default=1, ge=0, description="`retryAfterSeconds` in the `hpe.greenlake.retry_info` detail of a 500."
    )
    error_burst: int = Field(default=0, ge=0, description="The next N API requests get 503, then normal.")
    rate_limit_burst: int = Field(
        default=0, ge=0, description="The next N API requests get 429, then normal."
    )
    latency_ms: int = Field(default=0, ge=0, description="Delay added before every API response, in ms.")
    token_ttl_override: float | None = Field(
        default=None,
        gt=0,
        description="Tokens stop working this many seconds after issue, whatever `expires_in` advertised. "
        "Checked at use time, so it also shortens tokens already issued.",
    )
    drop_rate: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Probability that the connection is closed without a response.",
    )
    truncate_rate: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Probability that a response announces a Content-Length, sends half the body and closes.",
    )
    omit_total: bool = Field(default=False, description="List envelopes leave out `total`.")
    token_error_rate: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Probability that a token request fails with 503 `temporarily_unavailable`.",
    )
    unavailable_retry_after: int | None = Field(
        default=None,
        ge=0,
        description="When set, injected 503 answers carry `Retry-After` with this many seconds.",
    )
    accept_then_fail_burst: int = Field(
        default=0,
        ge=0,
        description="The next N write requests (POST/PATCH) are carried out, then answered 500: the "
        "client cannot know that its write was accepted.",
    )
    async_timeout_rate: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Probability that a new async operation ends TIMEDOUT (nothing applied).",
    )
    async_timeout_burst: int = Field(
        default=0, ge=0, description="The next N async operations end TIMEDOUT (nothing applied)."
    )


class SimulatorConfig(BaseModel):
    """What the simulated GreenLake workspace holds and how strictly its API behaves.

    Read when the simulator is built (inventory, credentials, workspace) and, for the limits and budgets,
    on every request, so a test may change a limit on a running simulator.
    """

    model_config = ConfigDict(validate_assignment=True)

    devices: int = Field(default=1000, ge=0, description="Devices generated at start.")
    subscriptions: int = Field(default=200, ge=0, description="Subscriptions generated at start.")
    seed: int = Field(default=42, description="Seed of the data generator, mutations and faults.")
    now: datetime = Field(
        default_factory=today_utc,
        description="Anchor of generated timestamps (default: today 00:00 UTC). Same seed + now = same data.",
    )
    client_id: str = Field(default="glp-sim-client", min_length=1, description="Accepted OAuth2 client id.")
    client_secret: str = Field(default="glp-sim-secret", min_length=1, description="Accepted client secret.")
    workspace_id: str = Field(
        default_factory=lambda data: workspace_id_for_seed(data.get("seed", 42)),
        pattern=r"^[0-9a-f]{32}$",
        description="Workspace id, 32 lower-case hex characters (default: derived from the seed).",
    )
    token_ttl_seconds: int = Field(
        default=900, ge=1, description="`expires_in` of issued tokens (GLP: 15 min)."
    )

    devices_max_limit: int = Field(default=2000, ge=1, description="Max `limit` of GET /devices/v1/devices.")
    devices_default_limit: int = Field(
        default=2000, ge=1, description="`limit` when the v1 device list omits it."
    )
    devices_v2_max_limit: int = Field(
        default=500, ge=1, description="Max `limit` of GET /devices/v2beta1/devices."
    )
    devices_v2_default_limit: int = Field(
        default=100, ge=1, description="Default `limit` of the v2beta1 list."
    )
    subscriptions_max_limit: int = Field(
        default=50,
        ge=1,
        description="Max `limit` of the subscription list (50 until 2026-07, 200 since 2026-08).",
    )
    subscriptions_default_limit: int = Field(default=50, ge=1, description="Default subscription `limit`.")
    limit_out_of_range: Literal["reject", "cap"] = Field(
        default="reject",
        description="`limit` of 0 or above the maximum: 'reject' answers 400, 'cap' silently clamps it.",
    )
    page_cap: int | None = Field(
        default=None,
        ge=1,
        description="When set, every list page has at most this many items even for a legal larger `limit`.",
    )
    select_keeps_id: bool = Field(
        default=True, description="`select` always returns `id` and `type` besides the selected properties."
    )

    rate_limits: bool = Field(default=True, description="Enforce the per-endpoint, per-workspace budgets.")
    rate_limit_window_seconds: float = Field(default=60.0, gt=0, description="Length of the sliding window.")
    devices_list_rpm: int = Field(default=160, ge=1, description="GET /devices/v1/devices per window.")
    device_rpm: int = Field(default=40, ge=1, description="GET /devices/v1/devices/{id} per window.")
    devices_v2_rpm: int = Field(
        default=300, ge=1, description="GET /devices/v2beta1/devices[/{id}] per window."
    )
    subscriptions_list_rpm: int = Field(default=60, ge=1, description="GET /subscriptions/v1/subscriptions.")
    subscription_rpm: int = Field(default=20, ge=1, description="GET /subscriptions/v1/subscriptions/{id}.")
    async_ops_rpm: int = Field(default=90, ge=1, description="GET /devices/v1/async-operations/{id}.")
    devices_patch_rpm: int = Field(
        default=40, ge=1, description="PATCH /devices/v1/devices (2026 spec 40; index page and changelog 20)."
    )
    devices_v2_patch_rpm: int = Field(
        default=40, ge=1, description="PATCH /devices/v2beta1/devices (2026 spec 40; scraped page 20)."
    )
    devices_post_rpm: int = Field(
        default=50, ge=1, description="POST /devices/v1/devices (2026 spec 50; index page 25)."
    )
    devices_v2_post_rpm: int = Field(
        default=50, ge=1, description="POST /devices/v2beta1/devices (2026 spec 50; scraped page 25)."
    )
    subscriptions_async_ops_rpm: int = Field(
        default=30, ge=1, description="GET /subscriptions/v1/async-operations/{id}."
    )
    subscriptions_patch_rpm: int = Field(
        default=5, ge=1, description="PATCH /subscriptions/v1/subscriptions (tags)."
    )
    service_catalog_rpm: int = Field(
        default=60, ge=1, description="GET /service-catalog/v1/... (not published; an assumption)."
    )
    token_rpm: int = Field(default=100, ge=1, description="Token requests per window.")
    retry_after: bool = Field(default=False, description="429 responses carry `Retry-After` (seconds).")
    rate_limit_headers: bool = Field(
        default=True, description="Send `ratelimit-*` and `X-RateLimit-*` headers on rate-limited endpoints."
    )
    patch_v1_max_ids: int = Field(default=5, ge=1, description="Device ids per PATCH /devices/v1/devices.")
    patch_v2_max_ids: int = Field(
        default=25, ge=1, description="Device ids per PATCH /devices/v2beta1/devices."
    )
    add_max_devices: int = Field(
        default=5, ge=1, description="Devices per POST /devices/v1/devices (network + compute + storage)."
    )
    subscription_patch_max_ids: int = Field(
        default=25, ge=1, description="Subscription ids per PATCH /subscriptions/v1/subscriptions [inf]."
    )
    tags_max_per_device: int = Field(
        default=25, ge=1, description="Tags a device may carry after a tag update (JUL enforces 25)."
    )
    tags_max_per_request: int = Field(
        default=50, ge=1, description="Tags in one request object (schema: at most 50)."
    )
    operation_conflict_status: Literal[400, 422] = Field(
        default=400,
        description="Status of a PATCH mixing operation classes (the docs say 400/422 without choosing).",
    )
    wrong_content_type_status: Literal[415, 400] = Field(
        default=415, description="Status of a PATCH that is not `application/merge-patch+json`."
    )
    async_polls_to_finish: int | None = Field(
        default=3,
        ge=0,
        description="An async operation is terminal at its Nth GET (INITIALIZED, RUNNING..., then done); "
        "0 finishes it at submit; None leaves it to `async_seconds_to_finish`.",
    )
    async_seconds_to_finish: float | None = Field(
        default=10.0,
        ge=0,
        description="An async operation is also terminal this many seconds after submit, polled or not; "
        "None: only polls finish it.",
    )
    async_poll_interval_seconds: int = Field(
        default=2, ge=0, description="`suggestedPollingIntervalSeconds` of async operations."
    )
    async_timeout_minutes: int = Field(default=2, ge=1, description="`timeoutMinutes` of async operations.")
    async_retention_seconds: float = Field(
        default=86_400.0, gt=0, description="Async operations answer 404 this long after they ended (24 h)."
    )
    request_log_size: int = Field(
        default=100_000, ge=0, description="Newest request records kept in `sim.request_log`."
    )
    faults: FaultConfig = Field(default_factory=FaultConfig, description="Initial fault settings.")

    @field_validator("now")
    @classmethod
    def _utc_millis(cls, value: datetime) -> datetime:
        """Generated timestamps carry milliseconds and Z: keep the anchor on that grid."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(microsecond=value.microsecond // 1000 * 1000)

    @field_validator("workspace_id", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value
