"""SIGTERM and SIGINT start a graceful stop.

The handlers only set the stop event, through the event loop's own signal handling, because a
plain `signal.signal` handler runs between bytecodes and must not touch asyncio objects. A second
signal while stopping means the operator wants out now: the default handler is restored so it
terminates the process at once (rows in flight come back after their lease).
"""

from __future__ import annotations

import asyncio
import signal


def install(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()

    def _request_stop(signum: int) -> None:
        if stop.is_set():
            loop.remove_signal_handler(signum)
            signal.raise_signal(signum)
            return
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, _request_stop, signum)
