"""Paging through "modified between A and B" listings of PMS APIs.

Page-number (and skip/limit) pagination over a live data set has a known hole: when a
reservation on a page already read is modified again during the sync, it leaves the window
(its new modification time is after B), every later reservation moves one place forward, and
the first one of the next page slides onto the page already read: it would be skipped, and,
not being modified again, never seen by the next incremental sync either. The window's upper
bound is fixed in the past, so records only ever leave the listing; every vendor reports the
listing's total, so a shrinking total reveals the shift, and the pager reads the affected
pages again (the repeats come back "unchanged").
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from worker.errors import PayloadError

# A vendor that keeps answering full pages is broken; stop instead of paging forever.
MAX_PAGES = 100_000


@dataclass(frozen=True)
class Chunk:
    items: list[Any]
    # The listing's total as the vendor reports it with this page (None when it does not).
    total: int | None


async def offset_pages(
    fetch: Callable[[int], Awaitable[Chunk]], page_size: int, *, first_offset: int = 0
) -> AsyncIterator[list[Any]]:
    """Pages of `fetch(offset)` (offset = records to skip), stepping back when the total shrinks.

    Page-number APIs pass `offset // page_size + 1` on; offsets stay multiples of page_size.
    """
    offset = first_offset
    total_seen: int | None = None
    for _ in range(MAX_PAGES):
        chunk = await fetch(offset)
        yield chunk.items
        if chunk.total is not None and total_seen is not None and chunk.total < total_seen:
            # Up to (total_seen - total) records moved from unread pages onto read ones: read
            # from there again (this page too, once more; its repeats are harmless).
            back = math.ceil((total_seen - chunk.total) / page_size) * page_size
            total_seen = chunk.total
            offset = max(first_offset, offset - back)
            continue
        total_seen = chunk.total if chunk.total is not None else total_seen
        offset += page_size
        if len(chunk.items) < page_size or (chunk.total is not None and offset >= chunk.total):
            return
    raise PayloadError(f"more than {MAX_PAGES} pages: the PMS listing does not end")
