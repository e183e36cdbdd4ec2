"""One timer that calls back at the soonest deadline it has been given."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class SoonestTimer:
    """`schedule(seconds)` makes `callback` run in `seconds`, unless a sooner run is already due;
    a later deadline is dropped (whoever is called back re-reads what is due anyway)."""

    def __init__(self, callback: Callable[[], None]) -> None:
        self._callback = callback
        self._handle: asyncio.Handle | None = None
        # Kept here rather than read off the handle: uvloop's timer handles have no when().
        self._due = 0.0

    def schedule(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        due = now + max(0.0, seconds)
        if self._handle is not None and now < self._due <= due:
            return
        self.cancel()
        self._due = due
        self._handle = loop.call_at(due, self._callback)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
