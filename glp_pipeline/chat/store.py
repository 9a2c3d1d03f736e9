"""Chat conversations in PostgreSQL (schema `glp`, next to the sync history and the assignment journal).

Every function takes the user it acts for and enforces it in its SQL: another user's conversation is
`ConversationNotFound`, exactly like one that does not exist, so ids reveal nothing. The user is the
dashboard login's email (lower-cased) or `LOCAL_USER` for the terminal.

- A conversation is a row of `glp.chat_conversations`; its messages (`glp.chat_messages`) are the user's
  questions, the assistant's answers and tool calls, and the tools' results, in order. A message's user
  is its conversation's owner, which a composite foreign key guarantees.
- `append_turn` writes one exchange (the question, the assistant's tool calls and the tools' results, the
  answer) in one transaction and titles an untitled conversation from its first question.
- Deleting is real (the messages and their embeddings go too): a user who deletes a conversation expects
  what they said to be gone, from recall as well.
- Nothing secret is stored: every text, title and JSON value passes a `Redactor` first, which removes the
  secrets the settings hold (LLM and embedding keys, the GreenLake client secret, database passwords,
  tokens) and things shaped like keys.
- The tables are created on first use, once per process and database (not on every page render), under an
  advisory lock so that two processes starting together do not race.

The functions run their statements in `conn.transaction()`, so on an autocommit connection (or one with no
transaction open) each call commits on its own; inside a transaction the caller opened, the caller commits.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import SecretStr

from glp_pipeline.database import EMBEDDED_PASSWORD
from glp_pipeline.settings import Settings, get_settings

if TYPE_CHECKING:
    import psycopg

LOCAL_USER = "local"  # the terminal's user (`glp chat`)
Role = Literal["user", "assistant", "tool"]
ROLES = ("user", "assistant", "tool")
TITLE_CHARS = 60
MAX_TITLE_CHARS = 200
UNTITLED = "New conversation"
REDACTED = "[redacted]"
TEXT_SEARCH_CONFIG = "english"  # stems words, so "subscriptions" finds "subscription"

DDL = f"""
create schema if not exists glp;
create table if not exists glp.chat_conversations (
    id          uuid        primary key,
    user_id     text        not null,
    title       text,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    unique (id, user_id)
);
create index if not exists chat_conversations_user_updated_idx
    on glp.chat_conversations (user_id, updated_at desc);
create table if not exists glp.chat_messages (
    id              bigint      generated always as identity primary key,
    conversation_id uuid        not null,
    user_id         text        not null,
    role            text        not null check (role in ('user', 'assistant', 'tool')),
    content         text,
    tool_calls      jsonb,
    tool_results    jsonb,
    provider        text,
    model           text,
    created_at      timestamptz not null default now(),
    search_vector   tsvector    generated always as
                    (to_tsvector('{TEXT_SEARCH_CONFIG}'::regconfig, coalesce(content, ''))) stored,
    foreign key (conversation_id, user_id)
        references glp.chat_conversations (id, user_id) on delete cascade
);
create index if not exists chat_messages_conversation_idx on glp.chat_messages (conversation_id, id);
create index if not exists chat_messages_user_idx on glp.chat_messages (user_id);
create index if not exists chat_messages_search_idx on glp.chat_messages using gin (search_vector);
create table if not exists glp.chat_facts (
    id              bigint      generated always as identity primary key,
    user_id         text        not null,
    content         text        not null,
    created_at      timestamptz not null default now(),
    search_vector   tsvector    generated always as
                    (to_tsvector('{TEXT_SEARCH_CONFIG}'::regconfig, content)) stored
);
create index if not exists chat_facts_user_idx on glp.chat_facts (user_id, created_at desc);
create index if not exists chat_facts_search_idx on glp.chat_facts using gin (search_vector);
comment on table glp.chat_conversations is
    'AI chat conversations, one owner each (the dashboard login''s email, or local for glp chat).';
comment on table glp.chat_messages is
    'AI chat messages in order: questions, answers, tool calls and results (secrets redacted).';
comment on table glp.chat_facts is
    'Facts a chat user asked to be remembered, recalled into later conversations.';
"""


class ConversationNotFound(LookupError):
    """No such conversation for this user (it may be another user's, or deleted)."""


@dataclass(frozen=True)
class NewMessage:
    """A message to append. `tool_calls` (on assistant messages) and `tool_results` (on tool messages) are
    JSON values as the agent has them, e.g. `[{"id": ..., "name": ..., "input": {...}}]`."""

    role: Role
    content: str | None = None
    tool_calls: Any = None
    tool_results: Any = None
    provider: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class StoredMessage:
    """A message as stored (secrets redacted), with its id and time."""

    id: int
    conversation_id: UUID
    role: Role
    content: str | None
    tool_calls: Any
    tool_results: Any
    provider: str | None
    model: str | None
    created_at: datetime

    def to_agent(self) -> dict[str, Any]:
        """The message in the agent's history format (`providers.Message.to_dict()`): tool results travel
        in a user message there, as Anthropic's API has them."""
        data: dict[str, Any] = {
            "role": "user" if self.role == "tool" else self.role,
            "content": self.content or "",
        }
        if self.tool_calls:
            data["tool_calls"] = self.tool_calls
        if self.tool_results:
            data["tool_results"] = self.tool_results
        return data


@dataclass(frozen=True)
class Conversation:
    """A conversation. `message_count` counts questions and answers (not tool results); `messages` is filled
    by `load_conversation` only."""

    id: UUID
    user_id: str
    title: str
    created_at: datetime
    updated_at: datetime
    message_count: int = 0
    messages: tuple[StoredMessage, ...] = field(default=(), repr=False)

    def history(self) -> list[dict[str, Any]]:
        """The loaded messages as the agent takes them as `history` (see `StoredMessage.to_agent`)."""
        return [m.to_agent() for m in self.messages]


def messages_from_agent(
    messages: Iterable[Mapping[str, Any]], *, provider: str | None = None, model: str | None = None
) -> list[NewMessage]:
    """The agent's messages of one question (`AgentDone.messages`: plain JSON, the question first) as a turn
    to append. A user message that carries tool results is stored as a `tool` message; the assistant's
    messages get the provider and model that answered."""
    turn = []
    for m in messages:
        results = m.get("tool_results") or None
        role = (
            "tool"
            if m.get("role") == "user" and results and not str(m.get("content") or "").strip()
            else m["role"]
        )
        assistant = role == "assistant"
        turn.append(
            NewMessage(
                role=role,
                content=m.get("content") or None,
                tool_calls=m.get("tool_calls") or None,
                tool_results=results,
                provider=provider if assistant else None,
                model=model if assistant else None,
            )
        )
    return turn


# --- Redaction ----------------------------------------------------------------------------------------

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S), REDACTED),
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}"), REDACTED),  # OpenAI, Anthropic (sk-ant-...)
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"), REDACTED),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9\-]{10,}"), REDACTED),  # Slack
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), REDACTED),  # AWS access key ids
    (re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"), REDACTED),  # JWTs
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{12,}"), rf"\1 {REDACTED}"),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^/\s:@]+:)[^@\s/]+@"), rf"\1{REDACTED}@"),  # URL passwords
)
# `password=...`, `"api_key": "..."`: the value goes when it looks like a credential (letters and digits,
# or long), so that prose such as "password: ask the admin" survives.
_ASSIGNMENT = re.compile(
    r"(?i)\b((?:api[_\-]?key|client[_\-]?secret|secret|password|passwd|pwd|access[_\-]?token|"
    r"refresh[_\-]?token|auth[_\-]?token|token)[\"']?\s*[:=]\s*[\"']?)([^\s\"'&,;]{8,})"
)
_SECRET_KEYS = re.compile(
    r"(?i)^(?:.*[_\-])?(?:api[_\-]?key|secret|password|passwd|token|authorization|credentials?)$"
)
MIN_SECRET_CHARS = 4  # shorter configured values would redact ordinary words


class Redactor:
    """Removes secrets from text and JSON before they are stored: the values the settings hold as secrets
    (every `SecretStr` setting, and the password inside a secret URL), and anything shaped like a key."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = {s for s in secrets if s and len(s) >= MIN_SECRET_CHARS and s != EMBEDDED_PASSWORD}
        self.secrets = sorted(values, key=len, reverse=True)  # a URL before the password inside it

    @classmethod
    def from_settings(cls, settings: Settings) -> Redactor:
        """Every secret setting (LLM and embedding keys, GreenLake client secret, database URLs and their
        passwords, tokens): all fields typed `SecretStr`, so that secret settings added later are covered."""
        secrets = []
        for name in type(settings).model_fields:
            value = getattr(settings, name, None)
            if isinstance(value, SecretStr) and value.get_secret_value().strip():
                secret = value.get_secret_value().strip()
                secrets.append(secret)
                try:
                    password = urlsplit(secret).password
                except ValueError:
                    password = None
                if password:
                    secrets.append(password)
        return cls(secrets)

    def text(self, value: str) -> str:
        """The text with every secret replaced by `[redacted]`."""
        for secret in self.secrets:
            value = value.replace(secret, REDACTED)
        for pattern, replacement in _PATTERNS:
            value = pattern.sub(replacement, value)
        return _ASSIGNMENT.sub(_redact_assignment, value)

    def json(self, value: Any) -> Any:
        """A JSON-like value with every string redacted, and the values of keys named like secrets removed."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {
                self.text(str(k)): REDACTED
                if isinstance(v, str) and v and _SECRET_KEYS.match(str(k))
                else self.json(v)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.json(v) for v in value]
        return value


def _redact_assignment(match: re.Match[str]) -> str:
    value = match.group(2)
    looks_like_secret = len(value) >= 20 or (re.search(r"\d", value) and re.search(r"[A-Za-z]", value))
    return match.group(1) + REDACTED if looks_like_secret and value != REDACTED else match.group(0)


def default_redactor() -> Redactor:
    """The redactor for the process's settings."""
    return Redactor.from_settings(get_settings())


# --- Schema -------------------------------------------------------------------------------------------

_ready: set[tuple[str, ...]] = set()
_ready_lock = threading.Lock()


def connection_target(conn: psycopg.Connection) -> tuple[str, ...]:
    """Which database a connection reaches (server, port, database): what the schema cache is keyed by."""
    info = conn.info
    return (info.host, str(info.port), info.dbname)


def ensure_schema(conn: psycopg.Connection, *, force: bool = False) -> None:
    """Create the chat tables if they are missing: once per process and database, not on every call.

    Not remembered when it ran inside a transaction the caller opened (which could still roll back)."""
    target = connection_target(conn)
    if target in _ready and not force:
        return
    outer = conn.info.transaction_status != TransactionStatus.IDLE
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('glp.chat schema'))")
        conn.execute(DDL)  # type: ignore[arg-type]
    if not outer:
        with _ready_lock:
            _ready.add(target)


def forget_schema_cache() -> None:
    """Make the next call check the tables again (after a database was dropped and created anew)."""
    with _ready_lock:
        _ready.clear()


# --- Conversations ------------------------------------------------------------------------------------


def normalise_user(user_id: str) -> str:
    """The stored form of a user id: trimmed and lower-cased (emails differ in case between logins)."""
    user = (user_id or "").strip().lower()
    if not user:
        raise ValueError("A chat user is needed (the dashboard login's email, or 'local').")
    if len(user) > 320:
        raise ValueError("A chat user id is at most 320 characters (an email address).")
    return user


def make_title(question: str, limit: int = TITLE_CHARS) -> str:
    """A title from a question: one line, at most `limit` characters, cut at a word."""
    text = " ".join(question.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:-") + "…"


def create_conversation(
    conn: psycopg.Connection,
    user_id: str,
    title: str | None = None,
    *,
    redactor: Redactor | None = None,
) -> Conversation:
    """A new, empty conversation; untitled ones take their title from their first question."""
    ensure_schema(conn)
    user = normalise_user(user_id)
    clean = _clean_title(title, redactor) if title is not None else None
    with conn.transaction():
        row = (
            conn.cursor(row_factory=dict_row)
            .execute(
                "insert into glp.chat_conversations (id, user_id, title) values (%s, %s, %s)"
                " returning id, user_id, title, created_at, updated_at",
                (uuid4(), user, clean),
            )
            .fetchone()
        )
    assert row is not None
    return _conversation(row | {"message_count": 0})


def list_conversations(
    conn: psycopg.Connection, user_id: str, *, limit: int = 100, offset: int = 0
) -> list[Conversation]:
    """The user's conversations, the most recently active first, with their message counts."""
    ensure_schema(conn)
    with conn.transaction():
        rows = (
            conn.cursor(row_factory=dict_row)
            .execute(
                "select c.id, c.user_id, c.title, c.created_at, c.updated_at,"
                " (select count(*) from glp.chat_messages m where m.conversation_id = c.id"
                "  and m.role in ('user', 'assistant') and m.content is not null) as message_count"
                " from glp.chat_conversations c where c.user_id = %s"
                " order by c.updated_at desc, c.created_at desc limit %s offset %s",
                (normalise_user(user_id), limit, offset),
            )
            .fetchall()
        )
    return [_conversation(row) for row in rows]


def load_conversation(conn: psycopg.Connection, user_id: str, conversation_id: UUID | str) -> Conversation:
    """One of the user's conversations with all its messages in order; `ConversationNotFound` otherwise."""
    ensure_schema(conn)
    user, cid = normalise_user(user_id), _uuid(conversation_id)
    with conn.transaction():
        cursor = conn.cursor(row_factory=dict_row)
        row = cursor.execute(
            "select id, user_id, title, created_at, updated_at from glp.chat_conversations"
            " where id = %s and user_id = %s",
            (cid, user),
        ).fetchone()
        if row is None:
            raise ConversationNotFound(f"No conversation {conversation_id}.")
        messages = [
            _message(m)
            for m in cursor.execute(
                "select id, conversation_id, role, content, tool_calls, tool_results, provider, model,"
                " created_at from glp.chat_messages"
                " where conversation_id = %s and user_id = %s order by id",
                (cid, user),
            )
        ]
    counted = sum(1 for m in messages if m.role != "tool" and m.content is not None)
    return _conversation(row | {"message_count": counted}, tuple(messages))


def append_turn(
    conn: psycopg.Connection,
    user_id: str,
    conversation_id: UUID | str,
    messages: Sequence[NewMessage],
    *,
    redactor: Redactor | None = None,
) -> list[StoredMessage]:
    """Store one exchange in one transaction: usually the question, then the assistant's tool calls and the
    tools' results, then the answer. Secrets are redacted first; an untitled conversation takes its first
    question as its title. Returns the stored messages (their ids are what the memory embeds)."""
    if not messages:
        raise ValueError("A turn has at least one message.")
    for message in messages:
        if message.role not in ROLES:
            raise ValueError(f"Unknown message role {message.role!r} (user, assistant or tool).")
    ensure_schema(conn)
    redactor = redactor or default_redactor()
    user, cid = normalise_user(user_id), _uuid(conversation_id)
    question = next(
        (m.content for m in messages if m.role == "user" and m.content and m.content.strip()), None
    )
    title = make_title(_no_nul(redactor.text(question))) if question else None
    rows = [
        (
            cid,
            user,
            m.role,
            _no_nul(redactor.text(m.content)) if m.content is not None else None,
            _jsonb(m.tool_calls, redactor),
            _jsonb(m.tool_results, redactor),
            m.provider,
            m.model,
        )
        for m in messages
    ]
    with conn.transaction():
        owned = conn.execute(
            "update glp.chat_conversations set updated_at = now(), title = coalesce(title, %s)"
            " where id = %s and user_id = %s returning id",
            (title, cid, user),
        ).fetchone()
        if owned is None:
            raise ConversationNotFound(f"No conversation {conversation_id}.")
        with conn.cursor(row_factory=dict_row) as cursor:
            cursor.executemany(
                "insert into glp.chat_messages (conversation_id, user_id, role, content, tool_calls,"
                " tool_results, provider, model) values (%s, %s, %s, %s, %s, %s, %s, %s)"
                " returning id, conversation_id, role, content, tool_calls, tool_results, provider, model,"
                " created_at",
                rows,
                returning=True,
            )
            stored = []
            while True:
                row = cursor.fetchone()
                if row is not None:
                    stored.append(_message(row))
                if not cursor.nextset():
                    break
    return stored


def rename_conversation(
    conn: psycopg.Connection,
    user_id: str,
    conversation_id: UUID | str,
    title: str,
    *,
    redactor: Redactor | None = None,
) -> Conversation:
    """Give one of the user's conversations a new title (one line, at most 200 characters)."""
    clean = _clean_title(title, redactor)
    ensure_schema(conn)
    with conn.transaction():
        row = (
            conn.cursor(row_factory=dict_row)
            .execute(
                "update glp.chat_conversations c set title = %s, updated_at = now()"
                " where c.id = %s and c.user_id = %s"
                " returning c.id, c.user_id, c.title, c.created_at, c.updated_at,"
                " (select count(*) from glp.chat_messages m where m.conversation_id = c.id"
                "  and m.role in ('user', 'assistant') and m.content is not null) as message_count",
                (clean, _uuid(conversation_id), normalise_user(user_id)),
            )
            .fetchone()
        )
    if row is None:
        raise ConversationNotFound(f"No conversation {conversation_id}.")
    return _conversation(row)


def delete_conversation(conn: psycopg.Connection, user_id: str, conversation_id: UUID | str) -> None:
    """Delete one of the user's conversations and its messages (and so their embeddings) for good."""
    ensure_schema(conn)
    with conn.transaction():
        deleted = conn.execute(
            "delete from glp.chat_conversations where id = %s and user_id = %s returning id",
            (_uuid(conversation_id), normalise_user(user_id)),
        ).fetchone()
    if deleted is None:
        raise ConversationNotFound(f"No conversation {conversation_id}.")


# --- Helpers ------------------------------------------------------------------------------------------


def _uuid(value: UUID | str) -> UUID:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        raise ConversationNotFound(f"No conversation {value}.") from None


def _clean_title(title: str, redactor: Redactor | None) -> str:
    text = " ".join(_no_nul(title or "").split())
    if not text:
        raise ValueError("A conversation title cannot be empty.")
    return make_title((redactor or default_redactor()).text(text), MAX_TITLE_CHARS)


def _conversation(row: dict[str, Any], messages: tuple[StoredMessage, ...] = ()) -> Conversation:
    return Conversation(
        id=row["id"],
        user_id=row["user_id"],
        title=row["title"] or UNTITLED,
        created_at=row["created_at"].astimezone(UTC),
        updated_at=row["updated_at"].astimezone(UTC),
        message_count=int(row.get("message_count") or 0),
        messages=messages,
    )


def _message(row: dict[str, Any]) -> StoredMessage:
    return StoredMessage(**(row | {"created_at": row["created_at"].astimezone(UTC)}))


def _jsonb(value: Any, redactor: Redactor) -> Jsonb | None:
    """The value as JSON (anything JSON cannot hold as its text, NaN and infinities as null), then redacted:
    so nothing's `str()` can carry a secret past the redactor."""
    if value is None:
        return None
    plain = json.loads(json.dumps(value, default=_json_default), parse_constant=lambda _: None)
    return Jsonb(_no_nul(redactor.json(plain)))


def _no_nul(value: Any) -> Any:
    """PostgreSQL's text and jsonb cannot hold NUL characters (a model or a tool may still produce one)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_no_nul(k): _no_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nul(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    """Query rows in tool results hold dates, decimals and ids, the agent may hold dataclasses or pydantic
    models: store them as JSON can."""
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)
