"""The worker's inbound processing on the real database: events in, state changes out."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import psycopg
import pytest

from tests.factories import Factory, Tenant
from worker.db.pool import Pool
from worker.inbound.processor import InboundProcessor
from worker.inbound.stopwords import is_stop_request
from worker.inbound.store import InboundStore


@pytest.fixture
def processor(pool: Pool) -> InboundProcessor:
    return InboundProcessor(
        InboundStore(pool),
        "test-worker",
        batch_size=50,
        lease_seconds=60,
        retry_base=dt.timedelta(seconds=1),
        retry_max=dt.timedelta(seconds=5),
    )


def ingest(
    db: psycopg.Connection[Any], tenant: Tenant, source: str, provider: str, events: list[dict[str, Any]]
) -> None:
    db.execute(
        "select * from internal.ingest_inbound_events_v1(%s, %s, %s, %s::jsonb, 'req-test')",
        (tenant.id, source, provider, json.dumps(events)),
    )


def event_states(db: psycopg.Connection[Any]) -> list[tuple[str, str, str | None]]:
    rows = db.execute("select event_id, status::text, last_error from public.inbound_events order by id").fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def waha_event(
    event: str, payload: dict[str, Any], session: str = "default", at: dt.datetime | None = None
) -> dict[str, Any]:
    event_id = f"evt_{uuid.uuid4().hex}"
    stamp = int((at or dt.datetime.now(dt.UTC)).timestamp() * 1000)
    return {
        "event_id": event_id,
        "event_type": event,
        "payload": {"id": event_id, "timestamp": stamp, "event": event, "session": session, "payload": payload},
    }


async def test_generic_reservation_event_becomes_a_reservation(
    db: psycopg.Connection[Any], factory: Factory, processor: InboundProcessor
) -> None:
    tenant = factory.tenant()
    reservation = {
        "provider": "generic",
        "pms_reservation_id": "GEN-1",
        "pms_property_id": "PROP-1",
        "status": "confirmed",
        "arrival_date": "2027-01-10",
        "departure_date": "2027-01-12",
        "pms_updated_at": "2026-11-26T10:00:00Z",
        "guest": {"full_name": "Grace Hopper", "phone": "+14155550100", "language": "en"},
    }
    body = {"type": "reservation.created", "timestamp": "2026-11-26T10:00:00Z", "data": reservation}
    ingest(db, tenant, "pms", "generic", [{"event_id": "msg_1", "event_type": "reservation.created", "payload": body}])

    assert await processor.run_batch() == 1

    row = db.execute(
        "select r.status::text, r.arrival_date::text, g.full_name, r.last_request_id"
        " from public.reservations r join public.guests g on g.id = r.guest_id"
    ).fetchone()
    assert row == ("confirmed", "2027-01-10", "Grace Hopper", "req-test")
    assert event_states(db) == [("msg_1", "succeeded", None)]


async def test_malformed_reservation_is_dead_lettered_with_the_reason(
    db: psycopg.Connection[Any], factory: Factory, processor: InboundProcessor
) -> None:
    tenant = factory.tenant()
    body = {"type": "reservation.created", "timestamp": "2026-11-26T10:00:00Z", "data": {"pms_reservation_id": "X"}}
    ingest(db, tenant, "pms", "generic", [{"event_id": "bad", "event_type": "reservation.created", "payload": body}])

    await processor.run_batch()

    [(_, status, error)] = event_states(db)
    assert status == "dead"
    assert error is not None and "PayloadError" in error


async def test_unknown_property_is_dead_lettered_not_retried(
    db: psycopg.Connection[Any], factory: Factory, processor: InboundProcessor
) -> None:
    tenant = factory.tenant()
    db.execute(
        "insert into public.properties (tenant_id, name, timezone, pms_property_id) values (%s, 'Annex', 'UTC', 'P2')",
        (tenant.id,),
    )
    reservation = {
        "provider": "generic",
        "pms_reservation_id": "GEN-2",
        "pms_property_id": "NOPE",
        "status": "confirmed",
        "arrival_date": "2027-01-10",
        "departure_date": "2027-01-12",
        "pms_updated_at": "2026-11-26T10:00:00Z",
        "guest": {"full_name": "Alan Turing"},
    }
    body = {"type": "reservation.created", "timestamp": "2026-11-26T10:00:00Z", "data": reservation}
    ingest(db, tenant, "pms", "generic", [{"event_id": "p", "event_type": "reservation.created", "payload": body}])

    await processor.run_batch()

    [(_, status, error)] = event_states(db)
    assert status == "dead"
    assert error is not None and "unknown property NOPE" in error


async def test_ack_advances_delivery_and_never_goes_back(
    db: psycopg.Connection[Any], factory: Factory, processor: InboundProcessor
) -> None:
    tenant = factory.tenant()
    factory.waha_configuration(tenant)
    message = factory.message(tenant, status="queued")
    db.execute("select internal.claim_messages_v1('w', 10)")
    db.execute("select internal.mark_message_sent_v1(%s, 'w', 'true_14155550100@c.us_ABC')", (message,))

    ingest(db, tenant, "waha", "waha", [waha_event("message.ack", {"id": "true_14155550100@c.us_ABC", "ack": 3})])
    await processor.run_batch()
    ingest(db, tenant, "waha", "waha", [waha_event("message.ack", {"id": "true_14155550100@c.us_ABC", "ack": 2})])
    await processor.run_batch()

    status = db.execute("select status::text, read_at is not null from public.message_logs").fetchone()
    assert status == ("read", True), "a late 'delivered' does not undo 'read'"


async def test_ack_before_the_send_is_recorded_is_retried(
    db: psycopg.Connection[Any], factory: Factory, processor: InboundProcessor
) -> None:
    tenant = factory.tenant()
    ingest(db, tenant, "waha", "waha", [waha_event("message.ack", {"id": "true_1@c.us_EARLY", "ack": 2})])

    await processor.run_batch()

    [(_, status, error)] = event_states(db)
    assert status == "pending"
    assert error is not None and "no message with WAHA id" in error


async def test_session_status_pauses_and_resumes_sends(
    db: psycopg.Connection[Any], factory: Factory, processor: InboundProcessor
) -> None:
    tenant = factory.tenant()
    factory.waha_configuration(tenant)

    ingest(db, tenant, "waha", "waha", [waha_event("session.status", {"status": "SCAN_QR_CODE"})])
    await processor.run_batch()
    paused = db.execute("select is_connected, sends_paused_reason from public.waha_configurations").fetchone()
    assert paused == (False, "session SCAN_QR_CODE")

    ingest(db, tenant, "waha", "waha", [waha_event("session.status", {"status": "WORKING"})])
    await processor.run_batch()
    resumed = db.execute("select is_connected, sends_paused_reason from public.waha_configurations").fetchone()
    assert resumed == (True, None)


async def test_session_reports_applied_out_of_order_keep_the_newest(
    db: psycopg.Connection[Any], factory: Factory, processor: InboundProcessor
) -> None:
    tenant = factory.tenant()
    factory.waha_configuration(tenant, status="STOPPED")
    now = dt.datetime.now(dt.UTC)
    # WAHA reported STARTING, then WORKING; the newer one is worked off first.
    ingest(db, tenant, "waha", "waha", [waha_event("session.status", {"status": "WORKING"}, at=now)])
    await processor.run_batch()
    ingest(
        db,
        tenant,
        "waha",
        "waha",
        [waha_event("session.status", {"status": "STARTING"}, at=now - dt.timedelta(seconds=1))],
    )
    await processor.run_batch()

    state = db.execute("select session_status, sends_paused_reason from public.waha_configurations").fetchone()
    assert state == ("WORKING", None)
    assert [s for _, s, _ in event_states(db)] == ["succeeded", "ignored"]


def test_stop_words_match_whole_replies_only() -> None:
    assert is_stop_request("STOP")
    assert is_stop_request("  Stopp! ")
    assert is_stop_request("Arrêt")
    assert is_stop_request("unsubscribe")
    assert not is_stop_request("Please don't stop the room cleaning")
    assert not is_stop_request("")
    assert not is_stop_request(None)


async def test_a_guest_replying_stop_is_opted_out_and_their_messages_cancelled(
    db: psycopg.Connection[Any], factory: Factory, processor: InboundProcessor
) -> None:
    tenant = factory.tenant()
    factory.waha_configuration(tenant)
    db.execute(
        "insert into public.message_templates (tenant_id, key, language, body) values (%s, 'welcome', 'en', 'Hi')",
        (tenant.id,),
    )
    db.execute(
        "insert into public.automation_rules (tenant_id, name, trigger, offset_days, send_at_local, template_key)"
        " values (%s, 'Welcome', 'arrival_day', 0, '14:00', 'welcome')",
        (tenant.id,),
    )
    factory.reservation(tenant, arrival_date="2027-06-01", departure_date="2027-06-03")
    assert db.execute("select status::text from public.message_logs").fetchall() == [("scheduled",)]

    reply = {"id": "false_4915112345678@c.us_3EB0AA", "from": "4915112345678@c.us", "fromMe": False, "body": "STOP"}
    ingest(db, tenant, "waha", "waha", [waha_event("message", reply)])
    await processor.run_batch()

    guest = db.execute("select whatsapp_opt_in, opted_out_at is not null from public.guests").fetchone()
    assert guest == (False, True)
    assert db.execute("select status::text from public.message_logs").fetchall() == [("cancelled",)]
    assert event_states(db)[0][1] == "succeeded"


async def test_an_ordinary_reply_changes_no_consent(
    db: psycopg.Connection[Any], factory: Factory, processor: InboundProcessor
) -> None:
    tenant = factory.tenant()
    factory.reservation(tenant)
    reply = {"id": "false_x", "from": "4915112345678@c.us", "fromMe": False, "body": "Can I check in early?"}
    ingest(db, tenant, "waha", "waha", [waha_event("message", reply)])

    await processor.run_batch()

    assert db.execute("select whatsapp_opt_in from public.guests").fetchone() == (True,)
    # It is kept in the guest's conversation (tests/test_conversations.py).
    assert event_states(db)[0][1] == "succeeded"
    assert db.execute("select body, consent_change from public.conversation_messages").fetchall() == [
        ("Can I check in early?", None)
    ]
