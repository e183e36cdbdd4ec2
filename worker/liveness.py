"""This worker's liveness, as the database sees it, and the takeover of dead workers' sends.

The worker keeps one connection of its own that holds a session-level advisory lock
(register_worker_v1). A SIGKILL closes the socket, PostgreSQL ends the backend and the lock is
free at once; a worker that is only slow keeps it. Every `probe_seconds` this connection runs
reclaim_dead_workers_v1, which takes back the sends and the inbound events of workers whose lock
has stayed free for the grace period, and the queues are woken for them. The same query tells this worker when its own
connection is gone (a database restart, pg_terminate_backend): then `epoch` moves on, the sender
stops claiming, and a message claimed before is sent only if it is still leased to this worker
once the lock is held again (`held` and leased_messages_v1) - another worker may have taken it
over meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable

import psycopg
from loguru import logger
from psycopg.rows import DictRow, dict_row

from worker import metrics
from worker.db.queries import load

_RETRY_SECONDS = 0.25


class Liveness:
    def __init__(
        self,
        database_url: str,
        worker_id: str,
        *,
        grace_seconds: float,
        probe_seconds: float,
        on_reclaimed: Callable[[int, int], None] | None = None,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        self.database_url = database_url
        self.worker_id = worker_id
        self.grace_seconds = grace_seconds
        self.probe_seconds = probe_seconds
        self.incarnation = uuid.uuid4()
        # Moves on each time the lock is lost: a claim made under an older epoch is checked again.
        self.epoch = 0
        self.held = asyncio.Event()
        self._on_reclaimed = on_reclaimed
        # Told when the connection is lost (the restore recovery holds sends until it has looked).
        self._on_lost = on_lost
        self._conn: psycopg.AsyncConnection[DictRow] | None = None
        self._sql = load("liveness")

    async def register(self, stop: asyncio.Event | None = None) -> None:
        """Connects and takes the lock, retrying until it is held (or `stop` is set)."""
        while not (stop is not None and stop.is_set()):
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self.database_url,
                    autocommit=True,
                    row_factory=dict_row,
                    application_name="worker-liveness",
                    connect_timeout=5,
                )
            except psycopg.OperationalError as exc:
                logger.warning("liveness connection failed: {error}", error=exc)
                await asyncio.sleep(_RETRY_SECONDS)
                continue
            try:
                cur = await conn.execute(
                    self._sql["register"], {"worker": self.worker_id, "incarnation": self.incarnation}
                )
                row = await cur.fetchone()
            except psycopg.OperationalError as exc:
                logger.warning("liveness registration failed: {error}", error=exc)
                await conn.close()
                await asyncio.sleep(_RETRY_SECONDS)
                continue
            if row is None or not row["registered"]:
                # The previous connection's backend still holds the lock (it is on its way out).
                await conn.close()
                await asyncio.sleep(_RETRY_SECONDS)
                continue
            self._conn = conn
            self.held.set()
            logger.info("liveness lock held (epoch {epoch})", epoch=self.epoch)
            return

    async def run(self, stop: asyncio.Event) -> None:
        """Probes until `stop`; reconnects when the connection is lost."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.probe_seconds)
            if stop.is_set():
                break
            if self._conn is None:
                await self.register(stop)
                continue
            try:
                cur = await self._conn.execute(
                    self._sql["reclaim"], {"worker": self.worker_id, "grace_seconds": self.grace_seconds}
                )
                row = await cur.fetchone()
            except psycopg.OperationalError as exc:
                await self._lost(exc)
                continue
            messages = int(row["messages"]) if row else 0
            events = int(row["events"]) if row else 0
            if messages or events:
                metrics.MESSAGES_TAKEN_OVER.inc(messages)
                logger.warning("took back {m} sends and {e} events of dead workers", m=messages, e=events)
                if self._on_reclaimed is not None:
                    self._on_reclaimed(messages, events)

    async def _lost(self, exc: BaseException) -> None:
        self.held.clear()
        self.epoch += 1
        if self._on_lost is not None:
            self._on_lost()
        logger.warning("liveness connection lost ({error}); sends wait until it is back", error=exc)
        conn, self._conn = self._conn, None
        if conn is not None:
            await _close_quietly(conn)

    async def close(self) -> None:
        """A clean stop: the row and the lock go; whatever is still out is taken back."""
        conn, self._conn = self._conn, None
        self.held.clear()
        if conn is None:
            return
        try:
            cur = await conn.execute(
                self._sql["deregister"], {"worker": self.worker_id, "incarnation": self.incarnation}
            )
            row = await cur.fetchone()
            if row and row["taken_back"]:
                logger.warning("{n} sends were still out at stop; they will be checked with WAHA", n=row["taken_back"])
        except psycopg.Error as exc:
            logger.warning("could not deregister: {error}", error=exc)
        await _close_quietly(conn)


async def _close_quietly(conn: psycopg.AsyncConnection[DictRow]) -> None:
    with contextlib.suppress(Exception):
        await conn.close()
