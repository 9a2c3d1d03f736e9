"""The streamable HTTP transport, guarded: a bearer token (`GLP_MCP_TOKEN`) is required unless the server is
bound to the loopback interface, and DNS rebinding protection is on (Host and Origin headers checked), so a
web page the user visits cannot drive a local server either.

Two probes answer without the token and reveal nothing but a status: `GET /healthz` (the process serves:
always 200 `{"status": "ok"}`, for liveness) and `GET /readyz` (the database answers a `select 1` within a
second as the read-only surfaces connect: 200, else 503 `{"status": "unavailable"}`, for readiness)."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK = ("127.0.0.1", "localhost", "::1")
PATH = "/mcp"
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
PUBLIC_PATHS = frozenset({HEALTH_PATH, READY_PATH})
DATABASE_CHECK_SECONDS = 1.0

log = logging.getLogger(__name__)


async def healthz(request: Request) -> JSONResponse:
    """Liveness: the process serves requests."""
    return JSONResponse({"status": "ok"})


async def _database_answers() -> bool:
    import psycopg

    from glp_pipeline.database import DatabaseError, reader_database_url, to_libpq
    from glp_pipeline.settings import get_settings

    try:
        url = to_libpq(reader_database_url(get_settings(), start=False))
    except (DatabaseError, ValueError) as exc:
        log.warning("readiness: no database URL (%s)", exc)
        return False
    conn = None
    try:
        async with asyncio.timeout(DATABASE_CHECK_SECONDS):
            conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
            await conn.execute("select 1")
    except (TimeoutError, psycopg.Error, OSError) as exc:
        log.warning("readiness: the database does not answer (%s)", type(exc).__name__)
        return False
    finally:
        if conn is not None:
            await conn.close()
    return True


async def readyz(request: Request) -> JSONResponse:
    """Readiness: the database answers within a second (503 otherwise); nothing else is revealed."""
    if await _database_answers():
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": "unavailable"}, status_code=503)


class BearerTokenMiddleware:
    """Refuses every HTTP request without `Authorization: Bearer <token>` (constant-time comparison)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") not in PUBLIC_PATHS:
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                body = json.dumps(
                    {"error": "unauthorized", "message": "Send Authorization: Bearer <GLP_MCP_TOKEN>."}
                )
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")],
                    }
                )
                await send({"type": "http.response.body", "body": body.encode()})
                return
        await self.app(scope, receive, send)


def http_app(
    server: MCPServer, *, host: str, port: int, token: str | None, allowed_hosts: tuple[str, ...] = ()
) -> Starlette:
    """The server's streamable HTTP app at `/mcp`, with `/healthz` and `/readyz`. Raises ValueError when it
    would be reachable from other machines without a token.

    DNS rebinding protection admits the Host headers of the address it is bound to, plus `allowed_hosts`
    (`GLP_MCP_ALLOWED_HOSTS`): the names clients use to reach it behind Compose or Kubernetes (`mcp`,
    `glp-mcp.glp.svc`), with or without the port."""
    if host not in LOOPBACK and not token:
        raise ValueError(
            f"Serving MCP over HTTP on {host} needs a bearer token: set GLP_MCP_TOKEN (e.g. "
            "`openssl rand -hex 32`) and give it to the assistant, or bind to 127.0.0.1."
        )
    hosts = [host, f"{host}:{port}"] + ([f"{name}:{port}" for name in LOOPBACK] if host in LOOPBACK else [])
    for name in allowed_hosts:
        hosts += [name] if ":" in name else [name, f"{name}:{port}"]
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[f"http://{h}" for h in hosts],
    )
    app = server.streamable_http_app(streamable_http_path=PATH, transport_security=security, host=host)
    app.add_route(HEALTH_PATH, healthz, methods=["GET"])
    app.add_route(READY_PATH, readyz, methods=["GET"])
    if token:
        app.add_middleware(BearerTokenMiddleware, token=token)
    return app
