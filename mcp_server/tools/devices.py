"""Device tools: search, one device in full, and counts by type and region."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from glp_pipeline import queries as q
from mcp_server.common import READ_ONLY, PageNumber, PageSize, call, page_result, to_json


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
