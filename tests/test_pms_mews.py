"""Mews: batched thin webhooks, cursor pagination in 3-month windows, customers fetched per page."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.simulators.pms.base import Booking, Rate
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
from devstack.simulators.pms.mews import MewsSimulator
from tests.factories import Factory, Tenant
from worker.errors import PayloadError
from worker.pms import mapping, mews
from worker.pms.base import Fetch, Ignore, InboundEvent
from worker.pms.registry import adapter_for
from worker.sync.runner import SyncSettings

SAMPLES = Path(__file__).resolve().parents[1] / "shared" / "samples"
ENTERPRISE = "851df8c8-90f2-4c4a-8e01-a4fc46b25178"
INTEGRATION = "c8bee838-7fb1-4f4e-8fac-ac87008b2f90"
CREDENTIALS = {"client_token": "mews-client-token", "access_token": "mews-access-token", "client": "Test 1.0"}
NOW = dt.datetime.now(dt.UTC)


def sample(path: str) -> Any:
    return json.loads((SAMPLES / path).read_text())


def event(payload: Any) -> InboundEvent:
    return InboundEvent(1, "t", "mews", "mews:1", "ServiceOrderUpdated", payload)


def booking(n: int, **changes: Any) -> Booking:
    values: dict[str, Any] = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"mews-{n}")),
        "property_id": ENTERPRISE,
        "status": "confirmed",
        "arrival": (NOW + dt.timedelta(days=30 + n % 50)).date(),
        "departure": (NOW + dt.timedelta(days=33 + n % 50)).date(),
        "modified": NOW - dt.timedelta(hours=1, seconds=n),
        "first_name": "Guest",
        "last_name": f"Mews{n}",
        "phone": f"+4915{n:09d}",
        "language": "de-DE",
    }
    values.update(changes)
    return Booking(**values)


# -- parsing (pure) ------------------------------------------------------------------------------
def test_the_documented_delivery_fetches_its_reservation_and_ignores_other_entities() -> None:
    actions = adapter_for("mews").parse_event(event(sample("webhooks/mews/general-webhook.json")))
    assert actions[0] == Fetch("bfee2c44-1f84-4326-a862-5289598f6e2d")
    assert [type(a) for a in actions[1:]] == [Ignore] * 4
    assert actions[1] == Ignore("Mews ResourceUpdated is not a reservation change")


def test_a_stored_single_event_is_understood_in_each_shape() -> None:
    item = {"Discriminator": "ServiceOrderUpdated", "Value": {"Id": "r-1"}}
    adapter = adapter_for("mews")
    for payload in (
        {"EnterpriseId": ENTERPRISE, "IntegrationId": INTEGRATION, "Event": item},
        {"EnterpriseId": ENTERPRISE, "IntegrationId": INTEGRATION, "Events": [item]},
        item,
    ):
        assert adapter.parse_event(event(payload)) == [Fetch("r-1")]


def test_a_reservation_named_twice_in_one_delivery_is_fetched_once() -> None:
    item = {"Discriminator": "ServiceOrderUpdated", "Value": {"Id": "r-1"}}
    body = {"EnterpriseId": ENTERPRISE, "IntegrationId": INTEGRATION, "Events": [item, item]}
    assert adapter_for("mews").parse_event(event(body)) == [Fetch("r-1")]


def test_an_event_without_the_reservation_id_is_a_payload_error() -> None:
    with pytest.raises(PayloadError, match=r"without Value\.Id"):
        adapter_for("mews").parse_event(event({"Discriminator": "ServiceOrderUpdated", "Value": {}}))


# -- mapping (pure) ------------------------------------------------------------------------------
def test_the_documented_reservation_and_customer_become_a_canonical_reservation() -> None:
    [res] = sample("api/mews/reservations-getall-2023-06-06.json")["Reservations"]
    [customer] = sample("api/mews/customers-getall.json")["Customers"]
    doc = mews.to_canonical(res, customer, ENTERPRISE, "Europe/London")
    assert doc == {
        "provider": "mews",
        "pms_reservation_id": "0f515589-99b4-423d-b83a-b237009f0509",
        "pms_property_id": ENTERPRISE,
        "status": "confirmed",
        # 14:00 UTC is 15:00 in London (summer time) on the same day.
        "arrival_date": "2023-04-23",
        "departure_date": "2023-04-25",
        "pms_updated_at": "2023-04-22T17:00:00Z",
        "adults": None,
        "children": None,
        "room": None,
        "guest": {
            "full_name": "John Smith",
            # The documentation's 00420123456789 is no Czech number in use (none starts with 1):
            # it is dropped rather than messaged; see the next test for a real one.
            "phone": None,
            "email": "j.smith@example.com",
            "language": "en",  # PreferredLanguageCode en-GB
        },
    }


def test_a_phone_written_with_00_becomes_e164() -> None:
    [res] = sample("api/mews/reservations-getall-2023-06-06.json")["Reservations"]
    [customer] = sample("api/mews/customers-getall.json")["Customers"]
    doc = mews.to_canonical(res, customer | {"Phone": "00420 603 123 456"}, ENTERPRISE, "UTC")
    assert doc["guest"]["phone"] == "+420603123456"


def test_the_local_date_is_the_propertys_not_utcs() -> None:
    [res] = sample("api/mews/reservations-getall-2023-06-06.json")["Reservations"]
    late = res | {"ScheduledStartUtc": "2026-12-20T23:30:00Z", "ScheduledEndUtc": "2026-12-22T01:00:00Z"}
    doc = mews.to_canonical(late, None, ENTERPRISE, "Asia/Tokyo")
    assert (doc["arrival_date"], doc["departure_date"]) == ("2026-12-21", "2026-12-22")


@pytest.mark.parametrize(
    ("state", "reason", "expected"),
    [
        ("Confirmed", None, "confirmed"),
        ("Started", None, "checked_in"),
        ("Processed", None, "checked_out"),
        ("Canceled", "RequestedByGuest", "cancelled"),
        ("Canceled", "NoShow", "no_show"),
    ],
)
def test_states_map_to_canonical_statuses(state: str, reason: str | None, expected: str) -> None:
    [res] = sample("api/mews/reservations-getall-2023-06-06.json")["Reservations"]
    doc = mews.to_canonical(res | {"State": state, "CancellationReason": reason}, None, ENTERPRISE, "UTC")
    assert doc["status"] == expected


@pytest.mark.parametrize("state", ["Inquired", "Optional", "Requested"])
def test_inquiries_and_options_are_not_bookings(state: str) -> None:
    [res] = sample("api/mews/reservations-getall-2023-06-06.json")["Reservations"]
    with pytest.raises(mapping.NotABooking):
        mews.to_canonical(res | {"State": state}, None, ENTERPRISE, "UTC")


# -- against the simulator and the database --------------------------------------------------------
@pytest.fixture
async def pms() -> AsyncIterator[MewsSimulator]:
    async with MewsSimulator(timezones={ENTERPRISE: "Europe/Berlin"}, limit=Rate(200, 30.0)) as sim:
        yield sim


@pytest.fixture
def tenant(factory: Factory) -> Tenant:
    return factory.tenant(timezone="Europe/Berlin", pms_property_id=ENTERPRISE)


def connect(db: Any, tenant: Tenant, pms: MewsSimulator, **columns: Any) -> str:
    # A cursor already: the tests below start from webhooks, not from the first full sync.
    columns.setdefault("sync_cursor", NOW - dt.timedelta(minutes=5))
    return configure(
        db, tenant.id, "mews", pms.base_url, CREDENTIALS, external_account_id=ENTERPRISE, auth_scheme="token", **columns
    )


def delivery(ids: list[str]) -> dict[str, Any]:
    events: list[dict[str, Any]] = [{"Discriminator": "ServiceOrderUpdated", "Value": {"Id": i}} for i in ids]
    events.append({"Discriminator": "CustomerUpdated", "Value": {"Id": str(uuid.uuid4())}})
    return {"EnterpriseId": ENTERPRISE, "IntegrationId": INTEGRATION, "Events": events}


def store_delivery(db: Any, tenant: Tenant, body: dict[str, Any], request_id: str) -> list[InboundEvent]:
    """One inbound event per element of the delivery, each stored as a batch of one, as the
    pms-webhook function stores them (supabase/functions/pms-webhook/providers.ts)."""
    stored = []
    for item in body["Events"]:
        payload = {"EnterpriseId": body["EnterpriseId"], "IntegrationId": body["IntegrationId"], "Events": [item]}
        row = store_event(db, tenant.id, "mews", item["Discriminator"], payload, request_id=request_id)
        if row is not None:
            stored.append(row)
    return stored


async def test_the_sample_webhook_ends_as_a_reservation_with_its_message_planned(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: MewsSimulator, tenant: Tenant
) -> None:
    body = sample("webhooks/mews/general-webhook.json")
    pms.put(booking(1, id="bfee2c44-1f84-4326-a862-5289598f6e2d", first_name="Jana", language="de-DE"))
    connect(db, tenant, pms)
    add_booking_confirmation(db, tenant.id)

    outcomes = [apply_event(db, e) for e in store_delivery(db, tenant, body, "req-mews")]
    assert outcomes[0] == ["fetch:bfee2c44-1f84-4326-a862-5289598f6e2d"]
    assert await drain(pool, http, fast_registry()) == 1

    stored = reservations(db)["bfee2c44-1f84-4326-a862-5289598f6e2d"]
    assert (stored["status"], stored["full_name"], stored["phone_e164"], stored["language"]) == (
        "confirmed",
        "Jana Mews1",
        "+4915000000001",
        "de",
    )
    assert stored["last_request_id"] == "req-mews"
    [message] = planned_messages(db)
    assert (message["template_key"], message["language"], message["status"]) == (
        "booking_confirmation",
        "de",
        "scheduled",
    )
    assert message["request_id"] == "req-mews"


async def test_a_batch_of_200_events_costs_a_few_api_calls_and_duplicates_change_nothing(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: MewsSimulator, tenant: Tenant
) -> None:
    bookings = [booking(n) for n in range(200)]
    pms.put(*bookings)
    connect(db, tenant, pms)
    body = delivery([b.id for b in bookings])

    for stored in store_delivery(db, tenant, body, "req-batch"):
        apply_event(db, stored)
    assert len([j for j in jobs(db) if j["status"] == "pending"]) == 200
    runs = await drain(pool, http, fast_registry())

    assert len(reservations(db)) == 200
    # Each run fetched its reservation plus up to 100 waiting ones: reservations + customers per run.
    assert runs == 2
    assert len(pms.log) == 4
    merged_into = {j["id"] for j in jobs(db) if j["status"] == "succeeded"}
    for job in jobs(db):
        if job["status"] != "succeeded":
            assert job["status"] == "cancelled"
            assert job["error"].removeprefix("merged into sync job ") in merged_into
    assert sum(j["created_count"] for j in jobs(db)) == 200

    # Mews delivers the same batch again: stored once already, nothing new happens.
    assert store_delivery(db, tenant, body, "req-again") == []
    assert await drain(pool, http, fast_registry()) == 0


async def test_out_of_order_events_end_on_the_pms_current_state(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: MewsSimulator, tenant: Tenant
) -> None:
    first = booking(7, modified=NOW - dt.timedelta(minutes=30))
    pms.put(first)
    connect(db, tenant, pms)
    settings = SyncSettings(merge_limit=0)
    # The cancellation's event is processed first, then the older creation's (retried late).
    pms.touch(first.id, at=NOW - dt.timedelta(minutes=10), status="cancelled")
    later = store_delivery(db, tenant, delivery([first.id]) | {"IntegrationId": "x"}, "req-cancel")
    apply_event(db, later[0])
    await drain(pool, http, fast_registry(), settings=settings)
    earlier = store_delivery(db, tenant, delivery([first.id]), "req-create")
    apply_event(db, earlier[0])
    await drain(pool, http, fast_registry(), settings=settings)

    stored = reservations(db)[first.id]
    assert stored["status"] == "cancelled"
    assert [j["unchanged_count"] for j in jobs(db)] == [0, 1]


async def test_a_full_sync_pages_with_the_cursor_in_windows_of_at_most_three_months(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: MewsSimulator, tenant: Tenant
) -> None:
    # 1,100 bookings modified in the last month (more than one page of 1,000 in the newest window)
    # and 60 over the year before: windows of at most 3 months, the newest read in two pages.
    pms.put(*(booking(n, modified=NOW - dt.timedelta(days=n // 40, seconds=n)) for n in range(1100)))
    pms.put(*(booking(n, modified=NOW - dt.timedelta(days=40 + 5 * (n - 1100))) for n in range(1100, 1160)))
    config = connect(db, tenant, pms, sync_cursor=None)
    db.execute("select internal.enqueue_sync_v1(%s, 'full', 'manual')", (config,))
    await drain(pool, http, fast_registry(), settings=SyncSettings(full_lookback=dt.timedelta(days=400)))

    job = jobs(db)[-1]
    assert (job["status"], job["created_count"], job["failed_count"]) == ("succeeded", 1160, 0)
    windows = [r.body["UpdatedUtc"] for r in pms.requests("reservations") if r.status == 200]
    assert all(
        dt.datetime.fromisoformat(w["EndUtc"]) - dt.datetime.fromisoformat(w["StartUtc"]) <= dt.timedelta(days=92)
        for w in windows
    )
    assert any(r.body["Limitation"].get("Cursor") for r in pms.requests("reservations"))
    assert configuration(db, config)["health"] == "ok"


async def test_the_access_token_limit_is_respected_when_mews_throttles(
    db: Any, pool: Any, http: httpx.AsyncClient, tenant: Tenant
) -> None:
    async with MewsSimulator(timezones={ENTERPRISE: "Europe/Berlin"}, limit=Rate(2, 1.0)) as tight:
        tight.put(*(booking(n, modified=NOW - dt.timedelta(days=100 * (n % 3), seconds=n)) for n in range(30)))
        config = connect(db, tenant, tight, sync_cursor=None)
        db.execute("select internal.enqueue_sync_v1(%s, 'full', 'manual')", (config,))
        await drain(pool, http, fast_registry(), settings=SyncSettings(full_lookback=dt.timedelta(days=365)))
    assert jobs(db)[-1]["status"] == "succeeded"
    assert len(reservations(db)) == 30
    log = tight.log
    throttled = [i for i, r in enumerate(log) if r.status == 429]
    assert throttled, "the simulator's limit was never reached"
    for i in throttled:
        assert log[i + 1].at - log[i].at >= 1.0  # Retry-After: 1


async def test_a_wrong_access_token_marks_the_configuration_failing(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: MewsSimulator, tenant: Tenant
) -> None:
    pms.put(booking(1))
    config = connect(db, tenant, pms)
    pms.revoke(CREDENTIALS["access_token"])
    db.execute("select internal.enqueue_sync_v1(%s, 'reservation', 'webhook', %s)", (config, booking(1).id))
    await drain(pool, http, fast_registry())
    [job] = jobs(db)
    assert job["status"] == "failed"
    assert job["error"].startswith("mews rejected the credentials (401)")
    assert configuration(db, config)["health"] == "failing"
    assert len(pms.log) == 1
