"""Subscription search and a subscription's devices, over `marts.subscriptions` and its link table.

Text search works like the device search, on the weighted `search_vector` alone: each word of the text matches
the beginning of a word of the key, SKU, SKU description, tier or type (see `prefix_tsquery`).
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

SUBSCRIPTION_COLUMNS = (
    "subscription_id",
    "subscription_key",
    "subscription_type",
    "subscription_status",
    "tier",
    "tier_description",
    "sku",
    "sku_description",
    "product_type",
    "is_eval",
    "quantity",
    "used_quantity",
    "available_quantity",
    "starts_at",
    "ends_at",
    "tags",
    "created_at",
    "updated_at",
    "is_removed",
    "removed_at",
)

SUBSCRIPTION_SORTS = {
    "subscription_key": "s.subscription_key",
    "subscription_type": "s.subscription_type",
    "subscription_status": "s.subscription_status",
    "tier": "s.tier",
    "sku": "s.sku",
    "quantity": "s.quantity",
    "used_quantity": "s.used_quantity",
    "available_quantity": "s.available_quantity",
    "starts_at": "s.starts_at",
    "ends_at": "s.ends_at",
    "created_at": "s.created_at",
    "updated_at": "s.updated_at",
    "relevance": "rank",
}

_DAYS_REMAINING = "((s.ends_at at time zone 'UTC')::date - (now() at time zone 'UTC')::date)"


def search_subscriptions(
    url: str,
    *,
    text: str | None = None,
    subscription_type: str | None = None,
    status: str | None = None,
    tier: str | None = None,
    expiring_within_days: int | None = None,
    include_removed: bool = False,
    sort: str | None = None,
    descending: bool = False,
    page: int = 1,
    page_size: int = 50,
    config: QueryConfig = DEFAULT_CONFIG,
) -> Page:
    """Subscriptions matching every given filter, one page of them, and how many match in all.

    Each row carries `days_remaining` (calendar days, UTC, as in the reporting views) and `linked_devices`
    (live devices linked to it). `expiring_within_days` keeps those ending from now to now + N days, the
    definition of `reporting.subscriptions_expiring_soon`. `sort` defaults to `relevance` with a text, else
    `ends_at`; ties are broken by `subscription_id`.
    """
    check_paging(page, page_size)
    check_days(expiring_within_days)
    text = clean_text(text)
    ordering = search_order(
        text, sort, "ends_at", SUBSCRIPTION_SORTS, "s.subscription_id", descending=descending
    )

    where = Where()
    rank, rank_params = match_text(where, text, "s", "subscription_key")
    if not include_removed:
        where.add("not s.is_removed")
    if subscription_type is not None:
        where.add("s.subscription_type = %s", subscription_type)
    if status is not None:
        where.add("s.subscription_status = %s", status)
    if tier is not None:
        where.add("s.tier = %s", tier)
    if expiring_within_days is not None:
        where.add(
            "s.ends_at >= now() and s.ends_at < now() + make_interval(days => %s)", expiring_within_days
        )

    columns = sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(c)) for c in SUBSCRIPTION_COLUMNS)
    count_query = sql.SQL("select count(*) as n from marts.subscriptions s where {}").format(where.sql())
    page_query = sql.SQL(
        "select {columns}, {days} as days_remaining,"
        " (select count(distinct ds.device_id) from marts.device_subscriptions ds"
        "  where ds.subscription_id = s.subscription_id and not ds.is_device_removed) as linked_devices,"
        " {rank} as rank from marts.subscriptions s where {where} {order} limit %s offset %s"
    ).format(columns=columns, days=sql.SQL(_DAYS_REMAINING), rank=rank, where=where.sql(), order=ordering)
    return fetch_page(url, config, count_query, page_query, where, rank_params, page, page_size)


def subscription_devices(
    url: str, subscription_id: str, *, include_removed: bool = False, config: QueryConfig = DEFAULT_CONFIG
) -> list[dict[str, Any]]:
    """The devices linked to a subscription, by serial number ([] for an unknown subscription)."""
    removed = sql.SQL("true") if include_removed else sql.SQL("not d.is_removed")
    query = sql.SQL(
        "select distinct on (d.serial_number, d.device_id) d.device_id, d.serial_number, d.mac_address,"
        " d.device_type, d.model, d.region, d.device_name, d.application_id, d.is_assigned, d.location_name,"
        " d.is_removed, ds.starts_at as link_starts_at, ds.ends_at as link_ends_at"
        " from marts.device_subscriptions ds join marts.devices d on d.device_id = ds.device_id"
        " where ds.subscription_id = %s and {removed}"
        " order by d.serial_number, d.device_id"
    ).format(removed=removed)
    with read_only_connection(url, config) as conn:
        return conn.execute(query, (str(subscription_id),)).fetchall()
