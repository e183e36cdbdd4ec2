"""The sender's wake-up timer, on both event loops: the worker runs on uvloop, tests on asyncio."""

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
    async def scenario() -> list[float]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        fired: list[float] = []
        timer = SoonestTimer(lambda: fired.append(loop.time() - start))
        timer.schedule(0.3)
        timer.schedule(0.1)  # sooner: replaces the 0.3
        timer.schedule(0.2)  # later: dropped
        await asyncio.sleep(0.4)
        timer.schedule(0.05)  # the last one fired: this is taken
        timer.schedule(0.06)
        await asyncio.sleep(0.3)
        return fired

    with asyncio.Runner(loop_factory=new_loop) as runner:
        fired = runner.run(scenario())
    assert len(fired) == 2, fired
    assert 0.1 <= fired[0] < 0.25, "the soonest of the first three deadlines"
    assert 0.45 <= fired[1] < 0.65, "a new deadline after the first fired"
