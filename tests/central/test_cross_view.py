"""The GreenLake ↔ Central cross view end to end, in both Central modes: the GreenLake simulator and the
Central simulator (same seed, so their serials overlap) → syncs → the real `dbt build` → the query layer and
the MCP tools, checked against the simulators' ground truth."""

from __future__ import annotations

import os
from collections import Counter

import pytest
from mcp import Client
from pydantic import SecretStr

from glp_pipeline.central import central_client
from glp_pipeline.central.sync import run_central_sync
from glp_pipeline.greenlake import GreenLakeClient
from glp_pipeline.queries import central as q
from glp_pipeline.settings import get_settings
from glp_pipeline.simulator import GreenLakeSimulator, SimulatorConfig
from glp_pipeline.sync import run_sync
from glp_pipeline.transform import build
from mcp_server.server import build_server

from .conftest import aruba_settings

SCALE = {"seed": 7, "glp_devices": 300, "glp_subscriptions": 60, "central_only_devices": 20, "clients": 1500}
ALL_CLIENT_STATUSES = "status in ('Connected', 'Failed', 'Connecting', 'Disconnected', 'Blocked')"


@pytest.fixture(params=["new", "classic"])
def loaded(request, central, database_url, tmp_path):
    """Both platforms synced into one database and built, in one Central mode."""
    mode = request.param
    sim, server = central(**SCALE)
    glp = GreenLakeSimulator(
        SimulatorConfig(
            seed=SCALE["seed"],
            devices=SCALE["glp_devices"],
            subscriptions=SCALE["glp_subscriptions"],
            now=sim.config.now,
            rate_limits=False,
        )
    )
    glp_server = glp.start("127.0.0.1", 0)
    extra = {"aruba_clients_filter": ALL_CLIENT_STATUSES} if mode == "new" else {}
    settings = aruba_settings(
        tmp_path / "home",
        server,
        sim,
        mode,
        database_url,
        glp_base_url=glp_server.base_url,
        glp_token_url=glp_server.token_url,
        glp_client_id=glp.config.client_id,
        glp_client_secret=SecretStr(glp.config.client_secret),
        glp_pacing=False,
        **extra,
    )
    try:
        with GreenLakeClient.from_settings(settings) as client:
            run_sync(settings, client, mode="full", url=database_url)
        with central_client(settings, url=database_url) as client:
            run_central_sync(settings, client, url=database_url)
        build(settings, url=database_url)
        yield settings, sim, glp, mode
    finally:
        glp_server.stop()


def _clients(sim, mode: str) -> list[dict]:
    return sim.clients() if mode == "new" else sim.classic_clients()


def test_the_cross_view_and_the_clients_match_both_simulators(loaded, database_url):
    _, sim, glp, mode = loaded
    truth = sim.cross_truth
    assert {d["serialNumber"].strip().upper() for d in glp.devices()} == truth.both | truth.greenlake_only

    summary = q.cross_platform_summary(database_url)
    assert summary["both_platforms"] == len(truth.both)
    assert summary["greenlake_only"] == len(truth.greenlake_only)
    assert summary["greenlake_only_network"] == len(truth.greenlake_only_network)
    assert summary["central_only"] == len(truth.central_only)
    assert summary["model_mismatches"] == len(truth.model_mismatches)
    assert summary["name_mismatches"] == len(truth.name_mismatches)

    only_central = q.cross_platform_devices(database_url, presence="central_only", page_size=500)
    assert {d["serial_number"] for d in only_central.items} == truth.central_only
    models = q.cross_platform_devices(database_url, mismatch="model", page_size=500)
    assert {d["serial_number"]: (d["greenlake_model"], d["central_model"]) for d in models.items} == {
        serial: (glp_model, central_model)
        for serial, (glp_model, central_model) in truth.model_mismatches.items()
    }

    clients = _clients(sim, mode)
    everyone = q.search_clients(database_url, page_size=500)
    assert everyone.total == len(clients)

    serial_of = "connectedDeviceSerial" if mode == "new" else "associated_device"
    per_device = Counter(c[serial_of].strip().upper() for c in clients if c.get(serial_of))
    top = q.clients_per_device(database_url, limit=1000)
    assert {r["serial_number"]: r["clients"] for r in top if r["clients"]} == dict(per_device)
    assert sum(r["clients"] for r in q.clients_per_site(database_url, 1000)) == len(clients)
    health = q.client_health(database_url)
    assert sum(r["clients"] for r in health) == len(clients)


@pytest.mark.anyio
@pytest.mark.parametrize("loaded", ["new"], indirect=True)
async def test_the_central_tools_appear_only_with_aruba(loaded, database_url, monkeypatch):
    settings, sim, _, _ = loaded
    for name, value in {
        "DATABASE_URL": database_url,
        "GLP_HOME": str(settings.glp_home),
        "ARUBA_BASE_URL": settings.aruba_base_url,
        "ARUBA_TOKEN_URL": settings.aruba_token_url,
        "ARUBA_CLIENT_ID": settings.aruba_client_id,
        "ARUBA_CLIENT_SECRET": settings.aruba_client_secret.get_secret_value(),
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    async with Client(build_server()) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        summary = (await client.call_tool("cross_platform_summary", {})).structured_content
        failed = (await client.call_tool("search_clients", {"status": "Failed"})).structured_content
    assert {"cross_platform_summary", "search_clients", "clients_per_site", "client_health"} <= names
    assert summary["central_only"] == len(sim.cross_truth.central_only)
    assert failed["total"] == sum(1 for c in _clients(sim, loaded[3]) if _failed(c, loaded[3]))

    for name in [n for n in os.environ if n.startswith("ARUBA_")]:
        monkeypatch.delenv(name)
    get_settings.cache_clear()
    async with Client(build_server()) as client:
        names = {t.name for t in (await client.list_tools()).tools}
    assert not {n for n in names if "client" in n or "cross_platform" in n}


def _failed(client: dict, mode: str) -> bool:
    if mode == "new":
        return client.get("status") == "Failed"
    return bool(client.get("failure_stage") or client.get("failure_reason"))


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.parametrize("loaded", ["new"], indirect=True)
def test_the_dashboard_shows_clients_and_the_cross_view_only_with_aruba(loaded, database_url, monkeypatch):
    from pathlib import Path

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    settings, sim, _, mode = loaded
    app = str(Path(__file__).resolve().parents[2] / "streamlit_app" / "app.py")
    for name, value in {
        "DATABASE_URL": database_url,
        "GLP_HOME": str(settings.glp_home),
        "ARUBA_BASE_URL": settings.aruba_base_url,
        "ARUBA_CLIENT_ID": settings.aruba_client_id,
        "ARUBA_CLIENT_SECRET": settings.aruba_client_secret.get_secret_value(),
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    st.cache_data.clear()
    at = AppTest.from_file(app, default_timeout=120).run()
    at.switch_page("pages/cross_platform.py").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Central only"] == f"{len(sim.cross_truth.central_only):,}"
    at.switch_page("pages/clients.py").run()
    assert not at.exception, at.exception
    assert any(f"{len(_clients(sim, mode)):,} clients" in c.value for c in at.caption)

    for name in [n for n in os.environ if n.startswith("ARUBA_")]:
        monkeypatch.delenv(name)
    get_settings.cache_clear()
    at = AppTest.from_file(app, default_timeout=120).run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not registered
        at.switch_page("pages/clients.py")
