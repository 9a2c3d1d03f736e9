"""Classic Central: the refresh-token grant and the monitoring lists (greenlake-api.md E.1).

What a Classic client must get right, and so what the simulator enforces:
- the token endpoint takes everything in the query string (body empty) and rotates the refresh token: the
  answer carries a new one and the old one is refused from then on;
- offset/limit paging (limit 1..1000, default 100), envelopes named after the resource, `total` only with
  `calculate_total=true`;
- 7 calls per second and a daily allowance, reported on every response, 429 with Kong's body;
- /monitoring/v2/clients requires `timerange`, `client_type` and `client_status` (FAILED_TO_CONNECT only for
  wireless clients).
Unknown query parameters are ignored (only New Central's network-monitoring refuses them). `fields` and the
`calculate_*`/`show_*` flags other than `calculate_total` and `show_resource_details` are accepted and not
applied; `timerange` is validated, not applied (the data is anchored to the configured `now`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..auth import TokenCheck, same_secret
from ..errors import json_response, oauth_error
from .data import normalise_serial
from .errors import RATE_LIMITED, ClassicError, classic_bad_request, classic_invalid_token
from .render import SWITCH_RESOURCE_FIELDS

if TYPE_CHECKING:
    from .core import CentralSimulator

CLASSIC_KIND = "classic-central"
TIMERANGES = ("3H", "1D", "1W", "1M", "3M")
Record = dict[str, Any]
Filter = tuple[str, Callable[[Record, str], bool]]


def _eq(field: str) -> Callable[[Record, str], bool]:
    return lambda record, value: record.get(field) == value


def _ieq(field: str) -> Callable[[Record, str], bool]:
    return lambda record, value: (record.get(field) or "").lower() == value.lower()


def _serial(field: str) -> Callable[[Record, str], bool]:
    return lambda record, value: normalise_serial(record.get(field) or "") == normalise_serial(value)


def _label(record: Record, value: str) -> bool:
    return value in (record.get("labels") or ())


def _band(record: Record, value: str) -> bool:
    try:
        return record.get("band") == float(value)
    except ValueError:
        raise classic_bad_request(f"band must be 2.4, 5 or 6, got {value!r}") from None


# query parameter -> record test; parameters listed by the swagger but not modelled are accepted and ignored
APS_FILTERS: dict[str, Callable[[Record, str], bool]] = {
    "group": _eq("group_name"), "swarm_id": _eq("swarm_id"), "label": _label, "site": _eq("site"),
    "status": _eq("status"), "serial": _serial("serial"), "macaddr": _ieq("macaddr"), "model": _eq("model"),
    "cluster_id": _eq("cluster_id"),
}  # fmt: skip
SWITCHES_FILTERS: dict[str, Callable[[Record, str], bool]] = {
    "group": _eq("group_name"), "label": _label, "stack_id": _eq("stack_id"), "status": _eq("status"),
    "site": _eq("site"), "public_ip_address": _eq("public_ip_address"),
}  # fmt: skip
GATEWAYS_FILTERS: dict[str, Callable[[Record, str], bool]] = {
    "group": _eq("group_name"), "label": _label, "site": _eq("site"), "status": _eq("status"),
    "macaddr": _ieq("macaddr"), "model": _eq("model"), "device_type": _eq("mode"),
}  # fmt: skip
CLIENTS_FILTERS: dict[str, Callable[[Record, str], bool]] = {
    "group": _eq("group_name"), "swarm_id": _eq("swarm_id"), "label": _label, "site": _eq("site"),
    "network": _eq("network"), "serial": _serial("associated_device"), "band": _band,
    "os_type": _eq("os_type"),
}  # fmt: skip
SORTS = {
    "aps": ("serial", "macaddr", "swarm_id"),
    "switches": ("serial", "name", "macaddr"),
    "gateways": ("serial", "name", "macaddr"),  # not published for gateways: as switches [inf]
    "clients": ("macaddr",),
}


class ClassicHandlers:
    def __init__(self, sim: CentralSimulator) -> None:
        self.sim = sim

    def routes(self) -> list[Route]:
        return [
            Route("/monitoring/v2/aps", self.list_handler("aps", APS_FILTERS), methods=["GET"]),
            Route(
                "/monitoring/v1/switches", self.list_handler("switches", SWITCHES_FILTERS), methods=["GET"]
            ),
            Route(
                "/monitoring/v1/gateways", self.list_handler("gateways", GATEWAYS_FILTERS), methods=["GET"]
            ),
            Route("/monitoring/v2/clients", self.list_handler("clients", CLIENTS_FILTERS), methods=["GET"]),
        ]

    # --- token --------------------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        """POST /oauth2/token?client_id=..&client_secret=..&grant_type=refresh_token&refresh_token=.."""
        sim, config, query = self.sim, self.sim.config, request.query_params
        if sim.faults.token_error_rate and sim.fault_rng.random() < sim.faults.token_error_rate:
            return oauth_error(503, "temporarily_unavailable", "the authorization server is unavailable")
        grant = query.get("grant_type")
        if not grant:
            return oauth_error(400, "invalid_request", "grant_type is required in the query string")
        if grant != "refresh_token":
            return oauth_error(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported")
        client_id, secret = query.get("client_id"), query.get("client_secret")
        if not client_id or secret is None:
            return oauth_error(
                400, "invalid_request", "client_id and client_secret are required in the query"
            )
        if not (
            same_secret(client_id, config.classic_client_id)
            and same_secret(secret, config.classic_client_secret)
        ):
            return oauth_error(401, "invalid_client", "Invalid client credentials")
        refresh = query.get("refresh_token")
        if not refresh:
            return oauth_error(400, "invalid_request", "refresh_token is required in the query string")
        new_refresh = sim.refresh_tokens.rotate(refresh)
        if new_refresh is None:
            return oauth_error(400, "invalid_grant", "Invalid refresh token (it may have been used already)")
        ttl = config.classic_token_ttl_seconds
        body = {
            "access_token": sim.tokens.issue(CLASSIC_KIND, ttl),
            "refresh_token": new_refresh,
            "token_type": "bearer",
            "expires_in": ttl,
        }
        return json_response(body, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    # --- guard --------------------------------------------------------------------------------------

    def guard(self, request: Request) -> None:
        """401 `invalid_token` without a live Classic token, 429 past either budget; headers kept."""
        sim, config = self.sim, self.sim.config
        state, kind = sim.tokens.check(request.headers.get("authorization"), sim.faults.token_ttl_override)
        if state == TokenCheck.OK and kind != CLASSIC_KIND:
            raise classic_invalid_token("A New Central token is not valid for the Classic API gateway")
        if state == TokenCheck.EXPIRED:
            raise classic_invalid_token("The access token expired")
        if state != TokenCheck.OK:
            raise classic_invalid_token("The access token is invalid")
        if not config.rate_limits:
            request.state.rate_headers = {}
            return
        decision = sim.classic_limiter.hit(
            config.classic_client_id, config.classic_per_second, config.classic_per_day
        )
        request.state.rate_headers = decision.headers
        if not decision.allowed:
            headers = {"Retry-After": str(decision.retry_after)} if config.retry_after else {}
            raise ClassicError(429, dict(RATE_LIMITED), headers)

    # --- lists --------------------------------------------------------------------------------------

    def list_handler(
        self, resource: str, filters: dict[str, Callable[[Record, str], bool]]
    ) -> Callable[[Request], Any]:
        async def handler(request: Request) -> Response:
            self.guard(request)
            sim, config, params = self.sim, self.sim.config, request.query_params
            offset = _integer(params.get("offset"), 0, "offset")
            if offset < 0:
                raise classic_bad_request(f"offset must be 0 or more, got {offset}")
            limit = _integer(params.get("limit"), config.classic_default_limit, "limit")
            if not 1 <= limit <= config.classic_max_limit:
                raise classic_bad_request(
                    f"limit must be between 1 and {config.classic_max_limit}, got {limit}"
                )
            calculate_total = _boolean(params.get("calculate_total"), "calculate_total")
            if resource == "clients":
                records = sim.classic_clients(*_client_kind(params))
            else:
                records = sim.classic_records(resource)
            for name, test in filters.items():
                value = params.get(name)
                if value:
                    records = [record for record in records if test(record, value)]
            records = _sorted(records, params.get("sort"), SORTS[resource])
            last_mac = params.get("last_client_mac") if resource == "clients" else None
            if last_mac:  # keyset paging: offset is ignored, results run by MAC after the given one
                records = sorted(records, key=lambda r: r["macaddr"])
                records = [r for r in records if r["macaddr"] > last_mac.lower()]
                offset = 0
            page = records[offset : offset + limit]
            if resource == "switches" and not _boolean(
                params.get("show_resource_details"), "show_resource_details"
            ):
                page = [{k: v for k, v in r.items() if k not in SWITCH_RESOURCE_FIELDS} for r in page]
            body: dict[str, Any] = {resource: page, "count": len(page)}
            if calculate_total and not sim.faults.omit_total:
                body["total"] = len(records)
            return json_response(body, 200, request.state.rate_headers)

        return handler


def _client_kind(params: Any) -> tuple[str, str]:
    """The three required /monitoring/v2/clients parameters, validated; (client_type, client_status)."""
    missing = [name for name in ("timerange", "client_type", "client_status") if not params.get(name)]
    if missing:
        raise classic_bad_request(f"missing required query parameter(s): {', '.join(missing)}")
    if params["timerange"] not in TIMERANGES:
        raise classic_bad_request(f"timerange must be one of {', '.join(TIMERANGES)}")
    client_type, status = params["client_type"], params["client_status"]
    if client_type not in ("WIRELESS", "WIRED"):
        raise classic_bad_request("client_type must be WIRELESS or WIRED")
    if status not in ("CONNECTED", "FAILED_TO_CONNECT"):
        raise classic_bad_request("client_status must be CONNECTED or FAILED_TO_CONNECT")
    if client_type == "WIRED" and status == "FAILED_TO_CONNECT":
        raise classic_bad_request("client_status FAILED_TO_CONNECT is only defined for WIRELESS clients")
    return client_type, status


def _sorted(records: list[Record], sort: str | None, allowed: tuple[str, ...]) -> list[Record]:
    if not sort:
        return records
    descending, name = sort.startswith("-"), sort.lstrip("+- ")
    if name not in allowed:
        choices = ", ".join(f"+{field}, -{field}" for field in allowed)
        raise classic_bad_request(f"sort must be one of {choices}; got {sort!r}")
    return sorted(records, key=lambda r: (r.get(name) is None, r.get(name) or ""), reverse=descending)


def _integer(raw: str | None, default: int, name: str) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise classic_bad_request(f"{name} must be an integer, got {raw!r}") from None


def _boolean(raw: str | None, name: str) -> bool:
    if raw is None or raw == "":
        return False
    if raw.lower() not in ("true", "false"):
        raise classic_bad_request(f"{name} must be true or false, got {raw!r}")
    return raw.lower() == "true"
