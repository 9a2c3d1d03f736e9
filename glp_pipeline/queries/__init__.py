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
from glp_pipeline.queries.devices import assignment_history, device_detail, search_devices
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
from glp_pipeline.queries.subscriptions import search_subscriptions, subscription_devices
from glp_pipeline.queries.trends import (
    devices_by_type_and_region,
    expiry_timeline,
    inventory_trend,
    license_trend,
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
    "UnsafeQuery",
    "Utilization",
    "assignment_history",
    "device_detail",
    "devices_by_type_and_region",
    "expiry_timeline",
    "filter_options",
    "inventory_trend",
    "license_trend",
    "overview",
    "read_only_connection",
    "run_query",
    "schema_catalog",
    "search_devices",
    "search_subscriptions",
    "subscription_devices",
    "sync_freshness",
    "sync_status",
]
