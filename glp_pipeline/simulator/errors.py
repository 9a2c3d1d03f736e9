"""GreenLake's error bodies, so the simulator fails the way the real API does.

API endpoints answer every 4xx/5xx with the GLP envelope `{httpStatusCode, errorCode, message, debugId,
errorDetails}` (greenlake-api.md D). The token endpoints answer OAuth2 errors `{error, error_description}`
(A.4): clients parse the two differently, so the simulator must not mix them up.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

ERROR_CODES = {
    400: "HPE_GL_ERROR_BAD_REQUEST",
    401: "HPE_GL_ERROR_UNAUTHORIZED",
    403: "HPE_GL_ERROR_FORBIDDEN",
    404: "HPE_GL_ERROR_NOT_FOUND",
    405: "HPE_GL_ERROR_METHOD_NOT_ALLOWED",
    414: "HPE_GL_ERROR_URI_TOO_LONG",
    415: "HPE_GL_ERROR_UNSUPPORTED_MEDIA_TYPE",
    422: "HPE_GL_UNPROCESSABLE_CONTENT",
    429: "HPE_GL_ERROR_TOO_MANY_REQUESTS",
    500: "HPE_GL_ERROR_INTERNAL_SERVER_ERROR",
    502: "HPE_GL_ERROR_BAD_GATEWAY",
    503: "HPE_GL_ERROR_SERVICE_UNAVAILABLE",
}


class ApiError(Exception):
    """Raised by a handler; the app turns it into a GLP error envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []
        self.headers = dict(headers or {})


def bad_request(message: str, source: str, subject: str) -> ApiError:
    """A 400 whose `issues` name the offending parameter, as the GLP examples do."""
    issue = {"source": source, "subject": subject, "description": message}
    return ApiError(400, message, [{"type": "hpe.greenlake.bad_request", "issues": [issue]}])


def rate_limit_details(limit: int, window_seconds: float) -> list[dict[str, Any]]:
    """The metadata detail GLP attaches to a 429."""
    text = f"rate limit of {limit} requests per {window_seconds:g} s exceeded"
    return [
        {
            "type": "hpe.greenlake.metadata",
            "source": "hpe.greenlake.simulator",
            "metadata": {"apiRateLimit": text},
        }
    ]


def error_body(status: int, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "httpStatusCode": status,
        "errorCode": ERROR_CODES.get(status, f"HPE_GL_ERROR_{status}"),
        "message": message,
        "debugId": str(uuid.uuid4()),
        "errorDetails": details or [],
    }


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, headers=dict(headers or {}), media_type="application/json"
    )


def error_response(error: ApiError) -> Response:
    return json_response(error_body(error.status, error.message, error.details), error.status, error.headers)


def oauth_error(
    status: int, error: str, description: str, headers: Mapping[str, str] | None = None
) -> Response:
    """RFC 6749 section 5.2 error, as the PingFederate-style SSO issuer sends it."""
    all_headers = {"Cache-Control": "no-store", "Pragma": "no-cache", **(headers or {})}
    return json_response({"error": error, "error_description": description}, status, all_headers)
