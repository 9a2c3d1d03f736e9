"""Cross-platform: GreenLake ↔ Aruba Central, device by device (in both, GreenLake only, Central only) and
where the two disagree. Shown only when Aruba Central is configured. A thin face over
`glp_pipeline.queries.central`."""

from __future__ import annotations

import streamlit as st

from glp_pipeline.queries import central
from streamlit_app import common

PRESENCE_LABELS = {
    "All": None,
    "In both": "both",
    "GreenLake only": "greenlake_only",
    "Central only": "central_only",
}
MISMATCH_LABELS = {"Any": None, "Model": "model", "Name": "name", "Status": "status"}
PAGE_SIZE = 50

st.title("GreenLake ↔ Aruba Central")
url, config = common.connection()
summary = common.run(central.cross_platform_summary, url, config=config)

cols = st.columns(4)
cols[0].metric("In both", f"{summary['both_platforms']:,}")
cols[1].metric(
    "GreenLake only",
    f"{summary['greenlake_only']:,}",
    help=f"{summary['greenlake_only_network']:,} of them network gear Central should manage",
)
cols[2].metric("Central only", f"{summary['central_only']:,}")
cols[3].metric(
    "Mismatches",
    f"{summary['model_mismatches'] + summary['name_mismatches'] + summary['status_mismatches']:,}",
    help=f"model {summary['model_mismatches']}, name {summary['name_mismatches']}, "
    f"status {summary['status_mismatches']} (archived in GreenLake, online in Central)",
)

left, middle, right = st.columns([2, 2, 1])
presence = PRESENCE_LABELS[left.selectbox("Presence", list(PRESENCE_LABELS), key="xp_presence")]
mismatch = MISMATCH_LABELS[middle.selectbox("Disagreeing on", list(MISMATCH_LABELS), key="xp_mismatch")]
network_only = right.checkbox("Network gear only", key="xp_network")
page = st.number_input("Page", min_value=1, value=1, step=1, key="xp_page")
result = common.run(
    central.cross_platform_devices,
    url,
    presence=presence,
    mismatch=mismatch,
    network_only=network_only,
    page=int(page),
    page_size=PAGE_SIZE,
    config=config,
)
st.caption(f"{result.total:,} devices · page {result.page} of {result.pages}")
st.dataframe(common.frame(result.items), hide_index=True, width="stretch", key="xp_devices")
