"""The error bodies of both Central generations, which a client must tell apart (greenlake-api.md E).

New Central answers with the GreenLake envelope `{httpStatusCode, errorCode, message, debugId}`, its own codes
for 400 and 500. Classic answers through the Kong gateway: `{"error": "invalid_token", ...}` for a bad token,
Kong's `{"message": "API rate limit exceeded"}` for a 429, and the monitoring service's
`{description, error_code, service_name}` for a bad parameter (that last shape is an assumption [inf]).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from ..errors import ApiError, error_body, json_response

NEW_CODES = {
    400: "HPE_GL_NETWORK_MONITORING_INVALID_INPUT",
    500: "HPE_GL_NETWORK_MONITORING_INTERNAL_SERVER_ERROR",
}
CLASSIC_PREFIX = "/monitoring/"


def is_classic(path: str) -> bool:
    """Classic paths (and their errors) live under /monitoring/; New Central under /network-monitoring/."""
    return path.startswith(CLASSIC_PREFIX)


def new_error_body(status: int, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body = error_body(status, message, details)
    body["errorCode"] = NEW_CODES.get(status, body["errorCode"])
    return body


def new_bad_request(message: str, subject: str) -> ApiError:
    """A New Central 400 naming the offending query parameter."""
    issue = {"source": "query.parameter", "subject": subject, "description": message}
    return ApiError(400, message, [{"type": "hpe.greenlake.bad_request", "issues": [issue]}])


def new_error_response(error: ApiError) -> Response:
    return json_response(
        new_error_body(error.status, error.message, error.details), error.status, error.headers
    )


class ClassicError(Exception):
    """Raised by a Classic handler: the status and the exact body the gateway or service sends."""

    def __init__(self, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = body
        self.headers = dict(headers or {})

    def response(self) -> Response:
        return json_response(self.body, self.status, self.headers)


def classic_bad_request(message: str) -> ClassicError:
    return ClassicError(400, {"description": message, "error_code": "0001", "service_name": "Monitoring"})


def classic_invalid_token(description: str) -> ClassicError:
    return ClassicError(
        401,
        {"error": "invalid_token", "error_description": description},
        {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'},
    )


RATE_LIMITED = {"message": "API rate limit exceeded"}
