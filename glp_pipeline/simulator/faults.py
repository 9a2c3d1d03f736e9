"""The outermost ASGI layer: records every request and injects the faults of `FaultConfig`.

`accept_then_fail_burst` is the write-side fault: the request is carried out (its async operation exists and
will apply), but the client gets a 500, so it cannot know its write was accepted. It sits outside Starlette
on purpose. Dropping a connection or cutting a body short needs the raw `send` of
the server (uvicorn) to reach the socket; Starlette's own middleware would wrap it. Faults hit API endpoints
only: the token endpoints are the client's way back to health, and `token_error_rate` covers them separately.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from starlette.responses import Response

from .errors import error_body, json_response, rate_limit_details
from .ratelimit import RateDecision

if TYPE_CHECKING:
    from .core import GreenLakeSimulator

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_PATH = re.compile(r"^/(as/token\.oauth2|authorization/v2/oauth2/[^/]+/token)/?$")
_BAD_GATEWAY_HTML = (
    b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
)


def close_connection(send: Send) -> bool:
    """Close the client connection under uvicorn: bytes already written are flushed, then FIN.

    uvicorn's `send` is a bound method of its request cycle, which holds the transport. Marking the cycle
    disconnected stops uvicorn from answering 500 afterwards. Under another server this returns False.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or not hasattr(cycle, "disconnected"):
        return False
    transport.close()
    cycle.disconnected = True
    return True


class FaultMiddleware:
    """Request log + fault injection around the simulator's Starlette app."""

    def __init__(self, app: ASGIApp, sim: GreenLakeSimulator) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrived = datetime.now(UTC)
        status = 0
        fault: str | None = None
        recorded = False

        def mark(name: str) -> None:
            nonlocal fault
            fault = name

        def record() -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                self.sim.record_request(scope, 0 if fault == "drop" else status, fault, arrived)

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Record before the last byte leaves, so a client that has its answer finds it logged.
                record()
            await send(message)

        try:
            if self.is_token_path(scope["path"]):
                await self.app(scope, receive, recording_send)
            else:
                await self._api_request(scope, receive, send, recording_send, mark)
        finally:
            record()

    async def _api_request(
        self, scope: Scope, receive: Receive, send: Send, recording_send: Send, mark: Callable[[str], None]
    ) -> None:
        """Serve one API request, maybe with a fault; `mark` names the fault before any byte is sent."""
        faults, rng = self.sim.faults, self.sim.fault_rng
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.drop_rate and rng.random() < faults.drop_rate and close_connection(send):
            mark("drop")
            return
        if faults.error_burst:
            faults.error_burst -= 1
            mark("error_burst")
            await self._unavailable(scope)(scope, receive, recording_send)
            return
        if faults.rate_limit_burst:
            faults.rate_limit_burst -= 1
            mark("rate_limit_burst")
            await self._too_many(scope)(scope, receive, recording_send)
            return
        if faults.error_rate and rng.random() < faults.error_rate:
            status = faults.error_statuses[int(rng.random() * len(faults.error_statuses))]
            mark("error_rate")
            await self._server_error(status, scope)(scope, receive, recording_send)
            return
        if faults.truncate_rate and rng.random() < faults.truncate_rate:
            mark("truncate")
            await self._truncated(scope, receive, send, recording_send)
            return
        if faults.accept_then_fail_burst and scope["method"] in ("POST", "PATCH"):
            faults.accept_then_fail_burst -= 1
            mark("accept_then_fail")
            await self._accepted_then_failed(scope, receive, recording_send)
            return
        await self.app(scope, receive, recording_send)

    async def _accepted_then_failed(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the write for real (its async operation exists), then answer 500 instead of its 202."""

        async def discard(message: Message) -> None:
            return None

        await self.app(scope, receive, discard)
        await self._server_error(500, scope)(scope, receive, send)

    async def _truncated(self, scope: Scope, receive: Receive, send: Send, recording_send: Send) -> None:
        """Announce the full Content-Length, send half the body, close the connection."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, buffer)
        assert start is not None
        body = b"".join(chunks)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await recording_send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        close_connection(send)

    def is_token_path(self, path: str) -> bool:
        """Token endpoints get no faults (but `token_error_rate`); a subclass names its own."""
        return bool(TOKEN_PATH.match(path))

    def _server_error(self, status: int, scope: Scope) -> Response:
        if status == 502:
            return Response(_BAD_GATEWAY_HTML, status_code=502, media_type="text/html")
        details = []
        if status == 500:
            details = [
                {"type": "hpe.greenlake.retry_info", "retryAfterSeconds": self.sim.faults.retry_info_seconds}
            ]
        message = {500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Server Error")
        headers = self._retry_after() if status == 503 else {}
        return json_response(error_body(status, message, details), status, headers)

    def _unavailable(self, scope: Scope) -> Response:
        return json_response(error_body(503, "Service Unavailable"), 503, self._retry_after())

    def _retry_after(self) -> dict[str, str]:
        seconds = self.sim.faults.unavailable_retry_after
        return {} if seconds is None else {"Retry-After": str(seconds)}

    def _too_many(self, scope: Scope) -> Response:
        config = self.sim.config
        limit = self.sim.budget_for(scope["method"], scope["path"])[1]
        headers = RateDecision(False, limit, 0, 1).headers(config.rate_limit_headers, config.retry_after)
        details = rate_limit_details(limit, config.rate_limit_window_seconds)
        return json_response(error_body(429, "Too Many Requests", details), 429, headers)


def query_lists(scope: Scope) -> dict[str, list[str]]:
    """The query string as a dict of lists, the shape `RequestRecord.query` promises."""
    return parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
