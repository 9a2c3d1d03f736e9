"""Subscriptions: search, one in full, its devices, what ends when, evaluations, licence utilisation and the
renewal forecast, over `marts.subscriptions`, its link table and the reporting tables dbt builds from them.

Text search works like the device search, on the weighted `search_vector` alone: each word of the text matches
the beginning of a word of the key, SKU, SKU description, tier or type (see `prefix_tsquery`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from psycopg import sql

from glp_pipeline.queries.common import (
    MAX_EXPIRY_DAYS,
    Page,
    Where,
    check_days,
    check_paging,
    clean_text,
    fetch_page,
    match_text,
    order_by,
    search_order,
)
from glp_pipeline.queries.connection import (
    DEFAULT_CONFIG,
    InvalidParameter,
    QueryConfig,
    read_only_connection,
)

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


# --- one subscription, what ends when, evaluations, utilisation and the renewal forecast -------------------
#
# These read `reporting.subscription_coverage` (a table dbt builds: one row per subscription with its licences
# and live-device count) rather than counting device links per call, and compute what depends on the clock
# (days remaining, the window, the months ahead) here, at query time.


@dataclass(frozen=True)
class TotalledPage(Page):
    """One page of results, with totals over every match (not only the page)."""

    totals: dict[str, Any] = field(default_factory=dict)


MAX_FORECAST_MONTHS = 36
RENEWAL_GROUPS = ("tier", "sku", "subscription_type")

_COVERAGE_COLUMNS = (
    "c.subscription_id, c.subscription_key, c.subscription_type, c.subscription_status, c.tier, c.sku,"
    " c.is_eval, c.quantity, c.used_quantity, c.available_quantity,"
    " c.utilization_pct::float8 as utilization_pct, c.linked_devices, c.starts_at, c.ends_at,"
    " ((c.ends_at at time zone 'UTC')::date - (now() at time zone 'UTC')::date) as days_remaining"
)
_COVERAGE_TOTALS = (
    "count(*) as n, coalesce(sum(c.quantity), 0)::bigint as licences,"
    " coalesce(sum(c.used_quantity), 0)::bigint as licences_in_use,"
    " coalesce(sum(c.linked_devices), 0)::bigint as devices_covered"
)
UTILIZATION_SORTS = {
    "utilization_pct": "u.utilization_pct",
    "used_quantity": "u.used_quantity",
    "available_quantity": "u.available_quantity",
    "quantity": "u.quantity",
    "linked_devices": "u.linked_devices",
    "ends_at": "u.ends_at",
    "subscription_key": "u.subscription_key",
    "tier": "u.tier",
    "subscription_type": "u.subscription_type",
}


def subscription_detail(
    url: str,
    subscription_id: str | None = None,
    *,
    subscription_key: str | None = None,
    config: QueryConfig = DEFAULT_CONFIG,
) -> dict[str, Any] | None:
    """One subscription in full, by id or by key (exactly one of them); None when GLP Sync does not know it.

    Keys: `subscription` (every mart column but the search vector and tags, removed ones included),
    `days_remaining` (calendar days, UTC; negative once ended), `licences` (quantity, used, available,
    utilisation %), `tags`, `linked_devices` (live devices linked to it). A key shared by several
    subscriptions (one removed and re-added) gives the live one, else the one GreenLake changed last;
    `same_key` says how many share it.
    """
    subscription_id = clean_text(subscription_id)
    subscription_key = clean_text(subscription_key)
    if (subscription_id is None) == (subscription_key is None):
        raise InvalidParameter(
            "Give either a subscription_id or a subscription_key (one of them); "
            "search_subscriptions finds both."
        )
    if subscription_id is not None:
        where, params = "s.subscription_id = %s", [subscription_id]
    else:  # keys are upper-case in GreenLake; both forms keep the key index usable
        where, params = "s.subscription_key in (%s, %s)", [subscription_key, str(subscription_key).upper()]
    query = sql.SQL(
        "select s.*, {days} as days_remaining, coalesce(c.linked_devices, 0) as linked_devices,"
        " c.utilization_pct::float8 as utilization_pct, count(*) over () as same_key"
        " from marts.subscriptions s"
        " left join reporting.subscription_coverage c on c.subscription_id = s.subscription_id"
        " where {where} order by s.is_removed, s.updated_at desc nulls last, s.subscription_id limit 1"
    ).format(days=sql.SQL(_DAYS_REMAINING), where=sql.SQL(where))  # type: ignore[arg-type]  # fixed
    with read_only_connection(url, config) as conn:
        row = conn.execute(query, params).fetchone()
    if row is None:
        return None
    row.pop("search_vector", None)
    tags = row.pop("tags", None) or {}
    days, linked = row.pop("days_remaining"), row.pop("linked_devices")
    pct, same_key = row.pop("utilization_pct"), row.pop("same_key")
    return {
        "subscription": row,
        "days_remaining": days,
        "licences": {
            "quantity": row["quantity"],
            "used": row["used_quantity"],
            "available": row["available_quantity"],
            "utilization_pct": pct,
        },
        "tags": tags,
        "linked_devices": linked,
        "same_key": same_key,
    }


def expiring_subscriptions(
    url: str,
    days: int = 90,
    *,
    subscription_type: str | None = None,
    tier: str | None = None,
    page: int = 1,
    page_size: int = 50,
    config: QueryConfig = DEFAULT_CONFIG,
) -> TotalledPage:
    """Live (not removed) subscriptions ending from now to now + `days` days, soonest first: one page, each
    with its licences and the live devices it covers, and `totals` over all of them (subscriptions,
    licences, licences in use, devices covered; a device on two of them counts twice)."""
    _check_range("days", days, 0, MAX_EXPIRY_DAYS)
    check_paging(page, page_size)
    where = Where()
    where.add("not c.is_removed")
    where.add("c.ends_at >= now() and c.ends_at < now() + make_interval(days => %s)", days)
    _filter_type_and_tier(where, subscription_type, tier)
    return _coverage_page(url, config, where, "c.ends_at, c.subscription_id", page, page_size)


def evaluation_subscriptions(
    url: str,
    *,
    include_ended: bool = False,
    page: int = 1,
    page_size: int = 50,
    config: QueryConfig = DEFAULT_CONFIG,
) -> TotalledPage:
    """Evaluation subscriptions (`is_eval`, not removed), by end date (those without one last), each with the
    live devices it covers; ended ones (end date past) only with `include_ended`. `totals` count them all."""
    check_paging(page, page_size)
    where = Where()
    where.add("c.is_eval and not c.is_removed")
    if not include_ended:
        where.add("c.ends_at is null or c.ends_at >= now()")
    return _coverage_page(url, config, where, "c.ends_at nulls last, c.subscription_id", page, page_size)


def license_utilization(
    url: str,
    *,
    subscription_type: str | None = None,
    tier: str | None = None,
    status: str | None = None,
    min_pct: float | None = None,
    max_pct: float | None = None,
    sort: str = "utilization_pct",
    descending: bool = False,
    page: int = 1,
    page_size: int = 50,
    config: QueryConfig = DEFAULT_CONFIG,
) -> TotalledPage:
    """Licence use per live subscription (`reporting.license_utilization`): quantity, used, available,
    utilisation %, live devices linked, end and days remaining. `min_pct`/`max_pct` bound the utilisation
    (inclusive; subscriptions without a quantity have none and drop out). Sorted by `sort` (nulls last, ties
    by subscription id); `totals` sum every match."""
    check_paging(page, page_size)
    for name, value in (("min_pct", min_pct), ("max_pct", max_pct)):
        if value is not None:
            _check_range(name, value, 0, 100)
    if min_pct is not None and max_pct is not None and min_pct > max_pct:
        raise InvalidParameter(f"min_pct ({min_pct:g}) is above max_pct ({max_pct:g}); swap them.")
    ordering = order_by(sort, UTILIZATION_SORTS, "u.subscription_id", descending=descending)
    where = Where()
    if subscription_type is not None:
        where.add("u.subscription_type = %s", subscription_type)
    if tier is not None:
        where.add("u.tier = %s", tier)
    if status is not None:
        where.add("u.subscription_status = %s", status)
    if min_pct is not None:
        where.add("u.utilization_pct >= %s", min_pct)
    if max_pct is not None:
        where.add("u.utilization_pct <= %s", max_pct)
    totals = sql.SQL(
        "select count(*) as n, coalesce(sum(u.quantity), 0)::bigint as licences,"
        " coalesce(sum(u.used_quantity), 0)::bigint as licences_in_use,"
        " coalesce(sum(u.available_quantity), 0)::bigint as licences_available,"
        " coalesce(sum(u.linked_devices), 0)::bigint as devices_covered"
        " from reporting.license_utilization u where {}"
    ).format(where.sql())
    rows = sql.SQL(
        "select u.subscription_id, u.subscription_key, u.subscription_type, u.tier, u.subscription_status,"
        " u.quantity, u.used_quantity, u.available_quantity, u.utilization_pct::float8 as utilization_pct,"
        " u.linked_devices, u.ends_at, u.days_remaining"
        " from reporting.license_utilization u where {} {} limit %s offset %s"
    ).format(where.sql(), ordering)
    return _totalled_page(url, config, totals, rows, where, page, page_size)


def renewal_forecast(
    url: str, months: int = 12, *, group_by: str = "tier", config: QueryConfig = DEFAULT_CONFIG
) -> dict[str, Any]:
    """What ends per calendar month (UTC) from this one on, for `months` months: subscriptions ending,
    licences ending, licences in use (what must be renewed to keep devices covered) and live devices
    affected, per month and per `group_by` value (tier, sku or subscription_type) within it.

    Live (not removed) subscriptions only; this month counts only what has not ended yet. A device on two
    ending subscriptions counts twice. Every month of the window is listed, empty ones with zeros.
    """
    _check_range("months", months, 1, MAX_FORECAST_MONTHS)
    if group_by not in RENEWAL_GROUPS:
        raise InvalidParameter(f"Cannot group by {group_by!r}; choose one of: {', '.join(RENEWAL_GROUPS)}.")
    key = sql.Identifier(group_by)
    query = sql.SQL(
        "with bounds as (select date_trunc('month', now() at time zone 'UTC')::date as first_month),"
        " ending as ("
        "  select c.expiry_month as month, c.{key} as grp, count(*) as subscriptions_ending,"
        "   coalesce(sum(c.quantity), 0) as licences_ending,"
        "   coalesce(sum(c.used_quantity), 0) as licences_in_use,"
        "   sum(c.linked_devices) as devices_affected"
        "  from reporting.subscription_coverage c cross join bounds b"
        "  where not c.is_removed and c.ends_at >= now()"
        "   and c.ends_at < (b.first_month + interval '1 month') at time zone 'UTC'"
        "  group by 1, 2"
        "  union all"
        "  select r.expiry_month, r.{key}, sum(r.subscriptions_ending), sum(r.licences_ending),"
        "   sum(r.licences_in_use), sum(r.devices_affected)"
        "  from reporting.renewal_calendar r cross join bounds b"
        "  where r.expiry_month > b.first_month"
        "   and r.expiry_month < b.first_month + make_interval(months => %s)"
        "  group by 1, 2)"
        " select month, grp, grouping(grp) = 1 as month_total, sum(subscriptions_ending)::bigint as"
        "  subscriptions_ending, sum(licences_ending)::bigint as licences_ending,"
        "  sum(licences_in_use)::bigint as licences_in_use, sum(devices_affected)::bigint as devices_affected"
        " from ending group by grouping sets ((month, grp), (month))"
        " order by month, licences_in_use desc, subscriptions_ending desc, grp nulls last"
    ).format(key=key)
    with read_only_connection(url, config) as conn, conn.transaction():
        first = conn.execute(
            "select date_trunc('month', now() at time zone 'UTC')::date as first_month"
        ).fetchone()
        rows = conn.execute(query, (months,)).fetchall()
    assert first is not None
    first_month: date = first["first_month"]
    metrics = ("subscriptions_ending", "licences_ending", "licences_in_use", "devices_affected")
    per_month = {_add_months(first_month, n): {"month": _add_months(first_month, n)} for n in range(months)}
    for entry in per_month.values():
        entry.update(dict.fromkeys(metrics, 0), groups=[])
    for row in rows:
        entry = per_month[row["month"]]
        if row["month_total"]:
            entry.update({m: row[m] for m in metrics})
        else:
            entry["groups"].append({group_by: row["grp"], **{m: row[m] for m in metrics}})
    totals = {m: sum(e[m] for e in per_month.values()) for m in metrics}
    return {"group_by": group_by, "months": list(per_month.values()), "totals": totals}


def _add_months(first: date, n: int) -> date:
    month = first.month - 1 + n
    return date(first.year + month // 12, month % 12 + 1, 1)


def _check_range(name: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidParameter(f"{name} must be between {low:g} and {high:g}, not {value!r}.")


def _filter_type_and_tier(where: Where, subscription_type: str | None, tier: str | None) -> None:
    if subscription_type is not None:
        where.add("c.subscription_type = %s", subscription_type)
    if tier is not None:
        where.add("c.tier = %s", tier)


def _coverage_page(
    url: str, config: QueryConfig, where: Where, order: str, page: int, page_size: int
) -> TotalledPage:
    """A page of `reporting.subscription_coverage` rows matching `where` in a fixed `order`, with totals."""
    totals = sql.SQL("select {} from reporting.subscription_coverage c where {}").format(
        sql.SQL(_COVERAGE_TOTALS), where.sql()
    )
    rows = sql.SQL(
        "select {}, c.ends_at < now() as has_ended from reporting.subscription_coverage c"
        " where {} order by {} limit %s offset %s"
    ).format(sql.SQL(_COVERAGE_COLUMNS), where.sql(), sql.SQL(order))  # type: ignore[arg-type]  # fixed
    return _totalled_page(url, config, totals, rows, where, page, page_size)


def _totalled_page(
    url: str,
    config: QueryConfig,
    totals_query: sql.Composable,
    page_query: sql.Composable,
    where: Where,
    page: int,
    page_size: int,
) -> TotalledPage:
    """Totals and one page in one read-only transaction (one snapshot, so they agree)."""
    with read_only_connection(url, config) as conn, conn.transaction():
        totals = conn.execute(totals_query, where.params).fetchone()
        rows = conn.execute(page_query, [*where.params, page_size, (page - 1) * page_size]).fetchall()
    assert totals is not None
    total = totals.pop("n")
    return TotalledPage(
        items=rows, total=total, page=page, page_size=page_size, totals={"subscriptions": total, **totals}
    )
