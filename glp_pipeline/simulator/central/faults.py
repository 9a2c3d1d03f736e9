"""Fault injection for Central: the GreenLake simulator's middleware with Central's own error bodies.

Faults and the request log work exactly as for GreenLake (same `FaultConfig`); only what an injected error
looks like differs by generation: New Central's envelope and `X-RateLimit-*` headers, or Classic's Kong
bodies and per-second/per-day headers. Both token endpoints are exempt, as GreenLake's are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import Response

from ..errors import json_response, rate_limit_details
from ..faults import FaultMiddleware, Scope
from .errors import RATE_LIMITED, is_classic, new_error_body
from .limits import HOUR, reset_header

if TYPE_CHECKING:
    from .core import CentralSimulator

TOKEN_PATHS = frozenset({"/as/token.oauth2", "/as/token.oauth2/", "/oauth2/token", "/oauth2/token/"})
_CLASSIC_MESSAGES = {500: "An unexpected error occurred", 503: "Service Unavailable", 504: "Gateway Timeout"}


class CentralFaultMiddleware(FaultMiddleware):
    """Request log + faults around the Central app."""

    sim: CentralSimulator  # type: ignore[assignment]

    def is_token_path(self, path: str) -> bool:
        return path in TOKEN_PATHS

    def _server_error(self, status: int, scope: Scope) -> Response:
        if status == 502 or not is_classic(scope["path"]):
            if status == 502:
                return super()._server_error(status, scope)
            message = {500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Server Error")
            headers = self._retry_after() if status == 503 else {}
            return json_response(new_error_body(status, message), status, headers)
        headers = self._retry_after() if status == 503 else {}
        return json_response({"message": _CLASSIC_MESSAGES.get(status, "Server Error")}, status, headers)

    def _unavailable(self, scope: Scope) -> Response:
        return self._server_error(503, scope)

    def _too_many(self, scope: Scope) -> Response:
        config = self.sim.config
        if is_classic(scope["path"]):
            headers = {
                "X-RateLimit-Limit-second": str(config.classic_per_second),
                "X-RateLimit-Remaining-second": "0",
                "X-RateLimit-Limit-day": str(config.classic_per_day),
                "X-RateLimit-Remaining-day": "0",
            }
            if config.retry_after:
                headers["Retry-After"] = "1"
            return json_response(dict(RATE_LIMITED), 429, headers)
        limit = config.new_rate_limit_per_hour
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset_header(1, config.rate_limit_reset_format),
        }
        if config.retry_after:
            headers["Retry-After"] = "1"
        body = new_error_body(429, "Too Many Requests", rate_limit_details(limit, HOUR))
        return json_response(body, 429, headers)
