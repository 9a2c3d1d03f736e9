"""Clients: Aruba Central's clients, per site and per device, and their health. Shown only when Aruba Central
is configured. A thin face over `glp_pipeline.queries.central`."""

from __future__ import annotations

import streamlit as st

from glp_pipeline.queries import central
from streamlit_app import common

PAGE_SIZE = 50
ALL = "All"

st.title("Clients")
url, config = common.connection()
sites = common.run(central.clients_per_site, url, 1000, config=config)

site_names = [s["site_name"] or s["site_key"] for s in sites]
left, middle, right = st.columns([3, 2, 2])
text = left.text_input("Search", placeholder="MAC, name, user or IP …", key="cl_text")
site = middle.selectbox("Site", [ALL, *site_names], key="cl_site")
status = right.selectbox("Status", [ALL, "Connected", "Failed"], key="cl_status")
chosen_site = None if site == ALL else site
page = st.number_input("Page", min_value=1, value=1, step=1, key="cl_page")
result = common.run(
    central.search_clients,
    url,
    text=text or None,
    site=chosen_site,
    status=None if status == ALL else status,
    page=int(page),
    page_size=PAGE_SIZE,
    config=config,
)
st.caption(f"{result.total:,} clients · page {result.page} of {result.pages}")
st.dataframe(common.frame(result.items), hide_index=True, width="stretch", key="cl_clients")

st.subheader("Per site")
st.dataframe(common.frame(sites), hide_index=True, width="stretch", key="cl_sites")
st.subheader("Per device")
per_device = common.run(central.clients_per_device, url, chosen_site, 100, config=config)
st.dataframe(common.frame(per_device), hide_index=True, width="stretch", key="cl_devices")
st.subheader("Health")
health = common.run(central.client_health, url, chosen_site, config=config)
st.dataframe(common.frame(health), hide_index=True, width="stretch", key="cl_health")
