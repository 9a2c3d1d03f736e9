"""Sensors: a failed run is recorded and alerted; subscriptions close to their end are alerted once.

Both read their settings and reach the database when they are evaluated, never when the code location
loads. Neither starts the embedded PostgreSQL (a sensor ticking while it is stopped would otherwise start
it) and neither crashes when the database is down or the tables are not built yet: that is a SkipReason
saying so. Alerts go to GLP_ALERT_WEBHOOK_URL when it is set (`alerts.post_alert`).
"""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import psycopg

from glp_pipeline import history
from glp_pipeline.database import DatabaseError, connect, database_url
from glp_pipeline.defs.alerts import post_alert, webhook_url
from glp_pipeline.defs.ingest import INGEST_OP, SYNC_FAILURE_RECORDED_TAG
from glp_pipeline.settings import Settings, get_settings

FAILURE_SENSOR = "glp_run_failure_sensor"
EXPIRY_SENSOR = "glp_subscription_expiry_sensor"
EXPIRY_INTERVAL_SECONDS = 3600
MAX_LISTED = 25

EXPIRY_DDL = """
create schema if not exists glp;
create table if not exists glp.expiry_alerts (
    subscription_id text primary key,
    alerted_at      timestamptz not null default now()
);
"""

NEWLY_EXPIRING = """
select e.subscription_id, e.subscription_key, e.subscription_type, e.ends_at, e.days_remaining
from reporting.subscriptions_expiring_soon e
where e.days_remaining < %s
  and not exists (select 1 from glp.expiry_alerts a where a.subscription_id = e.subscription_id)
order by e.ends_at, e.subscription_id
"""


def _first_line(text: str | None) -> str:
    text = (text or "").strip()
    return text.splitlines()[0] if text else ""


def failure_message(context: dg.RunFailureSensorContext) -> str:
    """What failed, one line per failed step: a `Failure`'s own description, else the error's first line."""
    parts = []
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        text = ""
        if data is not None and data.user_failure_data is not None:
            text = _first_line(data.user_failure_data.description)
        if not text and data is not None and data.error is not None:
            error = data.error.cause or data.error
            text = _first_line(error.message)
        parts.append(f"{event.step_key}: {text or 'failed'}")
    if parts:
        return "; ".join(parts)
    return _first_line(context.failure_event.message) or "the run failed"


def _run_times(instance: dg.DagsterInstance, run_id: str) -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    record = instance.get_run_record_by_id(run_id)
    if record is None:
        return now, now
    start = datetime.fromtimestamp(record.start_time, UTC) if record.start_time else now
    end = datetime.fromtimestamp(record.end_time, UTC) if record.end_time else now
    return start, end


def record_run_failure(
    settings: Settings, run: dg.DagsterRun, error: str, started_at: datetime, finished_at: datetime
) -> None:
    """One `glp.sync_history` row (resource `run`, trigger `dagster`) for a failed run; idempotent."""
    mode = run.run_config.get("ops", {}).get(INGEST_OP, {}).get("config", {}).get("mode") or "n/a"
    with connect(database_url(settings, start=False), autocommit=True) as conn:
        history.ensure_schema(conn)
        conn.execute(
            "insert into glp.sync_history (run_id, resource, mode, trigger, status, started_at, finished_at,"
            " error_message, dagster_run_id)"
            " values (%s::uuid, 'run', %s, 'dagster', 'failed', %s, %s, %s, %s)"
            " on conflict (run_id, resource) do nothing",
            (run.run_id, mode, started_at, finished_at, error, run.run_id),
        )


@dg.run_failure_sensor(
    name=FAILURE_SENSOR,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records every failed run in glp.sync_history (unless the sync did) and posts an alert.",
)
def glp_run_failure_sensor(context: dg.RunFailureSensorContext) -> dg.SkipReason | None:
    settings = get_settings()
    run = context.dagster_run
    error = failure_message(context)
    problems = []
    if run.tags.get(SYNC_FAILURE_RECORDED_TAG) != "true":
        started_at, finished_at = _run_times(context.instance, run.run_id)
        try:
            record_run_failure(settings, run, error, started_at, finished_at)
        except (DatabaseError, psycopg.Error) as exc:
            problems.append(f"not recorded in glp.sync_history ({_first_line(str(exc))})")
    if webhook_url(settings) is not None:
        text = f"GLP Sync: Dagster run {run.run_id} of {run.job_name} failed. {error}"
        if not post_alert(settings, text):
            problems.append("the alert webhook could not be reached")
    if problems:
        return dg.SkipReason(f"Run {run.run_id} failed; " + "; ".join(problems) + ".")
    return None


def expiry_message(rows: list[tuple], days: int) -> str:
    lines = [f"GLP Sync: {len(rows)} subscription(s) end within {days} days:"]
    for subscription_id, key, kind, ends_at, remaining in rows[:MAX_LISTED]:
        label = key or subscription_id
        ends = ends_at.strftime("%Y-%m-%d") if ends_at else "?"
        lines.append(f"• {label} ({kind or 'unknown type'}) ends {ends}, in {remaining} day(s)")
    if len(rows) > MAX_LISTED:
        lines.append(f"… and {len(rows) - MAX_LISTED} more (reporting.subscriptions_expiring_soon)")
    return "\n".join(lines)


@dg.sensor(
    name=EXPIRY_SENSOR,
    minimum_interval_seconds=EXPIRY_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts once per subscription that comes within GLP_EXPIRY_ALERT_DAYS of its end.",
)
def glp_subscription_expiry_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    settings = get_settings()
    days = settings.glp_expiry_alert_days
    try:
        with connect(database_url(settings, start=False)) as conn:
            exists = conn.execute("select to_regclass('reporting.subscriptions_expiring_soon')").fetchone()
            if exists[0] is None:
                return dg.SkipReason("reporting.subscriptions_expiring_soon is not built yet (no dbt build).")
            conn.execute(EXPIRY_DDL)
            rows = conn.execute(NEWLY_EXPIRING, (days,)).fetchall()
            if not rows:
                return dg.SkipReason(f"No subscription newly within {days} days of its end.")
            message = expiry_message(rows, days)
            use_webhook = webhook_url(settings) is not None
            posted = use_webhook and post_alert(settings, message)
            if use_webhook and not posted:  # not recorded, so the next evaluation alerts them again
                return dg.SkipReason(f"{len(rows)} subscription(s) to alert; the webhook was not reached.")
            conn.cursor().executemany(
                "insert into glp.expiry_alerts (subscription_id) values (%s) on conflict do nothing",
                [(row[0],) for row in rows],
            )
    except (DatabaseError, psycopg.Error) as exc:
        return dg.SkipReason(f"Database not reachable or not ready: {_first_line(str(exc))}")
    where = "posted to the alert webhook" if posted else "recorded (no GLP_ALERT_WEBHOOK_URL set)"
    context.log.info(message)
    return dg.SkipReason(f"Alerted {len(rows)} subscription(s) ending within {days} days, {where}.")
