"""The image's entrypoint: prepare what every GLP Sync service expects, then exec the service's command.

- With DATABASE_URL set, writes `dagster.yaml` into DAGSTER_HOME exactly as `glp demo` does
  (`glp_pipeline.orchestration.prepare_dagster_home`: PostgreSQL storage whose URL is read from the
  environment, never written to the file) and passes GLP_DAGSTER_PG_URL to the command.

The dbt manifest parsed at build time is re-parsed by the code location itself when the run-time dbt vars
differ from the build's (`glp_pipeline.defs.dbt.manifest_is_current`), e.g. when Aruba Central is
configured, whose models exist only then.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> None:
    if not argv:
        argv = ["glp", "--help"]
    from glp_pipeline.settings import get_settings

    settings = get_settings()
    env: dict[str, str] = {}
    if settings.database_url is not None:
        from glp_pipeline.orchestration import prepare_dagster_home

        env = prepare_dagster_home(settings, settings.database_url.get_secret_value())
    os.execvpe(argv[0], argv, os.environ | env)  # noqa: S606 - the container's own command


if __name__ == "__main__":
    main(sys.argv[1:])
