"""Per-session send pacing that follows WAHA's "How to avoid blocking" guidance.

WhatsApp bans numbers that send like machines. WAHA's advice for automated senders: never use
fixed times - wait a random while between messages - and do not send without stopping: send a
reasonable amount, then pause before the next "package". Hence two rules per WhatsApp session:

- a random gap in [gap_min, gap_max] between two messages of the session (the
  send_gap_min_ms / send_gap_max_ms of waha_configurations), drawn afresh for every message;
- at most `max_per_window` messages in any `window` seconds (a sliding window, so a burst is
  followed by a pause instead of a steady machine-like stream).

Sessions are independent: a session that is slow, paused or at its cap only delays its own
messages. `Pacer.reserve()` is the pure part (it only reads the injected clock and updates the
session's schedule, atomically as far as asyncio is concerned); `Pacer.acquire()` reserves and
sleeps until the slot. Nothing here blocks the event loop.

This pacer is per process. Pacing in SQL (claim_messages_v2's next_send_at) holds across worker
replicas; with both in place a session's effective gap is the larger of the two draws, never
their sum, and the window cap applies per replica.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import time
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Protocol

# A session's default cap: a hotel sends a handful of messages per guest and stay, so 200 an
# hour leaves room for a busy day while stopping a runaway loop from flooding WhatsApp.
DEFAULT_MAX_PER_HOUR = 200


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The event loop's monotonic time."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualClock:
    """A clock that moves only when told to, for tests of code that sleeps on a Clock."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), future))
        await future

    @property
    def sleepers(self) -> int:
        return sum(1 for _, _, f in self._sleepers if not f.done())

    async def advance(self, seconds: float) -> None:
        """Moves time forward, waking sleepers in deadline order; each woken task runs (and may
        sleep again) before time moves past its deadline."""
        target = self._now + seconds
        await self._settle()
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, future = heapq.heappop(self._sleepers)
            if future.done():  # its sleeper was cancelled
                continue
            self._now = max(self._now, deadline)
            future.set_result(None)
            await self._settle()
        self._now = target
        await self._settle()

    @staticmethod
    async def _settle() -> None:
        # Enough loop turns for woken tasks to run up to their next await.
        for _ in range(20):
            await asyncio.sleep(0)


@dataclass(frozen=True)
class PacingPolicy:
    gap_min: float = 1.0  # seconds
    gap_max: float = 3.0
    max_per_window: int | None = DEFAULT_MAX_PER_HOUR
    window: float = 3600.0

    def __post_init__(self) -> None:
        if not 0 <= self.gap_min <= self.gap_max:
            raise ValueError(f"need 0 <= gap_min <= gap_max, got {self.gap_min} and {self.gap_max}")
        if self.max_per_window is not None and self.max_per_window < 1:
            raise ValueError("max_per_window must be at least 1 (or None for no cap)")
        if self.window <= 0:
            raise ValueError("window must be positive")

    @classmethod
    def from_config(
        cls,
        send_gap_min_ms: int,
        send_gap_max_ms: int,
        *,
        max_per_window: int | None = DEFAULT_MAX_PER_HOUR,
        window: float = 3600.0,
    ) -> PacingPolicy:
        """From a waha_configurations row (milliseconds)."""
        return cls(send_gap_min_ms / 1000, send_gap_max_ms / 1000, max_per_window, window)

    @property
    def horizon(self) -> float:
        """How far back a past send still matters."""
        return max(self.gap_max, self.window if self.max_per_window is not None else 0.0)


@dataclass(frozen=True)
class Slot:
    """A reserved send: the message may go at `at` (clock time), `wait` seconds after reserving."""

    session: Hashable
    at: float
    wait: float


@dataclass
class _Schedule:
    slots: deque[float] = field(default_factory=deque)  # ascending, reserved send times
    horizon: float = 0.0


class Pacer:
    """Send slots per session. One instance per worker process, shared by all send tasks."""

    def __init__(self, *, clock: Clock | None = None, rng: random.Random | None = None) -> None:
        self._clock: Clock = clock or SystemClock()
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not security)
        self._sessions: dict[Hashable, _Schedule] = {}
        self._reservations = 0

    def reserve(self, session: Hashable, policy: PacingPolicy, *, max_wait: float | None = None) -> Slot | None:
        """Books the session's next free slot: `policy.gap_min..gap_max` (random) after its
        previous one, within its window cap, not before now. With `max_wait`, a slot further
        away than that is not booked and None is returned (e.g. release the message instead of
        holding it past its lease)."""
        now = self._clock.now()
        schedule = self._sessions.get(session)
        if schedule is None:
            schedule = _Schedule()
        self._prune(schedule, now, policy.horizon)
        at = now
        slots = schedule.slots
        if slots:
            gap = self._rng.uniform(policy.gap_min, policy.gap_max)
            at = max(at, slots[-1] + gap)
        cap = policy.max_per_window
        if cap is not None and len(slots) >= cap:
            # The cap-th latest slot must have left the window [at - window, at).
            at = max(at, slots[-cap] + policy.window)
        wait = at - now
        if max_wait is not None and wait > max_wait:
            return None
        slots.append(at)
        schedule.horizon = policy.horizon
        self._sessions[session] = schedule
        self._reservations += 1
        if self._reservations % 10_000 == 0:
            self._sweep(now)
        return Slot(session, at, wait)

    def cancel(self, slot: Slot) -> None:
        """Gives a slot back (the message was not sent). Later slots keep their times, so the
        schedule only ever gets more conservative."""
        schedule = self._sessions.get(slot.session)
        if schedule is None:
            return
        try:
            schedule.slots.remove(slot.at)
        except ValueError:
            return
        if not schedule.slots:
            del self._sessions[slot.session]

    async def acquire(self, session: Hashable, policy: PacingPolicy, *, max_wait: float | None = None) -> Slot | None:
        """Reserves a slot and sleeps until it; None when it is further than `max_wait` away.
        Cancelling the waiting task gives the slot back."""
        slot = self.reserve(session, policy, max_wait=max_wait)
        if slot is None:
            return None
        if slot.wait > 0:
            try:
                await self._clock.sleep(slot.at - self._clock.now())
            except asyncio.CancelledError:
                self.cancel(slot)
                raise
        return slot

    def slots(self, session: Hashable) -> tuple[float, ...]:
        """The session's booked send times that still matter, oldest first."""
        schedule = self._sessions.get(session)
        return tuple(schedule.slots) if schedule else ()

    def forget(self, session: Hashable) -> None:
        """Drops a session's schedule (its tenant left, or its WhatsApp number changed)."""
        self._sessions.pop(session, None)

    def __len__(self) -> int:
        return len(self._sessions)

    @staticmethod
    def _prune(schedule: _Schedule, now: float, horizon: float) -> None:
        slots = schedule.slots
        while slots and slots[0] <= now - horizon:
            slots.popleft()

    def _sweep(self, now: float) -> None:
        # Sessions that went quiet: keep memory flat however many come and go.
        for session, schedule in list(self._sessions.items()):
            self._prune(schedule, now, schedule.horizon)
            if not schedule.slots:
                del self._sessions[session]
