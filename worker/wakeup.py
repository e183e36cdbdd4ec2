"""Wake-ups: hints that a queue has work, so it is picked up in milliseconds, not a poll interval.

Correctness never depends on them: every loop also polls, and after a (re)connect every queue
is woken once, because neither NOTIFY nor Realtime replays what was missed while away.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Iterable
from typing import Any

import psycopg
from loguru import logger

from worker import metrics

QUEUES = ("inbound_events", "message_logs", "sync_jobs")
# The private Realtime channel the database broadcasts wake-ups on (migration
# 20261202003500_worker_wakeups_by_broadcast: private.broadcast_wakeup), and its event.
WAKEUP_TOPIC = "worker:queues"
WAKEUP_EVENT = "wake"
REPLICATION_READY = "Replication connection established"


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
    """LISTEN/NOTIFY on the channels the migrations notify, over one dedicated connection.

    A LISTEN connection only receives, so a network that silently drops it (a NAT or firewall
    forgetting an idle connection, a failover that leaves no RST) would go unnoticed: no more
    wake-ups while `connected` still says yes. So every `check_seconds` it proves the
    connection with a query, which also keeps such middleboxes from forgetting it."""

    name = "listen"

    def __init__(
        self, database_url: str, signals: Signals, *, check_seconds: float = 60, check_timeout: float = 10
    ) -> None:
        self.database_url = database_url
        self.signals = signals
        self.check_seconds = check_seconds
        self.check_timeout = check_timeout
        self.connected = False

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            try:
                await _unless_stopped(stop, self._listen())
            except (psycopg.Error, OSError, TimeoutError) as exc:
                if self.connected:
                    backoff = 0.5  # it was up: the first retry comes soon
                logger.warning("wake-up connection lost ({error}); retrying in {s}s", error=exc, s=backoff)
            finally:
                self.connected = False
            if not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, 30)

    async def _listen(self) -> None:
        conn = await psycopg.AsyncConnection.connect(
            self.database_url, autocommit=True, application_name="worker-listen"
        )
        # Closed by hand: `async with` would try to roll back on a connection that may be dead.
        try:
            for channel in QUEUES:
                await conn.execute(f'listen "{channel}"')
            self.connected = True
            self.signals.wake_all()  # catch up on anything sent while we were away
            logger.info("listening for wake-ups on {channels}", channels=", ".join(QUEUES))
            while True:
                async with contextlib.aclosing(conn.notifies(timeout=self.check_seconds)) as notifies:
                    async for notify in notifies:
                        metrics.WAKEUPS.labels(self.name, notify.channel).inc()
                        self.signals.wake(notify.channel)
                # Notifications that arrive meanwhile wait in psycopg for the next notifies().
                try:
                    await asyncio.wait_for(conn.execute("select 1"), self.check_timeout)
                except TimeoutError:
                    raise TimeoutError(f"no answer to a liveness check in {self.check_timeout}s") from None
        finally:
            await conn.close()


class RealtimeSource:
    """Supabase Realtime Broadcast from the database on the private channel `worker:queues`.

    The queue tables' statement triggers call realtime.send at most once per queue per
    transaction that leaves work and per 100 ms (private.wakeup_broadcasts), so wake-ups cost
    at most ~10 Realtime messages/s per queue whatever the load (hosted Realtime's quota is ~100
    messages/s on Free, 500/s on Pro, and it drops the excess silently; Postgres Changes would
    cost one per row change, claims and completions included). A transaction that stayed silent
    because another had just broadcast may commit after this worker looked, so each wake-up is
    followed by one more look `follow_up_seconds` later.
    The channel is private: Realtime lets a token join only if RLS on realtime.messages lets its
    role read the topic; the service role bypasses RLS, signed-in users are refused.

    Realtime delivers at most once and drops messages across reconnects, so each one is only a
    hint, and each time the channel becomes ready every queue is woken to reconcile with a query.
    Ready is Realtime's system message "Replication connection established" (asked for with
    config.broadcast.replication_ready), not the join reply: until Realtime reads the database's
    log, a wake-up committed is never sent.

    This class, not the client, reconnects: the client's own retries log only to the standard
    `logging` module, outside the worker's JSON lines, and once they run out leave it silently
    disconnected; and the client never rejoins a channel the server closed (Realtime closes
    channels on a token problem or an operational disconnect)."""

    name = "realtime"
    topic = WAKEUP_TOPIC

    def __init__(
        self,
        supabase_url: str,
        service_key: str,
        signals: Signals,
        *,
        retry_max_seconds: float = 30,
        follow_up_seconds: float = 0.25,
    ) -> None:
        self.url = supabase_url.rstrip("/").replace("http", "ws", 1) + "/realtime/v1"
        self.key = service_key
        self.signals = signals
        self.retry_max_seconds = retry_max_seconds
        # Longer than the database's minimum interval between two wake-ups of a queue (100 ms).
        self.follow_up_seconds = follow_up_seconds
        self._follow_ups: dict[str, asyncio.TimerHandle] = {}
        self.connected = False
        self._trouble = asyncio.Event()  # the channel errored or closed: look at the connection
        self._closed = asyncio.Event()  # the channel is gone for good: start a new client
        self._was_ready = False
        self._delay = 0.0  # before the next reconnect attempt

    def _on_wakeup(self, payload: Any) -> None:
        # Called synchronously by the client: only set an event here.
        body = payload.get("payload") if isinstance(payload, dict) else None
        queue = body.get("queue") if isinstance(body, dict) else None
        if queue not in QUEUES:
            self.signals.wake_all()  # a wake-up this version does not know: look everywhere
            return
        metrics.WAKEUPS.labels(self.name, queue).inc()
        self.signals.wake(queue)
        # The follow-up look: moved to the latest wake-up, so one runs after the last of a burst.
        if (pending := self._follow_ups.pop(queue, None)) is not None:
            pending.cancel()
        loop = asyncio.get_running_loop()
        self._follow_ups[queue] = loop.call_later(self.follow_up_seconds, self.signals.wake, queue)

    def _on_system(self, payload: Any) -> None:
        if getattr(payload, "message", None) != REPLICATION_READY or getattr(payload, "status", None) != "ok":
            return
        if not self.connected:
            logger.info("Realtime subscription ready")
        self.connected = self._was_ready = True
        self._delay = 0.0  # it works again: the next lost socket is retried at once
        self.signals.wake_all()  # reconcile: what was broadcast while we were not there is gone

    def _on_subscribe(self, status: Any, error: Exception | None = None) -> None:
        state = getattr(status, "value", str(status))
        if state == "SUBSCRIBED":
            logger.info("Realtime channel joined; waiting for Realtime's replication to be ready")
            return
        self.connected = False
        logger.warning("Realtime subscription {state}: {error}", state=state, error=error)
        self._trouble.set()
        if state == "CLOSED":
            self._closed.set()

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 1.0
        while not stop.is_set():
            self._trouble, self._closed, self._was_ready = asyncio.Event(), asyncio.Event(), False
            try:
                await _unless_stopped(stop, self._session())
                problem = "Realtime closed the channel"
            except Exception as exc:
                problem = f"Realtime unavailable ({exc})"
            finally:
                self.connected = False
            if stop.is_set():
                for pending in self._follow_ups.values():
                    pending.cancel()
                return
            if self._was_ready:
                backoff = 1.0
            logger.warning("{problem}; polling continues, retrying in {s}s", problem=problem, s=backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(backoff * 2, self.retry_max_seconds)

    async def _session(self) -> None:
        """One client: connect, subscribe, and reconnect it until the server closes the channel."""
        from realtime import AsyncRealtimeClient

        # No auto_reconnect: connect() makes one attempt, and a lost socket only marks the
        # channel errored; the next connect() rejoins it.
        client = AsyncRealtimeClient(self.url, self.key, auto_reconnect=False)
        try:
            await client.connect()
            channel = client.channel(
                self.topic,
                {
                    "config": {
                        "broadcast": {"ack": False, "self": False, "replication_ready": True},
                        "presence": {"key": "", "enabled": False},
                        "private": True,
                    }
                },
            )
            channel.on_broadcast(WAKEUP_EVENT, self._on_wakeup)
            channel.on_system(self._on_system)
            await channel.subscribe(self._on_subscribe)
            # A socket lost after the subscription was ready is retried at once; one that fails, or
            # comes back only to be dropped again, waits longer each time.
            self._delay = 0.0
            while not self._closed.is_set():
                if client.is_connected:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._trouble.wait(), 5)
                    self._trouble.clear()
                    continue
                await asyncio.sleep(self._delay)
                self._delay = min(max(self._delay * 2, 1.0), self.retry_max_seconds)
                try:
                    await client.connect()  # rejoins the channel; ready again once Realtime says so
                except Exception as exc:
                    logger.warning(
                        "Realtime reconnect failed ({error}); polling continues, retrying in {s}s",
                        error=exc,
                        s=self._delay,
                    )
        finally:
            self.connected = False
            with contextlib.suppress(Exception):
                await client.close()


async def _unless_stopped(stop: asyncio.Event, work: Coroutine[Any, Any, None]) -> None:
    """Runs `work` until it ends (re-raising its failure) or `stop` is set (cancelling it)."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not task.done():
            task.cancel()
            await asyncio.wait({task})
    if not task.cancelled():
        task.result()


class PollOnly:
    """No wake-up source: the loops' periodic poll does all the work."""

    name = "poll"
    connected = True

    async def run(self, stop: asyncio.Event) -> None:
        await stop.wait()
