"""The chat's memory on a real PostgreSQL with real pgvector, embeddings through the real `openai` SDK against
a fake embeddings server (httpx2.MockTransport): semantic recall per user through HNSW indexes, the
full-text fallback (no provider, a failing provider, no pgvector) and what it says, saved facts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql
from pydantic import SecretStr, ValidationError

from glp_pipeline.chat import memory as memory_module
from glp_pipeline.chat import store
from glp_pipeline.chat.embeddings import Embedder, embedder_from_settings
from glp_pipeline.chat.memory import FULL_TEXT, SEMANTIC, FactNotFound, Memory
from glp_pipeline.chat.store import NewMessage
from glp_pipeline.database import connect
from glp_pipeline.settings import Settings
from tests.chat.fake_embeddings import FakeEmbeddings

ALICE, BOB = "alice@example.com", "bob@example.com"
KEY = "sk-embed-test-0123456789abcdef"


def _settings(**values) -> Settings:
    return Settings(_env_file=None, **({"openai_api_key": SecretStr(KEY)} | values))


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    with connect(database_url, autocommit=True) as connection:
        yield connection


def _ask(memory: Memory, conn, user: str, question: str, answer: str, conversation=None) -> uuid.UUID:
    conversation = conversation or store.create_conversation(conn, user, redactor=store.Redactor())
    memory.store_turn(
        conn,
        user,
        conversation.id,
        [
            NewMessage("user", question),
            NewMessage("assistant", "", tool_calls=[{"id": "c", "name": "run_query", "arguments": {}}]),
            NewMessage("tool", None, tool_results=[{"tool_call_id": "c", "content": "[]"}]),
            NewMessage("assistant", answer, provider="openai", model="gpt-test"),
        ],
    )
    return conversation.id


def test_memory_is_written_and_recalled_semantically_per_user(conn):
    fake = FakeEmbeddings()
    memory = Memory.from_settings(_settings(), http_client=fake.client())
    assert memory.status(conn) == (SEMANTIC, None)
    aps = _ask(
        memory, conn, ALICE, "Which access points in us-west have subscriptions ending?", "CN1 and CN2."
    )
    _ask(memory, conn, ALICE, "How many switches are unassigned?", "Forty switches.")
    current = _ask(
        memory, conn, ALICE, "List access points of us-west with ending subscriptions", "CN1, CN2."
    )
    _ask(memory, conn, BOB, "Which access points in us-west have subscriptions ending?", "Bob's answer.")
    fact = memory.save_fact(conn, ALICE, "My team looks after the access points of us-west")
    memory.save_fact(conn, BOB, "Bob looks after the access points of us-west")

    # Questions and answers are embedded when the turn is stored; tool calls and results are not.
    embedded = conn.execute(
        "select role, count(*) from glp.chat_messages where embedding is not null"
        " and embedding_space = 'text-embedding-3-small:1536' group by role order by role"
    ).fetchall()
    assert embedded == [("assistant", 4), ("user", 4)]
    request = fake.requests[0]
    assert (request["model"], request["dimensions"], request["encoding_format"]) == (
        "text-embedding-3-small",
        1536,
        "float",
    )
    assert fake.headers[0]["authorization"] == f"Bearer {KEY}"

    recall = memory.recall(conn, ALICE, "access points in us-west whose subscriptions are ending", k=3)
    assert (recall.mode, recall.notice) == (SEMANTIC, None)
    assert {m.conversation_id for m in recall.messages[:2]} == {aps, current}  # the two questions like it
    best = next(m for m in recall.messages if m.conversation_id == aps)
    assert best.role == "user" and best.reply == "CN1 and CN2." and best.score > 0.5
    assert best.conversation_title == "Which access points in us-west have subscriptions ending?"
    assert all("Bob" not in m.content and "switches" not in m.content for m in recall.messages)
    assert [f.id for f in recall.facts] == [fact.id]  # Alice's fact, not Bob's
    assert any("CN1 and CN2." in line for line in recall.snippets())
    assert "Saved fact: My team looks after" in recall.context()

    # The conversation being continued is left out (its messages are in the context already).
    without = memory.recall(
        conn, ALICE, "access points us-west ending subscriptions", exclude_conversation=current
    )
    assert without.messages and current not in {m.conversation_id for m in without.messages}
    assert memory.recall(conn, "carol@example.com", "access points us-west").empty


def test_recall_finds_the_users_own_rows_when_other_users_crowd_the_index(conn):
    """Bob's 400 rows are all nearer the question than Alice's one relevant row, and Alice has 400 more that
    are far: the index scan meets Bob's rows first, and must scan on (iteratively) to reach Alice's."""
    fake = FakeEmbeddings()
    memory = Memory.from_settings(_settings(glp_embedding_dimensions=64), http_client=fake.client())
    filler = ["switch", "gateway", "firmware", "serial", "tag", "model", "location", "building", "floor"]
    for user, texts in (
        (BOB, [f"expiring subscriptions of access points in us-west, batch {n}" for n in range(400)]),
        (ALICE, [f"{filler[n % 9]} {filler[n * 4 % 9]} {filler[n * 7 % 9]} note {n}" for n in range(400)]),
    ):
        conversation = store.create_conversation(conn, user, redactor=store.Redactor())
        messages = [NewMessage("user", text) for text in texts]
        store.append_turn(conn, user, conversation.id, messages, redactor=store.Redactor())
        while memory.remember(conn, user, limit=200):
            pass
    conn.execute("analyze glp.chat_messages")
    mine = _ask(memory, conn, ALICE, "Are the us-west access points expiring soon?", "Yes, two of them.")
    recall = memory.recall(conn, ALICE, "expiring subscriptions of access points in us-west", k=5)
    assert recall.mode == SEMANTIC
    assert [m.conversation_id for m in recall.messages] == [mine]  # found past Bob's 400 nearer rows


def test_the_hnsw_indexes_exist_with_cosine_ops_and_recall_uses_them(conn):
    fake = FakeEmbeddings()
    memory = Memory.from_settings(_settings(glp_embedding_dimensions=32), http_client=fake.client())
    conversation = store.create_conversation(conn, ALICE, redactor=store.Redactor())
    words = ["switch", "access", "point", "region", "tier", "expiry", "quarter", "serial", "tag", "model"]
    store.append_turn(
        conn,
        ALICE,
        conversation.id,
        [
            NewMessage("user", f"{words[n % 10]} {words[n * 7 % 10]} {words[n * 3 % 10]} {n}")
            for n in range(600)
        ],
        redactor=store.Redactor(),
    )
    while memory.remember(conn, ALICE, limit=300):
        pass
    memory.recall(conn, ALICE, "switch region", k=3)
    indexes = dict(
        conn.execute(
            "select indexname, indexdef from pg_indexes where schemaname = 'glp' and indexdef like '%hnsw%'"
        ).fetchall()
    )
    names = memory.index_names()
    assert set(indexes) == set(names.values())
    for table, name in names.items():
        assert f"ON glp.{table} USING hnsw (((embedding)::vector(32)) vector_cosine_ops)" in indexes[name]
        assert "WHERE (embedding_space = 'text-embedding-3-small:32'::text)" in indexes[name]

    conn.execute("analyze glp.chat_messages")
    conn.execute("select pg_stat_force_next_flush()")
    memory.recall(conn, ALICE, "access point tier", k=3)
    conn.execute("select pg_stat_force_next_flush()")  # this session's counts reach the statistics now
    scans = conn.execute(
        "select idx_scan from pg_stat_user_indexes where indexrelname = %s", (names["chat_messages"],)
    ).fetchone()
    assert scans is not None and scans[0] >= 1


def test_without_an_embedding_provider_recall_uses_full_text_search_and_says_so(conn):
    memory = Memory.from_settings(Settings(_env_file=None))
    mode, notice = memory.status(conn)
    assert mode == FULL_TEXT and "OPENAI_API_KEY" in notice and "full-text" in notice
    renewals = _ask(memory, conn, ALICE, "Which subscriptions end this quarter?", "Seven subscriptions end.")
    _ask(memory, conn, ALICE, "How many switches are there?", "Forty.")
    _ask(memory, conn, BOB, "Which subscriptions end this quarter?", "Bob's.")
    memory.save_fact(conn, ALICE, "Renewals of subscriptions are handled by Dana")

    recall = memory.recall(conn, ALICE, "subscription renewals ending", k=5)
    assert recall.mode == FULL_TEXT and recall.notice == notice
    found = {m.conversation_id for m in recall.messages}
    assert found == {renewals}  # stemmed: "subscription" finds "subscriptions"
    assert [f.content for f in recall.facts] == ["Renewals of subscriptions are handled by Dana"]
    vectors = "select count(*) from information_schema.columns where column_name = 'embedding'"
    assert conn.execute(vectors).fetchone() == (0,)  # pgvector was not even needed
    assert memory.recall(conn, ALICE, "the of and").empty  # only stop words: nothing to look for

    switched_off = Memory.from_settings(_settings(glp_embeddings_enabled=False))
    assert switched_off.embedder is None and "GLP_EMBEDDINGS_ENABLED" in switched_off.status(conn)[1]


def test_a_failing_embedder_loses_no_message_and_recall_falls_back(conn):
    fake = FakeEmbeddings(failure=500)
    memory = Memory.from_settings(_settings(), http_client=fake.client())
    conversation = _ask(memory, conn, ALICE, "Which gateways are offline?", "Two gateways.")
    stored = store.load_conversation(conn, ALICE, conversation)
    assert [m.content for m in stored.messages if m.role != "tool" and m.content] == [
        "Which gateways are offline?",
        "Two gateways.",
    ]

    tried = len(fake.requests)
    recall = memory.recall(conn, ALICE, "offline gateways")
    assert recall.mode == FULL_TEXT
    assert [m.content for m in recall.messages][:1] == ["Which gateways are offline?"]
    assert "HTTP 500" in recall.notice and "full-text" in recall.notice and KEY not in recall.notice
    assert len(fake.requests) == tried  # resting after the failure: no request per question

    fake.failure = None
    memory.retry_after = 0
    recall = memory.recall(conn, ALICE, "offline gateways")
    assert recall.mode == SEMANTIC and recall.messages[0].content == "Which gateways are offline?"
    embedded = conn.execute("select count(*) from glp.chat_messages where embedding is not null")
    assert embedded.fetchone() == (2,)  # the question and answer the failure had missed


def test_a_server_answering_another_length_is_named_in_the_notice(conn):
    fake = FakeEmbeddings(native_dimensions=768)
    settings = _settings(
        glp_embedding_model="nomic-embed-text", glp_embedding_base_url="http://models.local/v1"
    )
    memory = Memory.from_settings(settings, http_client=fake.client())
    recall = memory.recall(conn, ALICE, "anything")
    assert "dimensions" not in fake.requests[0]  # only the text-embedding-3 models take it
    assert recall.mode == FULL_TEXT and "GLP_EMBEDDING_DIMENSIONS=768" in recall.notice


def test_a_dimension_an_hnsw_index_cannot_hold_is_refused(monkeypatch):
    with pytest.raises(ValidationError, match="HNSW index takes vectors of 1 to 2000 dimensions"):
        Settings(_env_file=None, glp_embedding_dimensions=3072)
    monkeypatch.setenv("GLP_EMBEDDING_DIMENSIONS", "0")
    with pytest.raises(ValidationError, match="GLP_EMBEDDING_DIMENSIONS=0 cannot be indexed"):
        Settings(_env_file=None)
    with pytest.raises(ValueError, match="GLP_EMBEDDING_DIMENSIONS=2001"):
        Embedder(KEY, dimensions=2001)
    assert Settings(_env_file=None, glp_embedding_dimensions=2000).glp_embedding_dimensions == 2000


def test_which_embedding_server_and_key_are_used():
    fake = FakeEmbeddings(native_dimensions=8)
    assert embedder_from_settings(Settings(_env_file=None)) is None
    assert embedder_from_settings(_settings(glp_embeddings_enabled=False)) is None

    local = embedder_from_settings(Settings(_env_file=None, glp_openai_base_url="http://llm.local/v1"))
    assert local is not None and local.base_url == "http://llm.local/v1"  # the chat's server, no key needed

    own = embedder_from_settings(
        _settings(
            glp_openai_base_url="http://llm.local/v1",
            glp_embedding_base_url="http://embed.local/v1",
            glp_embedding_api_key=SecretStr("dedicated-embedding-key"),
            glp_embedding_model="bge-small",
            glp_embedding_dimensions=8,
        ),
        http_client=fake.client(),
    )
    assert own is not None and own.space == "bge-small:8"
    (vector,) = own.embed(["hello"])
    assert len(vector) == 8 and abs(sum(x * x for x in vector) - 1) < 1e-6
    assert fake.headers[0]["authorization"] == "Bearer dedicated-embedding-key"
    assert fake.headers[0]["host"] == "embed.local"


def test_facts_are_saved_listed_and_deleted_per_user(conn):
    memory = Memory(
        None, unavailable="no embeddings in this test", redactor=store.Redactor.from_settings(_settings())
    )
    first = memory.save_fact(conn, ALICE, "We renew in March")
    second = memory.save_fact(conn, ALICE, f"  The key is {KEY}  ")
    assert memory.save_fact(conn, ALICE, "We renew in March").id == first.id  # once only
    assert second.content == "The key is [redacted]"
    assert [f.id for f in memory.facts(conn, ALICE)] == [second.id, first.id]
    assert memory.facts(conn, BOB) == []
    with pytest.raises(FactNotFound):
        memory.delete_fact(conn, BOB, first.id)
    memory.delete_fact(conn, ALICE, first.id)
    assert [f.id for f in memory.facts(conn, ALICE)] == [second.id]
    with pytest.raises(ValueError, match="empty"):
        memory.save_fact(conn, ALICE, "   ")


def test_a_new_embedding_model_gets_its_own_index_and_re_embeds_lazily(conn):
    fake = FakeEmbeddings()
    small = Memory.from_settings(_settings(glp_embedding_dimensions=16), http_client=fake.client())
    conversation = _ask(small, conn, ALICE, "Which tiers are over-subscribed?", "Foundation.")
    larger = Memory.from_settings(_settings(glp_embedding_dimensions=24), http_client=fake.client())
    recall = larger.recall(conn, ALICE, "over-subscribed tiers")
    assert recall.mode == SEMANTIC and recall.messages[0].conversation_id == conversation
    spaces = conn.execute(
        "select distinct embedding_space from glp.chat_messages where embedding is not null"
    )
    assert spaces.fetchall() == [("text-embedding-3-small:24",)]
    assert len(conn.execute("select 1 from pg_indexes where indexdef like '%hnsw%'").fetchall()) == 4


@pytest.fixture
def unprivileged_url(database_url: str, pg_admin_url: str) -> Iterator[str]:
    """The test database, logged in as a role that may create schemas there but not extensions."""
    role = f"glp_chat_{uuid.uuid4().hex[:8]}"
    database = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("create role {} login").format(sql.Identifier(role)))
        admin.execute(
            sql.SQL("grant create on database {} to {}").format(
                sql.Identifier(database), sql.Identifier(role)
            )
        )
    parts = urlsplit(database_url)
    yield urlunsplit(parts._replace(netloc=f"{role}@{parts.netloc.rpartition('@')[2]}"))
    with psycopg.connect(database_url, autocommit=True) as owner:
        owner.execute("drop schema if exists glp cascade")
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("revoke all on database {} from {}").format(
                sql.Identifier(database), sql.Identifier(role)
            )
        )
        admin.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def test_without_permission_to_create_pgvector_the_notice_says_what_an_administrator_must_run(
    unprivileged_url,
):
    fake = FakeEmbeddings()
    memory = Memory.from_settings(_settings(), http_client=fake.client())
    with connect(unprivileged_url, autocommit=True) as conn:
        mode, notice = memory.status(conn)
        assert mode == FULL_TEXT
        assert (
            "create extension vector;" in notice and conn.info.dbname in notice and conn.info.user in notice
        )
        conversation = _ask(memory, conn, ALICE, "Which regions have no devices?", "None.")
        recall = memory.recall(conn, ALICE, "regions without devices")
        assert recall.mode == FULL_TEXT and recall.notice == notice
        assert recall.messages[0].conversation_id == conversation
    assert fake.requests == []  # nothing was sent to be embedded that could not be stored


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Each test's database is new; the per-process caches are keyed by it, but start clean anyway."""
    memory_module.forget_vector_cache()
    yield
    memory_module.forget_vector_cache()
