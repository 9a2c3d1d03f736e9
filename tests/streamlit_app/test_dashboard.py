"""The Streamlit dashboard, through AppTest, on a real PostgreSQL built from a simulator sync."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from glp_pipeline import queries as q
from glp_pipeline.settings import get_settings

APP = Path(__file__).resolve().parents[2] / "streamlit_app" / "app.py"


@pytest.fixture(scope="module")
def db(synced_database):
    """One full sync and build of a small simulated workspace."""
    synced = synced_database(devices=150, subscriptions=40, seed=5)
    return SimpleNamespace(
        url=synced.url, sim=synced.sim, config=q.QueryConfig.from_settings(synced.settings)
    )


def _use(monkeypatch, tmp_path, url: str | None) -> None:
    if url is not None:
        monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("GLP_HOME", str(tmp_path / "glp-home"))
    get_settings.cache_clear()
    st.cache_data.clear()


@pytest.fixture
def app(db, monkeypatch, tmp_path):
    _use(monkeypatch, tmp_path, db.url)
    return AppTest.from_file(str(APP), default_timeout=30)


def _open(at: AppTest, page: str) -> AppTest:
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _caption_total(at: AppTest) -> int:
    text = next(c.value for c in at.caption if c.value.startswith("Page "))
    return int(text.rsplit("·", 1)[1].split()[0].replace(",", ""))


# --- overview ----------------------------------------------------------------------------------------------


def test_overview_shows_the_query_layer_numbers(app, db):
    app.run()
    assert not app.exception
    assert not app.error
    ov = q.overview(db.url, db.config)
    metrics = _metrics(app)
    assert metrics["Devices"] == str(ov.devices.total) == str(len(db.sim.devices()))
    assert metrics["Assigned"] == str(ov.devices.assigned)
    assert metrics["Unassigned"] == str(ov.devices.unassigned)
    assert metrics["Archived"] == str(ov.devices.archived)
    assert metrics["Removed (7 days)"] == "0"
    for status, count in ov.subscriptions_by_status.items():
        assert metrics[status] == str(count)
    for days in (30, 60, 90):
        assert metrics[f"Expiring in {days} days"] == str(ov.expiring[days])
    assert metrics["Licence utilisation"] == f"{ov.utilization.pct:.1f} %"
    assert not app.warning  # just synced: fresh


def test_overview_warns_when_stale(app, monkeypatch):
    monkeypatch.setenv("GLP_FRESHNESS_HOURS", "0.000001")
    get_settings.cache_clear()
    app.run()
    assert not app.exception
    assert len(app.warning) == 2
    assert all("stale" in w.value for w in app.warning)


# --- devices -----------------------------------------------------------------------------------------------


def test_device_search_by_serial_and_detail(app, db):
    device = db.sim.devices()[7]
    at = _open(app, "pages/devices.py")
    at.text_input(key="dev_text").input(device["serialNumber"]).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["serial_number"].iloc[0] == device["serialNumber"]

    at.selectbox(key="dev_pick").set_value(device["id"]).run()
    assert not at.exception
    assert at.json[0].value  # the raw JSON of the device
    assert device["serialNumber"] in at.json[0].value
    assert [t.label for t in at.tabs] == ["Subscriptions", "Tags", "Assignment history", "Raw JSON"]


def test_device_filter_narrows_the_rows(app, db):
    at = _open(app, "pages/devices.py")
    everything = _caption_total(at)
    kind = sorted({d["deviceType"] for d in db.sim.devices()})[0]
    at.selectbox(key="dev_type").set_value(kind).run()
    assert not at.exception
    narrowed = _caption_total(at)
    assert narrowed == sum(1 for d in db.sim.devices() if d["deviceType"] == kind) < everything
    assert set(at.dataframe[0].value["device_type"]) == {kind}


def test_device_paging_shows_the_next_rows(app, db):
    at = _open(app, "pages/devices.py")
    at.selectbox(key="dev_page_size").set_value(25).run()
    first = list(at.dataframe[0].value["device_id"])
    at.number_input(key="dev_page").set_value(2).run()
    assert not at.exception
    second = list(at.dataframe[0].value["device_id"])
    expected = q.search_devices(db.url, page=2, page_size=25, config=db.config).items
    assert second == [d["device_id"] for d in expected]
    assert len(second) == 25
    assert not set(first) & set(second)


# --- subscriptions and sync --------------------------------------------------------------------------------


def test_subscription_filter_and_devices(app, db):
    at = _open(app, "pages/subscriptions.py")
    status = "STARTED"
    at.selectbox(key="sub_status").set_value(status).run()
    assert not at.exception
    expected = [s for s in db.sim.subscriptions() if s["subscriptionStatus"] == status]
    assert _caption_total(at) == len(expected)
    assert set(at.dataframe[0].value["subscription_status"]) == {status}

    rows = q.search_subscriptions(db.url, status=status, page_size=50, config=db.config).items
    linked = next(r for r in rows if r["linked_devices"])
    at.selectbox(key="sub_pick").set_value(linked["subscription_id"]).run()
    assert not at.exception
    assert len(at.dataframe[1].value) == linked["linked_devices"]


def test_sync_page_lists_runs(app, db):
    at = _open(app, "pages/sync.py")
    runs = q.sync_status(db.url, 20, db.config)
    assert len(at.dataframe[0].value) == len(runs) >= 2
    assert set(at.dataframe[0].value["resource"]) == {"devices", "subscriptions"}
    assert _metrics(at)["Failed"] == "0"


# --- no data, no database ----------------------------------------------------------------------------------


@pytest.mark.parametrize("page", [None, "pages/devices.py", "pages/subscriptions.py", "pages/sync.py"])
def test_empty_database_says_run_glp_demo(database_url, monkeypatch, tmp_path, page):
    _use(monkeypatch, tmp_path, database_url)
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    if page:
        at.switch_page(page).run()
    assert not at.exception
    assert any("not built" in e.value for e in at.error)
    assert any("uv run glp demo" in i.value for i in at.info)


def test_embedded_database_not_running(monkeypatch, tmp_path):
    _use(monkeypatch, tmp_path, None)
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not at.exception
    assert "not running" in at.error[0].value
    assert "uv run glp demo" in at.info[0].value


# --- access control ----------------------------------------------------------------------------------------


OIDC = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test-cookie-secret",
    "client_id": "glp-dashboard",
    "client_secret": "test-client-secret",
    "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration",
}


def test_oidc_gate_shows_nothing_before_sign_in(app, db):
    app.secrets["auth"] = OIDC
    app.user = {"is_logged_in": False}
    app.run()
    assert not app.exception
    assert not app.metric and not app.dataframe
    assert [b.label for b in app.button] == ["Sign in"]
    with pytest.raises(ValueError, match=r"Could not find|not a registered"):
        app.switch_page("pages/devices.py")


def test_oidc_gate_offers_each_named_provider(app, db):
    app.secrets["auth"] = {
        "redirect_uri": OIDC["redirect_uri"],
        "cookie_secret": OIDC["cookie_secret"],
        "microsoft": {k: OIDC[k] for k in ("client_id", "client_secret", "server_metadata_url")},
        "okta": {k: OIDC[k] for k in ("client_id", "client_secret", "server_metadata_url")},
    }
    app.user = {"is_logged_in": False}
    app.run()
    assert [b.label for b in app.button] == ["Sign in with microsoft", "Sign in with okta"]
    assert not app.metric


def test_oidc_signed_in_user_sees_the_dashboard_and_who_they_are(app, db):
    app.secrets["auth"] = OIDC
    app.user = {"is_logged_in": True, "email": "admin@example.com", "name": "Admin"}
    app.run()
    assert not app.exception
    assert _metrics(app)["Devices"] == str(len(db.sim.devices()))
    assert any("admin@example.com" in c.value for c in app.sidebar.caption)
    assert "Sign out" in [b.label for b in app.sidebar.button]


def test_password_gate(app, db, monkeypatch):
    monkeypatch.setenv("GLP_DASHBOARD_PASSWORD", "s3cret")
    app.run()
    assert not app.exception
    assert not app.metric and not app.dataframe
    assert [t.label for t in app.text_input] == ["Password"]
    with pytest.raises(ValueError, match=r"Could not find|not a registered"):
        app.switch_page("pages/devices.py")

    app.text_input[0].input("wrong")
    app.button[0].click().run()
    assert not app.exception
    assert [e.value for e in app.error] == ["Wrong password."]
    assert not app.metric

    app.text_input[0].input("s3cret")
    app.button[0].click().run()
    assert not app.exception
    assert _metrics(app)["Devices"] == str(len(db.sim.devices()))


def test_a_deployment_that_requires_a_login_stays_closed_without_one(app, monkeypatch):
    monkeypatch.setenv("GLP_DASHBOARD_REQUIRE_LOGIN", "true")
    app.run()
    assert not app.exception
    assert not app.metric and not app.dataframe and not app.text_input
    assert any("requires a login" in e.value for e in app.error)

    monkeypatch.setenv("GLP_DASHBOARD_PASSWORD", "s3cret")
    get_settings.cache_clear()
    app.run()
    assert [t.label for t in app.text_input] == ["Password"] and not app.metric


def test_device_export_holds_every_filtered_row(app, db):
    at = _open(app, "pages/devices.py")
    kind = sorted({d["deviceType"] for d in db.sim.devices()})[0]
    at.selectbox(key="dev_type").set_value(kind).run()
    at.button(key="export_devices").click().run()
    assert not at.exception
    expected = sum(1 for d in db.sim.devices() if d["deviceType"] == kind)
    assert any(c.value.startswith(f"{expected} devices;") for c in at.caption)
    downloads = at.get("download_button")
    assert len(downloads) == 2


def test_overview_draws_its_charts(app, db):
    app.run()
    assert not app.exception

    def walk(node):
        for child in getattr(node, "children", {}).values() if hasattr(node, "children") else []:
            yield child
            yield from walk(child)

    types = [getattr(e, "type", None) for e in walk(app.main)]
    assert types.count("vega_lite_chart") == 3, " ".join(sorted(set(map(str, types))))


def test_device_tag_filter_narrows_the_rows(app, db):
    at = _open(app, "pages/devices.py")
    live = _caption_total(at)
    key = sorted({k for d in db.sim.devices() for k in (d["tags"] or {})})[0]
    at.selectbox(key="dev_tag_key").set_value(key).run()
    assert not at.exception
    with_tag = [d for d in db.sim.devices() if key in (d["tags"] or {})]
    assert _caption_total(at) == len(with_tag) < live
    value = with_tag[0]["tags"][key]
    at.text_input(key="dev_tag_value").input(value).run()
    assert _caption_total(at) == sum(1 for d in with_tag if d["tags"][key] == value)


def test_sync_page_links_to_the_dagster_ui_browsers_can_reach(app, monkeypatch):
    """Deployed, the dashboard launches runs on the internal webserver and links to its public address."""
    monkeypatch.setenv("GLP_DAGSTER_URL", "http://dagster-webserver:3000")
    monkeypatch.setenv("GLP_DAGSTER_PUBLIC_URL", "https://dagster.example.com")
    get_settings.cache_clear()
    at = _open(app, "pages/sync.py")
    text = " ".join([m.value for m in at.markdown] + [c.value for c in at.caption])
    assert "https://dagster.example.com" in text and "dagster-webserver" not in text
