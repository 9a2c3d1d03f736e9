"""Workspace-wide tools: the overview, the inventory trend, filter values and sync status."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from glp_pipeline import queries as q
from mcp_server.common import READ_ONLY, call, to_json


def register(server: MCPServer) -> None:
    """Add the overview and sync tools to the server."""

    @server.tool(annotations=READ_ONLY)
    def inventory_overview() -> dict[str, Any]:
        """Device counts (assigned, unassigned, archived, removed lately), subscriptions by status,
        expiring in 30/60/90 days, licence utilisation, and the data's freshness."""
        return to_json(call(q.overview))

    @server.tool(annotations=READ_ONLY)
    def inventory_trend() -> dict[str, Any]:
        """Per week since GLP Sync first ran: devices added, removed, and present at the week's end."""
        return {"rows": to_json(call(q.inventory_trend))}

    @server.tool(annotations=READ_ONLY)
    def filter_values() -> dict[str, Any]:
        """The values the categorical filters take (device types, regions, tiers, statuses, tag keys ...)."""
        return to_json(call(q.filter_options))

    @server.tool(annotations=READ_ONLY)
    def sync_status(
        limit: Annotated[int, Field(ge=1, le=100, description="Most recent runs to list.")] = 10,
    ) -> dict[str, Any]:
        """How fresh the data is (last successful sync per resource) and the most recent sync runs."""
        return {
            "freshness": to_json(call(q.sync_freshness)),
            "recent_runs": to_json(call(q.sync_status, limit)),
        }
