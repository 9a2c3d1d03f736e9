"""Sync: launch a sync through Dagster, and the most recent sync runs (counts, errors, their Dagster runs)."""

from __future__ import annotations

import streamlit as st

from glp_pipeline.orchestration import OrchestrationError, launch_sync, run_link
from glp_pipeline.settings import get_settings
from streamlit_app import common

st.title("Sync")
url, config = common.connection()
dagster_url = get_settings().glp_dagster_url  # where runs are launched
ui_url = get_settings().glp_dagster_public_url or dagster_url  # what a browser can open

# --- sync now: the Dagster job the schedules run, launched on the Dagster webserver -------------------------
with st.container(border=True):
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    mode = left.radio(
        "Sync now",
        ["incremental", "full"],
        horizontal=True,
        key="sync_mode",
        captions=["what changed since the last sync", "everything; finds removed devices"],
    )
    if right.button("Sync now", type="primary", key="sync_now", width="stretch"):
        try:
            run_id = launch_sync(dagster_url, mode)
        except OrchestrationError as exc:
            st.error(str(exc))
        else:
            st.session_state["sync_launched"] = (mode, run_id)
            common.sync_status.clear()  # the new run's rows appear as soon as it starts
    launched = st.session_state.get("sync_launched")
    if launched:
        launched_mode, run_id = launched
        st.success(
            f"The {launched_mode} sync is queued in Dagster as run `{run_id[:8]}`: "
            f"[follow it in the Dagster UI]({run_link(ui_url, run_id)}). Its rows appear below once it "
            "starts (Dagster runs one sync at a time); the dashboard shows the new data after the dbt build."
        )
    st.caption(f"Dagster UI: [{ui_url}]({ui_url}) (schedules, lineage, checks and every run's log).")

# --- history ------------------------------------------------------------------------------------------------
limit = int(st.number_input("Runs to show", min_value=1, max_value=1000, value=20, step=10))
runs = common.run(common.sync_status, url, config, limit)

if not runs:
    st.info(f"No sync has run yet. {common.LOAD_HINT}")
    st.stop()

failed = [r for r in runs if r.get("sync_status") == "failed"]
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
    "dagster_run",
    "run_id",
]
df = common.frame(runs)
if "dagster_run_id" in df.columns:
    df["dagster_run"] = [run_link(ui_url, r) if r else None for r in df["dagster_run_id"]]
st.dataframe(
    df[[c for c in columns if c in df.columns]],
    hide_index=True,
    width="stretch",
    column_config={"dagster_run": st.column_config.LinkColumn("Dagster run", display_text="open run")},
)
