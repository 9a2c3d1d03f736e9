"""The streamable HTTP transport, guarded: a bearer token (`GLP_MCP_TOKEN`) is required unless the server is
bound to the loopback interface, and DNS rebinding protection is on (Host and Origin headers checked), so a
web page the user visits cannot drive a local server either."""

from __future__ import annotations

import hmac
import json

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK = ("127.0.0.1", "localhost", "::1")
PATH = "/mcp"


class BearerTokenMiddleware:
    """Refuses every HTTP request without `Authorization: Bearer <token>` (constant-time comparison)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
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


def http_app(server: MCPServer, *, host: str, port: int, token: str | None) -> Starlette:
    """The server's streamable HTTP app at `/mcp`. Raises ValueError when it would be reachable from other
    machines without a token."""
    if host not in LOOPBACK and not token:
        raise ValueError(
            f"Serving MCP over HTTP on {host} needs a bearer token: set GLP_MCP_TOKEN (e.g. "
            "`openssl rand -hex 32`) and give it to the assistant, or bind to 127.0.0.1."
        )
    hosts = [host, f"{host}:{port}"] + ([f"{name}:{port}" for name in LOOPBACK] if host in LOOPBACK else [])
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[f"http://{h}" for h in hosts],
    )
    app = server.streamable_http_app(streamable_http_path=PATH, transport_security=security, host=host)
    if token:
        app.add_middleware(BearerTokenMiddleware, token=token)
    return app
