"""The PMS sync job runner: claims one `sync_jobs` row, runs it, records what it learnt.

Entry point for the worker loop: `run_next_job(pool, http, worker_id)`, called again and again
(True: it ran a job, call again at once; False: nothing due, wait for a `sync_jobs` NOTIFY or the
poll interval). `schedule_due_syncs(pool)` does what pg_cron does every minute, for deployments
without pg_cron.

A run, by kind:
- reservation: fetch the reservation a thin webhook named (plus every other reservation job of
  the configuration waiting at that moment, merged into this run), upsert it.
- incremental: list what the PMS modified in [cursor - overlap, job start), page by page,
  upsert each page in one database call; on success the cursor moves to the job's start.
- full: the same over the last `full_lookback` (first connection, or on demand).

Whatever happens, the run ends through internal.finish_pms_sync_v1, which in one transaction
stores the counts, moves the cursor (success only) and the configuration's health:
401/403 -> failing and paused with the PMS's reason; timeouts, 5xx, long 429s -> failing
(unreachable); any answer -> ok, which after a failure triggers the recovery sync in SQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
import psycopg
from loguru import logger
from psycopg_pool import AsyncConnectionPool

from worker import metrics
from worker.errors import ConfigurationError, PayloadError, TransientError, WorkerError
from worker.pms.base import BatchFetchingAdapter, CanonicalReservation, Page, PmsAdapter, PmsConnection
from worker.pms.http import NotFound, RequestRejected
from worker.pms.mapping import NotABooking
from worker.pms.registry import AdapterRegistry, default_registry
from worker.sync.store import PmsOutcome, SyncJob, SyncStore, SyncTarget, UpsertResult


@dataclass(frozen=True)
class SyncSettings:
    lease: dt.timedelta = dt.timedelta(minutes=5)
    # An incremental sync starts this long before the cursor: vendor clocks and indexes lag.
    overlap: dt.timedelta = dt.timedelta(minutes=10)
    # How far back a full sync (and a first incremental one) looks for modified reservations.
    full_lookback: dt.timedelta = dt.timedelta(days=730)
    # Reservation jobs of the same configuration merged into one run.
    merge_limit: int = 100
    # Reservations per upsert call: a page in a few short statements, each far from the
    # pool's statement_timeout even when every insert plans messages (trigger per row).
    upsert_batch: int = 50
    # Reasons quoted in a job's error when some reservations could not be stored.
    error_examples: int = 5

    @property
    def heartbeat_seconds(self) -> float:
        return max(self.lease.total_seconds() / 3, 1.0)


@dataclass
class Counts:
    pages: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, results: list[UpsertResult]) -> None:
        for r in results:
            if r.outcome == "created":
                self.created += 1
            elif r.outcome == "updated":
                self.updated += 1
            elif r.outcome in ("unchanged", "stale"):
                # stale: the database already holds a newer version (a webhook was faster).
                self.unchanged += 1
            else:
                self.fail(r.pms_reservation_id or "?", r.error or r.outcome)

    def fail(self, pms_reservation_id: str, reason: str) -> None:
        self.failed += 1
        self.failures.append(f"{pms_reservation_id}: {reason}")

    def summary(self, examples: int) -> str | None:
        if not self.failed:
            return None
        shown = "; ".join(self.failures[:examples])
        more = f" (and {self.failed - examples} more)" if self.failed > examples else ""
        return f"{self.failed} reservation(s) not stored: {shown}{more}"

    def as_json(self, cursor_from: dt.datetime | None, cursor_to: dt.datetime | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "pages": self.pages,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
        }
        if cursor_from is not None:
            body["cursor_from"] = cursor_from.isoformat()
        if cursor_to is not None:
            body["cursor_to"] = cursor_to.isoformat()
        return body


@dataclass
class Result:
    succeeded: bool
    counts: Counts
    error: str | None = None
    pms_outcome: PmsOutcome | None = None
    window: tuple[dt.datetime, dt.datetime] | None = None


# ------------------------------------------------------------------------------------------------
# Entry points
# ------------------------------------------------------------------------------------------------
async def run_next_job(
    pool: AsyncConnectionPool[Any],
    http: httpx.AsyncClient,
    worker_id: str,
    *,
    settings: SyncSettings | None = None,
    registry: AdapterRegistry | None = None,
) -> bool:
    """Claims one due sync job and runs it to its end; False when nothing was due.

    Jobs of one configuration never run at the same time (the claim skips configurations with
    a running job), so several workers, or several concurrent calls in one worker, are safe.
    """
    store = SyncStore(pool)
    chosen = settings or SyncSettings()
    job = await store.claim_job(worker_id, chosen.lease)
    if job is None:
        return False
    await run_job(store, http, worker_id, job, chosen, registry or default_registry())
    return True


async def schedule_due_syncs(pool: AsyncConnectionPool[Any]) -> int:
    """Enqueues the incremental syncs that are due (what pg_cron runs every minute)."""
    return await SyncStore(pool).schedule()


async def run_job(
    store: SyncStore,
    http: httpx.AsyncClient,
    worker_id: str,
    job: SyncJob,
    settings: SyncSettings,
    registry: AdapterRegistry,
) -> None:
    with logger.contextualize(jobId=job.id, tenantId=job.tenant_id, requestId=job.request_id):
        started = time.monotonic()
        logger.info(
            "sync {kind} ({trigger}) started, attempt {attempt}",
            kind=job.kind,
            trigger=job.trigger,
            attempt=job.attempts,
        )
        work = asyncio.create_task(_execute(store, http, worker_id, job, settings, registry))
        lease_lost = asyncio.Event()
        beat = asyncio.create_task(_keep_lease(store, worker_id, job, settings, work, lease_lost))
        try:
            result = await work
        except asyncio.CancelledError:
            if lease_lost.is_set():
                logger.warning("sync abandoned: the job's lease was lost (another worker may take it)")
                return
            # The worker is stopping: give the job back instead of leaving it to the lease.
            with contextlib.suppress(psycopg.Error):
                await asyncio.shield(store.release(job.id, worker_id))
            raise
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat

        cursor_from, cursor_to = result.window or (None, None)
        finished = await store.finish(
            job.id,
            worker_id,
            succeeded=result.succeeded,
            counts=result.counts.as_json(cursor_from, cursor_to),
            error=result.error,
            pms_outcome=result.pms_outcome,
            cursor=cursor_to if result.succeeded and job.kind != "reservation" else None,
        )
        seconds = time.monotonic() - started
        metrics.SYNC_DURATION.labels(job.kind, "succeeded" if result.succeeded else "failed").observe(seconds)
        c = result.counts
        log = logger.info if result.succeeded else logger.error
        log(
            "sync {kind} {outcome} in {seconds:.2f}s: {pages} pages, {created} created, {updated} updated, "
            "{unchanged} unchanged, {failed} failed{error}",
            kind=job.kind,
            outcome="succeeded" if result.succeeded else "failed",
            seconds=seconds,
            pages=c.pages,
            created=c.created,
            updated=c.updated,
            unchanged=c.unchanged,
            failed=c.failed,
            error=f" ({result.error})" if result.error else "",
        )
        if not finished:
            logger.warning("sync result not recorded: the job's lease had already expired")


async def _keep_lease(
    store: SyncStore,
    worker_id: str,
    job: SyncJob,
    settings: SyncSettings,
    work: asyncio.Task[Result],
    lease_lost: asyncio.Event,
) -> None:
    while not work.done():
        await asyncio.sleep(settings.heartbeat_seconds)
        try:
            held = await store.heartbeat(job.id, worker_id, settings.lease)
        except psycopg.Error as exc:
            # The lease is still good until it expires; the next beat tries again.
            logger.warning("sync heartbeat failed: {error}", error=exc)
            continue
        if not held:
            lease_lost.set()
            work.cancel()
            return


# ------------------------------------------------------------------------------------------------
# One run
# ------------------------------------------------------------------------------------------------
async def _execute(
    store: SyncStore,
    http: httpx.AsyncClient,
    worker_id: str,
    job: SyncJob,
    settings: SyncSettings,
    registry: AdapterRegistry,
) -> Result:
    counts = Counts()
    target = await store.target(job.pms_configuration_id)
    if target is None:
        return Result(False, counts, "the PMS configuration no longer exists")
    if not target.is_active:
        return Result(False, counts, "the PMS configuration is switched off")
    # Paused after the PMS rejected the credentials: only a person asking ("Sync now") tries again.
    if target.sync_paused_reason and job.trigger != "manual":
        return Result(False, counts, f"not attempted, syncs are paused: {target.sync_paused_reason}")

    try:
        adapter = registry.adapter_for(target.connection.provider)
        if job.kind == "reservation":
            return await _sync_reservations(store, http, worker_id, job, settings, adapter, target, counts)
        return await _sync_window(store, http, job, settings, adapter, target, counts)
    except NotABooking as exc:
        # An inquiry or option, not (yet) a booking: nothing to store, nothing wrong.
        return Result(True, counts, f"skipped: {exc}", "ok")
    except ConfigurationError as exc:
        return Result(False, counts, str(exc), "rejected")
    except TransientError as exc:
        return Result(False, counts, str(exc), "unreachable")
    except NotFound as exc:
        counts.fail(job.pms_reservation_id or "?", str(exc))
        return Result(False, counts, str(exc), "ok")
    except (PayloadError, RequestRejected) as exc:
        if job.kind == "reservation":
            counts.fail(job.pms_reservation_id or "?", str(exc))
        return Result(False, counts, str(exc))
    except psycopg.Error:
        # The database is in trouble: leave the job to its lease (it is retried after it).
        raise
    except WorkerError as exc:
        return Result(False, counts, f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        logger.exception("sync failed unexpectedly")
        return Result(False, counts, f"internal error: {type(exc).__name__}: {exc}")


async def _store_page(
    store: SyncStore,
    job: SyncJob,
    settings: SyncSettings,
    reservations: list[CanonicalReservation],
    counts: Counts,
    request_id: str | None,
) -> None:
    size = max(settings.upsert_batch, 1)
    for start in range(0, len(reservations), size):
        results = await store.upsert_reservations(job.tenant_id, reservations[start : start + size], request_id, job.id)
        counts.add(results)


async def _sync_reservations(
    store: SyncStore,
    http: httpx.AsyncClient,
    worker_id: str,
    job: SyncJob,
    settings: SyncSettings,
    adapter: PmsAdapter,
    target: SyncTarget,
    counts: Counts,
) -> Result:
    assert job.pms_reservation_id is not None
    merged = await store.absorb_reservation_jobs(job.id, worker_id, settings.merge_limit)
    if merged:
        logger.info("{n} more reservation jobs merged into this run", n=len(merged))
    # Each reservation keeps the request id of the webhook that asked for it (for tracing).
    wanted: dict[str, str | None] = {job.pms_reservation_id: job.request_id}
    for _, pms_id, request_id in merged:
        wanted.setdefault(pms_id, request_id)

    page = await _fetch_many(http, adapter, target.connection, list(wanted))
    counts.pages = 1
    for pms_id, reason in page.failures:
        counts.fail(pms_id, reason)
    by_request: dict[str | None, list[CanonicalReservation]] = {}
    for reservation in page.reservations:
        by_request.setdefault(wanted.get(reservation["pms_reservation_id"]), []).append(reservation)
    for request_id, reservations in by_request.items():
        await _store_page(store, job, settings, reservations, counts, request_id)
    error = counts.summary(settings.error_examples)
    return Result(counts.failed == 0, counts, error, "ok")


async def _fetch_many(http: httpx.AsyncClient, adapter: PmsAdapter, conn: PmsConnection, ids: list[str]) -> Page:
    if len(ids) > 1 and isinstance(adapter, BatchFetchingAdapter):
        return await adapter.fetch_reservations(http, conn, ids)
    page = Page(reservations=[])
    for pms_id in ids:
        try:
            page.reservations.append(await adapter.fetch_reservation(http, conn, pms_id))
        except NotABooking:
            if len(ids) == 1:
                raise
        except (NotFound, PayloadError) as exc:
            # One missing or unreadable reservation does not stop the others.
            if len(ids) == 1:
                raise
            page.failures.append((pms_id, str(exc)))
    return page


async def _sync_window(
    store: SyncStore,
    http: httpx.AsyncClient,
    job: SyncJob,
    settings: SyncSettings,
    adapter: PmsAdapter,
    target: SyncTarget,
    counts: Counts,
) -> Result:
    until = job.started_at
    overlap = max(settings.overlap, cast(dt.timedelta, getattr(adapter, "incremental_overlap", dt.timedelta(0))))
    if job.kind == "incremental" and target.sync_cursor is not None:
        since = target.sync_cursor - overlap
    else:
        since = until - settings.full_lookback
    logger.info("listing reservations modified from {since} to {until}", since=since, until=until)
    async for page in adapter.list_modified(http, target.connection, since, until):
        counts.pages += 1
        for pms_id, reason in page.failures:
            counts.fail(pms_id, reason)
        if page.reservations:
            await _store_page(store, job, settings, page.reservations, counts, job.request_id)
    return Result(True, counts, counts.summary(settings.error_examples), "ok", (since, until))
