"""Bulk assignment: template, upload, checks, plan (the dry run), explicit confirmation, apply with progress,
results, and the journal's recent runs with undo. A thin face over `glp_pipeline.assign.workflow`."""

from __future__ import annotations

import psycopg
import streamlit as st

from glp_pipeline.assign import apply, journal, workflow
from glp_pipeline.assign import workbook as wb
from glp_pipeline.database import DatabaseError, connect
from glp_pipeline.greenlake import GreenLakeClient
from glp_pipeline.greenlake.errors import GreenLakeError
from glp_pipeline.settings import get_settings
from streamlit_app import common

st.title("Bulk assignment")
url, config = common.connection(for_writes=True)
settings = get_settings()

st.write(
    "Assign devices from a spreadsheet: application and region, subscription, tags, archive, or add devices "
    "new to the workspace. Nothing is written to GreenLake before you have seen the plan and confirmed it."
)
left, right, _ = st.columns([1, 1, 3])
left.download_button(
    "Template (.xlsx)", wb.template(), "glp-assignment-template.xlsx", icon=":material/download:"
)
right.download_button("Template (.csv)", wb.template_csv(), "glp-assignment-template.csv")

if not settings.has_greenlake_credentials:
    st.error(
        "GreenLake credentials are not set (GLP_CLIENT_ID, GLP_CLIENT_SECRET): the dashboard needs them to "
        "plan and apply assignments. `glp demo` starts the dashboard with the simulator's."
    )
    st.stop()


upload = st.file_uploader(
    "Filled-in template", type=["xlsx", "csv"], max_upload_size=wb.MAX_FILE_BYTES // 2**20
)
if upload is not None:
    data = upload.getvalue()
    key = (upload.name, len(data), hash(data))
    if st.session_state.get("assign_key") != key:
        try:
            with GreenLakeClient.from_settings(settings) as client:
                st.session_state["assign_prepared"] = workflow.prepare(
                    data, upload.name, url, settings, client
                )
            st.session_state["assign_error"] = None
        except wb.WorkbookError as exc:
            st.session_state["assign_prepared"], st.session_state["assign_error"] = None, str(exc)
        except (GreenLakeError, DatabaseError) as exc:
            st.session_state["assign_prepared"], st.session_state["assign_error"] = None, f"{exc}"
        st.session_state["assign_key"] = key
        st.session_state.pop("assign_result", None)

    if st.session_state.get("assign_error"):
        st.error(st.session_state["assign_error"])
    prepared = st.session_state.get("assign_prepared")
    if prepared is not None:
        plan = prepared.plan
        for note in plan.notes:
            st.warning(note)
        counts = plan.counts()
        cols = st.columns(4)
        cols[0].metric("Rows", plan.rows)
        cols[1].metric("Changes", len(plan.changes))
        cols[2].metric("Errors", len(plan.errors))
        cols[3].metric("Already as asked", len(plan.unchanged))
        if plan.issues:
            st.subheader("Checks")
            issues = [
                {"row": i.row, "column": i.column, "severity": i.severity, "message": i.message}
                for i in plan.issues
            ]
            st.dataframe(common.frame(issues), hide_index=True, width="stretch", key="assign_issues")
        if plan.changes:
            st.subheader("Plan")
            st.caption(", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items()))
            rows = [
                {
                    "row": c.row,
                    "serial_number": c.serial_number,
                    "change": c.kind,
                    "from": c.before,
                    "to": c.after,
                }
                for c in plan.ordered()
            ]
            frame = common.frame(rows)
            for column in ("from", "to"):
                frame[column] = frame[column].map(lambda v: "" if v is None else str(v))
            st.dataframe(frame, hide_index=True, width="stretch", key="assign_plan")
            common.download_rows(frame.to_dict("records"), "glp-assignment-plan", key="assign_plan_export")

        if plan.errors:
            st.error(
                f"{len(plan.errors)} error(s): fix the file and upload it again. Nothing will be written."
            )
        elif plan.changes and "assign_result" not in st.session_state:
            confirmed = st.checkbox(
                f"I have checked the plan: apply these {len(plan.changes)} change(s) to GreenLake.",
                key="assign_confirm",
            )
            if st.button("Apply", type="primary", disabled=not confirmed, key="assign_apply"):
                bar = st.progress(0.0, text="Starting ...")

                def show(progress: apply.Progress) -> None:
                    eta = f", about {progress.eta_seconds:.0f} s left" if progress.eta_seconds else ""
                    bar.progress(
                        min(1.0, progress.done / max(1, progress.total)),
                        text=f"{progress.stage}: {progress.done}/{progress.total} done, "
                        f"{progress.failed} failed{eta}",
                    )

                try:
                    run_id = workflow.start(url, prepared, common.current_user())
                    with (
                        GreenLakeClient.from_settings(settings) as client,
                        connect(url, autocommit=True) as conn,
                    ):
                        run = apply.apply_run(client, conn, run_id, on_progress=show)
                        outcomes = journal.operations(conn, run_id)
                        resync = (
                            workflow.resync(settings, client, url)
                            if run["status"] == journal.FINISHED
                            else ""
                        )
                except (GreenLakeError, DatabaseError) as exc:
                    st.error(str(exc))
                    st.stop()
                st.session_state["assign_result"] = (run, outcomes, resync)
                st.cache_data.clear()  # the marts changed

result = st.session_state.get("assign_result")
if result is not None:
    run, outcomes, resync = result
    st.subheader("Result")
    message = (
        f"Run {run['run_id']} {run['status']}: {run['succeeded']} succeeded, "
        f"{run['failed']} failed or unknown, of {run['changes']}."
    )
    (st.success if run["status"] == journal.FINISHED and not run["failed"] else st.warning)(message)
    if run["status"] == journal.INTERRUPTED:
        st.warning(f"{run['error_message']} Resume it below, or with `glp assign-resume {run['run_id']}`.")
    if resync:
        st.info(resync)
    rows = [
        {
            "row": o.change.row,
            "serial_number": o.change.serial_number,
            "change": o.change.kind,
            "status": o.status,
            "error": o.error_message,
            "operation_id": o.operation_id,
        }
        for o in outcomes
    ]
    st.dataframe(common.frame(rows), hide_index=True, width="stretch", key="assign_outcomes")
    common.download_rows(rows, "glp-assignment-results", key="assign_results_export")

st.subheader("Recent runs")
try:
    with connect(url, autocommit=True) as conn:
        runs = journal.recent_runs(conn, 20)
except (DatabaseError, psycopg.Error) as exc:
    common.show_error(f"The assignment journal cannot be read: {exc}")
if not runs:
    st.caption("No assignment has run yet.")
    st.stop()
st.dataframe(
    common.frame(runs),
    hide_index=True,
    width="stretch",
    key="assign_runs",
)
choice = st.selectbox("Run", [str(r["run_id"]) for r in runs], key="assign_run_pick")
picked = next(r for r in runs if str(r["run_id"]) == choice)
action = "Resume" if picked["status"] in (journal.RUNNING, journal.INTERRUPTED) else "Undo"
sure = st.checkbox(
    f"{action} run {choice[:8]}: I understand this writes to GreenLake.", key="assign_run_confirm"
)
if st.button(action, disabled=not sure, key="assign_run_action"):
    from uuid import UUID

    try:
        with GreenLakeClient.from_settings(settings) as client:
            if action == "Undo":
                new_run, notes = workflow.undo(url, UUID(choice), common.current_user())
                for note in notes:
                    st.warning(note)
                if new_run is None:
                    st.info("Nothing to undo.")
                    st.stop()
                target = new_run
            else:
                target = UUID(choice)
            with connect(url, autocommit=True) as conn:
                run = apply.apply_run(client, conn, target)
                outcomes = journal.operations(conn, target)
            resync = workflow.resync(settings, client, url) if run["status"] == journal.FINISHED else ""
    except (GreenLakeError, DatabaseError, ValueError) as exc:
        st.error(str(exc))
        st.stop()
    st.session_state["assign_result"] = (run, outcomes, resync)
    st.cache_data.clear()
    st.rerun()
