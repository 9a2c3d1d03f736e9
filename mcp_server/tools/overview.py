"""Workspace-wide tools: the overview, the inventory trend, filter values, and the syncs (status, history,
metrics)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from glp_pipeline import queries as q
from glp_pipeline.queries import sync_runs
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

    @server.tool(annotations=READ_ONLY)
    def sync_history(
        resource: Annotated[
            str | None, Field(description="devices, subscriptions, or run (a failed Dagster run)")
        ] = None,
        status: Annotated[str | None, Field(description="running, success or failed")] = None,
        limit: Annotated[int, Field(ge=1, le=100, description="Most recent runs to list.")] = 20,
    ) -> dict[str, Any]:
        """Sync runs from GreenLake, newest first, one row per resource per run: mode (full or incremental),
        trigger, status, start and end, duration, objects fetched / inserted / updated / removed, and the
        error of a failed run."""
        runs = call(sync_runs.sync_history, resource=resource, status=status, limit=limit)
        return {"runs": to_json(runs), "count": len(runs)}

    @server.tool(annotations=READ_ONLY)
    def sync_metrics(
        days: Annotated[
            int, Field(ge=1, le=3650, description="The window: runs started this many days back.")
        ] = 30,
    ) -> dict[str, Any]:
        """How the syncs went per resource over the last `days` days: runs, successes, failures, success
        rate %, median / p95 / max duration of successful runs (seconds), records loaded, and the last
        success and last failure (with its error message) of any age."""
        return {"days": days, "resources": to_json(call(sync_runs.sync_metrics, days))}
