"""The simulator's HTTP surface: token issuers, device and subscription reads (greenlake-api.md A-D).

Handlers stay thin: authentication and the rate budget first (`guard`), then parameter validation with GLP's
400 envelope, then the inventory. The write endpoints (PATCH/POST devices, subscription tags, async
operations) and the service catalog are in app_writes.py, their checks in write_checks.py, their state
changes in store.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .app_writes import write_routes
from .auth import OAuthError, TokenCheck, client_credentials, same_secret
from .config import SimulatorConfig
from .errors import ApiError, bad_request, error_response, json_response, oauth_error, rate_limit_details
from .odata import FilterError, parse_select
from .schema import DEVICE_FIELDS, SUBSCRIPTION_FIELDS
from .store import QueryError, Resource
from .write_checks import UUID, non_negative

if TYPE_CHECKING:
    from .core import GreenLakeSimulator

WORKSPACE_ID = re.compile(r"^[0-9a-fA-F]{32}$")

# (method, path pattern, endpoint key, SimulatorConfig field holding its per-window budget)
BUDGETS: list[tuple[str, re.Pattern[str], str, str]] = [
    (
        "POST",
        re.compile(r"^/(as/token\.oauth2|authorization/v2/oauth2/[^/]+/token)/?$"),
        "token",
        "token_rpm",
    ),
    ("GET", re.compile(r"^/devices/v1/devices/?$"), "devices.list", "devices_list_rpm"),
    ("GET", re.compile(r"^/devices/v1/devices/[^/]+$"), "devices.get", "device_rpm"),
    ("GET", re.compile(r"^/devices/v2beta1/devices/?$"), "devices.v2.list", "devices_v2_rpm"),
    ("GET", re.compile(r"^/devices/v2beta1/devices/[^/]+$"), "devices.v2.get", "devices_v2_rpm"),
    (
        "GET",
        re.compile(r"^/subscriptions/v1/subscriptions/?$"),
        "subscriptions.list",
        "subscriptions_list_rpm",
    ),
    ("GET", re.compile(r"^/subscriptions/v1/subscriptions/[^/]+$"), "subscriptions.get", "subscription_rpm"),
    ("GET", re.compile(r"^/devices/v1/async-operations/[^/]+$"), "devices.async-operations", "async_ops_rpm"),
    (
        "GET",
        re.compile(r"^/subscriptions/v1/async-operations/[^/]+$"),
        "subscriptions.async-operations",
        "subscriptions_async_ops_rpm",
    ),
    ("PATCH", re.compile(r"^/devices/v1/devices/?$"), "devices.patch", "devices_patch_rpm"),
    ("PATCH", re.compile(r"^/devices/v2beta1/devices/?$"), "devices.v2.patch", "devices_v2_patch_rpm"),
    ("POST", re.compile(r"^/devices/v1/devices/?$"), "devices.post", "devices_post_rpm"),
    ("POST", re.compile(r"^/devices/v2beta1/devices/?$"), "devices.v2.post", "devices_v2_post_rpm"),
    (
        "PATCH",
        re.compile(r"^/subscriptions/v1/subscriptions/?$"),
        "subscriptions.patch",
        "subscriptions_patch_rpm",
    ),
    ("GET", re.compile(r"^/service-catalog/v1/[^/]+$"), "service-catalog", "service_catalog_rpm"),
]


def endpoint_budget(config: SimulatorConfig, method: str, path: str) -> tuple[str, int]:
    """(endpoint key, requests per window) of a request; unknown paths share the device-list budget."""
    for budget_method, pattern, key, field in BUDGETS:
        if method == budget_method and pattern.match(path):
            return key, getattr(config, field)
    return "other", config.devices_list_rpm


def build_app(sim: GreenLakeSimulator) -> Starlette:
    """The Starlette app; `FaultMiddleware` (faults.py) wraps it in `GreenLakeSimulator`."""
    handlers = _Handlers(sim)
    routes = [
        Route("/as/token.oauth2", handlers.token, methods=["POST"]),
        Route("/authorization/v2/oauth2/{workspace_id}/token", handlers.token, methods=["POST"]),
        Route("/devices/v1/devices", handlers.list_handler("devices", "v1"), methods=["GET"]),
        Route("/devices/v1/devices/{id}", handlers.get_handler("devices"), methods=["GET"]),
        Route("/devices/v2beta1/devices", handlers.list_handler("devices", "v2beta1"), methods=["GET"]),
        Route("/devices/v2beta1/devices/{id}", handlers.get_handler("devices"), methods=["GET"]),
        Route(
            "/subscriptions/v1/subscriptions", handlers.list_handler("subscriptions", "v1"), methods=["GET"]
        ),
        Route("/subscriptions/v1/subscriptions/{id}", handlers.get_handler("subscriptions"), methods=["GET"]),
        *write_routes(sim, handlers.guard),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={ApiError: handlers.api_error, HTTPException: handlers.http_error},
    )


class _Handlers:
    def __init__(self, sim: GreenLakeSimulator) -> None:
        self.sim = sim

    # --- errors ---------------------------------------------------------------------------------

    async def api_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        exc.headers = {**getattr(request.state, "rate_headers", {}), **exc.headers}
        return error_response(exc)

    async def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = {
            404: f"Resource not found: {request.url.path}",
            405: f"Method {request.method} not allowed on {request.url.path}",
        }.get(exc.status_code, str(exc.detail))
        return error_response(ApiError(exc.status_code, message, headers=exc.headers))

    # --- guards ---------------------------------------------------------------------------------

    def _rate(self, key: tuple[str, str], limit: int) -> tuple[bool, dict[str, str]]:
        config = self.sim.config
        if not config.rate_limits:
            return True, {}
        decision = self.sim.limiter.hit(key, limit, config.rate_limit_window_seconds)
        return decision.allowed, decision.headers(config.rate_limit_headers, config.retry_after)

    def guard(self, request: Request) -> None:
        """401 without a live token, 429 over budget; rate headers are kept for every later response."""
        state, workspace = self.sim.tokens.check(
            request.headers.get("authorization"), self.sim.faults.token_ttl_override
        )
        if state != TokenCheck.OK:
            message = {
                TokenCheck.MISSING: "Unauthorized: missing or malformed bearer token",
                TokenCheck.UNKNOWN: "Unauthorized: invalid access token",
                TokenCheck.EXPIRED: "Unauthorized: access token expired (signature has expired)",
            }[state]
            raise ApiError(401, message, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        key, limit = endpoint_budget(self.sim.config, request.method, request.url.path)
        allowed, headers = self._rate((str(workspace), key), limit)
        request.state.rate_headers = headers
        if not allowed:
            details = rate_limit_details(limit, self.sim.config.rate_limit_window_seconds)
            raise ApiError(429, "Too Many Requests", details)

    # --- token ----------------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        """Both issuers: `/as/token.oauth2` and `/authorization/v2/oauth2/{workspaceId}/token`."""
        sim, config = self.sim, self.sim.config
        workspace = request.path_params.get("workspace_id")
        if workspace is not None and not WORKSPACE_ID.match(workspace):
            description = "unknown token issuer: the workspace id must be 32 hex characters without hyphens"
            return oauth_error(404, "invalid_request", description)
        allowed, headers = self._rate((config.workspace_id, "token"), config.token_rpm)
        if not allowed:
            return oauth_error(429, "too_many_requests", "token request rate exceeded", headers)
        if sim.faults.token_error_rate and sim.fault_rng.random() < sim.faults.token_error_rate:
            return oauth_error(
                503, "temporarily_unavailable", "the authorization server is unavailable", headers
            )
        try:
            client_id, secret, by_basic = client_credentials(
                request.headers.get("content-type"),
                await request.body(),
                request.headers.get("authorization"),
            )
        except OAuthError as error:
            return oauth_error(error.status, error.error, error.description, headers)
        if not (same_secret(client_id, config.client_id) and same_secret(secret, config.client_secret)):
            if by_basic:
                headers["WWW-Authenticate"] = 'Basic realm="GreenLake"'
            return oauth_error(401, "invalid_client", "Invalid client or Invalid client credentials", headers)
        if workspace is not None and workspace.lower() != config.workspace_id:
            description = f"client {client_id} is not registered in workspace {workspace}"
            return oauth_error(401, "invalid_client", description, headers)
        access_token = sim.tokens.issue(config.workspace_id, config.token_ttl_seconds)
        body = {"access_token": access_token, "token_type": "Bearer", "expires_in": config.token_ttl_seconds}
        return json_response(body, 200, {"Cache-Control": "no-store", "Pragma": "no-cache", **headers})

    # --- reads ----------------------------------------------------------------------------------

    def list_handler(self, resource: Resource, version: str) -> Callable[[Request], Any]:
        fields = DEVICE_FIELDS if resource == "devices" else SUBSCRIPTION_FIELDS

        async def handler(request: Request) -> Response:
            self.guard(request)
            config, inventory, params = self.sim.config, self.sim.inventory, request.query_params
            default, maximum = _limits(config, resource, version)
            limit = _limit(params.get("limit"), default, maximum, config.limit_out_of_range)
            offset = non_negative(params.get("offset"), 0, "offset")
            selected = _select(params.getlist("select"), fields, config.select_keeps_id)
            self.sim.operations.settle()  # async operations due by now show their effect
            query = tuple(_blank_none(params.get(name)) for name in ("filter", "filter-tags", "sort"))
            try:
                inventory.collection(resource).check(*query)
                inventory.before_list(resource)  # only requests that will be served count
                with inventory.lock:
                    records = inventory.collection(resource).query(*query)
            except QueryError as error:
                raise bad_request(error.message, "query.parameter", error.subject) from None
            size = min(limit, config.page_cap) if config.page_cap else limit
            page = records[offset : offset + size]
            if selected is not None:
                page = [{name: record[name] for name in selected if name in record} for record in page]
            body: dict[str, Any] = {
                "items": page,
                "count": len(page),
                "offset": offset,
                "total": len(records),
            }
            if self.sim.faults.omit_total:
                del body["total"]
            return json_response(body, 200, request.state.rate_headers)

        return handler

    def get_handler(self, resource: Resource) -> Callable[[Request], Any]:
        noun = "device" if resource == "devices" else "subscription"

        async def handler(request: Request) -> Response:
            self.guard(request)
            record_id = request.path_params["id"]
            if not UUID.match(record_id):
                raise bad_request(f"id {record_id!r} is not a valid UUID", "path.parameter", "id")
            self.sim.operations.settle()
            with self.sim.inventory.lock:
                record = self.sim.inventory.collection(resource).get(record_id.lower())
            if record is None:
                raise ApiError(404, f"{noun} {record_id} not found")
            return json_response(record, 200, request.state.rate_headers)

        return handler


def _limits(config: SimulatorConfig, resource: Resource, version: str) -> tuple[int, int]:
    """(default, maximum) `limit` of a list endpoint."""
    if resource == "subscriptions":
        return config.subscriptions_default_limit, config.subscriptions_max_limit
    if version == "v2beta1":
        return config.devices_v2_default_limit, config.devices_v2_max_limit
    return config.devices_default_limit, config.devices_max_limit


def _blank_none(value: str | None) -> str | None:
    return value if value is not None and value.strip() else None


def _limit(raw: str | None, default: int, maximum: int, mode: str) -> int:
    """Validate `limit`; out of 1..maximum is a 400 or, in 'cap' mode, clamped."""
    value = non_negative(raw, default, "limit")
    if 1 <= value <= maximum:
        return value
    if mode == "cap":
        return min(max(value, 1), maximum)
    raise bad_request(f"limit must be between 1 and {maximum}, got {value}", "query.parameter", "limit")


def _select(values: list[str], fields: tuple[str, ...], keep_id: bool) -> list[str] | None:
    """Properties to return, in the object's own order; None when `select` is absent."""
    values = [value for value in values if value.strip()]
    if not values:
        return None
    try:
        names = parse_select(values)
    except FilterError as error:
        raise bad_request(f"invalid select: {error.message}", "query.parameter", "select") from None
    unknown = [name for name in names if name not in fields]
    if unknown:
        raise bad_request(
            f"invalid select: unknown properties {', '.join(unknown)}; allowed: {', '.join(fields)}",
            "query.parameter",
            "select",
        )
    wanted = set(names) | ({"id", "type"} if keep_id else set())
    return [name for name in fields if name in wanted]
