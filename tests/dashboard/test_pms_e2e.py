"""The PMS screen as an owner uses it, in a real browser against the real local system: a sync
against the generic PMS simulator run by the worker, the webhook secret, and a failed webhook
event replayed."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from playwright.async_api import BrowserContext, Page, expect
from psycopg.types.json import Jsonb

from devstack.simulators.pms.base import Booking
from devstack.simulators.pms.generic import GenericPmsSimulator
from tests.dashboard.conftest import CHROMIUM, Stack, assert_accessible, member, sign_in
from tests.factories import Factory
from tests.processes import WorkerProcess

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM}: make setup as root installs Debian's, or set CHROMIUM_PATH",
    ),
]

KEY = "dashboard-e2e-pms-key"


@pytest.fixture
async def pms() -> AsyncIterator[GenericPmsSimulator]:
    async with GenericPmsSimulator(api_keys=[KEY]) as sim:
        yield sim


def booking(n: int, first_name: str, last_name: str) -> Booking:
    arrival = dt.date.today() + dt.timedelta(days=10 + n)
    return Booking(
        id=f"G-{n:03d}",
        property_id="PROP-1",
        status="confirmed",
        arrival=arrival,
        departure=arrival + dt.timedelta(days=2),
        modified=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
        first_name=first_name,
        last_name=last_name,
        phone=f"+49151000000{n:02d}",
    )


async def test_an_owner_connects_the_pms_syncs_now_and_sees_the_reservations_arrive(
    db: psycopg.Connection[Any],
    factory: Factory,
    stack: Stack,
    page: Page,
    context: BrowserContext,
    worker: WorkerProcess,
    pms: GenericPmsSimulator,
) -> None:
    hotel = factory.tenant("Hotel Spree", timezone="Europe/Berlin", pms_property_id="PROP-1")
    owner = member(db, hotel, "owner")
    staff = member(db, hotel, "staff")

    await sign_in(page, stack, owner.email, f"/t/{hotel.id}/today")
    await page.get_by_role("link", name="PMS", exact=True).click()
    await expect(page.get_by_role("heading", name="PMS", exact=True)).to_be_visible()
    await expect(page.get_by_text("This hotel has no PMS connected yet.")).to_be_visible()

    # The owner connects the hotel's PMS: which one, where its API is, and its API key. Saving
    # the key starts the first sync, which the worker runs at once: nothing is in the PMS yet.
    add = page.get_by_role("region", name="Add a PMS connection")
    await add.get_by_label("PMS", exact=True).select_option(label="Generic PMS")
    await add.get_by_label("API address").fill(pms.base_url)
    await add.get_by_role("button", name="Add connection").click()
    card = page.get_by_role("region", name="Generic PMS")
    await card.get_by_label("API key").and_(page.locator("input")).fill(KEY)
    await card.get_by_role("button", name="Save credentials").click()
    await expect(card.get_by_text("Credentials saved. They cannot be read back.")).to_be_visible()
    history = page.get_by_role("region", name="Sync history")
    await expect(history.get_by_role("row", name=re.compile("First connection.*Finished"))).to_be_visible()
    await expect(card.get_by_test_id("pms-health")).to_have_text("Healthy")
    await expect(card.get_by_role("textbox", name="Webhook URL for Generic PMS")).to_have_value(
        f"{stack.api_url}/functions/v1/pms-webhook/generic/{hotel.webhook_key}"
    )

    # Three bookings made in the PMS since; the owner asks for everything now.
    pms.put(booking(1, "Grace", "Hopper"), booking(2, "Alan", "Turing"), booking(3, "Edsger", "Dijkstra"))
    await card.get_by_label("What to sync").select_option(label="All reservations (full)")
    await card.get_by_role("button", name="Sync now").click()
    await expect(card.get_by_test_id("sync-progress")).to_contain_text(
        "Sync finished: 3 new, 0 changed, 0 unchanged.", timeout=60_000
    )
    await expect(
        history.get_by_role("row", name=re.compile("All reservations \\(full\\).*A person.*Finished"))
    ).to_be_visible()

    # A secret for the PMS, shown once.
    await card.get_by_role("button", name="Generate a secret").click()
    shown = card.get_by_test_id("new-secret")
    await expect(shown).to_contain_text("It is shown only this once")
    secret = await shown.get_by_role("textbox", name="New webhook secret").input_value()
    assert secret.startswith("whsec_")
    await assert_accessible(page, "PMS")
    await shown.get_by_role("button", name="I have copied it").click()
    await expect(card.get_by_test_id("new-secret")).to_have_count(0)
    await expect(card.get_by_text(re.compile("^Set "))).to_have_count(2)  # credentials and secret

    await page.get_by_role("link", name="Reservations").click()
    for name in ("Grace Hopper", "Alan Turing", "Edsger Dijkstra"):
        await expect(page.get_by_role("link", name=name)).to_be_visible()

    # Never readable again: the page as reloaded has no secret in it.
    await page.goto(f"{stack.app_url}/t/{hotel.id}/pms")
    await expect(page.get_by_role("heading", name="Generic PMS")).to_be_visible()
    assert secret not in await page.content()

    # Front desk reads the health and the history, and has nothing to act with.
    staff_page = await context.browser.new_page() if context.browser else None
    assert staff_page is not None
    await sign_in(staff_page, stack, staff.email, f"/t/{hotel.id}/pms")
    await expect(staff_page.get_by_role("heading", name="Generic PMS")).to_be_visible()
    await expect(staff_page.get_by_role("row", name=re.compile("A person.*Finished"))).to_be_visible()
    await expect(staff_page.get_by_role("button", name="Sync now")).to_have_count(0)
    await expect(staff_page.get_by_text(re.compile("pms-webhook"))).to_have_count(0)
    await staff_page.close()


async def test_a_webhook_event_for_an_unknown_property_is_replayed_once_the_property_exists(
    db: psycopg.Connection[Any],
    factory: Factory,
    stack: Stack,
    page: Page,
    worker: WorkerProcess,
) -> None:
    hotel = factory.tenant("Hotel Spree", timezone="Europe/Berlin", pms_property_id="PROP-1")
    factory.pms_configuration(hotel, provider="generic")
    owner = member(db, hotel, "owner")
    arrival = dt.date.today() + dt.timedelta(days=20)
    reservation = {
        "provider": "generic",
        "pms_reservation_id": "ANNEX-7",
        "pms_property_id": "ANNEX",
        "status": "confirmed",
        "arrival_date": arrival.isoformat(),
        "departure_date": (arrival + dt.timedelta(days=3)).isoformat(),
        "pms_updated_at": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        "adults": 2,
        "guest": {"full_name": "Barbara Liskov", "phone": "+4915199999999", "language": "en"},
    }
    body = {"type": "reservation.created", "timestamp": reservation["pms_updated_at"], "data": reservation}
    # Stored as the pms-webhook function stores it; the worker dead-letters it: no such property.
    db.execute(
        "select * from internal.ingest_inbound_events_v1(%s, 'pms', 'generic', %s, 'req-annex')",
        (hotel.id, Jsonb([{"event_id": "msg_annex_7", "event_type": "reservation.created", "payload": body}])),
    )

    await sign_in(page, stack, owner.email, f"/t/{hotel.id}/pms")
    errors = page.get_by_role("region", name="PMS events with errors")
    await expect(
        errors.get_by_text('The reservation is for property "ANNEX", which this hotel does not have.', exact=False)
    ).to_be_visible()
    await expect(errors.get_by_text(str(hotel.id))).to_have_count(0)
    await assert_accessible(page, "PMS events with errors")

    # The hotel adds its annex; the owner replays the event, and the worker stores the booking.
    db.execute(
        "insert into public.properties (tenant_id, name, timezone, pms_property_id)"
        " values (%s, 'Spree Annex', 'Europe/Berlin', 'ANNEX')",
        (hotel.id,),
    )
    await errors.get_by_role("button", name="Replay: reservation.created").click()
    await expect(errors.get_by_test_id("replay-notice")).to_contain_text("reservation.created #")
    await expect(errors.get_by_test_id("replay-notice")).to_contain_text("Queued to be processed again.")
    await expect(errors.get_by_text("No PMS events with errors.")).to_be_visible()
    # The page follows the replayed event until the worker has stored it.
    await expect(errors.get_by_test_id("replayed-events")).to_contain_text(
        re.compile(r"reservation\.created #\d+: processed\.")
    )

    await page.get_by_role("link", name="Reservations").click()
    await expect(page.get_by_role("link", name="Barbara Liskov")).to_be_visible()
