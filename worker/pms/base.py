"""The PMS adapter interface.

An adapter turns one vendor's webhook events into actions on canonical reservations
(shared/schemas/canonical-reservation.schema.json) and talks to the vendor's API when a webhook
carries only an id, or when a sync pages through modified reservations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import httpx

CanonicalReservation = dict[str, Any]


@dataclass(frozen=True)
class InboundEvent:
    """A stored `inbound_events` row as the adapter sees it."""

    id: int
    tenant_id: str
    provider: str
    event_id: str
    event_type: str
    payload: Mapping[str, Any]
    request_id: str | None = None


@dataclass(frozen=True)
class Upsert:
    """The event carries the whole reservation."""

    reservation: CanonicalReservation


@dataclass(frozen=True)
class Fetch:
    """The event names a reservation whose current state must be fetched from the PMS."""

    pms_reservation_id: str


@dataclass(frozen=True)
class Ignore:
    """Nothing to do (health checks, topics we do not use); the reason is logged and stored."""

    reason: str


EventAction = Upsert | Fetch | Ignore


@dataclass(frozen=True)
class PmsConnection:
    """What an adapter needs to call the vendor for one tenant (from internal.pms_connection_v1)."""

    pms_configuration_id: str
    tenant_id: str
    provider: str
    api_base_url: str
    external_account_id: str | None
    credentials: Mapping[str, Any]
    # property id at the PMS -> IANA timezone, to turn vendor timestamps into local dates
    property_timezones: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    reservations: list[CanonicalReservation]
    # Reservations of the page the adapter could not map, with the reason (counted as failed).
    failures: list[tuple[str, str]] = field(default_factory=list)


class PmsAdapter(Protocol):
    provider: str

    def parse_event(self, event: InboundEvent) -> list[EventAction]:
        """Pure: what the stored event asks for. Raises PayloadError for malformed payloads."""
        ...

    async def fetch_reservation(
        self, http: httpx.AsyncClient, conn: PmsConnection, pms_reservation_id: str
    ) -> CanonicalReservation:
        """The reservation's current state at the PMS."""
        ...

    def list_modified(
        self, http: httpx.AsyncClient, conn: PmsConnection, since: dt.datetime, until: dt.datetime
    ) -> AsyncIterator[Page]:
        """Reservations modified in [since, until), page by page, in the vendor's pagination."""
        ...


@runtime_checkable
class BatchFetchingAdapter(Protocol):
    """Optional: an adapter whose vendor can fetch many reservations in one request (Mews takes up
    to 1,000 ids), so a burst of thin webhooks costs a few API calls instead of one per event."""

    async def fetch_reservations(
        self, http: httpx.AsyncClient, conn: PmsConnection, pms_reservation_ids: Sequence[str]
    ) -> Page:
        """The current state of these reservations; ids the PMS does not know are failures."""
        ...
