"""Writers of a reservation that does not exist yet: a booking's "created" and "updated" webhooks
arrive moments apart and are processed at once. Nothing may fail or be lost, from no row on."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from typing import Any

import psycopg
import pytest

from tests.factories import Factory, Tenant
from tests.processes import WorkerProcess

PAIRS = 20
CREATED_AT = "2026-11-26T10:00:00Z"
UPDATED_AT = "2026-11-26T10:00:05Z"


def _reservation(i: int, version: str, *, phone: bool = True) -> dict[str, Any]:
    arrival = dt.date.today() + dt.timedelta(days=30)
    guest: dict[str, Any] = {"full_name": f"Guest {i}", "language": "en"}
    if phone:
        guest["phone"] = f"+49152{i:08d}"
    return {
        "provider": "generic",
        "pms_reservation_id": f"NEW-{i}",
        "pms_property_id": "PROP-1",
        "status": "confirmed",
        "arrival_date": arrival.isoformat(),
        "departure_date": (arrival + dt.timedelta(days=2 if version == UPDATED_AT else 1)).isoformat(),
        "room": "updated" if version == UPDATED_AT else "created",
        "pms_updated_at": version,
        "guest": guest,
    }


def _newest_versions(db: psycopg.Connection[Any], tenant: Tenant) -> dict[str, str]:
    rows = db.execute(
        "select pms_reservation_id, room_label from public.reservations where tenant_id = %s", (tenant.id,)
    ).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


@pytest.mark.parametrize("phone", [True, False], ids=["guest-with-phone", "guest-without-phone"])
def test_concurrent_upserts_of_new_reservations_all_succeed(
    db: psycopg.Connection[Any], factory: Factory, database_url: str, phone: bool
) -> None:
    """Four connections write the same new reservations at once, two with the "created" version
    and two with the "updated" one: no error, one row each, and the newer version wins."""
    tenant = factory.tenant()
    errors: list[BaseException] = []
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def writer(version: str) -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            start.wait()
            for i in range(PAIRS):
                try:
                    row = conn.execute(
                        "select outcome from internal.upsert_reservation_v2(%s, %s::jsonb, null, null, false)",
                        (tenant.id, json.dumps(_reservation(i, version, phone=phone))),
                    ).fetchone()
                except psycopg.Error as exc:
                    with lock:
                        errors.append(exc)
                    continue
                assert row is not None
                with lock:
                    outcomes.append(str(row[0]))

    threads = [threading.Thread(target=writer, args=(v,)) for v in (CREATED_AT, UPDATED_AT, CREATED_AT, UPDATED_AT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert outcomes.count("created") == PAIRS, "each reservation was created exactly once"
    assert _newest_versions(db, tenant) == {f"NEW-{i}": "updated" for i in range(PAIRS)}
    orphans = db.execute(
        "select count(*) from public.guests g where g.tenant_id = %s"
        " and not exists (select 1 from public.reservations r where r.guest_id = g.id)",
        (tenant.id,),
    ).fetchone()
    assert orphans == (0,), "a writer that lost the race left no guest behind"
    planned = db.execute(
        "select count(*), count(distinct reservation_id) from public.message_logs where tenant_id = %s",
        (tenant.id,),
    ).fetchone()
    assert planned is not None and planned[0] == planned[1], "no message was planned twice"


def test_a_sync_request_racing_a_claim_always_gets_a_job(
    db: psycopg.Connection[Any], factory: Factory, database_url: str
) -> None:
    """One connection keeps asking for the same reservation sync while another keeps claiming
    and finishing jobs: every request is answered with a job, never with nothing."""
    tenant = factory.tenant()
    config = factory.pms_configuration(tenant)
    db.execute("update public.sync_jobs set status = 'cancelled' where pms_configuration_id = %s", (config,))
    answers: list[object] = []
    done = threading.Event()

    def requester() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            for _ in range(300):
                row = conn.execute(
                    "select internal.enqueue_sync_v1(%s, 'reservation', 'webhook', 'R-1')", (config,)
                ).fetchone()
                answers.append(row[0] if row else None)
        done.set()

    def claimer() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            while not done.is_set():
                row = conn.execute("select id from internal.claim_sync_job_v1('w', '1 minute')").fetchone()
                if row is not None:
                    conn.execute("select internal.finish_sync_job_v1(%s, 'w', true)", (row[0],))

    threads = [threading.Thread(target=requester), threading.Thread(target=claimer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 300
    assert None not in answers


@pytest.mark.slow
async def test_created_and_updated_webhooks_of_new_bookings_through_two_workers(
    db: psycopg.Connection[Any], factory: Factory, clean_db: str
) -> None:
    """Pairs of created + updated events for bookings that do not exist yet, taken by two worker
    processes at once: no event is dead-lettered and every booking ends at its update."""
    tenant = factory.tenant()
    events = []
    for i in range(PAIRS):
        for kind, version in (("created", CREATED_AT), ("updated", UPDATED_AT)):
            body = {"type": f"reservation.{kind}", "timestamp": version, "data": _reservation(i, version)}
            events.append({"event_id": f"{kind}-{i}", "event_type": f"reservation.{kind}", "payload": body})
    settings = {"lease_seconds": 30, "poll_interval_seconds": 0.5, "retry_base_seconds": 0.2, "event_batch_size": 1}
    workers = [await WorkerProcess(clean_db, **settings).start() for _ in range(2)]
    try:
        for w in workers:
            await w.wait_for_log(lambda line: "listening for wake-ups" in str(line.get("msg")))
        db.execute(
            "select count(*) from internal.ingest_inbound_events_v1(%s, 'pms', 'generic', %s::jsonb, 'req-race')",
            (tenant.id, json.dumps(events)),
        )
        async with asyncio.timeout(90):
            while True:
                row = db.execute(
                    "select count(*) filter (where status in ('succeeded', 'ignored', 'dead')),"
                    " count(*) filter (where status = 'dead') from public.inbound_events where tenant_id = %s",
                    (tenant.id,),
                ).fetchone()
                assert row is not None
                if row[0] == 2 * PAIRS:
                    break
                await asyncio.sleep(0.1)
    finally:
        for w in workers:
            await w.stop()
    assert row[1] == 0, "no event was dead-lettered"
    assert _newest_versions(db, tenant) == {f"NEW-{i}": "updated" for i in range(PAIRS)}
