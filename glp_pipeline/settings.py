"""The one settings object of GLP Sync.

Every knob comes from the environment (or a local `.env` file, never committed). Secrets are `SecretStr`
so that they never show up in a `repr`, a log line or an error message. Read them with `get_settings()`,
which reads the environment once per process; tests build `Settings(...)` explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SSO_TOKEN_URL = "https://sso.common.cloud.hpe.com/as/token.oauth2"  # noqa: S105 - a URL
GLOBAL_BASE_URL = "https://global.api.greenlake.hpe.com"
MAX_HNSW_DIMENSIONS = 2000  # pgvector indexes `vector` columns of at most this many dimensions


def check_embedding_dimensions(dimensions: int) -> int:
    """The embedding length if pgvector's HNSW index holds it, else a ValueError saying what to choose."""
    if not 1 <= dimensions <= MAX_HNSW_DIMENSIONS:
        raise ValueError(
            f"GLP_EMBEDDING_DIMENSIONS={dimensions} cannot be indexed: pgvector's HNSW index takes vectors "
            f"of 1 to {MAX_HNSW_DIMENSIONS} dimensions. Choose a model (or a `dimensions` setting) within "
            "that, e.g. text-embedding-3-small at 1536, or text-embedding-3-large shortened to 1536."
        )
    return dimensions


def _default_home() -> Path:
    return platformdirs.user_data_path("glp-sync")


class Settings(BaseSettings):
    """Environment-driven configuration. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # --- GreenLake credentials and endpoints -------------------------------------------------------
    glp_client_id: str | None = Field(default=None, description="GreenLake personal API client id.")
    glp_client_secret: SecretStr | None = Field(default=None, description="GreenLake API client secret.")
    glp_token_url: str = Field(
        default=SSO_TOKEN_URL,
        description="Token endpoint: the SSO issuer or the workspace-scoped "
        "`/authorization/v2/oauth2/{workspaceId}/token`.",
    )
    glp_base_url: str = Field(default=GLOBAL_BASE_URL, description="GreenLake API base URL.")

    # --- Aruba Central (optional: without these nothing Aruba runs or appears) ----------------------
    aruba_mode: Literal["new", "classic"] | None = Field(
        default=None,
        description="Which Central API to sync from. Unset: New Central when ARUBA_CLIENT_ID and "
        "ARUBA_CLIENT_SECRET are set, else Classic when its client and refresh token are, else none.",
    )
    aruba_client_id: str | None = Field(
        default=None, description="New Central: personal API client id (scoped to the Central service)."
    )
    aruba_client_secret: SecretStr | None = Field(default=None, description="New Central: client secret.")
    aruba_token_url: str = Field(
        default=SSO_TOKEN_URL, description="New Central token endpoint (the GreenLake SSO issuer)."
    )
    aruba_base_url: str | None = Field(
        default=None,
        description="New Central API base URL of the account's cluster, e.g. "
        "https://us1.api.central.arubanetworks.com (no default: it depends on the cluster).",
    )
    aruba_classic_base_url: str | None = Field(
        default=None,
        description="Classic Central API gateway of the cluster, e.g. "
        "https://apigw-prod2.central.arubanetworks.com.",
    )
    aruba_classic_client_id: str | None = Field(default=None, description="Classic API gateway client id.")
    aruba_classic_client_secret: SecretStr | None = Field(
        default=None, description="Classic API gateway client secret."
    )
    aruba_classic_refresh_token: SecretStr | None = Field(
        default=None,
        description="The refresh token to start from. Each refresh rotates it; the rotated pair is kept in "
        "glp.central_tokens, so this is read again only when it changes (a new token pasted in).",
    )
    aruba_classic_access_token: SecretStr | None = Field(
        default=None, description="Optional access token to use before the first refresh."
    )
    aruba_pacing: bool = Field(default=True, description="Keep Central calls under the budgets below.")
    aruba_requests_per_hour: int = Field(
        default=5000, ge=1, description="New Central calls per hour (account-wide; not published)."
    )
    aruba_classic_requests_per_second: int = Field(
        default=7, ge=1, description="Classic Central calls per second (account-wide)."
    )
    aruba_classic_requests_per_day: int = Field(
        default=5000,
        ge=1,
        description="Classic Central calls per day (the base allowance; it resets at 00:00 UTC).",
    )
    aruba_page_size: int = Field(default=1000, ge=1, le=1000, description="Items per Central list page.")
    aruba_clients_filter: str | None = Field(
        default="status in ('Connected', 'Failed')",
        description="New Central /clients filter (the API's own default is connected clients only). The "
        "default matches what Classic lists: connected and failed clients.",
    )
    aruba_clients_timerange: Literal["3H", "1D", "1W", "1M", "3M"] = Field(
        default="3H", description="Classic /monitoring/v2/clients: clients seen within this range."
    )
    aruba_sync_interval_minutes: int = Field(
        default=60, ge=1, le=1440, description="Cadence of the scheduled Aruba Central sync (Dagster)."
    )

    # --- Database ---------------------------------------------------------------------------------
    database_url: SecretStr | None = Field(
        default=None, description="PostgreSQL URL. Unset: the embedded PostgreSQL under GLP_HOME."
    )
    glp_home: Path = Field(
        default_factory=_default_home,
        description="Where GLP Sync keeps its local state (embedded PostgreSQL data, dlt working files).",
    )

    glp_reader_role: str = Field(
        default="glp_reader",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="The SELECT-only role (marts and reporting) that every read-only surface uses.",
    )
    glp_reader_database_url: SecretStr | None = Field(
        default=None,
        description="A PostgreSQL URL that logs in as the reader role, for the read-only surfaces (dashboard "
        "queries, MCP server, chat). Logged in as the role, no statement can leave it. Unset: the embedded "
        "PostgreSQL logs them in as the role itself; with DATABASE_URL they switch to it with SET ROLE.",
    )

    # --- Paging -----------------------------------------------------------------------------------
    glp_devices_page_size: int = Field(default=2000, ge=1, le=2000)
    glp_subscriptions_page_size: int = Field(
        default=50, ge=1, le=200, description="50 in every spec up to 2026-07; 200 since 2026-08."
    )
    glp_max_reconcile_attempts: int = Field(
        default=3,
        ge=0,
        description="Full re-reads when the inventory changes under the paging (0: fail at once).",
    )
    glp_incremental_lag_seconds: int = Field(
        default=300, ge=0, description="Incremental runs re-read this window before the last cursor."
    )

    # --- Pacing (requests per minute per endpoint; GreenLake budgets per workspace) --------------
    glp_pacing: bool = Field(default=True, description="Keep each endpoint under its published budget.")
    glp_devices_rpm: int = Field(default=160, ge=1)
    glp_device_rpm: int = Field(default=40, ge=1, description="GET /devices/v1/devices/{id}.")
    glp_subscriptions_rpm: int = Field(default=60, ge=1)
    glp_subscription_rpm: int = Field(
        default=20, ge=1, description="GET /subscriptions/v1/subscriptions/{id}."
    )
    glp_devices_patch_rpm: int = Field(
        default=20,
        ge=1,
        description="PATCH /devices/v1|v2beta1/devices (published 20 and 40/min: the lower by default).",
    )
    glp_devices_post_rpm: int = Field(
        default=25,
        ge=1,
        description="POST /devices/v1|v2beta1/devices (published 25 and 50/min: the lower by default).",
    )
    glp_async_rpm: int = Field(default=90, ge=1, description="GET /devices/v1/async-operations/{id}.")
    glp_async_timeout_seconds: float = Field(
        default=300.0, gt=0, description="How long a write waits for its async operation to end."
    )

    # --- Retry and circuit breaker ---------------------------------------------------------------
    glp_request_timeout_seconds: float = Field(default=60.0, gt=0)
    glp_max_attempts: int = Field(default=6, ge=1, description="Attempts per request (first try included).")
    glp_backoff_initial_seconds: float = Field(default=1.0, ge=0)
    glp_backoff_max_seconds: float = Field(default=60.0, ge=0)
    glp_breaker_failures: int = Field(
        default=5, ge=1, description="Consecutive failures that open the breaker."
    )
    glp_breaker_reset_seconds: float = Field(default=60.0, ge=0)

    # --- Orchestration (Dagster) -----------------------------------------------------------------
    sync_interval_minutes: int = Field(default=60, ge=1, le=1440, description="Incremental sync cadence.")
    glp_sync_lock_wait_seconds: float = Field(
        default=60.0, ge=0, description="How long a sync waits for another one of the same database to end."
    )
    sync_devices: bool = Field(default=True, description="Scheduled syncs include devices.")
    sync_subscriptions: bool = Field(default=True, description="Scheduled syncs include subscriptions.")
    glp_full_sync_time: str = Field(
        default="02:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="Daily full sync, HH:MM (UTC)."
    )
    glp_alert_webhook_url: SecretStr | None = Field(
        default=None, description="Slack-compatible JSON webhook for failures and expiry alerts."
    )
    glp_expiry_alert_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="Alert once when a subscription comes within this many days of its end.",
    )
    glp_row_drop_threshold_pct: float = Field(
        default=20.0,
        ge=0,
        le=100,
        description="A sync whose row count drops by more than this fails its check.",
    )
    glp_freshness_hours: float = Field(
        default=26.0, gt=0, description="Raw and marts older than this are stale (freshness policy)."
    )
    dagster_home: Path | None = Field(
        default=None, description="Dagster's home (dagster.yaml, logs). Unset: GLP_HOME/dagster."
    )
    glp_dagster_url: str = Field(
        default="http://127.0.0.1:3000",
        description="The Dagster webserver, which the dashboard links runs to and launches 'sync now' on.",
    )
    glp_dagster_public_url: str | None = Field(
        default=None,
        description="The Dagster UI's address as browsers reach it, for the dashboard's run links, when it "
        "differs from GLP_DAGSTER_URL (e.g. behind a proxy, while the dashboard launches runs on the "
        "internal address). Unset: GLP_DAGSTER_URL.",
    )

    # --- Dashboard ---------------------------------------------------------------------------------
    glp_dashboard_password: SecretStr | None = Field(
        default=None, description="When set, the dashboard shows nothing before this password is entered."
    )
    glp_dashboard_require_login: bool = Field(
        default=False,
        description="Refuse to show anything unless a login is configured (GLP_DASHBOARD_PASSWORD or OIDC): "
        "what a deployment sets, so that a forgotten password leaves the dashboard closed, not open.",
    )

    # --- MCP server ---------------------------------------------------------------------------------
    glp_mcp_token: SecretStr | None = Field(
        default=None,
        description="Bearer token `glp mcp --transport http` requires (unless bound to loopback).",
    )
    glp_mcp_allowed_hosts: str = Field(
        default="",
        description="Comma-separated host names clients use to reach `glp mcp --transport http` besides the "
        "address it is bound to (e.g. `mcp` in Docker Compose, the Service name in Kubernetes): DNS "
        "rebinding protection refuses other Host headers.",
    )

    # --- Logging ----------------------------------------------------------------------------------
    glp_log_level: str = Field(default="WARNING", description="DEBUG, INFO, WARNING or ERROR.")
    glp_log_format: Literal["text", "json"] = Field(
        default="text", description="text, or json: one JSON object per line (time, level, logger, message)."
    )

    # --- LLM providers (ask_database, chat): Anthropic first, OpenAI as the fallback ---------------
    anthropic_api_key: SecretStr | None = Field(default=None, description="Anthropic API key (Claude).")
    openai_api_key: SecretStr | None = Field(
        default=None, description="OpenAI API key (or the key of the OpenAI-compatible server)."
    )
    glp_anthropic_model: str = Field(default="claude-sonnet-5-5", min_length=1)
    glp_openai_model: str = Field(default="gpt-5.5", min_length=1)
    glp_anthropic_base_url: str | None = Field(
        default=None, description="An Anthropic API gateway or proxy instead of api.anthropic.com."
    )
    glp_openai_base_url: str | None = Field(
        default=None,
        description="An OpenAI-compatible server (e.g. a local model server) instead of OpenAI's API; "
        "a key is then optional.",
    )
    glp_llm_timeout_seconds: float = Field(default=60.0, gt=0, description="Per request to a provider.")
    glp_llm_max_retries: int = Field(
        default=1,
        ge=0,
        le=10,
        description="The SDK's retries (429, 5xx, timeouts) before the fallback provider is asked.",
    )

    # --- Chat (the agent's bounds per question) ----------------------------------------------------
    glp_chat_max_turns: int = Field(
        default=8,
        ge=1,
        le=50,
        description="Model requests per question at most (each round of tool calls takes one more).",
    )
    glp_chat_max_tool_calls: int = Field(
        default=16, ge=0, le=200, description="Tool calls per question at most."
    )

    # --- Chat memory (embeddings in pgvector; without them recall uses full-text search) -----------
    glp_embeddings_enabled: bool = Field(
        default=True,
        description="Embed chat messages and saved facts for semantic recall. false: nothing is sent to an "
        "embedding API and recall uses PostgreSQL full-text search.",
    )
    glp_embedding_model: str = Field(default="text-embedding-3-small", min_length=1)
    glp_embedding_dimensions: int = Field(
        default=1536,
        description="Length of the embedding vectors; at most 2000, the most pgvector's HNSW index takes.",
    )
    glp_embedding_base_url: str | None = Field(
        default=None,
        description="An OpenAI-compatible embeddings server. Unset: GLP_OPENAI_BASE_URL, else OpenAI's API.",
    )
    glp_embedding_api_key: SecretStr | None = Field(
        default=None, description="The embedding server's key. Unset: OPENAI_API_KEY."
    )
    glp_embedding_timeout_seconds: float = Field(default=15.0, gt=0, description="Per embedding request.")

    @field_validator("glp_embedding_dimensions")
    @classmethod
    def _fits_hnsw(cls, value: int) -> int:
        return check_embedding_dimensions(value)

    @property
    def has_greenlake_credentials(self) -> bool:
        return bool(self.glp_client_id and self.glp_client_secret)

    @property
    def aruba_effective_mode(self) -> Literal["new", "classic"] | None:
        """ARUBA_MODE, else inferred from which credentials are set (New first); None: no Aruba Central."""
        if self.aruba_mode is not None:
            return self.aruba_mode
        if self.aruba_client_id and self.aruba_client_secret:
            return "new"
        if (
            self.aruba_classic_client_id
            and self.aruba_classic_client_secret
            and self.aruba_classic_refresh_token
        ):
            return "classic"
        return None

    @property
    def has_aruba(self) -> bool:
        """Whether Aruba Central is configured at all (its assets, schedule and sync exist only then)."""
        return self.aruba_effective_mode is not None

    def aruba_missing_settings(self) -> list[str]:
        """The settings the chosen Central mode still needs (empty when it can run)."""
        if self.aruba_effective_mode == "classic":
            needed = {
                "ARUBA_CLASSIC_BASE_URL": self.aruba_classic_base_url,
                "ARUBA_CLASSIC_CLIENT_ID": self.aruba_classic_client_id,
                "ARUBA_CLASSIC_CLIENT_SECRET": self.aruba_classic_client_secret,
                "ARUBA_CLASSIC_REFRESH_TOKEN": self.aruba_classic_refresh_token,
            }
        else:
            needed = {
                "ARUBA_BASE_URL": self.aruba_base_url,
                "ARUBA_CLIENT_ID": self.aruba_client_id,
                "ARUBA_CLIENT_SECRET": self.aruba_client_secret,
            }
        return [name for name, value in needed.items() if not value]

    @property
    def pgdata_dir(self) -> Path:
        return self.glp_home / "pgdata"

    @property
    def dlt_dir(self) -> Path:
        return self.glp_home / "dlt"

    @property
    def dagster_home_dir(self) -> Path:
        return self.dagster_home or self.glp_home / "dagster"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()


@contextmanager
def environment_overrides(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for a block, then restore them; the settings are re-read on both sides.

    For what runs in this process but reads the environment itself (dbt's profile, a dbt subprocess that
    inherits it, the demo's in-process Dagster run)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
        get_settings.cache_clear()
