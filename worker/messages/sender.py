"""Sends due guest messages through WAHA.

One pass: claim (claim_messages_v3: at most one message per WhatsApp session, paced in SQL so
the pacing holds across replicas), prepare (prepare_messages_v1: render with the guest's current
data, settle what must no longer go out), then send each concurrently — sessions are
independent, so one slow tenant never holds up another.

Crash safety: a message is `sending` under a lease before the HTTP call. If the worker dies
after WAHA accepted it but before `mark_message_sent_v1` commits, the lease expires, the row is
retried and the guest can get it twice: that window is one HTTP response plus one short
transaction. Every attempt of a message carries the same WhatsApp message key, so a late ack of
the first attempt still matches.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass

import psycopg
from loguru import logger
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from worker import metrics
from worker.messages.store import ClaimedMessage, MessageStore, Outgoing, WahaConnection
from worker.waha import PermanentSendError, SessionUnavailable, WahaClient, WahaError, message_key

# A missing WAHA configuration is retried after this long rather than at once.
_NOT_CONFIGURED_DELAY = 300.0


@dataclass(frozen=True)
class _Target:
    base_url: str
    session_name: str
    api_key: str | None


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
    ) -> None:
        self.store = store
        self.worker_id = worker_id
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.waha = waha
        self.limit = asyncio.Semaphore(concurrency)
        self.in_flight: set[int] = set()

    async def run_batch(self) -> int:
        """Claims and sends one batch; returns how many messages it claimed."""
        started = time.perf_counter()
        claimed = await self.store.claim(self.worker_id, self.batch_size, self.lease_seconds)
        metrics.CLAIM_LATENCY.labels("message_logs").observe(time.perf_counter() - started)
        if not claimed:
            return 0
        self.in_flight.update(m.id for m in claimed)
        try:
            outgoing = {o.id: o for o in await self.store.prepare([m.id for m in claimed], self.worker_id)}
            # Settled by prepare (cancelled, skipped, deferred) are no longer ours.
            self.in_flight.difference_update(m.id for m in claimed if m.id not in outgoing)
            targets = await self._targets({m.tenant_id for m in claimed if m.id in outgoing})
            await asyncio.gather(
                *(self._send(m, outgoing[m.id], targets.get(m.tenant_id)) for m in claimed if m.id in outgoing)
            )
        except asyncio.CancelledError:
            # Shutdown ran out of grace: leave them in in_flight for release_in_flight().
            raise
        except BaseException:
            self.in_flight.difference_update(m.id for m in claimed)
            raise
        self.in_flight.difference_update(m.id for m in claimed)
        return len(claimed)

    async def _targets(self, tenant_ids: set[str]) -> dict[str, WahaConnection]:
        # Read per batch, not cached: a rotated API key or moved WAHA takes effect at once.
        return await self.store.waha_connections(sorted(tenant_ids)) if tenant_ids else {}

    async def _send(self, claimed: ClaimedMessage, message: Outgoing, target: WahaConnection | None) -> None:
        context = {
            "requestId": claimed.request_id,
            "tenantId": claimed.tenant_id,
            "reservationId": claimed.reservation_id,
            "jobId": claimed.job_id,
            "messageId": claimed.id,
        }
        async with self.limit:
            with logger.contextualize(**context):
                if target is None:
                    await self._release(claimed, "WhatsApp is not configured for this hotel", _NOT_CONFIGURED_DELAY)
                    return
                started = time.perf_counter()
                try:
                    sent = await self.waha.send_text(
                        _Target(target.base_url, target.session_name, target.api_key),
                        message.to_phone,
                        message.body,
                        key=message_key(f"{claimed.tenant_id}:{claimed.id}"),
                    )
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
                    await self._mark_sent(claimed, sent.message_id)
                finally:
                    metrics.WAHA_LATENCY.observe(time.perf_counter() - started)

    async def _mark_sent(self, claimed: ClaimedMessage, waha_message_id: str) -> None:
        # WAHA has it: recording that must not be lost to a passing database error, or the
        # lease would expire and the guest get the message twice.
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(psycopg.OperationalError),
            stop=stop_after_attempt(5),
            wait=wait_exponential(multiplier=0.2, max=5),
            reraise=True,
        ):
            with attempt:
                marked = await self.store.mark_sent(claimed.id, self.worker_id, waha_message_id)
        if marked:
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
        ids = sorted(self.in_flight)
        return await self.store.release(ids, self.worker_id, "worker shut down", 0) if ids else 0
