"""Mews Connector API: reservations (ver 2023-06-06) and customers, with cursor pagination.

    POST /api/connector/v1/reservations/getAll/2023-06-06
         {ClientToken, AccessToken, Client, ReservationIds? | UpdatedUtc?: {StartUtc, EndUtc},
          Limitation: {Count, Cursor?}}
    POST /api/connector/v1/customers/getAll
         {ClientToken, AccessToken, Client, CustomerIds, Extent, Limitation}

As documented: every request is a POST with the tokens in the body (401 when they are wrong),
`Limitation.Count` is required (1..1000), an interval longer than 3 months is a 400, and pages
run from the most recent item to older ones, `Cursor` naming the oldest item returned (null
when nothing is left). Default rate limit: 200 requests per AccessToken within 30 seconds.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from devstack.simulators.pms.base import BODY, Booking, Handler, PmsSimulator, Rate, iso_z, local_instant

STATE = {
    "confirmed": "Confirmed",
    "checked_in": "Started",
    "checked_out": "Processed",
    "cancelled": "Canceled",
    "no_show": "Canceled",
}
MAX_COUNT = 1000
MAX_INTERVAL = dt.timedelta(days=92)  # "max length 3 months"
NAMESPACE = uuid.UUID("6f1a5c2e-41b4-4f4b-9a39-3a9d3f0d8e21")


def customer_id(booking: Booking) -> str:
    return str(uuid.uuid5(NAMESPACE, f"customer:{booking.id}"))


def render_reservation(booking: Booking, timezone: str) -> dict[str, Any]:
    start = local_instant(booking.arrival, dt.time(15), timezone)
    end = local_instant(booking.departure, dt.time(11), timezone)
    state = booking.vendor_status or STATE[booking.status]
    return {
        "Id": booking.id,
        "ServiceId": "bd26d8db-86da-4f96-9efc-e5a4654a4a94",
        "AccountId": customer_id(booking),
        "AccountType": "Customer",
        "CreatorProfileId": "3cd637ef-4728-47f9-8fb1-afb900c9cdcf",
        "UpdaterProfileId": "3cd637ef-4728-47f9-8fb1-afb900c9cdcf",
        "BookerId": None,
        "Number": str(abs(hash(booking.id)) % 100000),
        "State": state,
        "Origin": "Connector",
        "CommanderOrigin": None,
        "OriginDetails": None,
        "CreatedUtc": iso_z(booking.created or booking.modified),
        "UpdatedUtc": iso_z(booking.modified),
        "CancelledUtc": iso_z(booking.modified) if state == "Canceled" else None,
        "VoucherId": None,
        "BusinessSegmentId": None,
        "Options": {
            "OwnerCheckedIn": booking.status == "checked_in",
            "AllCompanionsCheckedIn": booking.status == "checked_in",
            "AnyCompanionCheckedIn": booking.status == "checked_in",
            "ConnectorCheckIn": False,
        },
        "RateId": "ed4b660b-19d0-434b-9360-a4de2ea42eda",
        "CreditCardId": None,
        "GroupId": "94843f6f-3be3-481b-a1c7-06458774c3df",
        "RequestedResourceCategoryId": "773d5e42-de1e-43a0-9ce6-f940faf2303f",
        "AssignedResourceId": None,
        "AvailabilityBlockId": None,
        "PartnerCompanyId": None,
        "TravelAgencyId": None,
        "AssignedResourceLocked": False,
        "ChannelNumber": None,
        "ChannelManagerNumber": None,
        "CancellationReason": "NoShow" if booking.status == "no_show" else None,
        "ReleasedUtc": None,
        "StartUtc": iso_z(start),
        "EndUtc": iso_z(end),
        "ScheduledStartUtc": iso_z(start),
        "ActualStartUtc": None,
        "ScheduledEndUtc": iso_z(end),
        "ActualEndUtc": None,
        "Purpose": "Leisure",
        "QrCodeData": None,
        "PersonCounts": [{"AgeCategoryId": "1f67644f-052d-4863-acdf-ae1600c60ca0", "Count": booking.adults}],
    }


def render_customer(booking: Booking) -> dict[str, Any]:
    phone = booking.phone
    return {
        "Id": customer_id(booking),
        "ChainId": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        "Number": str(abs(hash(booking.id)) % 10**9),
        "Title": None,
        "Sex": None,
        "FirstName": booking.first_name,
        "LastName": booking.last_name,
        "SecondLastName": None,
        "NationalityCode": booking.country,
        "PreferredLanguageCode": None,
        "LanguageCode": booking.language,
        "BirthDate": None,
        "BirthPlace": None,
        "Occupation": None,
        "Email": booking.email,
        "HasOtaEmail": False,
        # Mews writes international numbers with 00, as in its documentation's samples.
        "Phone": "00" + phone[1:] if phone and phone.startswith("+") else phone,
        "TaxIdentificationNumber": None,
        "LoyaltyCode": None,
        "AccountingCode": None,
        "BillingCode": None,
        "Notes": "",
        "CarRegistrationNumber": None,
        "DietaryRequirements": None,
        "CreatedUtc": iso_z(booking.created or booking.modified),
        "UpdatedUtc": iso_z(booking.modified),
        "AddressId": None,
        "Classifications": [],
        "Options": [],
        "ItalianDestinationCode": None,
        "ItalianFiscalCode": None,
        "CompanyId": None,
        "MergeTargetId": None,
        "IsActive": True,
        "PreferredSpaceFeatures": [],
        "CreatorProfileId": "3cd637ef-4728-47f9-8fb1-afb900c9cdcf",
        "UpdaterProfileId": "3cd637ef-4728-47f9-8fb1-afb900c9cdcf",
    }


def _bad(message: str) -> web.StreamResponse:
    return web.json_response({"Message": message, "RequestId": str(uuid.uuid4())}, status=400)


def _interval(body: Mapping[str, Any], name: str) -> tuple[dt.datetime, dt.datetime] | web.StreamResponse | None:
    value = body.get(name)
    if value is None:
        return None
    try:
        start = dt.datetime.fromisoformat(str(value["StartUtc"]).replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(str(value["EndUtc"]).replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError):
        return _bad(f"Invalid {name}.")
    if end - start > MAX_INTERVAL:
        return _bad(f"{name} interval exceeds the maximum length of 3 months.")
    return start, end


def _limitation(body: Mapping[str, Any]) -> tuple[int, str | None] | web.StreamResponse:
    limitation = body.get("Limitation")
    if not isinstance(limitation, Mapping) or not isinstance(limitation.get("Count"), int):
        return _bad("Limitation with Count is required.")
    count = limitation["Count"]
    if not 1 <= count <= MAX_COUNT:
        return _bad("Limitation.Count must be between 1 and 1000.")
    cursor = limitation.get("Cursor")
    return count, cursor if isinstance(cursor, str) else None


def _page(items: list[Any], key: str, count: int, cursor: str | None) -> tuple[list[Any], str | None]:
    """Most recent first; after `cursor` (the oldest item of the previous page) come older ones."""
    if cursor is not None:
        ids = [item[key] for item in items]
        items = items[ids.index(cursor) + 1 :] if cursor in ids else []
    chunk = items[:count]
    return chunk, (chunk[-1][key] if chunk else None)


class MewsSimulator(PmsSimulator):
    vendor = "mews"

    def __init__(
        self,
        access_tokens: Iterable[str] = ("mews-access-token",),
        *,
        client_token: str = "mews-client-token",  # noqa: S107 (a test token)
        timezones: Mapping[str, str] | None = None,
        latency: float = 0.0,
        limit: Rate | None = None,
    ) -> None:
        super().__init__(latency=latency, limit=limit)
        self.access_tokens = set(access_tokens)
        self.client_token = client_token
        self.timezone = (list((timezones or {}).values()) or ["Europe/Berlin"])[0]

    def routes(self) -> Iterable[tuple[str, str, Handler]]:
        return [
            ("POST", "/api/connector/v1/reservations/getAll/2023-06-06", self._reservations),
            ("POST", "/api/connector/v1/customers/getAll", self._customers),
        ]

    def credential_of(self, request: web.Request, body: Any) -> str | None:
        if not isinstance(body, Mapping) or body.get("ClientToken") != self.client_token or not body.get("Client"):
            return None
        token = body.get("AccessToken")
        return token if isinstance(token, str) else None

    def known_credential(self, credential: str) -> bool:
        return credential in self.access_tokens

    def unauthorized(self, request: web.Request, message: str) -> web.StreamResponse:
        return web.json_response({"Message": "Invalid access token.", "RequestId": str(uuid.uuid4())}, status=401)

    async def _reservations(self, request: web.Request) -> web.StreamResponse:
        body = request[BODY]
        assert isinstance(body, Mapping)
        limitation = _limitation(body)
        if isinstance(limitation, web.StreamResponse):
            return limitation
        count, cursor = limitation
        updated = _interval(body, "UpdatedUtc")
        if isinstance(updated, web.StreamResponse):
            return updated
        ids = body.get("ReservationIds")
        if ids is not None and (not isinstance(ids, list) or len(ids) > 1000):
            return _bad("ReservationIds must be an array of at most 1000 items.")
        if ids is None and updated is None:
            return _bad("A filter (ReservationIds or a time interval) is required.")
        self.page_served(request.path)
        found = list(self.bookings.values())
        if ids is not None:
            found = [b for b in found if b.id in set(ids)]
        if updated is not None:
            found = [b for b in found if updated[0] <= b.modified < updated[1]]
        found.sort(key=lambda b: (b.modified, b.id), reverse=True)
        rendered = [render_reservation(b, self.timezone) for b in found]
        chunk, next_cursor = _page(rendered, "Id", count, cursor)
        return web.json_response({"Reservations": chunk, "Cursor": next_cursor})

    async def _customers(self, request: web.Request) -> web.StreamResponse:
        body = request[BODY]
        assert isinstance(body, Mapping)
        limitation = _limitation(body)
        if isinstance(limitation, web.StreamResponse):
            return limitation
        count, cursor = limitation
        ids = body.get("CustomerIds")
        if not isinstance(ids, list) or not ids or len(ids) > 1000:
            return _bad("CustomerIds must be an array of 1 to 1000 items.")
        extent = body.get("Extent")
        if not isinstance(extent, Mapping):
            return _bad("Extent is required.")
        wanted = set(ids)
        customers = [render_customer(b) for b in self.bookings.values() if customer_id(b) in wanted]
        customers.sort(key=lambda c: c["Id"], reverse=True)
        chunk, next_cursor = _page(customers, "Id", count, cursor)
        return web.json_response(
            {"Customers": chunk if extent.get("Customers") else [], "Documents": None, "Cursor": next_cursor}
        )
