"""End to end: a PMS posts a signed webhook to the real Deno edge function; the real worker turns
it into a reservation and planned messages at the right local times (across a DST change),
sends them through WAHA (simulated, spec-checked), and WAHA's signed ack webhooks, back through
the edge function, move each message on to "read"."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest

from devstack.simulators.waha import WahaSimulator
from tests.factories import Factory, Tenant
from tests.processes import functions_server
from worker.app import Worker, open_resources
from worker.settings import Settings
from worker.webhook_signatures import standard_webhook_headers

pytestmark = pytest.mark.slow

PMS_SECRET = "whsec_ZW5kLXRvLWVuZC1wbXMtc2VjcmV0LWtleQ=="
WAHA_KEY = "e2e-waha-key"
BERLIN = ZoneInfo("Europe/Berlin")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def functions_url(database_url: str) -> Iterator[str]:
    """The edge functions served by supabase/functions/serve.ts, as `make functions` does."""
    with functions_server(database_url, _free_port()) as url:
        yield url


@pytest.fixture
async def waha() -> AsyncIterator[WahaSimulator]:
    async with WahaSimulator(api_key=WAHA_KEY, ack_delays=(0.05, 0.1, 0.15)) as sim:
        yield sim
        sim.assert_no_violations()


@pytest.fixture
async def worker(clean_db: str) -> AsyncIterator[Worker]:
    settings = Settings(
        database_url=clean_db, wakeup="poll", health_port=0, retry_base_seconds=1, allow_local_urls=True
    )
    resources = await open_resources(settings)
    yield Worker(settings, resources)
    await resources.close()


def hotel(db: psycopg.Connection[Any], factory: Factory, waha: WahaSimulator, functions_url: str) -> Tenant:
    tenant = factory.tenant("Hotel Spree", timezone="Europe/Berlin", pms_property_id="BER")
    db.execute("update public.properties set quiet_hours_start = '00:00', quiet_hours_end = '00:00'")
    pms = factory.pms_configuration(tenant, provider="generic")
    db.execute("select public.set_pms_webhook_secret(%s, %s)", (pms, PMS_SECRET))
    waha_config = factory.waha_configuration(tenant, base_url=waha.base_url)
    db.execute("update public.waha_configurations set session_name = 'spree', send_gap_min_ms = 0, send_gap_max_ms = 0")
    db.execute("select public.set_waha_api_key(%s, %s)", (waha_config, WAHA_KEY))
    row = db.execute("select internal.rotate_waha_webhook_secret_v1(%s)", (waha_config,)).fetchone()
    assert row is not None
    waha.add_session(
        "spree",
        webhooks=[
            {
                "url": f"{functions_url}/waha-webhook/{tenant.webhook_key}",
                "events": ["message.ack", "session.status", "message"],
                "hmac": {"key": row[0]},
            }
        ],
    )
    db.execute(
        "insert into public.message_templates (tenant_id, key, language, body) values"
        " (%(t)s, 'booking_confirmation', 'en', 'Dear {{guest_name}}, your {{nights}} nights are booked.'),"
        " (%(t)s, 'booking_confirmation', 'de', 'Liebe(r) {{guest_name}}, Ihre {{nights}} Nächte sind gebucht.'),"
        " (%(t)s, 'pre_arrival', 'en', 'See you on {{arrival_date}}, check-in from {{check_in_time}}.')",
        {"t": tenant.id},
    )
    db.execute(
        "insert into public.automation_rules (tenant_id, name, trigger, offset_days, send_at_local, template_key)"
        " values (%(t)s, 'Confirmation', 'booking_confirmed', 0, null, 'booking_confirmation'),"
        " (%(t)s, 'Pre-arrival', 'before_arrival', 3, '10:00', 'pre_arrival')",
        {"t": tenant.id},
    )
    return tenant


async def post_reservation(
    functions_url: str, tenant: Tenant, reservation: dict[str, Any], request_id: str, kind: str = "created"
) -> httpx.Response:
    body = json.dumps(
        {"type": f"reservation.{kind}", "timestamp": reservation["pms_updated_at"], "data": reservation}
    ).encode()
    headers = standard_webhook_headers(PMS_SECRET, f"msg_{uuid.uuid4().hex}", body)
    headers.update({"content-type": "application/json", "x-request-id": request_id})
    async with httpx.AsyncClient() as client:
        return await client.post(
            f"{functions_url}/pms-webhook/generic/{tenant.webhook_key}", content=body, headers=headers
        )


def reservation(pms_id: str, arrival: str, departure: str, phone: str, language: str = "en") -> dict[str, Any]:
    return {
        "provider": "generic",
        "pms_reservation_id": pms_id,
        "pms_property_id": "BER",
        "status": "confirmed",
        "arrival_date": arrival,
        "departure_date": departure,
        "pms_updated_at": "2026-11-26T09:00:00Z",
        "guest": {"full_name": f"Guest {pms_id}", "phone": phone, "language": language},
    }


async def settle(worker: Worker, waha: WahaSimulator, rounds: int = 5) -> None:
    """Works the queues until the acks WAHA posts back have been processed too."""
    for _ in range(rounds):
        await worker.drain()
        await asyncio.sleep(0.3)
        await waha.drain_webhooks()
    await worker.drain()


async def test_webhook_to_read_receipt_with_local_times_across_dst(
    db: psycopg.Connection[Any],
    factory: Factory,
    waha: WahaSimulator,
    worker: Worker,
    functions_url: str,
) -> None:
    tenant = hotel(db, factory, waha, functions_url)

    # Pre-arrival 3 days ahead at 10:00 Berlin time: 2027-03-27 is still winter time (UTC+1),
    # 2027-03-28 is the day clocks go forward (UTC+2).
    winter = await post_reservation(
        functions_url, tenant, reservation("R-W", "2027-03-30", "2027-04-02", "+4915111111111"), "req-winter"
    )
    summer = await post_reservation(
        functions_url, tenant, reservation("R-S", "2027-03-31", "2027-04-02", "+4915122222222", "de"), "req-summer"
    )
    assert (winter.status_code, summer.status_code) == (202, 202), (winter.text, summer.text)
    assert winter.headers["x-request-id"] == "req-winter"

    await settle(worker, waha)

    rows = db.execute(
        "select r.pms_reservation_id, m.template_key, m.status::text, m.scheduled_for, m.request_id, m.language"
        " from public.message_logs m join public.reservations r on r.id = m.reservation_id"
        " order by 1, 2"
    ).fetchall()
    by_key = {(r[0], r[1]): r[2:] for r in rows}

    assert by_key[("R-W", "booking_confirmation")][0] == "read"
    assert by_key[("R-S", "booking_confirmation")][0] == "read"
    assert by_key[("R-S", "booking_confirmation")][3] == "de", "the guest's language"
    assert by_key[("R-W", "booking_confirmation")][2] == "req-winter", "the webhook's request id follows"

    winter_pre = by_key[("R-W", "pre_arrival")]
    summer_pre = by_key[("R-S", "pre_arrival")]
    assert winter_pre[0] == "scheduled" and summer_pre[0] == "scheduled"
    assert winter_pre[1] == dt.datetime(2027, 3, 27, 9, 0, tzinfo=dt.UTC)
    assert summer_pre[1] == dt.datetime(2027, 3, 28, 8, 0, tzinfo=dt.UTC)
    assert winter_pre[1].astimezone(BERLIN).hour == summer_pre[1].astimezone(BERLIN).hour == 10

    texts = sorted(m.text for m in waha.sent("spree"))
    assert texts == [
        "Dear Guest R-W, your 3 nights are booked.",
        "Liebe(r) Guest R-S, Ihre 2 Nächte sind gebucht.",
    ]


async def test_cancellation_and_a_stop_reply_through_the_functions(
    db: psycopg.Connection[Any],
    factory: Factory,
    waha: WahaSimulator,
    worker: Worker,
    functions_url: str,
) -> None:
    tenant = hotel(db, factory, waha, functions_url)
    booked = reservation("R-C", "2027-05-10", "2027-05-12", "+4915133333333")
    await post_reservation(functions_url, tenant, booked, "req-book")
    await settle(worker, waha)

    cancelled = {**booked, "status": "cancelled", "pms_updated_at": "2026-11-26T10:00:00Z"}
    response = await post_reservation(functions_url, tenant, cancelled, "req-cancel", kind="cancelled")
    assert response.status_code == 202
    await settle(worker, waha)
    statuses = dict(db.execute("select template_key, status::text from public.message_logs").fetchall())
    assert statuses == {"booking_confirmation": "read", "pre_arrival": "cancelled"}

    other = reservation("R-D", "2027-06-10", "2027-06-12", "+4915144444444")
    await post_reservation(functions_url, tenant, other, "req-other")
    await settle(worker, waha)
    waha.receive("spree", "+4915144444444", "Stop")
    await settle(worker, waha)
    opted_out = db.execute("select whatsapp_opt_in from public.guests where phone_e164 = '+4915144444444'").fetchone()
    assert opted_out == (False,)
    pending = db.execute(
        "select m.status::text from public.message_logs m join public.reservations r on r.id = m.reservation_id"
        " where r.pms_reservation_id = 'R-D' and m.template_key = 'pre_arrival'"
    ).fetchone()
    assert pending == ("cancelled",)
