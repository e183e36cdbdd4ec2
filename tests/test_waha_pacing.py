"""Per-session pacing: random gaps within the configured range, a sliding-window cap, sessions
that never hold each other up - checked on schedules (hypothesis) and on concurrent tasks that
sleep on a hand-moved clock, so no assertion depends on how fast this machine is.
"""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worker.waha.pacing import ManualClock, Pacer, PacingPolicy, Slot, SystemClock

EPS = 1e-9


class Frozen:
    """A clock for pure schedules: a test sets the time, and nothing may sleep on it."""

    def __init__(self) -> None:
        self.time = 0.0

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        raise AssertionError("reserve() must not sleep")


def policies() -> st.SearchStrategy[PacingPolicy]:
    def build(gap_min: float, spread: float, cap: int | None, window: float) -> PacingPolicy:
        return PacingPolicy(gap_min, gap_min + spread, cap, window)

    return st.builds(
        build,
        st.floats(0, 5),
        st.floats(0, 5),
        st.one_of(st.none(), st.integers(1, 12)),
        st.floats(0.5, 60),
    )


def schedule(policy: PacingPolicy, arrivals: list[float], seed: int) -> tuple[list[float], list[float]]:
    """Reserves one slot per arrival (times between requests); returns (request times, slots)."""
    clock = Frozen()
    pacer = Pacer(clock=clock, rng=random.Random(seed))
    requested, slots = [], []
    now = 0.0
    for delta in arrivals:
        now += delta
        clock.time = now
        slot = pacer.reserve("s", policy)
        assert slot is not None
        assert slot.wait == pytest.approx(slot.at - now)
        requested.append(now)
        slots.append(slot.at)
    return requested, slots


@settings(max_examples=300, deadline=None)
@given(policies(), st.lists(st.floats(0, 10), min_size=1, max_size=60), st.integers(0, 2**32))
def test_a_schedule_keeps_the_gaps_and_the_cap_and_waits_no_longer_than_needed(
    policy: PacingPolicy, arrivals: list[float], seed: int
) -> None:
    requested, slots = schedule(policy, arrivals, seed)
    cap = policy.max_per_window
    for i, at in enumerate(slots):
        assert at >= requested[i] - EPS, "never before it was asked for"
        if i:
            assert at - slots[i - 1] >= policy.gap_min - EPS, "at least the minimum gap"
        if cap is not None:
            # (at - window, at], with float slack: a slot exactly one window ago has left it.
            in_window = [s for s in slots[: i + 1] if at - policy.window + EPS < s <= at + EPS]
            assert len(in_window) <= cap, "never more than the cap in any window"
        # Tight: the slot is now, or one random gap after the previous, or when the cap allows.
        reasons = [abs(at - requested[i]) < EPS]
        if i:
            reasons.append(policy.gap_min - EPS <= at - slots[i - 1] <= policy.gap_max + EPS)
        if cap is not None and i >= cap:
            reasons.append(abs(at - (slots[i - cap] + policy.window)) < EPS)
        assert any(reasons), (i, at)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32))
def test_back_to_back_gaps_are_random_across_the_whole_range(seed: int) -> None:
    policy = PacingPolicy(1.0, 3.0, max_per_window=None)
    _, slots = schedule(policy, [0.0] * 200, seed)
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert all(1.0 - EPS <= g <= 3.0 + EPS for g in gaps)
    assert any(g < 1.5 for g in gaps) and any(g > 2.5 for g in gaps), "not a fixed rhythm"


def test_a_session_at_its_cap_pauses_until_the_window_slides() -> None:
    policy = PacingPolicy(0, 0, max_per_window=3, window=3600)
    _, slots = schedule(policy, [0, 1, 1, 1, 1, 1, 1], seed=1)
    assert slots == [0, 1, 2, 3600, 3601, 3602, 7200]


@settings(max_examples=200, deadline=None)
@given(policies(), st.lists(st.floats(0, 10), min_size=1, max_size=30), st.floats(0, 30), st.integers(0, 2**32))
def test_max_wait_books_nothing_when_the_slot_is_too_far(
    policy: PacingPolicy, arrivals: list[float], max_wait: float, seed: int
) -> None:
    clock = Frozen()
    pacer = Pacer(clock=clock, rng=random.Random(seed))
    for delta in arrivals:
        clock.time += delta
        before = pacer.slots("s")
        slot = pacer.reserve("s", policy, max_wait=max_wait)
        after = pacer.slots("s")
        if slot is None:
            # Nothing booked: what is left is the part of the old schedule that still matters.
            assert after == before[len(before) - len(after) :]
        else:
            assert slot.wait <= max_wait + EPS
            assert after[-1] == slot.at


def test_a_cancelled_slot_is_given_back() -> None:
    clock = Frozen()
    pacer = Pacer(clock=clock, rng=random.Random(7))
    policy = PacingPolicy(2, 2, max_per_window=2, window=60)
    first = pacer.reserve("s", policy)
    second = pacer.reserve("s", policy)
    assert first is not None and second is not None
    assert pacer.reserve("s", policy, max_wait=10) is None  # the cap: next free slot is at 60
    pacer.cancel(second)
    third = pacer.reserve("s", policy, max_wait=10)
    assert third is not None and third.at == 2.0
    pacer.cancel(third)
    pacer.cancel(first)
    assert len(pacer) == 0
    pacer.cancel(first)  # twice is harmless


def test_sessions_do_not_share_schedules() -> None:
    clock = Frozen()
    pacer = Pacer(clock=clock)
    busy = PacingPolicy(10, 20, max_per_window=1, window=3600)
    for _ in range(5):
        pacer.reserve("busy", busy)
    quiet = pacer.reserve("quiet", PacingPolicy())
    assert quiet == Slot("quiet", 0.0, 0.0)


def test_policy_from_a_waha_configuration() -> None:
    assert PacingPolicy.from_config(1000, 3000) == PacingPolicy(1.0, 3.0)
    assert PacingPolicy.from_config(0, 0, max_per_window=None).horizon == 0.0
    with pytest.raises(ValueError, match="gap_min <= gap_max"):
        PacingPolicy.from_config(3000, 1000)
    with pytest.raises(ValueError, match="gap_min <= gap_max"):
        PacingPolicy(-1, 1)
    with pytest.raises(ValueError, match="max_per_window"):
        PacingPolicy(max_per_window=0)
    with pytest.raises(ValueError, match="window"):
        PacingPolicy(window=0)


def test_quiet_sessions_are_forgotten() -> None:
    clock = Frozen()
    pacer = Pacer(clock=clock)
    policy = PacingPolicy(0, 1, max_per_window=None)
    for i in range(10_000):
        pacer.reserve(f"morning-{i}", policy)
    assert len(pacer) == 10_000
    clock.time = 5.0
    for i in range(10_000):
        pacer.reserve(f"evening-{i}", policy)
    # Every 10,000th reservation sweeps schedules that no longer matter: memory stays flat.
    assert len(pacer) == 10_000
    assert pacer.slots("morning-0") == ()
    pacer.forget("evening-0")
    assert pacer.slots("evening-0") == ()


# ------------------------------------------------------------------ tasks on a clock


async def test_concurrent_sends_of_one_session_go_one_gap_apart() -> None:
    clock = ManualClock()
    pacer = Pacer(clock=clock, rng=random.Random(3))
    policy = PacingPolicy(1, 3, max_per_window=None)
    sent: list[float] = []

    async def send() -> None:
        await pacer.acquire("hotel", policy)
        sent.append(clock.now())

    tasks = [asyncio.create_task(send()) for _ in range(6)]
    await clock.advance(0)
    assert sent == [0.0], "the first goes at once, the others wait their turn"
    await clock.advance(30)
    await asyncio.gather(*tasks)
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert len(sent) == 6
    assert all(1 - EPS <= g <= 3 + EPS for g in gaps)


async def test_a_blocked_session_never_delays_another() -> None:
    clock = ManualClock()
    pacer = Pacer(clock=clock, rng=random.Random(5))
    capped = PacingPolicy(1, 2, max_per_window=2, window=3600)
    normal = PacingPolicy(1, 2, max_per_window=None)
    done: dict[str, list[float]] = {"capped": [], "normal": []}

    async def sender(session: str, policy: PacingPolicy, count: int) -> None:
        for _ in range(count):
            await pacer.acquire(session, policy)
            done[session].append(clock.now())

    blocked = asyncio.create_task(sender("capped", capped, 3))
    flowing = asyncio.create_task(sender("normal", normal, 10))
    await clock.advance(25)
    assert len(done["normal"]) == 10, "the other session sent everything at its own pace"
    assert len(done["capped"]) == 2, "the capped one waits for its window"
    assert not blocked.done()
    await flowing
    await clock.advance(3600)
    await blocked
    assert done["capped"][2] >= done["capped"][0] + 3600 - EPS


async def test_a_cancelled_wait_gives_its_slot_back() -> None:
    clock = ManualClock()
    pacer = Pacer(clock=clock, rng=random.Random(9))
    policy = PacingPolicy(5, 5, max_per_window=None)
    await pacer.acquire("hotel", policy)
    waiting = asyncio.create_task(pacer.acquire("hotel", policy))
    await clock.advance(1)
    assert pacer.slots("hotel") == (0.0, 5.0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert pacer.slots("hotel") == (0.0,)
    assert clock.sleepers == 0


async def test_acquire_with_max_wait_returns_none_without_sleeping() -> None:
    clock = ManualClock()
    pacer = Pacer(clock=clock)
    policy = PacingPolicy(60, 60, max_per_window=None)
    assert await pacer.acquire("hotel", policy, max_wait=0) == Slot("hotel", 0.0, 0.0)
    assert await pacer.acquire("hotel", policy, max_wait=30) is None
    assert clock.sleepers == 0


async def test_the_system_clock_lets_an_unpaced_send_through() -> None:
    pacer = Pacer(clock=SystemClock())
    slot = await pacer.acquire("hotel", PacingPolicy(0, 0, max_per_window=None))
    assert slot is not None and slot.wait == 0.0
