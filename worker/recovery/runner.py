"""The worker's side of a restore recovery (supabase/migrations/20261202007000_restore_recovery.sql).

Every `check_seconds` each worker ticks the database's clock (which opens a recovery by itself
when it finds the database restored, 20261202007100_restore_marker.sql) and asks whether a
recovery is open. A lost database connection (`suspect()`, from the liveness connection) holds
sends until the next check, which runs at once: a restore always cuts the connections. While one is, `sending` is
clear and the sender claims nothing; it is set again once none is. A worker starts with it clear:
nothing is sent before the first answer. One worker leads the recovery (a lease, taken over if it
dies): it waits until the recovery's PMS syncs have ended (the sync tasks of every worker run
them), then reads WAHA's chat history for every due, unsettled message (matching.py) and records
the ones already sent as sent, and ends the recovery.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable

import httpx
import psycopg
from loguru import logger
from psycopg_pool import PoolTimeout

from worker.messages.store import MessageStore, WahaConnection
from worker.recovery.matching import settled_by_history
from worker.recovery.store import Candidate, OpenRecovery, RecoveryStore
from worker.waha import InvalidNumber, WahaClient, WahaError, WahaTransientError, message_key

_TRANSIENT = (psycopg.OperationalError, PoolTimeout, httpx.TransportError, OSError, WahaTransientError)
_PAGE = 1000
_RETRY_SECONDS = 0.5
# Chats asked at once: WAHA answers each from its store; a small number keeps the session calm.
_CONCURRENCY = 16
# Pages of one chat's history: a guest gets a handful of messages a day.
_HISTORY_PAGES = 5


class RestoreRecovery:
    def __init__(
        self,
        store: RecoveryStore,
        messages: MessageStore,
        waha: WahaClient,
        worker_id: str,
        *,
        check_seconds: float,
        lease_seconds: float = 60.0,
        on_resume: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.messages = messages
        self.waha = waha
        self.worker_id = worker_id
        self.check_seconds = check_seconds
        self.lease_seconds = lease_seconds
        self.sending = asyncio.Event()
        self._on_resume = on_resume
        self._held_for: int | None = None
        # The database clock as this worker last saw it: a restored database is behind it.
        self._last_seen: dt.datetime | None = None
        self._check_now = asyncio.Event()
        self._pending_logged = -1

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            wait = self.check_seconds
            try:
                await self.check()
            except _TRANSIENT as exc:
                logger.warning("restore recovery check failed: {error}; sends stay as they were", error=exc)
                wait = min(wait, _RETRY_SECONDS)  # held sends wait for the next good check
            self._check_now.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_first(stop, self._check_now), wait)

    def suspect(self) -> None:
        """The database connection was lost: it may come back restored. Hold sends until checked."""
        self.sending.clear()
        self._check_now.set()

    async def check(self) -> None:
        """One look at the database: open or close the gate, and lead a step of the recovery."""
        self._last_seen, opened = await self.store.tick(self.worker_id, self._last_seen)
        if opened is not None:
            logger.error("the database was restored from a backup: restore recovery {id} opened", id=opened)
        recovery = await self.store.lead(self.worker_id, self.lease_seconds)
        if recovery is None:
            self._held_for = None
            if not self.sending.is_set():
                self.sending.set()
                logger.info("no restore recovery open: sending")
                if self._on_resume is not None:
                    self._on_resume()
            return
        if self._held_for != recovery.id:
            self._held_for = recovery.id
            logger.warning(
                "restore recovery {id} open (since {since}): sends held", id=recovery.id, since=recovery.since
            )
        self.sending.clear()
        if recovery.is_leader:
            await self._lead(recovery)

    async def _lead(self, recovery: OpenRecovery) -> None:
        if not recovery.syncs_done:
            pending, failed = await self.store.syncs(recovery.id)
            if pending:
                if pending != self._pending_logged:
                    logger.info("restore recovery {id}: {n} PMS syncs still running", id=recovery.id, n=pending)
                    self._pending_logged = pending
                return
            if failed:
                logger.error(
                    "restore recovery {id}: {n} PMS syncs failed; sync them again by hand (ops sync)",
                    id=recovery.id,
                    n=failed,
                )
            logger.info("restore recovery {id}: every PMS synced over the gap", id=recovery.id)
        started = time.perf_counter()
        checked, already_sent, unverifiable = await self._reconcile(recovery)
        finished = await self.store.finish(
            recovery.id, self.worker_id, checked=checked, already_sent=already_sent, unverifiable=unverifiable
        )
        if finished:
            logger.info(
                "restore recovery {id} done in {s:.1f}s: {checked} due messages checked with WAHA, "
                "{sent} already sent (recorded, not resent), {unverifiable} unverifiable",
                id=recovery.id,
                s=time.perf_counter() - started,
                checked=checked,
                sent=already_sent,
                unverifiable=unverifiable,
            )
            await self.check()

    async def _reconcile(self, recovery: OpenRecovery) -> tuple[int, int, int]:
        since = recovery.since.timestamp()
        checked = already_sent = unverifiable = 0
        after = 0
        limit = asyncio.Semaphore(_CONCURRENCY)
        while batch := await self.store.candidates(after, _PAGE):
            after = batch[-1].id
            chats: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
            for candidate in batch:
                chats[(candidate.tenant_id, candidate.to_phone)].append(candidate)
            connections = await self.messages.waha_connections(sorted({c.tenant_id for c in batch}))

            results = await asyncio.gather(
                *(
                    self._limited(limit, recovery.id, connections.get(tenant), phone, due, since)
                    for (tenant, phone), due in chats.items()
                )
            )
            checked += len(batch)
            already_sent += sum(r[0] for r in results)
            unverifiable += sum(r[1] for r in results)
            await self.store.lead(self.worker_id, self.lease_seconds)  # still ours
        return checked, already_sent, unverifiable

    async def _limited(
        self,
        limit: asyncio.Semaphore,
        recovery_id: int,
        target: WahaConnection | None,
        phone: str,
        due: list[Candidate],
        since: float,
    ) -> tuple[int, int]:
        async with limit:
            return await self._chat(recovery_id, target, phone, due, since)

    async def _chat(
        self, recovery_id: int, target: WahaConnection | None, phone: str, due: list[Candidate], since: float
    ) -> tuple[int, int]:
        """(settled as already sent, unverifiable) for one guest's due messages."""
        if target is None:
            return 0, 0  # no WhatsApp configured: nothing can have been sent
        try:
            chat_id = await self.waha.chat_id(target, phone)
            history = await self.waha.sent_history(target, chat_id, since_epoch=since, pages=_HISTORY_PAGES)
        except InvalidNumber:
            return 0, 0  # never sendable: the sender dead-letters it
        except WahaTransientError:
            raise  # the pass is run again
        except WahaError as exc:
            # The session is away or refuses us: what it sent cannot be read now. Sent later, once,
            # after the sender's own check by key.
            logger.warning("restore recovery: WAHA cannot say what {chat} got: {error}", chat=phone, error=exc)
            return 0, await self.store.mark_unverifiable([c.id for c in due])
        if history is None:
            return 0, await self.store.mark_unverifiable([c.id for c in due])
        waha_ids = [m.serialized_id(chat_id, m.id) for m in history.messages]
        recorded = await self.store.recorded(due[0].tenant_id, waha_ids) if waha_ids else set()
        found = settled_by_history(
            due,
            history.messages,
            chat_id=chat_id,
            key_of=lambda c: message_key(f"{c.tenant_id}:{c.id}"),
            recorded=recorded,
            now_epoch=time.time(),
        )
        settled = await self.store.settle(recovery_id, found) if found else 0
        return settled, 0


async def _first(a: asyncio.Event, b: asyncio.Event) -> None:
    waits = {asyncio.ensure_future(a.wait()), asyncio.ensure_future(b.wait())}
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
