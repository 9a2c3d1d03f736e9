"""Subscription tools: search, the devices a subscription covers, what ends when, and licence trends."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from glp_pipeline import queries as q
from mcp_server.common import READ_ONLY, PageNumber, PageSize, call, page_result, to_json


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
