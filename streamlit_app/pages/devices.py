"""Devices: search, filters, server-side paging and sorting, and one device's detail."""

from __future__ import annotations

import streamlit as st

from glp_pipeline.queries.devices import DEVICE_SORTS
from streamlit_app import common

DEFAULT_SORT = "default"
TABLE_COLUMNS = [
    "serial_number",
    "device_name",
    "device_type",
    "model",
    "region",
    "assigned_state",
    "application_id",
    "subscription_count",
    "mac_address",
    "location_name",
    "is_archived",
    "updated_at",
    "device_id",
]

st.title("Devices")
url, config = common.connection()
options = common.run(common.filter_options, url, config)

text = st.text_input("Search", placeholder="serial number, MAC address, device name, site …", key="dev_text")
cols = st.columns(5)
device_type = cols[0].selectbox("Device type", [common.ALL, *options["device_types"]], key="dev_type")
region = cols[1].selectbox("Region", [common.ALL, *options["regions"]], key="dev_region")
assigned = cols[2].selectbox("Assigned", [common.ALL, "Yes", "No"], key="dev_assigned")
tier = cols[3].selectbox("Subscription tier", [common.ALL, *options["tiers"]], key="dev_tier")
expiring = cols[4].number_input(
    "Expiring within (days)", min_value=0, max_value=3650, value=None, step=30, key="dev_expiring"
)

cols = st.columns([2, 2, 2, 1])
application = cols[0].selectbox("Application", [common.ALL, *options["application_ids"]], key="dev_app")
tag_key = cols[1].selectbox("Tag", [common.ALL, *options["tag_keys"]], key="dev_tag_key")
tag_value = cols[2].text_input("Tag value (empty: any)", key="dev_tag_value")
include_removed = cols[3].checkbox("Include removed", key="dev_removed", help="Devices gone from GreenLake.")

cols = st.columns([2, 1, 1, 1])
sort = cols[0].selectbox("Sort by", [DEFAULT_SORT, *DEVICE_SORTS], key="dev_sort")
descending = cols[1].checkbox("Descending", key="dev_desc")
page_size = cols[2].selectbox("Page size", [25, 50, 100, 200], index=1, key="dev_page_size")
page = cols[3].number_input("Page", min_value=1, max_value=100_000, value=1, step=1, key="dev_page")

filters = {
    "text": text or None,
    "device_type": common.optional(device_type),
    "region": common.optional(region),
    "assigned": None if assigned == common.ALL else assigned == "Yes",
    "tier": common.optional(tier),
    "expiring_within_days": None if expiring is None else int(expiring),
    "application_id": common.optional(application),
    "tag": None if tag_key == common.ALL else (tag_key, tag_value or None),
    "include_removed": include_removed,
    "sort": None if sort == DEFAULT_SORT else sort,
    "descending": descending,
    "page_size": int(page_size),
}
result = common.run(common.search_devices, url, config, page=int(page), **filters)
if result.total and result.page > result.pages:  # the filters shrank the result under the page number
    result = common.run(common.search_devices, url, config, page=result.pages, **filters)

common.page_caption(result, "devices")
if not result.items:
    st.info("No device matches these filters.")
    st.stop()
st.dataframe(common.frame(result.items, TABLE_COLUMNS), hide_index=True, width="stretch")
common.export_section(common.search_devices, url, config, filters, result.total, "devices", TABLE_COLUMNS)

# --- detail ----------------------------------------------------------------------------------------------
st.subheader("Device detail")
labels = {
    d["device_id"]: f"{d['serial_number']} · {d.get('device_name') or d['device_type']}" for d in result.items
}
device_id = st.selectbox(
    "Device (from this page)", list(labels), format_func=labels.get, index=None, key="dev_pick"
)
if device_id is None:
    st.caption("Pick a device to see its subscriptions, tags, assignment history and raw JSON.")
    st.stop()

detail = common.run(common.device_detail, url, config, device_id)
if detail is None:
    st.warning(f"GLP Sync does not know the device {device_id}.")
    st.stop()
device = detail["device"]
st.markdown(f"**{device['serial_number']}** · {device.get('model') or ''} · `{device['device_id']}`")
if device.get("is_removed"):
    st.warning(f"This device left GreenLake (removed at {device.get('removed_at')}).")

tab_subs, tab_tags, tab_history, tab_raw = st.tabs(
    ["Subscriptions", "Tags", "Assignment history", "Raw JSON"]
)
with tab_subs:
    if detail["subscriptions"]:
        st.dataframe(common.frame(detail["subscriptions"]), hide_index=True, width="stretch")
    else:
        st.caption("No subscriptions.")
with tab_tags:
    if detail["tags"]:
        st.dataframe(
            common.frame([{"key": k, "value": v} for k, v in detail["tags"].items()]), hide_index=True
        )
    else:
        st.caption("No tags.")
with tab_history:
    if detail["history"]:
        st.dataframe(common.frame(detail["history"]), hide_index=True, width="stretch")
    else:
        st.caption("No assignment history (or the snapshots are not readable).")
with tab_raw:
    st.json(device.get("raw") or {}, expanded=True)
