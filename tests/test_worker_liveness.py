"""Telling a dead worker from a live one in SQL, with real connections: a worker is alive while
the connection that registered it is open (register_worker_v1 takes a session-level lock)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import psycopg

from tests.factories import Factory, Tenant

GRACE = "0.3 seconds"


def _messages(factory: Factory, tenant: Tenant, count: int) -> list[int]:
    """`count` due messages of one session, in their planned order."""
    return [
        factory.message(tenant, next_attempt_at=f"2026-01-01T00:00:0{i}Z", body=f"message {i}") for i in range(count)
    ]


def _claim(conn: psycopg.Connection[Any], worker: str) -> list[int]:
    rows = conn.execute(
        "select id from public.claim_messages_v5(%s, 10, '2 minutes', '0', %s)", (worker, GRACE)
    ).fetchall()
    return [int(r[0]) for r in rows]


def _reclaim(conn: psycopg.Connection[Any], worker: str) -> int:
    row = conn.execute("select public.reclaim_messages_v2(%s, %s)", (worker, GRACE)).fetchone()
    return int(row[0]) if row else 0


def _reclaim_until_taken_back(conn: psycopg.Connection[Any], worker: str) -> list[int]:
    """Probes like a live worker does, until something is taken back; returns each probe's count."""
    counts = [_reclaim(conn, worker)]
    deadline = time.monotonic() + 30
    while counts[-1] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
        counts.append(_reclaim(conn, worker))
    return counts


def test_a_live_workers_claims_are_never_taken_back(db: psycopg.Connection[Any], factory: Factory) -> None:
    tenant = factory.tenant()
    factory.waha_configuration(tenant)
    [first, _] = _messages(factory, tenant, 2)
    with psycopg.connect(db.info.dsn, autocommit=True) as alive:
        assert alive.execute("select public.register_worker_v1('alive', %s)", (uuid.uuid4(),)).fetchone() == (True,)
        assert _claim(db, "alive") == [first]
        # Well past the grace, probed again and again: the lock is held, so it stays claimed.
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            assert _reclaim(db, "other") == 0
            time.sleep(0.05)
        row = db.execute("select status, lease_owner from public.message_logs where id = %s", (first,)).fetchone()
        assert row == ("sending", "alive")


def test_a_dead_workers_send_comes_back_first_in_its_session_and_in_doubt(
    db: psycopg.Connection[Any], factory: Factory
) -> None:
    tenant = factory.tenant()
    factory.waha_configuration(tenant)
    first, second, third = _messages(factory, tenant, 3)
    with psycopg.connect(db.info.dsn, autocommit=True) as doomed:
        doomed.execute("select public.register_worker_v1('doomed', %s)", (uuid.uuid4(),))
        assert _claim(db, "doomed") == [first]
    # Its connection is gone (as with a SIGKILL): seen free once, then again after the grace.
    counts = _reclaim_until_taken_back(db, "other")
    assert counts[0] == 0, "not taken back the first time the lock is seen free"
    assert counts[-1] == 1
    row = db.execute(
        "select status, send_uncertain, lease_owner from public.message_logs where id = %s", (first,)
    ).fetchone()
    assert row == ("queued", True, None)
    # The session is free again, and its interrupted message is the next one it sends.
    assert _claim(db, "other") == [first]
    db.execute("select public.mark_messages_sent_v1('other', %s, %s, %s)", ([first], ["w1"], [0.0]))
    db.execute("update public.waha_configurations set next_send_at = now(), gap_ends_at = now()")
    assert _claim(db, "other") == [second]
    assert third > second


def test_a_worker_that_reconnects_within_the_grace_keeps_its_claims(
    db: psycopg.Connection[Any], factory: Factory
) -> None:
    tenant = factory.tenant()
    factory.waha_configuration(tenant)
    [first] = _messages(factory, tenant, 1)
    incarnation = uuid.uuid4()
    with psycopg.connect(db.info.dsn, autocommit=True) as before:
        before.execute("select public.register_worker_v1('flaky', %s)", (incarnation,))
        assert _claim(db, "flaky") == [first]
    assert _reclaim(db, "other") == 0  # seen free: suspected
    with psycopg.connect(db.info.dsn, autocommit=True) as after:
        # The same process (same incarnation) back on a new connection: the suspicion is lifted.
        assert after.execute("select public.register_worker_v1('flaky', %s)", (incarnation,)).fetchone() == (True,)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            assert _reclaim(db, "other") == 0
            time.sleep(0.05)
    row = db.execute("select status, lease_owner from public.message_logs where id = %s", (first,)).fetchone()
    assert row == ("sending", "flaky")


def test_a_restarted_process_under_the_same_id_takes_back_what_the_old_one_had_out(
    db: psycopg.Connection[Any], factory: Factory
) -> None:
    tenant = factory.tenant()
    factory.waha_configuration(tenant)
    [first] = _messages(factory, tenant, 1)
    with psycopg.connect(db.info.dsn, autocommit=True) as old:
        old.execute("select public.register_worker_v1('host-1', %s)", (uuid.uuid4(),))
        assert _claim(db, "host-1") == [first]
    with psycopg.connect(db.info.dsn, autocommit=True) as new:
        new.execute("select public.register_worker_v1('host-1', %s)", (uuid.uuid4(),))
        row = db.execute("select status, send_uncertain from public.message_logs where id = %s", (first,)).fetchone()
        assert row == ("queued", True)


def test_a_second_process_with_a_live_workers_id_is_refused(db: psycopg.Connection[Any]) -> None:
    with psycopg.connect(db.info.dsn, autocommit=True) as first, psycopg.connect(db.info.dsn, autocommit=True) as twin:
        assert first.execute("select public.register_worker_v1('same', %s)", (uuid.uuid4(),)).fetchone() == (True,)
        assert twin.execute("select public.register_worker_v1('same', %s)", (uuid.uuid4(),)).fetchone() == (False,)


def test_a_dead_workers_inbound_events_come_back_too(db: psycopg.Connection[Any], factory: Factory) -> None:
    tenant = factory.tenant()
    db.execute(
        "select count(*) from public.ingest_inbound_events_v1(%s, 'pms', 'generic',"
        ' \'[{"event_id": "e1", "event_type": "reservation.updated", "payload": {}}]\')',
        (tenant.id,),
    )
    with psycopg.connect(db.info.dsn, autocommit=True) as doomed:
        doomed.execute("select public.register_worker_v1('doomed', %s)", (uuid.uuid4(),))
        claimed = db.execute("select id from public.claim_inbound_events_v1('doomed', 10, '2 minutes')").fetchall()
        assert len(claimed) == 1
    first = db.execute("select messages, events from public.reclaim_dead_workers_v1('other', %s)", (GRACE,)).fetchone()
    assert first == (0, 0), "not taken back the first time the lock is seen free"
    deadline = time.monotonic() + 30
    taken: tuple[Any, ...] | None = first
    while taken == (0, 0) and time.monotonic() < deadline:
        time.sleep(0.05)
        taken = db.execute(
            "select messages, events from public.reclaim_dead_workers_v1('other', %s)", (GRACE,)
        ).fetchone()
    assert taken == (0, 1)
    row = db.execute("select status, lease_owner from public.inbound_events").fetchone()
    assert row == ("pending", None)
