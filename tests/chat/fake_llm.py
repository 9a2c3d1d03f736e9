"""A fake Anthropic and OpenAI API behind `httpx2.MockTransport`, so the real SDKs run end to end.

It answers the Messages API (`api.anthropic.com`) and Chat Completions (any other host) in their wire
formats, records every request, and can be told to fail per API (an HTTP status or a timeout). What the
"model" says is scripted: SQL requests (recognised by the text-to-SQL system prompt) get the next of
`sql` (the last one repeats); answer requests get a sentence naming how many rows the prompt showed,
so a test can tell the rows reached the model. The same script serves MCP sampling (`reply`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx2

from glp_pipeline.chat.text_to_sql import ANSWER_SYSTEM, SQL_SYSTEM

SQL_MARK = SQL_SYSTEM.splitlines()[0][:40]
ANSWER_MARK = ANSWER_SYSTEM.splitlines()[0][:40]
ANTHROPIC_HOST = "api.anthropic.com"


@dataclass
class Seen:
    """One request the fake received."""

    api: str
    headers: dict[str, str]
    body: dict[str, Any]
    system: str
    messages: list[tuple[str, str]]

    @property
    def kind(self) -> str:
        return "sql" if SQL_MARK in self.system else "answer" if ANSWER_MARK in self.system else "other"


@dataclass
class FakeLLM:
    sql: list[str] = field(default_factory=lambda: ["```sql\nselect 1 as one\n```"])
    failures: dict[str, int | str] = field(default_factory=dict)  # api -> HTTP status, or "timeout"
    error_message: str = "Overloaded"
    seen: list[Seen] = field(default_factory=list)
    _sql_calls: int = 0

    def client(self) -> httpx2.Client:
        return httpx2.Client(transport=httpx2.MockTransport(self.handle))

    def requests(self, api: str | None = None, kind: str | None = None) -> list[Seen]:
        return [s for s in self.seen if (api is None or s.api == api) and (kind is None or s.kind == kind)]

    def reply(self, system: str, messages: list[tuple[str, str]]) -> str:
        """What the scripted model says to a conversation (also used for MCP sampling)."""
        if SQL_MARK in system:
            text = self.sql[min(self._sql_calls, len(self.sql) - 1)]
            self._sql_calls += 1
            return text
        if ANSWER_MARK in system:
            prompt = messages[-1][1]
            shown = re.search(r"```json\n(.*?)\n```", prompt, re.S)
            rows = [json.loads(line) for line in shown.group(1).splitlines() if line] if shown else []
            return f"The result has {len(rows)} rows; the first is {json.dumps(rows[0]) if rows else 'none'}."
        return "I do not know."

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        api = "anthropic" if request.url.host == ANTHROPIC_HOST else "openai"
        body = json.loads(request.content or b"{}")
        if api == "anthropic":
            system = body.get("system") or ""
            messages = [(m["role"], _text(m["content"])) for m in body.get("messages", [])]
        else:
            chat = body.get("messages", [])
            system = "\n".join(_text(m["content"]) for m in chat if m["role"] == "system")
            messages = [(m["role"], _text(m["content"])) for m in chat if m["role"] != "system"]
        self.seen.append(Seen(api, dict(request.headers), body, system, messages))
        failure = self.failures.get(api)
        if failure == "timeout":
            raise httpx2.ReadTimeout("timed out", request=request)
        if isinstance(failure, int):
            error = {"type": "error", "error": {"type": "api_error", "message": self.error_message}}
            if api == "openai":
                error = {"error": {"message": self.error_message, "type": "server_error", "code": None}}
            return httpx2.Response(failure, json=error, headers={"retry-after-ms": "10"})
        text = self.reply(system, messages)
        model = body.get("model", "")
        if api == "anthropic":
            return httpx2.Response(200, json={
                "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": 1, "output_tokens": 1},
            })  # fmt: skip
        choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        return httpx2.Response(200, json={
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": model,
            "choices": [choice], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        })  # fmt: skip


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def fenced(sql: str) -> str:
    """A reply as models usually write it: a sentence and the SQL in a fenced block."""
    return f"Here is the query:\n\n```sql\n{sql}\n```\n"
