"""Apaleo: thin webhooks, OAuth client credentials, Modification-date listings with page numbers."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.simulators.pms.apaleo import ApaleoSimulator
from devstack.simulators.pms.base import Booking
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
from worker.pms import apaleo
from worker.pms.base import Fetch, Ignore, InboundEvent
from worker.pms.registry import adapter_for
from worker.sync.runner import SyncSettings

SAMPLES = Path(__file__).resolve().parents[1] / "shared" / "samples"
PROPERTY = "HFTF-AADS"
NOW = dt.datetime.now(dt.UTC)


def sample(path: str) -> Any:
    return json.loads((SAMPLES / path).read_text())


def event(payload: Any) -> InboundEvent:
    return InboundEvent(
        1, "t", "apaleo", str(payload.get("id")), f"{payload.get('topic')}/{payload.get('type')}", payload
    )


# -- parsing and mapping (pure) ------------------------------------------------------------------
def test_the_sample_reservation_event_fetches_the_reservation() -> None:
    actions = adapter_for("apaleo").parse_event(event(sample("webhooks/apaleo/reservation-created.json")))
    assert actions == [Fetch("XPGMSXGF-1")]


@pytest.mark.parametrize("kind", ["amended", "changed", "checked-in", "checked-out", "canceled", "set-to-no-show"])
def test_every_reservation_event_fetches_the_reservation(kind: str) -> None:
    body = sample("webhooks/apaleo/reservation-created.json") | {"type": kind}
    assert adapter_for("apaleo").parse_event(event(body)) == [Fetch("XPGMSXGF-1")]


def test_the_health_check_and_other_topics_are_ignored() -> None:
    adapter = adapter_for("apaleo")
    assert adapter.parse_event(event(sample("webhooks/apaleo/system-healthcheck.json"))) == [
        Ignore("Apaleo system/healthcheck")
    ]
    folio = sample("webhooks/apaleo/reservation-created.json") | {"topic": "Folio", "type": "closed"}
    assert adapter.parse_event(event(folio)) == [Ignore("Apaleo topic 'Folio' is not about reservations")]


def test_a_reservation_event_without_its_entity_is_a_payload_error() -> None:
    body = sample("webhooks/apaleo/reservation-created.json") | {"data": {}}
    with pytest.raises(PayloadError, match=r"without data\.entityId"):
        adapter_for("apaleo").parse_event(event(body))


def test_the_documented_reservation_becomes_a_canonical_reservation() -> None:
    doc = apaleo.to_canonical(sample("api/apaleo/reservation.json"), {PROPERTY: "Europe/Berlin"})
    assert doc == {
        "provider": "apaleo",
        "pms_reservation_id": "XPGMSXGF-1",
        "pms_property_id": PROPERTY,
        "status": "confirmed",
        "arrival_date": "2026-12-20",
        "departure_date": "2026-12-23",
        "pms_updated_at": "2026-11-21T16:02:44Z",
        "adults": 2,
        "children": 1,
        "room": "204",
        "guest": {"full_name": "Ada Lovelace", "phone": "+4915112345678", "email": "ada@example.com", "language": "de"},
    }


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Confirmed", "confirmed"),
        ("InHouse", "checked_in"),
        ("CheckedOut", "checked_out"),
        ("Canceled", "cancelled"),
        ("NoShow", "no_show"),
    ],
)
def test_statuses_map_to_canonical_ones(status: str, expected: str) -> None:
    doc = apaleo.to_canonical(sample("api/apaleo/reservation.json") | {"status": status}, {})
    assert doc["status"] == expected


def test_an_unknown_status_is_not_guessed() -> None:
    with pytest.raises(PayloadError, match="unknown Apaleo reservation status 'Tentative'"):
        apaleo.to_canonical(sample("api/apaleo/reservation.json") | {"status": "Tentative"}, {})


def test_a_national_number_is_read_with_the_guests_country() -> None:
    res = sample("api/apaleo/reservation.json")
    res["primaryGuest"] = res["primaryGuest"] | {"phone": "0151 12345678"}
    assert apaleo.to_canonical(res, {})["guest"]["phone"] == "+4915112345678"


# -- against the simulator and the database --------------------------------------------------------
@pytest.fixture
async def pms() -> AsyncIterator[ApaleoSimulator]:
    async with ApaleoSimulator({"client-id": "client-secret"}, timezones={PROPERTY: "Europe/Berlin"}) as sim:
        yield sim


@pytest.fixture
def tenant(factory: Factory) -> Tenant:
    return factory.tenant(timezone="Europe/Berlin", pms_property_id=PROPERTY)


def booking(n: int, **changes: Any) -> Booking:
    values: dict[str, Any] = {
        "id": f"BOOK{n:04d}-1",
        "property_id": PROPERTY,
        "status": "confirmed",
        "arrival": (NOW + dt.timedelta(days=20)).date(),
        "departure": (NOW + dt.timedelta(days=22)).date(),
        "modified": NOW - dt.timedelta(hours=2, seconds=n),
        "last_name": f"Apaleo{n}",
        "phone": f"+4915{n:09d}",
    }
    values.update(changes)
    return Booking(**values)


def connect(db: Any, tenant: Tenant, pms: ApaleoSimulator, **columns: Any) -> str:
    columns.setdefault("sync_cursor", NOW - dt.timedelta(minutes=5))
    credentials = {
        "client_id": "client-id",
        "client_secret": "client-secret",
        "token_url": f"{pms.base_url}/connect/token",
    }
    return configure(db, tenant.id, "apaleo", pms.base_url, credentials, external_account_id="HFTF", **columns)


async def test_the_sample_webhook_ends_as_a_reservation_with_its_message_planned(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: ApaleoSimulator, tenant: Tenant
) -> None:
    pms.put(booking(1, id="XPGMSXGF-1", first_name="Grace", last_name="Hopper", language="en-US", room="204"))
    connect(db, tenant, pms)
    add_booking_confirmation(db, tenant.id)
    body = sample("webhooks/apaleo/reservation-created.json")
    stored = store_event(db, tenant.id, "apaleo", "reservation/created", body, event_id=body["id"], request_id="req-ap")
    assert stored is not None
    assert apply_event(db, stored) == ["fetch:XPGMSXGF-1"]
    assert await drain(pool, http, fast_registry()) == 1

    row = reservations(db)["XPGMSXGF-1"]
    assert (row["status"], row["full_name"], row["language"], row["room_label"]) == (
        "confirmed",
        "Grace Hopper",
        "en",
        "204",
    )
    assert row["arrival_date"] == booking(1).arrival
    [message] = planned_messages(db)
    assert (message["language"], message["status"], message["request_id"]) == ("en", "scheduled", "req-ap")


async def test_the_token_is_reused_and_a_duplicate_delivery_is_one_event(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: ApaleoSimulator, tenant: Tenant
) -> None:
    pms.put(*(booking(n) for n in range(3)))
    config = connect(db, tenant, pms)
    for n in range(3):
        body = sample("webhooks/apaleo/reservation-created.json") | {
            "id": f"evt-{n}",
            "data": {"entityId": f"BOOK{n:04d}-1"},
        }
        first = store_event(db, tenant.id, "apaleo", "reservation/created", body, event_id=body["id"])
        assert first is not None
        apply_event(db, first)
        # Apaleo retries a delivery it considers failed: the same event id is stored once.
        assert store_event(db, tenant.id, "apaleo", "reservation/created", body, event_id=body["id"]) is None
    await drain(pool, http, fast_registry(), settings=SyncSettings(merge_limit=0))

    assert len(reservations(db)) == 3
    assert len(pms.requests("/connect/token")) == 1
    assert len(pms.requests("/booking/v1/reservations/")) == 3
    assert configuration(db, config)["health"] == "ok"


async def test_a_full_sync_pages_by_modification_date(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: ApaleoSimulator, tenant: Tenant
) -> None:
    pms.put(*(booking(n) for n in range(450)))
    pms.put(booking(999, property_id="OTHER-HOTEL"))  # another hotel of the account
    config = connect(db, tenant, pms, sync_cursor=None)
    await drain(pool, http, fast_registry())

    [job] = jobs(db)
    assert (job["kind"], job["status"], job["pages"], job["created_count"]) == ("full", "succeeded", 3, 450)
    pages = pms.requests("/booking/v1/reservations")
    assert [r.query["pageNumber"] for r in pages] == ["1", "2", "3"]
    assert {r.query["dateFilter"] for r in pages} == {"Modification"}
    assert {r.query["propertyIds"] for r in pages} == {PROPERTY}

    # An incremental sync with nothing new: Apaleo answers 204, the cursor still moves.
    before = configuration(db, config)["sync_cursor"]
    db.execute("select internal.enqueue_sync_v1(%s, 'incremental', 'manual')", (config,))
    await drain(pool, http, fast_registry())
    assert pms.log[-1].status == 204
    assert jobs(db)[-1]["status"] == "succeeded"
    assert configuration(db, config)["sync_cursor"] > before


async def test_revoked_client_credentials_fail_once_and_pause_the_configuration(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: ApaleoSimulator, tenant: Tenant
) -> None:
    pms.put(booking(1), booking(2))
    config = connect(db, tenant, pms)
    db.execute("select internal.enqueue_sync_v1(%s, 'reservation', 'webhook', 'BOOK0001-1')", (config,))
    await drain(pool, http, fast_registry())
    pms.revoke("client-id")

    db.execute("select internal.enqueue_sync_v1(%s, 'reservation', 'webhook', 'BOOK0002-1')", (config,))
    registry = fast_registry()
    await drain(pool, http, registry)
    job = jobs(db)[-1]
    assert job["status"] == "failed"
    assert "rejected the client credentials" in job["error"]
    state = configuration(db, config)
    assert state["health"] == "failing"
    assert state["sync_paused_reason"] is not None
    # One token request for the fresh registry, answered invalid_client: nothing more.
    assert [r.status for r in pms.log[-1:]] == [400]
