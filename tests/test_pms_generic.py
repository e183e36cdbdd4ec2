"""The generic provider: its webhooks carry the whole canonical reservation."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from worker.errors import PayloadError
from worker.pms import registry
from worker.pms.base import Ignore, InboundEvent, Upsert

SAMPLES = Path(__file__).resolve().parents[1] / "shared" / "samples"


def sample_reservation() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / "api" / "generic" / "reservation.json").read_text())
    return data


def event(body: Any, event_type: str = "reservation.created") -> InboundEvent:
    return InboundEvent(
        id=1,
        tenant_id="10000000-0000-0000-0000-000000000001",
        provider="generic",
        event_id="msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
        event_type=event_type,
        payload=body,
        request_id="req-1",
    )


def webhook(event_type: str, data: Any) -> dict[str, Any]:
    return {"type": event_type, "timestamp": "2026-11-26T10:00:01Z", "data": data}


@pytest.mark.parametrize("event_type", ["reservation.created", "reservation.updated"])
def test_a_reservation_event_becomes_one_upsert_of_its_data(event_type: str) -> None:
    data = sample_reservation()
    actions = registry.adapter_for("generic").parse_event(event(webhook(event_type, data), event_type))
    assert actions == [Upsert(data)]


def test_a_cancellation_upserts_the_cancelled_reservation() -> None:
    data = sample_reservation() | {"status": "cancelled"}
    actions = registry.adapter_for("generic").parse_event(event(webhook("reservation.cancelled", data)))
    assert actions == [Upsert(data)]


def test_a_cancellation_that_is_not_cancelled_is_refused() -> None:
    body = webhook("reservation.cancelled", sample_reservation())
    with pytest.raises(PayloadError, match=r"reservation\.cancelled carries status 'confirmed'"):
        registry.adapter_for("generic").parse_event(event(body))


def test_the_provider_may_be_left_out_but_not_be_another_vendor() -> None:
    data = sample_reservation()
    del data["provider"]
    [action] = registry.adapter_for("generic").parse_event(event(webhook("reservation.updated", data)))
    assert isinstance(action, Upsert)
    assert action.reservation["provider"] == "generic"
    with pytest.raises(PayloadError, match="cannot carry a 'apaleo' reservation"):
        registry.adapter_for("generic").parse_event(
            event(webhook("reservation.updated", data | {"provider": "apaleo"}))
        )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": "booked"}, r"status: 'booked' is not one of"),
        ({"arrival_date": "20.12.2026"}, r"arrival_date: '20\.12\.2026' does not match"),
        ({"arrival_date": "2026-02-30"}, r"day is out of range"),
        ({"departure_date": "2026-12-19"}, r"departure 2026-12-19 is before arrival 2026-12-20"),
        ({"pms_updated_at": "2026-11-26 10:00"}, r"pms_updated_at"),
        ({"guest": {"phone": "0151 1234567"}}, r"guest/phone"),
        ({"nights": 3}, r"Additional properties are not allowed \('nights' was unexpected\)"),
    ],
)
def test_data_that_is_not_a_canonical_reservation_is_a_payload_error(change: dict[str, Any], reason: str) -> None:
    data = sample_reservation() | change
    with pytest.raises(PayloadError, match=reason):
        registry.adapter_for("generic").parse_event(event(webhook("reservation.created", data)))


def test_missing_data_is_a_payload_error() -> None:
    with pytest.raises(PayloadError, match="must be a JSON object"):
        registry.adapter_for("generic").parse_event(event({"type": "reservation.created"}))


def test_other_event_types_are_ignored_with_a_reason() -> None:
    [action] = registry.adapter_for("generic").parse_event(event({"type": "invoice.paid", "data": {}}, "invoice.paid"))
    assert action == Ignore("generic event type 'invoice.paid' is not a reservation change")


def test_parsing_leaves_the_stored_payload_untouched() -> None:
    body = webhook("reservation.updated", {k: v for k, v in sample_reservation().items() if k != "provider"})
    before = copy.deepcopy(body)
    registry.adapter_for("generic").parse_event(event(body))
    assert body == before


def test_a_stored_generic_event_ends_up_as_the_reservation(db: Any, factory: Any) -> None:
    from psycopg.types.json import Jsonb

    tenant = factory.tenant(timezone="Europe/Berlin", pms_property_id="PROP-1")
    factory.pms_configuration(tenant, provider="generic")
    body = webhook("reservation.created", sample_reservation())
    db.execute(
        "select * from internal.ingest_inbound_events_v1(%s, 'pms', 'generic', %s, 'req-e2e')",
        (tenant.id, Jsonb([{"event_id": "msg_1", "event_type": body["type"], "payload": body}])),
    )
    row = db.execute(
        "select id, tenant_id::text, provider, event_id, event_type, payload, request_id from public.inbound_events"
    ).fetchone()
    stored = InboundEvent(*row)

    [action] = registry.adapter_for(stored.provider).parse_event(stored)
    assert isinstance(action, Upsert)
    outcome = db.execute(
        "select outcome from internal.upsert_reservation_v1(%s, %s, %s)",
        (tenant.id, Jsonb(action.reservation), stored.request_id),
    ).fetchone()
    assert outcome == ("created",)

    reservation = db.execute(
        "select r.status::text, r.arrival_date::text, r.departure_date::text, r.room_label, r.last_request_id,"
        " g.full_name, g.phone_e164, g.language"
        " from public.reservations r join public.guests g on g.id = r.guest_id"
        " where r.pms_reservation_id = 'GEN-10042'"
    ).fetchone()
    assert reservation == (
        "confirmed",
        "2026-12-20",
        "2026-12-23",
        "204",
        "req-e2e",
        "Ada Lovelace",
        "+4915112345678",
        "de",
    )


def test_the_ingress_sample_is_understood() -> None:
    body = json.loads((SAMPLES / "webhooks" / "generic" / "reservation-created.json").read_text())
    [action] = registry.adapter_for("generic").parse_event(event(body))
    assert isinstance(action, Upsert)
    assert action.reservation == body["data"]
