"""A user of hotel B never sees hotel A: not in B's lists (Today, alerts, metrics), not by typing
A's URLs, and not through live updates — while B's own changes do arrive live. In a real browser
against the gateway's Data API and Realtime (RLS on every row and every change)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from playwright.async_api import Page, WebSocket, expect

from tests.dashboard.conftest import CHROMIUM, Stack, assert_accessible, member, sign_in
from tests.factories import Factory, Tenant

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM}: make setup as root installs Debian's, or set CHROMIUM_PATH",
    ),
]


def _alert(db: psycopg.Connection[Any], tenant: Tenant, rule: str, value: float, threshold: float) -> None:
    db.execute(
        "insert into ops.alerts (rule_key, tenant_id, severity, summary, value, threshold)"
        " select key, %s, severity, summary, %s, %s from ops.alert_rules where key = %s",
        (tenant.id, value, threshold, rule),
    )


def _record_frames(page: Page) -> list[str]:
    """Every WebSocket frame the page receives (Realtime's), as text."""
    frames: list[str] = []

    def on_socket(socket: WebSocket) -> None:
        socket.on(
            "framereceived",
            lambda payload: frames.append(payload if isinstance(payload, str) else payload.decode(errors="replace")),
        )

    page.on("websocket", on_socket)
    return frames


async def test_a_user_of_hotel_b_never_sees_hotel_a_in_lists_by_url_or_live(
    db: psycopg.Connection[Any], factory: Factory, stack: Stack, page: Page
) -> None:
    a = factory.tenant("Hotel A", timezone="Europe/Berlin", pms_property_id="A")
    b = factory.tenant("Hotel B", timezone="Asia/Kolkata", pms_property_id="B")
    a_reservation = factory.reservation(
        a, pms_property_id="A", pms_reservation_id="A-1", guest={"full_name": "Ada Secret", "phone": "+4915100000001"}
    )
    b_reservation = factory.reservation(
        b, pms_property_id="B", pms_reservation_id="B-1", guest={"full_name": "Bea Guest", "phone": "+4915100000002"}
    )
    factory.message(a, reservation_id=a_reservation, status="dead", template_key="a_only", last_error="A broke")
    factory.message(b, status="read", template_key="b_read", waha_message_id="wa-b-1", sent_at=datetime.now(UTC))
    factory.message(b, status="dead", template_key="b_dead", last_error="B broke")
    _alert(db, a, "whatsapp_disconnected", 42, 10)
    _alert(db, b, "pms_unreachable", 45, 30)
    user_b = member(db, b, "owner")
    frames = _record_frames(page)

    # ---- lists: Today and its open alerts are B's only ---------------------------------------
    await sign_in(page, stack, user_b.email)
    await expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    await expect(page.get_by_text("Updates live")).to_be_visible()
    alerts = page.get_by_role("region", name="Open alerts")
    fix_pms = alerts.get_by_role("link", name="The PMS cannot be reached: reservations may be out of date")
    await expect(fix_pms).to_have_attribute("href", f"/t/{b.id}/pms")
    await expect(alerts).to_contain_text("45 min > 30 min")
    await expect(page.get_by_text("WhatsApp is disconnected")).to_have_count(0)
    failures = page.get_by_role("region", name="Failures needing action")
    await expect(failures.get_by_role("link", name="b_dead")).to_have_attribute(
        "href", f"/t/{b.id}/messages?status=dead"
    )
    await expect(page.get_by_text("a_only")).to_have_count(0)
    await assert_accessible(page, "Today with alerts")

    # ---- live: A's change shows nothing in B; the same change in B shows up -------------------
    factory.message(a, status="dead", template_key="a_live", last_error="A live failure")
    factory.message(b, status="dead", template_key="b_live", last_error="B live failure")
    # Realtime delivers in commit order: once B's change is on screen, A's was already decided.
    await expect(failures.get_by_role("link", name="b_live")).to_be_visible()
    await expect(page.get_by_text("a_live")).to_have_count(0)

    # The failure link opens the messages screen filtered, and it is live too.
    await failures.get_by_role("link", name="b_live").click()
    await expect(page).to_have_url(re.compile(f"/t/{b.id}/messages\\?status=dead$"))
    await expect(page.get_by_label("Status")).to_have_value("dead")
    await expect(page.get_by_text("B live failure")).to_be_visible()
    await expect(page.get_by_text("Updates live")).to_be_visible()
    factory.message(a, status="dead", template_key="a_later", last_error="A later failure")
    factory.message(b, status="dead", template_key="b_later", last_error="B later failure")
    await expect(page.get_by_text("B later failure")).to_be_visible()
    await expect(page.get_by_text("A later failure")).to_have_count(0)

    # A reservation's timeline: B's message arrives, A's (on A's reservation) never does.
    await page.goto(f"{stack.app_url}/t/{b.id}/reservations/{b_reservation}")
    await expect(page.get_by_text("Bea Guest").first).to_be_visible()
    await expect(page.get_by_text("Updates live")).to_be_visible()
    factory.message(a, reservation_id=a_reservation, status="queued", template_key="a_timeline")
    factory.message(b, reservation_id=b_reservation, status="queued", template_key="b_timeline")
    await expect(page.get_by_text("b_timeline")).to_be_visible()
    await expect(page.get_by_text("a_timeline")).to_have_count(0)

    # Nothing of A ever reached this browser through Realtime, while B's changes did.
    received = "\n".join(frames)
    assert "b_live" in received and "b_timeline" in received
    for secret in (str(a.id), "a_live", "a_later", "a_timeline", "Ada Secret"):
        assert secret not in received, f"{secret} reached hotel B's browser"

    # ---- the reservations list, and searching it, show B's guests only ------------------------
    await page.get_by_role("link", name="Reservations", exact=True).click()
    await expect(page.get_by_role("link", name="Bea Guest")).to_be_visible()
    await expect(page.get_by_text("Ada Secret")).to_have_count(0)
    await page.get_by_label("Search guest, phone or PMS id").fill("Ada")
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_text("No reservations found.")).to_be_visible()

    # ---- by URL: A's reservation, and A's screens, do not exist for B -------------------------
    await page.goto(f"{stack.app_url}/t/{b.id}/reservations/{a_reservation}")
    await expect(page.get_by_role("alert")).to_contain_text("does not exist or is not in this hotel")
    await expect(page.get_by_text("Ada Secret")).to_have_count(0)
    await assert_accessible(page, "reservation not found")
    await page.goto(f"{stack.app_url}/t/{a.id}/today")
    await expect(page.get_by_role("heading", name="This page does not exist.")).to_be_visible()
    await page.goto(f"{stack.app_url}/t/{a.id}/metrics")
    await expect(page.get_by_role("heading", name="This page does not exist.")).to_be_visible()
    await expect(page.get_by_text("Hotel A")).to_have_count(0)

    # ---- metrics: B's figures and alerts, in B's timezone ---------------------------------------
    await page.goto(f"{stack.app_url}/t/{b.id}/today")
    await page.get_by_role("link", name="Metrics", exact=True).click()
    await expect(page.get_by_role("heading", name="Metrics", exact=True)).to_be_visible()
    await expect(page.get_by_text("(Asia/Kolkata)")).to_be_visible()
    # 1 read, 4 dead (b_dead, b_live, b_later; the queued one is not attempted yet) — rates side by side.
    await expect(page.get_by_test_id("sum-messages")).to_contain_text("Delivered 25% · failed 75%")
    await expect(page.get_by_test_id("sum-messages")).to_contain_text("of 4 attempted; 0 failed, 3 dead")
    hotel_alerts = page.get_by_role("region", name="Alerts", exact=True)
    await expect(hotel_alerts).to_contain_text("Runbook: PMS Down (docs/runbook.md#pms-down)")
    await expect(hotel_alerts).not_to_contain_text("WhatsApp")
    await expect(page.get_by_role("figure", name="Message delivery")).to_be_visible()
    await assert_accessible(page, "Metrics")
    await page.get_by_text("30 days").click()
    await expect(page).to_have_url(re.compile(r"/metrics\?period=30d$"))
    await expect(page.get_by_role("figure", name="Messages attempted")).to_be_visible()
