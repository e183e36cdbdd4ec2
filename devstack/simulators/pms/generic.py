"""The generic provider's REST API (documented in docs/pms/README.md and worker/pms/generic.py).

    GET /reservations/{id}                                            -> canonical reservation
    GET /reservations?modified_from=&modified_to=&page=&page_size=     -> {data, page, page_size, total}

`Authorization: Bearer <api key>`; 401 otherwise. Page numbers start at 1; page_size 1..500.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from devstack.simulators.pms.base import Booking, Handler, PmsSimulator, Rate

MAX_PAGE_SIZE = 500


def canonical(booking: Booking) -> dict[str, Any]:
    return {
        "provider": "generic",
        "pms_reservation_id": booking.id,
        "pms_property_id": booking.property_id,
        "status": booking.status,
        "arrival_date": booking.arrival.isoformat(),
        "departure_date": booking.departure.isoformat(),
        "pms_updated_at": booking.modified.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "adults": booking.adults,
        "children": booking.children,
        "room": booking.room,
        "guest": {
            "full_name": f"{booking.first_name} {booking.last_name}".strip() or None,
            "phone": booking.phone,
            "email": booking.email,
            "language": booking.language[:2].lower() if booking.language else None,
        },
    }


def _instant(value: str | None, name: str) -> dt.datetime:
    if not value:
        raise web.HTTPBadRequest(text=f'{{"message": "{name} is required"}}', content_type="application/json")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise web.HTTPBadRequest(
            text=f'{{"message": "{name} is not an ISO 8601 time"}}', content_type="application/json"
        ) from None
    if parsed.tzinfo is None:
        raise web.HTTPBadRequest(text=f'{{"message": "{name} needs an offset"}}', content_type="application/json")
    return parsed


def _positive(value: str | None, name: str, default: int, maximum: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        number = 0
    if not 1 <= number <= maximum:
        raise web.HTTPBadRequest(text=f'{{"message": "{name} must be 1..{maximum}"}}', content_type="application/json")
    return number


class GenericPmsSimulator(PmsSimulator):
    vendor = "generic"

    def __init__(self, api_keys: Iterable[str] = ("generic-key",), *, latency: float = 0.0, limit: Rate | None = None):
        super().__init__(latency=latency, limit=limit)
        self.api_keys = set(api_keys)

    def routes(self) -> Iterable[tuple[str, str, Handler]]:
        return [
            ("GET", "/reservations/{id}", self._get_one),
            ("GET", "/reservations", self._list),
        ]

    def credential_of(self, request: web.Request, body: Any) -> str | None:
        header = request.headers.get("Authorization", "")
        return header[7:] if header.startswith("Bearer ") else None

    def known_credential(self, credential: str) -> bool:
        return credential in self.api_keys

    async def _get_one(self, request: web.Request) -> web.StreamResponse:
        booking = self.bookings.get(request.match_info["id"])
        if booking is None:
            return web.json_response({"message": "reservation not found"}, status=404)
        return web.json_response(canonical(booking))

    async def _list(self, request: web.Request) -> web.StreamResponse:
        since = _instant(request.query.get("modified_from"), "modified_from")
        until = _instant(request.query.get("modified_to"), "modified_to")
        page = _positive(request.query.get("page"), "page", 1, 1_000_000)
        size = _positive(request.query.get("page_size"), "page_size", 100, MAX_PAGE_SIZE)
        self.page_served(request.path)
        found = self.modified_between(since, until)
        chunk = found[(page - 1) * size : page * size]
        return web.json_response(
            {"data": [canonical(b) for b in chunk], "page": page, "page_size": size, "total": len(found)}
        )
