"""Benchmark: full and incremental syncs from the (unpaced) simulator into a fresh PostgreSQL.

    uv run python benchmarks/sync_benchmark.py          # 10k+5k and 100k+50k
    uv run python benchmarks/sync_benchmark.py --scale 100000:50000 --subscriptions-page-size 200

After each sync it runs `dbt build` (unless --no-dbt) and prints its time and the whole pipeline's.
Each scale runs a full sync into empty tables, an incremental sync after 1 % of the objects changed, and
a full sync again (the daily full run: every row merged over existing ones). Prints, per run and per dlt
stage (extract = HTTP paging and parsing, normalize, load): wall time, rows/s and the peak RSS of this
process (the simulator runs in a separate process and is not counted). The database is a fresh embedded
PostgreSQL in a temporary directory, or TEST_DATABASE_URL's server.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
from pydantic import SecretStr

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")

from glp_pipeline.database import EmbeddedPostgres
from glp_pipeline.greenlake import GreenLakeClient
from glp_pipeline.settings import Settings
from glp_pipeline.sync import run_sync
from glp_pipeline.transform import build

HERE = Path(__file__).parent


class RssSampler:
    """Samples this process's RSS (with its children, such as dlt's normalize workers, but not the
    simulator's process) every 20 ms, so peaks can be cut per stage."""

    def __init__(self, exclude_pid: int) -> None:
        self.exclude_pid = exclude_pid
        self.samples: list[tuple[datetime, int]] = []
        self._stop = threading.Event()
        self._proc = psutil.Process()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        total = self._proc.memory_info().rss
        for child in self._proc.children(recursive=True):
            if child.pid == self.exclude_pid:
                continue
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((datetime.now(UTC), self._rss()))
            time.sleep(0.02)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: datetime, end: datetime) -> int:
        window = [rss for at, rss in self.samples if start <= at <= end]
        return max(window) if window else 0


class SimulatorProcess:
    def __init__(self, devices: int, subscriptions: int, subscriptions_max_limit: int) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - our own script
            [
                sys.executable,
                str(HERE / "simulator_process.py"),
                "--devices",
                str(devices),
                "--subscriptions",
                str(subscriptions),
                "--subscriptions-max-limit",
                str(subscriptions_max_limit),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        words = self.proc.stdout.readline().split()
        if not words or words[0] != "READY":
            raise RuntimeError("the simulator did not start")
        self.base_url, self.token_url, self.client_id, self.client_secret = words[1:5]

    def mutate(self, resource: str, update: int) -> None:
        self.proc.stdin.write(f"mutate {resource} {update} 0 0\n")
        self.proc.stdin.flush()
        self.proc.stdout.readline()

    def rss(self) -> int:
        return psutil.Process(self.proc.pid).memory_info().rss

    def close(self) -> None:
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout=30)


def simulator_settings(
    sim: SimulatorProcess, home: Path, url: str | None = None, **extra: object
) -> Settings:
    """Settings for a client of the simulator process (unpaced: the benchmarks measure our side)."""
    return Settings(
        _env_file=None,
        glp_home=home,
        glp_base_url=sim.base_url,
        glp_token_url=sim.token_url,
        glp_client_id=sim.client_id,
        glp_client_secret=SecretStr(sim.client_secret),
        glp_pacing=False,
        database_url=SecretStr(url) if url else None,
        **extra,  # type: ignore[arg-type]
    )


def load_workspace(tmp: Path, devices: int, subscriptions: int) -> tuple[EmbeddedPostgres, str, Settings]:
    """An embedded PostgreSQL in `tmp`, loaded from a simulator process by a full sync and `dbt build` (not
    what the dashboard and assignment benchmarks time). The caller stops the returned server."""
    embedded = EmbeddedPostgres(tmp / "pg")
    url = embedded.start()
    sim = SimulatorProcess(devices, subscriptions, 50)
    try:
        settings = simulator_settings(sim, tmp / "home", url)
        with GreenLakeClient.from_settings(settings) as client:
            run_sync(settings, client, mode="full", url=url)
        build(settings, url=url)
    finally:
        sim.close()
    return embedded, url, settings


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f}"


def run_scenario(
    devices: int, subscriptions: int, page_size: int, change: float, url: str, home: Path, with_dbt: bool
) -> list:
    rows = []
    sim = SimulatorProcess(devices, subscriptions, max(page_size, 50))
    try:
        settings = simulator_settings(
            sim, home, url, glp_subscriptions_page_size=page_size, glp_incremental_lag_seconds=0
        )
        label = f"{devices:,}+{subscriptions:,}"
        for step in ("full", "incremental", "full again"):
            mode = step.split()[0]
            if mode == "incremental":
                sim.mutate("devices", int(devices * change))
                sim.mutate("subscriptions", int(subscriptions * change))
            with RssSampler(sim.proc.pid) as rss, GreenLakeClient.from_settings(settings) as client:
                t0 = datetime.now(UTC)
                report = run_sync(settings, client, mode=mode, url=url)
                t1 = datetime.now(UTC)
                if with_dbt:
                    build(settings, url=url)
                t2 = datetime.now(UTC)
            fetched = sum(c.fetched for c in report.counts.values())
            total_s = (t1 - t0).total_seconds()
            name = f"{label} {step}" + (f" ({change:.0%} changed)" if mode == "incremental" else "")
            rows.append((name, "sync", total_s, fetched / total_s, rss.peak(t0, t1), fetched))
            for stage, (s, e) in report.stages.items():
                if stage == "run":
                    continue
                seconds = (e - s).total_seconds()
                rows.append(
                    (name, stage, seconds, fetched / seconds if seconds else 0, rss.peak(s, e), fetched)
                )
            if with_dbt:
                rows.append((name, "dbt build", (t2 - t1).total_seconds(), 0.0, rss.peak(t1, t2), 0))
                rows.append((name, "pipeline", (t2 - t0).total_seconds(), 0.0, rss.peak(t0, t2), fetched))
        rows.append((f"{label} simulator process", "rss", 0.0, 0.0, sim.rss(), 0))
    finally:
        sim.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", action="append", help="DEVICES:SUBSCRIPTIONS (repeatable)")
    parser.add_argument("--subscriptions-page-size", type=int, default=50)
    parser.add_argument(
        "--change", type=float, default=0.01, help="share of objects changed for the incremental"
    )
    parser.add_argument("--no-dbt", action="store_true", help="sync only: no `dbt build` after each sync")
    args = parser.parse_args()
    scales = [tuple(map(int, s.split(":"))) for s in (args.scale or ["10000:5000", "100000:50000"])]

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}"
    )
    print(f"subscriptions page size: {args.subscriptions_page_size}")
    all_rows = []
    with tempfile.TemporaryDirectory(prefix="glp-bench-") as tmp:
        for devices, subscriptions in scales:
            home = Path(tmp) / f"home-{devices}"
            external = os.environ.get("TEST_DATABASE_URL")
            embedded = None
            if external:
                url = external
            else:
                embedded = EmbeddedPostgres(Path(tmp) / f"pg-{devices}")
                url = embedded.start()
            try:
                all_rows += run_scenario(
                    devices,
                    subscriptions,
                    args.subscriptions_page_size,
                    args.change,
                    url,
                    home,
                    not args.no_dbt,
                )
            finally:
                if embedded is not None:
                    embedded.stop()

    print(f"\n{'run':<40} {'stage':<10} {'wall s':>8} {'rows/s':>10} {'peak RSS MB':>12}")
    for name, stage, seconds, rate, peak, _ in all_rows:
        shown_rate = f"{rate:>10,.0f}" if rate else f"{'':>10}"
        print(f"{name:<40} {stage:<10} {seconds:>8.1f} {shown_rate} {_mb(peak):>12}")


if __name__ == "__main__":
    main()
