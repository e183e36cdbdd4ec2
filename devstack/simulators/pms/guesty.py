"""Guesty Open API: the OAuth 2.0 token endpoint and reservations with skip/limit and filters.

    POST /oauth2/token   grant_type=client_credentials&scope=open-api&client_id=&client_secret=
                         -> {token_type, expires_in: 86400, access_token, scope}
    GET  /v1/reservations/{id}?fields=
    GET  /v1/reservations?filters=[{field, operator, value}]&sort=&skip=&limit=(<=100)&fields=
                         -> {results, count, limit, skip}

Filters understood: lastUpdatedAt with $gte/$gt/$lt/$lte, listingId with $in/$eq. Token requests
are counted (`token_requests`): Guesty allows only a few per client per day.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aiohttp import web

from devstack.simulators.pms.base import BODY, Booking, Handler, PmsSimulator, Rate, iso_z, local_instant

STATUS = {
    "confirmed": "confirmed",
    "checked_in": "checked_in",
    "checked_out": "checked_out",
    "cancelled": "canceled",
    "no_show": "canceled",
}
MAX_LIMIT = 100


def render(booking: Booking, timezone: str) -> dict[str, Any]:
    check_in = local_instant(booking.arrival, dt.time(15), timezone)
    check_out = local_instant(booking.departure, dt.time(11), timezone)
    guest: dict[str, Any] = {
        "_id": f"g{abs(hash(booking.id)) % 10**12:012d}",
        "fullName": f"{booking.first_name} {booking.last_name}",
        "firstName": booking.first_name,
        "lastName": booking.last_name,
    }
    if booking.phone:
        guest["phone"] = booking.phone
        guest["phones"] = [booking.phone]
    if booking.email:
        guest["email"] = booking.email
        guest["emails"] = [booking.email]
    if booking.language:
        guest["preferredLanguage"] = booking.language[:2].lower()
    return {
        "_id": booking.id,
        "accountId": "62a8a2be2e53190032102a6e",
        "listingId": booking.property_id,
        "confirmationCode": f"GY-{booking.id[-8:]}",
        "status": booking.vendor_status or STATUS[booking.status],
        "source": "Manual",
        "checkIn": iso_z(check_in),
        "checkOut": iso_z(check_out),
        "checkInDateLocalized": booking.arrival.isoformat(),
        "checkOutDateLocalized": booking.departure.isoformat(),
        "nightsCount": (booking.departure - booking.arrival).days,
        "guestsCount": booking.adults + booking.children,
        "numberOfGuests": {"numberOfAdults": booking.adults, "numberOfChildren": booking.children},
        "createdAt": iso_z(booking.created or booking.modified),
        "lastUpdatedAt": iso_z(booking.modified),
        "guestId": guest["_id"],
        "guest": guest,
        "listing": {"_id": booking.property_id, "timezone": timezone, "nickname": booking.room or "Apartment"},
    }


def _matcher(flt: Mapping[str, Any]) -> Callable[[Booking], bool]:
    field, operator, value = flt.get("field"), flt.get("operator"), flt.get("value")
    if field == "lastUpdatedAt":
        when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        compare: dict[str, Callable[[dt.datetime], bool]] = {
            "$gte": lambda m: m >= when,
            "$gt": lambda m: m > when,
            "$lt": lambda m: m < when,
            "$lte": lambda m: m <= when,
        }
        test = compare[str(operator)]
        # Guesty keeps milliseconds.
        return lambda b: test(b.modified.replace(microsecond=b.modified.microsecond // 1000 * 1000))
    if field == "listingId" and operator == "$in" and isinstance(value, list):
        return lambda b: b.property_id in value
    if field == "listingId" and operator == "$eq":
        return lambda b: b.property_id == value
    raise ValueError(f"unsupported filter {field} {operator}")


class GuestySimulator(PmsSimulator):
    vendor = "guesty"

    def __init__(
        self,
        clients: Mapping[str, str] | None = None,
        *,
        timezones: Mapping[str, str] | None = None,
        latency: float = 0.0,
        limit: Rate | None = None,
    ) -> None:
        super().__init__(latency=latency, limit=limit)
        self.clients = dict(clients or {"guesty-client": "guesty-secret"})
        self.timezones = dict(timezones or {})
        self.tokens: dict[str, str] = {}
        self.token_requests = 0

    def timezone_of(self, booking: Booking) -> str:
        return self.timezones.get(booking.property_id, "Europe/Berlin")

    def routes(self) -> Iterable[tuple[str, str, Handler]]:
        return [
            ("POST", "/oauth2/token", self._token),
            ("GET", "/v1/reservations/{id}", self._get_one),
            ("GET", "/v1/reservations", self._list),
        ]

    def credential_of(self, request: web.Request, body: Any) -> str | None:
        if request.path == "/oauth2/token":
            return body.get("client_id") if isinstance(body, Mapping) else None
        header = request.headers.get("Authorization", "")
        return self.tokens.get(header[7:]) if header.startswith("Bearer ") else None

    def known_credential(self, credential: str) -> bool:
        return credential in self.clients

    def unauthorized(self, request: web.Request, message: str) -> web.StreamResponse:
        if request.path == "/oauth2/token":
            return web.json_response({"error": "invalid_client", "error_description": message}, status=401)
        return web.json_response({"error": {"code": "UNAUTHORIZED", "message": "Unauthorized"}}, status=401)

    async def _token(self, request: web.Request) -> web.StreamResponse:
        self.token_requests += 1
        form = request[BODY]
        assert isinstance(form, Mapping)
        if form.get("grant_type") != "client_credentials" or form.get("scope") != "open-api":
            return web.json_response({"error": "invalid_request"}, status=400)
        if self.clients.get(str(form.get("client_id"))) != form.get("client_secret"):
            return web.json_response({"error": "invalid_client"}, status=401)
        token = secrets.token_urlsafe(32)
        self.tokens[token] = str(form["client_id"])
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 86400, "access_token": token, "scope": "open-api"}
        )

    async def _get_one(self, request: web.Request) -> web.StreamResponse:
        booking = self.bookings.get(request.match_info["id"])
        if booking is None:
            return web.json_response({"error": {"code": "NOT_FOUND", "message": "Reservation not found"}}, status=404)
        return web.json_response(render(booking, self.timezone_of(booking)))

    async def _list(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        try:
            filters = json.loads(query.get("filters", "[]"))
            matchers = [_matcher(f) for f in filters]
            skip = int(query.get("skip", "0"))
            limit = int(query.get("limit", "25"))
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response({"error": {"code": "BAD_REQUEST", "message": str(exc)}}, status=400)
        if skip < 0 or not 1 <= limit <= MAX_LIMIT:
            return web.json_response({"error": {"code": "BAD_REQUEST", "message": "limit is 1..100"}}, status=400)
        self.page_served(request.path)
        found = sorted(
            (b for b in self.bookings.values() if all(m(b) for m in matchers)),
            key=lambda b: (b.modified, b.id),
        )
        chunk = found[skip : skip + limit]
        return web.json_response(
            {
                "results": [render(b, self.timezone_of(b)) for b in chunk],
                "count": len(found),
                "limit": limit,
                "skip": skip,
            }
        )
