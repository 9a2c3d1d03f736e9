"""dbt: the project in `dbt_project/` as Dagster assets (staging, snapshots, marts, reporting).

- The manifest lives in `GLP_HOME/dbt/target`, where `glp transform` keeps it too. Loading the code location
  runs `dbt parse` when the manifest is missing or older than any file of the project, so a fresh clone
  loads with no database running: parse never connects (the profile gets placeholder connection values).
- Asset keys are dagster-dbt's defaults: `[schema, name]` for models and snapshots (all of them configure a
  schema), `[source, table]` for sources, which are the ingest assets' keys. Groups are the schemas. dbt
  tests become asset checks (dagster-dbt's default).
- The op runs `dbt build` through `DbtCliResource` (a subprocess of the venv's dbt), with the connection
  from DATABASE_URL or the embedded PostgreSQL in the variables `dbt_project/profiles.yml` reads, and the
  reader role as a dbt var, all read when the op runs.
"""

# No `from __future__ import annotations` here: Dagster reads the op's config and resource annotations
# at definition time and cannot resolve them as strings.
import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from glp_pipeline.database import EmbeddedPostgres, database_url
from glp_pipeline.settings import Settings, environment_overrides, get_settings
from glp_pipeline.transform import (
    DBT_PROJECT_DIR,
    TransformError,
    check_raw_tables,
    dbt_environment,
    dbt_vars,
    run_dbt,
)

DBT_OP = "glp_dbt"
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"
"""The venv's dbt, so the resource works whether or not the venv is on PATH."""
PARSE_URL = "postgresql://glp@localhost:5432/glp"
"""Placeholder connection for `dbt parse`, which reads the profile but never connects."""
FRESHNESS_GROUPS = frozenset({"marts"})
KEEP_RUN_TARGETS = 20
"""Each dbt invocation writes its artifacts to its own directory; keep the newest ones for debugging."""


def manifest_is_current(project: DbtProject) -> bool:
    """The manifest exists and is newer than every file of the dbt project."""
    manifest = project.manifest_path
    if not manifest.exists():
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
    if not manifest_is_current(project):
        # The same vars as a build, so that the build can reuse this parse (dbt re-parses when vars change).
        args = ["parse", "--vars", dbt_vars(settings)]
        report = run_dbt(args, settings, url=_parse_url(settings))
        if not report.success or not project.manifest_path.exists():
            raise TransformError("dbt parse failed: " + "; ".join(report.failures or ["see the dbt log"]))
    return project


class GlpDbtTranslator(DagsterDbtTranslator):
    """dagster-dbt's keys; the group is the model's schema; the marts get the freshness policy."""

    def __init__(self, freshness_policy: dg.FreshnessPolicy | None = None) -> None:
        super().__init__()
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


def dbt_resource(project: DbtProject) -> DbtCliResource:
    return DbtCliResource(project_dir=project, dbt_executable=os.fspath(DBT_EXECUTABLE))


def prune_run_targets(root: Path, keep: int = KEEP_RUN_TARGETS) -> None:
    """Delete all but the newest `keep` per-invocation artifact directories of the dbt op."""
    runs = sorted(
        (p for p in root.glob(f"{DBT_OP}-*") if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for old in runs[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def build_dbt_assets(project: DbtProject, freshness_policy: dg.FreshnessPolicy) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        name=DBT_OP,
        dagster_dbt_translator=GlpDbtTranslator(freshness_policy),
    )
    def glp_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        settings = get_settings()
        url = database_url(settings)
        try:
            check_raw_tables(url)
        except TransformError as exc:
            raise dg.Failure(str(exc), allow_retries=False) from exc
        args = ["build", "--vars", dbt_vars(settings)]
        # DBT_TARGET_PATH: dagster-dbt puts each invocation's artifacts in a directory under it and starts
        # from the partial parse kept there.
        env = dbt_environment(url) | {
            "DBT_TARGET_PATH": os.fspath(project.target_path),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
        }
        with environment_overrides(env):
            invocation = dbt.cli(args, context=context)
            yield from invocation.stream()
        # Keep this build's partial parse where the next invocation starts from.
        latest = Path(invocation.target_path) / "partial_parse.msgpack"
        if latest.exists():
            shutil.copy2(latest, Path(project.target_path) / "partial_parse.msgpack")
        prune_run_targets(project.target_path)

    return glp_dbt
