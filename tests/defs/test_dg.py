"""The project follows `dg` conventions: `dg check defs` loads the code location of [tool.dg]."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_dg_check_defs_loads_the_code_location(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLP_", "DATABASE_URL", "DAGSTER_"))}
    result = subprocess.run(  # noqa: S603 - our venv's dg
        [str(Path(sys.executable).parent / "dg"), "check", "defs"],
        cwd=REPO,
        env=env | {"GLP_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr
