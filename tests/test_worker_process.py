"""The real worker process: start-up errors, health endpoints, signals, crashes and replicas."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import psycopg
import pytest

from devstack.simulators.waha import WahaSimulator
from tests.factories import Factory, Tenant
from tests.processes import WorkerProcess

pytestmark = pytest.mark.slow

API_KEY = "proc-waha-key"
FAST = {"lease_seconds": 5, "poll_interval_seconds": 0.5, "shutdown_grace_seconds": 10, "retry_base_seconds": 1}


@pytest.fixture
async def waha() -> AsyncIterator[WahaSimulator]:
    async with WahaSimulator(api_key=API_KEY, ack_delays=None) as sim:
        yield sim
        sim.assert_no_violations()


def hotel(
    db: psycopg.Connection[Any],
    factory: Factory,
    waha: WahaSimulator,
    name: str = "Process Hotel",
    session: str = "default",
    gap_ms: tuple[int, int] = (0, 0),
) -> Tenant:
    tenant = factory.tenant(name)
    waha.add_session(session)
    config = db.execute(
        "insert into public.waha_configurations"
        " (tenant_id, base_url, session_name, session_status, send_gap_min_ms, send_gap_max_ms)"
        " values (%s, %s, %s, 'WORKING', %s, %s) returning id",
        (tenant.id, waha.base_url, session, *gap_ms),
    ).fetchone()
    assert config is not None
    db.execute("select public.set_waha_api_key(%s, %s)", (config[0], API_KEY))
    db.execute(
        "update public.properties set quiet_hours_start = '00:00', quiet_hours_end = '00:00' where tenant_id = %s",
        (tenant.id,),
    )
    db.execute(
        "insert into public.message_templates (tenant_id, key, language, body)"
        " values (%s, 'booking_confirmation', 'en', 'Booked, {{guest_first_name}}!')",
        (tenant.id,),
    )
    db.execute(
        "insert into public.automation_rules (tenant_id, name, trigger, template_key)"
        " values (%s, 'Confirmation', 'booking_confirmed', 'booking_confirmation')",
        (tenant.id,),
    )
    return tenant


def post_bookings(db: psycopg.Connection[Any], tenant: Tenant, count: int) -> None:
    """What pms-webhook stores for `count` new generic bookings."""
    arrival = dt.date.today() + dt.timedelta(days=40)
    events = []
    for i in range(count):
        reservation = {
            "provider": "generic",
            "pms_reservation_id": f"P-{i}",
            "pms_property_id": "PROP-1",
            "status": "confirmed",
            "arrival_date": arrival.isoformat(),
            "departure_date": (arrival + dt.timedelta(days=1)).isoformat(),
            "pms_updated_at": "2026-11-26T10:00:00Z",
            "guest": {"full_name": f"Guest {i}", "phone": f"+49151{i:08d}", "language": "en"},
        }
        body = {"type": "reservation.created", "timestamp": "2026-11-26T10:00:00Z", "data": reservation}
        events.append({"event_id": f"evt-{i}", "event_type": "reservation.created", "payload": body})
    db.execute(
        "select count(*) from internal.ingest_inbound_events_v1(%s, 'pms', 'generic', %s::jsonb, 'req-proc')",
        (tenant.id, json.dumps(events)),
    )


async def eventually(check: Callable[[], bool], seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110 (the state is in the database; polling it is the point)
            await asyncio.sleep(0.1)


def count(db: psycopg.Connection[Any], sql: str) -> int:
    row = db.execute(sql).fetchone()
    return int(row[0]) if row else 0


def test_a_missing_setting_stops_start_up_with_one_clear_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "worker"],
        env={"PATH": "/usr/bin:/bin", "WORKER_POOL_SIZE": "many"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "worker: invalid configuration: WORKER_DATABASE_URL is required; "
        "WORKER_POOL_SIZE Input should be a valid integer, unable to parse string as an integer"
    ]


async def test_health_endpoints_and_graceful_stop(clean_db: str) -> None:
    worker = await WorkerProcess(clean_db, **FAST).start()
    try:
        port = await worker.health_port()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/healthz")).status_code == 200
            await worker.wait_for_log(lambda line: "listening for wake-ups" in str(line.get("msg")))
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
            metrics = (await client.get("/metrics")).text
            assert "worker_claim_latency_seconds" in metrics
        worker.signal(signal.SIGTERM)
        assert await worker.wait() == 0
    finally:
        await worker.stop()


async def test_events_become_sent_messages_through_the_running_worker(
    db: psycopg.Connection[Any], factory: Factory, waha: WahaSimulator, clean_db: str
) -> None:
    tenant = hotel(db, factory, waha)
    worker = await WorkerProcess(clean_db, **FAST).start()
    try:
        await worker.wait_for_log(lambda line: "listening for wake-ups" in str(line.get("msg")))
        post_bookings(db, tenant, 5)
        await eventually(lambda: count(db, "select count(*) from public.message_logs where status = 'sent'") == 5)
        traced = [line for line in worker.lines if line.get("requestId") == "req-proc"]
        assert any("reservation created" in str(line["msg"]) for line in traced)
        assert any("message sent" in str(line["msg"]) for line in traced), "the request id reaches the send"
    finally:
        await worker.stop()


async def test_a_killed_worker_loses_no_message(
    db: psycopg.Connection[Any], factory: Factory, waha: WahaSimulator, clean_db: str
) -> None:
    tenant = hotel(db, factory, waha)
    waha.set_latency(3.0)  # sends are in flight when the worker dies
    post_bookings(db, tenant, 10)
    first = await WorkerProcess(clean_db, **FAST).start()
    try:
        await eventually(lambda: count(db, "select count(*) from public.message_logs where status = 'sending'") > 0)
        first.signal(signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL
    finally:
        await first.stop()
    in_flight = count(db, "select count(*) from public.message_logs where status = 'sending'")
    assert in_flight > 0

    waha.set_latency(0.0)
    second = await WorkerProcess(clean_db, **FAST).start()
    try:
        # The killed worker's events come back after their lease too (it may have died between
        # storing a reservation and completing its event: redoing that is idempotent).
        await eventually(
            lambda: (
                count(db, "select count(*) from public.message_logs where status = 'sent'") == 10
                and count(db, "select count(*) from public.inbound_events where status = 'succeeded'") == 10
            ),
            seconds=90,
        )
    finally:
        await second.stop()
    guests = {m.chat_id for m in waha.sent("default")}
    assert len(guests) == 10, "every guest got their confirmation"
    # At-least-once: only a message that was in flight at the kill may have gone out twice.
    assert len(waha.sent("default")) <= 10 + in_flight


async def test_two_workers_share_the_queues_without_doing_anything_twice(
    db: psycopg.Connection[Any], factory: Factory, waha: WahaSimulator, clean_db: str
) -> None:
    tenant = hotel(db, factory, waha)
    workers = [await WorkerProcess(clean_db, **FAST, event_batch_size=5).start() for _ in range(2)]
    try:
        for w in workers:
            await w.wait_for_log(lambda line: "listening for wake-ups" in str(line.get("msg")))
        post_bookings(db, tenant, 60)
        await eventually(
            lambda: count(db, "select count(*) from public.message_logs where status = 'sent'") == 60, seconds=60
        )
    finally:
        for w in workers:
            await w.stop()
    assert count(db, "select count(*) from public.inbound_events where attempts <> 1") == 0
    assert count(db, "select count(*) from public.message_logs where attempts <> 1") == 0
    assert len(waha.sent("default")) == 60, "no guest got a message twice"
    shares = [sum("reservation created" in str(line.get("msg")) for line in w.lines) for w in workers]
    assert sum(shares) == 60
    assert all(shares), f"both workers took a share of the events: {shares}"


async def test_a_booking_processed_by_the_worker_is_confirmed_at_once_not_at_the_next_poll(
    db: psycopg.Connection[Any], factory: Factory, waha: WahaSimulator, clean_db: str
) -> None:
    """The worker plans a booking's confirmation without a NOTIFY (upsert_reservation_v2) and
    wakes its own sender instead. With a two-minute poll, only that wake-up sends it in seconds."""
    tenant = hotel(db, factory, waha)
    worker = await WorkerProcess(clean_db, **{**FAST, "poll_interval_seconds": 120}).start()
    try:
        await worker.wait_for_log(lambda line: "listening for wake-ups" in str(line.get("msg")))
        post_bookings(db, tenant, 1)
        await eventually(lambda: len(waha.sent("default")) == 1, seconds=15)
    finally:
        await worker.stop()


async def test_a_paced_session_sends_its_next_message_when_its_gap_ends_not_at_the_next_poll(
    db: psycopg.Connection[Any], factory: Factory, waha: WahaSimulator, clean_db: str
) -> None:
    """Four confirmations for one hotel: each waits for the session's gap after the previous one,
    and no longer. The poll is two minutes, so only the worker's own wake-up for the session
    (it learns when the session may send again as it records a send) gets them out in seconds."""
    tenant = hotel(db, factory, waha, gap_ms=(300, 500))
    # A claimed message holds its session for the lease: two minutes too, so nothing but that
    # wake-up can release the next message early.
    worker = await WorkerProcess(clean_db, **{**FAST, "poll_interval_seconds": 120, "lease_seconds": 120}).start()
    try:
        await worker.wait_for_log(lambda line: "listening for wake-ups" in str(line.get("msg")))
        post_bookings(db, tenant, 4)
        sent = "select count(*) from public.message_logs where status = 'sent'"
        await eventually(lambda: count(db, sent) == 4, seconds=20)
        times = sorted(m.monotonic for m in waha.sent("default"))
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert len(gaps) == 3
        assert min(gaps) >= 0.3, f"the session's minimum gap was not kept: {gaps}"
    finally:
        await worker.stop()


async def test_a_slow_whatsapp_session_does_not_hold_up_another_hotel(
    db: psycopg.Connection[Any], factory: Factory, waha: WahaSimulator, clean_db: str
) -> None:
    """One hotel's WAHA takes 6 s to answer; another hotel's four confirmations go out meanwhile,
    one per gap, instead of waiting behind the slow send."""
    slow = hotel(db, factory, waha, name="Slow Hotel", session="slow")
    fast = hotel(db, factory, waha, name="Fast Hotel", session="fast", gap_ms=(200, 300))
    waha.set_latency(6.0, session="slow")
    worker = await WorkerProcess(clean_db, **FAST).start()
    try:
        await worker.wait_for_log(lambda line: "listening for wake-ups" in str(line.get("msg")))
        post_bookings(db, slow, 1)
        post_bookings(db, fast, 4)
        await eventually(lambda: len(waha.sent("fast")) == 4 and len(waha.sent("slow")) == 1, seconds=20)
        slow_answered = waha.sent("slow")[0].monotonic  # recorded as WAHA answers, after the 6 s
        assert max(m.monotonic for m in waha.sent("fast")) < slow_answered, "the fast hotel waited for the slow one"
    finally:
        await worker.stop()
