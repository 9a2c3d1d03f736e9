"""Questions in plain language → one guarded SQL query → rows → a short answer written from the rows.

The steps are plain functions, so that two drivers share them: `ask` (a configured `Provider`; also the
chat agent's, without MCP) and the MCP tool `ask_database`, which may instead sample the client's own model
through MCP, one step per round trip.

1. `sql_request`: the rules, the schema (relations, columns and dbt's descriptions from `schema_catalog`,
   trimmed to a budget), the values of the categorical columns, a few examples, and the question;
2. `run_reply`: the SQL is taken from the reply (fenced or bare) and run by `queries.run_query`, the same
   guard, role, read-only transaction, timeout and caps as the `run_query` tool; nothing else runs SQL here;
3. `retry_request`: on a guard refusal or a PostgreSQL error the model gets one retry with the error text
   (a database that is down is not the model's fault, and raises instead);
4. `answer_request`: the model writes the answer from (at most 50 of) the rows;
5. `final_answer`: the structured result: question, SQL, columns, rows, the answer, who answered, the
   attempts, and the error when the SQL was refused twice.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from glp_pipeline import queries as q
from glp_pipeline.chat.providers import ChatReply, ChatRequest, Message, Provider
from glp_pipeline.queries.connection import BUILD_HINT, DEFAULT_CONFIG, QueryConfig

DEFAULT_MAX_ROWS = 100
SCHEMA_BUDGET = 16_000  # characters of schema description in the prompt (about 4,000 tokens)
ANSWER_ROWS = 50
ANSWER_CHARS = 8_000
VALUES_PER_COLUMN = 40
SQL_MAX_TOKENS = 4096  # reasoning models spend part of this before they write
ANSWER_MAX_TOKENS = 2048

SQL_SYSTEM = """\
You translate questions about an HPE GreenLake workspace (its devices and subscriptions, synced into \
PostgreSQL by GLP Sync) into SQL. Follow these rules:
- Write exactly one read-only PostgreSQL query: SELECT, or WITH ... SELECT. Never anything that changes \
data or settings, and never more than one statement.
- Read only the relations listed (schemas reporting and marts), with schema-qualified names. Prefer the \
reporting views; in marts.devices and marts.subscriptions leave out removed objects (is_removed = false) \
unless the question is about them.
- Use ordinary built-in functions only (aggregates, window, string, date and time, math, JSON); no system \
or administration functions and no catalog tables.
- End the query with LIMIT {max_rows} or lower.
- Compare text with the listed values exactly; use ilike for free text such as names; compare dates with \
current_date or now().
- Reply with the SQL alone, in one ```sql block."""

EXAMPLES = """\
Examples:
Q: How many devices of each type are there?
```sql
select device_type, sum(total_devices) as devices from reporting.device_summary
group by device_type order by devices desc limit 50
```
Q: Which subscriptions end within 30 days?
```sql
select subscription_key, subscription_type, tier, ends_at, days_remaining
from reporting.subscriptions_expiring_soon where days_remaining < 30 order by ends_at limit 100
```
Q: Which access points in us-west have no subscription?
```sql
select serial_number, model, device_name from reporting.active_devices
where device_type = 'AP' and region = 'us-west' and subscription_count = 0 order by serial_number limit 100
```"""

ANSWER_SYSTEM = """\
You answer questions about an HPE GreenLake workspace's inventory from the result of a SQL query that has \
already run. Answer in at most three sentences or a short list, using only the rows given: never invent \
devices, numbers or dates. Say so when no rows matched, and when the result was cut short. Do not repeat \
the SQL."""

_VALUE_LISTS = (
    ("device_types", "device_type"),
    ("regions", "region"),
    ("tiers", "tier"),
    ("subscription_types", "subscription_type"),
    ("subscription_statuses", "subscription_status"),
    ("tag_keys", "tag_key (device_tags)"),
)
_SHORT_TYPES = {
    "timestamp with time zone": "timestamptz",
    "timestamp without time zone": "timestamp",
    "character varying": "text",
    "double precision": "float8",
}
_FILLER = {"the", "a", "an", "of", "its", "device", "subscription", "greenlake", "hardware", "id"}


@dataclass(frozen=True)
class Attempt:
    """One reply and what became of its SQL: a result, or the error that stopped it."""

    reply: ChatReply
    sql: str | None
    result: q.QueryResult | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None


@dataclass(frozen=True)
class Answer:
    """The structured result of a question. `sql` is the last SQL tried (the one that ran, when one did);
    `answered_by` is `sampling`, `anthropic` or `openai`; `error` says why there are no rows."""

    question: str
    sql: str | None
    columns: list[str]
    rows: list[dict[str, Any]]
    row_count: int
    truncated: bool
    answer: str | None
    answered_by: str
    model: str
    attempts: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def schema_context(url: str, *, config: QueryConfig = DEFAULT_CONFIG, budget: int = SCHEMA_BUDGET) -> str:
    """The relations the model may read, their columns and dbt's descriptions, and the values of the
    categorical columns, as compact text within `budget` characters (descriptions are shortened, then
    dropped, to fit)."""
    catalog = q.schema_catalog(url, config)
    if not catalog:
        raise q.QueryError(f"The GLP Sync tables are not built yet. {BUILD_HINT}")
    values = q.filter_options(url, config)
    return describe_schema(catalog, budget=budget) + "\n\n" + describe_values(values)


def describe_schema(catalog: list[dict[str, Any]], *, budget: int = SCHEMA_BUDGET) -> str:
    """`schema_catalog` as prompt text: a line per relation, then a line per column (`name type:
    description`). A description that only restates the column's name is left out, and so is one already
    given for a column of that name. To fit `budget`: a column name is described only where it first
    appears, descriptions are cut to 45 characters, then left out, and at last each relation's columns are
    listed on one line."""
    text = ""
    for width, once_per_name in ((90, False), (90, True), (45, True), (0, True), (-1, True)):
        lines = ["Relations you may read (name (kind): description; then its columns, type and description):"]
        described: set[Any] = set()
        for rel in catalog:
            about = _first_sentence(rel["description"], 160)
            lines.append(f"{rel['schema']}.{rel['name']} ({rel['kind']})" + (f": {about}" if about else ""))
            columns = [(col["name"], _SHORT_TYPES.get(col["type"], col["type"])) for col in rel["columns"]]
            if width < 0:
                lines.append("  " + ", ".join(f"{name} {kind}" for name, kind in columns))
                continue
            for col, (name, kind) in zip(rel["columns"], columns, strict=True):
                note = _first_sentence(col["description"], width)
                key = name if once_per_name else (name, note)
                if key in described or _restates(name, note):
                    note = ""
                if note:
                    described.add(key)
                lines.append(f"  {name} {kind}" + (f": {note}" if note else ""))
        text = "\n".join(lines)
        if len(text) <= budget:
            break
    return text


def _restates(name: str, description: str) -> bool:
    """Whether a description says no more than the column's name ("sku: SKU", "model: Hardware model")."""
    words = set(re.findall(r"[a-z]+", description.lower())) - _FILLER
    return words <= set(name.lower().split("_")) | {"the", "a", "of"}


def describe_values(values: dict[str, list[str]]) -> str:
    """The values the categorical columns take, so that filters match the data exactly."""
    lines = ["Values of categorical columns:"]
    for key, label in _VALUE_LISTS:
        found = values.get(key) or []
        shown = ", ".join(found[:VALUES_PER_COLUMN]) + (", ..." if len(found) > VALUES_PER_COLUMN else "")
        lines.append(f"  {label}: {shown or '(none)'}")
    return "\n".join(lines)


def sql_request(question: str, context: str, *, max_rows: int = DEFAULT_MAX_ROWS) -> ChatRequest:
    """The first request: rules (system), then schema, examples and the question (user; a client's
    sampling may drop the system prompt, so everything the query needs is in the message)."""
    prompt = f"{context}\n\n{EXAMPLES}\n\nQuestion: {question.strip()}"
    return ChatRequest(
        system=SQL_SYSTEM.format(max_rows=max_rows),
        messages=(Message("user", prompt),),
        max_tokens=SQL_MAX_TOKENS,
    )


def retry_request(
    question: str, context: str, first: Attempt, *, max_rows: int = DEFAULT_MAX_ROWS
) -> ChatRequest | None:
    """The one retry after a refused or failed query: the conversation so far and the error text.
    None when the first attempt ran."""
    if first.ok:
        return None
    request = sql_request(question, context, max_rows=max_rows)
    said = f"```sql\n{first.sql}\n```" if first.sql else _clip(first.reply.text, 2_000)
    retry = (
        f"That did not work: {first.error}\n\nWrite a corrected query that follows the rules, "
        "in one ```sql block."
    )
    return ChatRequest(
        system=request.system,
        messages=(*request.messages, Message("assistant", said), Message("user", retry)),
        max_tokens=SQL_MAX_TOKENS,
    )


def run_reply(
    url: str, reply: ChatReply, *, config: QueryConfig = DEFAULT_CONFIG, max_rows: int = DEFAULT_MAX_ROWS
) -> Attempt:
    """Take the SQL out of a reply and run it through `queries.run_query` (the guard and every layer
    behind it). A refusal or an error of the query itself is the attempt's `error`; anything else (the
    database is down, the reader role is missing) raises `QueryError`."""
    sql = extract_sql(reply.text)
    if sql is None:
        return Attempt(reply, None, error="The reply had no SQL query in it.")
    try:
        result = q.run_query(url, sql, max_rows=max_rows, config=config)
    except q.QueryError as exc:
        if not _is_query_fault(exc):
            raise
        return Attempt(reply, sql, error=str(exc))
    return Attempt(reply, sql, result=result)


def answer_request(question: str, attempt: Attempt) -> ChatRequest | None:
    """The request for the answer, with (at most `ANSWER_ROWS` of) the rows. None when nothing ran."""
    result = attempt.result
    if result is None:
        return None
    shown = _rows_json(result.rows)
    more = " (the result was cut at the row cap: there are more)" if result.truncated else ""
    note = f" The first {shown[1]} rows:" if shown[1] < result.row_count else ""
    prompt = (
        f"Question: {question.strip()}\n\nThe query that ran:\n```sql\n{result.sql}\n```\n\n"
        f"It returned {result.row_count} rows{more}, columns {', '.join(result.columns)}.{note}\n"
        f"```json\n{shown[0]}\n```\n\nAnswer the question from this result."
    )
    return ChatRequest(ANSWER_SYSTEM, (Message("user", prompt),), max_tokens=ANSWER_MAX_TOKENS)


def final_answer(question: str, attempts: list[Attempt], answer: ChatReply | None) -> Answer:
    """The structured result of the attempts (one or two) and the answer (None when no query ran)."""
    last = attempts[-1]
    result = last.result
    error = None
    if result is None:
        error = f"The model's SQL could not run ({len(attempts)} attempts). The last error: {last.error}"
    by = answer or last.reply
    return Answer(
        question=question,
        sql=result.sql if result else last.sql,
        columns=result.columns if result else [],
        rows=result.rows if result else [],
        row_count=result.row_count if result else 0,
        truncated=result.truncated if result else False,
        answer=answer.text.strip() if answer else None,
        answered_by=by.provider,
        model=by.model,
        attempts=[{"sql": a.sql, "error": a.error, "answered_by": a.reply.provider} for a in attempts],
        error=error,
    )


def ask(
    url: str,
    question: str,
    *,
    provider: Provider,
    config: QueryConfig = DEFAULT_CONFIG,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> Answer:
    """Answer a question through `provider`: SQL, one retry on a refusal or error, the rows, the answer.

    Raises `ProviderError` when no provider could answer and `QueryError` when the database cannot be used;
    a query refused twice is not an exception but the answer's `error`."""
    question = check_question(question)
    context = schema_context(url, config=config)
    first = provider.complete(sql_request(question, context, max_rows=max_rows))
    attempts = [run_reply(url, first, config=config, max_rows=max_rows)]
    retry = retry_request(question, context, attempts[0], max_rows=max_rows)
    if retry is not None:
        attempts.append(run_reply(url, provider.complete(retry), config=config, max_rows=max_rows))
    request = answer_request(question, attempts[-1])
    answer = provider.complete(request) if request is not None else None
    return final_answer(question, attempts, answer)


def check_question(question: str) -> str:
    """The question, trimmed; `InvalidParameter` when it is empty or too long."""
    question = (question or "").strip()
    if not question:
        raise q.InvalidParameter("Ask a question, e.g. 'How many access points are unassigned?'")
    if len(question) > 2_000:
        raise q.InvalidParameter("Ask a question of at most 2,000 characters.")
    return question


_THINKING = re.compile(r"<think(?:ing)?>.*?(?:</think(?:ing)?>|\Z)", re.S | re.I)
_FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)
_SQL_TAGS = {"sql", "postgresql", "postgres", "pgsql", "psql", "plpgsql"}
# A bare statement starts a line with a statement keyword: writes included, so that the guard, not the
# extraction, is what refuses them (and the model learns why on its retry).
_STATEMENT = re.compile(
    r"^[ \t]*(?:with|select|explain|table|values|insert|update|delete|merge|create|drop|alter|truncate|grant"
    r"|revoke|copy|do|call|set|reset|begin|start|commit|rollback|lock|vacuum|analyze|listen|notify|prepare"
    r"|execute|declare|refresh|comment|security|load|discard)\b",
    re.I | re.M,
)
_INLINE_SELECT = re.compile(r"\b(?:with\s+\w+\s+as\s*\(|select\b)", re.I)


def extract_sql(text: str) -> str | None:
    """The SQL in a model's reply: the first ```sql block (or the first fenced block), else the bare
    statement from its first line that starts with a statement keyword (or the first `select`) to the next
    blank line. Reasoning (`<think>...</think>`) is ignored. None when there is no SQL."""
    text = _THINKING.sub("", text or "")
    blocks = _FENCE.findall(text)
    if blocks:
        tagged = [body for tag, body in blocks if tag.lower() in _SQL_TAGS]
        untagged = [body for tag, body in blocks if not tag]
        for body in tagged or untagged:
            if body.strip():
                return body.strip()
    start = _STATEMENT.search(text) or _INLINE_SELECT.search(text)
    if start is None:
        return None
    sql = re.split(r"\n[ \t]*\n", text[start.start() :], maxsplit=1)[0].strip()
    return sql.strip("`").strip() or None


def _is_query_fault(exc: q.QueryError) -> bool:
    """Whether the query itself caused the error, so that a corrected query may work: a refusal by the
    guard, or PostgreSQL refusing or cancelling (timeout) the statement. Not: a database that cannot be
    reached or a reader role that is missing."""
    return isinstance(exc, (q.UnsafeQuery, q.QueryFault))


def _first_sentence(text: str | None, width: int) -> str:
    if not text or width <= 0:
        return ""
    text = " ".join(text.split())
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0]
    return _clip(sentence.rstrip(".;"), width)


_SENTENCE_END = re.compile(r"(?<!\be\.g\.)(?<!\bi\.e\.)(?<=[.;])\s+")


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _rows_json(rows: list[dict[str, Any]]) -> tuple[str, int]:
    """At most `ANSWER_ROWS` rows as JSON lines within `ANSWER_CHARS`; returns the text and how many."""
    lines: list[str] = []
    size = 0
    for row in rows[:ANSWER_ROWS]:
        line = json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=str)
        if size + len(line) > ANSWER_CHARS and lines:
            break
        lines.append(_clip(line, ANSWER_CHARS))
        size += len(line) + 1
    return "\n".join(lines), len(lines)
