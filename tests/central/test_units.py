"""The generic pieces Central added to the shared machinery (shared pacing windows, page-number paging), the
log filter for secrets in URLs, and the database token store under concurrent refreshes."""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager

import httpx
import psycopg
import pytest

from glp_pipeline.central import DatabaseTokenStore, MemoryTokenStore
from glp_pipeline.central.auth import QuerySecretFilter
from glp_pipeline.greenlake.errors import IncompleteInventoryError, InvalidResponseError, PacingBudgetError
from glp_pipeline.greenlake.pacing import Pacer, SharedLimit
from glp_pipeline.greenlake.paging import PageNumberIterator

# --- shared pacing windows ------------------------------------------------------------------------------


def test_shared_limit_counts_every_endpoint(fake_clock) -> None:
    pacer = Pacer(
        {},
        default_rpm=None,
        clock=fake_clock,
        sleep=fake_clock.sleep,
        shared_limits=[SharedLimit("s", 3, 10)],
    )
    assert [pacer.acquire(k) for k in ("GET /a", "GET /b", "GET /c")] == [0.0, 0.0, 0.0]
    assert pacer.acquire("GET /d") == pytest.approx(10.0), "a fourth endpoint waits for the shared window"


def test_endpoint_budget_and_shared_limit_both_hold(fake_clock) -> None:
    pacer = Pacer(
        {"GET /a": 1},
        default_rpm=None,
        window_seconds=60,
        clock=fake_clock,
        sleep=fake_clock.sleep,
        shared_limits=[SharedLimit("s", 5, 1)],
    )
    pacer.acquire("GET /a")
    assert pacer.acquire("GET /a") == pytest.approx(60.0)
    assert pacer.acquire("GET /b") == 0.0, "no budget of its own: only the shared window"


def test_a_long_shared_wait_raises_instead_of_sleeping(fake_clock) -> None:
    day = SharedLimit("calls per day", 2, 86_400, max_wait_seconds=60)
    pacer = Pacer({}, default_rpm=None, clock=fake_clock, sleep=fake_clock.sleep, shared_limits=[day])
    pacer.acquire("GET /a")
    pacer.acquire("GET /b")
    with pytest.raises(PacingBudgetError, match="'calls per day'") as info:
        pacer.acquire("GET /a")
    assert info.value.resumes_at is not None and fake_clock.sleeps == []


def test_hold_all_holds_every_endpoint(fake_clock) -> None:
    pacer = Pacer({}, default_rpm=None, clock=fake_clock, sleep=fake_clock.sleep)
    pacer.hold_all(7)
    assert pacer.acquire("GET /anything") == pytest.approx(7.0)


# --- page-number paging ---------------------------------------------------------------------------------


def _pages(pages: dict[str, dict]):
    """A fetch over fixed page bodies keyed by `next`, recording what was asked."""
    asked: list[dict] = []

    def fetch(query: dict) -> dict:
        asked.append(dict(query))
        return pages[query["next"]]

    return fetch, asked


def _item(n: int) -> dict:
    return {"id": f"SN{n:04d}"}


def test_page_number_paging_reads_every_page_even_short_ones() -> None:
    fetch, asked = _pages(
        {
            "1": {"items": [_item(1), _item(2)], "total": 5, "next": "2"},
            "2": {"items": [_item(3)], "total": 5, "next": "3"},  # short page: not the end
            "3": {"items": [_item(4), _item(5)], "total": 5, "next": None},
        }
    )
    pages = PageNumberIterator(fetch, path="/x", page_size=2, service="Aruba Central")
    assert [i["id"] for p in pages for i in p.items] == [f"SN{n:04d}" for n in range(1, 6)]
    assert pages.result.complete and pages.result.total_verified and pages.result.pages == 3
    assert [q["next"] for q in asked] == ["1", "2", "3"] and all(q["limit"] == 2 for q in asked)


def test_a_next_that_goes_back_is_refused() -> None:
    fetch, _ = _pages(
        {
            "1": {"items": [_item(1)], "total": 9, "next": "2"},
            "2": {"items": [_item(2)], "total": 9, "next": "1"},
        }
    )
    with pytest.raises(InvalidResponseError, match="would never end"):
        list(PageNumberIterator(fetch, path="/x", page_size=1))


def test_too_few_ids_for_the_total_is_retried_then_refused() -> None:
    fetch, asked = _pages(
        {
            "1": {"items": [_item(1)], "total": 3, "next": "2"},
            "2": {"items": [_item(2)], "total": 3, "next": None},  # one item never shows up
        }
    )
    pages = PageNumberIterator(
        fetch, path="/x", page_size=1, max_reconcile_attempts=2, service="Aruba Central"
    )
    with pytest.raises(IncompleteInventoryError) as info:
        list(pages)
    assert "Aruba Central /x" in str(info.value) and "read 2 unique ids, server total 3" in str(info.value)
    assert len(asked) == 6, "three passes of two pages"


def test_an_empty_page_that_points_further_is_inconsistent() -> None:
    fetch, _ = _pages(
        {
            "1": {"items": [_item(1)], "total": 3, "next": "2"},
            "2": {"items": [], "total": 3, "next": "3"},
        }
    )
    with pytest.raises(IncompleteInventoryError, match="empty page 2"):
        list(PageNumberIterator(fetch, path="/x", page_size=1, max_reconcile_attempts=0))


def test_without_a_total_the_count_is_unverified(central, new_client) -> None:
    sim, server = central()
    sim.faults.omit_total = True
    pages = new_client(sim, server, page_size=50).list_devices()
    assert len({i["id"] for p in pages for i in p.items}) == len(sim.devices())
    assert pages.result.complete and not pages.result.total_verified


# --- secrets in URLs --------------------------------------------------------------------------------


def test_query_secret_filter_masks_secrets_in_logged_urls() -> None:
    url = httpx.URL("https://gw/oauth2/token?client_id=app&client_secret=s3cret&refresh_token=r3fresh&x=1")
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "HTTP Request: %s %s", ("POST", url), None)
    QuerySecretFilter().filter(record)
    text = record.getMessage()
    assert "s3cret" not in text and "r3fresh" not in text
    assert "client_id=app" in text and "x=1" in text


# --- the database token store -------------------------------------------------------------------------


def test_concurrent_refreshes_spend_the_refresh_token_once(central, classic_client, database_url) -> None:
    sim, server = central()
    app = sim.config.classic_client_id
    store = DatabaseTokenStore(database_url, base_url=server.base_url, client_id=app)
    clients = [classic_client(sim, server, store=store) for _ in range(4)]
    errors: list[BaseException] = []

    def run(client) -> None:
        try:
            client.tokens.get_token()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    refreshes = [r for r in sim.request_log if r.path == "/oauth2/token"]
    assert len(refreshes) == 1, "one client refreshed, the others took the stored pair"
    with psycopg.connect(database_url) as conn:
        assert conn.execute("select rotations from glp.central_tokens").fetchone()[0] == 1


class _FailingStore:
    """A store whose write fails after the refresh (the database went away mid-rotation)."""

    def __init__(self) -> None:
        self.inner = MemoryTokenStore()

    @contextmanager
    def exclusive(self):
        with self.inner.exclusive() as slot:
            yield slot
            raise RuntimeError("database gone")


def test_an_unstored_rotation_is_logged_without_the_token(central, classic_client, caplog) -> None:
    sim, server = central()
    client = classic_client(sim, server, store=_FailingStore())
    with caplog.at_level(logging.ERROR), pytest.raises(RuntimeError, match="database gone"):
        client.tokens.get_token()
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("could not be stored" in m and "ARUBA_CLASSIC_REFRESH_TOKEN" in m for m in messages)
    assert client.tokens.last_rotation is not None
    assert not any(client.tokens.last_rotation.refresh_token in m for m in messages)
