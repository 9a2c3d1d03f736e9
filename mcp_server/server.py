"""GLP Sync's MCP server: read-only inventory tools for AI assistants, answered from the modelled tables.

Every tool is a thin face over `glp_pipeline.queries` (the layer the dashboard uses): it reads as the
SELECT-only reader role in a read-only transaction with a statement timeout, never calls GreenLake, and is
annotated read-only, idempotent and closed-world. Results are structured (JSON objects); failures come back
as tool errors whose text says what to do (e.g. run `glp demo` first).

The database is resolved per call, so the server starts (and lists its tools) even while PostgreSQL is down.
"""

from typing import Literal

from mcp.server.mcpserver import MCPServer

from glp_pipeline.settings import get_settings
from mcp_server import resources
from mcp_server.common import MAX_PAGE_SIZE
from mcp_server.tools import ask, central, devices, overview, sql, subscriptions

__all__ = ["MAX_PAGE_SIZE", "Transport", "build_server"]

INSTRUCTIONS = """\
GLP Sync answers questions about an HPE GreenLake workspace's devices and subscriptions from a PostgreSQL
copy kept in sync (see `sync_status` for how fresh it is). All tools are read-only. Search tools page their
results: `total` says how many match; ask for the next `page` rather than a bigger one. For questions no tool
answers, `run_query` takes one read-only SELECT over the `reporting` and `marts` schemas (see the glp://schema
resource), and `ask_database` writes that query from a question in plain language.
"""

Transport = Literal["stdio", "http"]


def build_server() -> MCPServer:
    """The server with every tool, resource and prompt (transport-independent; `glp mcp` runs it)."""
    server = MCPServer("GLP Sync", instructions=INSTRUCTIONS)
    for module in (overview, devices, subscriptions, sql, ask, resources):
        module.register(server)
    if get_settings().has_aruba:  # without Aruba Central configured, nothing Aruba appears
        central.register(server)
    return server
