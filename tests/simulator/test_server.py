"""Starting and stopping the simulator, in a thread and in the foreground (`run_forever`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest

from glp_pipeline.simulator import GreenLakeSimulator, SimulatorConfig
from glp_pipeline.simulator.config import workspace_id_for_seed


def test_port_zero_picks_free_ports_and_urls_follow() -> None:
    first, second = (
        GreenLakeSimulator(SimulatorConfig(devices=5, subscriptions=2)),
        GreenLakeSimulator(SimulatorConfig(devices=5, subscriptions=2)),
    )
    with first.serve() as a, second.serve() as b:
        assert a.port != b.port
        assert a.base_url == f"http://127.0.0.1:{a.port}"
        assert a.token_url == f"{a.base_url}/as/token.oauth2"
        assert (
            a.workspace_token_url == f"{a.base_url}/authorization/v2/oauth2/{first.config.workspace_id}/token"
        )
        assert httpx.get(f"{b.base_url}/devices/v1/devices").status_code == 401


def test_start_and_stop_without_a_context_manager() -> None:
    sim = GreenLakeSimulator(SimulatorConfig(devices=5, subscriptions=2))
    server = sim.start()
    assert httpx.get(f"{server.base_url}/devices/v1/devices").status_code == 401
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.base_url}/devices/v1/devices", timeout=2)


def test_config_defaults_and_documentation() -> None:
    config = SimulatorConfig()
    assert (config.devices, config.subscriptions, config.seed) == (1000, 200, 42)
    assert (config.devices_max_limit, config.subscriptions_max_limit, config.token_ttl_seconds) == (
        2000,
        50,
        900,
    )
    assert config.workspace_id == workspace_id_for_seed(42)
    assert len(config.workspace_id) == 32
    int(config.workspace_id, 16)
    assert SimulatorConfig(seed=1).workspace_id != config.workspace_id
    assert config.now.hour == 0 and config.now.tzinfo is not None
    undocumented = [name for name, field in SimulatorConfig.model_fields.items() if not field.description]
    assert undocumented == []
    with pytest.raises(ValueError, match="workspace_id"):
        SimulatorConfig(workspace_id="12345678-1234-1234-1234-123456789012")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery to a child differs on Windows")
def test_run_forever_serves_until_ctrl_c() -> None:
    code = (
        "from glp_pipeline.simulator import SimulatorConfig, run_forever\n"
        "config = SimulatorConfig(devices=20, subscriptions=5, client_secret='zz-secret-zz')\n"
        "run_forever(config, '127.0.0.1', 0)\n"
    )
    child = subprocess.Popen(  # noqa: S603 - our own interpreter running a fixed snippet
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stderr is not None
        banner = []
        while not any("GLP_CLIENT_ID" in line for line in banner):
            line = child.stderr.readline()
            assert line, f"the simulator exited early: {banner}"
            banner.append(line)
        base_url = next(line.split("=", 1)[1].strip() for line in banner if "GLP_BASE_URL=" in line)
        assert not base_url.endswith(":0")
        form = {
            "grant_type": "client_credentials",
            "client_id": "glp-sim-client",
            "client_secret": "zz-secret-zz",
        }
        token = httpx.post(f"{base_url}/as/token.oauth2", data=form, timeout=10)
        assert token.status_code == 200
        os.kill(child.pid, signal.SIGINT)
        _, rest = child.communicate(timeout=15)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, rest
    assert "zz-secret-zz" not in "".join(banner)  # the secret is never printed
    assert "Traceback" not in rest
