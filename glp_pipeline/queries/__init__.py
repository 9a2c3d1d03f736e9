"""The one read-only query layer over `marts` and `reporting`.

The dashboard, the MCP server and the chat agent are thin faces over these functions. Each takes the
database URL, opens a read-only connection under the reader role (see `connection`), runs parameterised
SQL and returns plain Python (dataclasses, lists of dicts). Failures raise `QueryError` with a message a
person can act on; bad arguments raise `InvalidParameter` (a `QueryError` and a `ValueError`).
"""

from glp_pipeline.queries.catalog import schema_catalog
from glp_pipeline.queries.common import Page
from glp_pipeline.queries.connection import (
    InvalidParameter,
    QueryConfig,
    QueryError,
    QueryFault,
    read_only_connection,
)
from glp_pipeline.queries.devices import (
    assignment_history,
    device_detail,
    device_subscriptions,
    devices_by_tag,
    search_devices,
    unassigned_devices,
)
from glp_pipeline.queries.inventory import (
    device_age_analysis,
    device_summary,
    devices_by_location,
    model_distribution,
    recently_updated,
    tag_statistics,
)
from glp_pipeline.queries.overview import (
    DeviceKpis,
    Overview,
    SyncFreshness,
    Utilization,
    filter_options,
    overview,
    sync_freshness,
    sync_status,
)
from glp_pipeline.queries.sql import QueryResult, run_query
from glp_pipeline.queries.sql_guard import UnsafeQuery
from glp_pipeline.queries.subscriptions import (
    TotalledPage,
    evaluation_subscriptions,
    expiring_subscriptions,
    license_utilization,
    renewal_forecast,
    search_subscriptions,
    subscription_detail,
    subscription_devices,
)
from glp_pipeline.queries.sync_runs import sync_history, sync_metrics
from glp_pipeline.queries.trends import (
    devices_by_type_and_region,
    expiry_timeline,
    inventory_trend,
    license_trend,
    subscription_summary,
    subscriptions_by_tier,
)

__all__ = [
    "DeviceKpis",
    "InvalidParameter",
    "Overview",
    "Page",
    "QueryConfig",
    "QueryError",
    "QueryFault",
    "QueryResult",
    "SyncFreshness",
    "TotalledPage",
    "UnsafeQuery",
    "Utilization",
    "assignment_history",
    "device_age_analysis",
    "device_detail",
    "device_subscriptions",
    "device_summary",
    "devices_by_location",
    "devices_by_tag",
    "devices_by_type_and_region",
    "evaluation_subscriptions",
    "expiring_subscriptions",
    "expiry_timeline",
    "filter_options",
    "inventory_trend",
    "license_trend",
    "license_utilization",
    "model_distribution",
    "overview",
    "read_only_connection",
    "recently_updated",
    "renewal_forecast",
    "run_query",
    "schema_catalog",
    "search_devices",
    "search_subscriptions",
    "subscription_detail",
    "subscription_devices",
    "subscription_summary",
    "subscriptions_by_tier",
    "sync_freshness",
    "sync_history",
    "sync_metrics",
    "sync_status",
    "tag_statistics",
    "unassigned_devices",
]
