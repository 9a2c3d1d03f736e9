"""Complete offset paging: every id of a GreenLake listing, or an error — never a silently partial inventory.

The seed code stopped on a short page, so a server that caps `limit` below what was asked truncated the
inventory, and a missing `total` ended the sync after one page (seed-review item 2). The rules here:

* ask `limit=page_size&offset=o`; advance `o` by the number of items actually returned; a short page is
  not the end. Stop when `o >= total`, using the server's `total`.
* an empty page while `o < total` is an inconsistency (the list shrank under us), not the end.
* at the end the ids must be unique and as many as `total`.
* if `total` changes between pages, ids repeat, or the count is off, the inventory changed under the paging:
  re-read from offset 0 (a *reconcile* pass; its pages are yielded again with `reconcile_attempt=k` and the
  consumer merges on id), up to `max_reconcile_attempts` times, then raise `IncompleteInventoryError`.
* consecutive reads overlap by one item (`offset - 1`): the first item of each read must be the last item of
  the read before. If it is not, items were removed or inserted before the offset between the two reads,
  which shifts the list and skips or repeats an item even when `total` stays the same (one device removed
  and one added: seed-review item 3's re-added device is exactly that). The overlap costs one item per page.
* a pass is abandoned as soon as it is known to be inconsistent, to spend as little of the rate budget as
  possible on a pass that will be thrown away.
* with no `total` from the server, page until an empty page and say `total_verified=False`.

What offset paging still cannot see: a removal and an insertion that both land before the offset between two
reads (the shifts cancel; the inserted item is missed, the removed one was read). The next sync sees it;
nothing here can, short of a stable server-side cursor. Server order must be stable between requests, as
any offset paging assumes.

Two listings share these rules beyond GreenLake: Aruba Central Classic pages by offset too (envelope key
`aps`/`switches`/..., id `serial` or `macaddr`: `items_key`, `id_key`), and New Central pages by page number
(`limit` + `next`, `PageNumberIterator`): follow the server's `next` until it is null, never stop on a short
page, and check the same way that the unique ids add up to an unchanging `total`, re-reading from page 1
when they do not. Page numbers give no overlap to verify boundaries with; the id count is the check there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from glp_pipeline.greenlake.errors import IncompleteInventoryError, InvalidResponseError, InventoryMismatch

log = logging.getLogger(__name__)

FetchPage = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Page:
    """The new items of one read (without the item that overlaps the previous read), and where they sit."""

    items: list[dict[str, Any]]
    offset: int
    total: int | None
    page_number: int  # 0-based within its pass
    reconcile_attempt: int = 0  # 0 for the first pass, k for the k-th re-read from offset 0


@dataclass(frozen=True)
class PagingResult:
    """What a finished listing proved. Only built for a pass that passed every check."""

    total: int | None  # the server's total, None when it sent none
    ids: frozenset[str] = field(repr=False)  # the unique ids of the final, consistent pass
    complete: bool  # every page up to the end was read in one consistent pass
    total_verified: bool  # the id count was checked against a server-sent total
    reconcile_attempts: int  # re-reads needed (0: the first pass was consistent)
    pages: int = 0  # page requests made, all passes together
    reasons: tuple[str, ...] = field(default=())  # why earlier passes were discarded

    @property
    def count(self) -> int:
        return len(self.ids)


class _CompletePaging(Iterator[Page]):
    """What every complete listing shares: passes re-read until one is consistent, then `.result`.

    Any error raised mid-way propagates, and then there is no result: the consumer must discard what it got.
    Subclasses read one pass (`_pass`) in their paging scheme.
    """

    _PAGING_PARAMS: tuple[str, ...] = ()

    def __init__(
        self,
        fetch: FetchPage,
        *,
        path: str,
        params: Mapping[str, Any] | None = None,
        page_size: int,
        max_reconcile_attempts: int = 3,
        on_page: Callable[[Page], None] | None = None,
        on_reconcile: Callable[[int, list[str]], None] | None = None,
        id_key: str = "id",
        items_key: str = "items",
        service: str = "GreenLake",
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be ≥ 1")
        self.path = path
        self.service = service
        self._fetch = fetch
        self._params = {
            k: v for k, v in (params or {}).items() if v is not None and k not in self._PAGING_PARAMS
        }
        self._page_size = page_size
        self._max_reconcile = max_reconcile_attempts
        self._on_page = on_page
        self._on_reconcile = on_reconcile
        self._id_key = id_key
        self._items_key = items_key
        self._requests = 0
        self._result: PagingResult | None = None
        self._generator = self._run()

    def __iter__(self) -> _CompletePaging:
        return self

    def __next__(self) -> Page:
        return next(self._generator)

    @property
    def result(self) -> PagingResult:
        """The outcome; raises RuntimeError until the iterator has been exhausted without an error."""
        if self._result is None:
            raise RuntimeError(f"paging of {self.path} has not finished; iterate it to the end first")
        return self._result

    @property
    def finished(self) -> bool:
        return self._result is not None

    def _run(self) -> Iterator[Page]:
        discarded: list[str] = []
        mismatch: InventoryMismatch | None = None
        for attempt in range(self._max_reconcile + 1):
            if attempt:
                assert mismatch is not None
                log.warning(
                    "%s %s changed while it was paged (%s); re-reading from the start (pass %d of %d)",
                    self.service,
                    self.path,
                    "; ".join(mismatch.reasons),
                    attempt + 1,
                    self._max_reconcile + 1,
                )
                if self._on_reconcile is not None:
                    self._on_reconcile(attempt, list(mismatch.reasons))
            ids, mismatch = yield from self._pass(attempt)
            if not mismatch.reasons:
                self._result = PagingResult(
                    total=mismatch.last_total,
                    ids=frozenset(ids),
                    complete=True,
                    total_verified=mismatch.last_total is not None,
                    reconcile_attempts=attempt,
                    pages=self._requests,
                    reasons=tuple(discarded),
                )
                if mismatch.last_total is None:
                    log.warning(
                        "%s %s sent no total; read %d ids to the end of the list (count not verified)",
                        self.service,
                        self.path,
                        len(ids),
                    )
                return
            discarded.extend(mismatch.reasons)
        assert mismatch is not None
        raise IncompleteInventoryError(
            self.path, passes=self._max_reconcile + 1, mismatch=mismatch, service=self.service
        )

    def _pass(self, attempt: int) -> Generator[Page, None, tuple[set[str], InventoryMismatch]]:
        """One read from the start to the end; returns the ids and what, if anything, was inconsistent."""
        raise NotImplementedError
        yield  # pragma: no cover - makes this a generator

    def _read_envelope(self, body: Any, where: str) -> tuple[list[dict[str, Any]], int | None]:
        items = body.get(self._items_key) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise InvalidResponseError(
                f"{self.service} {self.path} {where} returned a body without an `{self._items_key}` list",
                retryable=False,
            )
        total = body.get("total")
        if total is not None and (isinstance(total, bool) or not isinstance(total, int)):
            try:
                total = int(total)
            except (TypeError, ValueError):
                raise InvalidResponseError(
                    f"{self.service} {self.path} {where} returned a non-integer total {total!r}",
                    retryable=False,
                ) from None
        return items, total

    def _item_id(self, item: Any, where: str) -> str:
        item_id = item.get(self._id_key) if isinstance(item, dict) else None
        if item_id is None:
            raise InvalidResponseError(
                f"{self.service} {self.path} {where} returned an item without `{self._id_key}`",
                retryable=False,
            )
        return str(item_id)


class PageIterator(_CompletePaging):
    """Offset paging (`limit` + `offset`): iterate the pages; afterwards `.result` holds the PagingResult."""

    _PAGING_PARAMS = ("limit", "offset")

    def __init__(
        self, fetch: FetchPage, *, verify_boundaries: bool = True, offset_param: str = "offset", **kwargs: Any
    ) -> None:
        self._verify_boundaries = verify_boundaries
        self._offset_param = offset_param
        super().__init__(fetch, **kwargs)

    def _pass(self, attempt: int) -> Generator[Page, None, tuple[set[str], InventoryMismatch]]:
        """One read from offset 0 to the end; returns the ids and what, if anything, was inconsistent."""
        ids: set[str] = set()
        mismatch = InventoryMismatch(first_total=None, last_total=None, unique_ids=0, duplicates=0)
        offset = 0
        page_number = 0
        overlap = self._verify_boundaries
        last_id: str | None = None  # id of the item just before `offset`, when it is known
        while True:
            overlapping = overlap and last_id is not None
            request_offset = offset - 1 if overlapping else offset
            body = self._fetch({**self._params, "limit": self._page_size, self._offset_param: request_offset})
            self._requests += 1
            items, total = self._read_envelope(body, f"at offset {request_offset}")
            if page_number == 0:
                mismatch.first_total = total
            mismatch.last_total = total
            if total != mismatch.first_total:
                mismatch.reasons.append(f"total changed from {mismatch.first_total} to {total}")
                return ids, mismatch
            if overlapping:
                if items and self._item_id(items[0], f"near offset {request_offset}") != last_id:
                    mismatch.reasons.append(
                        f"the item before offset {offset} moved between two page reads "
                        "(items were removed or inserted earlier in the list)"
                    )
                    return ids, mismatch
                items = items[1:]
                if not items:
                    # Only the overlapping item came back: pages too small to overlap, or the end of a list
                    # without a total. Read on without overlapping; that read decides.
                    overlap = False
                    last_id = None
                    continue
            page = Page(list(items), offset, total, page_number, attempt)
            if self._on_page is not None:
                self._on_page(page)
            yield page
            for item in items:
                item_id = self._item_id(item, f"near offset {offset}")
                if item_id in ids:
                    mismatch.duplicates += 1
                ids.add(item_id)
                last_id = item_id
            mismatch.unique_ids = len(ids)
            offset += len(items)
            page_number += 1
            if mismatch.duplicates:
                mismatch.reasons.append(f"{mismatch.duplicates} ids repeated across pages")
                return ids, mismatch
            if total is None:
                if not items:
                    return ids, mismatch
                continue
            if offset >= total:
                if len(ids) != total:
                    mismatch.reasons.append(f"read {len(ids)} unique ids, server total {total}")
                return ids, mismatch
            if not items:
                mismatch.empty_page_at = offset
                mismatch.reasons.append(f"empty page at offset {offset} before total {total}")
                return ids, mismatch


class PageNumberIterator(_CompletePaging):
    """Page-number paging (`limit` + `next`, New Central): iterate the pages; then `.result`.

    The first request asks page `first_page`; each later one asks the `next` the server sent, until it sends
    none (null). A `next` naming a page already read is a server bug (an endless loop): raised at once. An
    empty page that still sends a `next` ends the pass as inconsistent.
    """

    _PAGING_PARAMS = ("limit", "next")

    def __init__(self, fetch: FetchPage, *, first_page: int = 1, **kwargs: Any) -> None:
        self._first_page = first_page
        super().__init__(fetch, **kwargs)

    def _pass(self, attempt: int) -> Generator[Page, None, tuple[set[str], InventoryMismatch]]:
        ids: set[str] = set()
        mismatch = InventoryMismatch(first_total=None, last_total=None, unique_ids=0, duplicates=0)
        page_token: str | None = str(self._first_page)
        asked: set[str] = set()
        offset = 0
        page_number = 0
        while page_token is not None:
            asked.add(page_token)
            body = self._fetch({**self._params, "limit": self._page_size, "next": page_token})
            self._requests += 1
            where = f"at page {page_token}"
            items, total = self._read_envelope(body, where)
            if page_number == 0:
                mismatch.first_total = total
            mismatch.last_total = total
            if total != mismatch.first_total:
                mismatch.reasons.append(f"total changed from {mismatch.first_total} to {total}")
                return ids, mismatch
            following = body.get("next")
            following = None if following in (None, "") else str(following)
            if following is not None and following in asked:
                raise InvalidResponseError(
                    f"{self.service} {self.path} {where} sent next={following!r}, a page already read: "
                    "the listing would never end",
                    retryable=False,
                )
            page = Page(list(items), offset, total, page_number, attempt)
            if self._on_page is not None:
                self._on_page(page)
            yield page
            for item in items:
                item_id = self._item_id(item, where)
                if item_id in ids:
                    mismatch.duplicates += 1
                ids.add(item_id)
            mismatch.unique_ids = len(ids)
            offset += len(items)
            page_number += 1
            if mismatch.duplicates:
                mismatch.reasons.append(f"{mismatch.duplicates} ids repeated across pages")
                return ids, mismatch
            if following is not None and not items:
                # An empty page that still points further: the list shrank under the paging (or the server
                # would hand out empty pages forever). Either way this pass proves nothing.
                mismatch.empty_page_at = offset
                mismatch.reasons.append(f"empty page {page_token} that still sent next={following!r}")
                return ids, mismatch
            page_token = following
        if total is not None and len(ids) != total:
            mismatch.reasons.append(f"read {len(ids)} unique ids, server total {total}")
        return ids, mismatch
