"""`run_query`: read-only SQL for the questions the other tools do not answer (guarded in `queries.sql`)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from glp_pipeline import queries as q
from mcp_server.common import READ_ONLY, call, to_json


def register(server: MCPServer) -> None:
    """Add `run_query` to the server."""

    @server.tool(annotations=READ_ONLY)
    def run_query(
        sql: Annotated[
            str,
            Field(
                description="One PostgreSQL SELECT (or WITH ... SELECT, or EXPLAIN without ANALYZE) over the "
                "reporting and marts schemas; see the glp://schema resource for tables and columns."
            ),
        ],
        max_rows: Annotated[int, Field(ge=1, le=1000, description="Rows to return at most.")] = 200,
    ) -> dict[str, Any]:
        """Run a read-only SQL query for questions the other tools do not answer. Only SELECTs over
        `reporting` and `marts`, with analytical functions only; it runs as a SELECT-only role in a read-only
        transaction with a 10 s timeout, and its result is capped (`truncated` says so)."""
        return to_json(call(q.run_query, sql, max_rows=max_rows))
