"""dlt source `greenlake`: devices and subscriptions, raw, into `greenlake_raw`.

Plain dlt, runnable without Dagster (Dagster wraps it later). Design choices:

- Built on the one GreenLake client, which pages completely (until `offset >= total`, reconciling when the
  inventory changes under it) and raises rather than hand over a partial inventory.
- `max_table_nesting=0`: nested objects (`application`, `location`, `warranty`, `tags`, the `subscription`
  reference list, ...) land as `jsonb` columns. Free-form `tags` therefore never become one column per key,
  and every documented field stays rebuildable by dbt. Top-level fields are declared so that a field that
  happens to be null in every row of a load still has its column. Raw stays raw: the API's timestamps and
  its string quantities are kept as the exact strings it sent (dbt's staging casts them), so an odd value
  is data, not a load error; only our own `_glp_synced_at` is a `timestamptz`.
- Pages are spooled to a temporary file and handed to dlt only once the client has completed a consistent
  pass, so a re-read (the inventory changed under the paging) never loads rows from an abandoned pass.
  Memory stays flat however big the workspace is.
- `merge` on `id` (delete-insert), `updatedAt` desc as the dedup sort.
- Every row carries `_glp_synced_at`, the start of the run that saw it. A full run sees every live object,
  so an object whose `_glp_synced_at` is older than the last successful full run is gone from GreenLake:
  that is how removals are recorded without deleting anything from raw.
- Incremental runs ask the API for `updatedAt ge (cursor - lag)` sorted by `updatedAt`. The cursor lives in
  dlt's resource state, which is committed with the load, so a failed run never moves it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import dlt
import orjson
from dlt.common.schema.typing import TColumnSchema

from glp_pipeline.greenlake.fields import DEVICE_FIELDS, SUBSCRIPTION_FIELDS

if TYPE_CHECKING:
    from glp_pipeline.greenlake import GreenLakeClient, Page, PagingResult

SyncMode = Literal["full", "incremental"]
RESOURCES = ("devices", "subscriptions")
RAW_DATASET = "greenlake_raw"
SYNCED_AT_COLUMN = "_glp_synced_at"

PageCallback = Callable[[str, "Page"], None]
DoneCallback = Callable[[str, "PagingResult"], None]


# Raw stays raw: strings and timestamps as the exact text the API sent, booleans as booleans, objects and
# lists as jsonb. Only our own sync stamp is typed.
_RAW_TYPES = {"string": "text", "timestamp": "text", "boolean": "bool", "object": "json", "array": "json"}


def _columns(fields: dict[str, str]) -> dict[str, TColumnSchema]:
    columns: dict[str, TColumnSchema] = {
        name: {"data_type": _RAW_TYPES[kind], "nullable": True} for name, kind in fields.items()
    }
    columns["id"] = {"data_type": "text", "nullable": False, "primary_key": True}
    columns["updatedAt"]["dedup_sort"] = "desc"
    columns[SYNCED_AT_COLUMN] = {"data_type": "timestamp", "nullable": True}
    return columns


DEVICE_COLUMNS = _columns(DEVICE_FIELDS)
SUBSCRIPTION_COLUMNS = _columns(SUBSCRIPTION_FIELDS)


def iso_utc(moment: datetime) -> str:
    """GreenLake's timestamp format: RFC 3339, milliseconds, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_api_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _incremental_filter(cursor: str | None, lag_seconds: int) -> str | None:
    start = parse_api_time(cursor)
    if start is None:
        return None
    return f"updatedAt ge '{iso_utc(start - timedelta(seconds=lag_seconds))}'"


class PageSpool:
    """A temporary file holding the pages of the current paging pass.

    The client may start a pass again when the inventory changes under it; only the last, consistent pass
    may reach dlt, or an object removed mid-sync would be loaded as if it had just been seen. Pages are
    spooled to disk (one JSON object per line, so memory stays flat) and handed to dlt once the pass is
    complete.
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.pass_number = 0
        self.count = 0

    def write(self, page: Page) -> None:
        if page.reconcile_attempt != self.pass_number:
            self._file.seek(0)
            self._file.truncate()
            self.pass_number = page.reconcile_attempt
            self.count = 0
        self._file.writelines(orjson.dumps(item) + b"\n" for item in page.items)
        self.count += len(page.items)

    def batches(self, size: int = 2000) -> Iterator[list[dict[str, Any]]]:
        self._file.flush()
        self._file.seek(0)
        batch: list[dict[str, Any]] = []
        for line in self._file:
            batch.append(orjson.loads(line))
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def close(self) -> None:
        self._file.close()


def _read(
    client: GreenLakeClient,
    resource: str,
    mode: SyncMode,
    synced_at: datetime,
    lag_seconds: int,
    on_page: PageCallback | None,
    on_done: DoneCallback | None,
) -> Iterator[list[dict[str, Any]]]:
    state = dlt.current.resource_state()
    cursor: str | None = state.get("updated_at_cursor")
    api_filter = _incremental_filter(cursor, lag_seconds) if mode == "incremental" else None
    sort = "updatedAt asc" if api_filter else None
    lister = client.list_devices if resource == "devices" else client.list_subscriptions
    spool = PageSpool()
    try:
        pages = lister(filter=api_filter, sort=sort)
        for page in pages:
            spool.write(page)
            if on_page is not None:
                on_page(resource, page)
        if on_done is not None:
            on_done(resource, pages.result)
        stamp = synced_at
        newest = parse_api_time(cursor)
        seen: set[str] = set()
        for batch in spool.batches():
            rows = []
            for item in batch:
                if item["id"] in seen:  # a server may repeat an item across pages of one pass
                    continue
                seen.add(item["id"])
                item[SYNCED_AT_COLUMN] = stamp
                updated = parse_api_time(item.get("updatedAt"))
                if updated is not None and (newest is None or updated > newest):
                    newest = updated
                rows.append(item)
            yield rows
    finally:
        spool.close()
    if newest is not None:
        state["updated_at_cursor"] = iso_utc(newest)


@dlt.source(name="greenlake", max_table_nesting=0)
def greenlake_source(
    client: GreenLakeClient,
    resources: tuple[str, ...] = RESOURCES,
    mode: SyncMode = "full",
    synced_at: datetime | None = None,
    incremental_lag_seconds: int = 300,
    on_page: PageCallback | None = None,
    on_done: DoneCallback | None = None,
) -> list:
    """GreenLake devices and subscriptions as dlt resources (merge on `id`)."""
    stamp = synced_at or datetime.now(UTC)
    unknown = set(resources) - set(RESOURCES)
    if unknown:
        raise ValueError(f"Unknown GreenLake resources: {sorted(unknown)}; choose from {RESOURCES}")
    built = []
    for name, columns in (("devices", DEVICE_COLUMNS), ("subscriptions", SUBSCRIPTION_COLUMNS)):
        if name not in resources:
            continue
        built.append(
            dlt.resource(
                _read(client, name, mode, stamp, incremental_lag_seconds, on_page, on_done),
                name=name,
                write_disposition={"disposition": "merge", "strategy": "delete-insert"},
                primary_key="id",
                columns=columns,
            )
        )
    return built
