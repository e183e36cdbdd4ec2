"""The Automations screen in a real browser: an owner rewrites a template while its preview shows
what a real guest will read, has an unknown placeholder refused in words, and moves a rule's send
time; the planner follows both. Front desk reads the same screen without a way to change it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest
from playwright.async_api import Page, expect

from tests.dashboard.conftest import CHROMIUM, Stack, assert_accessible, member, sign_in
from tests.factories import Factory, Tenant

pytestmark = [
    pytest.mark.slow,
    # The first test also waits for the build.
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM}: make setup as root installs Debian's, or set CHROMIUM_PATH",
    ),
]


def _hotel(db: psycopg.Connection[Any], factory: Factory) -> tuple[Tenant, str]:
    """Hotel Spree with a pre-arrival rule, its template, and Ada's reservation (planned)."""
    hotel = factory.tenant("Hotel Spree", timezone="Europe/Berlin", pms_property_id="BER")
    db.execute(
        "insert into public.message_templates (tenant_id, key, language, body) values (%s, 'pre_arrival', 'en', %s)",
        (hotel.id, "See you soon"),
    )
    db.execute(
        "insert into public.automation_rules (tenant_id, name, trigger, offset_days, send_at_local, template_key)"
        " values (%s, 'Pre-arrival', 'before_arrival', 3, '10:00', 'pre_arrival')",
        (hotel.id,),
    )
    reservation = factory.reservation(
        hotel,
        pms_property_id="BER",
        pms_reservation_id="BER-7",
        arrival_date="2035-06-10",
        departure_date="2035-06-13",
        guest={"full_name": "Ada Lovelace", "phone": "+4915100000007", "language": "de"},
    )
    return hotel, str(reservation)


def _planned(db: psycopg.Connection[Any], reservation: str) -> tuple[str, dt.datetime]:
    row = db.execute(
        "select body, scheduled_for from public.message_logs"
        " where reservation_id = %s and template_key = 'pre_arrival'",
        (reservation,),
    ).fetchone()
    assert row is not None
    return str(row[0]), row[1]


async def test_an_owner_edits_a_template_with_its_live_preview_and_a_rule_s_send_time(
    db: psycopg.Connection[Any], factory: Factory, stack: Stack, page: Page
) -> None:
    hotel, reservation = _hotel(db, factory)
    owner = member(db, hotel, "owner")
    await sign_in(page, stack, owner.email, f"/t/{hotel.id}/automations")
    await expect(page.get_by_role("heading", name="Automations", exact=True)).to_be_visible()
    await expect(page.get_by_role("cell", name="3 days before arrival, at 10:00")).to_be_visible()
    await assert_accessible(page, "Automations")

    # The template, previewed for Ada as she will read it.
    await page.get_by_role("button", name="Edit template pre_arrival (en)").click()
    preview = page.get_by_test_id("template-preview")
    await expect(preview).to_have_text("See you soon")
    await expect(page.get_by_label("Preview for reservation")).to_contain_text("Ada Lovelace")
    await expect(
        page.get_by_text("This guest's language is de; with the saved templates they receive the en version.")
    ).to_be_visible()
    text = page.get_by_label("Message text")
    await text.fill("Hi {{guest_first_name}}, see you on {{arrival_date}} at {{property_name}}!")
    await expect(preview).to_have_text("Hi Ada, see you on 2035-06-10 at Hotel Spree Main!")
    await assert_accessible(page, "Automations, template editor")
    await page.get_by_role("button", name="Save template").click()
    await expect(page.get_by_role("status").filter(has_text="Template saved.")).to_be_visible()
    # The planner's waiting message reads what the preview showed.
    assert _planned(db, reservation)[0] == "Hi Ada, see you on 2035-06-10 at Hotel Spree Main!"

    # An unknown placeholder: named while typing, and the save is refused in words.
    await text.fill("Hi {{guest_first_name}}, your room is {{room_number}}.")
    refusal = "These placeholders do not exist: {{room_number}}. Remove them or use one of the placeholders"
    await expect(page.get_by_role("alert")).to_contain_text(refusal)
    await expect(preview).to_have_text("Fix the message text to see the preview.")
    await page.get_by_role("button", name="Save template").click()
    await expect(page.get_by_role("alert").filter(has_text=refusal)).to_have_count(2)
    assert _planned(db, reservation)[0] == "Hi Ada, see you on 2035-06-10 at Hotel Spree Main!"
    await page.get_by_role("button", name="Close").click()

    # The rule's local send time: 09:30 Berlin summer time, three days before arrival.
    await page.get_by_role("button", name="Edit rule Pre-arrival").click()
    await page.get_by_label("Send at (local time)").fill("09:30")
    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.get_by_role("status").filter(has_text='Rule "Pre-arrival" saved.')).to_be_visible()
    await expect(page.get_by_role("cell", name="3 days before arrival, at 09:30")).to_be_visible()
    assert _planned(db, reservation)[1] == dt.datetime(2035, 6, 7, 7, 30, tzinfo=dt.UTC)


async def test_front_desk_reads_the_automations_without_changing_them(
    db: psycopg.Connection[Any], factory: Factory, stack: Stack, page: Page
) -> None:
    hotel, _ = _hotel(db, factory)
    desk = member(db, hotel, "staff")
    await sign_in(page, stack, desk.email, f"/t/{hotel.id}/automations")
    await expect(
        page.get_by_text("You can see the automations; the hotel's owners and admins change them.")
    ).to_be_visible()
    await expect(page.get_by_role("cell", name="3 days before arrival, at 10:00")).to_be_visible()
    await expect(page.get_by_role("button", name="Edit rule Pre-arrival")).to_have_count(0)
    await expect(page.get_by_role("button", name="Add rule")).to_have_count(0)

    await page.get_by_role("button", name="View template pre_arrival (en)").click()
    await expect(page.get_by_label("Message text")).not_to_be_editable()
    await expect(page.get_by_test_id("template-preview")).to_have_text("See you soon")
    await expect(page.get_by_role("button", name="Save template")).to_have_count(0)
    await expect(page.get_by_role("button", name="Save quiet hours")).to_have_count(0)
    await assert_accessible(page, "Automations, front desk")
