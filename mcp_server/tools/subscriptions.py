"""Subscription tools: search, one subscription in full, the devices it covers, what ends when, evaluations,
licence utilisation (per subscription, tier and type), the renewal forecast and licence trends."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from glp_pipeline import queries as q
from glp_pipeline.queries import subscriptions as subscription_queries
from glp_pipeline.queries import trends
from mcp_server.common import READ_ONLY, Days, PageNumber, PageSize, call, page_result, to_json

UtilizationSort = Literal[
    "utilization_pct",
    "used_quantity",
    "available_quantity",
    "quantity",
    "linked_devices",
    "ends_at",
    "subscription_key",
    "tier",
    "subscription_type",
]
Percent = Annotated[float | None, Field(ge=0, le=100)]


def totalled_page(page: subscription_queries.TotalledPage) -> dict[str, Any]:
    """A page with its totals over every match."""
    return page_result(page) | {"totals": to_json(page.totals)}


def register(server: MCPServer) -> None:
    """Add the subscription tools to the server."""

    @server.tool(annotations=READ_ONLY)
    def search_subscriptions(
        text: Annotated[str | None, Field(description="Words to find: key, SKU, tier, type ...")] = None,
        subscription_type: str | None = None,
        status: Annotated[str | None, Field(description="e.g. STARTED, ENDED, SUSPENDED")] = None,
        tier: str | None = None,
        expiring_within_days: Annotated[int | None, Field(ge=0, le=3650)] = None,
        include_removed: bool = False,
        sort: Annotated[str | None, Field(description="ends_at, subscription_key, quantity, ...")] = None,
        descending: bool = False,
        page: PageNumber = 1,
        page_size: PageSize = 25,
    ) -> dict[str, Any]:
        """Find subscriptions by text and filters, with days remaining and linked devices."""
        return page_result(
            call(
                q.search_subscriptions,
                text=text,
                subscription_type=subscription_type,
                status=status,
                tier=tier,
                expiring_within_days=expiring_within_days,
                include_removed=include_removed,
                sort=sort,
                descending=descending,
                page=page,
                page_size=page_size,
            )
        )

    @server.tool(annotations=READ_ONLY)
    def subscription_devices(
        subscription_id: Annotated[
            str, Field(description="The subscription id (from search_subscriptions).")
        ],
        include_removed: bool = False,
    ) -> dict[str, Any]:
        """The devices a subscription is applied to."""
        devices = call(q.subscription_devices, subscription_id, include_removed=include_removed)
        return {"subscription_id": subscription_id, "devices": to_json(devices), "count": len(devices)}

    @server.tool(annotations=READ_ONLY)
    def expiry_timeline() -> dict[str, Any]:
        """Per month from this one on: subscriptions ending, licences ending, devices affected."""
        return {"rows": to_json(call(q.expiry_timeline))}

    @server.tool(annotations=READ_ONLY)
    def license_trend() -> dict[str, Any]:
        """Per week: licences bought and used in live subscriptions."""
        return {"rows": to_json(call(q.license_trend))}

    @server.tool(annotations=READ_ONLY)
    def get_subscription(
        subscription_id: Annotated[
            str | None, Field(description="The subscription id (from search_subscriptions).")
        ] = None,
        subscription_key: Annotated[
            str | None, Field(description="Or its key, as GreenLake shows it (e.g. E123ABC456).")
        ] = None,
    ) -> dict[str, Any]:
        """One subscription in full, by id or key: its fields (type, status, tier, SKU, start and end,
        contract and PO, removed or not), days remaining, licences (bought, used, available, utilisation %),
        tags and the number of live devices linked to it (subscription_devices lists them)."""
        detail = call(
            subscription_queries.subscription_detail, subscription_id, subscription_key=subscription_key
        )
        if detail is None:
            wanted = f"id {subscription_id}" if subscription_id else f"key {subscription_key}"
            raise ToolError(
                f"No subscription with {wanted}; find ids and keys with search_subscriptions "
                "(text= part of a key, SKU or tier) or expiring_subscriptions."
            )
        return to_json(detail)

    @server.tool(annotations=READ_ONLY)
    def expiring_subscriptions(
        days: Annotated[Days, Field(description="Ending from now to now + this many days.")] = 90,
        subscription_type: Annotated[str | None, Field(description="e.g. CENTRAL_AP, CENTRAL_SWITCH")] = None,
        tier: Annotated[str | None, Field(description="e.g. FOUNDATION_AP (see filter_values)")] = None,
        page: PageNumber = 1,
        page_size: PageSize = 25,
    ) -> dict[str, Any]:
        """Live subscriptions ending within `days` days, soonest first, each with its licences (bought, used,
        available), days remaining and the live devices it covers; `totals` sum all of them (subscriptions,
        licences, licences in use, devices covered)."""
        return totalled_page(
            call(
                subscription_queries.expiring_subscriptions,
                days,
                subscription_type=subscription_type,
                tier=tier,
                page=page,
                page_size=page_size,
            )
        )

    @server.tool(annotations=READ_ONLY)
    def subscription_summary() -> dict[str, Any]:
        """Live subscriptions counted by type and status, with licences bought, used and available and the
        devices they cover."""
        return {"rows": to_json(call(trends.subscription_summary))}

    @server.tool(annotations=READ_ONLY)
    def license_utilization(
        subscription_type: str | None = None,
        tier: str | None = None,
        status: Annotated[str | None, Field(description="e.g. STARTED; omit for every status")] = None,
        min_pct: Percent = None,
        max_pct: Percent = None,
        sort: UtilizationSort = "utilization_pct",
        descending: Annotated[bool, Field(description="True: highest first.")] = False,
        page: PageNumber = 1,
        page_size: PageSize = 25,
    ) -> dict[str, Any]:
        """Licence use per live subscription: quantity, used, available, utilisation % and live devices
        linked, with its end and days remaining. min_pct / max_pct keep a utilisation range (e.g.
        max_pct=20 for barely used, min_pct=90 for nearly full); `totals` sum every match."""
        return totalled_page(
            call(
                subscription_queries.license_utilization,
                subscription_type=subscription_type,
                tier=tier,
                status=status,
                min_pct=min_pct,
                max_pct=max_pct,
                sort=sort,
                descending=descending,
                page=page,
                page_size=page_size,
            )
        )

    @server.tool(annotations=READ_ONLY)
    def subscriptions_by_tier() -> dict[str, Any]:
        """Per tier and subscription type, STARTED subscriptions only: subscriptions, licences bought, used
        and available, utilisation % and the devices they cover."""
        return {"rows": to_json(call(trends.subscriptions_by_tier))}

    @server.tool(annotations=READ_ONLY)
    def evaluation_subscriptions(
        include_ended: Annotated[
            bool, Field(description="Also evaluations whose end date has passed.")
        ] = False,
        page: PageNumber = 1,
        page_size: PageSize = 25,
    ) -> dict[str, Any]:
        """Evaluation (trial) subscriptions by end date, each with days remaining, licences and the live
        devices it covers (they stop being covered when it ends); `totals` sum them all."""
        return totalled_page(
            call(
                subscription_queries.evaluation_subscriptions,
                include_ended=include_ended,
                page=page,
                page_size=page_size,
            )
        )

    @server.tool(annotations=READ_ONLY)
    def renewal_forecast(
        months: Annotated[int, Field(ge=1, le=36, description="Months ahead, this one included.")] = 12,
        group_by: Literal["tier", "sku", "subscription_type"] = "tier",
    ) -> dict[str, Any]:
        """Per calendar month (UTC) ahead: subscriptions ending, licences ending, licences in use (what must
        be renewed to keep devices covered) and live devices affected, in total and per group_by value; this
        month counts only what has not ended yet. `totals` sum the window."""
        return to_json(call(subscription_queries.renewal_forecast, months, group_by=group_by))
