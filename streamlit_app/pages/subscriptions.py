"""Subscriptions: filters, server-side paging and sorting, and the devices on one subscription."""

from __future__ import annotations

import streamlit as st

from glp_pipeline.queries.subscriptions import SUBSCRIPTION_SORTS
from streamlit_app import common

DEFAULT_SORT = "default"
TABLE_COLUMNS = [
    "subscription_key",
    "subscription_type",
    "subscription_status",
    "tier",
    "sku",
    "quantity",
    "used_quantity",
    "available_quantity",
    "linked_devices",
    "starts_at",
    "ends_at",
    "days_remaining",
    "is_eval",
    "subscription_id",
]

st.title("Subscriptions")
url, config = common.connection()
options = common.run(common.filter_options, url, config)

text = st.text_input("Search", placeholder="subscription key, SKU, tier …", key="sub_text")
cols = st.columns(4)
sub_type = cols[0].selectbox("Type", [common.ALL, *options["subscription_types"]], key="sub_type")
status = cols[1].selectbox("Status", [common.ALL, *options["subscription_statuses"]], key="sub_status")
tier = cols[2].selectbox("Tier", [common.ALL, *options["tiers"]], key="sub_tier")
expiring = cols[3].number_input(
    "Expiring within (days)", min_value=0, max_value=3650, value=None, step=30, key="sub_expiring"
)

cols = st.columns([2, 1, 1, 1])
sort = cols[0].selectbox("Sort by", [DEFAULT_SORT, *SUBSCRIPTION_SORTS], key="sub_sort")
descending = cols[1].checkbox("Descending", key="sub_desc")
page_size = cols[2].selectbox("Page size", [25, 50, 100, 200], index=1, key="sub_page_size")
page = cols[3].number_input("Page", min_value=1, max_value=100_000, value=1, step=1, key="sub_page")

filters = {
    "text": text or None,
    "subscription_type": common.optional(sub_type),
    "status": common.optional(status),
    "tier": common.optional(tier),
    "expiring_within_days": None if expiring is None else int(expiring),
    "sort": None if sort == DEFAULT_SORT else sort,
    "descending": descending,
    "page_size": int(page_size),
}
result = common.run(common.search_subscriptions, url, config, page=int(page), **filters)
if result.total and result.page > result.pages:
    result = common.run(common.search_subscriptions, url, config, page=result.pages, **filters)

common.page_caption(result, "subscriptions")
if not result.items:
    st.info("No subscription matches these filters.")
    st.stop()
st.dataframe(common.frame(result.items, TABLE_COLUMNS), hide_index=True, width="stretch")
common.export_section(
    common.search_subscriptions, url, config, filters, result.total, "subscriptions", TABLE_COLUMNS
)

st.subheader("Devices on a subscription")
labels = {s["subscription_id"]: f"{s['subscription_key']} · {s.get('tier') or ''}" for s in result.items}
subscription_id = st.selectbox(
    "Subscription (from this page)", list(labels), format_func=labels.get, index=None, key="sub_pick"
)
if subscription_id is None:
    st.caption("Pick a subscription to see its devices.")
    st.stop()
devices = common.run(common.subscription_devices, url, config, subscription_id)
st.caption(f"{len(devices):,} live devices on {labels[subscription_id]}")
if devices:
    st.dataframe(common.frame(devices), hide_index=True, width="stretch")
