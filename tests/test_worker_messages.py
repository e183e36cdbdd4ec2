"""Sending guest messages: the worker's sender and watchdog, the real planning SQL, and a WAHA
simulator that checks every request against WAHA's OpenAPI spec."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import psycopg
import pytest

from devstack.simulators.waha import WahaSimulator
from tests.factories import Factory, Tenant
from worker.db.pool import Pool
from worker.http import new_waha_session
from worker.messages.recorder import SendRecorder
from worker.messages.sender import MessageSender
from worker.messages.store import MessageStore
from worker.messages.watchdog import SessionWatchdog
from worker.waha import WahaClient

API_KEY = "test-waha-key"
GUEST_PHONE = "+4915112345678"


@pytest.fixture
async def waha() -> AsyncIterator[WahaSimulator]:
    async with WahaSimulator(api_key=API_KEY, ack_delays=None) as sim:
        yield sim
        sim.assert_no_violations()


@pytest.fixture
async def waha_http() -> AsyncIterator[aiohttp.ClientSession]:
    """The worker's kind of WAHA session."""
    async with new_waha_session(timeout_seconds=10, max_connections=50, allow_local=True) as session:
        yield session


def new_sender(
    pool: Pool,
    waha_http: aiohttp.ClientSession,
    *,
    batch_size: int = 50,
    concurrency: int = 10,
    lookahead: float = 0.0,
) -> MessageSender:
    return MessageSender(
        MessageStore(pool),
        WahaClient(waha_http),
        "test-worker",
        batch_size=batch_size,
        lease_seconds=60,
        concurrency=concurrency,
        lookahead=lookahead,
        retry_base=dt.timedelta(seconds=30),
        retry_max=dt.timedelta(minutes=5),
    )


@pytest.fixture
def sender(pool: Pool, waha_http: aiohttp.ClientSession) -> MessageSender:
    return new_sender(pool, waha_http)


def hotel_with_whatsapp(db: psycopg.Connection[Any], factory: Factory, waha: WahaSimulator, name: str) -> Tenant:
    tenant = factory.tenant(name)
    waha.add_session(name)
    config = db.execute(
        "insert into public.waha_configurations (tenant_id, base_url, session_name, session_status,"
        " send_gap_min_ms, send_gap_max_ms) values (%s, %s, %s, 'WORKING', 0, 0) returning id",
        (tenant.id, waha.base_url, name),
    ).fetchone()
    assert config is not None
    db.execute("select public.set_waha_api_key(%s, %s)", (config[0], API_KEY))
    db.execute(
        "insert into public.message_templates (tenant_id, key, language, body) values"
        " (%s, 'booking_confirmation', 'en', 'Hello {{guest_first_name}}, see you on {{arrival_date}}!')",
        (tenant.id,),
    )
    db.execute(
        "insert into public.automation_rules (tenant_id, name, trigger, template_key)"
        " values (%s, 'Confirmation', 'booking_confirmed', 'booking_confirmation')",
        (tenant.id,),
    )
    return tenant


def book(db: psycopg.Connection[Any], tenant: Tenant, phone: str = GUEST_PHONE, request_id: str = "req-1") -> None:
    # Far enough ahead that the confirmation is due now, in the property's daytime or not.
    arrival = dt.date.today() + dt.timedelta(days=30)
    reservation = {
        "provider": "generic",
        "pms_reservation_id": f"R-{phone}",
        "pms_property_id": "PROP-1",
        "status": "confirmed",
        "arrival_date": arrival.isoformat(),
        "departure_date": (arrival + dt.timedelta(days=2)).isoformat(),
        "pms_updated_at": "2026-11-26T10:00:00Z",
        "guest": {"full_name": "Ada Lovelace", "phone": phone, "language": "en"},
    }
    db.execute(
        "select internal.upsert_reservation_v1(%s, %s::jsonb, %s)", (tenant.id, json.dumps(reservation), request_id)
    )
    # Quiet hours would defer the message to the morning; the tests send now.
    db.execute("update public.properties set quiet_hours_start = '00:00', quiet_hours_end = '00:00'")
    db.execute(
        "update public.message_logs set next_attempt_at = now(), scheduled_for = now() where status = 'scheduled'"
    )


def messages(db: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    with db.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute("select * from public.message_logs order by id")
        return cur.fetchall()


def paused(db: psycopg.Connection[Any]) -> str | None:
    row = db.execute("select sends_paused_reason from public.waha_configurations").fetchone()
    return None if row is None else row[0]


async def test_a_planned_message_reaches_the_guest(
    db: psycopg.Connection[Any], factory: Factory, waha: WahaSimulator, sender: MessageSender
) -> None:
    tenant = hotel_with_whatsapp(db, factory, waha, "hotel-a")
    book(db, tenant)

    assert await sender.run_batch() == 1

    [sent] = waha.sent("hotel-a")
    assert sent.chat_id == "4915112345678@c.us"
    assert sent.text.startswith("Hello Ada, see you on ")
    [message] = messages(db)
    assert message["status"] == "sent"
    assert message["waha_message_id"] == sent.id
    assert message["request_id"] == "req-1", "the webhook's request id follows into the message"


async def test_the_number_is_checked_during_the_sessions_gap_and_the_text_goes_when_it_ends(
    db: psycopg.Connection[Any], factory: Factory, waha: WahaSimulator, pool: Pool, waha_http: aiohttp.ClientSession
) -> None:
    tenant = hotel_with_whatsapp(db, factory, waha, "hotel-a")
    book(db, tenant)
    waha.set_latency(1.0)  # each of check-exists and sendText takes a second
    # The session's last message left a gap that ends in 3 s: long enough that the look-ahead
    # batch below starts inside it even when a loaded machine is slow to get there.
    row = db.execute(
        "update public.waha_configurations set next_send_at = clock_timestamp() + interval '3 seconds',"
        " gap_ends_at = clock_timestamp() + interval '3 seconds'"
        " returning extract(epoch from gap_ends_at)::float8"
    ).fetchone()
    assert row is not None
    gap_ends = row[0]

    assert await new_sender(pool, waha_http).run_batch() == 0, "without look-ahead nothing goes before the gap ends"
    assert await new_sender(pool, waha_http, lookahead=4.0).run_batch() == 1

    [sent] = waha.sent("hotel-a")  # `at` is when WAHA answered, a second after the request arrived
    arrived = sent.at - 1.0
    assert arrived >= gap_ends - 0.01, "sendText waited for the end of the gap"
    # Checked after the gap, sendText could not have arrived before gap end + 1 s.
    assert arrived < gap_ends + 0.9, "the number was checked during the gap, not after it"
    assert messages(db)[0]["status"] == "sent"


async def test_server_errors_are_retried_then_succeed(
    db: psycopg.Connection[Any], factory: Factory, waha: WahaSimulator, sender: MessageSender
) -> None:
    tenant = hotel_with_whatsapp(db, factory, waha, "hotel-a")
    book(db, tenant)
    waha.fail_next("hotel-a", 1, status=503)

    await sender.run_batch()
    [message] = messages(db)
    assert message["status"] == "failed"
    assert "503" in message["last_error"]
    assert message["next_attempt_at"] > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10), "backoff"

    db.execute("update public.message_logs set next_attempt_at = now()")
    await sender.run_batch()
    [message] = messages(db)
    assert (message["status"], message["attempts"]) == ("sent", 2)
    assert len(waha.sent("hotel-a")) == 1, "the guest got it once"


async def test_retries_end_in_the_dead_letter_state(
    db: psycopg.Connection[Any], factory: Factory, waha: WahaSimulator, sender: MessageSender
) -> None:
    tenant = hotel_with_whatsapp(db, factory, waha, "hotel-a")
    book(db, tenant)
    db.execute("update public.message_logs set max_attempts = 2")
    waha.fail_next("hotel-a", 5, status=500)

    for _ in range(2):
        db.execute("update public.message_logs set next_attempt_at = now() where status <> 'dead'")
        await sender.run_batch()

    [message] = messages(db)
    assert message["status"] == "dead"
    assert "500" in message["last_error"]


async def test_invalid_number_is_dead_at_once_with_the_reason(
    db: psycopg.Connection[Any], factory: Factory, waha: WahaSimulator, sender: MessageSender
) -> None:
    tenant = hotel_with_whatsapp(db, factory, waha, "hotel-a")
    waha.mark_not_on_whatsapp("+4915199999999")
    book(db, tenant, phone="+4915199999999")

    await sender.run_batch()

    [message] = messages(db)
    assert (message["status"], message["attempts"]) == ("dead", 1)
    assert "not on WhatsApp" in message["last_error"]
    assert waha.sent("hotel-a") == []


async def test_a_disconnected_session_pauses_sends_without_burning_attempts(
    db: psycopg.Connection[Any],
    factory: Factory,
    waha: WahaSimulator,
    sender: MessageSender,
    pool: Pool,
    waha_http: aiohttp.ClientSession,
) -> None:
    tenant = hotel_with_whatsapp(db, factory, waha, "hotel-a")
    book(db, tenant)
    waha.set_status("hotel-a", "SCAN_QR_CODE")  # the phone unlinked; WAHA's webhook is not wired here

    await sender.run_batch()
    [message] = messages(db)
    assert (message["status"], message["attempts"]) == ("queued", 0)
    assert paused(db) is not None
    assert await sender.run_batch() == 0, "a paused tenant's messages are not claimed"

    waha.set_status("hotel-a", "WORKING")  # scanned again
    watchdog = SessionWatchdog(pool, WahaClient(waha_http), min_age_seconds=0)
    assert await watchdog.check_paused() == 1
    assert paused(db) is None

    await sender.run_batch()
    assert messages(db)[0]["status"] == "sent"


async def test_waha_down_then_back(
    db: psycopg.Connection[Any],
    factory: Factory,
    waha: WahaSimulator,
    sender: MessageSender,
    pool: Pool,
    waha_http: aiohttp.ClientSession,
) -> None:
    tenant = hotel_with_whatsapp(db, factory, waha, "hotel-a")
    book(db, tenant)
    await waha.stop()

    await sender.run_batch()
    watchdog = SessionWatchdog(pool, WahaClient(waha_http), min_age_seconds=0)
    assert await watchdog.check_paused() == 0, "still down"
    [message] = messages(db)
    assert (message["status"], message["attempts"]) == ("queued", 0)

    await waha.start()  # back, its session WORKING all along: no webhook will say so
    assert await watchdog.check_paused() == 1
    await sender.run_batch()
    assert messages(db)[0]["status"] == "sent"


async def test_a_pause_by_hand_stops_sending_until_resumed_and_the_watchdog_leaves_it(
    db: psycopg.Connection[Any],
    factory: Factory,
    waha: WahaSimulator,
    sender: MessageSender,
    pool: Pool,
    waha_http: aiohttp.ClientSession,
) -> None:
    tenant = hotel_with_whatsapp(db, factory, waha, "hotel-a")
    book(db, tenant)
    db.execute("select public.pause_tenant_sends(%s, 'checking the new templates')", (tenant.id,))

    assert await sender.run_batch() == 0, "a held tenant's message was claimed"
    watchdog = SessionWatchdog(pool, WahaClient(waha_http), min_age_seconds=0)
    assert await watchdog.check_paused() == 0, "the watchdog lifted a pause made by hand"
    assert paused(db) == "held: checking the new templates"
    assert messages(db)[0]["status"] == "scheduled"

    db.execute("select public.resume_tenant_sends(%s)", (tenant.id,))
    await sender.run_batch()
    assert messages(db)[0]["status"] == "sent"


async def test_a_rejected_api_key_pauses_until_a_new_key_is_set(
    db: psycopg.Connection[Any], factory: Factory, waha: WahaSimulator, sender: MessageSender
) -> None:
    tenant = hotel_with_whatsapp(db, factory, waha, "hotel-a")
    book(db, tenant)
    waha.reject_api_key(API_KEY, 401)

    await sender.run_batch()
    reason = paused(db)
    assert reason is not None and reason.startswith("auth:") and "401" in reason
    assert messages(db)[0]["attempts"] == 0

    waha.add_api_key("rotated-key")
    db.execute(
        "select public.set_waha_api_key((select id from public.waha_configurations), 'rotated-key')",
    )
    assert paused(db) is None
    await sender.run_batch()
    assert messages(db)[0]["status"] == "sent"


@pytest.mark.parametrize("shape", ["noweb", "webjs", "gows", "empty"])
async def test_every_engine_answer_yields_the_id_acks_use(
    db: psycopg.Connection[Any], factory: Factory, waha: WahaSimulator, sender: MessageSender, shape: str
) -> None:
    tenant = hotel_with_whatsapp(db, factory, waha, "hotel-a")
    waha.set_response_shape("hotel-a", shape)
    book(db, tenant)

    await sender.run_batch()

    [sent] = waha.sent("hotel-a")
    assert messages(db)[0]["waha_message_id"] == sent.id


async def test_one_broken_tenant_does_not_hold_up_another(
    db: psycopg.Connection[Any], factory: Factory, waha: WahaSimulator, sender: MessageSender
) -> None:
    broken = hotel_with_whatsapp(db, factory, waha, "broken")
    healthy = hotel_with_whatsapp(db, factory, waha, "healthy")
    db.execute(
        "update public.waha_configurations set base_url = 'http://127.0.0.1:9' where tenant_id = %s", (broken.id,)
    )
    book(db, broken, phone="+4915111111111")
    book(db, healthy, phone="+4915122222222")

    await sender.run_batch()

    by_tenant = {m["tenant_id"]: m["status"] for m in messages(db)}
    assert by_tenant == {broken.id: "queued", healthy.id: "sent"}


async def test_a_send_cut_off_by_shutdown_is_handed_back_in_doubt(
    db: psycopg.Connection[Any], factory: Factory, waha: WahaSimulator, sender: MessageSender
) -> None:
    """Its sendText had started, so WAHA may have it: not handed back as unsent (the guest could
    get it twice), but by the stop's deregistration, marked to be checked with WAHA first."""
    tenant = hotel_with_whatsapp(db, factory, waha, "hotel-a")
    book(db, tenant)
    waha.timeout_next("hotel-a", hang=30.0)  # sendText is still in flight when the grace period ends
    batch = asyncio.create_task(sender.run_batch())
    async with asyncio.timeout(10):
        while not sender.posting:  # noqa: ASYNC110 (state lives elsewhere)
            await asyncio.sleep(0.05)
    batch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await batch

    assert await sender.release_in_flight() == 0
    assert [m["status"] for m in messages(db)] == ["sending"]
    incarnation = uuid.uuid4()
    db.execute("select internal.register_worker_v1('test-worker', %s)", (incarnation,))
    taken_back = db.execute("select internal.deregister_worker_v1('test-worker', %s)", (incarnation,)).fetchone()
    assert taken_back == (1,)
    [message] = messages(db)
    assert (message["status"], message["send_uncertain"]) == ("queued", True)


async def test_a_claim_cut_off_by_shutdown_before_its_send_is_handed_back(
    db: psycopg.Connection[Any], factory: Factory, waha: WahaSimulator, pool: Pool, waha_http: aiohttp.ClientSession
) -> None:
    """Claimed ahead and waiting for its session's gap: no sendText yet, so it goes back unsent."""
    sender = new_sender(pool, waha_http, lookahead=4.0)
    tenant = hotel_with_whatsapp(db, factory, waha, "hotel-a")
    book(db, tenant)
    db.execute("update public.waha_configurations set next_send_at = now() + interval '3 seconds'")
    batch = asyncio.create_task(sender.run_batch())
    async with asyncio.timeout(10):
        while not sender.in_flight:  # noqa: ASYNC110 (state lives elsewhere)
            await asyncio.sleep(0.05)
    batch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await batch

    assert await sender.release_in_flight() == 1
    [message] = messages(db)
    assert (message["status"], message["attempts"], message["last_error"]) == ("queued", 0, "worker shut down")


def leased_to_w1(factory: Factory, tenant: Tenant, count: int) -> list[int]:
    """`count` messages worker w1 has claimed and not yet recorded."""
    lease = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    return [
        factory.message(tenant, status="sending", lease_owner="w1", lease_expires_at=lease, attempts=1)
        for _ in range(count)
    ]


async def test_a_send_the_database_refuses_to_record_does_not_take_the_rest_of_its_batch_with_it(
    db: psycopg.Connection[Any], factory: Factory, pool: Pool
) -> None:
    """Sends finished together are recorded in one statement. If the database refuses one of
    them, the others are still recorded (else they would stay `sending` until their leases ran
    out, and their guests would get them twice); only the refused one is reported."""
    tenant = factory.tenant("Hotel Batch")
    factory.waha_configuration(tenant)
    factory.message(tenant, status="sent", waha_message_id="true_dup")
    duplicate, fine = leased_to_w1(factory, tenant, 2)
    recorder = SendRecorder(MessageStore(pool), "w1")
    now = time.monotonic()
    refused, recorded = await asyncio.gather(
        recorder.record(duplicate, "true_dup", now), recorder.record(fine, "true_ok", now), return_exceptions=True
    )
    assert isinstance(refused, psycopg.errors.UniqueViolation)
    assert isinstance(recorded, float), "the other send of the batch is recorded"
    statuses = dict(db.execute("select id, status::text from public.message_logs").fetchall())
    assert statuses[fine] == "sent"
    assert statuses[duplicate] == "sending", "the refused one is left to its lease, as before batching"


async def test_sends_finished_while_a_batch_is_written_are_recorded_even_if_its_wake_up_fails(
    db: psycopg.Connection[Any], factory: Factory, pool: Pool
) -> None:
    """The wake-up for the next paced send is only a hint. If setting it fails, the sends that
    finished while the batch was being written must still be recorded: left unrecorded they stay
    `sending`, and at shutdown they would be handed back and sent to the guests a second time."""
    tenant = factory.tenant("Hotel Hint")
    factory.waha_configuration(tenant)
    ids = leased_to_w1(factory, tenant, 3)

    def broken_hint(seconds: float) -> None:
        raise RuntimeError("no timer")

    recorder = SendRecorder(MessageStore(pool), "w1", on_paced=broken_hint)
    now = time.monotonic()
    with db.transaction():
        # Hold the first row, so its batch is still being written when the other two finish.
        db.execute("select id from public.message_logs where id = %s for update", (ids[0],))
        first = asyncio.create_task(recorder.record(ids[0], "true_a", now))
        await asyncio.sleep(0.2)
        rest = asyncio.gather(recorder.record(ids[1], "true_b", now), recorder.record(ids[2], "true_c", now))
        await asyncio.sleep(0.1)
    recorded = await asyncio.wait_for(asyncio.gather(first, rest), 10)

    assert recorded[0] is not None and all(r is not None for r in recorded[1])
    statuses = [row[0] for row in db.execute("select status::text from public.message_logs order by id")]
    assert statuses == ["sent", "sent", "sent"]


async def test_once_stopping_the_sender_claims_nothing_more_and_lets_its_sends_finish(
    db: psycopg.Connection[Any], factory: Factory, waha: WahaSimulator, pool: Pool, waha_http: aiohttp.ClientSession
) -> None:
    """SIGTERM while every send slot is busy: the waiting claim is dropped, the message in
    flight is delivered, and the other hotel's message stays due for the next worker."""
    first = hotel_with_whatsapp(db, factory, waha, "first")
    second = hotel_with_whatsapp(db, factory, waha, "second")
    book(db, first, phone="+4915111111111")
    waha.set_latency(1.0, session="first")
    sender = new_sender(pool, waha_http, batch_size=1, concurrency=1)
    stop = asyncio.Event()
    assert await sender.pump(stop) is True, "one slot, one message claimed"
    book(db, second, phone="+4915122222222")
    waiting = asyncio.create_task(sender.pump(stop))  # no free slot: waits for the send
    await asyncio.sleep(0.2)
    stop.set()
    assert await waiting is False
    await sender.finish()

    by_tenant = {m["tenant_id"]: (m["status"], m["attempts"]) for m in messages(db)}
    assert by_tenant == {first.id: ("sent", 1), second.id: ("scheduled", 0)}, "the second was never claimed"
