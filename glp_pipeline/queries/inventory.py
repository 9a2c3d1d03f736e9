"""Inventory aggregations (by type and region, location, age, model, tag) and what changed lately.

The aggregations read the small tables dbt builds in `reporting` (device_summary, device_location_summary,
device_cohorts, device_support_ends, tag_key_summary, tag_value_summary), never every device: what depends
on today (age buckets, support ended or ending soon) is counted here from their months and days, so it stays
right between builds. The change lists read `marts` through the updated_at and removed_at indexes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from typing import Any

from psycopg import sql

from glp_pipeline.queries.common import Page, Where, check_paging
from glp_pipeline.queries.connection import (
    DEFAULT_CONFIG,
    InvalidParameter,
    QueryConfig,
    read_only_connection,
)

MAX_LIMIT = 500
SUMMARY_DIMENSIONS = ("device_type", "region")
# level -> the output name and column of each location part that identifies a group at that level
LOCATION_LEVELS: dict[str, tuple[tuple[str, str], ...]] = {
    "country": (("country", "location_country"),),
    "state": (("country", "location_country"), ("state", "location_state")),
    "city": (("country", "location_country"), ("state", "location_state"), ("city", "location_city")),
    "site": (
        ("country", "location_country"),
        ("state", "location_state"),
        ("city", "location_city"),
        ("site_id", "location_id"),
        ("site", "location_name"),
    ),
}
AGE_GROUPS = ("device_type", "model")
# (label, lowest age): a device's age is the whole calendar months from its created month to this one
AGE_BUCKETS = (("<1y", 0), ("1-2y", 12), ("2-3y", 24), ("3-5y", 36), ("5y+", 60))
SUPPORT_WINDOWS = (90, 180)  # days; "ends within" counts today up to today + N
MAX_CHANGE_DAYS = 365
# kind -> (table, id column, the columns a change list shows)
CHANGE_KINDS: dict[str, tuple[str, str, str]] = {
    "devices": (
        "devices",
        "device_id",
        "device_id, serial_number, device_name, device_type, model, region, application_id, is_assigned,"
        " is_archived, location_name, created_at, updated_at, is_removed, removed_at",
    ),
    "subscriptions": (
        "subscriptions",
        "subscription_id",
        "subscription_id, subscription_key, subscription_type, subscription_status, tier, quantity,"
        " used_quantity, starts_at, ends_at, created_at, updated_at, is_removed, removed_at",
    ),
}

# The age bucket of a cohort from its created_month and age_months (see device_age_analysis).
_AGE_BUCKET = (
    "case when created_month is null then 'unknown'"
    + "".join(
        f" when age_months < {upper} then '{label}'" for (label, _), (_, upper) in pairwise(AGE_BUCKETS)
    )
    + f" else '{AGE_BUCKETS[-1][0]}' end"
)
# How support stands, from days_left (the days from today to the support end; null when unknown).
SUPPORT_STATES = ("ended", *(f"ends_within_{days}_days" for days in SUPPORT_WINDOWS), "no_end_date")
_SUPPORT_WINDOWS = ", ".join(
    f"coalesce(sum(total_devices) filter (where {condition}), 0)::bigint as {name}"
    for name, condition in zip(
        SUPPORT_STATES,
        [
            "days_left < 0",
            *(f"days_left between 0 and {days}" for days in SUPPORT_WINDOWS),
            "days_left is null",
        ],
        strict=True,
    )
)
_COUNTS = (
    "coalesce(sum(total_devices), 0)::bigint as total_devices,"
    " coalesce(sum(assigned_devices), 0)::bigint as assigned_devices,"
    " coalesce(sum(unassigned_devices), 0)::bigint as unassigned_devices"
)


def check_limit(limit: int, name: str = "limit", maximum: int = MAX_LIMIT) -> None:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= maximum:
        raise InvalidParameter(f"{name} must be between 1 and {maximum}, not {limit!r}.")


def _choice(value: str, allowed: Sequence[str], name: str) -> str:
    if value not in allowed:
        raise InvalidParameter(f"{name} must be one of: {', '.join(allowed)} (not {value!r}).")
    return value


def _columns(names: Sequence[str]) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def device_summary(
    url: str,
    *,
    group_by: Sequence[str] = ("device_type",),
    device_type: str | None = None,
    region: str | None = None,
    limit: int = 100,
    config: QueryConfig = DEFAULT_CONFIG,
) -> dict[str, Any]:
    """Live devices counted (total, assigned, unassigned, archived) per the chosen dimensions (`device_type`,
    `region`; none: one row for all), largest first, from `reporting.device_summary`.

    Keys: `rows` (at most `limit`), `groups` (how many there are in all), `totals` (over the filters)."""
    if isinstance(group_by, str):
        group_by = [group_by]
    dimensions = list(dict.fromkeys(_choice(d, SUMMARY_DIMENSIONS, "group_by") for d in group_by))
    check_limit(limit)
    where = Where()
    if device_type is not None:
        where.add("device_type = %s", device_type)
    if region is not None:
        where.add("region = %s", region)
    counts = sql.SQL(_COUNTS + ", coalesce(sum(archived_devices), 0)::bigint as archived_devices")
    if dimensions:
        grouped = sql.SQL(
            "select {dims}, {counts}, count(*) over () as groups from reporting.device_summary where {where}"
            " group by {dims} order by total_devices desc, {dims} limit %s"
        ).format(dims=_columns(dimensions), counts=counts, where=where.sql())
    else:
        grouped = sql.SQL(
            "select {counts}, 1 as groups from reporting.device_summary where {where} limit %s"
        ).format(counts=counts, where=where.sql())
    totals = sql.SQL("select {counts} from reporting.device_summary where {where}").format(
        counts=counts, where=where.sql()
    )
    with read_only_connection(url, config) as conn, conn.transaction():
        rows = conn.execute(grouped, [*where.params, limit]).fetchall()
        total = conn.execute(totals, where.params).fetchone()
    groups = rows[0].pop("groups") if rows else 0
    for row in rows[1:]:
        row.pop("groups")
    return {"group_by": dimensions, "rows": rows, "groups": groups, "totals": total}


def devices_by_location(
    url: str,
    *,
    level: str = "country",
    device_type: str | None = None,
    limit: int = 50,
    config: QueryConfig = DEFAULT_CONFIG,
) -> dict[str, Any]:
    """Live devices counted (total, assigned, unassigned) per country, state, city or site (`level`), most
    first, from `reporting.device_location_summary`; each row names the levels above it too.

    Keys: `rows` (at most `limit`), `locations` (how many there are in all), `no_location` (the counts of
    devices without any location), `totals` (every device of the filter)."""
    parts = LOCATION_LEVELS[_choice(level, tuple(LOCATION_LEVELS), "level")]
    check_limit(limit)
    where = Where()
    if device_type is not None:
        where.add("device_type = %s", device_type)
    select = sql.SQL(", ").join(
        sql.SQL("{} as {}").format(sql.Identifier(column), sql.Identifier(name)) for name, column in parts
    )
    group = _columns([column for _, column in parts])
    located = sql.SQL(
        "select {select}, {counts}, count(*) over () as locations from reporting.device_location_summary"
        " where has_location and {where} group by {group}"
        " order by total_devices desc, {group} limit %s"
    ).format(select=select, counts=sql.SQL(_COUNTS), where=where.sql(), group=group)
    split = sql.SQL(
        "select has_location, {counts} from reporting.device_location_summary where {where} group by 1"
    ).format(counts=sql.SQL(_COUNTS), where=where.sql())
    with read_only_connection(url, config) as conn, conn.transaction():
        rows = conn.execute(located, [*where.params, limit]).fetchall()
        by_presence = {r.pop("has_location"): r for r in conn.execute(split, where.params).fetchall()}
    locations = rows[0]["locations"] if rows else 0
    for row in rows:
        row.pop("locations")
    empty = {"total_devices": 0, "assigned_devices": 0, "unassigned_devices": 0}
    no_location = by_presence.get(False, empty)
    located_total = by_presence.get(True, empty)
    totals = {key: no_location[key] + located_total[key] for key in empty}
    return {
        "level": level,
        "rows": rows,
        "locations": locations,
        "no_location": no_location,
        "totals": totals,
    }


def device_age_analysis(
    url: str,
    *,
    group_by: str | None = None,
    device_type: str | None = None,
    limit: int = 50,
    config: QueryConfig = DEFAULT_CONFIG,
) -> dict[str, Any]:
    """Live devices by age since they were added to GreenLake, and by how their warranty / support stands,
    overall or per `device_type` or `model` (most devices first).

    Age is counted in whole calendar months (UTC) from the month of `created_at` to this one: `<1y` is 0-11
    months, `1-2y` 12-23, `2-3y` 24-35, `3-5y` 36-59, `5y+` 60 or more, `unknown` without a created date.
    Support (`support_ends_at`, by UTC day): `ended` before today, `ends_within_90_days` /
    `ends_within_180_days` today or within that many days (the 180 includes the 90), `no_end_date`.
    Keys: `as_of` (today, UTC), `rows` (one per group, at most `limit`; one row when not grouped), `groups`,
    `totals`."""
    if group_by is not None:
        _choice(group_by, AGE_GROUPS, "group_by")
    check_limit(limit)
    where = Where()
    if device_type is not None:
        where.add("device_type = %s", device_type)
    group = sql.Identifier(group_by) if group_by else sql.SQL("null::text")
    ages = sql.SQL(
        "select {group} as grp, {bucket} as bucket, sum(total_devices)::bigint as n from (select *,"
        " %s - (extract(year from created_month)::int * 12 + extract(month from created_month)::int)"
        " as age_months from reporting.device_cohorts) as cohorts where {where} group by 1, 2"
    ).format(group=group, bucket=sql.SQL(_AGE_BUCKET), where=where.sql())  # type: ignore[arg-type]
    support = sql.SQL(
        "select {group} as grp, {windows} from (select *, support_ends_on - %s::date as days_left"
        " from reporting.device_support_ends) as ends where {where} group by 1"
    ).format(group=group, windows=sql.SQL(_SUPPORT_WINDOWS), where=where.sql())  # type: ignore[arg-type]
    with read_only_connection(url, config) as conn, conn.transaction():
        today = conn.execute("select (now() at time zone 'UTC')::date as d").fetchone()["d"]  # type: ignore[index]
        age_rows = conn.execute(ages, [today.year * 12 + today.month, *where.params]).fetchall()
        support_rows = conn.execute(support, [today, *where.params]).fetchall()

    def empty(name: Any) -> dict[str, Any]:
        row: dict[str, Any] = {group_by: name} if group_by else {}
        row["total_devices"] = 0
        row["age"] = {label: 0 for label, _ in AGE_BUCKETS} | {"unknown": 0}
        row["support"] = dict.fromkeys(SUPPORT_STATES, 0)
        return row

    groups: dict[Any, dict[str, Any]] = {}
    for r in age_rows:
        row = groups.setdefault(r["grp"], empty(r["grp"]))
        row["age"][r["bucket"]] += r["n"]
        row["total_devices"] += r["n"]
    for r in support_rows:
        row = groups.setdefault(r["grp"], empty(r["grp"]))
        for key in row["support"]:
            row["support"][key] += r[key]
    totals = empty(None)
    totals.pop(group_by, None)
    for row in groups.values():
        totals["total_devices"] += row["total_devices"]
        for part in ("age", "support"):
            for key, n in row[part].items():
                totals[part][key] += n
    ordered = sorted(
        groups.values(), key=lambda r: (-r["total_devices"], r.get(group_by) is None, str(r.get(group_by)))
    )
    return {
        "as_of": today,
        "group_by": group_by,
        "rows": ordered[:limit] if group_by else [totals],
        "groups": len(groups) if group_by else 1,
        "totals": totals,
    }


def model_distribution(
    url: str,
    *,
    device_type: str | None = None,
    limit: int = 50,
    config: QueryConfig = DEFAULT_CONFIG,
) -> dict[str, Any]:
    """Live devices per model (and device type), with assigned and unassigned counts and each model's share
    (percent, one decimal) of the devices counted (of that type, when `device_type` is given), most first,
    from `reporting.device_cohorts`. Keys: `rows` (at most `limit`), `models` (how many), `total_devices`."""
    check_limit(limit)
    where = Where()
    if device_type is not None:
        where.add("device_type = %s", device_type)
    query = sql.SQL(
        "select device_type, model, {counts},"
        " round(100.0 * sum(total_devices) / nullif(sum(sum(total_devices)) over (), 0), 1)::float"
        " as share_pct, count(*) over () as models, sum(sum(total_devices)) over ()::bigint as everything"
        " from reporting.device_cohorts where {where} group by device_type, model"
        " order by total_devices desc, device_type, model limit %s"
    ).format(counts=sql.SQL(_COUNTS), where=where.sql())
    with read_only_connection(url, config) as conn:
        rows = conn.execute(query, [*where.params, limit]).fetchall()
    models = rows[0]["models"] if rows else 0
    total = int(rows[0]["everything"]) if rows else 0
    for row in rows:
        del row["models"], row["everything"]
    return {"rows": rows, "models": models, "total_devices": total}


def tag_statistics(
    url: str,
    *,
    limit: int = 25,
    top_values: int = 5,
    config: QueryConfig = DEFAULT_CONFIG,
) -> dict[str, Any]:
    """Tag keys in use on live devices and subscriptions, most used first: how many devices and subscriptions
    carry each, its number of distinct values and its `top_values` most used values with their counts (from
    `reporting.tag_key_summary` and `tag_value_summary`). Keys: `keys` (at most `limit`), `total_keys`."""
    check_limit(limit)
    check_limit(top_values, "top_values", 100)
    with read_only_connection(url, config) as conn, conn.transaction():
        keys = conn.execute(
            "select tag_key, devices, subscriptions, distinct_values, count(*) over () as total_keys"
            " from reporting.tag_key_summary order by devices + subscriptions desc, tag_key limit %s",
            (limit,),
        ).fetchall()
        values = conn.execute(
            "select tag_key, tag_value as value, devices, subscriptions from reporting.tag_value_summary"
            " where tag_key = any(%s) and value_rank <= %s order by tag_key, value_rank",
            ([k["tag_key"] for k in keys], top_values),
        ).fetchall()
    total_keys = keys[0]["total_keys"] if keys else 0
    by_key: dict[str, list[dict[str, Any]]] = {}
    for value in values:
        by_key.setdefault(value.pop("tag_key"), []).append(value)
    for key in keys:
        del key["total_keys"]
        key["top_values"] = by_key.get(key["tag_key"], [])
    return {"keys": keys, "total_keys": total_keys}


def similar_tag_keys(url: str, tag_key: str, config: QueryConfig = DEFAULT_CONFIG) -> list[str]:
    """Tag keys in use that equal `tag_key` but for case (GreenLake treats them as one; tags here do not)."""
    with read_only_connection(url, config) as conn:
        rows = conn.execute(
            "select tag_key from reporting.tag_key_summary where lower(tag_key) = lower(%s) and tag_key <> %s"
            " order by tag_key",
            (tag_key, tag_key),
        ).fetchall()
    return [r["tag_key"] for r in rows]


def recently_updated(
    url: str,
    *,
    days: int = 7,
    kind: str = "devices",
    page: int = 1,
    page_size: int = 25,
    config: QueryConfig = DEFAULT_CONFIG,
) -> dict[str, Any]:
    """Devices or subscriptions GreenLake changed (`updated_at`) in the last `days` days, newest first, and
    those found removed from GreenLake (`removed_at`) in that time, newest first; both paged alike.

    `updated` holds live ones only (a removed one is in `removed`). Keys: `kind`, `days`, `since` (UTC),
    `updated` and `removed` (each a Page). Totals sum whole UTC days from `reporting.inventory_changes` and
    count the part-day at the start of the window through the index, so no call reads every change."""
    table, key, columns = CHANGE_KINDS[_choice(kind, tuple(CHANGE_KINDS), "kind")]
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_CHANGE_DAYS:
        raise InvalidParameter(f"days must be between 1 and {MAX_CHANGE_DAYS}, not {days!r}.")
    check_paging(page, page_size)
    relation = sql.Identifier("marts", table)
    out: dict[str, Any] = {"kind": kind, "days": days}
    with read_only_connection(url, config) as conn, conn.transaction():
        since: datetime = conn.execute(
            "select now() - make_interval(days => %s) as since", (days,)
        ).fetchone()["since"]  # type: ignore[index]
        first_whole_day = since.astimezone(UTC).date() + timedelta(days=1)
        midnight = datetime.combine(first_whole_day, time(), UTC)
        out["since"] = since
        for name, column, live in (
            ("updated", "updated_at", "not is_removed"),
            ("removed", "removed_at", "is_removed"),
        ):
            condition = sql.SQL("{} >= %s and {}").format(sql.Identifier(column), sql.SQL(live))  # type: ignore[arg-type]
            total = conn.execute(
                sql.SQL(
                    "select (select count(*) from {relation} where {condition} and {column} < %s)"
                    " + (select coalesce(sum({counted}), 0) from reporting.inventory_changes"
                    " where kind = %s and change_day >= %s) as n"
                ).format(
                    relation=relation,
                    condition=condition,
                    column=sql.Identifier(column),
                    counted=sql.Identifier(name),
                ),
                (since, midnight, kind, first_whole_day),
            ).fetchone()["n"]  # type: ignore[index]
            rows: list[dict[str, Any]] = []
            if (page - 1) * page_size < total:
                rows = conn.execute(
                    sql.SQL("select {} from {} where {} order by {} desc, {} limit %s offset %s").format(
                        sql.SQL(columns),  # type: ignore[arg-type]  # fixed column lists above
                        relation,
                        condition,
                        sql.Identifier(column),
                        sql.Identifier(key),
                    ),
                    (since, page_size, (page - 1) * page_size),
                ).fetchall()
            out[name] = Page(items=rows, total=int(total), page=page, page_size=page_size)
    return out
