"""A hotel's day, compressed into a few minutes: what the PMS and the guests do.

Each step says what happens in the world; the narrator shows what the system does about it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

import httpx
import psycopg

from devstack.simulators.pms.base import Booking
from devstack.simulators.pms.generic import GenericPmsSimulator, canonical
from devstack.simulators.waha import WahaSimulator
from worker.webhook_signatures import standard_webhook_headers

# From supabase/seed.sql.
PMS_SECRET = "whsec_ZGVtby1ob3RlbC1wbXMtd2ViaG9vay1zZWNyZXQ="  # noqa: S105 (demo data)
WEBHOOK_KEY = "demo-hotel-webhook-key"
PMS_CONFIGURATION = "d3000000-0000-4000-8000-000000000001"
PROPERTY = "BER"


@dataclass
class World:
    functions_url: str
    database_url: str
    pms: GenericPmsSimulator
    waha: WahaSimulator
    session: str
    say: Callable[[str], None]
    pace: float = 1.0
    http: httpx.AsyncClient | None = None

    async def pause(self, seconds: float) -> None:
        await asyncio.sleep(seconds * self.pace)

    def step(self, text: str) -> None:
        self.say(f"\n── {text}")

    async def deliver(self, booking: Booking, kind: str, *, webhook_id: str | None = None) -> httpx.Response:
        """The PMS posts a signed webhook about `booking` (and keeps the booking itself)."""
        self.pms.put(booking)
        body = json.dumps(
            {
                "type": f"reservation.{kind}",
                "timestamp": booking.modified.isoformat().replace("+00:00", "Z"),
                "data": canonical(booking),
            }
        ).encode()
        headers = standard_webhook_headers(PMS_SECRET, webhook_id or f"msg_{uuid.uuid4().hex}", body)
        headers["content-type"] = "application/json"
        assert self.http is not None
        return await self.http.post(
            f"{self.functions_url}/pms-webhook/generic/{WEBHOOK_KEY}", content=body, headers=headers
        )

    def sql(self, statement: str) -> None:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute(statement.encode())

    async def until(self, condition: str, seconds: float = 60) -> None:
        """Waits until the SQL `condition` holds (what the system does takes the time it takes)."""
        async with asyncio.timeout(seconds):
            while True:
                async with await psycopg.AsyncConnection.connect(self.database_url, autocommit=True) as conn:
                    row = await (await conn.execute(f"select ({condition})".encode())).fetchone()
                if row and row[0]:
                    return
                await asyncio.sleep(0.2)


def _booking(pms_id: str, first: str, last: str, phone: str, language: str, arrive_in: int, nights: int) -> Booking:
    today = dt.date.today()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return Booking(
        id=pms_id,
        property_id=PROPERTY,
        status="confirmed",
        arrival=today + dt.timedelta(days=arrive_in),
        departure=today + dt.timedelta(days=arrive_in + nights),
        modified=now,
        created=now,
        first_name=first,
        last_name=last,
        phone=phone,
        email=f"{first.lower()}@example.com",
        language=language,
    )


def _later(booking: Booking, seconds: int = 60, **changes: object) -> Booking:
    return replace(booking, modified=booking.modified + dt.timedelta(seconds=seconds), **changes)  # type: ignore[arg-type]


async def play(world: World, after_step: Callable[[], Awaitable[None]]) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        world.http = http
        await _play(world, after_step)


async def _play(world: World, after_step: Callable[[], Awaitable[None]]) -> None:
    ada = _booking("BK-1001", "Ada", "Lovelace", "+4915112340001", "en-GB", arrive_in=3, nights=2)
    bruno = _booking("BK-1002", "Bruno", "Schulz", "+4915112340002", "de-DE", arrive_in=1, nights=3)
    chloe = _booking("BK-1003", "Chloé", "Martin", "+33612340003", "fr-FR", arrive_in=10, nights=4)

    world.step("Morning: three new bookings arrive from the PMS")
    for booking in (ada, bruno, chloe):
        response = await world.deliver(booking, "created")
        request_id = response.headers.get("x-request-id")
        world.say(f"   PMS → pms-webhook: {booking.id} {response.status_code} (request {request_id})")
    await world.pause(6)
    await after_step()

    world.step("Ada extends her stay by a night")
    ada = _later(ada, departure=ada.departure + dt.timedelta(days=1))
    await world.deliver(ada, "updated")
    await world.pause(4)

    world.step("The PMS re-delivers Bruno's booking five times (a retry storm)")
    burst_id = f"msg_{uuid.uuid4().hex}"
    codes = [(await world.deliver(bruno, "created", webhook_id=burst_id)).status_code for _ in range(5)]
    world.say(f"   five deliveries answered {codes}; idempotency keeps one event")
    await world.pause(3)

    world.step("A late, older copy of Ada's booking arrives out of order")
    stale = replace(
        ada, modified=ada.modified - dt.timedelta(minutes=10), departure=ada.departure - dt.timedelta(days=1)
    )
    await world.deliver(stale, "updated")
    world.say("   (the stored reservation keeps the newer stay: older PMS data never wins)")
    await world.pause(4)

    world.step("Chloé cancels")
    chloe = _later(chloe, status="cancelled")
    await world.deliver(chloe, "cancelled")
    await world.pause(5)
    await after_step()

    world.step("The PMS goes down; a booking made meanwhile never sends its webhook")
    world.pms.go_down()
    dmitri = _booking("BK-1004", "Dmitri", "Ivanov", "+4915112340004", "en-US", arrive_in=5, nights=1)
    world.pms.put(dmitri)
    world.sql(f"select public.request_sync('{PMS_CONFIGURATION}')")
    world.say("   staff press “Sync now” while the PMS is down")
    await world.until("exists (select 1 from public.sync_jobs where status = 'failed')")
    await world.pause(2)
    world.step("The PMS is back; the next sync closes the gap")
    world.pms.come_back()
    world.sql(f"select public.request_sync('{PMS_CONFIGURATION}')")
    await world.until("exists (select 1 from public.reservations where pms_reservation_id = 'BK-1004')")
    await world.pause(4)
    await after_step()

    world.step("The hotel's phone loses its WhatsApp link (QR code must be scanned again)")
    world.say("   (the demo raises the alert at once; a real hotel hears after 10 minutes)")
    world.waha.set_status(world.session, "SCAN_QR_CODE")
    await world.pause(3)
    await after_step()
    emma = _booking("BK-1005", "Emma", "Rossi", "+393471234005", "it-IT", arrive_in=7, nights=2)
    await world.deliver(emma, "created")
    world.say("   Emma books while WhatsApp is down: her confirmation waits, no attempt is burnt")
    await world.pause(8)
    await after_step()
    world.step("The phone is linked again")
    world.waha.set_status(world.session, "WORKING")
    await world.pause(8)
    await after_step()

    world.step("Guests write back: the inbox fills (open the dashboard's Inbox to answer them)")
    world.waha.receive(world.session, ada.phone or "", "Hi! Can I check in early, around 11?", push_name="Ada")
    world.waha.receive(world.session, bruno.phone or "", "Hallo, wo kann ich mein Auto parken?", push_name="Bruno")
    world.waha.receive(
        world.session, dmitri.phone or "", kind="image", caption="The receipt for my deposit", push_name="Dmitri"
    )
    world.waha.receive(
        world.session, emma.phone or "", kind="document", filename="passport.pdf", caption="My passport, as asked"
    )
    world.waha.receive(world.session, "+4917699887766", "Do you have a double room this Friday?", push_name="Sam")
    await world.until("(select count(*) from public.conversations) >= 5")
    await world.pause(3)
    world.step("The front desk answers Ada from the hotel's phone")
    world.waha.receive(world.session, ada.phone or "", "Yes, your room will be ready at 11. See you!", from_me=True)
    await world.pause(3)
    await after_step()

    world.step("Bruno replies STOP")
    world.waha.receive(world.session, bruno.phone or "", "STOP")
    await world.pause(5)
    await after_step()

    world.step("Two things go wrong for good: dead letters to practise `ops replay` and `ops resend` on")
    frank = _booking("BK-1006", "Frank", "Weber", "+4915112340006", "de-DE", arrive_in=2, nights=2)
    world.waha.mark_not_on_whatsapp(frank.phone or "")
    await world.deliver(frank, "created")
    world.say("   Frank's phone number is not on WhatsApp: his confirmation cannot be sent")
    gina = _booking("BK-1007", "Gina", "Rossi", "+393471234007", "it-IT", arrive_in=4, nights=2)
    gina = replace(gina, departure=gina.arrival - dt.timedelta(days=1))
    await world.deliver(gina, "created")
    world.say("   the PMS sends Gina's booking with her departure before her arrival")
    await world.until(
        "exists (select 1 from public.inbound_events where status = 'dead')"
        " and exists (select 1 from public.message_logs where status = 'dead')"
    )
    world.say('   see them: make ops ARGS="dead-letters"; then ops replay <event id> / ops resend <message id>')
    await world.pause(2)
    await after_step()
