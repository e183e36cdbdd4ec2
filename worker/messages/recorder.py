"""Records the sends WAHA accepted, as many per statement as finished together.

Each finished send hands its message to `record()` and waits for the answer. Whatever arrives
while one mark_messages_sent_v1 call is running goes into the next one: an idle worker records a
send at once, a busy one in batches, and no timer sits in between - a timer's wait would add to
every session's cycle, since a session's next message waits until this one is recorded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from loguru import logger
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from worker.messages.store import AcceptedSend, MessageStore


@dataclass(frozen=True)
class _Accepted:
    message_id: int
    waha_message_id: str
    accepted_at: float  # time.monotonic() when WAHA's answer arrived


class SendRecorder:
    def __init__(
        self,
        store: MessageStore,
        worker_id: str,
        *,
        on_paced: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._worker_id = worker_id
        # Called after each batch with the seconds until the soonest of its sessions may send again.
        self._on_paced = on_paced
        self._clock = clock
        self._pending: list[tuple[_Accepted, asyncio.Future[float | None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def record(self, message_id: int, waha_message_id: str, accepted_at: float) -> float | None:
        """Marks the message sent. Returns in how many seconds its session may send again, or
        None when the message was no longer leased to this worker (its lease had run out)."""
        future: asyncio.Future[float | None] = asyncio.get_running_loop().create_future()
        self._pending.append((_Accepted(message_id, waha_message_id, accepted_at), future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="record-sends")
        return await future

    async def idle(self) -> None:
        """Returns once everything handed to record() is written (or failed)."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.wait({self._flusher})

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                ready = await self._mark([accepted for accepted, _ in batch])
            except psycopg.Error as exc:
                if len(batch) == 1 or isinstance(exc, psycopg.OperationalError):
                    self._settle(batch, exc)
                    continue
                # One row the database refuses (say, a WAHA message id that is already stored)
                # must not leave the others `sending` until their leases run out and the guests
                # get them twice: record them one by one, so only that one fails.
                for item in batch:
                    try:
                        one = await self._mark([item[0]])
                    except psycopg.Error as single:
                        self._settle([item], single)
                    else:
                        self._settle([item], one)
                continue
            except Exception as exc:
                self._settle(batch, exc)
                continue
            self._settle(batch, ready)

    def _settle(
        self, batch: list[tuple[_Accepted, asyncio.Future[float | None]]], outcome: dict[int, float] | BaseException
    ) -> None:
        for accepted, future in batch:
            if future.done():
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome.get(accepted.message_id))
        if isinstance(outcome, dict) and outcome and self._on_paced is not None:
            try:
                self._on_paced(min(outcome.values()))
            except Exception:
                # Only a wake-up hint (the poll still comes): it must not end the flusher and
                # leave the sends queued behind this batch unrecorded.
                logger.exception("could not set the wake-up for the next paced send")

    async def _mark(self, batch: list[_Accepted]) -> dict[int, float]:
        # WAHA has these: recording that must not be lost to a passing database error, or the
        # sessions would wait for their leases and the sends would need settling with WAHA. A
        # database restart takes seconds, so keep trying for a minute, not five quick attempts.
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(psycopg.OperationalError),
            stop=stop_after_delay(60),
            wait=wait_exponential(multiplier=0.2, max=2),
            reraise=True,
        ):
            with attempt:
                now = self._clock()
                sends = [
                    AcceptedSend(a.message_id, a.waha_message_id, max(0.0, (now - a.accepted_at) * 1000.0))
                    for a in batch
                ]
                return await self._store.mark_sent(self._worker_id, sends)
        raise AssertionError("unreachable: tenacity reraises the last error")
