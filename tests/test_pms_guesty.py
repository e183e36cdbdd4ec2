"""Guesty: v2 reservation webhooks, OAuth tokens that must be kept, skip/limit listings."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.simulators.pms.base import Booking
from devstack.simulators.pms.guesty import GuestySimulator
from devstack.simulators.pms.harness import (
    add_booking_confirmation,
    apply_event,
    configuration,
    configure,
    drain,
    fast_registry,
    jobs,
    planned_messages,
    reservations,
    store_event,
)
from tests.factories import Factory, Tenant
from worker.errors import PayloadError
from worker.pms import guesty, mapping
from worker.pms.base import Fetch, Ignore, InboundEvent
from worker.pms.registry import adapter_for
from worker.sync.runner import SyncSettings

SAMPLES = Path(__file__).resolve().parents[1] / "shared" / "samples"
LISTING = "59ac245d27cb310f0017afe3"
NOW = dt.datetime.now(dt.UTC)


def sample(path: str) -> Any:
    return json.loads((SAMPLES / path).read_text())


def event(payload: Any) -> InboundEvent:
    return InboundEvent(1, "t", "guesty", "msg_1", str(payload.get("event")), payload)


# -- parsing and mapping (pure) ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["reservation-created-v2.json", "reservation-updated-v2.json"])
def test_the_sample_v2_webhooks_fetch_the_reservation(name: str) -> None:
    actions = adapter_for("guesty").parse_event(event(sample(f"webhooks/guesty/{name}")))
    assert actions == [Fetch("6731f2a4c1d2e30012ab34cd")]


def test_legacy_reservation_events_are_understood_and_others_ignored() -> None:
    adapter = adapter_for("guesty")
    legacy = {"event": "reservation.new", "reservation": {"_id": "abc", "status": "inquiry"}}
    assert adapter.parse_event(event(legacy)) == [Fetch("abc")]
    assert adapter.parse_event(event({"event": "listing.updated", "listing": {}})) == [
        Ignore("Guesty event 'listing.updated' is not a reservation change")
    ]
    with pytest.raises(PayloadError, match=r"without reservation\._id"):
        adapter.parse_event(event({"event": "reservation.updated.v2", "reservation": {}}))


def test_the_documented_reservation_becomes_a_canonical_reservation() -> None:
    doc = guesty.to_canonical(sample("api/guesty/reservation.json"), {LISTING: "Europe/Madrid"})
    assert doc == {
        "provider": "guesty",
        "pms_reservation_id": "6731f2a4c1d2e30012ab34cd",
        "pms_property_id": LISTING,
        "status": "confirmed",
        "arrival_date": "2026-12-21",
        "departure_date": "2026-12-23",
        "pms_updated_at": "2026-11-21T16:02:44.701000Z",
        "adults": 2,
        "children": 1,
        "room": "Sunny Loft",
        "guest": {"full_name": "Ana García", "phone": "+34612345678", "email": "ana@example.com", "language": "es"},
    }


@pytest.mark.parametrize("status", ["inquiry", "reserved", "declined", "expired"])
def test_inquiries_and_requests_are_not_bookings(status: str) -> None:
    with pytest.raises(mapping.NotABooking):
        guesty.to_canonical(sample("api/guesty/reservation.json") | {"status": status}, {})


def test_a_cancellation_maps_to_cancelled() -> None:
    doc = guesty.to_canonical(sample("api/guesty/reservation.json") | {"status": "canceled"}, {})
    assert doc["status"] == "cancelled"


# -- against the simulator and the database --------------------------------------------------------
@pytest.fixture
async def pms() -> AsyncIterator[GuestySimulator]:
    async with GuestySimulator({"guesty-client": "guesty-secret"}, timezones={LISTING: "Europe/Madrid"}) as sim:
        yield sim


@pytest.fixture
def tenant(factory: Factory) -> Tenant:
    return factory.tenant(timezone="Europe/Madrid", pms_property_id=LISTING)


def booking(n: int, **changes: Any) -> Booking:
    values: dict[str, Any] = {
        "id": f"6731f2a4c1d2e30012{n:06d}",
        "property_id": LISTING,
        "status": "confirmed",
        "arrival": (NOW + dt.timedelta(days=15)).date(),
        "departure": (NOW + dt.timedelta(days=18)).date(),
        "modified": NOW - dt.timedelta(hours=3, seconds=n),
        "first_name": "Ana",
        "last_name": f"Guesty{n}",
        "phone": f"+3461{n:07d}",
        "language": "es",
        "country": "ES",
    }
    values.update(changes)
    return Booking(**values)


def connect(db: Any, tenant: Tenant, pms: GuestySimulator, **columns: Any) -> str:
    columns.setdefault("sync_cursor", NOW - dt.timedelta(minutes=5))
    credentials = {
        "client_id": "guesty-client",
        "client_secret": "guesty-secret",
        "token_url": f"{pms.base_url}/oauth2/token",
    }
    return configure(db, tenant.id, "guesty", f"{pms.base_url}/v1", credentials, **columns)


async def test_the_sample_webhook_ends_as_a_reservation_with_its_message_planned(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: GuestySimulator, tenant: Tenant
) -> None:
    pms.put(booking(1, id="6731f2a4c1d2e30012ab34cd"))
    connect(db, tenant, pms)
    add_booking_confirmation(db, tenant.id)
    body = sample("webhooks/guesty/reservation-created-v2.json")
    stored = store_event(db, tenant.id, "guesty", body["event"], body, event_id="msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")
    assert stored is not None
    apply_event(db, stored)
    await drain(pool, http, fast_registry())

    row = reservations(db)["6731f2a4c1d2e30012ab34cd"]
    assert (row["status"], row["full_name"], row["phone_e164"], row["language"]) == (
        "confirmed",
        "Ana Guesty1",
        "+34610000001",
        "es",
    )
    [message] = planned_messages(db)
    # No Spanish template: the tenant's default language (English) is used.
    assert (message["language"], message["status"]) == ("en", "scheduled")


async def test_an_inquiry_is_not_stored_and_the_job_says_why(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: GuestySimulator, tenant: Tenant
) -> None:
    pms.put(booking(2, vendor_status="inquiry"))
    config = connect(db, tenant, pms)
    db.execute("select internal.enqueue_sync_v1(%s, 'reservation', 'webhook', %s)", (config, booking(2).id))
    await drain(pool, http, fast_registry())
    [job] = jobs(db)
    assert job["status"] == "succeeded"
    assert job["error"].startswith("skipped: Guesty reservation")
    assert reservations(db) == {}


async def test_one_token_serves_many_requests_and_listings_page_with_skip(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: GuestySimulator, tenant: Tenant
) -> None:
    pms.put(*(booking(n) for n in range(230)))
    pms.put(booking(900, vendor_status="inquiry"))
    config = connect(db, tenant, pms, sync_cursor=None)
    registry = fast_registry()
    await drain(pool, http, registry, settings=SyncSettings(full_lookback=dt.timedelta(days=30)))
    db.execute("select internal.enqueue_sync_v1(%s, 'reservation', 'webhook', %s)", (config, booking(5).id))
    await drain(pool, http, registry)

    assert len(reservations(db)) == 230
    listing = pms.requests("/v1/reservations")
    assert [r.query.get("skip") for r in listing if r.path == "/v1/reservations"] == ["0", "100", "200"]
    assert pms.token_requests == 1
    assert configuration(db, config)["health"] == "ok"


async def test_a_revoked_client_ends_in_a_failing_configuration_after_one_token_retry(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: GuestySimulator, tenant: Tenant
) -> None:
    pms.put(booking(1), booking(2))
    config = connect(db, tenant, pms)
    registry = fast_registry()
    db.execute("select internal.enqueue_sync_v1(%s, 'reservation', 'webhook', %s)", (config, booking(1).id))
    await drain(pool, http, registry)
    pms.revoke("guesty-client")
    before = len(pms.log)

    db.execute("select internal.enqueue_sync_v1(%s, 'reservation', 'webhook', %s)", (config, booking(2).id))
    await drain(pool, http, registry)
    job = jobs(db)[-1]
    assert job["status"] == "failed"
    assert "rejected" in job["error"]
    assert configuration(db, config)["health"] == "failing"
    # The cached token was refused, one new token was asked for and refused: then it stopped.
    assert [(r.path, r.status) for r in pms.log[before:]] == [
        (f"/v1/reservations/{booking(2).id}", 401),
        ("/oauth2/token", 401),
    ]
