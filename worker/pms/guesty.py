"""Guesty (Open API).

Webhooks are signed through Svix (Standard Webhooks). `reservation.created.v2` and
`reservation.updated.v2` carry a lean reservation (stay details, no guest contact), the legacy
`reservation.new` / `reservation.updated` the full one; each becomes a Fetch of
`reservation._id`, since the guest's phone and language come from the API either way. Other
events are ignored.

API (`https://open-api.guesty.com/v1`, OAuth 2.0 client credentials, scope `open-api`):
    GET /reservations/{id}?fields=...
    GET /reservations?filters=[{field: lastUpdatedAt, operator: $gte|$lt, value}]&sort=lastUpdatedAt
        &skip=&limit=(max 100)&fields=...      -> {results: [...], count, skip, limit}
Limits: 15 requests/s, 120/min and 5,000/h per client; tokens live 24 h and only a few may be
requested per day, so they are cached (oauth.py).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from worker.errors import ConfigurationError, PayloadError
from worker.pms import mapping
from worker.pms.base import CanonicalReservation, EventAction, Fetch, Ignore, InboundEvent, Page, PmsConnection
from worker.pms.http import RetryPolicy, VendorApi, credential
from worker.pms.oauth import TOKENS, TokenCache
from worker.pms.paging import Chunk, offset_pages
from worker.pms.ratelimit import LIMITERS, LimiterRegistry, Rate

PROVIDER = "guesty"
DEFAULT_BASE_URL = "https://open-api.guesty.com/v1"
DEFAULT_TOKEN_URL = "https://open-api.guesty.com/oauth2/token"  # noqa: S105 (a URL, not a secret)
PAGE_SIZE = 100  # Guesty's maximum limit
RESERVATION_EVENTS = frozenset(
    {"reservation.created.v2", "reservation.updated.v2", "reservation.new", "reservation.updated"}
)
FIELDS = " ".join(
    [
        "_id",
        "status",
        "listingId",
        "checkIn",
        "checkOut",
        "checkInDateLocalized",
        "checkOutDateLocalized",
        "lastUpdatedAt",
        "createdAt",
        "guestsCount",
        "numberOfGuests",
        "guest",
        "listing.timezone",
        "listing.nickname",
    ]
)


def to_canonical(res: Mapping[str, Any], timezones: Mapping[str, str]) -> CanonicalReservation:
    """A Guesty reservation as a canonical reservation; NotABooking for inquiries and requests."""
    status = res.get("status")
    if status in mapping.GUESTY_UNBOOKED:
        raise mapping.NotABooking(f"Guesty reservation {res.get('_id')} is {status}")
    listing_id = res.get("listingId")
    listing = res.get("listing") if isinstance(res.get("listing"), Mapping) else {}
    timezone = timezones.get(str(listing_id)) or (listing.get("timezone") if isinstance(listing, Mapping) else None)
    guest = res.get("guest") if isinstance(res.get("guest"), Mapping) else {}
    assert isinstance(guest, Mapping)
    phones = [p for p in guest.get("phones") or [] if isinstance(p, str)]
    emails = [e for e in guest.get("emails") or [] if isinstance(e, str)]
    counts = res.get("numberOfGuests") if isinstance(res.get("numberOfGuests"), Mapping) else {}
    assert isinstance(counts, Mapping)
    return mapping.canonical(
        provider=PROVIDER,
        pms_reservation_id=res.get("_id"),
        pms_property_id=listing_id,
        status=mapping.status(mapping.GUESTY_STATUS, status, "Guesty"),
        # The *Localized dates are the listing's calendar days; checkIn/checkOut are UTC instants.
        arrival_date=mapping.local_date(res.get("checkInDateLocalized") or res.get("checkIn"), timezone, "checkIn"),
        departure_date=mapping.local_date(
            res.get("checkOutDateLocalized") or res.get("checkOut"), timezone, "checkOut"
        ),
        pms_updated_at=mapping.parse_instant(res.get("lastUpdatedAt") or res.get("createdAt"), "lastUpdatedAt"),
        guest=mapping.guest(
            guest.get("fullName") or mapping.full_name(guest.get("firstName"), guest.get("lastName")),
            guest.get("phone") or (phones[0] if phones else None),
            guest.get("email") or (emails[0] if emails else None),
            guest.get("preferredLanguage") or guest.get("language"),
            (guest.get("address") or {}).get("country") if isinstance(guest.get("address"), Mapping) else None,
        ),
        adults=mapping.count(counts.get("numberOfAdults")) if counts else mapping.count(res.get("guestsCount")),
        children=mapping.count(counts.get("numberOfChildren")) if counts else None,
        room=listing.get("nickname") if isinstance(listing, Mapping) else None,
    )


class GuestyAdapter:
    provider = PROVIDER

    def __init__(
        self,
        *,
        policy: RetryPolicy | None = None,
        limiters: LimiterRegistry | None = None,
        tokens: TokenCache | None = None,
    ) -> None:
        self.api = VendorApi(
            PROVIDER,
            [Rate(15, 1.0), Rate(120, 60.0), Rate(5000, 3600.0)],
            default_retry_after=1.0,
            policy=policy or RetryPolicy(),
            limiters=limiters or LIMITERS,
        )
        self.tokens = tokens or TOKENS

    # -- webhooks ------------------------------------------------------------------------------
    def parse_event(self, event: InboundEvent) -> list[EventAction]:
        payload = event.payload
        if not isinstance(payload, Mapping):
            raise PayloadError("a Guesty webhook body must be a JSON object")
        name = payload.get("event") or event.event_type
        if name not in RESERVATION_EVENTS:
            return [Ignore(f"Guesty event {name!r} is not a reservation change")]
        reservation = payload.get("reservation")
        ident = reservation.get("_id") if isinstance(reservation, Mapping) else None
        if not isinstance(ident, str) or not ident:
            raise PayloadError(f"Guesty {name} without reservation._id")
        return [Fetch(ident)]

    # -- API -----------------------------------------------------------------------------------
    async def _get(
        self, http: httpx.AsyncClient, conn: PmsConnection, path: str, params: Mapping[str, Any], what: str
    ) -> Any:
        creds = conn.credentials
        client_id = credential(creds, "client_id", provider=PROVIDER)
        secret = credential(creds, "client_secret", provider=PROVIDER)
        token_url = str(creds.get("token_url") or DEFAULT_TOKEN_URL)
        base = (conn.api_base_url or DEFAULT_BASE_URL).rstrip("/")
        for fresh in (False, True):
            if fresh:
                self.tokens.forget(token_url, client_id, secret)
            token = await self.tokens.token(http, self.api, token_url, client_id, secret, {"scope": "open-api"})
            try:
                return await self.api.call(
                    http,
                    "GET",
                    base + path,
                    credential=client_id,
                    what=what,
                    headers={"authorization": f"Bearer {token}", "accept": "application/json"},
                    params=params,
                )
            except ConfigurationError:
                if fresh:
                    raise
        raise AssertionError("unreachable")

    async def fetch_reservation(
        self, http: httpx.AsyncClient, conn: PmsConnection, pms_reservation_id: str
    ) -> CanonicalReservation:
        body = await self._get(
            http,
            conn,
            f"/reservations/{quote(pms_reservation_id, safe='')}",
            {"fields": FIELDS},
            f"GET reservation {pms_reservation_id}",
        )
        if not isinstance(body, Mapping):
            raise PayloadError(f"Guesty reservation {pms_reservation_id}: expected a JSON object")
        return to_canonical(body, conn.property_timezones)

    async def list_modified(
        self, http: httpx.AsyncClient, conn: PmsConnection, since: dt.datetime, until: dt.datetime
    ) -> AsyncIterator[Page]:
        filters: list[dict[str, Any]] = [
            {"field": "lastUpdatedAt", "operator": "$gte", "value": mapping.iso_utc(since)},
            {"field": "lastUpdatedAt", "operator": "$lt", "value": mapping.iso_utc(until)},
        ]
        if conn.property_timezones:
            filters.append({"field": "listingId", "operator": "$in", "value": sorted(conn.property_timezones)})

        async def fetch(offset: int) -> Chunk:
            body = await self._get(
                http,
                conn,
                "/reservations",
                {
                    "filters": json.dumps(filters, separators=(",", ":")),
                    "sort": "lastUpdatedAt",
                    "skip": offset,
                    "limit": PAGE_SIZE,
                    "fields": FIELDS,
                },
                "GET reservations",
            )
            if not isinstance(body, Mapping) or not isinstance(body.get("results"), list):
                raise PayloadError("Guesty GET reservations: expected {results: [...], count}")
            count = body.get("count")
            return Chunk(body["results"], count if isinstance(count, int) else None)

        async for items in offset_pages(fetch, PAGE_SIZE):
            if not items:
                continue
            page = Page(reservations=[])
            for item in items:
                try:
                    page.reservations.append(to_canonical(item, conn.property_timezones))
                except mapping.NotABooking:
                    continue
                except PayloadError as exc:
                    ident = item.get("_id") if isinstance(item, Mapping) else None
                    page.failures.append((str(ident or "?"), str(exc)))
            yield page
