"""AI chat: questions about the inventory in plain language, answered by a model (Claude first, OpenAI as
the fallback) with the read-only inventory tools; every tool call, its SQL and its result can be opened.
Conversations are kept per user (the dashboard login) and recalled in later questions. A thin face over
`glp_pipeline.chat.ChatSession`, as `glp chat` is."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from glp_pipeline.chat import (
    AgentDone,
    AgentError,
    ChatAgent,
    ChatSession,
    ConversationNotFound,
    Memory,
    ProviderNotConfigured,
    ToolCallFinished,
    ToolCallStarted,
    ToolRegistry,
)
from glp_pipeline.chat.agent import TextDelta
from glp_pipeline.chat.session import TurnStarted
from glp_pipeline.database import DatabaseError
from glp_pipeline.settings import get_settings
from streamlit_app import common

CONVERSATION = "chat_conversation"
ERROR = "chat_error"
MAX_SHOWN_RESULT = 20_000  # characters of a tool result shown in its expander

st.title("Chat")
url, _ = common.connection(for_writes=True)  # conversations are kept in the app's own tables
settings = get_settings()


@st.cache_resource(show_spinner=False)
def _tools() -> ToolRegistry:
    """The MCP server's tools, built once per process (they read the database through the settings)."""
    return ToolRegistry()


try:
    agent = ChatAgent.from_settings(settings, tools=_tools())
except ProviderNotConfigured as exc:
    st.info(
        f"{exc} Then restart the dashboard. The chat answers with the same read-only tools as the MCP "
        "server (`glp mcp`), which works without a model here."
    )
    st.stop()
session = ChatSession(common.current_user(), agent, Memory.from_settings(settings), url)


def _run(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except ConversationNotFound:
        st.session_state.pop(CONVERSATION, None)
        st.rerun()
    except DatabaseError as exc:
        common.show_error(str(exc))


# --- sidebar: conversations, rename, delete, facts -----------------------------------------------------

conversations = _run(session.conversations)
with st.sidebar:
    st.subheader("Conversations")
    if st.button("New conversation", icon=":material/add:", key="chat_new"):
        st.session_state.pop(CONVERSATION, None)
        st.rerun()
    by_id = {str(c.id): c for c in conversations}
    current = st.session_state.get(CONVERSATION)
    for conversation_id, listed in by_id.items():
        if st.button(
            listed.title or "untitled",
            key=f"chat_open_{conversation_id}",
            type="primary" if conversation_id == current else "secondary",
            width="stretch",
        ):
            st.session_state[CONVERSATION] = conversation_id
            st.rerun()
    if current in by_id:
        with st.expander("Rename or delete"):
            title = st.text_input("Title", value=by_id[current].title or "", key=f"chat_title_{current}")
            if st.button("Rename", key="chat_rename") and title.strip():
                _run(session.rename, current, title)
                st.rerun()
            if st.checkbox("Delete this conversation", key="chat_delete_confirm") and st.button(
                "Delete", type="primary", key="chat_delete"
            ):
                _run(session.delete, current)
                st.session_state.pop(CONVERSATION, None)
                st.rerun()
    with st.expander("Remember a fact"):
        fact = st.text_input("Recalled in later questions", key="chat_fact")
        if st.button("Remember", key="chat_remember") and fact.strip():
            st.success(f"Remembered: {_run(session.remember, fact).content}")

mode, notice = _run(session.memory_status)
if notice:
    st.caption(f"Memory: {mode} search. {notice}")


# --- the conversation so far ---------------------------------------------------------------------------


def _tool_expander(call: dict[str, Any], result: dict[str, Any] | None) -> None:
    failed = bool(result and result.get("is_error"))
    label = f"{call.get('name')}{' (failed)' if failed else ''}"
    with st.expander(label, icon=":material/build:"):
        arguments = call.get("arguments") or {}
        sql = arguments.get("sql") if call.get("name") == "run_query" else None
        if sql:
            st.code(sql, language="sql")
        st.json(arguments, expanded=False)
        if result is not None:
            st.code(str(result.get("content") or "")[:MAX_SHOWN_RESULT], language="json")


if current in by_id:
    conversation = _run(session.conversation, current)
    if st.session_state.get(ERROR):
        st.error(st.session_state.pop(ERROR))
    results = {r.get("tool_call_id"): r for m in conversation.messages for r in (m.tool_results or []) if r}
    for message in conversation.messages:
        if message.role == "user" and message.content:
            st.chat_message("user").markdown(message.content)
        elif message.role == "assistant":
            with st.chat_message("assistant"):
                for call in message.tool_calls or []:
                    _tool_expander(call, results.get(call.get("id")))
                if message.content:
                    st.markdown(message.content)
else:
    st.caption(
        "Ask about the devices and subscriptions, e.g. “Which switches have no subscription?” or “What "
        "expires this quarter, by tier?”. The model answers with read-only tools; open a tool to see its SQL."
    )


# --- a new question ------------------------------------------------------------------------------------


def _answer(question: str) -> None:
    """Stream the answer: text as it comes, each tool call in its own expander as it runs."""
    with st.chat_message("assistant"):
        slot, text, running = st.empty(), "", {}
        for event in session.ask(question, current):
            if isinstance(event, TurnStarted):
                st.session_state[CONVERSATION] = str(event.conversation_id)
            elif isinstance(event, TextDelta):
                text += event.text
                slot.markdown(text)
            elif isinstance(event, ToolCallStarted):
                running[event.call_id] = st.status(f"{event.name} …", expanded=False)
                with running[event.call_id]:
                    if event.sql:
                        st.code(event.sql, language="sql")
                    st.json(event.arguments, expanded=False)
                slot, text = st.empty(), ""  # what the model writes next goes below the call
            elif isinstance(event, ToolCallFinished):
                outcome = event.outcome
                box = running.get(outcome.call_id)
                if box is not None:
                    box.update(
                        label=f"{outcome.name} ({outcome.elapsed_ms:.0f} ms)",
                        state="error" if outcome.is_error else "complete",
                    )
                    box.code(json.dumps(outcome.to_dict()["result"], default=str)[:MAX_SHOWN_RESULT])
            elif isinstance(event, AgentError):
                st.session_state[ERROR] = event.message  # shown again after the rerun below
            elif isinstance(event, AgentDone) and event.provider:
                st.caption(f"{event.provider} · {event.model} · {len(event.tool_calls)} tool calls")


question = st.chat_input("Ask about your devices and subscriptions")
if question:
    st.chat_message("user").markdown(question)
    try:
        _answer(question)
    except ValueError as exc:
        st.error(str(exc))
    except ConversationNotFound:
        st.session_state.pop(CONVERSATION, None)
    except DatabaseError as exc:
        common.show_error(str(exc))
    st.rerun()
