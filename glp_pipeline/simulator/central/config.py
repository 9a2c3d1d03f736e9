"""Settings of the Aruba Central simulator (greenlake-api.md E).

One model, `CentralSimulatorConfig`: the inventory (which GreenLake inventory it overlaps, how many devices
only Central knows, sites, clients), the credentials of both token flows, and the contract of both API
generations (page sizes, rate limits). The fault knobs are the GreenLake simulator's `FaultConfig`, so a
test drives both simulators the same way (`sim.faults.error_rate = 0.5`).

Values the sources disagree on or do not give are settings: the format of New Central's `X-RateLimit-Reset`
(the spec says RFC 3339, a widely used client parses an integer), New Central's hourly budget (not
published), the default client filter (when it applies).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..config import FaultConfig, today_utc, workspace_id_for_seed


class CentralSimulatorConfig(BaseModel):
    """What the simulated Central account holds and how strictly both API generations behave.

    The inventory is fixed when the simulator is built; limits, budgets and header formats are read on every
    request, so a test may change them on a running simulator (`sim.config.new_rate_limit_per_hour = 3`).
    """

    model_config = ConfigDict(validate_assignment=True)

    seed: int = Field(default=42, description="Seed of the data generator and faults (and of the GLP side).")
    now: datetime = Field(
        default_factory=today_utc,
        description="Anchor of generated timestamps (default: today 00:00 UTC); same seed + now = same data.",
    )
    glp_devices: int = Field(
        default=1000,
        ge=0,
        description="Devices of the GreenLake inventory whose network gear Central shares.",
    )
    glp_subscriptions: int = Field(
        default=200, ge=0, description="Subscriptions of that GreenLake inventory (they shape its devices)."
    )
    glp_only_share: float = Field(
        default=0.1,
        ge=0.0,
        le=1.0,
        description="Share of GreenLake's Aruba network devices that are not in Central (besides the "
        "non-Aruba discovered ones, which never are).",
    )
    mismatch_every: int = Field(
        default=12,
        ge=2,
        description="Every Nth device in both has a different model or name in Central (alternating).",
    )
    central_only_devices: int = Field(default=50, ge=0, description="Devices only Central knows.")
    sites: int = Field(default=30, ge=1, description="Central sites devices are placed in.")
    clients: int = Field(default=5000, ge=0, description="Clients, wireless on APs and wired on switches.")
    wired_share: float = Field(default=0.2, ge=0.0, le=1.0, description="Share of clients that are wired.")

    # --- New Central (client credentials against the GreenLake SSO issuer) -----------------------------
    client_id: str = Field(default="central-sim-client", min_length=1, description="New Central client id.")
    client_secret: str = Field(
        default="central-sim-secret", min_length=1, description="New Central client secret."
    )
    token_ttl_seconds: int = Field(
        default=7200, ge=1, description="`expires_in` of New Central tokens (2 h)."
    )
    devices_default_limit: int = Field(default=1000, ge=1, description="Default `limit` of /devices.")
    aps_default_limit: int = Field(default=20, ge=1, description="Default `limit` of /aps.")
    switches_default_limit: int = Field(default=1000, ge=1, description="Default `limit` of /switches.")
    gateways_default_limit: int = Field(default=20, ge=1, description="Default `limit` of /gateways.")
    clients_default_limit: int = Field(default=100, ge=1, description="Default `limit` of /clients.")
    max_limit: int = Field(default=1000, ge=1, description="Largest `limit` of every list (documented 1000).")
    page_cap: int | None = Field(
        default=None,
        ge=1,
        description="When set, pages hold at most this many items whatever `limit` says (the switch schema "
        "has maxItems=100); `next` stays right, a client counting pages by `total/limit` does not.",
    )
    clients_default_filter: str | None = Field(
        default="status eq 'Connected'",
        description="Filter /clients applies when the request has no `filter` (the documented default); "
        "None: every client.",
    )
    filter_max_length: int = Field(default=256, ge=1, description="Longest accepted `filter`.")
    new_rate_limit_per_hour: int = Field(
        default=5000, ge=1, description="New Central requests per hour (the number is not published)."
    )
    rate_limit_reset_format: Literal["rfc3339", "seconds", "epoch"] = Field(
        default="rfc3339",
        description="`X-RateLimit-Reset` as an RFC 3339 time (the spec), seconds until reset (what a "
        "client parsing an integer expects), or epoch seconds.",
    )

    # --- Classic Central (API gateway, refresh tokens that rotate) --------------------------------------
    classic_client_id: str = Field(
        default="classic-sim-client", min_length=1, description="Classic API gateway client id."
    )
    classic_client_secret: str = Field(
        default="classic-sim-secret", min_length=1, description="Classic API gateway client secret."
    )
    classic_refresh_token: str = Field(
        default="classic-sim-refresh-token",
        min_length=1,
        description="The refresh token valid at start; each refresh replaces it (the old one stops working).",
    )
    classic_token_ttl_seconds: int = Field(
        default=7200, ge=1, description="`expires_in` of Classic access tokens (2 h)."
    )
    classic_default_limit: int = Field(default=100, ge=1, description="Default `limit` of Classic lists.")
    classic_max_limit: int = Field(default=1000, ge=1, description="Largest `limit` of Classic lists.")
    classic_per_second: int = Field(default=7, ge=1, description="Classic calls per second.")
    classic_per_day: int = Field(
        default=5000, ge=1, description="Classic calls per UTC day (base allowance; resets at 00:00 UTC)."
    )

    rate_limits: bool = Field(default=True, description="Enforce both generations' rate limits.")
    retry_after: bool = Field(default=False, description="429 responses carry `Retry-After` (seconds).")
    workspace_id: str = Field(
        default_factory=lambda data: workspace_id_for_seed(data.get("seed", 42)),
        pattern=r"^[0-9a-f]{32}$",
        description="Workspace id of the overlapping GreenLake inventory (default: as the GreenLake "
        "simulator derives it from the seed).",
    )
    request_log_size: int = Field(
        default=100_000, ge=0, description="Newest request records kept in `sim.request_log`."
    )
    faults: FaultConfig = Field(default_factory=FaultConfig, description="Initial fault settings.")

    @field_validator("now")
    @classmethod
    def _utc_millis(cls, value: datetime) -> datetime:
        """Same grid as the GreenLake simulator's anchor, so both generate from the same instant."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
