"""The inbox as staff use it (issue 15), in a real browser against the real local system: a guest
writes at the WAHA simulator; its webhook goes through the edge function and the worker into the
database, and Realtime brings it to the thread on screen."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import psycopg
import pytest
from playwright.async_api import Page, expect

from tests.dashboard.conftest import CHROMIUM, Stack, assert_accessible, connect_whatsapp, member, sign_in
from tests.factories import Factory, Tenant
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


def _hotel(factory: Factory, db: psycopg.Connection[Any], stack: Stack, name: str) -> tuple[Tenant, str]:
    """A hotel in Berlin with its WhatsApp session on the simulator."""
    session = f"inbox-{uuid.uuid4().hex[:6]}"
    hotel = factory.tenant(name, timezone="Europe/Berlin", pms_property_id="BER")
    connect_whatsapp(db, hotel, stack, session)
    return hotel, session


def _guest(factory: Factory, hotel: Tenant, name: str, phone: str, pms_id: str) -> uuid.UUID:
    return factory.reservation(
        hotel,
        pms_property_id="BER",
        pms_reservation_id=pms_id,
        guest={"full_name": name, "phone": phone, "language": "en"},
    )


async def _stored(db: psycopg.Connection[Any], hotel: Tenant, text: str) -> str:
    """The conversation the worker filed `text` in, once it has (for checks of what must NOT show)."""
    async with asyncio.timeout(30):
        while True:
            row = db.execute(
                "select conversation_id from public.conversation_messages where tenant_id = %s and body = %s",
                (hotel.id, text),
            ).fetchone()
            if row:
                return str(row[0])
            await asyncio.sleep(0.2)


async def test_a_guest_writes_staff_answer_and_the_ticks_come_back_live(
    db: psycopg.Connection[Any], factory: Factory, stack: Stack, page: Page, worker: WorkerProcess
) -> None:
    hotel, session = _hotel(factory, db, stack, "Hotel Spree")
    reservation = _guest(factory, hotel, "Grace Hopper", "+4915111110001", "BK-7")
    staff = member(db, hotel, "staff")

    await sign_in(page, stack, staff.email, f"/t/{hotel.id}/inbox")
    await expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    await expect(page.get_by_text("Updates live")).to_be_visible()
    await expect(page.get_by_text("No conversations here.")).to_be_visible()

    # WAHA simulator → webhook → edge function → worker → database → Realtime → this screen.
    stack.waha.receive(session, "+4915111110001", "Can I check in early tomorrow?")
    grace = page.get_by_role("link", name=re.compile("Grace Hopper"))
    await expect(grace).to_contain_text("1 unread")
    await expect(page.get_by_role("link", name=re.compile(r"^Inbox\s*1 unread"))).to_be_visible()
    await assert_accessible(page, "inbox list")

    await grace.click()
    thread = page.get_by_role("list", name="Messages")
    await expect(thread).to_contain_text("Can I check in early tomorrow?")
    await expect(page.get_by_role("link", name="BK-7")).to_have_attribute(
        "href", f"/t/{hotel.id}/reservations/{reservation}"
    )
    # Opened is read: this member's unread count goes to zero.
    await expect(page.get_by_test_id("inbox-unread")).to_have_text("0 unread conversations")
    await assert_accessible(page, "inbox thread")

    # The open thread updates live.
    stack.waha.receive(session, "+4915111110001", "And where do I park?")
    await expect(thread).to_contain_text("And where do I park?")

    # A reply goes out through the queue to WAHA's sendText; its ticks come back into the thread.
    reply = "Yes, from 11:00. Parking is in the courtyard."
    await page.get_by_label("Message to the guest").fill(reply)
    await page.get_by_role("button", name="Send reply").click()
    await expect(page.get_by_test_id("reply-notice")).to_contain_text("Queued")
    mine = thread.get_by_role("listitem").filter(has_text=reply)
    await expect(mine).to_contain_text("You")
    await expect(mine.get_by_role("img", name="Read")).to_have_text("✓✓")
    assert [(m.chat_id, m.text) for m in stack.waha.sent(session)] == [("4915111110001@c.us", reply)]

    # Assigned by name; the list's "Me" filter finds it.
    await page.get_by_role("button", name="Assign to me").click()
    await expect(page.get_by_label("Assignee").locator("option:checked")).to_have_text(f"{staff.email} (you)")
    await page.get_by_label("Assigned to").select_option(label="Me")
    await expect(grace).to_contain_text("Assigned to you")
    await page.get_by_label("Assigned to").select_option(label="Anyone")

    # An internal note shows in the thread for staff, and is never sent.
    await page.get_by_text("Internal note", exact=True).click()
    await page.get_by_label("Note for the team").fill("Early check-in agreed with housekeeping")
    await page.get_by_role("button", name="Add note").click()
    note = thread.get_by_role("listitem").filter(has_text="Early check-in agreed with housekeeping")
    await expect(note).to_contain_text("Only staff see this")
    assert len(stack.waha.sent(session)) == 1

    # A number that is no guest's opens a conversation too; staff link it to the guest.
    stack.waha.receive(session, "+4915199990000", "Hi, it's Grace from my work phone")
    unknown = page.get_by_role("link", name=re.compile(r"\+4915199990000"))
    await expect(unknown).to_contain_text("Unknown number")
    await unknown.click()
    await expect(page.get_by_text("+4915199990000 is not a guest of any reservation.")).to_be_visible()
    await page.get_by_label("Find the guest by name, phone or e-mail").fill("Hopper")
    await page.get_by_role("button", name="Link to Grace Hopper · +4915111110001").click()
    await expect(page.get_by_role("link", name="BK-7")).to_be_visible()
    await expect(page.get_by_role("heading", name="Grace Hopper")).to_be_visible()

    # On a phone: one thing at a time, the thread with a way back to the list.
    await page.set_viewport_size({"width": 390, "height": 844})
    await expect(page.get_by_role("list", name="Conversations")).to_be_hidden()
    await page.get_by_role("link", name="Back to the conversations").click()
    await expect(page.get_by_role("link", name=re.compile("Grace Hopper")).first).to_be_visible()
    await assert_accessible(page, "inbox on a phone")


async def test_photos_and_documents_open_and_an_opted_out_guest_needs_a_confirmed_reason(
    db: psycopg.Connection[Any], factory: Factory, stack: Stack, page: Page, worker: WorkerProcess
) -> None:
    hotel, session = _hotel(factory, db, stack, "Hotel Alster")
    _guest(factory, hotel, "Otto Lilienthal", "+4915122220002", "BK-8")
    owner = member(db, hotel, "owner")
    await sign_in(page, stack, owner.email, f"/t/{hotel.id}/inbox")
    await expect(page.get_by_text("Updates live")).to_be_visible()

    stack.waha.receive(session, "+4915122220002", kind="image", caption="The stain on the carpet")
    stack.waha.receive(session, "+4915122220002", kind="document", filename="receipt.pdf", caption="My receipt")
    stack.waha.receive(session, "+4915122220002", kind="voice")
    stack.waha.receive(
        session, "+4915122220002", kind="location", latitude=52.52, longitude=13.405, location_name="Alexanderplatz"
    )
    await page.get_by_role("link", name=re.compile("Otto Lilienthal")).click()
    thread = page.get_by_role("list", name="Messages")
    # The whole thread has arrived (the location is the last of the four).
    await expect(thread).to_contain_text("The stain on the carpet")
    await expect(thread).to_contain_text("Alexanderplatz")

    # Media is fetched from WhatsApp only when opened (through the functions server, which a
    # loaded machine may keep busy for a while).
    await thread.get_by_role("button", name="Show photo").click()
    await expect(thread.get_by_role("img", name="The stain on the carpet")).to_be_visible(timeout=60_000)
    await thread.get_by_role("button", name="Open document receipt.pdf").click()
    await expect(thread.get_by_role("link", name="Save receipt.pdf")).to_be_visible()
    await thread.get_by_role("button", name="Load voice message").click()
    await expect(thread.locator("audio[controls]")).to_be_visible()
    await expect(thread).to_contain_text("Alexanderplatz")
    await expect(thread.get_by_role("link", name="Open in a map (new tab)")).to_have_attribute(
        "href", re.compile("mlat=52.52&mlon=13.405")
    )
    await assert_accessible(page, "inbox media")

    # STOP: the conversation shows it; a reply needs a confirmation with a reason.
    stack.waha.receive(session, "+4915122220002", "STOP")
    await expect(page.get_by_test_id("opted-out")).to_contain_text("opted out")
    await page.get_by_label("Message to the guest").fill("Your receipt is confirmed.")
    await page.get_by_role("button", name="Send reply").click()
    dialog = page.get_by_role("dialog", name="The guest opted out of WhatsApp messages")
    await expect(dialog).to_be_visible()
    await assert_accessible(page, "opted-out confirmation")
    await dialog.get_by_role("button", name="Send anyway").click()
    await expect(dialog.get_by_text("Give a reason to send it.")).to_be_visible()
    await dialog.get_by_label("Why send it anyway?").fill("He asked for it at the desk")
    await dialog.get_by_role("button", name="Send anyway").click()
    await expect(page.get_by_test_id("reply-notice")).to_contain_text("Queued")
    await expect(thread).to_contain_text("Reason: He asked for it at the desk")

    # STOP again after that reply: the next one is refused outright.
    stack.waha.receive(session, "+4915122220002", "STOP")
    await expect(thread.get_by_text("STOP")).to_have_count(2)
    await page.get_by_label("Message to the guest").fill("Sorry to bother you")
    await page.get_by_role("button", name="Send reply").click()
    await expect(page.get_by_test_id("reply-notice")).to_contain_text("wrote STOP again")
    assert [m.text for m in stack.waha.sent(session)] == ["Your receipt is confirmed."]


async def test_a_user_of_hotel_b_never_sees_hotel_a_conversations(
    db: psycopg.Connection[Any], factory: Factory, stack: Stack, page: Page, worker: WorkerProcess
) -> None:
    a, a_session = _hotel(factory, db, stack, "Hotel A")
    b, b_session = _hotel(factory, db, stack, "Hotel B")
    _guest(factory, a, "Ada Secret", "+4915133330003", "A-1")
    _guest(factory, b, "Bea Guest", "+4915144440004", "B-1")
    stack.waha.receive(a_session, "+4915133330003", "A's first secret")
    a_conversation = await _stored(db, a, "A's first secret")
    user_b = member(db, b, "owner")

    await sign_in(page, stack, user_b.email, f"/t/{b.id}/inbox")
    await expect(page.get_by_text("Updates live")).to_be_visible()
    await expect(page.get_by_text("No conversations here.")).to_be_visible()

    # Live: hotel B's own guest shows; hotel A's message, stored meanwhile, never does.
    stack.waha.receive(a_session, "+4915133330003", "A's second secret")
    await _stored(db, a, "A's second secret")
    stack.waha.receive(b_session, "+4915144440004", "Bea's question")
    await expect(page.get_by_role("link", name=re.compile("Bea Guest"))).to_be_visible()
    await expect(page.get_by_text("Ada Secret")).to_have_count(0)
    await expect(page.get_by_text(re.compile("secret"))).to_have_count(0)

    # Search finds nothing of hotel A.
    await page.get_by_label("Search name, phone, reservation or text").fill("secret")
    await page.get_by_role("button", name="Search", exact=True).click()
    await expect(page.get_by_text("No conversation matches your search.")).to_be_visible()

    # By URL: hotel A's conversation reads as one that does not exist.
    await page.goto(f"{stack.app_url}/t/{b.id}/inbox/{a_conversation}")
    await expect(page.get_by_role("alert")).to_contain_text("does not exist or is not in this hotel")
    await page.goto(f"{stack.app_url}/t/{a.id}/inbox/{a_conversation}")
    await expect(page.get_by_role("heading", name="This page does not exist.")).to_be_visible()
    await expect(page.get_by_text(re.compile("secret"))).to_have_count(0)
