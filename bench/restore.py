"""Restore: how long a restore from a backup takes until the hotels send again, against the
runbook's RTO of 4 hours.

A database of `restore_hotels` hotels, `restore_reservations` reservations and
`restore_messages` messages (mostly history: sent, delivered, read) is made set-based in a
throwaway cluster of its own, with `restore_gap_messages` messages due and unsent when the
backup is taken. Then, as in the drill (tests/test_restore_drill.py):

1. backup: pg_dump (custom format) and the roles, as docs/runbook.md says for a self-run database;
2. the gap: the due messages go out through the WAHA simulator (as a worker would have sent
   them after the backup), and each hotel's PMS gets `restore_gap_bookings` new bookings;
3. restore: into a fresh cluster (psql for the roles, pg_restore --jobs=2);
4. recovery: `ops recover --since <backup time>` and one worker, until the recovery has synced
   every PMS over the gap and settled each due message with WAHA's chat history.

Timed: each step; the RTO figure is restore + recovery (what the hotels wait for once the
backup is chosen; downloading a hosted backup is Supabase's and not measured). The bulk insert
runs with session_replication_role = replica (no per-row triggers or foreign key checks; the
rows are consistent by construction), then VACUUM ANALYZE.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psycopg
from psycopg.types.json import Jsonb

from bench import seed, services
from bench.common import Result, Sizes
from devstack import backup, cluster, database
from devstack.simulators.pms.base import Booking
from devstack.simulators.pms.generic import GenericPmsSimulator
from worker.waha import WahaClient, message_key

TITLE = "restore"
RTO_SECONDS = 4 * 3600
PMS_KEY = "bench-pms-key"
_CHUNK = 250_000

_RESERVATIONS = """
insert into public.reservations (id, tenant_id, property_id, provider, pms_reservation_id, status, arrival_date,
                                 departure_date, pms_updated_at, created_at, updated_at)
select md5('res:' || g.i)::uuid, (%(tenants)s::uuid[])[1 + g.i %% %(n)s], (%(props)s::uuid[])[1 + g.i %% %(n)s],
       'generic', 'R' || g.i, 'confirmed',
       current_date - 200 + (g.i %% 400)::int, current_date - 198 + (g.i %% 400)::int,
       now() - interval '1 second' * (g.i %% 31536000), now() - interval '1 day', now() - interval '1 day'
from generate_series(%(first)s::bigint, %(last)s::bigint) g (i)
"""

_MESSAGES = """
insert into public.message_logs (tenant_id, reservation_id, template_key, dedupe_key, to_phone, body, status,
                                 scheduled_for, next_attempt_at, attempts, waha_message_id, sent_at, created_at)
select (%(tenants)s::uuid[])[1 + (g.i %% %(reservations)s) %% %(n)s], md5('res:' || (g.i %% %(reservations)s))::uuid,
       'booking_confirmation', 'bench:' || g.i, '+49151' || (10000000 + g.i %% 90000000), 'history ' || g.i,
       (array['sent', 'delivered', 'read', 'read', 'cancelled']::public.message_status[])[1 + g.i %% 5],
       now() - interval '1 second' * (g.i %% 31536000), now() - interval '1 second' * (g.i %% 31536000), 1,
       case when g.i %% 5 <> 4 then 'w' || g.i end, now() - interval '1 second' * (g.i %% 31536000),
       now() - interval '1 second' * (g.i %% 31536000) - interval '1 day'
from generate_series(%(first)s::bigint, %(last)s::bigint) g (i)
"""

_DUE = """
insert into public.message_logs (tenant_id, template_key, dedupe_key, to_phone, body, status, next_attempt_at)
select (%(tenants)s::uuid[])[1 + g.i %% %(n)s], 'note', 'gap:' || g.i, '+49160' || (10000000 + g.i),
       'Your room is ready, guest ' || g.i, 'queued', now() - interval '1 minute'
from generate_series(1, %(count)s) g (i)
returning id, tenant_id::text, to_phone, body
"""


class _PmsThread:
    """One generic PMS simulator per hotel (each hotel has its own PMS), on an event loop of
    their own: the benchmark itself is blocking."""

    def __init__(self, count: int) -> None:
        self.sims = [GenericPmsSimulator(api_keys=[PMS_KEY]) for _ in range(count)]
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> list[GenericPmsSimulator]:
        self.thread.start()
        for sim in self.sims:
            asyncio.run_coroutine_threadsafe(sim.start(), self.loop).result(30)
        return self.sims

    def __exit__(self, *exc: object) -> None:
        for sim in self.sims:
            asyncio.run_coroutine_threadsafe(sim.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def _seed(
    conn: psycopg.Connection[Any], sizes: Sizes, waha_url: str, pms: list[GenericPmsSimulator]
) -> tuple[list[str], list[Any]]:
    hotels = seed.tenants(conn, TITLE, sizes.restore_hotels, waha_base_url=waha_url)
    ids = [h.id for h in hotels]
    conn.execute(
        "update public.pms_configurations c set api_base_url = x.url, sync_cursor = now() - interval '15 minutes'"
        " from unnest(%s::uuid[], %s::text[]) as x (tenant_id, url) where c.tenant_id = x.tenant_id",
        (ids, [sim.base_url for sim in pms]),
    )
    conn.execute(
        "select public.set_pms_credentials(c.id, %s) from public.pms_configurations c"
        " where c.tenant_id = any(%s::uuid[])",
        (Jsonb({"api_key": PMS_KEY}), ids),
    )
    conn.execute("set session_replication_role = replica")
    props = dict(
        conn.execute(
            "select tenant_id::text, id from public.properties where tenant_id = any(%s::uuid[])", (ids,)
        ).fetchall()
    )
    params = {
        "tenants": ids,
        "props": [props[i] for i in ids],
        "n": len(ids),
        "reservations": sizes.restore_reservations,
    }
    for first in range(0, sizes.restore_reservations, _CHUNK):
        last = min(first + _CHUNK, sizes.restore_reservations) - 1
        conn.execute(_RESERVATIONS, {**params, "first": first, "last": last})
    for first in range(0, sizes.restore_messages, _CHUNK):
        last = min(first + _CHUNK, sizes.restore_messages) - 1
        conn.execute(_MESSAGES, {**params, "first": first, "last": last})
    conn.execute("set session_replication_role = origin")
    due = conn.execute(_DUE, {**params, "count": sizes.restore_gap_messages}).fetchall()
    conn.execute("vacuum analyze public.reservations")
    conn.execute("vacuum analyze public.message_logs")
    return [h.session_name for h in hotels], due


async def _send_gap(waha_url: str, sessions: dict[str, str], due: list[Any]) -> None:
    """What a worker sent after the backup: each due message, with the key its row gives it."""
    async with aiohttp.ClientSession() as http:
        client = WahaClient(http)
        limit = asyncio.Semaphore(32)

        async def one(row: Any) -> None:
            message_id, tenant, phone, body = row
            target = _Target(waha_url, sessions[tenant], seed.WAHA_API_KEY)
            async with limit:
                await client.send_text(target, phone, body, key=message_key(f"{tenant}:{message_id}"))

        await asyncio.gather(*(one(row) for row in due))


class _Target:
    def __init__(self, base_url: str, session_name: str, api_key: str) -> None:
        self.base_url, self.session_name, self.api_key = base_url, session_name, api_key


def _gap_bookings(pms: list[GenericPmsSimulator], sizes: Sizes) -> int:
    now = dt.datetime.now(dt.UTC)
    count = 0
    for h, sim in enumerate(pms):
        for b in range(sizes.restore_gap_bookings):
            arrival = dt.date.today() + dt.timedelta(days=10 + b)
            sim.put(
                Booking(
                    id=f"gap-{h}-{b}",
                    property_id=seed.PROPERTY,
                    status="confirmed",
                    arrival=arrival,
                    departure=arrival + dt.timedelta(days=2),
                    modified=now,
                    phone=f"+49170{h:04d}{b:04d}",
                    language="en",
                )
            )
            count += 1
    return count


def _size_mib(path: Path) -> float:
    return path.stat().st_size / 2**20


def run(database_url: str, run_dir: Path, sizes: Sizes) -> list[Result]:
    """`database_url` is not used: the restore needs a database of exactly the size asked for."""
    del database_url
    waha, waha_url = services.waha_simulator(run_dir, api_key=seed.WAHA_API_KEY, latency_ms=2)
    timings: dict[str, float] = {}
    with services.running(waha), _PmsThread(sizes.restore_hotels) as pms, cluster.throwaway_cluster() as original:
        database.prepare(original.url)
        # The simulators listen on 127.0.0.1 (local development's URL setting).
        database.allow_local_urls(original.url)
        database.pause_schedules(original.url)
        with psycopg.connect(original.url, autocommit=True) as conn:
            started = time.monotonic()
            sessions, due = _seed(conn, sizes, waha_url, pms)
            timings["seed_s"] = time.monotonic() - started
            by_tenant = {
                str(r[0]): str(r[1])
                for r in conn.execute(
                    "select tenant_id, session_name from public.waha_configurations where session_name = any(%s)",
                    (sessions,),
                )
            }
            db_bytes = conn.execute("select pg_database_size(current_database())").fetchone()
        with httpx.Client(base_url=waha_url, timeout=30) as client:
            for name in sessions:
                client.post("/_sim/sessions", json={"name": name, "engine": "WEBJS"}).raise_for_status()

        backup_at = dt.datetime.now(dt.UTC)
        started = time.monotonic()
        taken = backup.take(original.url, run_dir / "backup")
        timings["backup_s"] = time.monotonic() - started

        asyncio.run(_send_gap(waha_url, by_tenant, due))
        gap_bookings = _gap_bookings(pms, sizes)

        with cluster.throwaway_cluster() as fresh:
            started = time.monotonic()
            backup.restore(taken, fresh.url, jobs=2)
            timings["restore_s"] = time.monotonic() - started

            started = time.monotonic()
            env = {**os.environ, "WORKER_DATABASE_URL": fresh.url}
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "worker",
                    "ops",
                    "recover",
                    "--since",
                    backup_at.isoformat(),
                    "--reason",
                    "bench",
                ],
                env=env,
                check=True,
                capture_output=True,
            )
            worker = services.worker(
                fresh.url, run_dir, f"{TITLE}-worker", recovery_check_seconds=0.5, sync_concurrency=4
            )
            with services.running(worker), psycopg.connect(fresh.url, autocommit=True) as restored:
                deadline = time.monotonic() + RTO_SECONDS
                while True:
                    row = restored.execute(
                        "select finished_at is not null, already_sent, syncs_failed, checked"
                        " from public.restore_recoveries order by id desc limit 1"
                    ).fetchone()
                    if row is not None and row[0]:
                        break
                    if time.monotonic() > deadline or not worker.alive():
                        raise RuntimeError(f"the recovery did not end: {worker.log_tail()}")
                    time.sleep(0.5)
                timings["recovery_s"] = time.monotonic() - started
                synced = restored.execute(
                    "select count(*) from public.reservations where pms_reservation_id like 'gap-%%'"
                ).fetchone()
    assert row is not None and synced is not None and db_bytes is not None
    rto = timings["restore_s"] + timings["recovery_s"]
    data: dict[str, Any] = {
        "hotels": sizes.restore_hotels,
        "reservations": sizes.restore_reservations,
        "messages": sizes.restore_messages,
        "gap_messages": sizes.restore_gap_messages,
        "gap_bookings": gap_bookings,
        "gap_bookings_synced": int(synced[0]),
        "gap_messages_found_sent": int(row[1]),
        "due_checked": int(row[3]),
        "syncs_failed": int(row[2]),
        "database_mib": round(int(db_bytes[0]) / 2**20, 1),
        "dump_mib": round(_size_mib(taken.dump), 1),
        **{k: round(v, 1) for k, v in timings.items()},
        "rto_s": round(rto, 1),
    }
    notes = []
    if int(row[1]) != sizes.restore_gap_messages or int(synced[0]) != gap_bookings:
        notes.append("the recovery missed part of the gap: see data")
    return [
        Result(
            name="restore: backup restored and recovered",
            figure=(
                f"{rto / 60:.1f} min to send again ({timings['restore_s']:.0f} s pg_restore of "
                f"{data['database_mib']:.0f} MiB, {timings['recovery_s']:.0f} s recovery: "
                f"{sizes.restore_hotels} PMS syncs, {int(row[1])}/{sizes.restore_gap_messages} gap sends found in WAHA)"
            ),
            baseline="RTO 4 h",
            ratio=round(RTO_SECONDS / rto, 1) if rto > 0 else None,
            ratio_meaning="times within the RTO (> 1 meets it)",
            data=data,
            notes=notes,
        )
    ]
