"""Overview: device and subscription KPIs, expiring subscriptions, licence utilisation, data freshness."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from streamlit_app import common

st.title("Overview")
url, config = common.connection()
ov = common.run(common.overview, url, config)

for fresh in ov.freshness:
    when = f"{fresh.last_success_at:%Y-%m-%d %H:%M UTC}" if fresh.last_success_at else None
    if fresh.stale:
        last = f"the last successful sync was at {when}" if when else "no sync has succeeded yet"
        st.warning(
            f"The {fresh.resource} data is stale: {last} (freshness window {config.freshness_hours:g} h). "
            "Run `uv run glp sync`, or check the Sync page for errors.",
            icon=":material/schedule:",
        )
    else:
        st.caption(f"{fresh.resource.capitalize()}: last successful sync {when}.")

if ov.devices.total == 0 and not ov.subscriptions_by_status:
    st.info(f"The database holds no devices or subscriptions yet. {common.LOAD_HINT}")

st.subheader("Devices")
cols = st.columns(5)
cols[0].metric("Devices", ov.devices.total, help="Live devices (archived included, removed excluded).")
cols[1].metric("Assigned", ov.devices.assigned)
cols[2].metric("Unassigned", ov.devices.unassigned)
cols[3].metric("Archived", ov.devices.archived)
cols[4].metric("Removed (7 days)", ov.devices.removed_last_7_days, help="Left GreenLake in the last 7 days.")

st.subheader("Subscriptions by status")
if ov.subscriptions_by_status:
    cols = st.columns(max(1, len(ov.subscriptions_by_status)))
    for col, (status, count) in zip(cols, ov.subscriptions_by_status.items(), strict=True):
        col.metric(status, count)
else:
    st.caption("No subscriptions.")

st.subheader("Expiring subscriptions and licences")
cols = st.columns(len(ov.expiring) + 1)
for col, (days, count) in zip(cols, sorted(ov.expiring.items()), strict=False):
    col.metric(f"Expiring in {days} days", count, help=f"Live subscriptions ending within {days} days.")
util = ov.utilization
cols[-1].metric(
    "Licence utilisation",
    f"{util.pct:.1f} %" if util.pct is not None else "—",
    help=f"{util.used:,} of {util.total:,} seats used, over STARTED subscriptions.",
)

series = common.run(common.chart_series, url, config)
st.subheader("Devices by type and region")
if series["devices"]:
    devices = pd.DataFrame(series["devices"]).fillna({"region": "(unassigned)"})
    st.bar_chart(devices, x="device_type", y="total_devices", color="region", x_label="", y_label="devices")
cols = st.columns(2)
with cols[0]:
    st.subheader("Expiries by month")
    if series["expiry"]:
        expiry = pd.DataFrame(series["expiry"])
        st.bar_chart(expiry, x="expiry_month", y="subscriptions_ending", x_label="", y_label="subscriptions")
    else:
        st.caption("No subscription ends from this month on.")
with cols[1]:
    st.subheader("Inventory and licences per week")
    if series["inventory"] and series["licences"]:
        trend = pd.DataFrame(series["inventory"]).merge(pd.DataFrame(series["licences"]), on="week_start")
        st.line_chart(
            trend, x="week_start", y=["devices_at_week_end", "licences_used", "licences_total"], x_label=""
        )
