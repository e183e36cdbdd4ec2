"""The worker's own task supervision, in-process: what counts as a clean stop."""

from __future__ import annotations

import asyncio

from worker.app import Worker, open_resources
from worker.settings import Settings


async def test_a_task_that_ends_in_the_same_moment_as_the_stop_is_a_clean_exit(clean_db: str) -> None:
    """SIGTERM while the message loop sleeps between two claims: the loop ends in the same turn
    of the event loop as the stop itself. That is a clean exit (0), not "task stopped
    unexpectedly" (1), which would make an orchestrator count a crash on every deploy."""
    settings = Settings(
        database_url=clean_db, wakeup="poll", health_port=0, shutdown_grace_seconds=5, allow_local_urls=True
    )
    resources = await open_resources(settings)
    try:
        worker = Worker(settings, resources)

        async def ends_with_the_stop() -> None:  # as _send_messages does when stopped mid-sleep
            await worker.stop.wait()

        worker._send_messages = ends_with_the_stop  # type: ignore[method-assign]
        run = asyncio.create_task(worker.run())
        await asyncio.sleep(0.5)
        worker.stop.set()
        assert await asyncio.wait_for(run, 30) == 0
    finally:
        await resources.close()
