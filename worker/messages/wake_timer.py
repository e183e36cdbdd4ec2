"""One timer that calls back at the soonest deadline it has been given."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class SoonestTimer:
    """`schedule(seconds)` makes `callback` run in `seconds`, unless a run at that time or sooner
    is already pending; a later deadline is dropped (whoever is called back re-reads what is due
    anyway). A deadline that has passed means at once."""

    def __init__(self, callback: Callable[[], None]) -> None:
        self._callback = callback
        self._handle: asyncio.Handle | None = None  # pending, not yet run
        # Kept here, not read off the handle: for a deadline already passed uvloop returns a plain
        # Handle, which has no when().
        self._due = 0.0

    def schedule(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time() + max(0.0, seconds)
        if self._handle is not None and self._due <= due:
            return
        self.cancel()
        self._due = due
        self._handle = loop.call_at(due, self._fire)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _fire(self) -> None:
        self._handle = None
        self._callback()
