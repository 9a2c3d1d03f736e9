"""`glp simulate --central`: both simulators served, the ARUBA_* settings printed, no secret printed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx


def test_simulate_central_serves_both_until_ctrl_c() -> None:
    code = (
        "from glp_pipeline.cli import app\n"
        "app(['simulate', '--devices', '40', '--subscriptions', '10', '--port', '0', '--central',\n"
        "     '--central-port', '0', '--central-clients', '50', '--central-client-secret', 'zz-new-zz',\n"
        "     '--classic-client-secret', 'zz-classic-zz', '--classic-refresh-token', 'zz-refresh-zz'])\n"
    )
    child = subprocess.Popen(  # noqa: S603 - our own interpreter running a fixed snippet
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stderr is not None
        banner: list[str] = []
        while not any("GLP_CLIENT_ID" in line for line in banner):
            line = child.stderr.readline()
            assert line, f"the simulator exited early: {banner}"
            banner.append(line)
        settings = dict(
            part.split("=", 1)
            for line in banner
            for part in line.split()
            if part.startswith(("ARUBA_", "GLP_")) and "=" in part
        )
        new_base, classic_base = settings["ARUBA_BASE_URL"], settings["ARUBA_CLASSIC_BASE_URL"]
        assert new_base != settings["GLP_BASE_URL"]
        form = {"grant_type": "client_credentials", "client_id": settings["ARUBA_CLIENT_ID"],
                "client_secret": "zz-new-zz"}  # fmt: skip
        token = httpx.post(settings["ARUBA_TOKEN_URL"], data=form, timeout=10).json()["access_token"]
        devices = httpx.get(
            f"{new_base}/network-monitoring/v1/devices",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert devices.status_code == 200
        query = {"client_id": settings["ARUBA_CLASSIC_CLIENT_ID"], "client_secret": "zz-classic-zz",
                 "grant_type": "refresh_token", "refresh_token": "zz-refresh-zz"}  # fmt: skip
        assert httpx.post(f"{classic_base}/oauth2/token", params=query, timeout=10).status_code == 200
        os.kill(child.pid, signal.SIGINT)
        _, rest = child.communicate(timeout=15)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, rest
    printed = "".join(banner)
    assert "ARUBA_CLASSIC_REFRESH_TOKEN" in printed
    assert not {"zz-new-zz", "zz-classic-zz", "zz-refresh-zz"} & set(printed.split())
    assert "zz-" not in printed
    assert "Traceback" not in rest
