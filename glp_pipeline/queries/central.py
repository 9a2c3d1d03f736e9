"""Aruba Central in the query layer: the GreenLake ↔ Central cross view, clients, and client health.

Reads the Central marts and reporting views dbt builds when Aruba Central is configured; without them
(Aruba not configured, or never synced) every function raises a `QueryError` saying so. Like the rest of the
layer: parameterised SQL, read-only connections as the reader role, sort columns from allow-lists.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from psycopg import errors, sql

from glp_pipeline.queries.common import Page, Where, check_paging, order_by
from glp_pipeline.queries.connection import (
    DEFAULT_CONFIG,
    InvalidParameter,
    QueryConfig,
    QueryError,
    read_only_connection,
)

PRESENCE = ("both", "greenlake_only", "central_only")
MISMATCHES = ("model", "name", "status")
CLIENT_STATUSES_HINT = "Connected, Failed, Connecting, Disconnected, Blocked"
NOT_BUILT = (
    "Aruba Central's tables are not built: set the ARUBA_* settings (see the README), run "
    "`glp sync --central`, then `glp transform`."
)
_CLIENT_SORTS = {
    "mac_address": "mac_address",
    "client_name": "client_name",
    "site_name": "site_name",
    "connected_device_serial": "connected_device_serial",
    "snr": "snr",
    "connected_at": "connected_at",
}
_PRESENCE_SORTS = {"serial_number": "serial_number", "central_site_name": "central_site_name"}


@contextmanager
def _central_tables() -> Iterator[None]:
    """A relation that is missing means Central's models were never built: say how to build them."""
    try:
        yield
    except QueryError as exc:
        if isinstance(exc.__cause__, errors.UndefinedTable | errors.InvalidSchemaName):
            raise QueryError(NOT_BUILT) from exc
        raise


def _read(url: str, config: QueryConfig, query: str, params: Any = None) -> list[dict[str, Any]]:
    with _central_tables(), read_only_connection(url, config) as conn:
        return conn.execute(query, params or []).fetchall()  # type: ignore[arg-type]


def _page(
    url: str, config: QueryConfig, relation: str, where: Where, order: sql.Composable, page: int, size: int
) -> Page:
    check_paging(page, size)
    source = sql.SQL(relation)  # type: ignore[arg-type]  # fixed names from this module
    count = sql.SQL("select count(*) as n from {} where {}").format(source, where.sql())
    rows = sql.SQL("select * from {} where {} {} limit %s offset %s").format(source, where.sql(), order)
    with _central_tables(), read_only_connection(url, config) as conn, conn.transaction():
        total = conn.execute(count, where.params).fetchone()["n"]  # type: ignore[index]
        items = conn.execute(rows, [*where.params, size, (page - 1) * size]).fetchall()
    return Page(items=items, total=total, page=page, page_size=size)


def cross_platform_summary(url: str, config: QueryConfig = DEFAULT_CONFIG) -> dict[str, Any]:
    """How many live devices are in both GreenLake and Central, GreenLake only (network gear Central should
    have, and all), Central only, and how many of those in both disagree on model, name or status."""
    row = _read(
        url,
        config,
        "select count(*) filter (where presence = 'both') as both_platforms,"
        " count(*) filter (where presence = 'greenlake_only') as greenlake_only,"
        " count(*) filter (where presence = 'greenlake_only' and is_network_device)"
        "   as greenlake_only_network,"
        " count(*) filter (where presence = 'central_only') as central_only,"
        " count(*) filter (where is_model_mismatch) as model_mismatches,"
        " count(*) filter (where is_name_mismatch) as name_mismatches,"
        " count(*) filter (where is_status_mismatch) as status_mismatches"
        " from reporting.device_platform_presence",
    )[0]
    return dict(row)


def cross_platform_devices(
    url: str,
    *,
    presence: str | None = None,
    mismatch: str | None = None,
    network_only: bool = False,
    page: int = 1,
    page_size: int = 50,
    config: QueryConfig = DEFAULT_CONFIG,
) -> Page:
    """Devices of the cross view: `presence` (both, greenlake_only, central_only), `mismatch` (model, name,
    status: devices in both that disagree on it), `network_only` (gear Central manages), by serial."""
    where = Where()
    if presence is not None:
        if presence not in PRESENCE:
            raise InvalidParameter(f"presence is one of {', '.join(PRESENCE)}, not {presence!r}.")
        where.add("presence = %s", presence)
    if mismatch is not None:
        if mismatch not in MISMATCHES:
            raise InvalidParameter(f"mismatch is one of {', '.join(MISMATCHES)}, not {mismatch!r}.")
        where.add(f"is_{mismatch}_mismatch")  # from the allow-list above
    if network_only:
        where.add("is_network_device")
    order = order_by("serial_number", _PRESENCE_SORTS, "serial_number", descending=False)
    return _page(url, config, "reporting.device_platform_presence", where, order, page, page_size)


def search_clients(
    url: str,
    *,
    text: str | None = None,
    site: str | None = None,
    device_serial: str | None = None,
    status: str | None = None,
    connection_type: str | None = None,
    sort: str = "mac_address",
    descending: bool = False,
    page: int = 1,
    page_size: int = 50,
    config: QueryConfig = DEFAULT_CONFIG,
) -> Page:
    """Live Central clients: `text` matches the start of the MAC, name, user or IP; `site` (id or name),
    `device_serial` (the AP or switch it is on), `status` (e.g. Connected, Failed), `connection_type`
    (WIRELESS or WIRED)."""
    where = Where()
    where.add("not is_removed")
    if text:
        like = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.add(
            "(mac_address like lower(%s) or client_name ilike %s or user_name ilike %s"
            " or ip_address like %s)",
            *([like] * 4),
        )
    if site:
        where.add("(site_id = %s or site_name = %s)", site, site)
    if device_serial:
        where.add("connected_device_serial = upper(btrim(%s))", device_serial)
    if status:
        where.add("lower(status) = lower(%s)", status)
    if connection_type:
        if connection_type.upper() not in ("WIRELESS", "WIRED"):
            raise InvalidParameter(f"connection_type is WIRELESS or WIRED, not {connection_type!r}.")
        where.add("connection_type = %s", connection_type.upper())
    order = order_by(sort, _CLIENT_SORTS, "mac_address", descending=descending)
    return _page(url, config, "marts.clients", where, order, page, page_size)


def clients_per_site(
    url: str, limit: int = 100, config: QueryConfig = DEFAULT_CONFIG
) -> list[dict[str, Any]]:
    """Sites with their devices and live clients (connected, failed, wireless, wired), the most first."""
    _check_limit(limit)
    return _read(
        url,
        config,
        "select * from reporting.clients_per_site order by clients desc, site_key limit %s",
        [limit],
    )


def clients_per_device(
    url: str, site: str | None = None, limit: int = 100, config: QueryConfig = DEFAULT_CONFIG
) -> list[dict[str, Any]]:
    """Central devices with their live clients, the most first (optionally at one site, by id or name)."""
    _check_limit(limit)
    return _read(
        url,
        config,
        "select * from reporting.clients_per_device"
        " where %(site)s::text is null or site_key = %(site)s or site_name = %(site)s"
        " order by clients desc, serial_number limit %(limit)s",
        {"site": site or None, "limit": limit},
    )


def client_health(
    url: str, site: str | None = None, config: QueryConfig = DEFAULT_CONFIG
) -> list[dict[str, Any]]:
    """Client health per site, connection type and band: clients, failures, SNR, Classic's health score."""
    return _read(
        url,
        config,
        "select * from reporting.client_health_summary"
        " where %(site)s::text is null or site_key = %(site)s or site_name = %(site)s"
        " order by clients desc, site_key, connection_type, band",
        {"site": site or None},
    )


def _check_limit(limit: int) -> None:
    if not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise InvalidParameter(f"limit must be between 1 and 1000, not {limit!r}.")
