"""The GreenLake Platform HTTP client of GLP Sync: auth, pacing, retries, circuit breaker, complete paging.

    from glp_pipeline.greenlake import GreenLakeClient, ClientConfig
    with GreenLakeClient.from_settings(get_settings()) as client:
        pages = client.list_devices()
        for page in pages:
            ...                      # merge page.items on id
        pages.result.ids             # the unique ids of one consistent pass

Errors live in `glp_pipeline.greenlake.errors`.
"""

from glp_pipeline.greenlake.client import GreenLakeClient
from glp_pipeline.greenlake.config import DEVICES_PATH, SUBSCRIPTIONS_PATH, ClientConfig
from glp_pipeline.greenlake.paging import Page, PageIterator, PagingResult
from glp_pipeline.greenlake.stats import ClientStats

__all__ = [
    "DEVICES_PATH",
    "SUBSCRIPTIONS_PATH",
    "ClientConfig",
    "ClientStats",
    "GreenLakeClient",
    "Page",
    "PageIterator",
    "PagingResult",
]
