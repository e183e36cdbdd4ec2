"""The team and the account, in a real browser against the real local system: an owner invites
someone who accepts in another browser and lands in the hotel; a forgotten password is reset
through the e-mailed link."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from playwright.async_api import Browser, Page, expect

from tests.dashboard.conftest import CHROMIUM, Stack, assert_accessible, member, sign_in
from tests.factories import Factory

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM}: make setup as root installs Debian's, or set CHROMIUM_PATH",
    ),
]

NEW_PASSWORD = "a-new-passphrase-42"


def mailed_link(db: psycopg.Connection[Any], recipient: str, kind: str) -> str:
    row = db.execute(
        "select link from devstack.mail where recipient = %s and kind = %s order by id desc limit 1", (recipient, kind)
    ).fetchone()
    assert row is not None, f"no {kind} e-mail to {recipient}"
    return str(row[0])


async def choose_password(page: Page) -> None:
    await page.get_by_role("textbox", name="New password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_role("textbox", name="Repeat the new password").fill(NEW_PASSWORD)


async def test_an_owner_invites_someone_who_joins_from_the_emailed_link_in_another_browser(
    db: psycopg.Connection[Any], factory: Factory, stack: Stack, page: Page, browser: Browser
) -> None:
    hotel = factory.tenant("Hotel Isar", timezone="Europe/Berlin", pms_property_id="MUC")
    owner = member(db, hotel, "owner")
    desk = member(db, hotel, "staff")
    newcomer = f"new-{uuid.uuid4().hex[:8]}@hotel.test"

    await sign_in(page, stack, owner.email, f"/t/{hotel.id}/team")
    await expect(page.get_by_role("heading", name="Team", exact=True)).to_be_visible()
    await expect(page.get_by_role("cell", name=desk.email, exact=True)).to_be_visible()
    await assert_accessible(page, "Team")

    await page.get_by_label("E-mail").fill(newcomer)
    await page.get_by_label("Role", exact=True).select_option("admin")
    await page.get_by_role("button", name="Send invitation").click()
    await expect(page.get_by_role("status")).to_contain_text(f"Invitation sent to {newcomer}")
    await expect(page.get_by_role("cell", name=newcomer, exact=True)).to_be_visible()

    # The invited person opens the e-mailed link in their own browser.
    link = mailed_link(db, newcomer, "invite")
    theirs = await browser.new_context(locale="en-GB", timezone_id="America/New_York")
    try:
        invited = await theirs.new_page()
        await invited.goto(link)
        await expect(invited.get_by_role("heading", name="Join your hotel's team")).to_be_visible()
        await expect(invited.get_by_text(f"You were invited as {newcomer}")).to_be_visible()
        await assert_accessible(invited, "accept invitation")
        await choose_password(invited)
        await invited.get_by_role("button", name="Set password and join").click()
        await expect(invited.get_by_role("heading", name="Today", exact=True)).to_be_visible()
        await expect(invited).to_have_url(f"{stack.app_url}/t/{hotel.id}/today")
        await expect(invited.get_by_text("Hotel Isar", exact=True)).to_be_visible()
        await expect(invited.get_by_text("Admin", exact=True)).to_be_visible()
    finally:
        await theirs.close()

    # The owner sees the new member, and the invitation is no longer pending.
    await page.reload()
    await expect(page.get_by_label(f"Role of {newcomer}")).to_have_value("admin")
    await expect(page.get_by_text("No pending invitations.")).to_be_visible()

    # Removing someone asks first.
    await page.get_by_role("button", name=f"Remove {desk.email}").click()
    dialog = page.get_by_role("dialog", name="Remove from the team?")
    await expect(dialog).to_be_visible()
    await assert_accessible(page, "remove confirmation")
    await dialog.get_by_role("button", name="Remove").click()
    await expect(page.get_by_role("status")).to_contain_text(f"{desk.email} was removed from the team")
    await expect(page.get_by_role("cell", name=desk.email, exact=True)).to_have_count(0)


async def test_staff_do_not_see_the_team_screen(
    db: psycopg.Connection[Any], factory: Factory, stack: Stack, page: Page
) -> None:
    hotel = factory.tenant("Hotel Lech", timezone="Europe/Berlin", pms_property_id="AUG")
    desk = member(db, hotel, "staff")
    await sign_in(page, stack, desk.email, f"/t/{hotel.id}/today")
    await expect(page.get_by_role("link", name="Reservations")).to_be_visible()
    await expect(page.get_by_role("link", name="Team")).to_have_count(0)
    # By URL, the screen says who manages the team (the RPCs refuse staff anyway).
    await page.goto(f"{stack.app_url}/t/{hotel.id}/team")
    await expect(page.get_by_role("alert")).to_contain_text("Only the hotel's owners and admins manage the team")


async def test_a_forgotten_password_is_reset_through_the_emailed_link(
    db: psycopg.Connection[Any], factory: Factory, stack: Stack, page: Page, browser: Browser
) -> None:
    hotel = factory.tenant("Hotel Main", timezone="Europe/Berlin", pms_property_id="FRA")
    desk = member(db, hotel, "staff")

    await page.goto(stack.app_url)
    await page.get_by_role("link", name="Forgot your password?").click()
    await expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    await assert_accessible(page, "forgot password")
    # An address without an account gets the same answer, and no e-mail.
    await page.get_by_label("E-mail").fill("nobody-here@hotel.test")
    await page.get_by_role("button", name="Send the link").click()
    await expect(page.get_by_role("status")).to_contain_text("If nobody-here@hotel.test has an account, a link")
    await page.get_by_label("E-mail").fill(desk.email)
    await page.get_by_role("button", name="Send the link").click()
    await expect(page.get_by_role("status")).to_contain_text(f"If {desk.email} has an account, a link")
    none = db.execute("select count(*) from devstack.mail where recipient = 'nobody-here@hotel.test'").fetchone()
    assert none == (0,)

    # The link, opened in the browser that asked for it (PKCE), lets them choose a new password.
    await page.goto(mailed_link(db, desk.email, "recovery"))
    await expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    await assert_accessible(page, "new password")
    await choose_password(page)
    await page.get_by_role("button", name="Save the new password").click()
    await expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()

    # Elsewhere, the new password signs in.
    other = await browser.new_context(locale="en-GB", timezone_id="America/New_York")
    try:
        fresh = await other.new_page()
        await fresh.goto(stack.app_url)
        await fresh.get_by_label("E-mail").fill(desk.email)
        await fresh.get_by_label("Password").and_(fresh.locator("input")).fill(NEW_PASSWORD)
        await fresh.get_by_role("button", name="Sign in").click()
        await expect(fresh.get_by_role("button", name="Sign out")).to_be_visible()
    finally:
        await other.close()

    # The link was used up: opening it again says so.
    await page.goto(mailed_link(db, desk.email, "recovery"))
    await expect(page.get_by_role("alert")).to_contain_text("This link has expired or was already used")
