"""Device search and the device detail view, over `marts.devices` and its link tables.

Text search runs on the weighted `search_vector` (simple config, GIN index) only, so it stays an index
lookup at any inventory size: each word of the text matches the beginning of a word in a device's serial
number, name, MAC address (in any notation), model, part number, type, region or location, ranked by where it
matched (see `prefix_tsquery`).
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from glp_pipeline.queries.common import (
    Page,
    Where,
    check_days,
    check_paging,
    clean_text,
    fetch_page,
    match_text,
    search_order,
)
from glp_pipeline.queries.connection import DEFAULT_CONFIG, QueryConfig, read_only_connection

# The columns a device list shows (no raw JSON, no search vector).
DEVICE_COLUMNS = (
    "device_id, serial_number, mac_address, part_number, device_type, category, model, region, device_name,"
    " assigned_state, is_assigned, application_id, is_archived, location_name, location_city,"
    " location_country, subscription_count, tags, created_at, updated_at, first_seen_at,"
    " is_removed, removed_at"
)

DEVICE_SORTS = {
    "serial_number": "d.serial_number",
    "mac_address": "d.mac_address",
    "device_name": "d.device_name",
    "device_type": "d.device_type",
    "model": "d.model",
    "region": "d.region",
    "application_id": "d.application_id",
    "location_name": "d.location_name",
    "subscription_count": "d.subscription_count",
    "created_at": "d.created_at",
    "updated_at": "d.updated_at",
    "first_seen_at": "d.first_seen_at",
    "removed_at": "d.removed_at",
    "relevance": "rank",
}

_EXPIRING = (
    "exists (select 1 from marts.device_subscriptions ds"
    " join marts.subscriptions s on s.subscription_id = ds.subscription_id and not s.is_removed"
    " where ds.device_id = d.device_id"
    " and s.ends_at >= now() and s.ends_at < now() + make_interval(days => %s))"
)


def search_devices(
    url: str,
    *,
    text: str | None = None,
    device_type: str | None = None,
    region: str | None = None,
    application_id: str | None = None,
    assigned: bool | None = None,
    tag: tuple[str, str | None] | None = None,
    tier: str | None = None,
    expiring_within_days: int | None = None,
    include_removed: bool = False,
    sort: str | None = None,
    descending: bool = False,
    page: int = 1,
    page_size: int = 50,
    config: QueryConfig = DEFAULT_CONFIG,
) -> Page:
    """Devices matching every given filter, one page of them, and how many match in all.

    `sort` defaults to `relevance` (best text match first) when `text` is given, else `serial_number`;
    ties are broken by `device_id` so pages never overlap. `tag=(key, None)` matches any value of the key.
    `tier` matches devices linked to a subscription of that tier; `expiring_within_days` devices linked to a
    live subscription ending within that many days.
    """
    check_paging(page, page_size)
    check_days(expiring_within_days)
    text = clean_text(text)
    ordering = search_order(text, sort, "serial_number", DEVICE_SORTS, "d.device_id", descending=descending)

    where = Where()
    rank, rank_params = match_text(where, text, "d", "serial_number")
    if not include_removed:
        where.add("not d.is_removed")
    if device_type is not None:
        where.add("d.device_type = %s", device_type)
    if region is not None:
        where.add("d.region = %s", region)
    if application_id is not None:
        where.add("d.application_id = %s", application_id)
    if assigned is not None:
        where.add("d.is_assigned = %s", bool(assigned))
    if tag is not None:
        key, value = tag
        if value is None:
            where.add(
                "exists (select 1 from marts.device_tags t"
                " where t.device_id = d.device_id and t.tag_key = %s)",
                key,
            )
        else:
            where.add(
                "exists (select 1 from marts.device_tags t where t.device_id = d.device_id"
                " and t.tag_key = %s and t.tag_value = %s)",
                key,
                value,
            )
    if tier is not None:
        where.add(
            "exists (select 1 from marts.device_subscriptions ds"
            " where ds.device_id = d.device_id and ds.subscription_tier = %s)",
            tier,
        )
    if expiring_within_days is not None:
        where.add(_EXPIRING, expiring_within_days)

    count_query = sql.SQL("select count(*) as n from marts.devices d where {}").format(where.sql())
    page_query = sql.SQL(
        "select {columns}, {rank} as rank from marts.devices d where {where} {order} limit %s offset %s"
    ).format(
        columns=sql.SQL(", ".join(f"d.{c.strip()}" for c in DEVICE_COLUMNS.split(","))),  # type: ignore[arg-type]
        rank=rank,
        where=where.sql(),
        order=ordering,
    )
    return fetch_page(url, config, count_query, page_query, where, rank_params, page, page_size)


def device_detail(url: str, device_id: str, config: QueryConfig = DEFAULT_CONFIG) -> dict[str, Any] | None:
    """Everything about one device, or None when GLP Sync does not know it.

    Keys: `device` (every mart column but the search vector, `raw` as the API last returned it),
    `subscriptions` (its links in GreenLake's order, with the subscription's details when known), `tags`,
    and `history` (its SCD2 assignment history, oldest first). The history lives in `snapshots`, which the
    reader role is not granted: it is read on a second read-only connection without the role, and is empty
    when that is not possible.
    """
    device_id = str(device_id)
    with read_only_connection(url, config) as conn, conn.transaction():
        device = conn.execute(
            "select d.* from marts.devices d where d.device_id = %s", (device_id,)
        ).fetchone()
        if device is None:
            return None
        device.pop("search_vector", None)
        subscriptions = conn.execute(
            "select ds.subscription_id, ds.subscription_key, ds.subscription_tier, ds.is_known_subscription,"
            " ds.link_position, s.subscription_type, s.subscription_status, s.tier, s.quantity,"
            " s.used_quantity, s.available_quantity, s.starts_at, coalesce(s.ends_at, ds.ends_at) as ends_at,"
            " s.is_removed"
            " from marts.device_subscriptions ds"
            " left join marts.subscriptions s on s.subscription_id = ds.subscription_id"
            " where ds.device_id = %s order by ds.link_position, ds.subscription_id",
            (device_id,),
        ).fetchall()
        tags = conn.execute(
            "select tag_key, tag_value from marts.device_tags where device_id = %s order by tag_key",
            (device_id,),
        ).fetchall()
    return {
        "device": device,
        "subscriptions": subscriptions,
        "tags": {t["tag_key"]: t["tag_value"] for t in tags},
        "history": assignment_history(url, device_id, config),
    }


def assignment_history(
    url: str, device_id: str, config: QueryConfig = DEFAULT_CONFIG
) -> list[dict[str, Any]]:
    """The device's assignment versions (`reporting.assignment_history`), oldest first."""
    with read_only_connection(url, config) as conn:
        return conn.execute(
            "select application_id, region, assigned_state, is_archived, subscriptions, tags, valid_from,"
            " valid_to from reporting.assignment_history where device_id = %s order by valid_from",
            (str(device_id),),
        ).fetchall()
