"""GLP Sync's MCP server: read-only inventory tools for AI assistants, answered from the modelled tables.

Every tool is a thin face over `glp_pipeline.queries` (the layer the dashboard uses): it reads as the
SELECT-only reader role in a read-only transaction with a statement timeout, never calls GreenLake, and is
annotated read-only, idempotent and closed-world. Results are structured (JSON objects); failures come back
as tool errors whose text says what to do (e.g. run `glp demo` first).

The database is resolved per call, so the server starts (and lists its tools) even while PostgreSQL is down.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field
from pydantic_core import to_jsonable_python

from glp_pipeline import queries as q
from glp_pipeline.database import DatabaseError, database_url
from glp_pipeline.settings import get_settings

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
MAX_PAGE_SIZE = 100  # an assistant's context is small: pages beyond this are asked for, not sent
T = TypeVar("T")

INSTRUCTIONS = """\
GLP Sync answers questions about an HPE GreenLake workspace's devices and subscriptions from a PostgreSQL
copy kept in sync (see `sync_status` for how fresh it is). All tools are read-only. Search tools page their
results: `total` says how many match; ask for the next `page` rather than a bigger one.
"""


def _call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a query-layer call against the configured database; its errors become tool errors."""
    try:
        settings = get_settings()
        url = database_url(settings, start=False)
        config = q.QueryConfig.from_settings(settings, statement_timeout_seconds=10.0)
        return fn(url, *args, config=config, **kwargs)
    except (q.QueryError, DatabaseError) as exc:
        raise ToolError(str(exc)) from exc


def _json(value: Any) -> Any:
    """JSON-safe structured content: dataclasses as objects, times ISO 8601, decimals as numbers."""
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    return to_jsonable_python(value, fallback=str)


def _page(page: q.Page) -> dict[str, Any]:
    return {
        "items": _json(page.items),
        "total": page.total,
        "page": page.page,
        "pages": page.pages,
        "page_size": page.page_size,
    }


PageNumber = Annotated[int, Field(ge=1, description="1 for the first page.")]
PageSize = Annotated[
    int, Field(ge=1, le=MAX_PAGE_SIZE, description=f"Rows per page (at most {MAX_PAGE_SIZE}).")
]
Days = Annotated[int, Field(ge=0, le=3650)]


def build_server() -> MCPServer:
    """The server with every tool registered (transport-independent; `glp mcp` runs it)."""
    server = MCPServer("GLP Sync", instructions=INSTRUCTIONS)

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
        return _page(
            _call(
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
        detail = _call(q.device_detail, device_id)
        if detail is None:
            raise ToolError(f"No device with id {device_id}; find ids with search_devices.")
        return _json(detail)

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
        return _page(
            _call(
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
        devices = _call(q.subscription_devices, subscription_id, include_removed=include_removed)
        return {"subscription_id": subscription_id, "devices": _json(devices), "count": len(devices)}

    @server.tool(annotations=READ_ONLY)
    def inventory_overview() -> dict[str, Any]:
        """Device counts (assigned, unassigned, archived, removed lately), subscriptions by status,
        expiring in 30/60/90 days, licence utilisation, and the data's freshness."""
        return _json(_call(q.overview))

    @server.tool(annotations=READ_ONLY)
    def devices_by_type_and_region() -> dict[str, Any]:
        """Live devices counted by device type and region."""
        return {"rows": _json(_call(q.devices_by_type_and_region))}

    @server.tool(annotations=READ_ONLY)
    def expiry_timeline() -> dict[str, Any]:
        """Per month from this one on: subscriptions ending, licences ending, devices affected."""
        return {"rows": _json(_call(q.expiry_timeline))}

    @server.tool(annotations=READ_ONLY)
    def inventory_trend() -> dict[str, Any]:
        """Per week since GLP Sync first ran: devices added, removed, and present at the week's end."""
        return {"rows": _json(_call(q.inventory_trend))}

    @server.tool(annotations=READ_ONLY)
    def license_trend() -> dict[str, Any]:
        """Per week: licences bought and used in live subscriptions."""
        return {"rows": _json(_call(q.license_trend))}

    @server.tool(annotations=READ_ONLY)
    def filter_values() -> dict[str, Any]:
        """The values the categorical filters take (device types, regions, tiers, statuses, tag keys ...)."""
        return _json(_call(q.filter_options))

    @server.tool(annotations=READ_ONLY)
    def sync_status(
        limit: Annotated[int, Field(ge=1, le=100, description="Most recent runs to list.")] = 10,
    ) -> dict[str, Any]:
        """How fresh the data is (last successful sync per resource) and the most recent sync runs."""
        return {
            "freshness": _json(_call(q.sync_freshness)),
            "recent_runs": _json(_call(q.sync_status, limit)),
        }

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
        return _json(_call(q.run_query, sql, max_rows=max_rows))

    @server.resource(
        "glp://schema",
        name="schema",
        description="Tables and views of reporting and marts: columns, types and their descriptions.",
        mime_type="application/json",
    )
    def schema() -> list[dict[str, Any]]:
        return _json(_call(q.schema_catalog))

    @server.resource(
        "glp://values",
        name="valid-values",
        description="The values the categorical columns take (device types, regions, tiers, statuses ...).",
        mime_type="application/json",
    )
    def valid_values() -> dict[str, Any]:
        return _json(_call(q.filter_options))

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
            "inventory_overview and sync_status (say how fresh the data is), then "
            "devices_by_type_and_region and search_devices (assigned=false for unassigned devices). Report "
            "counts, notable gaps (devices without an application or subscription, archived devices), and "
            "what an admin should do next."
        )

    @server.prompt(description="Review what expires soon and what it affects.")
    def expiry_review(days: str = "90") -> str:
        return (
            f"Review the subscriptions ending within {days} days: use search_subscriptions with "
            f"expiring_within_days={days}, expiry_timeline for the months ahead, and subscription_devices "
            "for the devices each one covers. List them by end date with licences and devices affected, and "
            "say which need renewing first."
        )

    @server.prompt(description="Report licence utilisation by subscription type and tier.")
    def utilisation_report() -> str:
        return (
            "Report licence utilisation: inventory_overview for the totals, search_subscriptions (status "
            "STARTED, sorted by quantity) for the largest subscriptions, and license_trend for the weeks "
            "behind. Point out subscriptions nearly used up and ones barely used."
        )

    return server


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

Transport = Literal["stdio", "http"]
