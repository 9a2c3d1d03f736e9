"""One user's chat: the agent, the conversation store and the memory, run the same way by every face.

The dashboard's chat page and `glp chat` are thin faces over `ChatSession`: it opens the database (the
read-write URL: conversations live in the app's `glp` schema; the agent's tools read through the read-only
query layer on their own), recalls what is relevant from the user's earlier conversations and saved facts,
runs the agent with the conversation's history, and stores the turn when the agent is done. A question whose
answer was abandoned half-way (the face stopped reading the events) is not stored: there is nothing whole to
keep.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

from glp_pipeline.chat import store
from glp_pipeline.chat.agent import AgentDone, AgentEvent, ChatAgent
from glp_pipeline.chat.memory import Fact, Memory, Recall
from glp_pipeline.database import connect, database_url
from glp_pipeline.settings import Settings, get_settings


@dataclass(frozen=True)
class TurnStarted:
    """The first event of `ChatSession.ask`: the conversation the question belongs to (new or resumed) and
    what was recalled for it (`recall.mode` is `semantic` or `full-text`; `recall.notice` says why not)."""

    conversation_id: UUID
    recall: Recall


@dataclass(frozen=True)
class TurnSaved:
    """The last event: the turn is stored (after the agent's `AgentDone`)."""

    conversation: store.Conversation


SessionEvent = TurnStarted | AgentEvent | TurnSaved


class ChatSession:
    """A user's conversations and questions. `agent` and `memory` may be shared between sessions (the
    dashboard keeps one of each per process); the session holds no connection between calls."""

    def __init__(self, user_id: str, agent: ChatAgent, memory: Memory, url: str) -> None:
        self.user_id = store.normalise_user(user_id)
        self.agent = agent
        self.memory = memory
        self.url = url

    @classmethod
    def from_settings(cls, user_id: str, settings: Settings | None = None) -> ChatSession:
        """The session the settings configure; raises `ProviderNotConfigured` (saying what to set) when no
        LLM provider is configured, before anything else is touched."""
        settings = settings or get_settings()
        agent = ChatAgent.from_settings(settings)
        return cls(user_id, agent, Memory.from_settings(settings), database_url(settings, start=False))

    # --- conversations -----------------------------------------------------------------------------------

    def conversations(self, limit: int = 100) -> list[store.Conversation]:
        with connect(self.url, autocommit=True) as conn:
            return store.list_conversations(conn, self.user_id, limit=limit)

    def conversation(self, conversation_id: UUID | str) -> store.Conversation:
        """One of the user's conversations with its messages; `ConversationNotFound` for anyone else's."""
        with connect(self.url, autocommit=True) as conn:
            return store.load_conversation(conn, self.user_id, conversation_id)

    def rename(self, conversation_id: UUID | str, title: str) -> store.Conversation:
        with connect(self.url, autocommit=True) as conn:
            return store.rename_conversation(conn, self.user_id, conversation_id, title)

    def delete(self, conversation_id: UUID | str) -> None:
        with connect(self.url, autocommit=True) as conn:
            store.delete_conversation(conn, self.user_id, conversation_id)

    # --- memory ------------------------------------------------------------------------------------------

    def memory_status(self) -> tuple[str, str | None]:
        """`semantic` or `full-text`, and why not semantic (for a notice before any question)."""
        with connect(self.url, autocommit=True) as conn:
            return self.memory.status(conn)

    def remember(self, text: str) -> Fact:
        """Save a fact the agent will recall in later questions ("our APs are in building B")."""
        with connect(self.url, autocommit=True) as conn:
            return self.memory.save_fact(conn, self.user_id, text)

    # --- questions ---------------------------------------------------------------------------------------

    def ask(self, question: str, conversation_id: UUID | str | None = None) -> Iterator[SessionEvent]:
        """Answer a question in a conversation (a new one when None): `TurnStarted`, then the agent's events
        as they stream (text deltas, tool calls with their SQL and results, errors, `AgentDone`), then
        `TurnSaved`. Raises at once, before any model is asked or conversation created: `ValueError` for an
        empty or overlong question, `ConversationNotFound` for a conversation that is not the user's."""
        with connect(self.url, autocommit=True) as conn:
            conversation = None
            if conversation_id is not None:
                conversation = store.load_conversation(conn, self.user_id, conversation_id)
            recall = self.memory.recall(
                conn, self.user_id, question, exclude_conversation=conversation and conversation.id
            )
            history = conversation.history() if conversation else []
            events = self.agent.run(history, question, memories=recall.snippets())
            if conversation is None:
                conversation = store.create_conversation(conn, self.user_id)
        return self._stream(conversation.id, recall, events)

    def _stream(
        self, conversation_id: UUID, recall: Recall, events: Iterator[AgentEvent]
    ) -> Iterator[SessionEvent]:
        yield TurnStarted(conversation_id, recall)
        for event in events:
            yield event
            if isinstance(event, AgentDone):
                messages = store.messages_from_agent(
                    event.messages, provider=event.provider, model=event.model
                )
                with connect(self.url, autocommit=True) as conn:
                    self.memory.store_turn(conn, self.user_id, conversation_id, messages)
                    saved = store.load_conversation(conn, self.user_id, conversation_id)
                yield TurnSaved(saved)

    def close(self) -> None:
        self.agent.close()
        self.memory.close()
