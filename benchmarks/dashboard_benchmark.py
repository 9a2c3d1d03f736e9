"""Benchmark: dashboard render and query times at scale.

    uv run python benchmarks/dashboard_benchmark.py                 # 100,000 devices + 50,000 subscriptions
    uv run python benchmarks/dashboard_benchmark.py --scale 10000:5000

Loads the simulator's workspace into a fresh embedded PostgreSQL (sync + dbt build, not timed here), then
times, with a cold Streamlit cache each time: the Overview page's first render and the Devices page's first
render (Streamlit's AppTest, i.e. the server-side script run that produces the page), and the query layer's
search/filter calls that the Devices page makes when a user types or picks a filter (p50 and p95 over a set
of typical searches).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

from sync_benchmark import load_workspace

from glp_pipeline import queries as q
from glp_pipeline.settings import get_settings

APP = Path(__file__).resolve().parent.parent / "streamlit_app" / "app.py"


def _render(page: str | None) -> float:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=120)
    if page is None:
        started = time.perf_counter()
        at.run()
    else:
        at.run()
        st.cache_data.clear()
        started = time.perf_counter()
        at.switch_page(page).run()
    elapsed = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(at.exception[0].value)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="100000:50000", help="DEVICES:SUBSCRIPTIONS")
    args = parser.parse_args()
    devices, subscriptions = map(int, args.scale.split(":"))

    with tempfile.TemporaryDirectory(prefix="glp-dash-bench-") as tmp:
        embedded, url, _ = load_workspace(Path(tmp), devices, subscriptions)

        os.environ.update({"DATABASE_URL": url, "GLP_HOME": str(Path(tmp) / "home")})
        get_settings.cache_clear()
        config = q.QueryConfig.from_settings(get_settings())
        try:
            overview = [_render(None) for _ in range(3)]
            devices_page = [_render("pages/devices.py") for _ in range(3)]
            sample = q.search_devices(url, page_size=20, config=config).items
            options = q.filter_options(url, config)
            searches = [
                {"text": sample[0]["serial_number"]},
                {"text": sample[1]["serial_number"][:5]},
                {"text": (sample[2]["mac_address"] or "AA:BB")[:8].replace(":", "-")},
                {"text": "switch"},
                {"device_type": options["device_types"][0]},
                {"region": options["regions"][0]},
                {"assigned": False},
                {"tier": options["tiers"][0]},
                {"expiring_within_days": 30},
                {"device_type": options["device_types"][0], "region": options["regions"][0], "sort": "model"},
                {"tag": (options["tag_keys"][0], None)},
                {"page": 50},
            ]
            timings = []
            for _ in range(5):
                for search in searches:
                    started = time.perf_counter()
                    q.search_devices(url, config=config, **search)
                    timings.append(time.perf_counter() - started)
        finally:
            embedded.stop()

    timings.sort()
    p95 = timings[int(0.95 * (len(timings) - 1))]
    print(f"{devices:,} devices + {subscriptions:,} subscriptions")
    for label, runs in (("Overview", overview), ("Devices", devices_page)):
        print(f"  {label} first render: best {min(runs):.2f} s, median {statistics.median(runs):.2f} s")
    print(
        f"  device search / filter: p50 {statistics.median(timings) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
        f" over {len(timings)} calls"
    )


if __name__ == "__main__":
    main()
