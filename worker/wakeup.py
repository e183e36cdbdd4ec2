"""Wake-ups: hints that a queue has work, so it is picked up in milliseconds, not a poll interval.

Correctness never depends on them: every loop also polls, and after a (re)connect every queue
is woken once, because neither NOTIFY nor Realtime replays what was missed while away.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

import psycopg
from loguru import logger

from worker import metrics

QUEUES = ("inbound_events", "message_logs", "sync_jobs")


class Signals:
    """One asyncio.Event per queue; a loop waits on its own."""

    def __init__(self, queues: Iterable[str] = QUEUES) -> None:
        self.events = {q: asyncio.Event() for q in queues}

    def wake(self, queue: str) -> None:
        if queue in self.events:
            self.events[queue].set()

    def wake_all(self) -> None:
        for event in self.events.values():
            event.set()

    async def wait(self, queue: str, seconds: float) -> None:
        """Returns when woken or after `seconds`, whichever is first, and re-arms."""
        event = self.events[queue]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)
        event.clear()


class ListenSource:
    """LISTEN/NOTIFY on the channels the migrations notify, over one dedicated connection."""

    name = "listen"

    def __init__(self, database_url: str, signals: Signals) -> None:
        self.database_url = database_url
        self.signals = signals
        self.connected = False

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.database_url, autocommit=True, application_name="worker-listen"
                ) as conn:
                    for channel in QUEUES:
                        await conn.execute(f'listen "{channel}"')
                    self.connected = True
                    backoff = 0.5
                    self.signals.wake_all()  # catch up on anything sent while we were away
                    logger.info("listening for wake-ups on {channels}", channels=", ".join(QUEUES))
                    notifies = conn.notifies()
                    stopper = asyncio.ensure_future(stop.wait())
                    try:
                        while not stop.is_set():
                            getter = asyncio.ensure_future(anext(notifies))
                            done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                            if getter not in done:
                                getter.cancel()
                                break
                            notify = getter.result()
                            metrics.WAKEUPS.labels(self.name, notify.channel).inc()
                            self.signals.wake(notify.channel)
                    finally:
                        stopper.cancel()
            except (psycopg.OperationalError, StopAsyncIteration) as exc:
                logger.warning("wake-up connection lost ({error}); retrying in {s}s", error=exc, s=backoff)
            finally:
                self.connected = False
            if not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, 30)


class RealtimeSource:
    """Supabase Realtime postgres_changes on the queue tables (service role: sees all tenants).

    Realtime delivers at most once and drops events across reconnects, so each change is only a
    hint, and each (re)subscription wakes every queue to reconcile with a query."""

    name = "realtime"

    def __init__(self, supabase_url: str, service_key: str, signals: Signals) -> None:
        self.url = supabase_url.rstrip("/").replace("http", "ws", 1) + "/realtime/v1"
        self.key = service_key
        self.signals = signals
        self.connected = False

    def _on_change(self, payload: Any) -> None:
        # Called synchronously by the client: only set an event here.
        table = (payload.get("data") or {}).get("table") if isinstance(payload, dict) else None
        if table in QUEUES:
            metrics.WAKEUPS.labels(self.name, table).inc()
            self.signals.wake(table)
        else:
            self.signals.wake_all()

    def _on_subscribe(self, status: Any, error: Exception | None = None) -> None:
        state = getattr(status, "value", str(status))
        self.connected = state == "SUBSCRIBED"
        if self.connected:
            logger.info("Realtime subscription ready")
            self.signals.wake_all()
        else:
            logger.warning("Realtime subscription {state}: {error}", state=state, error=error)

    async def run(self, stop: asyncio.Event) -> None:
        from realtime import AsyncRealtimeClient, RealtimePostgresChangesListenEvent

        while not stop.is_set():
            client = AsyncRealtimeClient(self.url, self.key, auto_reconnect=True, max_retries=10)
            try:
                await client.connect()
                channel = client.channel("worker-queues")
                for table in ("inbound_events", "message_logs"):
                    channel.on_postgres_changes(
                        RealtimePostgresChangesListenEvent.All, self._on_change, table=table, schema="public"
                    )
                await channel.subscribe(self._on_subscribe)
                # The client reconnects by itself; once it gives up, start over with a new one.
                while not stop.is_set() and client.is_connected:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 5)
            except Exception as exc:
                logger.warning("Realtime unavailable ({error}); polling continues", error=exc)
            finally:
                self.connected = False
                with contextlib.suppress(Exception):
                    await client.close()
            if not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 5)


class PollOnly:
    """No wake-up source: the loops' periodic poll does all the work."""

    name = "poll"
    connected = True

    async def run(self, stop: asyncio.Event) -> None:
        await stop.wait()
