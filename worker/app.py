"""The worker process: named side tasks under one stop event.

Tasks: `inbound` (events -> reservations), `messages` (due messages -> WAHA), `syncs` (PMS sync
jobs), `wakeup` (LISTEN/NOTIFY or Realtime), `stats` (queue gauges). If a task dies, the monitor
stops the whole worker with a non-zero exit so the orchestrator restarts it cleanly; transient
database or network failures are retried inside the tasks and never kill them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx
import psycopg
from loguru import logger
from psycopg_pool import PoolTimeout

from worker import metrics
from worker.db.pool import Pool, open_pool
from worker.db.queries import load
from worker.health import HealthServer
from worker.http import new_client, new_waha_session
from worker.inbound.processor import InboundProcessor
from worker.inbound.store import InboundStore
from worker.liveness import Liveness
from worker.messages.sender import MessageSender
from worker.messages.store import MessageStore
from worker.messages.watchdog import SessionWatchdog
from worker.ops.auth_logs import AuthLogReader
from worker.ops.gauges import refresh_gauges
from worker.ops.rls_logs import RlsLogReader
from worker.pms.http import RetryPolicy
from worker.pms.registry import configure_defaults
from worker.recovery.runner import RestoreRecovery
from worker.recovery.store import RecoveryStore
from worker.settings import Settings
from worker.sync.runner import run_next_job
from worker.waha import WahaClient
from worker.wakeup import ListenSource, PollOnly, RealtimeSource, Signals

# Failures of the database or the network that a task waits out instead of dying.
_TRANSIENT = (psycopg.OperationalError, PoolTimeout, httpx.TransportError, OSError)
# The sender claims at most this often. Every statement that leaves a message due notifies, so
# under a stream of bookings an uncoalesced sender would run a claim (and ask what is due next)
# for each one: about a sixth of the database's work per event in the processing benchmark. One
# claim takes up to a batch, and a paced session is claimed ahead of its gap by more than this.
_MESSAGE_CLAIM_INTERVAL = 0.05


@dataclass
class Resources:
    """Created once at start-up and shared by every task."""

    pool: Pool
    http: httpx.AsyncClient  # PMS syncs
    waha_http: aiohttp.ClientSession  # WAHA (WahaClient): aiohttp directly, the send path is CPU-bound

    async def close(self) -> None:
        await self.waha_http.close()
        await self.http.aclose()
        await self.pool.close()


async def open_resources(settings: Settings) -> Resources:
    pool = await open_pool(
        settings.database_url, min_size=2, max_size=settings.pool_size, prepare_threshold=settings.prepare_threshold
    )
    http = new_client(
        timeout_seconds=settings.waha_timeout_seconds,
        max_connections=settings.send_concurrency + 20,
        allow_local=settings.allow_local_urls,
    )
    # Each send holds at most one WAHA connection; the 20 spare are for the session watchdog.
    waha_http = new_waha_session(
        timeout_seconds=settings.waha_timeout_seconds,
        max_connections=settings.send_concurrency + 20,
        allow_local=settings.allow_local_urls,
    )
    return Resources(pool=pool, http=http, waha_http=waha_http)


class Worker:
    def __init__(self, settings: Settings, resources: Resources) -> None:
        self.settings = settings
        self.resources = resources
        self.stop = asyncio.Event()
        self.signals = Signals()
        retry_base = dt.timedelta(seconds=settings.retry_base_seconds)
        retry_max = dt.timedelta(seconds=settings.retry_max_seconds)
        self.inbound = InboundProcessor(
            InboundStore(resources.pool),
            settings.worker_id,
            batch_size=settings.event_batch_size,
            lease_seconds=settings.lease_seconds,
            retry_base=retry_base,
            retry_max=retry_max,
            concurrency=max(1, settings.pool_size - 3),
            wake_senders=lambda: self.signals.wake("message_logs"),
        )
        waha = WahaClient(resources.waha_http)
        # Holds every send while a restore recovery is open (docs/runbook.md, "Restoring the database").
        self.recovery = RestoreRecovery(
            RecoveryStore(resources.pool),
            MessageStore(resources.pool),
            waha,
            settings.worker_id,
            check_seconds=settings.recovery_check_seconds,
            on_resume=lambda: self.signals.wake("message_logs"),
        )
        # Its own connection, not the pool's: the lock it holds must live exactly as long as
        # this process (see worker/liveness.py).
        self.liveness = Liveness(
            settings.database_url,
            settings.worker_id,
            grace_seconds=settings.liveness_grace_seconds,
            probe_seconds=settings.liveness_probe_seconds,
            on_reclaimed=self._taken_over,
            on_lost=self.recovery.suspect,
        )
        self.messages = MessageSender(
            MessageStore(resources.pool),
            waha,
            settings.worker_id,
            batch_size=settings.message_batch_size,
            lease_seconds=settings.lease_seconds,
            concurrency=settings.send_concurrency,
            lookahead=settings.send_lookahead_seconds,
            retry_base=retry_base,
            retry_max=retry_max,
            wake=lambda: self.signals.wake("message_logs"),
            liveness=self.liveness,
            sending=self.recovery.sending,
        )
        self.watchdog = SessionWatchdog(resources.pool, waha)
        configure_defaults(RetryPolicy(timeout=httpx.Timeout(settings.pms_timeout_seconds, connect=5.0)))
        self.wakeup = self._wakeup_source()
        self.stats_sql = load("stats")
        self.auth_logs = self._auth_log_reader()
        self.rls_logs = self._rls_log_reader()

    def _auth_log_reader(self) -> AuthLogReader | None:
        settings = self.settings
        if not (settings.project_ref and settings.management_api_token):
            return None
        return AuthLogReader(
            self.resources.pool,
            self.resources.http,
            api_url=settings.management_api_url,
            project_ref=settings.project_ref,
            access_token=settings.management_api_token,
            interval=dt.timedelta(seconds=settings.auth_logs_interval_seconds),
            lag=dt.timedelta(seconds=settings.auth_logs_lag_seconds),
        )

    def _rls_log_reader(self) -> RlsLogReader | None:
        settings = self.settings
        interval = dt.timedelta(seconds=settings.rls_logs_interval_seconds)
        if settings.project_ref and settings.management_api_token:
            return RlsLogReader(
                self.resources.pool,
                interval=interval,
                http=self.resources.http,
                api_url=settings.management_api_url,
                project_ref=settings.project_ref,
                access_token=settings.management_api_token,
                lag=dt.timedelta(seconds=settings.auth_logs_lag_seconds),
            )
        if settings.postgres_log_file:
            return RlsLogReader(self.resources.pool, interval=interval, log_file=Path(settings.postgres_log_file))
        return None

    def _taken_over(self, messages: int, events: int) -> None:
        """A dead worker's work came back: take it up now, not at the next poll."""
        if messages:
            self.signals.wake("message_logs")
        if events:
            self.signals.wake("inbound_events")

    def _wakeup_source(self) -> ListenSource | RealtimeSource | PollOnly:
        source = self.settings.wakeup_source
        if source == "realtime":
            assert self.settings.supabase_url and self.settings.supabase_key
            return RealtimeSource(self.settings.supabase_url, self.settings.supabase_key, self.signals)
        if source == "listen":
            return ListenSource(self.settings.database_url, self.signals)
        return PollOnly()

    # ---- one pass over the queues (also the burst mode of the tests) ----------------------------
    async def run_inbound_batch(self) -> int:
        return await self.inbound.run_batch()

    async def run_message_batch(self) -> int:
        return await self.messages.run_batch()

    async def run_sync_job(self) -> int:
        ran = await run_next_job(self.resources.pool, self.resources.http, self.settings.worker_id)
        return 1 if ran else 0

    async def drain(self, max_rounds: int = 1000) -> None:
        """Burst mode: works every queue until none has anything due, then returns."""
        for _ in range(max_rounds):
            done = await self.run_inbound_batch() + await self.run_sync_job() + await self.run_message_batch()
            done += await self.watchdog.check_paused()
            if done == 0:
                return
        raise RuntimeError(f"queues still busy after {max_rounds} rounds")

    # ---- the long-running loops -----------------------------------------------------------------
    async def _loop(self, queue: str, run: Callable[[], Awaitable[bool]], min_interval: float = 0.0) -> None:
        """Runs `run` (which says whether more may be due right now) until stopped, at most once
        per `min_interval` seconds (wake-ups meanwhile are taken together)."""
        loop = asyncio.get_running_loop()
        backoff = 0.5
        last = -min_interval
        while not self.stop.is_set():
            if (wait := last + min_interval - loop.time()) > 0:
                await self._sleep(wait)
                if self.stop.is_set():
                    break
            last = loop.time()
            try:
                more = await run()
                backoff = 0.5
                # Asks the database too (what is due next): inside, so a restart cannot end the task.
                idle = None if more else await self._idle_seconds(queue)
            except _TRANSIENT as exc:
                logger.warning("{queue}: {error}; retrying in {s}s", queue=queue, error=exc, s=backoff)
                backoff = min(backoff * 2, 30)
                await self._sleep(backoff)
                continue
            if idle is not None:
                await self.signals.wait(queue, idle)

    async def _inbound_pass(self) -> bool:
        return await self.run_inbound_batch() >= self.settings.event_batch_size

    async def _sync_pass(self) -> bool:
        return await self.run_sync_job() > 0

    async def _send_messages(self) -> None:
        """Claims continuously while sends run; on stop, lets the started sends finish (the
        shutdown grace bounds that; what it cuts off is handed back)."""
        await self._loop(
            "message_logs", functools.partial(self.messages.pump, self.stop), min_interval=_MESSAGE_CLAIM_INTERVAL
        )
        await self.messages.finish(raise_errors=False)  # each send's error was logged as it happened

    async def _idle_seconds(self, queue: str) -> float:
        poll = self.settings.poll_interval_seconds
        if queue != "message_logs":
            return poll
        next_at = await self.messages.store.next_due()
        if next_at is None:
            return poll
        until = (next_at - dt.datetime.now(dt.UTC)).total_seconds()
        # A floor, so a due message another replica holds locked cannot make this loop spin.
        return max(0.05, min(poll, until))

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)

    async def _stats_loop(self) -> None:
        while not self.stop.is_set():
            try:
                async with self.resources.pool.connection() as conn:
                    cur = await conn.execute(self.stats_sql["queue_stats"])
                    for row in await cur.fetchall():
                        queue = str(row["queue"])
                        metrics.QUEUE_DEPTH.labels(queue).set(row["due"])
                        metrics.RETRY_DEPTH.labels(queue).set(row["retrying"])
                        metrics.DEAD_LETTERS.labels(queue).set(row["dead"])
                # The runbook's figures per tenant (the same SQL the dashboard and alerts read).
                await refresh_gauges(self.resources.pool)
            except _TRANSIENT as exc:
                logger.warning("queue stats unavailable: {error}", error=exc)
            await self._sleep(15)

    async def _watchdog_loop(self) -> None:
        while not self.stop.is_set():
            try:
                if await self.watchdog.check_paused():
                    self.signals.wake("message_logs")
            except _TRANSIENT as exc:
                logger.warning("session check failed: {error}", error=exc)
            await self._sleep(self.settings.session_check_seconds)

    async def _auth_logs_loop(self) -> None:
        assert self.auth_logs is not None
        while not self.stop.is_set():
            try:
                await self.auth_logs.read_logged()
            except _TRANSIENT as exc:
                logger.warning("auth logs not read: {error}", error=exc)
            await self._sleep(self.settings.auth_logs_interval_seconds)

    async def _rls_logs_loop(self) -> None:
        assert self.rls_logs is not None
        while not self.stop.is_set():
            try:
                await self.rls_logs.read_logged()
            except _TRANSIENT as exc:
                logger.warning("postgres log not read for RLS refusals: {error}", error=exc)
            await self._sleep(self.settings.rls_logs_interval_seconds)

    async def readiness(self) -> dict[str, str]:
        problems: dict[str, str] = {}
        try:
            async with self.resources.pool.connection(timeout=2) as conn:
                await conn.execute(self.stats_sql["ping"])
        except Exception as exc:
            problems["database"] = f"unreachable: {exc}"
        if not self.wakeup.connected:
            problems["wakeup"] = f"{self.wakeup.name} not connected"
        if not self.liveness.held.is_set():
            # Not claiming: other workers may be taking its sends over (worker/liveness.py).
            problems["liveness"] = "liveness lock not held"
        return problems

    async def run(self) -> int:
        """Runs until `stop` is set (exit code 0) or a task dies (exit code 1)."""
        health = HealthServer(self.settings.health_host, self.settings.health_port, self.readiness)
        await health.start()
        logger.info(
            "worker {id} started (wake-up: {wakeup}, health on port {port})",
            id=self.settings.worker_id,
            wakeup=self.wakeup.name,
            port=health.bound_port,
        )
        # Before the first claim: what this worker claims must be seen as a live worker's.
        await self.liveness.register(self.stop)
        tasks = {
            "liveness": asyncio.create_task(self.liveness.run(self.stop), name="liveness"),
            "recovery": asyncio.create_task(self.recovery.run(self.stop), name="recovery"),
            "wakeup": asyncio.create_task(self.wakeup.run(self.stop), name="wakeup"),
            "inbound": asyncio.create_task(self._loop("inbound_events", self._inbound_pass), name="inbound"),
            "messages": asyncio.create_task(self._send_messages(), name="messages"),
            **{
                f"syncs-{n}": asyncio.create_task(self._loop("sync_jobs", self._sync_pass), name=f"syncs-{n}")
                for n in range(self.settings.sync_concurrency)
            },
            "stats": asyncio.create_task(self._stats_loop(), name="stats"),
            "sessions": asyncio.create_task(self._watchdog_loop(), name="sessions"),
            **({"auth_logs": asyncio.create_task(self._auth_logs_loop(), name="auth_logs")} if self.auth_logs else {}),
            **({"rls_logs": asyncio.create_task(self._rls_logs_loop(), name="rls_logs")} if self.rls_logs else {}),
        }
        stopper = asyncio.create_task(self.stop.wait(), name="stop")
        exit_code = 0
        try:
            done, _ = await asyncio.wait({stopper, *tasks.values()}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is stopper:
                    continue
                error = task.exception() if not task.cancelled() else None
                if error is None and self.stop.is_set():
                    continue  # it ended because of the stop, in the same turn of the loop
                exit_code = 1
                logger.error("task {name} stopped unexpectedly: {error}", name=task.get_name(), error=error)
            self.stop.set()
            await self._shutdown(tasks)
        finally:
            stopper.cancel()
            await health.stop()
        logger.info("worker {id} stopped", id=self.settings.worker_id)
        return exit_code

    async def _shutdown(self, tasks: dict[str, asyncio.Task[None]]) -> None:
        """In-flight batches get the grace period to finish; what is left is handed back."""
        pending = [t for t in tasks.values() if not t.done()]
        if pending:
            _, still_running = await asyncio.wait(pending, timeout=self.settings.shutdown_grace_seconds)
            for task in still_running:
                task.cancel()
            await asyncio.gather(*still_running, return_exceptions=True)
        try:
            released_events = await self.inbound.release_in_flight()
            released_messages = await self.messages.release_in_flight()
        except _TRANSIENT as exc:
            # The database is away: the leases bring the events back, and the liveness lock,
            # gone with this process, the messages (checked with WAHA first).
            logger.warning("could not hand back in-flight work: {error}", error=exc)
        else:
            if released_events or released_messages:
                logger.info("handed back {e} events and {m} messages", e=released_events, m=released_messages)
        await self.liveness.close()
