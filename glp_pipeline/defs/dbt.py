"""dbt: the project in `dbt_project/` as Dagster assets (staging, snapshots, marts, reporting).

- The manifest lives in `GLP_HOME/dbt/target`, where `glp transform` keeps it too. Loading the code location
  runs `dbt parse` when the manifest is missing or older than any file of the project, so a fresh clone
  loads with no database running: parse never connects (the profile gets placeholder connection values).
- Asset keys are dagster-dbt's defaults: `[schema, name]` for models and snapshots (all of them configure a
  schema), `[source, table]` for sources, which are the ingest assets' keys. Groups are the schemas. dbt
  tests become asset checks (dagster-dbt's default).
- The op runs `dbt build` in process (`run_dbt_in_process`: dbt's Python API, not a subprocess), with the
  connection from DATABASE_URL or the embedded PostgreSQL in the variables `dbt_project/profiles.yml` reads,
  and the reader role as a dbt var, all read when the op runs.
"""

# No `from __future__ import annotations` here: Dagster reads the op's config and resource annotations
# at definition time and cannot resolve them as strings.
import os
import queue
import shutil
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import orjson
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject, dbt_assets
from dagster_dbt.asset_utils import DBT_INDIRECT_SELECTION_ENV

from glp_pipeline.database import EmbeddedPostgres, database_url
from glp_pipeline.settings import Settings, environment_overrides, get_settings
from glp_pipeline.transform import (
    DBT_PROJECT_DIR,
    TransformError,
    check_raw_tables,
    dbt_environment,
    dbt_vars,
    parsed_vars,
    run_dbt,
)

DBT_OP = "glp_dbt"
PARSE_URL = "postgresql://glp@localhost:5432/glp"
"""Placeholder connection for `dbt parse`, which reads the profile but never connects."""
FRESHNESS_GROUPS = frozenset({"marts"})
RESULT_EVENTS = frozenset({"LogSeedResult", "LogModelResult", "LogSnapshotResult", "LogTestResult"})
"""The dbt events that carry a node's result (what dagster-dbt turns into materializations and checks)."""
KEEP_RUN_TARGETS = 20
"""Each dbt invocation writes its artifacts to its own directory; keep the newest ones for debugging."""


def manifest_is_current(project: DbtProject, variables: str | None = None) -> bool:
    """The manifest exists, is newer than every file of the dbt project, and was parsed with `variables`
    (dbt's `--vars`: which models exist depends on them, e.g. Aruba Central's only when it is configured)."""
    manifest = project.manifest_path
    if not manifest.exists():
        return False
    if variables is not None and parsed_vars(Path(project.target_path)) != variables:
        return False
    built = manifest.stat().st_mtime
    for path in DBT_PROJECT_DIR.rglob("*"):
        if {"target", "logs", "dbt_packages"} & set(path.relative_to(DBT_PROJECT_DIR).parts):
            continue
        if path.is_file() and path.stat().st_mtime > built:
            return False
    return True


def _parse_url(settings: Settings) -> str:
    """The connection the builds will use when it is known without connecting (DATABASE_URL, or a running
    embedded server): dbt keys its partial parse on the profile, so parsing with the builds' profile lets
    every build reuse this parse instead of parsing the whole project again."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return EmbeddedPostgres(settings.pgdata_dir).url() or PARSE_URL


def build_dbt_project(settings: Settings) -> DbtProject:
    """The dbt project, its manifest parsed if needed (no database connection)."""
    project = DbtProject(
        project_dir=DBT_PROJECT_DIR,
        profiles_dir=DBT_PROJECT_DIR,
        target_path=settings.glp_home / "dbt" / "target",
    )
    if not manifest_is_current(project, dbt_vars(settings)):
        # The same vars as a build, so that the build can reuse this parse (dbt re-parses when vars change).
        args = ["parse", "--vars", dbt_vars(settings)]
        report = run_dbt(args, settings, url=_parse_url(settings))
        if not report.success or not project.manifest_path.exists():
            raise TransformError("dbt parse failed: " + "; ".join(report.failures or ["see the dbt log"]))
    return project


class GlpDbtTranslator(DagsterDbtTranslator):
    """dagster-dbt's keys; the group is the model's schema; the marts get the freshness policy. Several raw
    tables may be one asset (Aruba Central's device tables of both API generations are `aruba/devices`, the
    asset the Central sync materializes), so duplicate source keys are allowed."""

    def __init__(self, freshness_policy: dg.FreshnessPolicy | None = None) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True))
        self.freshness_policy = freshness_policy

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            return spec  # defined by the ingest op, under the same key
        group = props["config"].get("schema") or props["fqn"][1]
        spec = spec.replace_attributes(group_name=group)
        if group in FRESHNESS_GROUPS and self.freshness_policy is not None:
            spec = spec.replace_attributes(freshness_policy=self.freshness_policy)
        return spec


def prune_run_targets(root: Path, keep: int = KEEP_RUN_TARGETS) -> None:
    """Delete all but the newest `keep` per-invocation artifact directories of the dbt op."""
    runs = sorted(
        (p for p in root.glob(f"{DBT_OP}-*") if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for old in runs[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def build_dbt_assets(project: DbtProject, freshness_policy: dg.FreshnessPolicy) -> dg.AssetsDefinition:
    translator = GlpDbtTranslator(freshness_policy)

    @dbt_assets(
        manifest=project.manifest_path, project=project, name=DBT_OP, dagster_dbt_translator=translator
    )
    def glp_dbt(context: dg.AssetExecutionContext) -> Iterator[Any]:
        settings = get_settings()
        url = database_url(settings)
        try:
            check_raw_tables(url)
        except TransformError as exc:
            raise dg.Failure(str(exc), allow_retries=False) from exc
        yield from run_dbt_in_process(
            context, project, translator, ["build", "--vars", dbt_vars(settings)], url
        )

    return glp_dbt


def run_dbt_in_process(
    context: dg.AssetExecutionContext,
    project: DbtProject,
    translator: DagsterDbtTranslator,
    args: list[str],
    url: str,
) -> Iterator[Any]:
    """`dbt <args>` in this process (dbt's Python API), its results as Dagster events while it runs.

    Not `DbtCliResource`: its subprocess starts a second Python and imports dbt again, about 3 s of every
    build on a small machine (most of what Dagster added to a pipeline run). dbt runs in a thread; its node
    results come back through a callback and become the same events dagster-dbt makes of the CLI's log lines
    (materializations, check results), selection included when a run materializes a subset. Each invocation
    writes its artifacts to its own directory, starting from the last build's partial parse.
    """
    from dagster_dbt.asset_utils import get_updated_cli_invocation_params_for_context
    from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage
    from dbt.cli.main import dbtRunner
    from dbt_common.events.functions import msg_to_dict

    params = get_updated_cli_invocation_params_for_context(context, _manifest(project), translator)
    target = Path(project.target_path) / f"{DBT_OP}-{context.run_id[:8]}-{time.time_ns():x}"
    target.mkdir(parents=True, exist_ok=True)
    partial_parse = Path(project.target_path) / "partial_parse.msgpack"
    if partial_parse.exists():
        shutil.copy2(partial_parse, target / partial_parse.name)
    env = dbt_environment(url) | {
        "DBT_TARGET_PATH": os.fspath(target),
        "DBT_PROJECT_DIR": os.fspath(DBT_PROJECT_DIR),
        "DBT_PROFILES_DIR": os.fspath(DBT_PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    if params.indirect_selection:
        env[DBT_INDIRECT_SELECTION_ENV] = params.indirect_selection
    results: queue.Queue[dict[str, Any] | None] = queue.Queue()
    outcome: dict[str, Any] = {}

    def collect(msg: Any) -> None:
        if msg.info.name in RESULT_EVENTS:
            results.put(msg_to_dict(msg))

    def build() -> None:
        try:
            with environment_overrides(env):
                outcome["result"] = dbtRunner(callbacks=[collect]).invoke([*args, *params.selection_args])
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            results.put(None)

    worker = threading.Thread(target=build, name="glp-dbt", daemon=True)
    worker.start()
    while (raw := results.get()) is not None:
        event = DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={})
        yield from event.to_default_asset_events(
            manifest=params.manifest, dagster_dbt_translator=translator, context=context, target_path=target
        )
    worker.join()
    if (target / partial_parse.name).exists():
        shutil.copy2(target / partial_parse.name, partial_parse)
    prune_run_targets(Path(project.target_path))
    if "error" in outcome:
        raise dg.Failure(f"dbt {args[0]} failed: {outcome['error']}") from outcome["error"]
    result = outcome["result"]
    if not result.success:
        failures = [
            f"{r.node.name}: {(r.message or r.status)}"
            for r in (getattr(result.result, "results", None) or [])
            if str(getattr(r.status, "value", r.status)) in ("error", "fail", "runtime error")
        ]
        detail = "; ".join(failures) or str(result.exception or "see the dbt log")
        raise dg.Failure(f"dbt {args[0]} failed: {detail}")


def _manifest(project: DbtProject) -> dict[str, Any]:
    return orjson.loads(Path(project.manifest_path).read_bytes())
