"""`ask_database`: a question in plain language, answered with one guarded SQL query and the rows it read.

Who writes the SQL and the answer, in this order:

1. **The client's own model, through MCP sampling**, when the client offers it (its `sampling` capability),
   even if a provider is configured here: the user chose and pays for that model, the client may show each
   request to the user, and no key is needed on the server. Sampling is asked for through the SDK's
   resolvers (`Resolve` + `Sample`), which use the negotiated protocol: since 2026-07-28 each request is an
   `InputRequiredResult` round trip (the resolvers re-run each round; what the client answered rides
   `request_state`), before that a `sampling/createMessage` request in the middle of the call. A client that
   offers sampling and then refuses a request gets the error; the server does not switch to a provider
   behind its back.
2. **The configured provider** (`glp_pipeline.chat`): Anthropic, then OpenAI (or an OpenAI-compatible
   server) when Anthropic errs, times out or is rate-limited.
3. Neither: a tool error that says how to configure one, and points to `run_query`.

Either way the SQL runs through `queries.run_query` (`glp_pipeline.chat.text_to_sql`), exactly as the
`run_query` tool does, with one retry after a refusal or an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer, Resolve, Sample
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CreateMessageResult, SamplingMessage, TextContent, ToolAnnotations
from pydantic import Field
from typing_extensions import TypedDict

from glp_pipeline.chat import text_to_sql as t2s
from glp_pipeline.chat.providers import (
    NOT_CONFIGURED,
    ChatReply,
    ChatRequest,
    Provider,
    ProviderError,
    ProviderNotConfigured,
    provider_from_settings,
)
from glp_pipeline.queries import InvalidParameter
from glp_pipeline.settings import Settings, get_settings
from mcp_server.common import call, to_json

MAX_ROWS = 500
SAMPLING = "sampling"

# Read-only, but open-world: on the provider path the question, the schema and up to 50 result rows go to
# Anthropic or OpenAI (or the configured OpenAI-compatible server), an entity outside this server and the
# client. A client may use the hint to ask before sending inventory data there.
ASK = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)

RUN_QUERY_HINT = (
    "You can also write the SQL yourself and run it with `run_query` (glp://schema lists the tables)."
)
NO_MODEL = (
    "ask_database needs a language model, and there is none: this MCP client does not offer sampling, and "
    f"{NOT_CONFIGURED[0].lower()}{NOT_CONFIGURED[1:]} Set them where `glp mcp` runs, or use an MCP client "
    f"that supports sampling. {RUN_QUERY_HINT}"
)


class AttemptInfo(TypedDict):
    sql: str | None
    error: str | None
    answered_by: str


class AskResult(TypedDict):
    question: str
    sql: str | None
    columns: list[str]
    rows: list[dict[str, Any]]
    row_count: int
    truncated: bool
    answer: str | None
    answered_by: Literal["sampling", "anthropic", "openai"]
    model: str
    attempts: list[AttemptInfo]
    error: str | None


def register(
    server: MCPServer, *, make_provider: Callable[[Settings], Provider] = provider_from_settings
) -> None:
    """Add `ask_database` to the server. `make_provider` builds the provider from the settings per call
    (tests pass one whose SDKs talk to a fake HTTP transport)."""

    @server.tool(annotations=ASK)
    def ask_database(
        question: Annotated[
            str,
            Field(
                min_length=1,
                max_length=2_000,
                description="A question about the devices and subscriptions, in plain language.",
            ),
        ],
        first: Annotated[t2s.Attempt | None, Resolve(_first_attempt)],
        second: Annotated[t2s.Attempt | None, Resolve(_second_attempt)],
        answer: Annotated[CreateMessageResult | None, Resolve(_answer_request)],
        max_rows: Annotated[int, Field(ge=1, le=MAX_ROWS, description="Rows to return at most.")] = 100,
    ) -> AskResult:
        """Answer a question about the inventory in plain language: a language model writes one read-only
        SQL query over `reporting` and `marts`, it runs through the same guard as `run_query` (one retry
        with the error if it is refused), and the model answers from the rows. Returns the SQL, the rows
        (capped), the answer and who answered: the client's own model through MCP sampling when the client
        offers it, else the provider configured on the server (Anthropic, then OpenAI).
        Read-only, but not closed-world: without sampling, the question, the schema and up to 50 rows go to
        the configured provider's API."""
        if first is not None:  # the client's model wrote it, through sampling
            attempts = [first] if second is None else [first, second]
            reply = _reply(answer) if answer is not None else None
            return _result(t2s.final_answer(t2s.check_question(question), attempts, reply))
        try:
            provider = make_provider(get_settings())
        except ProviderNotConfigured:
            raise ToolError(NO_MODEL) from None
        try:
            return _result(call(t2s.ask, question, provider=provider, max_rows=max_rows))
        except ProviderError as exc:
            raise ToolError(f"{exc} {RUN_QUERY_HINT}") from None
        finally:
            provider.close()


# --- The sampling path: one resolver per step, so each model request is its own round trip. -----------
# Each returns None when the client does not offer sampling (or the step is not needed), so the tool body
# then takes the provider path. Resolvers are module functions: their keys on the wire must be stable.


def _offers_sampling(ctx: Context) -> bool:
    """Whether the client declared sampling. A call from inside the process (`MCPServer.call_tool`, as the
    chat agent's tool registry may make) has no client, so no sampling."""
    try:
        capabilities = ctx.client_capabilities
    except ValueError:  # "Context is not available outside of a request"
        return False
    return capabilities is not None and capabilities.sampling is not None


def _schema(offered: Annotated[bool, Resolve(_offers_sampling)]) -> str | None:
    """The schema text of the prompts, read once per round (only when sampling is offered)."""
    return call(lambda url, config: t2s.schema_context(url, config=config)) if offered else None


def _sql_request(
    question: str, max_rows: int, schema: Annotated[str | None, Resolve(_schema)]
) -> Sample | None:
    if schema is None:
        return None
    return _sample(t2s.sql_request(_question(question), schema, max_rows=max_rows))


def _first_attempt(
    max_rows: int, reply: Annotated[CreateMessageResult | None, Resolve(_sql_request)]
) -> t2s.Attempt | None:
    return None if reply is None else call(t2s.run_reply, _reply(reply), max_rows=max_rows)


def _retry_request(
    question: str,
    max_rows: int,
    schema: Annotated[str | None, Resolve(_schema)],
    first: Annotated[t2s.Attempt | None, Resolve(_first_attempt)],
) -> Sample | None:
    if schema is None or first is None:
        return None
    request = t2s.retry_request(_question(question), schema, first, max_rows=max_rows)
    return None if request is None else _sample(request)


def _second_attempt(
    max_rows: int, reply: Annotated[CreateMessageResult | None, Resolve(_retry_request)]
) -> t2s.Attempt | None:
    return None if reply is None else call(t2s.run_reply, _reply(reply), max_rows=max_rows)


def _answer_request(
    question: str,
    first: Annotated[t2s.Attempt | None, Resolve(_first_attempt)],
    second: Annotated[t2s.Attempt | None, Resolve(_second_attempt)],
) -> Sample | None:
    last = second or first
    request = None if last is None else t2s.answer_request(_question(question), last)
    return None if request is None else _sample(request)


def _question(question: str) -> str:
    try:
        return t2s.check_question(question)
    except InvalidParameter as exc:
        raise ToolError(str(exc)) from None


def _sample(request: ChatRequest) -> Sample:
    """A `ChatRequest` as an MCP sampling request. The system prompt is sent as one (the client may drop
    it: the user message carries the schema and the question either way)."""
    messages = [
        SamplingMessage(role=m.role, content=TextContent(type="text", text=m.content))
        for m in request.messages
    ]
    return Sample(messages, max_tokens=request.max_tokens, system_prompt=request.system)


def _reply(result: CreateMessageResult) -> ChatReply:
    content: Any = result.content
    blocks = content if isinstance(content, list) else [content]
    text = "".join(block.text for block in blocks if isinstance(block, TextContent))
    return ChatReply(text=text, provider=SAMPLING, model=result.model)


def _result(answer: t2s.Answer) -> AskResult:
    result = to_json(answer)
    if result["error"]:
        result["error"] = f"{result['error']} {RUN_QUERY_HINT}"
    return result
