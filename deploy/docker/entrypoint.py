"""The image's entrypoint: prepare what every GLP Sync service expects, then exec the service's command.

- With DATABASE_URL set, writes `dagster.yaml` into DAGSTER_HOME exactly as `glp demo` does
  (`glp_pipeline.orchestration.prepare_dagster_home`: PostgreSQL storage whose URL is read from the
  environment, never written to the file) and passes GLP_DAGSTER_PG_URL to the command.
- Drops the dbt manifest parsed at build time when the run-time dbt vars differ from the build's (e.g.
  Aruba Central is configured, whose models exist only then), so the Dagster code location parses again
  rather than loading an asset graph without them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def stale_manifest(target: Path, current_vars: str) -> bool:
    """The manifest in `target` was parsed with other dbt vars than `current_vars`."""
    recorded = target / "parse-vars.json"
    return (target / "manifest.json").exists() and (
        not recorded.exists() or recorded.read_text() != current_vars
    )


def main(argv: list[str]) -> None:
    if not argv:
        argv = ["glp", "--help"]
    from glp_pipeline.settings import get_settings
    from glp_pipeline.transform import dbt_vars

    settings = get_settings()
    env: dict[str, str] = {}
    if settings.database_url is not None:
        from glp_pipeline.orchestration import prepare_dagster_home

        env = prepare_dagster_home(settings, settings.database_url.get_secret_value())
    target = settings.glp_home / "dbt" / "target"
    if stale_manifest(target, current := dbt_vars(settings)):
        (target / "manifest.json").unlink()
        (target / "parse-vars.json").write_text(current)  # what the next parse will use
        print("entrypoint: dbt vars differ from the build's; the manifest is parsed again", file=sys.stderr)
    os.execvpe(argv[0], argv, os.environ | env)  # noqa: S606 - the container's own command


if __name__ == "__main__":
    main(sys.argv[1:])
