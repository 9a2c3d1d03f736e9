"""The chat agent's tools: the MCP server's read-only tools, called in process.

One registry, no second copy of any tool: the specs (name, description, input JSON schema) come from
`mcp_server.server.build_server()`'s tool list, and every call goes through that server's own `call_tool`,
so the arguments are validated and the query layer is reached exactly as for an MCP client (the reader
role, the read-only transaction, the statement timeout, the SQL guard of `run_query`). The database is the
configured one (the settings, as for `glp mcp`), resolved per call.

`ask_database` is left out: the agent writes its SQL itself and runs it with `run_query`.

What the model reads is bounded: a result is JSON text of at most `max_result_chars`; a longer one loses
rows from its longest list, with a note saying how many it shows (the UI still gets the whole structured
result). A failing call (bad arguments, refused SQL, database down) is an `is_error` result whose text
says what went wrong, so the model can correct itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from anyio.from_thread import start_blocking_portal
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError, UnexpectedToolError
from mcp.types import CallToolResult, TextContent

from glp_pipeline.chat.providers import ToolCall, ToolResult, ToolSpec

log = logging.getLogger(__name__)

EXCLUDED_TOOLS = frozenset({"ask_database"})
MAX_RESULT_CHARS = 12_000  # about 3,000 tokens per tool result in the conversation
T = TypeVar("T")


@dataclass(frozen=True)
class ToolOutcome:
    """One tool call as it ran, for the model and for the UI.

    `result` is the tool's structured result (JSON-safe; None when it failed), `content` the text the model
    reads (bounded JSON, or the error), `sql` the SQL that ran (for `run_query`, or any result that carries
    `sql`), `truncated` whether `content` left part of `result` out."""

    call_id: str
    name: str
    arguments: dict[str, Any]
    sql: str | None
    result: Any
    content: str
    is_error: bool
    elapsed_ms: float
    truncated: bool = False

    def to_result(self) -> ToolResult:
        """The result as the model gets it, answering the call it came from."""
        return ToolResult(self.call_id, self.content, self.is_error)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON for storage and display (the full structured result included)."""
        return {
            "call_id": self.call_id,
            "name": self.name,
            "arguments": self.arguments,
            "sql": self.sql,
            "result": self.result,
            "is_error": self.is_error,
            "error": self.content if self.is_error else None,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "truncated": self.truncated,
        }


class ToolRegistry:
    """The MCP server's tools (all but `ask_database`), described for a model and called in process.

    Safe to share between conversations: it holds the server and the tool list, no connection."""

    def __init__(
        self,
        server: MCPServer | None = None,
        *,
        exclude: Iterable[str] = EXCLUDED_TOOLS,
        max_result_chars: int = MAX_RESULT_CHARS,
    ) -> None:
        if server is None:
            from mcp_server.server import build_server  # the server imports the chat package (ask_database)

            server = build_server()
        self.server = server
        self.max_result_chars = max_result_chars
        excluded = set(exclude)
        self.specs: tuple[ToolSpec, ...] = tuple(
            ToolSpec(tool.name, tool.description or "", dict(tool.input_schema))
            for tool in _run(server.list_tools)
            if tool.name not in excluded
        )
        self._names = {spec.name for spec in self.specs}
        self._schema: str | None = None

    @property
    def names(self) -> list[str]:
        return [spec.name for spec in self.specs]

    def sql_for(self, name: str, arguments: dict[str, Any]) -> str | None:
        """The SQL a call will run, known before it runs (`run_query`'s argument)."""
        sql = arguments.get("sql") if name == "run_query" else None
        return sql if isinstance(sql, str) else None

    def call(self, call: ToolCall) -> ToolOutcome:
        """Run one tool call through the MCP server. Never raises: a failure is an `is_error` outcome."""
        clock = time.perf_counter()
        result: Any = None
        error: str | None = None
        if call.invalid_arguments is not None:
            error = (
                f"The arguments of {call.name} were not a JSON object: {_clip(call.invalid_arguments, 300)}"
            )
        elif call.name not in self._names:
            error = f"There is no tool {call.name!r}. The tools are: {', '.join(self.names)}."
        else:
            try:
                answer = _run(self.server.call_tool, call.name, dict(call.arguments))
            except UnexpectedToolError as exc:  # a crash: its text stays in the log
                log.error("Tool %s failed unexpectedly", call.name, exc_info=exc.__cause__ or exc)
                error = f"{exc} (an unexpected error; try another way)"
            except ToolError as exc:  # bad arguments, refused SQL, database down: the text says what to do
                error = str(exc)
            else:
                result, error = _structured(answer)
        elapsed = (time.perf_counter() - clock) * 1000
        if error is not None:
            sql = self.sql_for(call.name, call.arguments)
            return ToolOutcome(call.id, call.name, call.arguments, sql, None, error, True, elapsed)
        sql = result.get("sql") if isinstance(result, dict) else None
        sql = sql if isinstance(sql, str) else self.sql_for(call.name, call.arguments)
        content, truncated = bounded_json(result, self.max_result_chars)
        return ToolOutcome(
            call.id, call.name, call.arguments, sql, result, content, False, elapsed, truncated
        )

    def schema_text(self) -> str | None:
        """The relations `run_query` may read, their columns and the categorical values, as prompt text
        (from the server's glp://schema and glp://values resources; read once). None while the database
        cannot be read."""
        if self._schema is None:
            from glp_pipeline.chat.text_to_sql import describe_schema, describe_values

            try:
                catalog = json.loads(self._resource("glp://schema"))
                values = json.loads(self._resource("glp://values"))
            except (ResourceError, ValueError) as exc:
                log.warning("The schema for the chat could not be read: %s", exc)
                return None
            if not catalog:
                return None
            self._schema = describe_schema(catalog) + "\n\n" + describe_values(values)
        return self._schema

    def _resource(self, uri: str) -> str:
        contents = _run(self.server.read_resource, uri)
        text = next(iter(contents)).content  # type: ignore[union-attr]
        return text if isinstance(text, str) else text.decode()


def bounded_json(value: Any, limit: int = MAX_RESULT_CHARS) -> tuple[str, bool]:
    """`value` as compact JSON of at most `limit` characters, and whether anything was left out.

    Too long: the longest list among the object's values (rows, items, runs ...) keeps as many leading
    items as fit, and a `_note` says how many of how many are shown; failing that the text is cut."""
    text = _dumps(value)
    if len(text) <= limit:
        return text, False
    if isinstance(value, dict):
        lists = [k for k, v in value.items() if isinstance(v, list) and v]
        if lists:
            key = max(lists, key=lambda k: len(_dumps(value[k])))
            items = value[key]

            def shortened(n: int) -> str:
                note = (
                    f"Only the first {n} of the {len(items)} {key} are shown here: the result was too long "
                    "for the conversation (the user sees all of them). Narrow or aggregate the query, or "
                    "ask for a smaller page."
                )
                return _dumps(value | {key: items[:n], "_note": note})

            low, high = 0, len(items) - 1  # the most items that fit, by bisection
            while low < high:
                middle = (low + high + 1) // 2
                low, high = (middle, high) if len(shortened(middle)) <= limit else (low, middle - 1)
            text = shortened(low)
            if len(text) <= limit:
                return text, True
    cut = f" … [cut: the result has {len(text)} characters; narrow the query]"
    return text[: max(0, limit - len(cut))] + cut, True


def _structured(answer: Any) -> tuple[Any, str | None]:
    """The structured result of a `CallToolResult`, or the error it carries."""
    if not isinstance(answer, CallToolResult):  # an input request: only ask_database makes those
        return None, "The tool asked for input that the chat cannot give."
    text = "\n".join(block.text for block in answer.content if isinstance(block, TextContent))
    if answer.is_error:
        return None, text or "The tool failed."
    if answer.structured_content is not None:
        return answer.structured_content, None
    try:
        return json.loads(text), None
    except ValueError:
        return text, None


def _run(fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run one of the server's coroutines to the end from synchronous code (a Streamlit script, the
    terminal); from inside a running event loop, on a loop of its own in another thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop here: the usual case
        return anyio.run(fn, *args)
    with start_blocking_portal() as portal:
        return portal.call(fn, *args)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
