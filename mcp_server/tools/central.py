"""Aruba Central tools: the GreenLake ↔ Central cross view, clients, and client health. Registered only when
Aruba Central is configured (`ARUBA_*`): without it, nothing Aruba appears."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from glp_pipeline.queries import central
from mcp_server.common import READ_ONLY, PageNumber, PageSize, call, page_result, rows, to_json

Limit = Annotated[int, Field(ge=1, le=100, description="Rows to return at most, the most clients first.")]
ClientSort = Literal[
    "mac_address", "client_name", "site_name", "connected_device_serial", "snr", "connected_at"
]
Site = Annotated[str | None, Field(max_length=200, description="A Central site id or name.")]


def register(server: MCPServer) -> None:
    """Add the Aruba Central tools to the server."""

    @server.tool(annotations=READ_ONLY)
    def cross_platform_summary() -> dict[str, Any]:
        """GreenLake ↔ Aruba Central: how many live devices are in both, in GreenLake only (and how many of
        those are network gear Central should manage), in Central only, and how many in both disagree on
        model, name or status (archived in GreenLake but online in Central). Serials are compared trimmed
        and upper-case."""
        return to_json(call(central.cross_platform_summary))

    @server.tool(annotations=READ_ONLY)
    def cross_platform_devices(
        presence: Literal["both", "greenlake_only", "central_only"] | None = None,
        mismatch: Annotated[
            Literal["model", "name", "status"] | None,
            Field(description="Only devices in both platforms that disagree on this."),
        ] = None,
        network_only: Annotated[
            bool, Field(description="Only gear Central manages (AP, switch, gateway).")
        ] = False,
        page: PageNumber = 1,
        page_size: PageSize = 25,
    ) -> dict[str, Any]:
        """Devices of the GreenLake ↔ Central cross view with both sides' type, model, name and status, by
        serial; filter by presence or by a mismatch."""
        return page_result(
            call(
                central.cross_platform_devices,
                presence=presence,
                mismatch=mismatch,
                network_only=network_only,
                page=page,
                page_size=page_size,
            )
        )

    @server.tool(annotations=READ_ONLY)
    def search_clients(
        text: Annotated[
            str | None, Field(max_length=200, description="Start of a MAC, client name, user or IP address.")
        ] = None,
        site: Site = None,
        device_serial: Annotated[
            str | None, Field(max_length=100, description="The AP or switch the clients are on.")
        ] = None,
        status: Annotated[
            str | None, Field(max_length=40, description=f"One of {central.CLIENT_STATUSES_HINT}.")
        ] = None,
        connection_type: Literal["WIRELESS", "WIRED"] | None = None,
        sort: ClientSort = "mac_address",
        descending: bool = False,
        page: PageNumber = 1,
        page_size: PageSize = 25,
    ) -> dict[str, Any]:
        """Aruba Central clients (live), with the device and site they are on, SSID, band, SNR and status."""
        return page_result(
            call(
                central.search_clients,
                text=text,
                site=site,
                device_serial=device_serial,
                status=status,
                connection_type=connection_type,
                sort=sort,
                descending=descending,
                page=page,
                page_size=page_size,
            )
        )

    @server.tool(annotations=READ_ONLY)
    def clients_per_site(limit: Limit = 50) -> dict[str, Any]:
        """Central sites with their devices and clients (connected, failed, wireless, wired)."""
        return rows(call(central.clients_per_site, limit))

    @server.tool(annotations=READ_ONLY)
    def clients_per_device(site: Site = None, limit: Limit = 50) -> dict[str, Any]:
        """Central devices with their clients (connected, failed, wireless, wired) and the GreenLake device
        id when GreenLake has the serial too; optionally at one site."""
        return rows(call(central.clients_per_device, site, limit))

    @server.tool(annotations=READ_ONLY)
    def client_health(site: Site = None) -> dict[str, Any]:
        """Client health per site, connection type and band: clients, failed connections (count and %),
        mean SNR, clients with good signal (SNR ≥ 25 dB), and Classic Central's health score."""
        return rows(call(central.client_health, site))
