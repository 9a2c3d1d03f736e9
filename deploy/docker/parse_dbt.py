"""Build step of the image: parse the dbt project into GLP_HOME/dbt/target (no database connection). The
manifest records the dbt vars it was parsed with (`transform.VARS_FILE`), and the code location parses again
by itself when the run-time settings give other vars (e.g. Aruba Central configured)."""

from __future__ import annotations

from glp_pipeline.defs.dbt import build_dbt_project
from glp_pipeline.settings import get_settings


def main() -> None:
    project = build_dbt_project(get_settings())
    print(f"dbt manifest: {project.manifest_path}")


if __name__ == "__main__":
    main()
