"""The fake Anthropic and OpenAI APIs (`FakeLLM`) behind a real HTTP server on loopback, for the faces
(`glp chat`, the dashboard's chat page) that build their providers from the settings: they are pointed at it
with `GLP_ANTHROPIC_BASE_URL` / `GLP_OPENAI_BASE_URL`, and the real SDKs talk HTTP to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx2
from starlette.requests import Request
from starlette.responses import Response

from glp_pipeline.simulator.server import SimulatorServer
from tests.chat.fake_llm import ANTHROPIC_HOST, FakeLLM, Seen, Turn

ANTHROPIC_KEY = "sk-ant-loopback-test-key"
BY_TYPE = "select device_type, count(*) as devices from reporting.active_devices group by 1 order by 1"
HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "content-encoding"}


def asgi_app(fake: FakeLLM):
    """`/anthropic/...` is the Messages API, `/openai/...` an OpenAI-compatible server."""

    async def app(scope, receive, send):
        request = Request(scope, receive)
        body = await request.body()
        path = request.url.path
        if path.startswith("/anthropic"):
            url = f"https://{ANTHROPIC_HOST}{path.removeprefix('/anthropic')}"
        else:
            url = f"https://openai.loopback{path.removeprefix('/openai')}"
        headers = [(k, v) for k, v in request.headers.items() if k.lower() != "host"]
        answer = fake.handle(httpx2.Request(request.method, url, headers=headers, content=body))
        content = answer.read()
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
        await Response(content, status_code=answer.status_code, headers=kept)(scope, receive, send)

    return app


@contextmanager
def serve(fake: FakeLLM) -> Iterator[dict[str, str]]:
    """Serve `fake` on 127.0.0.1; yields the environment that points Claude (tried first) at it."""
    server = SimulatorServer.start(asgi_app(fake), "127.0.0.1", 0, workspace_id="llm")
    try:
        yield {
            "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
            "GLP_ANTHROPIC_BASE_URL": f"{server.base_url}/anthropic",
            "GLP_EMBEDDINGS_ENABLED": "false",
        }
    finally:
        server.stop()


def answer_by_type(seen: Seen) -> Turn:
    """The scripted model's answer from the `run_query` result of BY_TYPE it was sent: `TYPE=n, ...`."""
    rows = seen.result("run_query")["rows"]
    return Turn("By type: " + ", ".join(f"{r['device_type']}={r['devices']}" for r in rows) + ".")
