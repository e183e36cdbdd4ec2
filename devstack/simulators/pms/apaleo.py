"""Apaleo: the identity server's client-credentials grant and the booking API's reservations.

    POST /connect/token   grant_type=client_credentials&client_id=&client_secret=
                          -> {access_token, expires_in, token_type}; 400 invalid_client
    GET  /booking/v1/reservations/{id}[?expand=booker]
    GET  /booking/v1/reservations?dateFilter=Modification&from=&to=&propertyIds=&pageNumber=&pageSize=
                          -> {reservations, count}; 204 when nothing matches

Bearer tokens only; a token of a revoked client gets 401. `arrival`/`departure` are the
property's check-in (15:00) and check-out (11:00) times with its UTC offset, as Apaleo sends them.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from devstack.simulators.pms.base import BODY, Booking, Handler, PmsSimulator, Rate, iso_z, local_instant

STATUS = {
    "confirmed": "Confirmed",
    "checked_in": "InHouse",
    "checked_out": "CheckedOut",
    "cancelled": "Canceled",
    "no_show": "NoShow",
}
MAX_PAGE_SIZE = 1000


def render(booking: Booking, timezone: str) -> dict[str, Any]:
    arrival = local_instant(booking.arrival, dt.time(15), timezone)
    departure = local_instant(booking.departure, dt.time(11), timezone)
    guest: dict[str, Any] = {"firstName": booking.first_name, "lastName": booking.last_name}
    if booking.email:
        guest["email"] = booking.email
    if booking.phone:
        guest["phone"] = booking.phone
    if booking.language:
        guest["preferredLanguage"] = booking.language[:2].lower()
    if booking.country:
        guest["address"] = {"addressLine1": "Somewhere 1", "city": "Berlin", "countryCode": booking.country}
    body: dict[str, Any] = {
        "id": booking.id,
        "bookingId": booking.id.split("-")[0],
        "status": booking.vendor_status or STATUS[booking.status],
        "property": {"id": booking.property_id, "code": booking.property_id, "name": "Hotel"},
        "ratePlan": {"id": f"{booking.property_id}-NONREF-SGL", "code": "NONREF", "name": "Non Refundable"},
        "unitGroup": {"id": f"{booking.property_id}-DBL", "code": "DBL", "name": "Double", "type": "BedRoom"},
        "totalGrossAmount": {"amount": 240.0, "currency": "EUR"},
        "arrival": arrival.isoformat(),
        "departure": departure.isoformat(),
        "created": iso_z(booking.created or booking.modified),
        "modified": iso_z(booking.modified),
        "adults": booking.adults,
        "childrenAges": [8] * booking.children,
        "channelCode": "Direct",
        "primaryGuest": guest,
        "booker": {"firstName": booking.first_name, "lastName": booking.last_name, "email": booking.email},
        "guaranteeType": "Prepayment",
        "balance": {"amount": 0.0, "currency": "EUR"},
        "allFoliosHaveInvoice": False,
        "hasCityTax": False,
        "isPreCheckedIn": False,
        "isOpenForCharges": True,
    }
    if booking.room:
        body["unit"] = {"id": f"{booking.property_id}-{booking.room}", "name": booking.room}
    return body


class ApaleoSimulator(PmsSimulator):
    vendor = "apaleo"

    def __init__(
        self,
        clients: Mapping[str, str] | None = None,
        *,
        timezones: Mapping[str, str] | None = None,
        token_lifetime: int = 3600,
        latency: float = 0.0,
        limit: Rate | None = None,
    ) -> None:
        super().__init__(latency=latency, limit=limit)
        self.clients = dict(clients or {"client-id": "client-secret"})
        self.timezones = dict(timezones or {})
        self.token_lifetime = token_lifetime
        self.tokens: dict[str, str] = {}  # access token -> client id

    def timezone_of(self, booking: Booking) -> str:
        return self.timezones.get(booking.property_id, "Europe/Berlin")

    def routes(self) -> Iterable[tuple[str, str, Handler]]:
        return [
            ("POST", "/connect/token", self._token),
            ("GET", "/booking/v1/reservations/{id}", self._get_one),
            ("GET", "/booking/v1/reservations", self._list),
        ]

    def credential_of(self, request: web.Request, body: Any) -> str | None:
        if request.path == "/connect/token":
            return body.get("client_id") if isinstance(body, Mapping) else None
        header = request.headers.get("Authorization", "")
        return self.tokens.get(header[7:]) if header.startswith("Bearer ") else None

    def known_credential(self, credential: str) -> bool:
        return credential in self.clients

    def unauthorized(self, request: web.Request, message: str) -> web.StreamResponse:
        if request.path == "/connect/token":
            return web.json_response({"error": "invalid_client"}, status=400)
        return web.Response(status=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})

    def limited(self, request: web.Request) -> bool:
        return request.path != "/connect/token"

    async def _token(self, request: web.Request) -> web.StreamResponse:
        form = request[BODY]
        assert isinstance(form, Mapping)
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if self.clients.get(str(form.get("client_id"))) != form.get("client_secret"):
            return web.json_response({"error": "invalid_client"}, status=400)
        token = secrets.token_urlsafe(24)
        self.tokens[token] = str(form["client_id"])
        return web.json_response({"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"})

    async def _get_one(self, request: web.Request) -> web.StreamResponse:
        booking = self.bookings.get(request.match_info["id"])
        if booking is None:
            return web.json_response({"messages": ["Reservation not found"]}, status=404)
        return web.json_response(render(booking, self.timezone_of(booking)))

    async def _list(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        if query.get("dateFilter") != "Modification":
            return web.json_response({"messages": ["this simulator lists by dateFilter=Modification"]}, status=400)
        try:
            since = dt.datetime.fromisoformat(query["from"].replace("Z", "+00:00"))
            until = dt.datetime.fromisoformat(query["to"].replace("Z", "+00:00"))
            page = int(query.get("pageNumber", "1"))
            size = int(query.get("pageSize", "100"))
        except (KeyError, ValueError):
            return web.json_response({"messages": ["from, to, pageNumber and pageSize must be valid"]}, status=400)
        if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
            return web.json_response({"messages": ["pageNumber/pageSize out of range"]}, status=400)
        self.page_served(request.path)
        properties = set(query["propertyIds"].split(",")) if query.get("propertyIds") else None
        found = [b for b in self.modified_between(since, until) if properties is None or b.property_id in properties]
        chunk = found[(page - 1) * size : page * size]
        if not chunk:
            return web.Response(status=204)
        return web.json_response({"reservations": [render(b, self.timezone_of(b)) for b in chunk], "count": len(found)})
