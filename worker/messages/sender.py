"""Sends due guest messages through WAHA.

A claim (claim_messages_v4: at most one message per WhatsApp session, paced in SQL so the pacing
holds across replicas) takes as many due messages as there are free send slots, including those
of sessions whose gap ends within the look-ahead; prepare
(prepare_messages_v1) renders them with the guest's current data and settles what must no longer
go out; each is then sent on its own task. Sessions are independent, so one slow tenant never
holds up another, and the next claim does not wait for the previous one's sends. A message
claimed ahead has its number checked at once and its sendText held until the gap ends, so a
session's cycle is gap + sendText, not gap + claim + check + sendText. Sends WAHA accepted are
recorded in batches (recorder.py); the session's gap runs from WAHA's answer.

A message is rendered when claimed, so a change (or cancellation) in the short time before its
sendText - the look-ahead plus one number check - is not seen by that send.

Crash safety: a message is `sending` under a lease before the HTTP call. If the worker dies,
its liveness lock (worker/liveness.py) goes with its connection and another worker takes the
message back within seconds, in its place at the head of its session's queue, marked
send_uncertain: WAHA may have accepted it just before the crash. Such a message is sent only
after asking WAHA for the chat's recent messages: found there (every attempt carries the same
WhatsApp message key), it is recorded as sent without sending it again. An engine that keeps no
history (NOWEB without its store, GOWS without message storage) cannot say; the message is sent
again and counted in worker_possible_duplicate_sends.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

from loguru import logger

from worker import metrics
from worker.liveness import Liveness
from worker.messages.recorder import SendRecorder
from worker.messages.store import ClaimedMessage, MessageStore, Outgoing, WahaConnection
from worker.messages.wake_timer import SoonestTimer
from worker.waha import PermanentSendError, SentText, SessionUnavailable, WahaClient, WahaError, message_key

# A missing WAHA configuration is retried after this long rather than at once.
_NOT_CONFIGURED_DELAY = 300.0


@dataclass(frozen=True)
class _Target:
    base_url: str
    session_name: str
    api_key: str | None


async def _first_of(event: asyncio.Event, other: asyncio.Event | None) -> None:
    if other is None:
        await event.wait()
        return
    waits = {asyncio.ensure_future(event.wait()), asyncio.ensure_future(other.wait())}
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


class MessageSender:
    def __init__(
        self,
        store: MessageStore,
        waha: WahaClient,
        worker_id: str,
        *,
        batch_size: int,
        lease_seconds: float,
        concurrency: int,
        retry_base: dt.timedelta,
        retry_max: dt.timedelta,
        lookahead: float = 0.0,
        wake: Callable[[], None] | None = None,
        liveness: Liveness | None = None,
        sending: asyncio.Event | None = None,
    ) -> None:
        """`lookahead`: claim a session's next message this many seconds before its gap ends, so
        the number check runs during the gap. `wake` is called when a session this worker paced
        may be claimed again (the loop's wake-up). `liveness`: claim only while this worker's
        liveness lock is held, and re-check a claim that outlived a lost connection. `sending`:
        claim only while it is set (clear while a restore recovery is open, worker/recovery)."""
        self.store = store
        self.worker_id = worker_id
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.waha = waha
        self.concurrency = concurrency
        self.lookahead = lookahead
        self.liveness = liveness
        self.sending = sending
        # Claims this worker may have lost track of (a claim whose answer never came, a batch
        # that failed to render): handed back before the next claim. The liveness epoch it
        # last swept at; a new epoch means a lost connection, so sweep again.
        self._swept_epoch = -1
        self._sweep_needed = False
        # Claimed and not yet settled (sent, failed, handed back): what shutdown hands back.
        self.in_flight: set[int] = set()
        # Of those, the ones whose sendText has started: WAHA may have them, so they are never
        # handed back as unsent (the stop's deregistration takes them back in doubt instead).
        self.posting: set[int] = set()
        self.sends: set[asyncio.Task[None]] = set()
        # Claim again once a quarter of the slots is free, not for every single one.
        self._low_water = max(1, min(batch_size, concurrency) // 4)
        self._room = asyncio.Event()
        self._room.set()
        self._wake_timer = SoonestTimer(wake) if wake is not None else None
        self.recorder = SendRecorder(store, worker_id, on_paced=self._wake_when_ready)

    @property
    def free_slots(self) -> int:
        return self.concurrency - len(self.in_flight)

    async def pump(self, stop: asyncio.Event | None = None) -> bool:
        """Claims as many due messages as there are free send slots and starts sending them,
        without waiting for the sends. Returns whether more may be due right now; claims nothing
        once `stop` is set (SIGTERM: stop claiming, let the sends finish)."""
        while self.free_slots < self._low_water and not (stop and stop.is_set()):
            self._room.clear()
            await _first_of(self._room, stop)
        if self.liveness is not None and not self.liveness.held.is_set() and not (stop and stop.is_set()):
            # Others may be taking this worker's sends back: claim nothing until the lock is ours.
            await _first_of(self.liveness.held, stop)
        if self.sending is not None and not self.sending.is_set() and not (stop and stop.is_set()):
            # A restore recovery is open, or not yet ruled out: nothing goes out until it ends.
            await _first_of(self.sending, stop)
        if stop is not None and stop.is_set():
            return False
        limit = min(self.batch_size, self.free_slots)
        return await self._start(limit) >= limit

    async def run_batch(self) -> int:
        """Claims one batch and sends all of it (burst mode and tests); returns how many it claimed."""
        claimed = await self._start(min(self.batch_size, max(1, self.free_slots)))
        await self.finish()
        return claimed

    async def finish(self, *, raise_errors: bool = True) -> None:
        """Waits for every send started so far to be settled. Errors of the sends are raised
        (else only logged, as they happen); if this is cancelled, so are the sends, and their
        messages stay in in_flight for release_in_flight()."""
        try:
            while self.sends:
                await asyncio.gather(*self.sends, return_exceptions=not raise_errors)
            await self.recorder.idle()
        except asyncio.CancelledError:
            for task in self.sends:
                task.cancel()
            raise

    async def _sweep_orphans(self, epoch: int) -> None:
        """Runs between claims (pump and run_batch are never concurrent), so every claim this
        worker still knows of is in in_flight."""
        if not self._sweep_needed and (self.liveness is None or epoch == self._swept_epoch):
            return
        taken_back = await self.store.take_back_orphans(self.worker_id, sorted(self.in_flight))
        self._sweep_needed, self._swept_epoch = False, epoch
        if taken_back:
            logger.warning("handed back {n} claims this worker had lost track of", n=taken_back)

    async def _start(self, limit: int) -> int:
        started = time.perf_counter()
        epoch = self.liveness.epoch if self.liveness is not None else 0
        try:
            await self._sweep_orphans(epoch)
        except BaseException:
            self._sweep_needed = True
            raise
        grace = self.liveness.grace_seconds if self.liveness is not None else 1.5
        try:
            claimed = await self.store.claim(self.worker_id, limit, self.lease_seconds, self.lookahead, grace)
        except BaseException:
            self._sweep_needed = True  # it may have committed without our hearing of it
            raise
        # The database said how long each session's gap still runs when it answered; counting
        # from now, after the answer travelled, can only make the wait longer, never shorter.
        claimed_at = time.monotonic()
        metrics.CLAIM_LATENCY.labels("message_logs").observe(time.perf_counter() - started)
        if not claimed:
            return 0
        ids = [m.id for m in claimed]
        self.in_flight.update(ids)
        try:
            outgoing = {o.id: o for o in await self.store.prepare(ids, self.worker_id)}
            # Settled by prepare (cancelled, skipped, deferred) are no longer ours.
            self.in_flight.difference_update(i for i in ids if i not in outgoing)
            targets = await self._targets({m.tenant_id for m in claimed if m.id in outgoing})
        except asyncio.CancelledError:
            # Shutdown ran out of grace: leave them in in_flight for release_in_flight().
            raise
        except BaseException:
            # Not started: the next claim hands them back first.
            self.in_flight.difference_update(ids)
            self._sweep_needed = True
            raise
        for message in claimed:
            if message.id in outgoing:
                not_before = claimed_at + message.send_in_ms / 1000.0
                task = asyncio.create_task(
                    self._send(message, outgoing[message.id], targets.get(message.tenant_id), not_before, epoch)
                )
                self.sends.add(task)
                task.add_done_callback(functools.partial(self._settled, message.id))
        return len(claimed)

    def _settled(self, message_id: int, task: asyncio.Task[None]) -> None:
        self.sends.discard(task)
        if task.cancelled():
            return  # shutdown: stays in in_flight to be handed back
        self.in_flight.discard(message_id)
        self.posting.discard(message_id)
        if self.free_slots >= self._low_water:
            self._room.set()
        error = task.exception()
        if error is not None:
            # Its row stays `sending` until the lease runs out, then is retried.
            logger.opt(exception=error).error("message {id} could not be settled: {error}", id=message_id, error=error)

    def _wake_when_ready(self, seconds: float) -> None:
        """Wakes the loop when the soonest session this worker paced may be claimed again."""
        if self._wake_timer is not None:
            self._wake_timer.schedule(seconds - self.lookahead)

    async def _targets(self, tenant_ids: set[str]) -> dict[str, WahaConnection]:
        # Read per batch, not cached: a rotated API key or moved WAHA takes effect at once.
        return await self.store.waha_connections(sorted(tenant_ids)) if tenant_ids else {}

    async def _send(
        self,
        claimed: ClaimedMessage,
        message: Outgoing,
        target: WahaConnection | None,
        not_before: float,
        epoch: int = 0,
    ) -> None:
        """Checks the number at once, then waits until `not_before` (time.monotonic(): the end of
        the session's gap) to send."""
        context = {
            "requestId": claimed.request_id,
            "tenantId": claimed.tenant_id,
            "reservationId": claimed.reservation_id,
            "jobId": claimed.job_id,
            "messageId": claimed.id,
        }
        with logger.contextualize(**context):
            if target is None:
                await self._release(claimed, "WhatsApp is not configured for this hotel", _NOT_CONFIGURED_DELAY)
                return
            session = _Target(target.base_url, target.session_name, target.api_key)
            try:
                chat_id = await self.waha.chat_id(session, message.to_phone)
                await asyncio.sleep(max(0.0, not_before - time.monotonic()))
                if not await self._still_ours(claimed, epoch):
                    logger.warning("message was taken over by another worker while this one was cut off")
                    return
                key = message_key(f"{claimed.tenant_id}:{claimed.id}")
                if claimed.send_uncertain and await self._already_sent(claimed, session, chat_id, key):
                    return
                self.posting.add(claimed.id)
                sent = await self._post(session, chat_id, message.body, key)
            except SessionUnavailable as exc:
                await self.store.pause_tenant(claimed.tenant_id, f"session: {exc}")
                await self._release(claimed, str(exc))
                metrics.MESSAGES_FAILED.labels("session_unavailable").inc()
            except WahaError as exc:
                if exc.pauses_tenant:
                    await self.store.pause_tenant(claimed.tenant_id, f"auth: {exc}")
                    await self._release(claimed, str(exc))
                    metrics.MESSAGES_FAILED.labels("configuration").inc()
                else:
                    await self._fail(claimed, exc)
            else:
                await self._mark_sent(claimed, sent.message_id, time.monotonic())

    async def _still_ours(self, claimed: ClaimedMessage, epoch: int) -> bool:
        """Whether the claim still holds: always, unless this worker's liveness connection was
        lost since the claim - then once the lock is back, the database says."""
        if self.liveness is None or epoch == self.liveness.epoch:
            return True
        await self.liveness.held.wait()
        return claimed.id in await self.store.leased([claimed.id], self.worker_id)

    async def _already_sent(self, claimed: ClaimedMessage, session: _Target, chat_id: str, key: str) -> bool:
        """An earlier attempt was cut off mid-send: asks WAHA whether the chat has it. True when
        it does (it is recorded as sent); False when it must be sent (now)."""
        lookup = await self.waha.find_sent(session, chat_id, key, since_epoch=claimed.created_epoch)
        if not lookup.known:
            metrics.SENDS_SETTLED_WITH_WAHA.labels("cannot_tell").inc()
            metrics.POSSIBLE_DUPLICATES.inc()
            logger.warning("a cut-off send is sent again; this WhatsApp engine cannot say whether it got through")
            return False
        if lookup.message_id is None:
            metrics.SENDS_SETTLED_WITH_WAHA.labels("not_sent").inc()
            return False
        metrics.SENDS_SETTLED_WITH_WAHA.labels("already_sent").inc()
        logger.info("a cut-off send had reached WAHA ({id}); recorded, not sent again", id=lookup.message_id)
        await self._mark_sent(claimed, lookup.message_id, time.monotonic())
        return True

    async def _post(self, session: _Target, chat_id: str, body: str, key: str) -> SentText:
        started = time.perf_counter()
        try:
            return await self.waha.post_text(session, chat_id, body, key=key)
        finally:
            metrics.WAHA_LATENCY.observe(time.perf_counter() - started)

    async def _mark_sent(self, claimed: ClaimedMessage, waha_message_id: str, accepted_at: float) -> None:
        if await self.recorder.record(claimed.id, waha_message_id, accepted_at) is not None:
            metrics.MESSAGES_SENT.inc()
            logger.info("message sent ({id})", id=waha_message_id)
        else:
            logger.warning("message was sent but its lease had expired; it may be sent twice")

    async def _fail(self, claimed: ClaimedMessage, exc: WahaError) -> None:
        retryable = not isinstance(exc, PermanentSendError)
        base = self.retry_base
        if exc.retry_after:
            base = max(base, dt.timedelta(seconds=exc.retry_after))
        status = await self.store.fail(claimed.id, self.worker_id, str(exc), retryable, base, self.retry_max)
        reason = type(exc).__name__ if status != "dead" else "dead"
        metrics.MESSAGES_FAILED.labels(reason).inc()
        if status == "dead":
            logger.error("message dead-lettered: {error}", error=exc)
        else:
            logger.warning("message send failed, will retry: {error}", error=exc)

    async def _release(self, claimed: ClaimedMessage, reason: str, delay: float = 0) -> None:
        await self.store.release([claimed.id], self.worker_id, reason, delay)
        logger.warning("message held back: {reason}", reason=reason)

    async def release_in_flight(self) -> int:
        ids = sorted(self.in_flight - self.posting)
        return await self.store.release(ids, self.worker_id, "worker shut down", 0) if ids else 0
