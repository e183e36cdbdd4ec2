"""Cloudbeds (API v1.2).

Webhooks carry no event id (the pms-webhook function derives one from the content):
`{version, event: "reservation/created", timestamp (s, fractional), propertyID, reservationID, ...}`.
Cloudbeds spells the ids reservationID/propertyID in some events and reservationId/propertyId
in others. Every `reservation/*` event (created, status_changed, dates_changed,
accommodation_changed, deleted, ...) becomes a Fetch of the reservation; other objects are
ignored.

API (`https://api.cloudbeds.com/api/v1.2`, `x-api-key: <key>` or an OAuth bearer token):
    GET /getReservation?propertyID=&reservationID=                        -> {success, data: {...}}
    GET /getReservations?propertyID=&modifiedFrom=&modifiedTo=&pageNumber=&pageSize=&includeGuestsDetails=true
        -> {success, data: [...], count, total}
Cloudbeds answers some errors with HTTP 200 and `success: false`. Limit: 5 requests/s per key.

Cloudbeds times ("2026-11-26 10:00:00") carry no offset; they are read as UTC. Should an
account report property-local times instead, incremental syncs still miss nothing: their
overlap for Cloudbeds (`incremental_overlap`) covers any UTC offset.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from worker.errors import ConfigurationError, PayloadError
from worker.pms import mapping
from worker.pms.base import CanonicalReservation, EventAction, Fetch, Ignore, InboundEvent, Page, PmsConnection
from worker.pms.http import NotFound, RequestRejected, RetryPolicy, VendorApi
from worker.pms.paging import Chunk, offset_pages
from worker.pms.ratelimit import LIMITERS, LimiterRegistry, Rate

PROVIDER = "cloudbeds"
DEFAULT_BASE_URL = "https://api.cloudbeds.com/api/v1.2"
PAGE_SIZE = 100  # Cloudbeds' maximum


def _cloudbeds_time(value: Any, what: str) -> dt.datetime:
    if isinstance(value, str) and value and "T" not in value and "+" not in value and not value.endswith("Z"):
        value = value.replace(" ", "T") + "+00:00"
    return mapping.parse_instant(value, what)


def _main_guest(res: Mapping[str, Any]) -> Mapping[str, Any]:
    guests = res.get("guestList")
    if isinstance(guests, Mapping):
        listed = [g for g in guests.values() if isinstance(g, Mapping)]
    elif isinstance(guests, list):
        listed = [g for g in guests if isinstance(g, Mapping)]
    else:
        listed = []
    for g in listed:
        if g.get("isMainGuest") in (True, "1", 1, "true"):
            return g
    return listed[0] if listed else {}


def to_canonical(res: Mapping[str, Any], timezones: Mapping[str, str]) -> CanonicalReservation:
    """A Cloudbeds reservation (getReservation data, or a getReservations item with guest details)."""
    guest = _main_guest(res)
    name = mapping.full_name(guest.get("guestFirstName"), guest.get("guestLastName")) or (
        res.get("guestName") if isinstance(res.get("guestName"), str) else None
    )
    assigned = res.get("assigned")
    rooms: list[Any] = assigned if isinstance(assigned, list) else []
    room = next((r.get("roomName") for r in rooms if isinstance(r, Mapping) and r.get("roomName")), None)
    return mapping.canonical(
        provider=PROVIDER,
        pms_reservation_id=res.get("reservationID"),
        pms_property_id=res.get("propertyID"),
        status=mapping.status(mapping.CLOUDBEDS_STATUS, res.get("status"), "Cloudbeds"),
        # startDate/endDate are the property's calendar dates already.
        arrival_date=mapping.local_date(res.get("startDate"), None, "startDate"),
        departure_date=mapping.local_date(res.get("endDate"), None, "endDate"),
        pms_updated_at=_cloudbeds_time(res.get("dateModified") or res.get("dateCreated"), "dateModified"),
        guest=mapping.guest(
            name,
            guest.get("guestCellPhone") or guest.get("guestPhone"),
            guest.get("guestEmail") or res.get("guestEmail"),
            guest.get("guestLanguage"),
            guest.get("guestCountry"),
        ),
        adults=mapping.count(res.get("adults")),
        children=mapping.count(res.get("children")),
        room=room,
    )


class CloudbedsAdapter:
    provider = PROVIDER
    # Offset-free timestamps might be property-local: cover the widest UTC offsets (+14/-12).
    incremental_overlap = dt.timedelta(hours=14)

    def __init__(self, *, policy: RetryPolicy | None = None, limiters: LimiterRegistry | None = None) -> None:
        self.api = VendorApi(
            PROVIDER,
            [Rate(5, 1.0)],
            default_retry_after=1.0,
            policy=policy or RetryPolicy(),
            limiters=limiters or LIMITERS,
        )

    # -- webhooks ------------------------------------------------------------------------------
    def parse_event(self, event: InboundEvent) -> list[EventAction]:
        payload = event.payload
        if not isinstance(payload, Mapping):
            raise PayloadError("a Cloudbeds webhook body must be a JSON object")
        name = str(payload.get("event") or event.event_type)
        if not name.startswith("reservation/"):
            return [Ignore(f"Cloudbeds event {name!r} is not about a reservation")]
        ident = payload.get("reservationID") or payload.get("reservationId")
        if isinstance(ident, int):
            ident = str(ident)
        if not isinstance(ident, str) or not ident:
            raise PayloadError(f"Cloudbeds {name} without reservationID")
        return [Fetch(ident)]

    # -- API -----------------------------------------------------------------------------------
    def _auth(self, conn: PmsConnection) -> tuple[str, dict[str, str]]:
        creds = conn.credentials
        key = creds.get("api_key")
        if isinstance(key, str) and key.strip():
            return key.strip(), {"x-api-key": key.strip(), "accept": "application/json"}
        token = creds.get("access_token")
        if isinstance(token, str) and token.strip():
            return token.strip(), {"authorization": f"Bearer {token.strip()}", "accept": "application/json"}
        raise ConfigurationError("cloudbeds credentials need 'api_key' (or an OAuth 'access_token')")

    def _property_ids(self, conn: PmsConnection) -> list[str]:
        if conn.property_timezones:
            return sorted(conn.property_timezones)
        if conn.external_account_id:
            return [conn.external_account_id]
        raise ConfigurationError("no Cloudbeds property id: set the property's PMS id")

    async def _get(self, http: httpx.AsyncClient, conn: PmsConnection, method: str, params: Mapping[str, Any]) -> Any:
        key, headers = self._auth(conn)
        body = await self.api.call(
            http,
            "GET",
            f"{(conn.api_base_url or DEFAULT_BASE_URL).rstrip('/')}/{method}",
            credential=key,
            what=method,
            headers=headers,
            params=params,
        )
        if not isinstance(body, Mapping):
            raise PayloadError(f"Cloudbeds {method}: expected a JSON object")
        if body.get("success") is False:
            message = str(body.get("message") or "request failed")
            if "not found" in message.lower():
                raise NotFound(f"cloudbeds {method}: {message}")
            if "access" in message.lower() or "auth" in message.lower():
                raise ConfigurationError(f"cloudbeds rejected the credentials on {method}: {message}")
            raise RequestRejected(f"cloudbeds {method}: {message}")
        return body

    async def fetch_reservation(
        self, http: httpx.AsyncClient, conn: PmsConnection, pms_reservation_id: str
    ) -> CanonicalReservation:
        params: dict[str, Any] = {"reservationID": pms_reservation_id}
        ids = self._property_ids(conn)
        if len(ids) == 1:
            params["propertyID"] = ids[0]
        body = await self._get(http, conn, "getReservation", params)
        data = body.get("data")
        if not isinstance(data, Mapping):
            raise NotFound(f"cloudbeds reservation {pms_reservation_id} not found")
        return to_canonical(data, conn.property_timezones)

    async def list_modified(
        self, http: httpx.AsyncClient, conn: PmsConnection, since: dt.datetime, until: dt.datetime
    ) -> AsyncIterator[Page]:
        window = {
            "modifiedFrom": since.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "modifiedTo": until.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "pageSize": PAGE_SIZE,
            "includeGuestsDetails": "true",
        }
        for property_id in self._property_ids(conn):

            async def fetch(offset: int, property_id: str = property_id) -> Chunk:
                body = await self._get(
                    http,
                    conn,
                    "getReservations",
                    window | {"propertyID": property_id, "pageNumber": offset // PAGE_SIZE + 1},
                )
                items = body.get("data")
                if not isinstance(items, list):
                    raise PayloadError("Cloudbeds getReservations: expected data: [...]")
                total = body.get("total")
                return Chunk(items, int(total) if isinstance(total, int | str) and str(total).isdigit() else None)

            async for items in offset_pages(fetch, PAGE_SIZE):
                if not items:
                    continue
                page = Page(reservations=[])
                for item in items:
                    ident = item.get("reservationID") if isinstance(item, Mapping) else None
                    try:
                        if not isinstance(item, Mapping):
                            raise PayloadError("a Cloudbeds reservation must be a JSON object")
                        if "guestList" not in item:
                            # Listed without contact details: the full record has them.
                            page.reservations.append(await self.fetch_reservation(http, conn, str(ident)))
                        else:
                            page.reservations.append(to_canonical(item, conn.property_timezones))
                    except (PayloadError, NotFound) as exc:
                        page.failures.append((str(ident or "?"), str(exc)))
                yield page
