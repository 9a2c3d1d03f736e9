"""The Central simulator's HTTP surface: both token flows and New Central's network-monitoring API.

One server answers both generations, as a test of a client that supports both needs: New Central under
`/network-monitoring/{v1,v1alpha1}/...` with client-credentials tokens from `/as/token.oauth2`, Classic under
`/monitoring/...` (classic.py) with tokens from `/oauth2/token` (refresh-token grant, query string). Tokens
carry their kind, so a Classic token on New Central is a 401 and vice versa, as the docs say the two are not
interchangeable. Handlers check the token, then the rate budget, then the parameters, then answer from the
pre-rendered records.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..auth import OAuthError, TokenCheck, client_credentials, same_secret
from ..errors import ApiError, json_response, oauth_error, rate_limit_details
from ..odata import FilterError, parse_timestamp
from .classic import ClassicHandlers
from .data import normalise_serial
from .errors import ClassicError, classic_bad_request, is_classic, new_bad_request, new_error_response
from .limits import HOUR, reset_header
from .query import COMMON_PARAMS, ENDPOINTS, Endpoint, compile_new_filter, run_query, sort_keys

if TYPE_CHECKING:
    from .core import CentralSimulator

NEW_KIND = "new-central"  # the token kind; Classic tokens are classic.CLASSIC_KIND
VERSIONS = ("v1", "v1alpha1")
DETAIL_RESOURCES = ("aps", "switches", "gateways", "clients")


def build_app(sim: CentralSimulator) -> Starlette:
    """The Starlette app; the simulator wraps it in its fault middleware."""
    new = _NewHandlers(sim)
    classic = ClassicHandlers(sim)
    routes = [
        Route("/as/token.oauth2", new.token, methods=["POST"]),
        Route("/oauth2/token", classic.token, methods=["POST"]),
        *classic.routes(),
    ]
    for version in VERSIONS:
        for name, endpoint in ENDPOINTS.items():
            routes.append(
                Route(f"/network-monitoring/{version}/{name}", new.list_handler(endpoint), methods=["GET"])
            )
        for name in DETAIL_RESOURCES:
            path = f"/network-monitoring/{version}/{name}/{{key}}"
            routes.append(Route(path, new.detail_handler(name), methods=["GET"]))
    return Starlette(
        routes=routes,
        exception_handlers={
            ApiError: new.api_error,
            ClassicError: _classic_error,
            HTTPException: new.http_error,
        },
    )


async def _classic_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ClassicError)
    exc.headers = {**getattr(request.state, "rate_headers", {}), **exc.headers}
    return exc.response()


class _NewHandlers:
    def __init__(self, sim: CentralSimulator) -> None:
        self.sim = sim

    # --- errors -------------------------------------------------------------------------------------

    async def api_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        exc.headers = {**getattr(request.state, "rate_headers", {}), **exc.headers}
        return new_error_response(exc)

    async def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = {
            404: f"Resource not found: {request.url.path}",
            405: f"Method {request.method} not allowed on {request.url.path}",
        }.get(exc.status_code, str(exc.detail))
        if is_classic(request.url.path):
            error = classic_bad_request(message)
            return ClassicError(exc.status_code, error.body, exc.headers).response()
        return new_error_response(ApiError(exc.status_code, message, headers=exc.headers))

    # --- guard --------------------------------------------------------------------------------------

    def guard(self, request: Request) -> None:
        """401 without a live New Central token, 429 over the hourly budget; headers kept for the answer."""
        sim, config = self.sim, self.sim.config
        state, kind = sim.tokens.check(request.headers.get("authorization"), sim.faults.token_ttl_override)
        if state == TokenCheck.OK and kind != NEW_KIND:
            state = "classic"
        if state != TokenCheck.OK:
            message = {
                TokenCheck.MISSING: "Unauthorized: missing or malformed bearer token",
                TokenCheck.UNKNOWN: "Unauthorized: invalid access token",
                TokenCheck.EXPIRED: "Unauthorized: access token expired",
                "classic": "Unauthorized: a Classic Central token is not valid for New Central",
            }[state]
            raise ApiError(401, message, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if not config.rate_limits:
            request.state.rate_headers = {}
            return
        limit = config.new_rate_limit_per_hour
        decision = sim.limiter.hit((NEW_KIND, config.client_id), limit, HOUR)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(decision.remaining),
            "X-RateLimit-Reset": reset_header(decision.reset_seconds, config.rate_limit_reset_format),
        }
        if config.retry_after and not decision.allowed:
            headers["Retry-After"] = str(max(1, decision.reset_seconds))
        request.state.rate_headers = headers
        if not decision.allowed:
            raise ApiError(429, "Too Many Requests", rate_limit_details(limit, HOUR))

    # --- token --------------------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        """Client credentials (form or Basic) for New Central; `expires_in` 7200 by default."""
        sim, config = self.sim, self.sim.config
        if sim.faults.token_error_rate and sim.fault_rng.random() < sim.faults.token_error_rate:
            return oauth_error(503, "temporarily_unavailable", "the authorization server is unavailable")
        try:
            client_id, secret, by_basic = client_credentials(
                request.headers.get("content-type"),
                await request.body(),
                request.headers.get("authorization"),
            )
        except OAuthError as error:
            return oauth_error(error.status, error.error, error.description)
        if not (same_secret(client_id, config.client_id) and same_secret(secret, config.client_secret)):
            headers = {"WWW-Authenticate": 'Basic realm="GreenLake"'} if by_basic else {}
            return oauth_error(401, "invalid_client", "Invalid client or Invalid client credentials", headers)
        access_token = sim.tokens.issue(NEW_KIND, config.token_ttl_seconds)
        body = {"access_token": access_token, "token_type": "Bearer", "expires_in": config.token_ttl_seconds}
        return json_response(body, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    # --- lists --------------------------------------------------------------------------------------

    def list_handler(self, endpoint: Endpoint) -> Callable[[Request], Any]:
        allowed = (*COMMON_PARAMS, *endpoint.extra_params)

        async def handler(request: Request) -> Response:
            self.guard(request)
            sim, config, params = self.sim, self.sim.config, request.query_params
            _unknown_params(params.keys(), allowed)
            default = getattr(config, endpoint.default_limit_field)
            limit = _integer(params.get("limit"), default, "limit")
            if not endpoint.min_limit <= limit <= config.max_limit:
                raise new_bad_request(
                    f"limit must be between {endpoint.min_limit} and {config.max_limit}, got {limit}", "limit"
                )
            page = _integer(params.get("next"), 1, "next")
            if page < 1:
                raise new_bad_request(f"next must be a page number of at least 1, got {page}", "next")
            text = params.get("filter")
            if text is None or not text.strip():
                text = config.clients_default_filter if endpoint.name == "clients" else None
            sort = params.get("sort") or None
            try:
                test = compile_new_filter(endpoint, text, config.filter_max_length) if text else None
            except FilterError as error:
                raise new_bad_request(f"invalid filter: {error.message}", "filter") from None
            try:
                keys = sort_keys(endpoint, sort) if sort else None
            except FilterError as error:
                raise new_bad_request(f"invalid sort: {error.message}", "sort") from None
            extra = _client_scope(params) if endpoint.name == "clients" else ()
            records = sim.new_records(endpoint.name)
            key = (endpoint.name, text, sort, extra)

            def compute() -> list[dict[str, Any]]:
                return _apply_scope(run_query(records, test, keys), extra)

            with sim.lock:
                matched = sim.query_cache.get(key, compute)
            size = min(limit, config.page_cap) if config.page_cap else limit
            start = (page - 1) * size
            items = matched[start : start + size] if size else []
            more = size > 0 and start + size < len(matched)
            body: dict[str, Any] = {"items": items, "count": len(items), "total": len(matched)}
            body["next"] = str(page + 1) if more else None
            if sim.faults.omit_total:
                del body["total"]
            return json_response(body, 200, request.state.rate_headers)

        return handler

    def detail_handler(self, resource: str) -> Callable[[Request], Any]:
        async def handler(request: Request) -> Response:
            self.guard(request)
            _unknown_params(request.query_params.keys(), ())
            key = request.path_params["key"]
            record = self.sim.new_record(resource, key)
            if record is None:
                noun = {"aps": "access point", "switches": "switch", "gateways": "gateway"}.get(
                    resource, "client"
                )
                raise ApiError(404, f"{noun} {key} not found")
            return json_response(record, 200, request.state.rate_headers)

        return handler


def _unknown_params(names: Any, allowed: tuple[str, ...]) -> None:
    """New Central's network-monitoring APIs refuse any query parameter they do not define."""
    for name in names:
        if name not in allowed:
            raise new_bad_request(f"Unknown query parameter: {name}", name)


def _integer(raw: str | None, default: int, name: str) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise new_bad_request(f"{name} must be an integer, got {raw!r}", name) from None


def _client_scope(params: Any) -> tuple[tuple[str, str], ...]:
    """The /clients scoping parameters, validated: site, device serial, and an RFC 3339 time window.

    The window is checked (order, at most 7 days, or a month when scoped to a site) but not applied: the
    simulated clients are anchored to the configured `now`, not the wall clock a client computes its
    window from.
    """
    scope = tuple(
        (name, params[name]) for name in ("site-id", "site-name", "serial-number") if name in params
    )
    times: dict[str, datetime] = {}
    for name in ("start-at", "end-at"):
        raw = params.get(name)
        if raw is None:
            continue
        try:
            moment = parse_timestamp(raw.replace("Z", "+00:00"))
        except ValueError:
            raise new_bad_request(f"{name} must be an RFC 3339 date-time, got {raw!r}", name) from None
        times[name] = moment
    if len(times) == 2:
        window = times["end-at"] - times["start-at"]
        if window <= timedelta(0):
            raise new_bad_request("start-at must be before end-at", "start-at")
        site_scoped = "site-id" in params or "site-name" in params
        most = timedelta(days=31) if site_scoped else timedelta(days=7)
        if window > most:
            raise new_bad_request(
                f"the time window may span at most {most.days} days{' per site' if site_scoped else ''}",
                "end-at",
            )
    return scope


def _apply_scope(records: list[dict[str, Any]], scope: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
    for name, value in scope:
        if name == "site-id":
            records = [r for r in records if r["siteId"] == value]
        elif name == "site-name":
            records = [r for r in records if r["siteName"] == value]
        else:
            serial = normalise_serial(value)
            records = [r for r in records if normalise_serial(r["connectedDeviceSerial"]) == serial]
    return records
