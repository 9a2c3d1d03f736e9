"""The dbt manifest the code location loads is parsed again when it is older than the project or was parsed
with other dbt vars (which models exist depends on them: Aruba Central's only when it is configured; an
image's build-time manifest meets other settings at run time)."""

from __future__ import annotations

import os
import time

from dagster_dbt import DbtProject

from glp_pipeline.defs.dbt import manifest_is_current
from glp_pipeline.transform import DBT_PROJECT_DIR, VARS_FILE


def test_a_manifest_parsed_with_other_vars_is_not_current(tmp_path):
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=tmp_path)
    assert not manifest_is_current(project, '{"aruba_enabled": false}')  # nothing parsed yet
    manifest = tmp_path / "manifest.json"
    manifest.write_text("{}")
    future = time.time() + 3600  # newer than every project file
    os.utime(manifest, (future, future))
    assert manifest_is_current(project)
    assert not manifest_is_current(project, '{"aruba_enabled": false}')  # no record of its vars
    (tmp_path / VARS_FILE).write_text('{"aruba_enabled": false}')
    assert manifest_is_current(project, '{"aruba_enabled": false}')
    assert not manifest_is_current(project, '{"aruba_enabled": true}')
    os.utime(manifest, (0, 0))  # older than the project's files
    assert not manifest_is_current(project, '{"aruba_enabled": false}')
