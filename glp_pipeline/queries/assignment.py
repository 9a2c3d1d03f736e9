"""What bulk assignment needs to know about the devices and subscriptions a spreadsheet names.

Looked up by serial number and subscription key in one query each (the serial and key indexes), so that a
plan for tens of thousands of rows costs two round trips. Serials and keys are compared upper-case, as
GreenLake shows them; only objects still in GreenLake (not `is_removed`) count.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from glp_pipeline.queries.connection import DEFAULT_CONFIG, QueryConfig, read_only_connection


def devices_by_serial(
    url: str, serials: Collection[str], config: QueryConfig = DEFAULT_CONFIG
) -> dict[str, dict[str, Any]]:
    """Live devices with these serials, by upper-case serial: id, type, MAC, part number, application and
    region, archived flag, tags, and `subscriptions` (their links: id and key, in GreenLake's order)."""
    wanted = sorted({s.upper() for s in serials if s})
    if not wanted:
        return {}
    with read_only_connection(url, config) as conn:
        rows = conn.execute(
            "select d.device_id, d.serial_number, d.mac_address, d.part_number, d.device_type, d.category,"
            " d.application_id, d.region, d.is_archived, d.tags,"
            " coalesce((select jsonb_agg(jsonb_build_object('id', ds.subscription_id,"
            "   'key', ds.subscription_key) order by ds.link_position)"
            "   from marts.device_subscriptions ds where ds.device_id = d.device_id), '[]') as subscriptions"
            " from marts.devices d"
            " where upper(d.serial_number) = any(%s) and not d.is_removed",
            (wanted,),
        ).fetchall()
    return {row["serial_number"].upper(): row for row in rows}


def subscriptions_by_key(
    url: str, keys: Collection[str], config: QueryConfig = DEFAULT_CONFIG
) -> dict[str, dict[str, Any]]:
    """Subscriptions with these keys, by upper-case key: id, type, product type, tier, status, quantities,
    end date and whether it is removed."""
    wanted = sorted({k.upper() for k in keys if k})
    if not wanted:
        return {}
    with read_only_connection(url, config) as conn:
        rows = conn.execute(
            "select subscription_id, subscription_key, subscription_type, product_type, tier,"
            " subscription_status, quantity, available_quantity, ends_at, is_removed"
            " from marts.subscriptions where upper(subscription_key) = any(%s)",
            (wanted,),
        ).fetchall()
    found: dict[str, dict[str, Any]] = {}
    for row in rows:  # a live subscription wins over a removed one with the same key
        key = row["subscription_key"].upper()
        if key not in found or found[key]["is_removed"]:
            found[key] = row
    return found
