"""Sync: the most recent sync runs (counts, errors) and data freshness."""

from __future__ import annotations

import streamlit as st

from streamlit_app import common

st.title("Sync history")
url, config = common.connection()
limit = int(st.number_input("Runs to show", min_value=1, max_value=1000, value=20, step=10))
runs = common.run(common.sync_status, url, config, limit)

if not runs:
    st.info(f"No sync has run yet. {common.LOAD_HINT}")
    st.stop()

failed = [r for r in runs if r.get("sync_status") != "success"]
cols = st.columns(3)
cols[0].metric("Runs shown", len(runs))
cols[1].metric("Failed", len(failed))
cols[2].metric("Last run", f"{runs[0]['started_at']:%Y-%m-%d %H:%M}" if runs[0].get("started_at") else "—")

for run in failed:
    st.error(
        f"{run['resource']} {run.get('sync_mode') or ''} sync at {run['started_at']:%Y-%m-%d %H:%M} "
        f"({run['sync_status']}): {run.get('error_message') or 'no error message'}"
    )

columns = [
    "started_at",
    "resource",
    "sync_mode",
    "sync_trigger",
    "sync_status",
    "duration_seconds",
    "fetched_count",
    "inserted_count",
    "updated_count",
    "removed_count",
    "total_reported",
    "is_complete",
    "error_message",
    "run_id",
]
df = common.frame(runs)
st.dataframe(df[[c for c in columns if c in df.columns]], hide_index=True, width="stretch")
