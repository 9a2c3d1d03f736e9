"""`glp assign ...`: bulk assignment from the command line (registered on the `glp` app by cli.py).

glp assign FILE [--dry-run] [--yes] [--report OUT.csv]   check, plan, confirm, apply, re-sync
glp assign-template OUT.xlsx                             the template to fill in
glp assign-runs                                          the journal: recent runs
glp assign-resume RUN_ID                                 finish a run that was interrupted
glp assign-undo RUN_ID [--yes]                           apply the inverse of a finished run
"""

from __future__ import annotations

import csv
import getpass
import time
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

console = Console(highlight=False)
MAX_SHOWN_ISSUES = 40


def register(app: typer.Typer, friendly_errors: Any, setup: Any) -> None:
    """Add the assignment commands to `glp`. `friendly_errors` and `setup(settings)` come from cli.py."""

    @app.command()
    def assign(
        file: Annotated[Path, typer.Argument(help="The filled-in template (.xlsx or .csv).")],
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; write nothing.")] = False,
        yes: Annotated[
            bool, typer.Option("--yes", "-y", help="Apply without asking for confirmation.")
        ] = False,
        report: Annotated[
            Path | None, typer.Option("--report", help="Write every row's issues and outcome to this CSV.")
        ] = None,
    ) -> None:
        """Assign devices in bulk from a spreadsheet: application and region, subscription, tags, archive,
        and adding new devices. Shows the plan and asks before writing anything to GreenLake."""
        from glp_pipeline.assign import workbook as wb
        from glp_pipeline.assign import workflow
        from glp_pipeline.database import database_url
        from glp_pipeline.greenlake import GreenLakeClient

        settings = setup()
        if not file.is_file():
            raise typer.BadParameter(f"{file} does not exist", param_hint="FILE")
        with friendly_errors(), GreenLakeClient.from_settings(settings) as client:
            url = database_url(settings)
            try:
                prepared = workflow.prepare(file.read_bytes(), file.name, url, settings, client)
            except wb.WorkbookError as exc:
                console.print(f"[red]{exc}[/red]")
                raise typer.Exit(1) from None
            plan = prepared.plan
            _print_plan(plan)
            if report is not None and (dry_run or not plan.can_apply):
                _write_report(report, plan, None)
            if plan.errors:
                console.print(
                    f"[red]{len(plan.errors)} error(s): nothing is applied. Fix the file and run again.[/]"
                )
                raise typer.Exit(1)
            if not plan.changes:
                console.print("Nothing to change: GreenLake already matches the file.")
                return
            if dry_run:
                console.print("Dry run: nothing was written.")
                return
            if not yes and not typer.confirm(f"Apply {len(plan.changes)} change(s) to GreenLake?"):
                console.print("Nothing was written.")
                raise typer.Exit(1)
            run_id = workflow.start(url, prepared, getpass.getuser())
            _apply_and_report(client, settings, url, run_id, report, plan)

    @app.command("assign-template")
    def assign_template(
        out: Annotated[Path, typer.Argument(help="Where to write the template (.xlsx, or .csv).")] = Path(
            "glp-assignment-template.xlsx"
        ),
    ) -> None:
        """Write the bulk assignment template, ready to fill in and pass to `glp assign`."""
        from glp_pipeline.assign import workbook as wb

        if out.suffix.lower() == ".csv":
            out.write_text(wb.template_csv(), encoding="utf-8")
        else:
            out.write_bytes(wb.template())
        console.print(f"Template written to {out}")

    @app.command("assign-runs")
    def assign_runs(limit: Annotated[int, typer.Option(min=1, max=1000)] = 20) -> None:
        """Recent bulk assignment runs from the journal."""
        from glp_pipeline.assign import journal as j
        from glp_pipeline.database import connect, database_url

        settings = setup()
        with friendly_errors(), connect(database_url(settings), autocommit=True) as conn:
            rows = j.recent_runs(conn, limit)
        table = Table(title="Assignment runs")
        for column in ("run", "started", "by", "file", "status", "changes", "ok", "failed"):
            table.add_column(column)
        for r in rows:
            table.add_row(
                str(r["run_id"]),
                f"{r['created_at']:%Y-%m-%d %H:%M}",
                r["requested_by"],
                r["source_name"] or "",
                r["status"],
                *(str(r[n]) for n in ("changes", "succeeded", "failed")),
            )
        console.print(table)

    @app.command("assign-resume")
    def assign_resume(
        run_id: Annotated[str, typer.Argument(help="The run to finish (glp assign-runs).")],
    ) -> None:
        """Finish a run that was interrupted: learn the outcome of what it had sent, send what it had not."""
        from glp_pipeline.database import database_url
        from glp_pipeline.greenlake import GreenLakeClient

        settings = setup()
        with friendly_errors(), GreenLakeClient.from_settings(settings) as client:
            _apply_and_report(client, settings, database_url(settings), _uuid(run_id), None, None)

    @app.command("assign-undo")
    def assign_undo(
        run_id: Annotated[str, typer.Argument(help="The finished run to undo (glp assign-runs).")],
        yes: Annotated[
            bool, typer.Option("--yes", "-y", help="Apply without asking for confirmation.")
        ] = False,
    ) -> None:
        """Put back what a finished run changed (each device's previous application, region, subscription,
        tags, archived flag). Devices the run added stay: GreenLake cannot remove a device."""
        from glp_pipeline.assign import journal as j
        from glp_pipeline.assign import workflow
        from glp_pipeline.database import connect, database_url
        from glp_pipeline.greenlake import GreenLakeClient

        settings = setup()
        url = database_url(settings)
        original = _uuid(run_id)
        with friendly_errors(), connect(url, autocommit=True) as conn:
            changes, notes = j.inverse_changes(j.operations(conn, original))
        for note in notes:
            console.print(f"[yellow]{note}[/]")
        if not changes:
            console.print("Nothing to undo.")
            return
        console.print(f"Undo of {original}: {len(changes)} change(s).")
        if not yes and not typer.confirm("Apply the undo to GreenLake?"):
            raise typer.Exit(1)
        with friendly_errors(), GreenLakeClient.from_settings(settings) as client:
            try:
                new_run, _ = workflow.undo(url, original, getpass.getuser())
            except ValueError as exc:
                console.print(f"[red]{exc}[/]")
                raise typer.Exit(1) from None
            assert new_run is not None
            _apply_and_report(client, settings, url, new_run, None, None)


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a run id (see `glp assign-runs`)") from None


def _apply_and_report(
    client: Any, settings: Any, url: str, run_id: UUID, report: Path | None, plan: Any
) -> None:
    from glp_pipeline.assign import apply, journal, workflow
    from glp_pipeline.database import connect

    console.print(f"Run {run_id} (journalled in glp.assignment_runs)")
    last = [0.0]

    def show(progress: apply.Progress) -> None:
        if time.monotonic() - last[0] < 2 and progress.done < progress.total:
            return
        last[0] = time.monotonic()
        eta = f", about {progress.eta_seconds:.0f} s left" if progress.eta_seconds else ""
        console.print(
            f"  {progress.stage}: {progress.done}/{progress.total} done, {progress.failed} failed{eta}"
        )

    with connect(url, autocommit=True) as conn:
        run = apply.apply_run(client, conn, run_id, on_progress=show)
        operations = journal.operations(conn, run_id)
    failed = [o for o in operations if o.status in (journal.FAILED, journal.UNKNOWN)]
    for item in failed[:MAX_SHOWN_ISSUES]:
        c = item.change
        console.print(
            f"  [red]{item.status}[/] row {c.row} {c.serial_number} {c.kind}: {item.error_message or ''}"
        )
    if report is not None:
        _write_report(report, plan, operations)
    console.print(
        f"Run {run['status']}: {run['succeeded']} succeeded, {run['failed']} failed or unknown, "
        f"of {run['changes']}."
    )
    if run["status"] == journal.INTERRUPTED:
        console.print(f"[yellow]{run['error_message']}[/]\nResume it with: glp assign-resume {run_id}")
        raise typer.Exit(1)
    console.print(workflow.resync(settings, client, url))
    if failed:
        raise typer.Exit(1)


def _print_plan(plan: Any) -> None:
    for note in plan.notes:
        console.print(f"[yellow]{note}[/]")
    if plan.issues:
        table = Table(title=f"{len(plan.errors)} error(s), {len(plan.issues) - len(plan.errors)} warning(s)")
        for column in ("row", "column", "", "message"):
            table.add_column(column)
        for issue in plan.issues[:MAX_SHOWN_ISSUES]:
            table.add_row(str(issue.row), issue.column or "", issue.severity, issue.message)
        console.print(table)
        if len(plan.issues) > MAX_SHOWN_ISSUES:
            console.print(f"... and {len(plan.issues) - MAX_SHOWN_ISSUES} more (--report writes them all)")
    counts = plan.counts()
    summary = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items()) or "no change"
    console.print(f"{plan.rows} row(s): {summary}; {len(plan.unchanged)} device(s) already as asked.")


def _write_report(path: Path, plan: Any, operations: Any) -> None:
    """Issues and operations (with outcomes once applied) as CSV, formula-like text neutralised."""
    from glp_pipeline.exports import neutralize

    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["row", "serial_number", "what", "status", "detail", "operation_id"])
        for issue in plan.issues if plan is not None else []:
            writer.writerow(
                [issue.row, "", issue.column or "", issue.severity, neutralize(issue.message), ""]
            )
        for item in operations or []:
            c = item.change
            detail = neutralize(item.error_message or "")
            writer.writerow(
                [c.row, neutralize(c.serial_number), c.kind, item.status, detail, item.operation_id]
            )
        if operations is None and plan is not None:
            for c in plan.ordered():
                writer.writerow([c.row, neutralize(c.serial_number), c.kind, "planned", "", ""])
    console.print(f"Report written to {path}")
