"""Cloudbeds API v1.2: getReservation and getReservations (page numbers, modifiedFrom/To).

    GET /api/v1.2/getReservation?reservationID=&propertyID=
        -> {success: true, data: {...}} | {success: false, message: "Reservation not found"}
    GET /api/v1.2/getReservations?propertyID=&modifiedFrom=&modifiedTo=&pageNumber=&pageSize=&includeGuestsDetails=
        -> {success: true, data: [...], count, total}

`x-api-key: <key>` (or `Authorization: Bearer <token>`); 401 otherwise. Times are
"YYYY-MM-DD HH:MM:SS" in UTC; pageSize at most 100. Default limit: 5 requests/s per key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from devstack.simulators.pms.base import Booking, Handler, PmsSimulator, Rate

STATUS = {
    "confirmed": "confirmed",
    "checked_in": "checked_in",
    "checked_out": "checked_out",
    "cancelled": "canceled",
    "no_show": "no_show",
}
MAX_PAGE_SIZE = 100
PREFIX = "/api/v1.2"


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def render(booking: Booking, *, with_guests: bool = True) -> dict[str, Any]:
    guest_id = f"9{abs(hash(booking.id)) % 10**8:08d}"
    body: dict[str, Any] = {
        "propertyID": booking.property_id,
        "reservationID": booking.id,
        "dateCreated": _time(booking.created or booking.modified),
        "dateModified": _time(booking.modified),
        "status": booking.vendor_status or STATUS[booking.status],
        "guestID": guest_id,
        "guestName": f"{booking.first_name} {booking.last_name}",
        "guestEmail": booking.email,
        "startDate": booking.arrival.isoformat(),
        "endDate": booking.departure.isoformat(),
        "adults": str(booking.adults),
        "children": str(booking.children),
        "balance": 0,
        "sourceName": "Website/Booking Engine",
        "source": "Website/Booking Engine",
        "assigned": [{"roomName": booking.room, "roomTypeName": "Double"}] if booking.room else [],
    }
    if with_guests:
        body["guestList"] = {
            guest_id: {
                "guestID": guest_id,
                "guestFirstName": booking.first_name,
                "guestLastName": booking.last_name,
                "guestEmail": booking.email,
                "guestPhone": "",
                "guestCellPhone": booking.phone or "",
                "guestCountry": booking.country,
                "guestLanguage": booking.language[:2].lower() if booking.language else None,
                "isMainGuest": True,
            }
        }
    return body


def _when(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)


class CloudbedsSimulator(PmsSimulator):
    vendor = "cloudbeds"

    def __init__(
        self, api_keys: Iterable[str] = ("cbat_key",), *, latency: float = 0.0, limit: Rate | None = None
    ) -> None:
        super().__init__(latency=latency, limit=limit)
        self.api_keys = set(api_keys)

    @property
    def api_base_url(self) -> str:
        return self.base_url + PREFIX

    def routes(self) -> Iterable[tuple[str, str, Handler]]:
        return [
            ("GET", f"{PREFIX}/getReservation", self._get_one),
            ("GET", f"{PREFIX}/getReservations", self._list),
        ]

    def credential_of(self, request: web.Request, body: Any) -> str | None:
        if request.headers.get("x-api-key"):
            return request.headers["x-api-key"]
        header = request.headers.get("Authorization", "")
        return header[7:] if header.startswith("Bearer ") else None

    def known_credential(self, credential: str) -> bool:
        return credential in self.api_keys

    def unauthorized(self, request: web.Request, message: str) -> web.StreamResponse:
        return web.json_response({"success": False, "message": "Invalid API key or access token"}, status=401)

    async def _get_one(self, request: web.Request) -> web.StreamResponse:
        booking = self.bookings.get(request.query.get("reservationID", ""))
        prop = request.query.get("propertyID")
        if booking is None or (prop and prop != booking.property_id):
            return web.json_response({"success": False, "message": "Reservation not found"})
        return web.json_response({"success": True, "data": render(booking)})

    async def _list(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        try:
            since = _when(query.get("modifiedFrom")) or dt.datetime.min.replace(tzinfo=dt.UTC)
            until = _when(query.get("modifiedTo")) or dt.datetime.max.replace(tzinfo=dt.UTC)
            page = int(query.get("pageNumber", "1"))
            size = int(query.get("pageSize", "100"))
        except ValueError:
            return web.json_response({"success": False, "message": "Invalid parameter format"}, status=400)
        if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
            return web.json_response({"success": False, "message": "pageSize must be 1..100"}, status=400)
        self.page_served(request.path)
        prop = query.get("propertyID")
        # Whole seconds, both ends inclusive.
        found = sorted(
            (
                b
                for b in self.bookings.values()
                if (prop is None or b.property_id == prop) and since <= b.modified.replace(microsecond=0) <= until
            ),
            key=lambda b: (b.modified, b.id),
        )
        chunk = found[(page - 1) * size : page * size]
        with_guests = query.get("includeGuestsDetails") == "true"
        return web.json_response(
            {
                "success": True,
                "data": [render(b, with_guests=with_guests) for b in chunk],
                "count": len(chunk),
                "total": len(found),
            }
        )
