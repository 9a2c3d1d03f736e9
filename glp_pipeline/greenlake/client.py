"""`GreenLakeClient`: the one HTTP client every part of GLP Sync uses to talk to GreenLake.

The request machinery (breaker → pacing → token → HTTP → classify, retried by the tenacity policy of
`retry.py`, a 401 answered by one fresh token) is `base_client.ResilientClient`, which the Aruba Central
clients share. What is GreenLake's here: the client-credentials token, the per-endpoint per-minute budgets,
complete `limit`/`offset` paging of devices and subscriptions, and the device writes of `write_client.py`
(`submit_device_patch`, `wait_for_operation`, `apply_device_operation`, `service_managers`, ...), which only
narrow what may be retried (`retry.is_write_retryable`).

Sleeping and time are injectable (`sleep=`, `clock=`) so tests record waits instead of spending them.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from glp_pipeline.greenlake.auth import TokenManager
from glp_pipeline.greenlake.base_client import ResilientClient
from glp_pipeline.greenlake.config import DEVICES_PATH, SUBSCRIPTIONS_PATH, ClientConfig
from glp_pipeline.greenlake.pacing import Pacer
from glp_pipeline.greenlake.paging import Page, PageIterator
from glp_pipeline.greenlake.retry import RetryPolicy
from glp_pipeline.greenlake.write_client import DeviceWritesMixin

if TYPE_CHECKING:
    from glp_pipeline.settings import Settings

log = logging.getLogger(__name__)

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class GreenLakeClient(DeviceWritesMixin, ResilientClient):
    """Synchronous, thread-safe GreenLake client. Use as a context manager, or call `close()`."""

    service = "GreenLake"

    def __init__(
        self,
        config: ClientConfig,
        *,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        """`http_client`: an httpx.Client whose `base_url` is `config.base_url` (for event hooks or a custom
        transport); the caller keeps it and closes it. `sleep`/`clock`/`rng` make waits and jitter testable.
        """
        self.config = config
        super().__init__(
            base_url=config.base_url,
            request_timeout_seconds=config.request_timeout_seconds,
            user_agent=config.user_agent,
            policy=RetryPolicy(
                max_attempts=config.max_attempts,
                backoff_initial_seconds=config.backoff_initial_seconds,
                backoff_max_seconds=config.backoff_max_seconds,
                max_retry_after_seconds=config.max_retry_after_seconds,
            ),
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
            auth_method=config.token_auth_method,
            scope=config.token_scope,
            policy=self._policy,
            stats=self._stats,
            clock=clock,
            sleep=sleep,
            rng=self._rng,
        )
        self.pacer = Pacer(
            config.budgets(), default_rpm=config.default_rpm, enabled=config.pacing, clock=clock, sleep=sleep
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        **overrides: Any,
    ) -> GreenLakeClient:
        """A client configured from `glp_pipeline.settings.Settings`.

        Keyword `overrides` replace config fields (e.g. `pacing=False` for a benchmark against the unpaced
        simulator); raises AuthenticationError naming GLP_CLIENT_ID / GLP_CLIENT_SECRET when they are unset.
        """
        config = ClientConfig.from_settings(settings, **overrides)
        return cls(config, http_client=http_client, sleep=sleep, clock=clock, rng=rng)

    def __enter__(self) -> GreenLakeClient:
        return self

    def __repr__(self) -> str:
        return (
            f"GreenLakeClient(base_url={self.config.base_url!r}, token_url={self.config.token_url!r}, "
            f"client_id={self.config.client_id!r}, pacing={self.config.pacing})"
        )

    __str__ = __repr__

    # --- public API ---------------------------------------------------------------------------------

    def iter_pages(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        page_size: int = 100,
        on_page: Callable[[Page], None] | None = None,
        max_reconcile_attempts: int | None = None,
    ) -> PageIterator:
        """Every page of a `limit`/`offset` listing, checked for completeness (see `paging.py`).

        Iterate it; afterwards `.result` is the PagingResult. Pages of a reconcile pass repeat items already
        seen: merge on id, and take `.result.ids` as the final membership.
        """
        attempts = (
            self.config.max_reconcile_attempts if max_reconcile_attempts is None else max_reconcile_attempts
        )

        def fetch(query: dict[str, Any]) -> dict[str, Any]:
            body = self.get_json(path, query)
            self._stats.add("pages")
            return body

        return PageIterator(
            fetch,
            path=path,
            params=params,
            page_size=page_size,
            max_reconcile_attempts=attempts,
            on_page=on_page,
            on_reconcile=lambda attempt, reasons: self._stats.add("reconcile_passes"),
            verify_boundaries=self.config.verify_page_boundaries,
        )

    def list_devices(
        self,
        filter: str | None = None,
        sort: str | None = None,
        page_size: int | None = None,
        *,
        on_page: Callable[[Page], None] | None = None,
    ) -> PageIterator:
        """`GET /devices/v1/devices`, every page (limit default 2000, the documented maximum)."""
        return self.iter_pages(
            DEVICES_PATH,
            params={"filter": filter, "sort": sort},
            page_size=page_size or self.config.devices_page_size,
            on_page=on_page,
        )

    def list_subscriptions(
        self,
        filter: str | None = None,
        sort: str | None = None,
        page_size: int | None = None,
        *,
        on_page: Callable[[Page], None] | None = None,
    ) -> PageIterator:
        """`GET /subscriptions/v1/subscriptions`, every page (limit default 50; 200 on newer API versions)."""
        return self.iter_pages(
            SUBSCRIPTIONS_PATH,
            params={"filter": filter, "sort": sort},
            page_size=page_size or self.config.subscriptions_page_size,
            on_page=on_page,
        )

    def get_device(self, device_id: str) -> dict[str, Any]:
        """`GET /devices/v1/devices/{id}`; NotFoundError if GreenLake does not know it."""
        return self.get_json(f"{DEVICES_PATH}/{quote(str(device_id), safe='')}")

    def get_subscription(self, subscription_id: str) -> dict[str, Any]:
        """`GET /subscriptions/v1/subscriptions/{id}`; NotFoundError if GreenLake does not know it."""
        return self.get_json(f"{SUBSCRIPTIONS_PATH}/{quote(str(subscription_id), safe='')}")
