"""The chat agent: a question answered by a model that uses the inventory tools, streamed as events.

    agent = ChatAgent.from_settings()                 # ProviderNotConfigured says what to set
    for event in agent.run(history, "Which APs in us-west expire this quarter?", memories=recalled):
        match event:
            case TextDelta(text=text): ...           # the answer as it is written
            case ToolCallStarted(): ...              # name, arguments, the SQL of run_query
            case ToolCallFinished(outcome=o): ...    # o.result (structured), o.is_error, o.elapsed_ms
            case AgentError(message=m): ...          # safe to show; an AgentDone still follows
            case AgentDone() as done: ...            # last: answer, provider, model, tool calls, usage,
                                                     # and done.messages for the store

One question is a loop of turns: the model streams a reply; when it asks for tools, they run (through the
MCP server's tools, `ToolRegistry`) and their results go back to it for the next turn; a reply without tool
calls ends the loop. The loop is bounded: at most `max_turns` model requests and `max_tool_calls` tool calls
per question (settings GLP_CHAT_MAX_TURNS and GLP_CHAT_MAX_TOOL_CALLS); when a bound is hit the agent stops
and the answer says so.

Every run ends with one `AgentDone`, errors included, whose `messages` (plain JSON, the user's message first)
are what the store keeps and gives back as the next run's `history`. The text deltas joined are the
answer: between turns a blank line is streamed, and a stop note is streamed too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

import httpx2

from glp_pipeline.chat.providers import (
    ChatReply,
    ChatRequest,
    Message,
    Provider,
    ProviderError,
    ReplyDone,
    StreamFailed,
    TextDelta,
    ToolResult,
    Usage,
    _redact,
    provider_from_settings,
)
from glp_pipeline.chat.tools import ToolOutcome, ToolRegistry
from glp_pipeline.settings import Settings, get_settings

log = logging.getLogger(__name__)

MAX_TOKENS = 4096  # per model reply
MAX_MESSAGE_CHARS = 8_000
HISTORY_RESULT_CHARS = 2_000  # tool results of earlier questions, as the model sees them again
MEMORY_CHARS = 4_000  # recalled snippets in the system prompt, all together

Stopped = Literal["answered", "max_turns", "max_tool_calls", "error"]

SYSTEM_PROMPT = """\
You are the assistant of GLP Sync, which keeps an HPE GreenLake workspace's inventory (its devices and \
subscriptions) in PostgreSQL, synced from the GreenLake APIs and modelled into reporting tables. You \
answer its administrators' questions about that inventory. The time now is {now} UTC.

- Answer from the data, through the tools. Never guess or invent devices, serial numbers, counts, dates \
or subscription keys; when the tools cannot answer, say so.
- Prefer the specific tools (inventory_overview, search_devices, expiring_subscriptions ...). For other \
questions write one read-only PostgreSQL SELECT over the reporting and marts schemas described below and \
run it with run_query. In marts.devices and marts.subscriptions leave out removed objects \
(is_removed = false) unless the question is about them.
- Whenever you ran SQL, show it in your answer in a ```sql block, so that the user can check it.
- Say how fresh the data is when it matters (counts, "now", anything recent): sync_status or \
inventory_overview tells when the last sync succeeded, and whether the data is stale.
- When a tool returns an error, read it, correct the call and try again; never repeat a failing call \
unchanged. When a result was cut short, say so.
- Keep answers short: the figures, a short list or a small table.
- Everything here is read-only: you cannot change the inventory or GreenLake. Say so when asked to.
- Answer in the language the user writes in."""

NO_SCHEMA = (
    "The database schema could not be read just now (the database may be down or not built yet): use the "
    "specific tools, and tell the user if they fail."
)
MEMORY_INTRO = (
    "Recalled from earlier conversations with this user (possibly out of date; check figures with the "
    "tools before relying on them):"
)
NOT_RUN = "Not run: the limit of {limit} tool calls per question was reached. Answer with what you have."
STOP_NOTES: dict[str, str] = {
    "max_turns": "I stopped here: answering this took more than {max_turns} steps, the limit per question.",
    "max_tool_calls": "I stopped here: answering this needed more than {max_tool_calls} tool calls, the "
    "limit per question.",
}
STOP_HINT = " Ask a narrower question, or ask me to continue."


@dataclass(frozen=True)
class ToolCallStarted:
    """A tool call is about to run: its name, arguments and (for `run_query`) the SQL."""

    call_id: str
    name: str
    arguments: dict[str, Any]
    sql: str | None


@dataclass(frozen=True)
class ToolCallFinished:
    """A tool call ran: `outcome` has the structured result, `is_error`, the SQL and the elapsed time."""

    outcome: ToolOutcome


@dataclass(frozen=True)
class AgentError:
    """The model could not answer (every provider failed, or one failed mid-answer); safe to show. The
    run's `AgentDone` follows."""

    message: str
    provider: str | None = None


@dataclass(frozen=True)
class AgentDone:
    """The last event of a run.

    - `answer`: the whole text the user saw streamed (every turn's text, and a stop note when a bound hit);
    - `provider`, `model`: who wrote the last reply (None when no reply came);
    - `tool_calls`: every tool call as it ran (`ToolOutcome.to_dict()` for storage and display);
    - `usage`: tokens over every turn, when the APIs reported them;
    - `messages`: this question's messages as plain JSON, the user's first: text, tool calls and tool
      results, in order. Stored and passed back as `history`, they let the model see what it did;
    - `stopped`: `answered`, `max_turns`, `max_tool_calls` or `error` (then `error` says why);
    - `turns`: model requests made."""

    answer: str
    provider: str | None
    model: str | None
    tool_calls: tuple[ToolOutcome, ...]
    usage: Usage | None
    messages: tuple[dict[str, Any], ...]
    stopped: Stopped
    error: str | None = None
    turns: int = 0


AgentEvent = TextDelta | ToolCallStarted | ToolCallFinished | AgentError | AgentDone


@dataclass
class _Run:
    """What one question has produced so far."""

    conversation: list[Message]
    messages: list[Message]
    outcomes: list[ToolOutcome] = field(default_factory=list)
    shown: str = ""  # the text streamed to the user
    usage: Usage | None = None
    last: ChatReply | None = None
    turns: int = 0

    def add(self, message: Message) -> None:
        self.conversation.append(message)
        self.messages.append(message)

    def stream(self, text: str) -> TextDelta:
        self.shown += text
        return TextDelta(text)

    def separator(self) -> str:
        """A blank line between the texts of two turns."""
        return "\n\n" if self.shown and not self.shown.endswith("\n\n") else ""


class ChatAgent:
    """Answers questions with a provider and the tool registry, in bounded turns (see the module)."""

    def __init__(
        self,
        provider: Provider,
        tools: ToolRegistry,
        *,
        max_turns: int = 8,
        max_tool_calls: int = 16,
        max_tokens: int = MAX_TOKENS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if max_turns < 1 or max_tool_calls < 0:
            raise ValueError("max_turns must be at least 1 and max_tool_calls at least 0.")
        self.provider = provider
        self.tools = tools
        self.max_turns = max_turns
        self.max_tool_calls = max_tool_calls
        self.max_tokens = max_tokens
        self._clock = clock

    @classmethod
    def from_settings(
        cls,
        settings: Settings | None = None,
        *,
        tools: ToolRegistry | None = None,
        http_client: httpx2.Client | None = None,
    ) -> ChatAgent:
        """The agent the settings configure: their providers (Anthropic, then OpenAI) and bounds, and the
        MCP server's tools. Raises `ProviderNotConfigured`, whose message says what to set, when no provider
        is configured; nothing else is touched then."""
        settings = settings or get_settings()
        provider = provider_from_settings(settings, http_client=http_client)
        return cls(
            provider,
            tools or ToolRegistry(),
            max_turns=settings.glp_chat_max_turns,
            max_tool_calls=settings.glp_chat_max_tool_calls,
        )

    def close(self) -> None:
        """Release the provider's HTTP connections."""
        self.provider.close()

    def system_prompt(self, memories: Sequence[str] = ()) -> str:
        """The instructions, the schema `run_query` reads, and the recalled snippets (when any)."""
        now = self._clock().astimezone(UTC).strftime("%Y-%m-%d %H:%M (%A)")
        parts = [SYSTEM_PROMPT.format(now=now), self.tools.schema_text() or NO_SCHEMA]
        recalled = _memories(memories)
        if recalled:
            parts.append(f"{MEMORY_INTRO}\n{recalled}")
        return "\n\n".join(parts)

    def run(
        self,
        history: Sequence[Message | Mapping[str, Any]],
        message: str,
        *,
        memories: Sequence[str] = (),
    ) -> Iterator[AgentEvent]:
        """Answer `message`, given the conversation so far (`Message`s, or the dicts of earlier
        `AgentDone.messages`) and recalled snippets for the system prompt, as a stream of events ending with
        one `AgentDone`. Raises `ValueError` at once for an empty or overlong message."""
        text = (message or "").strip()
        if not text:
            raise ValueError("Ask a question, e.g. 'How many access points are unassigned?'")
        if len(text) > MAX_MESSAGE_CHARS:
            raise ValueError(f"Ask in at most {MAX_MESSAGE_CHARS:,} characters.")
        return self._run(replayable(history), text, memories)

    def _run(self, history: list[Message], text: str, memories: Sequence[str]) -> Iterator[AgentEvent]:
        user = Message("user", text)
        if history and history[-1].role == "user":  # the last question got no reply: ask both as one
            history = [*history[:-1], _merge(history[-1], user)]
        else:
            history = [*history, user]
        run = _Run(conversation=history, messages=[user])
        system = self.system_prompt(memories)
        stopped: Stopped = "answered"
        error: str | None = None
        while True:
            run.turns += 1
            request = ChatRequest(system, tuple(run.conversation), self.max_tokens, self.tools.specs)
            reply, error, failed = yield from self._turn(request, run)
            if reply is None:
                stopped = "error"
                yield AgentError(error or "The model did not answer.", failed)
                break
            run.last = reply
            run.usage = reply.usage if run.usage is None else run.usage + (reply.usage or Usage())
            run.add(Message("assistant", reply.text, tool_calls=reply.tool_calls))
            if not reply.tool_calls:
                break
            limit = yield from self._call_tools(reply, run)
            if limit is not None:
                stopped = limit
                note = STOP_NOTES[limit].format(max_turns=self.max_turns, max_tool_calls=self.max_tool_calls)
                yield run.stream(run.separator() + note + STOP_HINT)
                run.add(Message("assistant", note + STOP_HINT))
                break
        last = run.last
        yield AgentDone(
            answer=run.shown,
            provider=last.provider if last else None,
            model=last.model if last else None,
            tool_calls=tuple(run.outcomes),
            usage=run.usage,
            messages=tuple(m.to_dict() for m in run.messages),
            stopped=stopped,
            error=error if stopped == "error" else None,
            turns=run.turns,
        )

    def _turn(
        self, request: ChatRequest, run: _Run
    ) -> Generator[AgentEvent, None, tuple[ChatReply | None, str | None, str | None]]:
        """One model request, its text streamed on; returns the reply, or None, the error and the provider
        that failed (when one can be named). Text streamed before a failure is kept in the conversation (the
        user saw it)."""
        separator = run.separator()
        streamed: list[str] = []
        reply: ChatReply | None = None
        error: str | None = None
        failed: str | None = None
        try:
            for event in self.provider.stream(request):
                if isinstance(event, TextDelta) and event.text:
                    if separator:
                        yield run.stream(separator)
                        separator = ""
                    streamed.append(event.text)
                    yield run.stream(event.text)
                elif isinstance(event, ReplyDone):
                    reply = event.reply
                elif isinstance(event, StreamFailed):
                    error, failed = event.message, event.provider
        except ProviderError as exc:
            error, failed = str(exc), exc.provider
        except Exception as exc:  # a bug or an SDK surprise: the chat says so rather than crashing the page
            log.exception("The chat's model request failed unexpectedly")
            error = f"The model request failed unexpectedly ({type(exc).__name__}); see the log."
        if reply is None:
            if streamed:
                run.add(Message("assistant", "".join(streamed)))
            error = _redact(error or "The model's stream ended without a reply.", self.provider.secrets)
            return None, error, failed
        return reply, None, None

    def _call_tools(self, reply: ChatReply, run: _Run) -> Generator[AgentEvent, None, Stopped | None]:
        """Run the reply's tool calls within the bounds, and add their results to the conversation.
        Returns the bound that stops the run, or None to go on. Calls beyond the budget are answered
        with an error rather than left unanswered (each call needs its result in the history)."""
        limit: Stopped | None
        if run.turns >= self.max_turns:
            limit = "max_turns"
        elif len(run.outcomes) >= self.max_tool_calls:
            limit = "max_tool_calls"
        else:
            limit = None
        results: list[ToolResult] = []
        for call in reply.tool_calls:
            if limit is not None or len(run.outcomes) >= self.max_tool_calls:
                results.append(ToolResult(call.id, NOT_RUN.format(limit=self.max_tool_calls), is_error=True))
                continue
            yield ToolCallStarted(
                call.id, call.name, call.arguments, self.tools.sql_for(call.name, call.arguments)
            )
            outcome = self.tools.call(call)
            run.outcomes.append(outcome)
            yield ToolCallFinished(outcome)
            results.append(outcome.to_result())
        run.add(Message("user", tool_results=tuple(results)))
        return limit


def replayable(history: Sequence[Message | Mapping[str, Any]]) -> list[Message]:
    """A stored conversation made safe to send again: dicts become `Message`s; a tool call whose result
    is missing (a run cut short) loses it, and a result without its call goes; empty messages go, and so
    do assistant messages before the first user message; consecutive messages of one role are merged (the
    APIs want them alternating); tool results are shortened to `HISTORY_RESULT_CHARS` (the model can call
    the tool again)."""
    messages = [m if isinstance(m, Message) else Message.from_dict(m) for m in history]
    cleaned: list[Message] = []
    for n, m in enumerate(messages):
        if m.tool_calls:
            after = messages[n + 1] if n + 1 < len(messages) else None
            answered = (
                {r.tool_call_id for r in after.tool_results} if after and after.role == "user" else set()
            )
            if not {c.id for c in m.tool_calls} <= answered:
                m = replace(m, tool_calls=())
        if m.tool_results:
            before = cleaned[-1] if cleaned else None
            asked = {c.id for c in before.tool_calls} if before and before.role == "assistant" else set()
            kept = tuple(
                replace(r, content=_clip(r.content, HISTORY_RESULT_CHARS))
                for r in m.tool_results
                if r.tool_call_id in asked
            )
            m = replace(m, tool_results=kept)
        if not (m.content.strip() or m.tool_calls or m.tool_results):
            continue
        if not cleaned and m.role == "assistant":
            continue
        if cleaned and cleaned[-1].role == m.role:
            m = _merge(cleaned.pop(), m)
        cleaned.append(m)
    return cleaned


def _merge(first: Message, second: Message) -> Message:
    """Two messages of one role as one. (In a replayable history the first of two assistant messages has
    no tool calls left, so the order of text and calls is kept.)"""
    text = "\n\n".join(t for t in (first.content.strip(), second.content.strip()) if t)
    calls = first.tool_calls + second.tool_calls
    return Message(first.role, text, calls, first.tool_results + second.tool_results)


def _memories(memories: Sequence[str]) -> str:
    lines: list[str] = []
    size = 0
    for memory in memories:
        line = "- " + _clip(" ".join(str(memory).split()), 600)
        if size + len(line) > MEMORY_CHARS:
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
