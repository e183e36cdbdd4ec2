"""Works off the inbound event queue: claim a batch under a lease, handle each event, then
complete the batch in one statement and record each failure for retry or dead-letter."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable

import psycopg
from loguru import logger

from worker import metrics
from worker.errors import WorkerError
from worker.inbound import handlers
from worker.inbound.store import ClaimedEvent, InboundStore

# Database errors that come from the data, not from the connection: retrying cannot help.
_PERMANENT_DB_ERRORS = (psycopg.errors.DataError, psycopg.errors.IntegrityError, psycopg.errors.NoDataFound)


class InboundProcessor:
    def __init__(
        self,
        store: InboundStore,
        worker_id: str,
        *,
        batch_size: int,
        lease_seconds: float,
        retry_base: dt.timedelta,
        retry_max: dt.timedelta,
        concurrency: int = 8,
        wake_senders: Callable[[], None] | None = None,
    ) -> None:
        """`wake_senders` is called after a batch that changed reservations: their upserts plan
        messages without notifying (upsert_reservation_v2), so the sender is woken in-process."""
        self.store = store
        self.worker_id = worker_id
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.limit = asyncio.Semaphore(concurrency)
        self.in_flight: set[int] = set()
        self.wake_senders = wake_senders

    async def run_batch(self) -> int:
        """Claims and handles one batch; returns how many events it claimed."""
        started = time.perf_counter()
        events = await self.store.claim(self.worker_id, self.batch_size, self.lease_seconds)
        metrics.CLAIM_LATENCY.labels("inbound_events").observe(time.perf_counter() - started)
        if not events:
            return 0
        self.in_flight.update(e.id for e in events)
        try:
            outcomes = await asyncio.gather(*(self._handle(e) for e in events))
            done: dict[str, list[int]] = defaultdict(list)
            reservations_changed = False
            for event, outcome in zip(events, outcomes, strict=True):
                if outcome is not None:
                    done[outcome].append(event.id)
                    metrics.EVENTS_PROCESSED.labels(event.source, outcome).inc()
                    reservations_changed |= event.source == "pms" and outcome == "succeeded"
            if reservations_changed and self.wake_senders is not None:
                self.wake_senders()  # the upserts are committed: their messages can be claimed
            for status, ids in done.items():
                await self.store.complete(ids, self.worker_id, status)
        except asyncio.CancelledError:
            # Shutdown ran out of grace: leave them in in_flight for release_in_flight().
            raise
        except BaseException:
            self.in_flight.difference_update(e.id for e in events)
            raise
        self.in_flight.difference_update(e.id for e in events)
        return len(events)

    async def _handle(self, event: ClaimedEvent) -> handlers.Outcome | None:
        """The outcome to complete the event with, or None when the failure was recorded."""
        async with self.limit:
            with logger.contextualize(requestId=event.request_id, tenantId=event.tenant_id, eventId=event.id):
                try:
                    return await handlers.handle(self.store, event)
                except WorkerError as exc:
                    await self._fail(event, f"{type(exc).__name__}: {exc}", exc.retryable)
                except psycopg.errors.TransactionRollback as exc:
                    # A deadlock or serialization conflict with a concurrent writer: try again.
                    await self._fail(event, f"database conflict, retrying: {exc.diag.message_primary or exc}", True)
                except psycopg.errors.UniqueViolation as exc:
                    # Two writers of one new row (a booking's "created" and "updated" moments
                    # apart): the other one has committed by now, so a retry finds its row.
                    await self._fail(event, f"written concurrently, retrying: {exc.diag.message_primary or exc}", True)
                except _PERMANENT_DB_ERRORS as exc:
                    await self._fail(event, f"rejected by the database: {exc.diag.message_primary or exc}", False)
                except Exception as exc:
                    # Unknown failures are retried; max_attempts bounds a poison event.
                    logger.exception("unexpected error handling event {id}", id=event.id)
                    await self._fail(event, f"{type(exc).__name__}: {exc}", True)
                return None

    async def _fail(self, event: ClaimedEvent, error: str, retryable: bool) -> None:
        status = await self.store.fail(event.id, self.worker_id, error, retryable, self.retry_base, self.retry_max)
        metrics.EVENTS_FAILED.labels(event.source, "dead" if status == "dead" else "retry").inc()
        log = logger.error if status == "dead" else logger.warning
        log(
            "event {event_type} {outcome}: {error}",
            event_type=event.event_type,
            outcome="dead-lettered" if status == "dead" else "will be retried",
            error=error,
        )

    async def release_in_flight(self) -> int:
        """On shutdown: hands back claimed events not yet finished (attempts not counted)."""
        ids = sorted(self.in_flight)
        return await self.store.release(ids, self.worker_id) if ids else 0
