"""The chat's memory: earlier messages and saved facts recalled into a new question's context.

Semantic when it can be: messages and facts are embedded (`embeddings.Embedder`) into pgvector columns and
searched by cosine distance through HNSW indexes. Otherwise, and the result says so in `mode` and
`notice` for the UI, PostgreSQL full-text search over the same rows: when no embedding provider is
configured, when the `vector` extension is missing and may not be created, or when the embedder fails.

- Per user: every query filters on the user; the HNSW scan is iterative (pgvector 0.8), so filtering
  another user's rows out still leaves the k nearest of this user's.
- Vectors of different models or lengths never compare, so each row records its embedding's space
  (`text-embedding-3-small:1536`) and each space has its own partial HNSW index over the column cast to its
  length (`(embedding::vector(1536)) vector_cosine_ops`). Changing the model needs no migration: rows of the
  new space are written as messages are remembered or recalled, the old ones are simply not searched.
- Embedding never stands in the way of storing: a turn is committed first (`store.append_turn`), then
  embedded; a failing embedder loses nothing, and the rows it missed are embedded on a later `remember`
  or `recall` (up to `BACKFILL` at a time). After a failure the embedder rests for `retry_after` seconds,
  so a dead server does not slow every question down.
- Only questions and answers are embedded, not tool calls or results (rows of data recall nothing useful).
- Texts are redacted before they are stored or sent to the embedding API.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import sha256
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row

from glp_pipeline.chat import store
from glp_pipeline.chat.embeddings import (
    Embedder,
    EmbeddingError,
    embedder_from_settings,
    not_configured_reason,
    vector_literal,
)
from glp_pipeline.settings import Settings, get_settings

if TYPE_CHECKING:
    from collections.abc import Sequence

    import httpx2

log = logging.getLogger(__name__)

Mode = Literal["semantic", "full-text"]
SEMANTIC: Mode = "semantic"
FULL_TEXT: Mode = "full-text"
DEFAULT_K = 5
DEFAULT_MIN_SCORE = 0.3  # cosine similarity below which an earlier message is not worth recalling
BACKFILL = 64  # rows embedded per remember/recall that missed their embedding earlier
RECHECK_SECONDS = 300.0  # how long "no pgvector here" is believed before it is checked again
EXCERPT_CHARS = 600


class FactNotFound(LookupError):
    """No such fact for this user."""


@dataclass(frozen=True)
class Fact:
    """A fact the user asked to be remembered."""

    id: int
    content: str
    created_at: datetime


@dataclass(frozen=True)
class Recalled:
    """One recalled item. For a message: its conversation, its role, and, for a question, the answer that
    followed it (`reply`). `score` is the cosine similarity (semantic) or the text rank (full-text), 0..1."""

    kind: Literal["message", "fact"]
    id: int
    content: str
    score: float
    created_at: datetime
    role: str | None = None
    conversation_id: UUID | None = None
    conversation_title: str | None = None
    reply: str | None = None


@dataclass(frozen=True)
class Recall:
    """What `recall` found, and how: `mode` is `semantic` or `full-text`; `notice` says why it is not
    semantic (for the UI to show), None when it is."""

    mode: Mode
    messages: list[Recalled] = field(default_factory=list)
    facts: list[Recalled] = field(default_factory=list)
    notice: str | None = None

    @property
    def empty(self) -> bool:
        return not self.messages and not self.facts

    def snippets(self) -> list[str]:
        """One line per recalled item, facts first: what `ChatAgent.run(memories=...)` takes."""
        lines = [f"Saved fact: {_excerpt(f.content)}" for f in self.facts]
        for m in self.messages:
            when = m.created_at.date().isoformat()
            said = "The user asked" if m.role == "user" else "You answered"
            line = f"{said} on {when} ({m.conversation_title}): {_excerpt(m.content)}"
            if m.reply:
                line += f" Your answer then: {_excerpt(m.reply)}"
            lines.append(line)
        return lines

    def context(self, max_chars: int = 4_000) -> str:
        """The snippets as one text block for a prompt ("" when nothing was recalled), at most `max_chars`."""
        lines: list[str] = []
        size = 0
        for line in self.snippets():
            if size + len(line) + 3 > max_chars:
                break
            lines.append(f"- {line}")
            size += len(line) + 3
        return "\n".join(lines)


@dataclass(frozen=True)
class VectorSupport:
    """Whether the database has pgvector, in which schema, and if not, what an administrator must do."""

    schema: str | None
    version: str | None
    problem: str | None = None

    @property
    def available(self) -> bool:
        return self.schema is not None

    @property
    def iterative_scans(self) -> bool:
        """pgvector 0.8 added iterative index scans (filters that keep k results)."""
        parts = tuple(int(p) for p in (self.version or "0").split(".")[:2] if p.isdigit())
        return parts >= (0, 8)


_support: dict[tuple[str, ...], tuple[VectorSupport, float]] = {}
_indexed: set[tuple[str, ...]] = set()
_lock = threading.Lock()


def ensure_vector(conn: psycopg.Connection) -> VectorSupport:
    """pgvector for the memory: `create extension if not exists vector` when it is missing and this user may,
    then the embedding columns. Once per process and database; a missing extension is checked again after
    `RECHECK_SECONDS` (an administrator may have created it meanwhile)."""
    target = store.connection_target(conn)
    cached = _support.get(target)
    if cached and (cached[0].available or time.monotonic() - cached[1] < RECHECK_SECONDS):
        return cached[0]
    store.ensure_schema(conn)
    outer = conn.info.transaction_status != TransactionStatus.IDLE
    support = _find_vector(conn)
    if not support.available:
        support = _create_vector(conn)
    if support.available:
        _add_columns(conn, support)
    if not outer:
        with _lock:
            _support[target] = (support, time.monotonic())
    if support.problem:
        log.warning("%s", support.problem)
    return support


def forget_vector_cache() -> None:
    """Check pgvector and the indexes again on next use."""
    with _lock:
        _support.clear()
        _indexed.clear()


def _find_vector(conn: psycopg.Connection) -> VectorSupport:
    with conn.transaction():
        row = conn.execute(
            "select n.nspname, e.extversion from pg_extension e"
            " join pg_namespace n on n.oid = e.extnamespace where e.extname = 'vector'"
        ).fetchone()
    return VectorSupport(row[0], row[1]) if row else VectorSupport(None, None)


def _create_vector(conn: psycopg.Connection) -> VectorSupport:
    database = conn.info.dbname
    with conn.transaction():
        offered = conn.execute("select 1 from pg_available_extensions where name = 'vector'").fetchone()
    if not offered:
        return VectorSupport(
            None,
            None,
            "Semantic recall needs pgvector, which this PostgreSQL server does not have. An administrator "
            f"must install pgvector on the server and run `create extension vector;` in database "
            f"{database}; until then recall uses full-text search.",
        )
    try:
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(hashtext('glp.chat vector'))")
            conn.execute("create extension if not exists vector")
    except psycopg.errors.InsufficientPrivilege:
        return VectorSupport(
            None,
            None,
            f"Semantic recall needs the pgvector extension in database {database}, and the database user "
            f"{conn.info.user} may not create it. An administrator must run `create extension vector;` in "
            "that database (as a superuser); until then recall uses full-text search.",
        )
    return _find_vector(conn)


def _add_columns(conn: psycopg.Connection, support: VectorSupport) -> None:
    vector = sql.SQL("{}.vector").format(sql.Identifier(support.schema))  # type: ignore[arg-type]
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('glp.chat schema'))")
        for table in ("chat_messages", "chat_facts"):
            conn.execute(
                sql.SQL(
                    "alter table glp.{} add column if not exists embedding {},"
                    " add column if not exists embedding_space text"
                ).format(sql.Identifier(table), vector)
            )


class Memory:
    """Recall and saved facts for the chat. One per process (it holds the embedder's HTTP connections and
    remembers a failing embedder); every method takes the connection and the user it acts for.

    `Memory.from_settings()` for the configured embedder; `Memory(None)` for full-text search only."""

    def __init__(
        self,
        embedder: Embedder | None,
        *,
        unavailable: str | None = None,
        redactor: store.Redactor | None = None,
        retry_after: float = 60.0,
    ) -> None:
        self.embedder = embedder
        self.unavailable = unavailable or (None if embedder else not_configured_reason(get_settings()))
        self.redactor = redactor
        self.retry_after = retry_after
        self._failure: tuple[float, str] | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings | None = None, *, http_client: httpx2.Client | None = None
    ) -> Memory:
        """The memory the settings configure: semantic with an embedding provider, else full-text."""
        settings = settings or get_settings()
        embedder = embedder_from_settings(settings, http_client=http_client)
        return cls(
            embedder,
            unavailable=None if embedder else not_configured_reason(settings),
            redactor=store.Redactor.from_settings(settings),
        )

    # --- status ---------------------------------------------------------------------------------------

    def status(self, conn: psycopg.Connection) -> tuple[Mode, str | None]:
        """How recall would work now, and why not semantically (for a notice before any question)."""
        reason = self._why_not_semantic(conn)
        return (FULL_TEXT, reason) if reason else (SEMANTIC, None)

    def _why_not_semantic(self, conn: psycopg.Connection) -> str | None:
        if self.embedder is None:
            return self.unavailable
        support = ensure_vector(conn)
        if not support.available:
            return support.problem
        if self._failure and time.monotonic() - self._failure[0] < self.retry_after:
            return f"{self._failure[1]} Recall uses full-text search for now."
        return None

    # --- writing --------------------------------------------------------------------------------------

    def store_turn(
        self,
        conn: psycopg.Connection,
        user_id: str,
        conversation_id: UUID | str,
        messages: Sequence[store.NewMessage],
    ) -> list[store.StoredMessage]:
        """`store.append_turn` (committed first), then `remember`: the turn stays if embedding fails."""
        stored = store.append_turn(conn, user_id, conversation_id, messages, redactor=self._redactor)
        self._remember_quietly(conn, user_id)
        return stored

    def remember(self, conn: psycopg.Connection, user_id: str, *, limit: int = BACKFILL) -> int:
        """Embed the user's newest questions, answers and facts that have no embedding in the current space
        (the turn just stored, and any a failing embedder missed). Never raises for the embedder: returns how
        many rows were embedded (0 when recall is not semantic now)."""
        user = store.normalise_user(user_id)
        if self._why_not_semantic(conn) is not None:
            return 0
        pending = self._pending(conn, user, limit)
        if not pending:
            return 0
        try:
            vectors = self._embedder.embed([row["content"] for row in pending])
        except EmbeddingError as exc:
            self._failed(exc)
            return 0
        self._write(conn, user, pending, vectors)
        return len(pending)

    def _remember_quietly(self, conn: psycopg.Connection, user_id: str) -> None:
        """`remember` after something was stored: a database error there (a lock, a dropped index) must not
        look like the store failed; a later `remember` or `recall` embeds what this one missed."""
        try:
            self.remember(conn, user_id)
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            log.warning("Could not embed for recall (stored anyway): %s", first)

    def save_fact(self, conn: psycopg.Connection, user_id: str, text: str) -> Fact:
        """Remember a fact for the user (redacted; the same text twice is one fact), embedded if it can be."""
        user = store.normalise_user(user_id)
        content = " ".join(self._redactor.text(text or "").replace("\x00", "").split())
        if not content:
            raise ValueError("A fact to remember cannot be empty.")
        store.ensure_schema(conn)
        with conn.transaction():
            cursor = conn.cursor(row_factory=dict_row)
            row = cursor.execute(
                "select id, content, created_at from glp.chat_facts where user_id = %s and content = %s",
                (user, content),
            ).fetchone()
            if row is None:
                row = cursor.execute(
                    "insert into glp.chat_facts (user_id, content) values (%s, %s)"
                    " returning id, content, created_at",
                    (user, content),
                ).fetchone()
        assert row is not None
        self._remember_quietly(conn, user)
        return _fact(row)

    def facts(self, conn: psycopg.Connection, user_id: str, *, limit: int = 200) -> list[Fact]:
        """The user's saved facts, newest first."""
        store.ensure_schema(conn)
        with conn.transaction():
            rows = (
                conn.cursor(row_factory=dict_row)
                .execute(
                    "select id, content, created_at from glp.chat_facts where user_id = %s"
                    " order by created_at desc, id desc limit %s",
                    (store.normalise_user(user_id), limit),
                )
                .fetchall()
            )
        return [_fact(row) for row in rows]

    def delete_fact(self, conn: psycopg.Connection, user_id: str, fact_id: int) -> None:
        """Forget one of the user's facts; `FactNotFound` for another user's or a missing one."""
        store.ensure_schema(conn)
        with conn.transaction():
            deleted = conn.execute(
                "delete from glp.chat_facts where id = %s and user_id = %s returning id",
                (int(fact_id), store.normalise_user(user_id)),
            ).fetchone()
        if deleted is None:
            raise FactNotFound(f"No fact {fact_id}.")

    # --- recall ---------------------------------------------------------------------------------------

    def recall(
        self,
        conn: psycopg.Connection,
        user_id: str,
        text: str,
        k: int = DEFAULT_K,
        *,
        exclude_conversation: UUID | str | None = None,
        min_score: float = DEFAULT_MIN_SCORE,
    ) -> Recall:
        """The user's (and only the user's) earlier messages and saved facts most relevant to `text`: at
        most `k` of each, the best first, and whether they were found semantically or by full-text search.

        `exclude_conversation`: leave out the conversation the question belongs to (its messages are in the
        context already). `min_score`: the least cosine similarity a semantic hit needs."""
        user = store.normalise_user(user_id)
        store.ensure_schema(conn)
        query = self._redactor.text(text or "").strip()
        exclude = _optional_uuid(exclude_conversation)
        reason = self._why_not_semantic(conn)
        if not query:
            return Recall(FULL_TEXT if reason else SEMANTIC, notice=reason)
        if reason is None:
            pending = self._pending(conn, user, BACKFILL)
            try:
                vectors = self._embedder.embed([query] + [row["content"] for row in pending])
            except EmbeddingError as exc:
                reason = self._failed(exc) + " Recall used full-text search instead."
            else:
                self._write(conn, user, pending, vectors[1:])
                return self._semantic(conn, user, vectors[0], k, exclude, min_score)
        return self._full_text(conn, user, query, k, exclude, reason)

    def _semantic(
        self,
        conn: psycopg.Connection,
        user: str,
        vector: list[float],
        k: int,
        exclude: UUID | None,
        min_score: float,
    ) -> Recall:
        support = ensure_vector(conn)
        self._ensure_index(conn, support)
        literal = vector_literal(vector)
        with conn.transaction():
            if support.iterative_scans:
                # Filtering by user after the index scan could leave fewer than k: scan on until k are found.
                conn.execute("select set_config('hnsw.iterative_scan', 'relaxed_order', true)")
            cursor = conn.cursor(row_factory=dict_row)
            messages = cursor.execute(
                self._nearest("chat_messages", support, exclude is not None),
                {"user": user, "vector": literal, "k": k, "exclude": exclude, "floor": min_score},
            ).fetchall()
            facts = cursor.execute(
                self._nearest("chat_facts", support, False),
                {"user": user, "vector": literal, "k": k, "floor": min_score},
            ).fetchall()
        return Recall(
            SEMANTIC, [_recalled("message", r) for r in messages], [_recalled("fact", r) for r in facts]
        )

    def _full_text(
        self,
        conn: psycopg.Connection,
        user: str,
        query: str,
        k: int,
        exclude: UUID | None,
        notice: str | None,
    ) -> Recall:
        # Any of the question's words (stemmed, stop words dropped), ranked: all of them would rarely match.
        terms = sql.SQL(
            "(select string_agg(quote_literal(word), ' | ')"
            " from unnest(tsvector_to_array(to_tsvector({config}::regconfig, %(query)s))) word)::tsquery"
        ).format(config=sql.Literal(store.TEXT_SEARCH_CONFIG))
        params = {"user": user, "query": query, "k": k, "exclude": exclude}
        with conn.transaction():
            cursor = conn.cursor(row_factory=dict_row)
            messages = cursor.execute(
                sql.SQL(
                    "with q as (select {terms} as query)"
                    " select m.id, m.content, m.role, m.created_at, m.conversation_id,"
                    " c.title as conversation_title, ts_rank_cd(m.search_vector, q.query, 32) as score,"
                    " {reply}"
                    " from q, glp.chat_messages m"
                    " join glp.chat_conversations c on c.id = m.conversation_id and c.user_id = m.user_id"
                    " where m.user_id = %(user)s and m.role in ('user', 'assistant')"
                    " and m.search_vector @@ q.query {exclude}"
                    " order by score desc, m.id desc limit %(k)s"
                ).format(terms=terms, reply=_REPLY, exclude=_exclude(exclude is not None)),
                params,
            ).fetchall()
            facts = cursor.execute(
                sql.SQL(
                    "with q as (select {terms} as query)"
                    " select f.id, f.content, f.created_at, ts_rank_cd(f.search_vector, q.query, 32) as score"
                    " from q, glp.chat_facts f where f.user_id = %(user)s and f.search_vector @@ q.query"
                    " order by score desc, f.id desc limit %(k)s"
                ).format(terms=terms),
                params,
            ).fetchall()
        return Recall(
            FULL_TEXT,
            [_recalled("message", r) for r in messages],
            [_recalled("fact", r) for r in facts],
            notice,
        )

    # --- embedding rows -------------------------------------------------------------------------------

    def _nearest(self, table: str, support: VectorSupport, exclude: bool) -> sql.Composed:
        """The k rows of a user nearest a vector, through the space's HNSW index (the query's cast and
        predicate are the index's own, so the planner can use it), re-sorted after the relaxed scan."""
        distance = sql.SQL("({cast}) {op} %(vector)s::{vtype}").format(
            cast=self._cast(support, "t.embedding"),
            op=sql.SQL("operator({}.<=>)").format(sql.Identifier(support.schema)),  # type: ignore[arg-type]
            vtype=self._vtype(support),
        )
        if table == "chat_messages":
            columns = sql.SQL(
                "t.id, t.content, t.role, t.created_at, t.conversation_id, t.user_id, {distance} as distance"
            ).format(distance=distance)
            roles = sql.SQL(" and t.role in ('user', 'assistant')")
            outer = sql.SQL(
                "select m.id, m.content, m.role, m.created_at, m.conversation_id,"
                " c.title as conversation_title, 1 - m.distance as score, {reply}"
                " from hits m join glp.chat_conversations c"
                " on c.id = m.conversation_id and c.user_id = m.user_id"
                " where 1 - m.distance >= %(floor)s order by m.distance"
            ).format(reply=_REPLY)
        else:
            columns = sql.SQL("t.id, t.content, t.created_at, {distance} as distance").format(
                distance=distance
            )
            roles = sql.SQL("")
            outer = sql.SQL(
                "select id, content, created_at, 1 - distance as score from hits"
                " where 1 - distance >= %(floor)s order by distance"
            )
        return sql.SQL(
            "with hits as materialized (select {columns} from glp.{table} t"
            " where t.embedding_space = {space} and t.user_id = %(user)s{roles}{exclude}"
            " order by distance limit %(k)s) {outer}"
        ).format(
            columns=columns,
            table=sql.Identifier(table),
            space=sql.Literal(self._embedder.space),
            roles=roles,
            exclude=_exclude(exclude, "t"),
            outer=outer,
        )

    def _cast(self, support: VectorSupport, column: str) -> sql.Composed:
        return sql.SQL("{}::{}").format(sql.SQL(column), self._vtype(support))

    def _vtype(self, support: VectorSupport) -> sql.Composed:
        return sql.SQL("{}.vector({})").format(
            sql.Identifier(support.schema),  # type: ignore[arg-type]
            sql.Literal(self._embedder.dimensions),
        )

    def index_names(self) -> dict[str, str]:
        """The HNSW index of the current space on each table (they are created on first use)."""
        digest = sha256(self._embedder.space.encode()).hexdigest()[:10]
        dims = self._embedder.dimensions
        return {table: f"{table}_hnsw_{dims}_{digest}" for table in ("chat_messages", "chat_facts")}

    def _ensure_index(self, conn: psycopg.Connection, support: VectorSupport) -> None:
        """The space's partial HNSW index on each table (cosine distance), once per process and database."""
        key = (*store.connection_target(conn), self._embedder.space)
        if key in _indexed:
            return
        outer = conn.info.transaction_status != TransactionStatus.IDLE
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(hashtext('glp.chat schema'))")
            for table, name in self.index_names().items():
                conn.execute(
                    sql.SQL(
                        "create index if not exists {name} on glp.{table} using hnsw (({cast}) {ops})"
                        " where embedding_space = {space}"
                    ).format(
                        name=sql.Identifier(name),
                        table=sql.Identifier(table),
                        cast=self._cast(support, "embedding"),
                        ops=sql.SQL("{}.vector_cosine_ops").format(sql.Identifier(support.schema)),  # type: ignore[arg-type]
                        space=sql.Literal(self._embedder.space),
                    )
                )
        if not outer:  # inside the caller's transaction the index is only as sure as their commit
            with _lock:
                _indexed.add(key)

    def _pending(self, conn: psycopg.Connection, user: str, limit: int) -> list[dict[str, Any]]:
        """The user's newest questions, answers and facts not yet embedded in the current space."""
        space = self._embedder.space
        with conn.transaction():
            return (
                conn.cursor(row_factory=dict_row)
                .execute(
                    "(select 'chat_messages' as tbl, id, content, created_at from glp.chat_messages"
                    "  where user_id = %(user)s and role in ('user', 'assistant')"
                    "  and coalesce(content, '') <> '' and embedding_space is distinct from %(space)s"
                    "  order by id desc limit %(limit)s)"
                    " union all"
                    " (select 'chat_facts', id, content, created_at from glp.chat_facts"
                    "  where user_id = %(user)s and embedding_space is distinct from %(space)s"
                    "  order by id desc limit %(limit)s)"
                    " order by created_at desc limit %(limit)s",
                    {"user": user, "space": space, "limit": limit},
                )
                .fetchall()
            )

    def _write(
        self, conn: psycopg.Connection, user: str, rows: Iterable[dict[str, Any]], vectors: list[list[float]]
    ) -> None:
        support = ensure_vector(conn)
        space = self._embedder.space
        vtype = sql.SQL("{}.vector").format(sql.Identifier(support.schema))  # type: ignore[arg-type]
        by_table: dict[str, list[tuple]] = {}
        for row, vector in zip(rows, vectors, strict=True):
            by_table.setdefault(row["tbl"], []).append((vector_literal(vector), space, row["id"], user))
        if not by_table:
            return
        self._ensure_index(conn, support)
        with conn.transaction(), conn.cursor() as cursor:
            for table, values in by_table.items():
                cursor.executemany(
                    sql.SQL(
                        "update glp.{} set embedding = %s::{}, embedding_space = %s"
                        " where id = %s and user_id = %s"
                    ).format(sql.Identifier(table), vtype),
                    values,
                )

    def _failed(self, exc: EmbeddingError) -> str:
        message = str(exc)
        self._failure = (time.monotonic(), message)
        log.warning("Embedding failed: %s", message)
        return message

    @property
    def _embedder(self) -> Embedder:
        assert self.embedder is not None, "only called when recall is semantic"
        return self.embedder

    @property
    def _redactor(self) -> store.Redactor:
        return self.redactor or store.default_redactor()

    def close(self) -> None:
        """Release the embedder's HTTP connections."""
        if self.embedder is not None:
            self.embedder.close()


_REPLY = sql.SQL(
    "case when m.role = 'user' then (select a.content from glp.chat_messages a"
    " where a.conversation_id = m.conversation_id and a.user_id = m.user_id and a.id > m.id"
    " and a.role = 'assistant' and coalesce(a.content, '') <> '' order by a.id limit 1) end as reply"
)


def _exclude(exclude: bool, alias: str = "m") -> sql.Composable:
    if not exclude:
        return sql.SQL("")
    return sql.SQL(" and {}.conversation_id <> %(exclude)s").format(sql.Identifier(alias))


def _optional_uuid(value: UUID | str | None) -> UUID | None:
    if value is None or isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        return None


def _recalled(kind: Literal["message", "fact"], row: dict[str, Any]) -> Recalled:
    return Recalled(
        kind=kind,
        id=row["id"],
        content=row["content"],
        score=round(float(row["score"]), 4),
        created_at=row["created_at"].astimezone(UTC),
        role=row.get("role"),
        conversation_id=row.get("conversation_id"),
        conversation_title=(row.get("conversation_title") or store.UNTITLED) if kind == "message" else None,
        reply=row.get("reply"),
    )


def _fact(row: dict[str, Any]) -> Fact:
    return Fact(id=row["id"], content=row["content"], created_at=row["created_at"].astimezone(UTC))


def _excerpt(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"
