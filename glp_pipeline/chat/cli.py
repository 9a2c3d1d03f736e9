"""`glp chat`: ask about the inventory in the terminal (registered on the `glp` app by cli.py).

glp chat "QUESTION" [--conversation ID]   one question, the answer streamed, the conversation kept
glp chat [--conversation ID]              a conversation: questions until an empty line or Ctrl-D
glp chat --list                           your conversations, newest first
glp chat --conversation ID --show         one conversation's questions and answers
glp chat --conversation ID --rename T     rename one;  --delete removes it
glp chat --remember "FACT"                a fact recalled in later questions

The terminal's user is `local` (GLP_CHAT_USER overrides it, e.g. to read a dashboard user's history).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def register(app: typer.Typer, friendly_errors: Any, fail: Any) -> None:
    """Add `glp chat` to `glp`. `friendly_errors` and `fail(message)` come from cli.py."""

    @app.command()
    def chat(
        question: Annotated[
            str | None, typer.Argument(help="Ask this and exit (else: a conversation).")
        ] = None,
        conversation: Annotated[
            str | None, typer.Option("--conversation", "-c", help="Continue this conversation (its id).")
        ] = None,
        list_: Annotated[bool, typer.Option("--list", help="List your conversations.")] = False,
        show: Annotated[bool, typer.Option("--show", help="Print the conversation (with -c).")] = False,
        rename: Annotated[str | None, typer.Option("--rename", help="New title (with -c).")] = None,
        delete: Annotated[bool, typer.Option("--delete", help="Delete the conversation (with -c).")] = False,
        remember: Annotated[str | None, typer.Option("--remember", help="Save a fact to recall.")] = None,
    ) -> None:
        """Ask questions about the devices and subscriptions in plain language: the model answers with the
        read-only inventory tools (the SQL it ran is shown) and remembers earlier conversations."""
        import os

        from glp_pipeline.chat import ChatSession, ConversationNotFound, ProviderNotConfigured
        from glp_pipeline.chat.store import LOCAL_USER
        from glp_pipeline.settings import get_settings

        settings = get_settings()
        user = os.environ.get("GLP_CHAT_USER") or LOCAL_USER
        if (show or rename or delete) and not conversation:
            raise fail("--show, --rename and --delete need --conversation ID", code=2)
        with friendly_errors():
            try:
                session = ChatSession.from_settings(user, settings)
            except ProviderNotConfigured as exc:
                raise fail(str(exc)) from None
            try:
                if list_:
                    _list(session)
                elif remember:
                    fact = session.remember(remember)
                    console.print(f"Remembered: {fact.content}")
                elif conversation and (show or rename or delete):
                    if rename:
                        console.print(f"Renamed: {session.rename(conversation, rename).title}")
                    if delete:
                        session.delete(conversation)
                        console.print("Deleted.")
                    if show and not delete:
                        _show(session.conversation(conversation))
                elif question:
                    _ask(session, question, conversation)
                else:
                    _repl(session, conversation)
            except ConversationNotFound:
                raise fail(f"no conversation {conversation} of yours; `glp chat --list` lists them") from None
            except ValueError as exc:
                raise fail(str(exc)) from None
            finally:
                session.close()


def _list(session: Any) -> None:
    conversations = session.conversations()
    if not conversations:
        console.print('No conversations yet: `glp chat "How many devices are unassigned?"` starts one.')
        return
    table = Table(title="Conversations")
    for column in ("id", "title", "messages", "last active (UTC)"):
        table.add_column(column)
    for c in conversations:
        table.add_row(str(c.id), c.title or "", str(c.message_count), f"{c.updated_at:%Y-%m-%d %H:%M}")
    console.print(table)


def _show(conversation: Any) -> None:
    console.print(f"[bold]{conversation.title or conversation.id}[/]")
    for m in conversation.messages:
        if m.role == "user" and m.content:
            console.print(f"\n[bold cyan]you>[/] {m.content}")
        elif m.role == "assistant":
            for call in m.tool_calls or []:
                console.print(f"[dim]  tool {call.get('name')} {json.dumps(call.get('arguments'))}[/]")
            if m.content:
                console.print(f"[bold green]glp>[/] {m.content}")


def _ask(session: Any, question: str, conversation: str | None) -> Any:
    """Stream one answer; returns the conversation id (to keep asking in it)."""
    from glp_pipeline.chat import AgentDone, AgentError, ToolCallFinished, ToolCallStarted
    from glp_pipeline.chat.agent import TextDelta
    from glp_pipeline.chat.session import TurnSaved, TurnStarted

    conversation_id = conversation
    at_line_start = True
    for event in session.ask(question, conversation):
        if isinstance(event, TurnStarted):
            conversation_id = event.conversation_id
            if event.recall.notice:
                err_console.print(f"[dim]memory: {event.recall.notice}[/]")
        elif isinstance(event, TextDelta):
            console.print(event.text, end="", markup=False)
            at_line_start = event.text.endswith("\n")
        elif isinstance(event, ToolCallStarted):
            if not at_line_start:
                console.print()
            console.print(f"[dim]» {event.name} {json.dumps(event.arguments)}[/]")
            if event.sql:
                console.print(Syntax(event.sql, "sql", word_wrap=True))
            at_line_start = True
        elif isinstance(event, ToolCallFinished):
            outcome = event.outcome
            state = "[red]failed[/]" if outcome.is_error else "done"
            console.print(f"[dim]  {outcome.name} {state} in {outcome.elapsed_ms:.0f} ms[/]")
        elif isinstance(event, AgentError):
            err_console.print(f"[red]{event.message}[/]")
        elif isinstance(event, AgentDone):
            if not at_line_start:
                console.print()
            who = f"{event.provider} {event.model}" if event.provider else "no model"
            err_console.print(f"[dim]({who}; {len(event.tool_calls)} tool calls)[/]")
        elif isinstance(event, TurnSaved):
            err_console.print(f"[dim]conversation {event.conversation.id}[/]")
    return conversation_id


def _repl(session: Any, conversation: str | None) -> None:
    mode, notice = session.memory_status()
    err_console.print(f"[dim]Ask about your inventory; an empty line or Ctrl-D ends. Memory: {mode}.[/]")
    if notice:
        err_console.print(f"[dim]{notice}[/]")
    while True:
        try:
            question = console.input("[bold cyan]you>[/] ").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not question:
            return
        try:
            conversation = str(_ask(session, question, conversation))
        except ValueError as exc:
            err_console.print(f"[red]{exc}[/]")
