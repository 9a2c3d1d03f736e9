"""Build step of the image: parse the dbt project into GLP_HOME/dbt/target (no database connection) and
record the dbt vars it was parsed with, so the entrypoint can tell whether the run-time settings still
give the same manifest."""

from __future__ import annotations

from glp_pipeline.defs.dbt import build_dbt_project
from glp_pipeline.settings import get_settings
from glp_pipeline.transform import dbt_vars

VARS_FILE = "parse-vars.json"


def main() -> None:
    settings = get_settings()
    project = build_dbt_project(settings)
    (project.manifest_path.parent / VARS_FILE).write_text(dbt_vars(settings))
    print(f"dbt manifest: {project.manifest_path}")


if __name__ == "__main__":
    main()
