"""Processing: inbound events per second through the worker, with 1 and 2 worker processes,
against the naive queue cycle on the same database.

Each event is a generic provider's `reservation.created` carrying the whole reservation (no PMS
fetch); handling it validates the payload, upserts the reservation, and the database plans its
guest messages (a confirmation and a pre-arrival note per reservation).

Baseline: the naive one-row-per-transaction cycle — claim 1, upsert, complete 1, each its own
transaction — run by the same number of loops as there are worker processes, doing the same
work per event (the same adapter, the same SQL functions). The worker claims and completes in
batches, handles a batch's events concurrently and is woken by NOTIFY.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from bench import seed, services
from bench.common import Result, Sizes, fmt_rate, ratio
from bench.cpu import CpuMeter, postmaster_pid
from worker.pms.base import InboundEvent, Upsert
from worker.pms.registry import adapter_for

TITLE = "processing"


def _load(conn: seed.Conn, tenants: list[seed.BenchTenant], count: int, tag: str, serial0: int) -> None:
    per_tenant: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for i in range(count):
        body = seed.reservation_event(f"{tag}-R{i}", serial0 + i)
        per_tenant.setdefault(i % len(tenants), []).append((f"{tag}-{i}", body))
    for index, events in per_tenant.items():
        seed.ingest(conn, tenants[index], events, request_id=f"{tag}-{index}")


def _clear(conn: seed.Conn) -> None:
    # Every run starts from the same state: no events, reservations, guests or messages.
    conn.execute("truncate public.inbound_events, public.message_logs, public.reservations, public.guests cascade")


def _db_clock(conn: seed.Conn) -> float:
    row = conn.execute("select extract(epoch from clock_timestamp())::float8").fetchone()
    assert row is not None
    return float(row[0])


def _last_processed(conn: seed.Conn) -> float:
    row = conn.execute("select extract(epoch from max(processed_at))::float8 from public.inbound_events").fetchone()
    assert row is not None and row[0] is not None
    return float(row[0])


def _settled(conn: seed.Conn) -> tuple[int, int]:
    row = conn.execute(
        "select count(*) filter (where status in ('succeeded', 'ignored', 'dead')),"
        " count(*) filter (where status = 'dead') from public.inbound_events"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _worker_run(
    db_url: str,
    run_dir: Path,
    conn: seed.Conn,
    tenants: list[seed.BenchTenant],
    procs: int,
    sizes: Sizes,
    serial0: int,
) -> dict[str, Any]:
    """Workers first (idle, listening), then the events: the clock runs from their arrival until
    all are handled or the time is up."""
    _clear(conn)
    workers = [
        services.worker(db_url, run_dir, f"processing-{procs}-{i}", wakeup="listen", shutdown_grace_seconds=2)
        for i in range(procs)
    ]
    meter = CpuMeter({f"worker {i + 1}": w.pid for i, w in enumerate(workers)}, postmaster_pid(db_url))
    with services.running(*workers):
        meter.start()
        started, started_db = time.monotonic(), _db_clock(conn)
        _load(conn, tenants, sizes.processing_events, f"w{procs}", serial0)
        while True:
            done, dead = _settled(conn)
            elapsed = time.monotonic() - started
            if done >= sizes.processing_events or elapsed > sizes.processing_seconds:
                break
            # Not more often: each count costs the database CPU the workers are measured on.
            time.sleep(0.25)
        cpu = meter.stop()
    if done >= sizes.processing_events:
        # Until the last event was finished (database clock), not until the poll that saw it.
        elapsed = _last_processed(conn) - started_db
    row = conn.execute(
        "select count(*) filter (where status = 'succeeded'), count(*) filter (where attempts > 1)"
        " from public.inbound_events where processed_at is not null"
    ).fetchone()
    assert row is not None
    succeeded = min(int(row[0]), done)
    return {
        "processes": procs,
        "events_queued": sizes.processing_events,
        "succeeded": succeeded,
        "dead": dead,
        "retried": int(row[1]),
        "seconds": round(elapsed, 3),
        "all_done": done >= sizes.processing_events,
        "events_per_second": round(done / elapsed, 1) if elapsed > 0 else 0.0,
        "reservations": _count(conn, "public.reservations"),
        "messages_planned": _count(conn, "public.message_logs"),
        "cpu_percent_of_one_core": cpu,
    }


def _count(conn: seed.Conn, table: str) -> int:
    row = conn.execute(f"select count(*) from {table}").fetchone()
    return int(row[0]) if row else 0


class _NaiveLoop(threading.Thread):
    """claim 1 -> handle -> complete 1, each statement its own transaction (autocommit).

    Its connection is open before the clock starts and stays open until the CPU of its backend
    has been read (`go`, `finished`, `release`)."""

    def __init__(self, db_url: str) -> None:
        super().__init__(daemon=True)
        self.db_url = db_url
        self.until = 0.0
        self.worker_id = f"naive-{uuid.uuid4().hex[:8]}"
        self.done = 0
        self.error: BaseException | None = None
        self.connected, self.go, self.finished, self.release = (threading.Event() for _ in range(4))

    def run(self) -> None:
        try:
            with psycopg.connect(self.db_url, autocommit=True, prepare_threshold=0) as conn:
                self.connected.set()
                self.go.wait()
                try:
                    self._loop(conn)
                finally:
                    self.finished.set()
                    self.release.wait()
        except BaseException as exc:
            self.error = exc
        finally:
            self.connected.set()
            self.finished.set()

    def _loop(self, conn: psycopg.Connection[Any]) -> None:
        adapter = adapter_for("generic")
        while time.monotonic() < self.until:
            row = conn.execute(
                "select id, tenant_id::text, provider, event_id, event_type, payload, request_id"
                " from internal.claim_inbound_events_v1(%s, 1, interval '2 minutes')",
                (self.worker_id,),
            ).fetchone()
            if row is None:
                return
            event = InboundEvent(*row)
            for action in adapter.parse_event(event):
                if isinstance(action, Upsert):
                    conn.execute(
                        "select * from internal.upsert_reservation_v1(%s, %s::jsonb, %s)",
                        (event.tenant_id, json.dumps(action.reservation), event.request_id),
                    )
            conn.execute(
                "select internal.complete_inbound_events_v1(array[%s]::bigint[], %s, 'succeeded')",
                (event.id, self.worker_id),
            )
            self.done += 1


def _naive_run(
    db_url: str, conn: seed.Conn, tenants: list[seed.BenchTenant], loops: int, events: int, seconds: float, serial0: int
) -> dict[str, Any]:
    _clear(conn)
    _load(conn, tenants, events, f"n{loops}", serial0)
    threads = [_NaiveLoop(db_url) for _ in range(loops)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.connected.wait()
    meter = CpuMeter({}, postmaster_pid(db_url))
    meter.start()
    started = time.monotonic()
    for thread in threads:
        thread.until = started + seconds
        thread.go.set()
    for thread in threads:
        thread.finished.wait()
    elapsed = time.monotonic() - started
    cpu = meter.stop()
    for thread in threads:
        thread.release.set()
        thread.join()
    for thread in threads:
        if thread.error is not None:
            raise thread.error
    done = sum(t.done for t in threads)
    return {
        "loops": loops,
        "events": done,
        "seconds": round(elapsed, 3),
        "events_per_second": round(done / elapsed, 1) if elapsed > 0 else 0.0,
        "cpu_percent_of_one_core": cpu,
    }


def run(db_url: str, run_dir: Path, sizes: Sizes) -> list[Result]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        seed.reset(conn)
        tenants = seed.tenants(conn, TITLE, sizes.processing_tenants, rules=True)
        results = []
        for n, procs in enumerate((1, 2)):
            naive = _naive_run(
                db_url, conn, tenants, procs, sizes.processing_events, sizes.naive_seconds, 10_000_000 * (2 * n + 1)
            )
            measured = _worker_run(db_url, run_dir, conn, tenants, procs, sizes, 10_000_000 * (2 * n + 2))
            notes = [
                f"up to {sizes.processing_events:,} generic reservation.created events queued over "
                f"{sizes.processing_tenants} tenants (each plans 2 guest messages); the worker run stops when all "
                f"are handled or after {sizes.processing_seconds:g} s, the naive one after {sizes.naive_seconds:g} s",
                f"worker: {measured['succeeded']:,} events in {measured['seconds']:g} s"
                f"{'' if measured['all_done'] else ' (time up before the queue was empty)'}, "
                f"{measured['dead']} dead, {measured['retried']} retried; naive: {naive['events']:,} in "
                f"{naive['seconds']:g} s",
                f"CPU (% of one core), worker run: {measured['cpu_percent_of_one_core']}; naive run (its loops are "
                f"threads of the benchmark process): {naive['cpu_percent_of_one_core']}",
            ]
            results.append(
                Result(
                    name=f"{TITLE} ({procs} worker{'s' if procs > 1 else ''})",
                    figure=fmt_rate(measured["events_per_second"], "events"),
                    baseline=f"naive cycle x{procs}: {fmt_rate(naive['events_per_second'], 'events')}",
                    ratio=ratio(measured["events_per_second"], naive["events_per_second"]),
                    ratio_meaning="worker / naive (higher is better)",
                    data={"worker": measured, "naive": naive},
                    notes=notes,
                )
            )
        seed.reset(conn)
    return results
