"""Resources (the reporting schema with dbt's column descriptions, valid values, example queries) and
prompts (device analysis, expiry review, utilisation report)."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer

from glp_pipeline import queries as q
from mcp_server.common import call, to_json


def register(server: MCPServer) -> None:
    """Add the resources and prompts to the server."""

    @server.resource(
        "glp://schema",
        name="schema",
        description="Tables and views of reporting and marts: columns, types and their descriptions.",
        mime_type="application/json",
    )
    def schema() -> list[dict[str, Any]]:
        return to_json(call(q.schema_catalog))

    @server.resource(
        "glp://values",
        name="valid-values",
        description="The values the categorical columns take (device types, regions, tiers, statuses ...).",
        mime_type="application/json",
    )
    def valid_values() -> dict[str, Any]:
        return to_json(call(q.filter_options))

    @server.resource(
        "glp://examples",
        name="example-queries",
        description="Example SQL over the reporting views, for questions the tools do not cover.",
        mime_type="text/markdown",
    )
    def examples() -> str:
        return EXAMPLE_QUERIES

    @server.prompt(
        description="Look into the device inventory: what is there, what is unassigned, what is odd."
    )
    def device_analysis(focus: str = "the whole inventory") -> str:
        return (
            f"Analyse {focus} of this HPE GreenLake workspace with the GLP Sync tools. Start with "
            "inventory_overview and sync_status (say how fresh the data is), then device_summary, "
            "model_distribution, devices_by_location and device_age_analysis for the shape of the fleet, "
            "unassigned_devices for devices without an application, and recently_updated for what changed "
            "lately. Report counts, notable gaps (unassigned or archived devices, devices without a "
            "subscription, support that has ended), and what an admin should do next."
        )

    @server.prompt(description="Review what expires soon and what it affects.")
    def expiry_review(days: str = "90") -> str:
        return (
            f"Review the subscriptions ending within {days} days: expiring_subscriptions with days={days} "
            "(soonest first, with licences and devices covered), renewal_forecast for the months ahead, "
            "evaluation_subscriptions for trials about to end, and subscription_devices for the devices "
            "one covers. List them by end date with licences and devices affected, and say which need "
            "renewing first."
        )

    @server.prompt(description="Report licence utilisation by subscription type and tier.")
    def utilisation_report() -> str:
        return (
            "Report licence utilisation: subscriptions_by_tier and subscription_summary for the totals, "
            "license_utilization (sorted by utilization_pct, both directions) for the subscriptions nearly "
            "used up and the ones barely used, and license_trend for the weeks behind. Say where licences "
            "could be moved or need buying."
        )


EXAMPLE_QUERIES = """\
# Example queries (PostgreSQL, over the `reporting` views)

Devices per type and region:

    select device_type, region, total_devices from reporting.device_summary order by total_devices desc;

Subscriptions ending in the next 30 days, with their licences:

    select subscription_key, tier, ends_at, days_remaining, quantity, used_quantity
    from reporting.subscriptions_expiring_soon where days_remaining < 30 order by ends_at;

Licence utilisation by tier:

    select * from reporting.license_utilization_by_tier order by utilization_pct desc;

Unassigned devices by model:

    select model, count(*) from reporting.unassigned_devices group by model order by 2 desc;
"""
