"""End to end: the Overview page that `glp demo` serves, rendered by Debian's chromium through Playwright.

The browser is /usr/bin/chromium (`apt-get install chromium`; `.ci/run` installs it): Playwright's own browser
download needs the internet. The screenshot goes to `GLP_TEST_ARTEFACTS` (default `<repo>/test-artefacts/`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # without these chromium keeps calling home, on a network that may be closed
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Read at import: every test runs with the GLP_* variables removed (conftest's _isolated_environment).
ARTEFACTS = Path(
    os.environ.get("GLP_TEST_ARTEFACTS") or Path(__file__).resolve().parents[2] / "test-artefacts"
).absolute()
RENDER_TIMEOUT_MS = 60_000


def _number(shown: str) -> int:
    """A metric as Streamlit shows it ("1,234"), as an int."""
    digits = re.sub(r"[,\s\u202f]", "", shown)
    assert digits.isdigit(), f"not a count: {shown!r}"
    return int(digits)


def _expected(url: str) -> dict:
    """The Overview's KPIs, straight from the marts the demo built."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        devices = conn.execute("select count(*) as n from marts.devices where not is_removed").fetchone()
        statuses = conn.execute(
            "select subscription_status as status, count(*) as n from marts.subscriptions"
            " where not is_removed group by 1"
        ).fetchall()
        seats = conn.execute(
            "select sum(used_quantity) as used, sum(quantity) as total from marts.subscriptions"
            " where not is_removed and subscription_status = 'STARTED'"
        ).fetchone()
    assert devices is not None and seats is not None
    return {
        "devices": devices["n"],
        "by_status": {r["status"]: r["n"] for r in statuses},
        "utilisation": f"{100.0 * int(seats['used']) / int(seats['total']):.1f} %" if seats["total"] else "—",
    }


def _require_chromium() -> None:
    """Checked before the shared demo starts: without the browser there is nothing to wait for."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: this test drives Debian's chromium. Install it with "
            "`apt-get install -y chromium` (as root), or run `.ci/run`, which installs it.",
            pytrace=False,
        )


@contextmanager
def _dashboard_page(port: int, path: str, screenshot: str, height: int) -> Iterator[Any]:
    """A page of the served dashboard in headless chromium, after Streamlit has run its script; its
    full-page screenshot is saved as a test artefact however the test ends."""
    from playwright.sync_api import sync_playwright

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": height})
            page.set_default_timeout(RENDER_TIMEOUT_MS)
            try:
                page.goto(f"http://127.0.0.1:{port}{path}")
                yield page
            finally:
                page.screenshot(path=str(ARTEFACTS / screenshot), full_page=True)
                print(f"screenshot: {ARTEFACTS / screenshot}")
        finally:
            browser.close()


def _script_done(page: Any) -> None:
    """Streamlit renders over its websocket: wait for the page's script to have run to its end."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()


@pytest.mark.timeout(360)  # may include starting the shared demo (up to 240 s)
def test_overview_in_headless_chromium_shows_the_kpis_of_the_database(demo_launcher):
    _require_chromium()
    served_demo = demo_launcher.running()
    expected = _expected(served_demo.glp("db", "url").stdout.strip())
    assert expected["devices"] > 0 and expected["by_status"], "the demo loaded devices and subscriptions"

    with _dashboard_page(served_demo.dashboard_port, "/", "overview.png", 1800) as page:
        page.locator('[data-testid="stMetricValue"], [data-testid="stException"]').first.wait_for()
        _script_done(page)
        exceptions = page.get_by_test_id("stException").all_inner_texts()
        title = page.get_by_role("heading", level=1).first.inner_text()
        metrics = {
            metric.get_by_test_id("stMetricLabel").inner_text().strip(): (
                metric.get_by_test_id("stMetricValue").inner_text().strip()
            )
            for metric in page.get_by_test_id("stMetric").all()
        }
        if not exceptions:  # for the screenshot: the charts draw after the script has run
            page.get_by_test_id("stVegaLiteChart").first.wait_for()

    assert not exceptions, exceptions
    assert title.strip() == "Overview"
    assert _number(metrics["Devices"]) == expected["devices"], metrics
    for status, count in expected["by_status"].items():
        assert _number(metrics[status]) == count, (status, metrics)
    assert metrics["Licence utilisation"] == expected["utilisation"], metrics


@pytest.mark.timeout(360)
def test_bulk_assignment_page_is_served_ready_for_an_upload(demo_launcher):
    """In the demo the dashboard has the simulator's credentials: it offers the template and an upload."""
    _require_chromium()
    served_demo = demo_launcher.running()
    with _dashboard_page(served_demo.dashboard_port, "/assign", "bulk-assignment.png", 1200) as page:
        page.get_by_role("heading", name="Bulk assignment").wait_for()
        _script_done(page)
        exceptions = page.get_by_test_id("stException").all_inner_texts()
        errors = page.get_by_test_id("stAlertContentError").all_inner_texts()
        downloads = page.get_by_test_id("stDownloadButton").all_inner_texts()
        uploaders = page.get_by_test_id("stFileUploader").count()
    assert not exceptions and not errors, (exceptions, errors)
    assert any("Template (.xlsx)" in d for d in downloads), downloads
    assert uploaders == 1
