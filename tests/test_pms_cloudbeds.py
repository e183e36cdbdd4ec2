"""Cloudbeds: webhooks without event ids, both id spellings, getReservation(s) with page numbers."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.simulators.pms.base import Booking
from devstack.simulators.pms.cloudbeds import CloudbedsSimulator
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
from worker.pms import cloudbeds
from worker.pms.base import Fetch, Ignore, InboundEvent
from worker.pms.registry import adapter_for
from worker.sync.runner import SyncSettings

SAMPLES = Path(__file__).resolve().parents[1] / "shared" / "samples"
PROPERTY = "318267"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def sample(path: str) -> Any:
    return json.loads((SAMPLES / path).read_text())


def event(payload: Any) -> InboundEvent:
    return InboundEvent(1, "t", "cloudbeds", "cloudbeds:x", str(payload.get("event")), payload)


# -- parsing and mapping (pure) ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("reservation-created.json", "7061304407766"),
        ("reservation-status-changed.json", "7061304407766"),
        ("reservation-dates-changed.json", "31415926"),  # spelled reservationId
    ],
)
def test_the_sample_webhooks_fetch_their_reservation(name: str, expected: str) -> None:
    actions = adapter_for("cloudbeds").parse_event(event(sample(f"webhooks/cloudbeds/{name}")))
    assert actions == [Fetch(expected)]


def test_events_about_other_objects_are_ignored_and_a_missing_id_is_an_error() -> None:
    adapter = adapter_for("cloudbeds")
    assert adapter.parse_event(event({"event": "guest/details_changed", "timestamp": 1.0})) == [
        Ignore("Cloudbeds event 'guest/details_changed' is not about a reservation")
    ]
    with pytest.raises(PayloadError, match="without reservationID"):
        adapter.parse_event(event({"event": "reservation/created", "timestamp": 1.0}))


def test_the_documented_reservation_becomes_a_canonical_reservation() -> None:
    doc = cloudbeds.to_canonical(sample("api/cloudbeds/getReservation.json")["data"], {PROPERTY: "Europe/Berlin"})
    assert doc == {
        "provider": "cloudbeds",
        "pms_reservation_id": "7061304407766",
        "pms_property_id": PROPERTY,
        "status": "confirmed",
        "arrival_date": "2025-12-17",
        "departure_date": "2025-12-18",
        "pms_updated_at": "2025-12-17T21:03:01Z",
        "adults": 2,
        "children": 0,
        "room": "12",
        # 015112345678 is a German mobile number written nationally; guestCountry says DE.
        "guest": {"full_name": "Ada Lovelace", "phone": "+4915112345678", "email": "ada@example.com", "language": None},
    }


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("confirmed", "confirmed"),
        ("not_confirmed", "confirmed"),
        ("checked_in", "checked_in"),
        ("checked_out", "checked_out"),
        ("canceled", "cancelled"),
        ("no_show", "no_show"),
    ],
)
def test_statuses_map_to_canonical_ones(status: str, expected: str) -> None:
    data = sample("api/cloudbeds/getReservation.json")["data"] | {"status": status}
    assert cloudbeds.to_canonical(data, {})["status"] == expected


# -- against the simulator and the database --------------------------------------------------------
@pytest.fixture
async def pms() -> AsyncIterator[CloudbedsSimulator]:
    async with CloudbedsSimulator(api_keys=["cbat_key"]) as sim:
        yield sim


@pytest.fixture
def tenant(factory: Factory) -> Tenant:
    return factory.tenant(timezone="America/New_York", pms_property_id=PROPERTY)


def booking(n: int, **changes: Any) -> Booking:
    values: dict[str, Any] = {
        "id": f"70613044{n:05d}",
        "property_id": PROPERTY,
        "status": "confirmed",
        "arrival": (NOW + dt.timedelta(days=10)).date(),
        "departure": (NOW + dt.timedelta(days=12)).date(),
        "modified": NOW - dt.timedelta(days=1, seconds=n),
        "last_name": f"Cloudbeds{n}",
        "phone": f"+1415555{n:04d}",
        "country": "US",
        "language": "en",
    }
    values.update(changes)
    return Booking(**values)


def connect(db: Any, tenant: Tenant, pms: CloudbedsSimulator, **columns: Any) -> str:
    columns.setdefault("sync_cursor", NOW - dt.timedelta(minutes=5))
    return configure(db, tenant.id, "cloudbeds", pms.api_base_url, {"api_key": "cbat_key"}, **columns)


async def test_the_sample_webhooks_end_as_one_reservation_with_its_message_planned(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: CloudbedsSimulator, tenant: Tenant
) -> None:
    pms.put(booking(1, id="7061304407766", first_name="Margaret", last_name="Hamilton", room="12"))
    connect(db, tenant, pms)
    add_booking_confirmation(db, tenant.id)
    # Created, then cancelled: Cloudbeds sends no event id, the content is the idempotency key.
    created = store_event(
        db, tenant.id, "cloudbeds", "reservation/created", sample("webhooks/cloudbeds/reservation-created.json")
    )
    assert created is not None
    assert apply_event(db, created) == ["fetch:7061304407766"]
    await drain(pool, http, fast_registry())
    row = reservations(db)["7061304407766"]
    assert (row["status"], row["full_name"], row["phone_e164"], row["room_label"]) == (
        "confirmed",
        "Margaret Hamilton",
        "+14155550001",
        "12",
    )
    assert [m["status"] for m in planned_messages(db)] == ["scheduled"]

    pms.touch("7061304407766", status="cancelled")
    cancelled = store_event(
        db,
        tenant.id,
        "cloudbeds",
        "reservation/status_changed",
        sample("webhooks/cloudbeds/reservation-status-changed.json"),
    )
    assert cancelled is not None
    apply_event(db, cancelled)
    await drain(pool, http, fast_registry())
    assert reservations(db)["7061304407766"]["status"] == "cancelled"
    # The confirmation not sent yet is called off.
    assert [m["status"] for m in planned_messages(db)] == ["cancelled"]


async def test_a_full_sync_pages_and_an_incremental_one_looks_back_far_enough(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: CloudbedsSimulator, tenant: Tenant
) -> None:
    pms.put(*(booking(n) for n in range(250)))
    config = connect(db, tenant, pms, sync_cursor=None)
    await drain(pool, http, fast_registry(), settings=SyncSettings(full_lookback=dt.timedelta(days=30)))
    [job] = jobs(db)
    assert (job["status"], job["pages"], job["created_count"]) == ("succeeded", 3, 250)
    pages = pms.requests("getReservations")
    assert [r.query["pageNumber"] for r in pages] == ["1", "2", "3"]
    assert {r.query["propertyID"] for r in pages} == {PROPERTY}

    db.execute("select internal.enqueue_sync_v1(%s, 'incremental', 'manual')", (config,))
    await drain(pool, http, fast_registry())
    incremental = jobs(db)[-1]
    # Offset-free Cloudbeds times could be property-local: the window starts 14 h before the cursor.
    assert incremental["cursor_from"] == job["cursor_to"] - dt.timedelta(hours=14)
    assert configuration(db, config)["health"] == "ok"


async def test_a_reservation_cloudbeds_does_not_know_fails_its_job_with_the_reason(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: CloudbedsSimulator, tenant: Tenant
) -> None:
    config = connect(db, tenant, pms)
    db.execute("select internal.enqueue_sync_v1(%s, 'reservation', 'webhook', '404404')", (config,))
    await drain(pool, http, fast_registry())
    [job] = jobs(db)
    assert (job["status"], job["failed_count"]) == ("failed", 1)
    assert "Reservation not found" in job["error"]
    assert configuration(db, config)["health"] == "ok"  # the PMS answered
