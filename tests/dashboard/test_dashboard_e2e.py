"""The hotel dashboard as staff use it, in a real browser against the real local system."""

from __future__ import annotations

import re
from typing import Any

import httpx
import psycopg
import pytest
from playwright.async_api import BrowserContext, Page, expect

from devstack.gateway.keys import ProjectKeys
from tests.dashboard.conftest import (
    CHROMIUM,
    Stack,
    assert_accessible,
    connect_whatsapp,
    member,
    sign_in,
    stored_access_token,
)
from tests.factories import Factory
from tests.processes import WorkerProcess

pytestmark = [
    pytest.mark.slow,
    # The first test also waits for the build, and a token refresh takes up to 30s.
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM}: make setup as root installs Debian's, or set CHROMIUM_PATH",
    ),
]


async def test_sign_in_survives_reload_refreshes_silently_switches_hotel_and_signs_out(
    db: psycopg.Connection[Any], factory: Factory, stack: Stack, page: Page
) -> None:
    spree = factory.tenant("Hotel Spree", timezone="Europe/Berlin", pms_property_id="BER")
    alster = factory.tenant("Hotel Alster", timezone="Europe/Berlin", pms_property_id="HAM")
    owner = member(db, spree, "owner")
    member(db, alster, "staff", owner.email)

    await page.goto(stack.app_url)
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await assert_accessible(page, "sign-in")
    await page.get_by_label("E-mail").fill(owner.email)
    await page.get_by_label("Password").and_(page.locator("input")).fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("The e-mail or password is not right")

    await sign_in(page, stack, owner.email)
    # The first hotel by name, its Today
    await expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    await expect(page.get_by_label("Hotel")).to_have_value(str(alster.id))
    await expect(page.get_by_text("Front desk")).to_be_visible()
    await assert_accessible(page, "Today")

    # A reload keeps the session and the place.
    await page.reload()
    await expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # supabase-js refreshes the short-lived token by itself; the app stays signed in and works.
    first = await stored_access_token(page)
    assert first
    await page.wait_for_function(
        """(first) => {
          const key = Object.keys(localStorage).find((k) => k.startsWith('sb-') && k.endsWith('-auth-token'));
          return key && JSON.parse(localStorage.getItem(key)).access_token !== first;
        }""",
        arg=first,
        timeout=90_000,
    )
    await page.get_by_label("Hotel").select_option(label="Hotel Spree")
    await expect(page).to_have_url(re.compile(f"/t/{spree.id}/today$"))
    await expect(page.get_by_text("Owner", exact=True)).to_be_visible()
    await page.get_by_role("link", name="Reservations").click()
    await expect(page.get_by_text("No reservations found.")).to_be_visible()

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("status")).to_contain_text("You are signed out.")
    await page.reload()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert await stored_access_token(page) == ""


async def test_a_refused_refresh_signs_out_with_a_clear_message(
    db: psycopg.Connection[Any], factory: Factory, stack: Stack, page: Page
) -> None:
    hotel = factory.tenant("Hotel Spree")
    owner = member(db, hotel, "owner")
    await sign_in(page, stack, owner.email)
    await expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()

    # Signed out everywhere from another device: this browser's refresh token is refused next.
    token = await stored_access_token(page)
    async with httpx.AsyncClient(base_url=stack.api_url) as http:
        response = await http.post(
            "/auth/v1/logout",
            params={"scope": "global"},
            headers={"apikey": ProjectKeys().publishable_key, "authorization": f"Bearer {token}"},
        )
    assert response.status_code == 204, response.text

    # supabase-js keeps the session until its token expires (a minute here); the next request
    # with it is refused, and the app signs out saying why.
    await expect(
        page.get_by_role("alert").filter(has_text="Your session ended and could not be renewed. Please sign in again.")
    ).to_be_visible(timeout=150_000)
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


async def test_a_resend_from_the_messages_screen_is_sent_and_ticks_live_in_the_timeline(
    db: psycopg.Connection[Any],
    factory: Factory,
    stack: Stack,
    page: Page,
    context: BrowserContext,
    worker: WorkerProcess,
) -> None:
    hotel = factory.tenant("Hotel Spree", timezone="Europe/Berlin", pms_property_id="BER")
    connect_whatsapp(db, hotel, stack, "spree")
    reservation = factory.reservation(
        hotel, pms_property_id="BER", guest={"full_name": "Grace Hopper", "phone": "+4915111111111"}
    )
    guest = db.execute("select guest_id from public.reservations where id = %s", (reservation,)).fetchone()
    assert guest is not None
    dead = factory.message(
        hotel,
        reservation_id=reservation,
        guest_id=guest[0],
        to_phone="+4915111111111",
        template_key="welcome",
        body="Welcome to Hotel Spree!",
        status="dead",
        last_error="WAHA answered 500 Internal Server Error",
    )
    opted_out = factory.reservation(
        hotel, pms_property_id="BER", guest={"full_name": "Otto Out", "phone": "+4915122222222"}
    )
    otto = db.execute("select guest_id from public.reservations where id = %s", (opted_out,)).fetchone()
    assert otto is not None
    db.execute(
        "update public.guests set whatsapp_opt_in = false, opted_out_at = now(), opt_out_reason = 'STOP' where id = %s",
        (otto[0],),
    )
    factory.message(
        hotel, reservation_id=opted_out, guest_id=otto[0], template_key="checkout", status="dead", last_error="boom"
    )
    owner = member(db, hotel, "owner")
    staff = member(db, hotel, "staff")

    # Front desk sees what needs action, without the owner's buttons.
    staff_page = await context.browser.new_page() if context.browser else None
    assert staff_page is not None
    await sign_in(staff_page, stack, staff.email, f"/t/{hotel.id}/messages")
    await expect(staff_page.get_by_text("WAHA answered 500 Internal Server Error")).to_be_visible()
    await expect(staff_page.get_by_role("button", name=re.compile("Resend"))).to_have_count(0)
    await staff_page.close()

    # The reservation open in one tab: its timeline listens through Realtime.
    await sign_in(page, stack, owner.email, f"/t/{hotel.id}/reservations/{reservation}")
    await expect(page.get_by_text("Updates live")).to_be_visible()
    timeline = page.get_by_test_id(f"message-{dead}")
    await expect(timeline.get_by_text("Dead", exact=True)).to_be_visible()
    await expect(page.get_by_text("Opted in")).to_be_visible()
    await assert_accessible(page, "reservation")

    # The messages needing action in another tab of the same session.
    messages = await context.new_page()
    await messages.goto(f"{stack.app_url}/t/{hotel.id}/messages")
    await expect(messages.get_by_role("heading", name="Messages needing action")).to_be_visible()
    await expect(messages.get_by_text("WAHA answered 500 Internal Server Error")).to_be_visible()
    await assert_accessible(messages, "Messages needing action")

    # The opted-out guest's message is refused, with the reason.
    await messages.get_by_role("button", name="Resend: checkout (Otto Out)").click()
    await expect(messages.get_by_test_id("resend-notice")).to_contain_text(
        "cannot be sent again: the guest opted out of WhatsApp messages"
    )

    await messages.get_by_role("button", name="Resend: welcome (Grace Hopper)").click()
    await expect(messages.get_by_test_id("resend-notice")).to_contain_text("Queued to be sent again.")
    await expect(messages.get_by_text("WAHA answered 500 Internal Server Error")).to_have_count(0)

    # WAHA receives it, and its acks arrive live as ticks on the first tab's timeline.
    await expect(timeline.get_by_role("img", name="Read")).to_have_text("✓✓")
    sent = stack.waha.sent("spree")
    assert [(m.chat_id, m.text) for m in sent] == [("4915111111111@c.us", "Welcome to Hotel Spree!")]
