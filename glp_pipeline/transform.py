"""Running dbt (`glp transform`, `glp docs`, the demo): the project in `dbt_project/`, connected through
the same settings as everything else.

dbt reads its connection from environment variables that `dbt_environment` derives from the one database
URL (DATABASE_URL, or the embedded PostgreSQL's unix socket). The password goes in
`DBT_ENV_SECRET_GLP_DB_PASSWORD`, which dbt scrubs from its logs; nothing is written to a file. dbt runs in
process through its documented programmatic entry point, `dbtRunner`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from glp_pipeline.database import connect, database_url, to_libpq, uses_embedded
from glp_pipeline.settings import environment_overrides

if TYPE_CHECKING:
    from glp_pipeline.settings import Settings

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
RAW_TABLES = ("greenlake_raw.devices", "greenlake_raw.subscriptions", "glp.sync_history")


class TransformError(RuntimeError):
    """dbt could not build the models; the message says which and why."""


@dataclass
class BuildReport:
    """What one dbt invocation did, by node status (success, pass, warn, error, fail, skip)."""

    success: bool
    statuses: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    elapsed_seconds: float = 0.0


def dbt_environment(url: str) -> dict[str, str]:
    """The variables `dbt_project/profiles.yml` reads, from a PostgreSQL URL (a socket directory as `host=`
    or as a percent-encoded host both work)."""
    parts = urlsplit(to_libpq(url))
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    host = query.get("host") or (unquote(parts.hostname) if parts.hostname else "") or "localhost"
    if parts.netloc and "%2F" in parts.netloc.upper():  # urlsplit lower-cases and mangles encoded paths
        host = unquote(parts.netloc.rsplit("@", 1)[-1].rsplit(":", 1)[0])
    env = {
        "GLP_DB_HOST": host,
        "GLP_DB_PORT": query.get("port") or str(parts.port or 5432),
        "GLP_DB_USER": unquote(parts.username or "") or query.get("user", "postgres"),
        "DBT_ENV_SECRET_GLP_DB_PASSWORD": unquote(parts.password or "") or query.get("password", ""),
        "GLP_DB_NAME": (parts.path or "/").lstrip("/") or query.get("dbname", "postgres"),
        "GLP_DB_SSLMODE": query.get("sslmode", "prefer"),
    }
    return env


def _dbt_dirs(settings: Settings) -> dict[str, str]:
    target = settings.glp_home / "dbt" / "target"
    logs = settings.glp_home / "dbt" / "logs"
    target.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    return {
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(logs),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }


def check_raw_tables(url: str) -> None:
    """Fail with an actionable message before dbt does, if nothing has been synced yet."""
    with connect(url) as conn:
        missing = [
            t for t in RAW_TABLES if conn.execute("select to_regclass(%s)", (t,)).fetchone()[0] is None
        ]
    if missing:
        raise TransformError(
            f"Nothing to transform yet: {', '.join(missing)} missing. Run `glp sync` (devices and "
            "subscriptions) first, or `glp demo`."
        )


VARS_FILE = "glp_vars.json"
"""Beside the manifest: the `--vars` it was parsed with (which models exist depends on them)."""


def parsed_vars(target: Path) -> str | None:
    """The `--vars` of the last dbt command that wrote the manifest in `target`, if known."""
    path = target / VARS_FILE
    return path.read_text() if path.exists() else None


def dbt_vars(settings: Settings) -> str:
    """The `--vars` of every dbt invocation (parse included, so that a build reuses its parse).

    `aruba_enabled`: Aruba Central's models exist only when it is configured (nothing Aruba otherwise).
    `reader_login`: on the embedded server (trust authentication on a local socket) the reader role may log
    in itself, so the read-only surfaces connect as it and no statement can switch back to a wider role.
    """
    return json.dumps(
        {
            "reader_role": settings.glp_reader_role,
            "reader_login": uses_embedded(settings),
            "aruba_enabled": settings.has_aruba,
        }
    )


def run_dbt(args: list[str], settings: Settings, url: str | None = None, quiet: bool = True) -> BuildReport:
    """Run one dbt command (e.g. `["build"]`) against GLP Sync's database."""
    from dbt.cli.main import dbtRunner

    url = url or database_url(settings)
    env = dbt_environment(url) | _dbt_dirs(settings)
    flags = ["--quiet"] if quiet else []
    if args[0] in ("build", "run", "test", "snapshot", "compile", "docs", "source"):
        flags += ["--vars", dbt_vars(settings)]
    with environment_overrides(env):
        result = dbtRunner().invoke([*args, *flags])
    if result.exception is None and "--vars" in args + flags:
        variables = (args + flags)[(args + flags).index("--vars") + 1]
        (settings.glp_home / "dbt" / "target" / VARS_FILE).write_text(variables)
    report = BuildReport(success=bool(result.success))
    if result.exception is not None:
        report.failures.append(_first_line(result.exception))
        return report
    for node_result in getattr(result.result, "results", None) or []:
        status = str(getattr(node_result.status, "value", node_result.status))
        report.statuses[status] = report.statuses.get(status, 0) + 1
        report.elapsed_seconds += float(getattr(node_result, "execution_time", 0) or 0)
        if status in ("error", "fail", "runtime error"):
            report.failures.append(_describe(node_result.node, node_result.message or status))
        elif status == "warn":
            report.warnings.append(_describe(node_result.node, node_result.message or status))
    return report


def build(
    settings: Settings, url: str | None = None, select: list[str] | None = None, *, full_refresh: bool = False
) -> BuildReport:
    """`dbt build`: staging views, snapshots, marts, reporting views and every data and unit test
    (`full_refresh`: the incremental marts are rebuilt from scratch rather than updated)."""
    url = url or database_url(settings)
    check_raw_tables(url)
    args = ["build"]
    if select:
        args += ["--select", *select]
    if full_refresh:
        args.append("--full-refresh")
    report = run_dbt(args, settings, url)
    if not report.success:
        raise TransformError("dbt build failed: " + "; ".join(report.failures or ["see the dbt log"]))
    return report


def _describe(node: object, message: object) -> str:
    """`model.column: test — message` for a test, `model: message` for anything else."""
    metadata = getattr(node, "test_metadata", None)
    if metadata is None:
        return f"{getattr(node, 'name', '?')}: {_first_line(message)}"
    attached = getattr(node, "attached_node", None) or ""
    model = attached.rsplit(".", 1)[-1] if attached else getattr(node, "name", "?")
    column = getattr(node, "column_name", None)
    where = f"{model}.{column}" if column else model
    return f"{where}: {metadata.name} — {_first_line(message)}"


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else type(value).__name__


def generate_docs(settings: Settings, url: str | None = None) -> Path:
    """`dbt docs generate`: the static site (with the database catalog) in the dbt target directory."""
    url = url or database_url(settings)
    check_raw_tables(url)
    report = run_dbt(["docs", "generate"], settings, url)
    if not report.success:
        raise TransformError("dbt docs generate failed: " + "; ".join(report.failures or ["see the dbt log"]))
    return settings.glp_home / "dbt" / "target"


def serve_docs(settings: Settings, host: str = "127.0.0.1", port: int = 8580) -> None:
    """Serve the generated docs site until interrupted (`dbt docs serve`)."""
    run_dbt(["docs", "serve", "--host", host, "--port", str(port), "--no-browser"], settings, quiet=False)
