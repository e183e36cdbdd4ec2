"""The sender's wake-up timer, on both event loops: the worker runs on uvloop, tests on asyncio.

Checked by order, not by the clock: a loop runs due timers in deadline order, however busy the
machine is (and uvloop rounds deadlines to milliseconds)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import uvloop

from worker.messages.wake_timer import SoonestTimer


@pytest.mark.parametrize("new_loop", [asyncio.new_event_loop, uvloop.new_event_loop], ids=["asyncio", "uvloop"])
def test_the_soonest_deadline_wins_and_a_fired_timer_takes_a_new_one(
    new_loop: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    async def scenario() -> list[str]:
        loop = asyncio.get_running_loop()
        seen: list[str] = []
        timer = SoonestTimer(lambda: seen.append("wake"))
        timer.schedule(0.3)
        timer.schedule(0.1)  # sooner: replaces the 0.3
        timer.schedule(0.2)  # later: dropped
        loop.call_later(0.15, seen.append, "0.15 s")
        await asyncio.sleep(0.5)
        seen.append("0.5 s")
        # A session that may already be claimed: at once. A later deadline must not put that off
        # (and uvloop answers a passed deadline with a handle that has no when()).
        timer.schedule(-1.0)
        timer.schedule(0.05)
        loop.call_later(0.02, seen.append, "0.52 s")
        await asyncio.sleep(0.3)
        seen.append("0.8 s")
        return seen

    with asyncio.Runner(loop_factory=new_loop) as runner:
        seen = runner.run(scenario())
    assert seen == ["wake", "0.15 s", "0.5 s", "wake", "0.52 s", "0.8 s"]
