"""Exceptions of the GreenLake client, and the reading of GreenLake's error envelope.

The Aruba Central clients (`glp_pipeline.central`) run on the same machinery and raise the same classes (their
messages name Aruba Central), so every face catches one hierarchy; `glp_pipeline.central.errors` adds the few
Central-only ones as subclasses.

Every exception a caller can see is a `GreenLakeError`. Each carries a message a person can act on and never
holds the client secret or a bearer token (messages built from server text go through the token manager's
redaction first). `retryable` tells the retry policy whether another attempt may help; callers rarely need it.

The hierarchy:

    GreenLakeError
    ├── AuthenticationError            bad credentials, token URL wrong, token rejected twice
    ├── ApiError                       GreenLake answered with an error status
    │   ├── BadRequestError            400/422: the request itself is wrong (bad filter, bad limit, ...)
    │   ├── ForbiddenError             403: the API client lacks a permission
    │   ├── NotFoundError              404
    │   ├── RateLimitedError           429 (raised only once retries are exhausted)
    │   └── ServerError                5xx (also a GreenLakeUnavailableError)
    ├── GreenLakeUnavailableError      GreenLake cannot be reached or keeps failing
    │   ├── CircuitOpenError           the breaker is open: failing fast
    │   ├── NetworkError               connect/read errors, timeouts, dropped connections
    │   └── InvalidResponseError       a 2xx whose body is not the JSON it should be
    ├── IncompleteInventoryError       paging could not read one consistent inventory
    ├── PacingBudgetError              a client-side budget is spent for longer than it may wait (daily quota)
    ├── WriteOutcomeUnknownError       a write may or may not have been accepted: not repeated, re-read state
    └── AsyncOperationTimeoutError     an async operation did not end within the client's wait
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

# GreenLake has published the error-details array under several names (reference D).
_DETAIL_KEYS = (
    "errorDetails",
    "badRequestErrorDetails",
    "generalErrorDetails",
    "serverErrorDetails",
    "errorDetail",
)
RETRY_INFO_TYPE = "hpe.greenlake.retry_info"


class GreenLakeError(Exception):
    """Base class of every error raised by the GreenLake client."""

    retryable: bool = False


class AuthenticationError(GreenLakeError):
    """The credentials or the token were rejected; retrying will not help until a person fixes them."""


class GreenLakeUnavailableError(GreenLakeError):
    """GreenLake could not be reached or kept failing; the request may succeed later."""


@dataclass(frozen=True)
class ErrorEnvelope:
    """The parts of a GreenLake error body (`httpStatusCode, errorCode, message, debugId, errorDetails`)."""

    error_code: str | None = None
    message: str | None = None
    debug_id: str | None = None
    details: tuple[dict[str, Any], ...] = ()
    issues: tuple[dict[str, Any], ...] = ()
    retry_after_seconds: float | None = None
    oauth_error: str | None = None  # `error` of an OAuth token-endpoint error body
    oauth_error_description: str | None = None

    @classmethod
    def from_response(cls, response: httpx.Response) -> ErrorEnvelope:
        """Read whichever envelope the body holds; tolerate non-JSON bodies (gateways send HTML)."""
        try:
            body = response.json()
        except ValueError:
            return cls(message=_plain_text(response.text))
        return cls.from_body(body)

    @classmethod
    def from_body(cls, body: Any) -> ErrorEnvelope:
        if not isinstance(body, dict):
            return cls()
        details: list[dict[str, Any]] = []
        for key in _DETAIL_KEYS:
            value = body.get(key)
            if isinstance(value, dict):
                details.append(value)
            elif isinstance(value, list):
                details.extend(d for d in value if isinstance(d, dict))
        issues: list[dict[str, Any]] = []
        retry_after: float | None = None
        for detail in details:
            raw_issues = detail.get("issues")
            if isinstance(raw_issues, list):
                issues.extend(i for i in raw_issues if isinstance(i, dict))
            if detail.get("type") == RETRY_INFO_TYPE:
                with contextlib.suppress(TypeError, ValueError):
                    retry_after = float(detail.get("retryAfterSeconds"))  # type: ignore[arg-type]
        message = body.get("message")
        oauth_error = body.get("error")
        oauth_description = body.get("error_description")
        return cls(
            error_code=_str_or_none(body.get("errorCode")),
            message=_str_or_none(message),
            debug_id=_str_or_none(body.get("debugId")),
            details=tuple(details),
            issues=tuple(issues),
            retry_after_seconds=retry_after,
            oauth_error=_str_or_none(oauth_error) if not isinstance(oauth_error, dict) else None,
            oauth_error_description=_str_or_none(oauth_description),
        )

    def issues_text(self) -> str:
        """`source subject: description; ...` for the issues of a 400 (no repeat of the message itself)."""
        parts = []
        for issue in self.issues:
            where = " ".join(str(issue[k]) for k in ("source", "subject") if issue.get(k))
            description = str(issue.get("description") or issue.get("message") or "")
            if description == self.message:
                description = ""
            parts.append(f"{where}: {description}" if where and description else where or description)
        return "; ".join(p for p in parts if p)


def _plain_text(text: str) -> str | None:
    """A short readable message from a non-JSON error body (gateways answer with HTML pages)."""
    title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    if title:
        text = title.group(1)
    text = " ".join(re.sub(r"<[^>]+>", " ", text).split())
    return text[:200] or None


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


class ApiError(GreenLakeError):
    """GreenLake answered with an error status. Carries the envelope's fields for logs and sync history."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str,
        path: str,
        envelope: ErrorEnvelope | None = None,
    ) -> None:
        super().__init__(message)
        envelope = envelope or ErrorEnvelope()
        self.status_code = status_code
        self.method = method
        self.path = path
        self.error_code = envelope.error_code
        self.server_message = envelope.message
        self.debug_id = envelope.debug_id
        self.issues = list(envelope.issues)
        self.details = list(envelope.details)


class BadRequestError(ApiError):
    """400 (or 422): GreenLake rejected the request itself, e.g. a bad filter or an out-of-range limit."""


class ForbiddenError(ApiError):
    """403: the API client's user lacks the permission (e.g. `ccs.device-management.view`)."""


class NotFoundError(ApiError):
    """404: the resource does not exist (or no longer does)."""


class RateLimitedError(ApiError):
    """429 that outlasted every retry. `retry_after` is the server's hint in seconds, if it gave one."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(ApiError, GreenLakeUnavailableError):
    """5xx that outlasted every retry. `retry_hint` is the body's `retry_info.retryAfterSeconds`, if any;
    `retry_after` the `Retry-After` header's delay (a 503 that says when to come back), if any."""

    def __init__(
        self,
        message: str,
        *,
        retry_hint: float | None = None,
        retry_after: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.retry_hint = retry_hint
        self.retry_after = retry_after
        # 501 Not Implemented and 505 HTTP Version Not Supported will not change on a retry.
        self.retryable = self.status_code not in (501, 505)


class NetworkError(GreenLakeUnavailableError):
    """The HTTP exchange failed below HTTP: connect error, timeout, dropped connection, truncated body.

    `request_sent` is False when the request provably never reached the server (connect phase), which makes
    even a non-idempotent request safe to retry.
    """

    retryable = True

    def __init__(self, message: str, *, request_sent: bool) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class InvalidResponseError(GreenLakeUnavailableError):
    """A successful status whose body is not the JSON GreenLake documents (e.g. cut short mid-body)."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class CircuitOpenError(GreenLakeUnavailableError):
    """The breaker is open: the call was not attempted. `retry_at`: when a probe will be let through (UTC)."""

    def __init__(self, message: str, *, retry_at: datetime, failures: int) -> None:
        super().__init__(message)
        self.retry_at = retry_at
        self.failures = failures


@dataclass
class InventoryMismatch:
    """What was wrong with one paging pass (kept for the error message and for sync history)."""

    first_total: int | None
    last_total: int | None
    unique_ids: int
    duplicates: int
    empty_page_at: int | None = None
    reasons: list[str] = field(default_factory=list)


class IncompleteInventoryError(GreenLakeError):
    """The inventory kept changing under the paging; no consistent pass could be read.

    The consumer must discard what it received from this listing: it is not a complete inventory.
    """

    def __init__(
        self, path: str, *, passes: int, mismatch: InventoryMismatch, service: str = "GreenLake"
    ) -> None:
        reasons = "; ".join(mismatch.reasons) or "inconsistent pass"
        super().__init__(
            f"{service} {path}: the inventory kept changing while it was paged; after {passes} passes the "
            f"last pass read {mismatch.unique_ids} unique ids against a total of {mismatch.last_total} "
            f"({reasons}). Nothing from this listing should be stored as complete; try again later."
        )
        self.path = path
        self.passes = passes
        self.expected_total = mismatch.last_total
        self.unique_ids = mismatch.unique_ids
        self.duplicates = mismatch.duplicates
        self.reasons = list(mismatch.reasons)


class PacingBudgetError(GreenLakeError):
    """A client-side budget (e.g. Aruba Central Classic's calls per day) is spent for longer than a request
    may wait. Retrying will not help before `resumes_at` (UTC)."""

    def __init__(self, message: str, *, resumes_at: datetime | None = None) -> None:
        super().__init__(message)
        self.resumes_at = resumes_at


class WriteOutcomeUnknownError(GreenLakeError):
    """A write was sent and GreenLake may have carried it out, but the answer never said so.

    Raised after a 5xx (other than a 503 with `Retry-After`), a timeout or a dropped connection once the
    request had left, or a 2xx without an operation id. The client does not repeat such a write: a second
    PATCH would start a second async operation, a second POST would report the first one's devices as
    duplicates. Resolve it by re-reading the devices (or polling `operation_id`, when one is known).
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        items: tuple[str, ...] = (),
        status_code: int | None = None,
        operation_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.items = items  # the device ids (PATCH) or serial numbers (POST) of the request
        self.status_code = status_code
        self.operation_id = operation_id


class AsyncOperationTimeoutError(GreenLakeError):
    """An async operation was still not terminal when the client's wait ran out.

    The operation may still finish: poll `operation_id` again later, or re-read the devices. `last` is the
    last state read (an `AsyncOperationResult`), or None if none was.
    """

    def __init__(self, operation_id: str, *, waited_seconds: float, last: Any = None) -> None:
        status = f"; last status {last.status} at {last.progress_percent}%" if last is not None else ""
        super().__init__(
            f"GreenLake async operation {operation_id} did not finish within {waited_seconds:.0f} s{status}; "
            f"it may still complete: poll it again later or re-read the devices"
        )
        self.operation_id = operation_id
        self.waited_seconds = waited_seconds
        self.last = last
