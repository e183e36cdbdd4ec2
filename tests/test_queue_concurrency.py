"""Queue claims under real concurrency: separate connections racing on one PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any

import psycopg

from tests.factories import Factory


def _ingest(db: psycopg.Connection[Any], tenant_id: object, count: int) -> None:
    events = ",".join(
        f'{{"event_id": "evt-{i}", "event_type": "reservation.updated", "payload": {{}}}}' for i in range(count)
    )
    db.execute(
        "select count(*) from internal.ingest_inbound_events_v1(%s, 'pms', 'generic', %s::jsonb)",
        (tenant_id, f"[{events}]"),
    )


def test_concurrent_claimers_never_share_a_row(db: psycopg.Connection[Any], factory: Factory) -> None:
    tenant = factory.tenant()
    _ingest(db, tenant.id, 400)
    claimed: dict[str, list[int]] = {}
    start = threading.Barrier(4)

    def claimer(name: str) -> None:
        mine: list[int] = []
        with psycopg.connect(db.info.dsn, autocommit=True) as conn:
            start.wait()
            while True:
                rows = conn.execute(
                    "select id from internal.claim_inbound_events_v1(%s, 7, '5 minutes')", (name,)
                ).fetchall()
                if not rows:
                    break
                mine.extend(r[0] for r in rows)
        claimed[name] = mine

    threads = [threading.Thread(target=claimer, args=(f"worker-{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    every_claim = [event for rows in claimed.values() for event in rows]
    assert len(every_claim) == 400, "every event was claimed"
    assert len(set(every_claim)) == 400, "no event was claimed twice"
    assert sum(1 for rows in claimed.values() if rows) > 1, "the work was shared"


def test_fifty_concurrent_ingests_of_one_event_store_one_row(db: psycopg.Connection[Any], factory: Factory) -> None:
    tenant = factory.tenant()
    start = threading.Barrier(50)
    outcomes: list[bool] = []
    lock = threading.Lock()

    def deliver() -> None:
        with psycopg.connect(db.info.dsn, autocommit=True) as conn:
            start.wait()
            row = conn.execute(
                "select duplicate from internal.ingest_inbound_events_v1(%s, 'pms', 'generic',"
                ' \'[{"event_id": "same", "event_type": "reservation.created", "payload": {}}]\')',
                (tenant.id,),
            ).fetchone()
            assert row is not None
            with lock:
                outcomes.append(bool(row[0]))

    threads = [threading.Thread(target=deliver) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    stored = db.execute("select count(*) from public.inbound_events where event_id = 'same'").fetchone()
    assert stored == (1,)
    assert outcomes.count(False) == 1, "exactly one delivery stored it; the others were duplicates"


def test_paused_tenant_messages_are_not_claimed(db: psycopg.Connection[Any], factory: Factory) -> None:
    working, paused = factory.tenant("Working"), factory.tenant("Paused")
    factory.waha_configuration(working)
    factory.waha_configuration(paused)
    db.execute("select internal.pause_tenant_sends_v1(%s, 'session: SCAN_QR_CODE')", (paused.id,))
    factory.message(working)
    factory.message(paused)

    rows = db.execute("select tenant_id from internal.claim_messages_v1('w', 10)").fetchall()
    assert [r[0] for r in rows] == [working.id]

    db.execute("update public.waha_configurations set session_status = 'WORKING' where tenant_id = %s", (paused.id,))
    db.execute(
        "update public.waha_configurations set session_status = 'SCAN_QR_CODE' where tenant_id = %s",
        (paused.id,),
    )
    db.execute("update public.waha_configurations set session_status = 'WORKING' where tenant_id = %s", (paused.id,))
    rows = db.execute("select tenant_id from internal.claim_messages_v1('w', 10)").fetchall()
    assert [r[0] for r in rows] == [paused.id], "a WORKING session resumes the tenant's sends"


def test_one_busy_tenant_does_not_starve_the_others(db: psycopg.Connection[Any], factory: Factory) -> None:
    busy, quiet = factory.tenant("Busy"), factory.tenant("Quiet")
    factory.waha_configuration(busy)
    factory.waha_configuration(quiet)
    for _ in range(30):
        factory.message(busy, next_attempt_at="2026-01-01T00:00:00Z")
    factory.message(quiet)

    rows = db.execute("select tenant_id from internal.claim_messages_v1('w', 10, '1 minute', 5)").fetchall()
    tenants = [r[0] for r in rows]
    assert tenants.count(busy.id) == 5
    assert quiet.id in tenants
