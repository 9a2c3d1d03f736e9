"""Device tools: search, one device in full, its subscriptions, unassigned and tagged devices, what changed
lately, and counts by type and region, location, age, model and tag."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from glp_pipeline import queries as q
from glp_pipeline.queries import devices as device_queries
from glp_pipeline.queries import inventory
from mcp_server.common import MAX_PAGE_SIZE, READ_ONLY, PageNumber, PageSize, call, page_result, to_json

DeviceId = Annotated[
    str, Field(min_length=1, max_length=200, description="The GreenLake device id (from search_devices).")
]
DeviceType = Annotated[
    str | None, Field(max_length=100, description="Only devices of this type, e.g. IAP, SWITCH, GATEWAY.")
]
Limit = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_PAGE_SIZE,
        description=f"Rows to return at most, largest first (at most {MAX_PAGE_SIZE}).",
    ),
]


def register(server: MCPServer) -> None:
    """Add the device tools to the server."""

    @server.tool(annotations=READ_ONLY)
    def search_devices(
        text: Annotated[
            str | None, Field(description="Words to find: serial, name, MAC, model, site ...")
        ] = None,
        device_type: Annotated[str | None, Field(description="e.g. IAP, SWITCH, GATEWAY, COMPUTE")] = None,
        region: str | None = None,
        application_id: str | None = None,
        assigned: Annotated[bool | None, Field(description="True: assigned to an application.")] = None,
        tag_key: str | None = None,
        tag_value: Annotated[str | None, Field(description="With tag_key; omit for any value.")] = None,
        tier: Annotated[str | None, Field(description="Devices on a subscription of this tier.")] = None,
        expiring_within_days: Annotated[
            int | None, Field(ge=0, le=3650, description="Devices on a subscription ending that soon.")
        ] = None,
        include_removed: Annotated[bool, Field(description="Also devices gone from GreenLake.")] = False,
        sort: Annotated[
            str | None, Field(description="serial_number, device_name, device_type, model, region, ...")
        ] = None,
        descending: bool = False,
        page: PageNumber = 1,
        page_size: PageSize = 25,
    ) -> dict[str, Any]:
        """Find devices by text and filters; one page of them and how many match in all."""
        tag = (tag_key, tag_value) if tag_key else None
        return page_result(
            call(
                q.search_devices,
                text=text,
                device_type=device_type,
                region=region,
                application_id=application_id,
                assigned=assigned,
                tag=tag,
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
    def get_device(
        device_id: Annotated[str, Field(description="The GreenLake device id (from search_devices).")],
    ) -> dict[str, Any]:
        """Everything about one device: its fields, subscriptions, tags, assignment history and raw JSON."""
        detail = call(q.device_detail, device_id)
        if detail is None:
            raise ToolError(f"No device with id {device_id}; find ids with search_devices.")
        return to_json(detail)

    @server.tool(annotations=READ_ONLY)
    def devices_by_type_and_region() -> dict[str, Any]:
        """Live devices counted by device type and region."""
        return {"rows": to_json(call(q.devices_by_type_and_region))}

    @server.tool(annotations=READ_ONLY)
    def device_subscriptions(device_id: DeviceId) -> dict[str, Any]:
        """The subscriptions one device uses, in the device's order: key, tier, type, status, licences, start
        and end (UTC) and days remaining (negative once ended). `is_subscription_removed` marks one gone from
        GreenLake; `is_known_subscription` false a reference to one GLP Sync never saw."""
        found = call(device_queries.device_subscriptions, device_id)
        if found is None:
            raise ToolError(f"No device with id {device_id}; find ids with search_devices.")
        return to_json(found | {"count": len(found["subscriptions"])})

    @server.tool(annotations=READ_ONLY)
    def unassigned_devices(
        device_type: DeviceType = None,
        region: Annotated[
            str | None,
            Field(
                max_length=100, description="The application's region; unassigned devices rarely have one."
            ),
        ] = None,
        page: PageNumber = 1,
        page_size: PageSize = 25,
    ) -> dict[str, Any]:
        """Live devices not assigned to any application (archived ones included: see is_archived), by serial
        number: one page and how many there are in all (the overview's unassigned count)."""
        return page_result(
            call(
                device_queries.unassigned_devices,
                device_type=device_type,
                region=region,
                page=page,
                page_size=page_size,
            )
        )

    @server.tool(annotations=READ_ONLY)
    def device_summary(
        group_by: Annotated[
            list[Literal["device_type", "region"]],
            Field(max_length=2, description="Dimensions to count by; [] for one total."),
        ] = ["device_type"],  # noqa: B006 - pydantic copies defaults
        device_type: DeviceType = None,
        region: Annotated[str | None, Field(max_length=100, description="Only this region.")] = None,
        limit: Limit = 50,
    ) -> dict[str, Any]:
        """Live devices counted by device type and/or region: total, assigned, unassigned and archived per
        group (region null = not assigned), the number of groups and the totals over the filters."""
        return to_json(
            call(
                inventory.device_summary,
                group_by=group_by,
                device_type=device_type,
                region=region,
                limit=limit,
            )
        )

    @server.tool(annotations=READ_ONLY)
    def devices_by_location(
        level: Annotated[
            Literal["country", "state", "city", "site"], Field(description="What to count per.")
        ] = "country",
        device_type: DeviceType = None,
        limit: Limit = 50,
    ) -> dict[str, Any]:
        """Live devices counted per country, state, city or site (a GreenLake location), with assigned and
        unassigned counts, most first; each row names the levels above it. `no_location` counts devices
        without a location; `locations` is how many there are at that level."""
        return to_json(call(inventory.devices_by_location, level=level, device_type=device_type, limit=limit))

    @server.tool(annotations=READ_ONLY)
    def device_age_analysis(
        group_by: Annotated[
            Literal["device_type", "model"] | None, Field(description="Split by device type or model.")
        ] = None,
        device_type: DeviceType = None,
        limit: Limit = 50,
    ) -> dict[str, Any]:
        """Live devices by age since they were added to GreenLake (whole calendar months from created_at's
        month: <1y, 1-2y, 2-3y, 3-5y, 5y+, unknown) and by warranty / support end (ended, ends within 90 or
        180 days from today, no end date; the 180 includes the 90), overall or per device type or model."""
        return to_json(
            call(inventory.device_age_analysis, group_by=group_by, device_type=device_type, limit=limit)
        )

    @server.tool(annotations=READ_ONLY)
    def model_distribution(device_type: DeviceType = None, limit: Limit = 50) -> dict[str, Any]:
        """Live devices per hardware model (with its device type), assigned and unassigned, and each model's
        share in percent of the devices counted (of the type, when one is given), most first."""
        return to_json(call(inventory.model_distribution, device_type=device_type, limit=limit))

    @server.tool(annotations=READ_ONLY)
    def devices_by_tag(
        tag_key: Annotated[
            str, Field(min_length=1, max_length=200, description="The tag key (case matters).")
        ],
        tag_value: Annotated[
            str | None, Field(max_length=500, description="Only this value (case matters); omit for any.")
        ] = None,
        page: PageNumber = 1,
        page_size: PageSize = 25,
    ) -> dict[str, Any]:
        """Live devices carrying a tag (key, and value when given), by serial number: one page and how many
        there are in all. When none match, `similar_keys` lists keys that differ only in case."""
        result = page_result(
            call(device_queries.devices_by_tag, tag_key, tag_value=tag_value, page=page, page_size=page_size)
        )
        if result["total"] == 0:
            result["similar_keys"] = call(inventory.similar_tag_keys, tag_key)
        return result

    @server.tool(annotations=READ_ONLY)
    def tag_statistics(
        limit: Annotated[
            int, Field(ge=1, le=MAX_PAGE_SIZE, description="Tag keys to list, most used first.")
        ] = 25,
        top_values: Annotated[int, Field(ge=1, le=20, description="Most used values to show per key.")] = 5,
    ) -> dict[str, Any]:
        """Tag keys in use on live devices and subscriptions, most used first: how many devices and
        subscriptions carry each, how many distinct values it has, and its most used values with counts."""
        return to_json(call(inventory.tag_statistics, limit=limit, top_values=top_values))

    @server.tool(annotations=READ_ONLY)
    def recently_updated(
        days: Annotated[
            int, Field(ge=1, le=inventory.MAX_CHANGE_DAYS, description="How many days back to look.")
        ] = 7,
        kind: Literal["devices", "subscriptions"] = "devices",
        page: PageNumber = 1,
        page_size: PageSize = 25,
    ) -> dict[str, Any]:
        """What changed in GreenLake in the last `days` days: `updated` lists live devices (or subscriptions)
        by their last change (updated_at), newest first; `removed` those found gone from GreenLake in that
        time (removed_at), newest first. Both are paged alike, each with its total."""
        changes = call(inventory.recently_updated, days=days, kind=kind, page=page, page_size=page_size)
        return {
            "kind": kind,
            "days": days,
            "since": to_json(changes["since"]),
            "updated": page_result(changes["updated"]),
            "removed": page_result(changes["removed"]),
        }
