"""The WhatsApp screen in a real browser: an owner connects the hotel's WhatsApp by scanning the
QR code (on the WAHA simulator, through the waha-session function), the status follows WAHA's
webhooks through the worker, and sending is paused with a reason and resumed."""

from __future__ import annotations

import re
import uuid
from typing import Any

import psycopg
import pytest
from playwright.async_api import Page, expect

from tests.dashboard.conftest import CHROMIUM, WAHA_KEY, Stack, assert_accessible, member, sign_in
from tests.factories import Factory
from tests.processes import WorkerProcess

pytestmark = [
    pytest.mark.slow,
    # The first test also waits for the dashboard's build.
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM}: make setup as root installs Debian's, or set CHROMIUM_PATH",
    ),
]


async def test_an_owner_connects_whatsapp_by_qr_code_then_pauses_and_resumes_sending(
    db: psycopg.Connection[Any], factory: Factory, stack: Stack, page: Page, worker: WorkerProcess
) -> None:
    hotel = factory.tenant("Hotel Isar", timezone="Europe/Berlin", pms_property_id="MUC")
    owner = member(db, hotel, "owner")
    # The hotel's WAHA server and key are set; the session does not exist on WAHA yet.
    session = f"isar_{uuid.uuid4().hex[:8]}"
    config = factory.waha_configuration(hotel, base_url=stack.waha.base_url, status="STOPPED")
    db.execute("update public.waha_configurations set session_name = %s where id = %s", (session, config))
    db.execute("select public.set_waha_api_key(%s, %s)", (config, WAHA_KEY))

    await sign_in(page, stack, owner.email, f"/t/{hotel.id}/today")
    await page.get_by_role("navigation").get_by_role("link", name="WhatsApp").click()
    await expect(page.get_by_role("heading", name="WhatsApp", exact=True)).to_be_visible()
    status = page.get_by_test_id("session-status")
    await expect(status).to_have_text("Stopped")

    # Connect: WAHA starts the session and waits for a scan; the QR code shows.
    await page.get_by_role("button", name="Connect WhatsApp").click()
    qr = page.get_by_role("img", name="QR code to link the hotel's WhatsApp")
    await expect(qr).to_be_visible()
    await expect(qr).to_have_attribute("src", re.compile(r"^data:image/png;base64,iVBORw0KGgo"))
    await expect(status).to_have_text("Waiting for QR scan")
    await assert_accessible(page, "WhatsApp, waiting for a scan")

    # The hotel's phone scans it: WAHA says WORKING, and so does the screen, with the number.
    stack.waha.pair(session)
    await expect(status).to_have_text("Connected")
    await expect(page.get_by_text(f"Connected number: +{stack.waha.session(session).phone}")).to_be_visible()
    await expect(qr).to_be_hidden()
    # WAHA's session.status webhooks reach the database through the worker: sending is on.
    await expect(page.get_by_test_id("sending-state")).to_have_text("Messages are being sent.")

    # Pause with a reason: everyone sees who, when and why.
    await page.get_by_role("button", name="Pause sending").click()
    await expect(page.get_by_text("Say why sending is paused, in 1 to 500 characters.")).to_be_visible()
    await page.get_by_label("Reason for pausing").fill("checking the new templates")
    await page.get_by_role("button", name="Pause sending").click()
    hold = page.get_by_test_id("sending-hold")
    await expect(hold).to_contain_text(f"Paused by {owner.email}")
    await expect(hold).to_contain_text("Reason: checking the new templates")
    await assert_accessible(page, "WhatsApp, sending paused")

    await page.get_by_role("button", name="Resume sending").click()
    await expect(page.get_by_text("Sending is resumed.")).to_be_visible()
    await expect(page.get_by_test_id("sending-state")).to_have_text("Messages are being sent.")
    await expect(hold).to_be_hidden()


async def test_front_desk_sees_why_sending_is_paused_but_cannot_change_it(
    db: psycopg.Connection[Any], factory: Factory, stack: Stack, page: Page
) -> None:
    hotel = factory.tenant("Hotel Elbe", timezone="Europe/Berlin", pms_property_id="DRS")
    owner = member(db, hotel, "owner")
    desk = member(db, hotel, "staff")
    factory.waha_configuration(hotel, base_url=stack.waha.base_url, status="WORKING")
    # The owner paused sending earlier (as pause_tenant_sends records it).
    db.execute(
        "update public.waha_configurations set sends_held_reason = 'the hotel is closed for the winter',"
        " sends_held_by = %s, sends_held_at = now() where tenant_id = %s",
        (owner.user_id, hotel.id),
    )

    await sign_in(page, stack, desk.email, f"/t/{hotel.id}/whatsapp")
    await expect(page.get_by_test_id("session-status")).to_have_text("Connected")
    hold = page.get_by_test_id("sending-hold")
    await expect(hold).to_contain_text(f"Paused by {owner.email}")
    await expect(hold).to_contain_text("Reason: the hotel is closed for the winter")
    await expect(
        page.get_by_text("Only the hotel's owners and admins can connect or disconnect WhatsApp.")
    ).to_be_visible()
    await expect(page.get_by_role("button", name="Resume sending")).to_have_count(0)
    await expect(page.get_by_role("button", name="Save pacing")).to_have_count(0)
    await assert_accessible(page, "WhatsApp, front desk")
