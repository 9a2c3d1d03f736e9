"""Chat conversations on a real PostgreSQL: persisted and resumed, per-user isolation, rename and delete,
one transaction per turn, secrets redacted before anything is written."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from pydantic import SecretStr

from glp_pipeline.chat import store
from glp_pipeline.chat.store import ConversationNotFound, NewMessage, Redactor
from glp_pipeline.database import connect
from glp_pipeline.settings import Settings

ALICE, BOB = "alice@example.com", "bob@example.com"
NO_SECRETS = Redactor()


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    with connect(database_url, autocommit=True) as connection:
        yield connection


def _turn(question: str, answer: str) -> list[NewMessage]:
    """A question answered after one `run_query` call, as the agent's messages come (tool results in a
    user message)."""
    return store.messages_from_agent(
        [
            {"role": "user", "content": question},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"id": "call_1", "name": "run_query", "arguments": {"sql": "select 1"}}],
            },
            {"role": "user", "content": "", "tool_results": [{"tool_call_id": "call_1", "content": "[1]"}]},
            {"role": "assistant", "content": answer},
        ],
        provider="anthropic",
        model="claude-test",
    )


def test_a_conversation_is_stored_and_resumed_by_another_process(conn, database_url):
    conversation = store.create_conversation(conn, ALICE)
    assert conversation.title == store.UNTITLED and conversation.created_at.utcoffset().total_seconds() == 0
    stored = store.append_turn(
        conn, ALICE, conversation.id, _turn("Which APs are in us-west?", "Three."), redactor=NO_SECRETS
    )
    assert [m.role for m in stored] == ["user", "assistant", "tool", "assistant"]
    assert stored[1].tool_calls[0]["arguments"] == {"sql": "select 1"} and stored[1].provider == "anthropic"
    assert stored[2].tool_results == [{"tool_call_id": "call_1", "content": "[1]"}]
    assert stored[2].provider is None and stored[3].model == "claude-test"

    # A new process (as the next page render of another dashboard server, or `glp chat` later) sees it all.
    script = (
        "import json, sys\n"
        "from glp_pipeline.chat import store\n"
        "from glp_pipeline.database import connect\n"
        "with connect(sys.argv[1]) as conn:\n"
        "    (listed,) = store.list_conversations(conn, sys.argv[2].upper())\n"
        "    c = store.load_conversation(conn, sys.argv[2], str(listed.id))\n"
        "    print(json.dumps({'id': str(c.id), 'title': c.title, 'count': listed.message_count,"
        " 'history': c.history()}))\n"
    )
    out = subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", script, database_url, ALICE], capture_output=True, text=True, check=True
    )
    seen = json.loads(out.stdout)
    assert seen["id"] == str(conversation.id) and seen["title"] == "Which APs are in us-west?"
    assert seen["count"] == 2  # the question and the answer; tool calls and results are not counted
    assert seen["history"] == [  # the agent's own format again, ready to be its history
        {"role": "user", "content": "Which APs are in us-west?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "call_1", "name": "run_query", "arguments": {"sql": "select 1"}}],
        },
        {"role": "user", "content": "", "tool_results": [{"tool_call_id": "call_1", "content": "[1]"}]},
        {"role": "assistant", "content": "Three."},
    ]


def test_conversations_are_listed_newest_first_with_counts_and_titles_from_the_first_question(conn):
    long_question = (
        "Which subscriptions of the foundation tier end before the next quarter starts, by region?"
    )
    older = store.create_conversation(conn, ALICE)
    store.append_turn(conn, ALICE, older.id, _turn(long_question, "Four."), redactor=NO_SECRETS)
    newer = store.create_conversation(conn, ALICE, "  Switches   report ")
    store.append_turn(conn, ALICE, newer.id, _turn("How many switches?", "Ten."), redactor=NO_SECRETS)
    listed = store.list_conversations(conn, ALICE)
    assert [c.id for c in listed] == [newer.id, older.id]
    assert listed[0].title == "Switches report"  # a given title stays
    assert listed[1].title == "Which subscriptions of the foundation tier end before the…"
    assert len(listed[1].title) <= store.TITLE_CHARS

    store.append_turn(conn, ALICE, older.id, _turn("And in us-east?", "Two."), redactor=NO_SECRETS)
    listed = store.list_conversations(conn, ALICE)
    assert [(c.id, c.message_count) for c in listed] == [(older.id, 4), (newer.id, 2)]
    assert listed[0].title.startswith("Which subscriptions")  # the first question names it, not the last
    assert store.list_conversations(conn, ALICE, limit=1) == listed[:1]


def test_another_users_conversation_is_not_found_anywhere(conn):
    mine = store.create_conversation(conn, ALICE)
    store.append_turn(conn, ALICE, mine.id, _turn("My question", "My answer"), redactor=NO_SECRETS)
    assert store.list_conversations(conn, BOB) == []
    for attempt in (
        lambda: store.load_conversation(conn, BOB, mine.id),
        lambda: store.rename_conversation(conn, BOB, mine.id, "Mine now", redactor=NO_SECRETS),
        lambda: store.delete_conversation(conn, BOB, mine.id),
        lambda: store.append_turn(conn, BOB, mine.id, _turn("Bob's", "No"), redactor=NO_SECRETS),
        lambda: store.load_conversation(conn, ALICE, uuid.uuid4()),
        lambda: store.load_conversation(conn, ALICE, "not-a-uuid"),
    ):
        with pytest.raises(ConversationNotFound):
            attempt()
    kept = store.load_conversation(conn, " Alice@Example.COM ", str(mine.id))  # the same user, as typed
    assert kept.title == "My question" and [m.content for m in kept.messages][::3] == [
        "My question",
        "My answer",
    ]
    # The database itself refuses a message whose user is not its conversation's owner.
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute(
            "insert into glp.chat_messages (conversation_id, user_id, role, content)"
            " values (%s, %s, 'user', 'x')",
            (mine.id, BOB),
        )


def test_rename_and_delete(conn):
    conversation = store.create_conversation(conn, ALICE)
    store.append_turn(conn, ALICE, conversation.id, _turn("First", "Answer"), redactor=NO_SECRETS)
    renamed = store.rename_conversation(conn, ALICE, conversation.id, "  AP\nrenewals  ", redactor=NO_SECRETS)
    assert renamed.title == "AP renewals" and renamed.message_count == 2
    assert store.load_conversation(conn, ALICE, conversation.id).title == "AP renewals"
    with pytest.raises(ValueError, match="empty"):
        store.rename_conversation(conn, ALICE, conversation.id, "   ", redactor=NO_SECRETS)

    other = store.create_conversation(conn, ALICE)
    store.delete_conversation(conn, ALICE, conversation.id)
    assert [c.id for c in store.list_conversations(conn, ALICE)] == [other.id]
    remaining = conn.execute(
        "select count(*) from glp.chat_messages where conversation_id = %s", (conversation.id,)
    )
    assert remaining.fetchone() == (0,)  # really gone, messages included
    with pytest.raises(ConversationNotFound):
        store.delete_conversation(conn, ALICE, conversation.id)


def test_a_turn_is_stored_whole_or_not_at_all(conn, database_url):
    conversation = store.create_conversation(conn, ALICE)
    # Another session holds the messages table, so the turn fails after its conversation row was updated.
    with connect(database_url) as blocker:
        blocker.execute("lock table glp.chat_messages in exclusive mode")
        conn.execute("set lock_timeout = '200ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            store.append_turn(conn, ALICE, conversation.id, _turn("Lost?", "No"), redactor=NO_SECRETS)
    conn.execute("reset lock_timeout")
    again = store.load_conversation(conn, ALICE, conversation.id)
    assert (
        again.messages == () and again.title == store.UNTITLED and again.updated_at == conversation.updated_at
    )


def test_odd_values_are_stored_rather_than_refused(conn):
    from datetime import UTC, datetime
    from decimal import Decimal

    conversation = store.create_conversation(conn, ALICE)
    rows = [{"ends_at": datetime(2027, 1, 1, tzinfo=UTC), "quantity": Decimal("5"), "ratio": float("nan")}]
    (stored,) = store.append_turn(
        conn,
        ALICE,
        conversation.id,
        [NewMessage("tool", "nul\x00byte", tool_results=[{"tool_call_id": "c", "rows": rows}])],
        redactor=NO_SECRETS,
    )
    assert stored.content == "nulbyte"
    assert stored.tool_results[0]["rows"] == [
        {"ends_at": "2027-01-01T00:00:00+00:00", "quantity": 5, "ratio": None}
    ]


def test_secrets_are_redacted_before_anything_is_stored(conn):
    settings = Settings(
        _env_file=None,
        anthropic_api_key=SecretStr("sk-ant-api03-configured-anthropic-key"),
        openai_api_key=SecretStr("openai-key-without-the-usual-prefix-123"),
        glp_client_secret=SecretStr("GreenLakeClientSecret42"),
        database_url=SecretStr("postgresql://glp:Db-Passw0rd-9@db.example.com/glp"),
        glp_embedding_api_key=SecretStr("embedding-key-0987654321"),
        glp_mcp_token=SecretStr("mcp-token-abcdef123456"),
    )
    redactor = Redactor.from_settings(settings)
    configured = [
        "sk-ant-api03-configured-anthropic-key",
        "openai-key-without-the-usual-prefix-123",
        "GreenLakeClientSecret42",
        "Db-Passw0rd-9",
        "embedding-key-0987654321",
        "mcp-token-abcdef123456",
    ]
    shaped_like_keys = [
        "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx",
        "ghp_0123456789abcdefghijABCDEFGHIJ",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "AKIAIOSFODNN7EXAMPLE",
        "Bearer abc.def.ghi-jkl-mno",
        "s3cretValue99",  # as password=...
        "hunter2-but-longer",  # as "client_secret": "..."
    ]
    question = (
        f"My keys are {configured[0]} and {configured[1]}; the GreenLake secret is {configured[2]} and the "
        f"database is postgresql://glp:{configured[3]}@db.example.com/glp. Also {shaped_like_keys[0]}, "
        f"{shaped_like_keys[1]} and {shaped_like_keys[2]}, {shaped_like_keys[3]}, "
        f"Authorization: {shaped_like_keys[4]}, password={shaped_like_keys[5]}. "
        "What is the password policy? Ask the admin for the password: it is not mine to give."
    )
    conversation = store.create_conversation(conn, ALICE)
    store.append_turn(
        conn,
        ALICE,
        conversation.id,
        [
            NewMessage("user", question),
            NewMessage(
                "assistant",
                "",
                tool_calls=[
                    {
                        "id": "c1",
                        "name": "run_query",
                        "arguments": {"sql": f"select '{configured[4]}'", "api_key": "anything at all"},
                    }
                ],
            ),
            NewMessage(
                "tool",
                None,
                tool_results=[
                    {"tool_call_id": "c1", "content": json.dumps({"client_secret": shaped_like_keys[6]})}
                ],
            ),
            NewMessage("assistant", f"Noted; your MCP token {configured[5]} is safe with me."),
        ],
        redactor=redactor,
    )
    store.rename_conversation(conn, ALICE, conversation.id, f"Keys {configured[0]}", redactor=redactor)
    everything = " ".join(
        json.dumps(row[0])
        for table in ("chat_conversations", "chat_messages")
        for row in conn.execute(f"select to_jsonb(t) from glp.{table} t")
    )
    for secret in configured + shaped_like_keys:
        assert secret not in everything, secret
    assert "abc.def" not in everything and "anything at all" not in everything  # a secret-named argument
    assert everything.count("[redacted]") >= 12
    assert "Ask the admin for the password: it is not mine to give." in everything  # prose survives
    assert "the database is [redacted]." in everything  # DATABASE_URL is a secret as a whole
    assert redactor.text("postgresql://me:other-pass@host/db") == "postgresql://me:[redacted]@host/db"
    loaded = store.load_conversation(conn, ALICE, conversation.id)
    assert loaded.title == "Keys [redacted]"
    assert loaded.messages[1].tool_calls[0]["arguments"]["sql"] == "select '[redacted]'"


def test_redaction_covers_every_secret_setting_and_leaves_ordinary_words():
    redactor = Redactor.from_settings(
        Settings(
            _env_file=None,
            glp_dashboard_password=SecretStr("dashboard-pass"),
            glp_alert_webhook_url=SecretStr("https://hooks.example.com/services/T0/B0/XYZ"),
            database_url=SecretStr("postgresql://postgres:embedded@%2Ftmp%2Fpg:5432/glp"),
        )
    )
    text = redactor.text(
        "dashboard-pass, https://hooks.example.com/services/T0/B0/XYZ and the embedded PostgreSQL"
    )
    assert (
        text == "[redacted], [redacted] and the embedded PostgreSQL"
    )  # the embedded server's dummy password
    assert redactor.text("the token: expiring soon, secret sauce") == "the token: expiring soon, secret sauce"


def test_the_tables_are_created_once_per_process_and_database_not_on_every_call(conn):
    store.create_conversation(conn, ALICE)
    conn.execute("drop table glp.chat_facts")
    store.list_conversations(conn, ALICE)  # no DDL ran: the dropped table stays dropped
    assert conn.execute("select to_regclass('glp.chat_facts')").fetchone() == (None,)
    store.forget_schema_cache()
    store.list_conversations(conn, ALICE)
    assert conn.execute("select to_regclass('glp.chat_facts')").fetchone() != (None,)
