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
    order_by,
    search_order,
)
from glp_pipeline.queries.connection import (
    DEFAULT_CONFIG,
    InvalidParameter,
    QueryConfig,
    read_only_connection,
)

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

    page_query = _page_query(where, rank, ordering)
    if not (text or include_removed or application_id or tag or tier or expiring_within_days is not None):
        # Only type, region and assignment: the total is a sum over the summary dbt builds (a few hundred
        # rows), not a count of most of marts.devices.
        count = Where()
        if device_type is not None:
            count.add("device_type = %s", device_type)
        if region is not None:
            count.add("region = %s", region)
        column = {None: "total_devices", True: "assigned_devices", False: "unassigned_devices"}[assigned]
        summary = sql.SQL("select coalesce(sum({}), 0)::bigint as n from reporting.device_summary where {}")
        count_query = summary.format(sql.Identifier(column), count.sql())
        return _counted_page(url, config, count_query, count.params, where, page, page_size, page_query)
    count_query = sql.SQL("select count(*) as n from marts.devices d where {}").format(where.sql())
    return fetch_page(url, config, count_query, page_query, where, rank_params, page, page_size)


def _page_query(where: Where, rank: sql.Composable | None, ordering: sql.Composable) -> sql.Composable:
    """One page of `marts.devices d` (the list columns, and a rank when given); takes the rank's parameters,
    the filters', then limit and offset."""
    query = "select {columns}{rank} from marts.devices d where {where} {order} limit %s offset %s"
    return sql.SQL(query).format(
        columns=sql.SQL(", ".join(f"d.{c.strip()}" for c in DEVICE_COLUMNS.split(","))),  # type: ignore[arg-type]
        rank=sql.SQL(", {} as rank").format(rank) if rank is not None else sql.SQL(""),
        where=where.sql(),
        order=ordering,
    )


def _counted_page(
    url: str,
    config: QueryConfig,
    count_query: sql.Composable,
    count_params: list[Any],
    where: Where,
    page: int,
    page_size: int,
    page_query: sql.Composable | None = None,
) -> Page:
    """One page of live devices (`page_query`, by default in serial number order), with a total read from a
    summary table dbt builds (`count_query`): counting the matches in `marts.devices` would read most of
    it. Both are read in one snapshot, and the summary is rebuilt with the marts, so they agree."""
    if page_query is None:
        ordering = order_by("serial_number", DEVICE_SORTS, "d.device_id", descending=False)
        page_query = _page_query(where, None, ordering)
    with read_only_connection(url, config) as conn, conn.transaction():
        total = int(conn.execute(count_query, count_params).fetchone()["n"])  # type: ignore[index]
        rows: list[dict[str, Any]] = []
        if (page - 1) * page_size < total:  # past the end (or nothing to find): no need to look
            rows = conn.execute(page_query, [*where.params, page_size, (page - 1) * page_size]).fetchall()
    for row in rows:
        if "rank" in row:
            row["rank"] = float(row["rank"])
    return Page(items=rows, total=total, page=page, page_size=page_size)


def unassigned_devices(
    url: str,
    *,
    device_type: str | None = None,
    region: str | None = None,
    page: int = 1,
    page_size: int = 50,
    config: QueryConfig = DEFAULT_CONFIG,
) -> Page:
    """Live devices not assigned to any application (archived ones included, flagged `is_archived`), by serial
    number, one page of them and how many there are (from `reporting.device_summary`, so the same number as
    the overview's). `region` is the assigned application's, so it is null for nearly every unassigned
    device."""
    check_paging(page, page_size)
    where = Where()
    where.add("not d.is_removed")
    where.add("not d.is_assigned")
    count = Where()
    if device_type is not None:
        where.add("d.device_type = %s", device_type)
        count.add("device_type = %s", device_type)
    if region is not None:
        where.add("d.region = %s", region)
        count.add("region = %s", region)
    count_query = sql.SQL(
        "select coalesce(sum(unassigned_devices), 0) as n from reporting.device_summary where {}"
    ).format(count.sql())
    return _counted_page(url, config, count_query, count.params, where, page, page_size)


def devices_by_tag(
    url: str,
    tag_key: str,
    *,
    tag_value: str | None = None,
    page: int = 1,
    page_size: int = 50,
    config: QueryConfig = DEFAULT_CONFIG,
) -> Page:
    """Live devices carrying the tag `tag_key` (with `tag_value`, or any value when it is None), by serial
    number, one page of them and how many there are (from the tag summaries dbt builds). Keys and values
    match exactly, case included."""
    check_paging(page, page_size)
    if not isinstance(tag_key, str) or not tag_key:
        raise InvalidParameter("tag_key must be a tag key such as 'site'; tag_statistics lists them.")
    where = Where()
    where.add("not d.is_removed")
    if tag_value is None:
        where.add(
            "exists (select 1 from marts.device_tags t where t.device_id = d.device_id and t.tag_key = %s)",
            tag_key,
        )
        count_query = sql.SQL(
            "select coalesce(sum(devices), 0) as n from reporting.tag_key_summary where tag_key = %s"
        )
        count_params: list[Any] = [tag_key]
    else:
        where.add(
            "exists (select 1 from marts.device_tags t where t.device_id = d.device_id"
            " and t.tag_key = %s and t.tag_value = %s)",
            tag_key,
            tag_value,
        )
        count_query = sql.SQL(
            "select coalesce(sum(devices), 0) as n from reporting.tag_value_summary"
            " where tag_key = %s and tag_value = %s"
        )
        count_params = [tag_key, tag_value]
    return _counted_page(url, config, count_query, count_params, where, page, page_size)


def device_subscriptions(
    url: str, device_id: str, config: QueryConfig = DEFAULT_CONFIG
) -> dict[str, Any] | None:
    """The subscriptions a device uses (`reporting.device_subscription_details`: key, tier, type, status,
    licences, start, end, days remaining), in the device's order, or None when GLP Sync does not know the
    device. Keys: `device` (id, serial number, name, type, model, whether removed) and `subscriptions`."""
    device_id = str(device_id)
    with read_only_connection(url, config) as conn, conn.transaction():
        device = conn.execute(
            "select device_id, serial_number, device_name, device_type, model, is_assigned, is_removed"
            " from marts.devices where device_id = %s",
            (device_id,),
        ).fetchone()
        if device is None:
            return None
        subscriptions = conn.execute(
            "select subscription_id, subscription_key, tier, subscription_type, subscription_status,"
            " quantity, used_quantity, starts_at, ends_at, days_remaining, is_known_subscription,"
            " is_subscription_removed"
            " from reporting.device_subscription_details where device_id = %s"
            " order by link_position, subscription_id",
            (device_id,),
        ).fetchall()
    return {"device": device, "subscriptions": subscriptions}


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
