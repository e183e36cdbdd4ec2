"""Per-credential rate limits for PMS APIs.

Vendors limit requests per credential (Mews: 200 per access token per 30 s; Cloudbeds: a few
per second per key; Guesty: 15/s, 120/min, 5,000/h per client). Every request of a credential
in this process goes through the same `Limiter`, so a sync and the webhook fetches of one hotel
share its budget. Across worker processes the budget is not shared, but the database runs at
most one sync job per PMS configuration at a time, and every API call is made by a sync job;
a 429 that still happens pauses the credential for the vendor's `Retry-After`.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    requests: int
    per_seconds: float


class Limiter:
    """A sliding-window limiter over one or more windows, with a pause for `Retry-After`."""

    def __init__(
        self,
        rates: Sequence[Rate],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._rates = list(rates)
        self._sent: list[deque[float]] = [deque(maxlen=r.requests) for r in self._rates]
        self._clock = clock
        self._sleep = sleep
        self._paused_until = 0.0
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _wait_needed(self, now: float) -> float:
        wait = self._paused_until - now
        for rate, sent in zip(self._rates, self._sent, strict=True):
            if len(sent) == rate.requests:
                wait = max(wait, sent[0] + rate.per_seconds - now)
        return wait

    async def acquire(self) -> None:
        """Waits until a request may start, and counts it."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        # One waiter at a time, in arrival order: callers behind it would wait anyway.
        async with self._lock:
            while (wait := self._wait_needed(self._clock())) > 0:
                await self._sleep(wait)
            now = self._clock()
            for sent in self._sent:
                sent.append(now)

    def pause(self, seconds: float) -> None:
        """No request of this credential starts in the next `seconds` (the vendor said 429)."""
        self._paused_until = max(self._paused_until, self._clock() + max(seconds, 0.0))


class LimiterRegistry:
    """One limiter per (vendor, credential) in this process."""

    def __init__(self) -> None:
        self._limiters: dict[str, Limiter] = {}

    def for_credential(self, provider: str, credential: str, rates: Sequence[Rate]) -> Limiter:
        # The key is a digest: the registry never holds a secret in the clear.
        key = provider + ":" + hashlib.sha256(credential.encode()).hexdigest()
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = self._limiters[key] = Limiter(rates)
        return limiter


# The process-wide registry: adapters built by the registry module share it.
LIMITERS = LimiterRegistry()
