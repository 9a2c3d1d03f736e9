"""The chart series of the Overview (devices by type and region, expiries by month, inventory and licence
trends) and the subscription summaries. Straight reads of the reporting views and tables, which own the logic
(dbt); nothing is computed here."""

from __future__ import annotations

from typing import Any

from glp_pipeline.queries.connection import DEFAULT_CONFIG, QueryConfig, read_only_connection


def _rows(url: str, config: QueryConfig, query: str) -> list[dict[str, Any]]:
    with read_only_connection(url, config) as conn:
        return conn.execute(query).fetchall()


def devices_by_type_and_region(url: str, config: QueryConfig = DEFAULT_CONFIG) -> list[dict[str, Any]]:
    """Live devices per type and region (`reporting.device_summary`); region None for unassigned devices."""
    return _rows(
        url,
        config,
        "select device_type, region, total_devices, assigned_devices, unassigned_devices, archived_devices"
        " from reporting.device_summary order by total_devices desc, device_type, region",
    )


def expiry_timeline(url: str, config: QueryConfig = DEFAULT_CONFIG) -> list[dict[str, Any]]:
    """Subscriptions, licences and devices affected per month of expiry, from this month on."""
    return _rows(
        url,
        config,
        "select expiry_month, subscriptions_ending, quantity_ending, devices_affected"
        " from reporting.expiry_timeline"
        " where expiry_month >= date_trunc('month', now() at time zone 'UTC')::date order by expiry_month",
    )


def inventory_trend(url: str, config: QueryConfig = DEFAULT_CONFIG) -> list[dict[str, Any]]:
    """Devices added, removed and present per week since GLP Sync first ran."""
    return _rows(
        url,
        config,
        "select week_start, devices_added, devices_removed, devices_at_week_end"
        " from reporting.inventory_trend order by week_start",
    )


def license_trend(url: str, config: QueryConfig = DEFAULT_CONFIG) -> list[dict[str, Any]]:
    """Licences bought and used (STARTED subscriptions) per week, from the subscription history."""
    return _rows(
        url,
        config,
        "select week_start, subscriptions, licences_total, licences_used"
        " from reporting.license_trend order by week_start",
    )


def subscription_summary(url: str, config: QueryConfig = DEFAULT_CONFIG) -> list[dict[str, Any]]:
    """Live subscriptions per type and status with their licences and devices covered
    (`reporting.subscription_summary`), the most subscriptions first."""
    return _rows(
        url,
        config,
        "select subscription_type, subscription_status, subscriptions, total_quantity, used_quantity,"
        " available_quantity, linked_devices from reporting.subscription_summary"
        " order by subscriptions desc, subscription_type, subscription_status",
    )


def subscriptions_by_tier(url: str, config: QueryConfig = DEFAULT_CONFIG) -> list[dict[str, Any]]:
    """Licence totals and utilisation of STARTED subscriptions per tier and type
    (`reporting.license_utilization_by_tier`), the most licences first."""
    return _rows(
        url,
        config,
        "select tier, subscription_type, subscriptions, total_quantity, used_quantity, available_quantity,"
        " utilization_pct::float8 as utilization_pct, linked_devices"
        " from reporting.license_utilization_by_tier order by total_quantity desc, tier, subscription_type",
    )
