"""A fake Anthropic and OpenAI API behind `httpx2.MockTransport`, so the real SDKs run end to end.

It answers the Messages API (`api.anthropic.com`) and Chat Completions (any other host) in their wire
formats, plain or streamed (`"stream": true`: Anthropic's SSE events `message_start`, `content_block_start`,
`content_block_delta` with `text_delta` / `input_json_delta`, `content_block_stop`, `message_delta`,
`message_stop`; OpenAI's `chat.completion.chunk` lines with `tool_calls` deltas, a usage chunk and
`[DONE]`), records every request, and can be told to fail per API: an HTTP status, `"timeout"` (the
request times out), `"stall"` (headers arrive, then the body times out) or `"midstream"` (a stream sends
its first words, then an error event).

What the "model" says is scripted:
- SQL requests (recognised by the text-to-SQL system prompt) get the next of `sql` (the last one repeats);
  answer requests get a sentence naming how many rows the prompt showed, so a test can tell the rows
  reached the model. The same script serves MCP sampling (`reply`).
- Any other request (the chat agent's) gets the next of `turns` (the last one repeats): a `Turn` (text
  and tool calls), or a function of the request (`Seen`) returning one, which can read the tool results
  the conversation carries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2

from glp_pipeline.chat.text_to_sql import ANSWER_SYSTEM, SQL_SYSTEM

SQL_MARK = SQL_SYSTEM.splitlines()[0][:40]
ANSWER_MARK = ANSWER_SYSTEM.splitlines()[0][:40]
ANTHROPIC_HOST = "api.anthropic.com"


@dataclass
class Turn:
    """One scripted reply of the chat model: text, and tool calls as (name, arguments). Arguments given as
    a string are sent as they are (OpenAI only: Anthropic's are objects), to script broken JSON."""

    text: str = ""
    calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)


@dataclass
class Seen:
    """One request the fake received."""

    api: str
    headers: dict[str, str]
    body: dict[str, Any]
    system: str
    messages: list[tuple[str, str]]  # (role, text) of each message, tool messages included
    tool_results: list[dict[str, Any]] = field(default_factory=list)  # id, name, content, is_error
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # id, name, arguments (earlier turns)

    @property
    def kind(self) -> str:
        if SQL_MARK in self.system:
            return "sql"
        return "answer" if ANSWER_MARK in self.system else "agent" if self.tools else "other"

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def tools(self) -> list[str]:
        return [t.get("name") or t.get("function", {}).get("name") for t in self.body.get("tools") or []]

    def result(self, name: str) -> dict[str, Any]:
        """The last result of the tool `name` in the conversation, parsed."""
        found = [r for r in self.tool_results if r["name"] == name]
        assert found, f"no {name} result in the conversation"
        return json.loads(found[-1]["content"])


Script = Turn | Callable[[Seen], Turn]


@dataclass
class FakeLLM:
    sql: list[str] = field(default_factory=lambda: ["```sql\nselect 1 as one\n```"])
    turns: list[Script] = field(default_factory=lambda: [Turn("I do not know.")])
    failures: dict[str, int | str] = field(default_factory=dict)  # api -> status, timeout, stall, midstream
    error_message: str = "Overloaded"
    seen: list[Seen] = field(default_factory=list)
    _sql_calls: int = 0
    _turns: int = 0
    _ids: int = 0

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

    def turn(self, seen: Seen) -> Turn:
        """The chat model's next reply."""
        script = self.turns[min(self._turns, len(self.turns) - 1)]
        self._turns += 1
        return script(seen) if callable(script) else script

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        api = "anthropic" if request.url.host == ANTHROPIC_HOST else "openai"
        body = json.loads(request.content or b"{}")
        seen = _anthropic_seen(body) if api == "anthropic" else _openai_seen(body)
        seen.api, seen.headers = api, dict(request.headers)
        self.seen.append(seen)
        failure = self.failures.get(api)
        if failure == "timeout":
            raise httpx2.ReadTimeout("timed out", request=request)
        if failure == "stall":
            return httpx2.Response(200, headers={"content-type": _content_type(seen)}, stream=_Stalled())
        if isinstance(failure, int) or (failure == "midstream" and not seen.stream):
            error = {"type": "error", "error": {"type": "api_error", "message": self.error_message}}
            if api == "openai":
                error = {"error": {"message": self.error_message, "type": "server_error", "code": None}}
            status = failure if isinstance(failure, int) else 500
            return httpx2.Response(status, json=error, headers={"retry-after-ms": "10"})
        if seen.kind in ("sql", "answer", "other"):
            turn = Turn(self.reply(seen.system, seen.messages))
        else:
            turn = self.turn(seen)
        calls = [(self._id(api), name, arguments) for name, arguments in turn.calls]
        model = body.get("model", "")
        if not seen.stream:
            answer = _anthropic_message if api == "anthropic" else _openai_completion
            return httpx2.Response(200, json=answer(model, turn.text, calls))
        fail = self.error_message if failure == "midstream" else None
        if api == "anthropic":
            chunks = list(_anthropic_events(model, turn.text, calls, fail))
        else:
            usage = bool((body.get("stream_options") or {}).get("include_usage"))
            chunks = list(_openai_chunks(model, turn.text, calls, fail, usage=usage))
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content="".join(chunks))

    def _id(self, api: str) -> str:
        self._ids += 1
        return f"toolu_{self._ids:04d}" if api == "anthropic" else f"call_{self._ids:04d}"


class _Stalled(httpx2.SyncByteStream):
    """A body that never comes: the read times out."""

    def __iter__(self) -> Iterator[bytes]:
        raise httpx2.ReadTimeout("timed out")
        yield b""  # pragma: no cover - makes this a generator


def _content_type(seen: Seen) -> str:
    return "text/event-stream" if seen.stream else "application/json"


# --- Requests -------------------------------------------------------------------------------------


def _anthropic_seen(body: dict[str, Any]) -> Seen:
    messages, results, calls = [], [], []
    names: dict[str, str] = {}
    for m in body.get("messages", []):
        content = m["content"]
        messages.append((m["role"], _text(content)))
        for block in content if isinstance(content, list) else []:
            if block.get("type") == "tool_use":
                names[block["id"]] = block["name"]
                calls.append({"id": block["id"], "name": block["name"], "arguments": block["input"]})
            elif block.get("type") == "tool_result":
                results.append({
                    "id": block["tool_use_id"], "name": names.get(block["tool_use_id"]),
                    "content": _text(block.get("content", "")), "is_error": bool(block.get("is_error")),
                })  # fmt: skip
    return Seen("anthropic", {}, body, body.get("system") or "", messages, results, calls)


def _openai_seen(body: dict[str, Any]) -> Seen:
    chat = body.get("messages", [])
    system = "\n".join(_text(m["content"]) for m in chat if m["role"] == "system")
    messages, results, calls = [], [], []
    names: dict[str, str] = {}
    for m in chat:
        if m["role"] == "system":
            continue
        messages.append((m["role"], _text(m.get("content") or "")))
        for call in m.get("tool_calls") or []:
            names[call["id"]] = call["function"]["name"]
            arguments = _loads(call["function"]["arguments"])
            calls.append({"id": call["id"], "name": call["function"]["name"], "arguments": arguments})
        if m["role"] == "tool":
            content = _text(m["content"])
            results.append({
                "id": m["tool_call_id"], "name": names.get(m["tool_call_id"]), "content": content,
                "is_error": content.startswith("Error"),
            })  # fmt: skip
    return Seen("openai", {}, body, system, messages, results, calls)


def _arguments(arguments: dict[str, Any] | str) -> str:
    """Tool-call arguments as OpenAI sends them: JSON text (a string is sent as it is, broken or not)."""
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


# --- Plain replies --------------------------------------------------------------------------------

USAGE_IN, USAGE_OUT = 11, 7
OPENAI_USAGE = {
    "prompt_tokens": USAGE_IN,
    "completion_tokens": USAGE_OUT,
    "total_tokens": USAGE_IN + USAGE_OUT,
}


def _anthropic_message(model: str, text: str, calls: list[tuple[str, str, dict]]) -> dict[str, Any]:
    content = [{"type": "text", "text": text}] if text else []
    content += [{"type": "tool_use", "id": i, "name": n, "input": a} for i, n, a in calls]
    return {
        "id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": content,
        "stop_reason": "tool_use" if calls else "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": USAGE_IN, "output_tokens": USAGE_OUT},
    }  # fmt: skip


def _openai_completion(model: str, text: str, calls: list[tuple[str, str, dict]]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = [
            {"id": i, "type": "function", "function": {"name": n, "arguments": _arguments(a)}}
            for i, n, a in calls
        ]
    choice = {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": model, "choices": [choice],
        "usage": OPENAI_USAGE,
    }  # fmt: skip


# --- Streams ----------------------------------------------------------------------------------------


def words(text: str) -> list[str]:
    """How the fake streams text: word by word, each with the spaces after it."""
    return re.findall(r"\S+\s*|\s+", text)


def _halves(text: str) -> list[str]:
    middle = len(text) // 2
    return [part for part in (text[:middle], text[middle:]) if part]


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


def _anthropic_events(
    model: str, text: str, calls: list[tuple[str, str, dict]], fail: str | None
) -> Iterator[str]:
    message = {
        "id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": USAGE_IN, "output_tokens": 1},
    }  # fmt: skip
    yield _sse("message_start", {"type": "message_start", "message": message})
    yield _sse("ping", {"type": "ping"})
    index = 0
    if text:
        yield _sse("content_block_start", {"type": "content_block_start", "index": 0,
                                           "content_block": {"type": "text", "text": ""}})  # fmt: skip
        for n, piece in enumerate(words(text)):
            delta = {"type": "text_delta", "text": piece}
            yield _sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
            if fail and n == 0:
                error = {"type": "error", "error": {"type": "overloaded_error", "message": fail}}
                yield _sse("error", error)
                return
        yield _sse("content_block_stop", {"type": "content_block_stop", "index": 0})
        index = 1
    for call_id, name, arguments in calls:
        block = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
        yield _sse(
            "content_block_start", {"type": "content_block_start", "index": index, "content_block": block}
        )
        for part in _halves(json.dumps(arguments)):
            delta = {"type": "input_json_delta", "partial_json": part}
            yield _sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
        yield _sse("content_block_stop", {"type": "content_block_stop", "index": index})
        index += 1
    delta = {"stop_reason": "tool_use" if calls else "end_turn", "stop_sequence": None}
    yield _sse(
        "message_delta", {"type": "message_delta", "delta": delta, "usage": {"output_tokens": USAGE_OUT}}
    )
    yield _sse("message_stop", {"type": "message_stop"})


def _openai_chunks(
    model: str, text: str, calls: list[tuple[str, str, dict]], fail: str | None, *, usage: bool
) -> Iterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        data = {
            "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }  # fmt: skip
        return f"data: {json.dumps(data)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    for n, piece in enumerate(words(text)):
        yield chunk({"content": piece})
        if fail and n == 0:
            yield f"data: {json.dumps({'error': {'message': fail, 'type': 'server_error'}})}\n\n"
            return
    for index, (call_id, name, arguments) in enumerate(calls):
        head = {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        yield chunk({"tool_calls": [head]})
        for part in _halves(_arguments(arguments)):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
    yield chunk({}, "tool_calls" if calls else "stop")
    if not usage:  # only when asked for (stream_options.include_usage), as OpenAI does
        yield "data: [DONE]\n\n"
        return
    data = {
        "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model, "choices": [],
        "usage": OPENAI_USAGE,
    }  # fmt: skip
    yield f"data: {json.dumps(data)}\n\n"
    yield "data: [DONE]\n\n"


def fenced(sql: str) -> str:
    """A reply as models usually write it: a sentence and the SQL in a fenced block."""
    return f"Here is the query:\n\n```sql\n{sql}\n```\n"
