"""Mews (Connector API).

Webhooks ("General Webhooks") batch many events per delivery and carry neither an event id nor
a time: `{EnterpriseId, IntegrationId, Events: [{Discriminator, Value: {Id}}]}`. The pms-webhook
function stores one inbound event per element; this adapter reads either a stored single event
(`{EnterpriseId, IntegrationId, Event: {...}}` or `{Discriminator, Value}`) or a whole delivery.
`ServiceOrderUpdated` (a reservation changed, or was created) becomes a Fetch of `Value.Id`;
other discriminators (resources, messages, customers) are ignored.

API (`https://api.mews.com`, POST with ClientToken, AccessToken and Client in the JSON body):
    /api/connector/v1/reservations/getAll/2023-06-06
        {ReservationIds | UpdatedUtc: {StartUtc, EndUtc} (at most 3 months), Limitation: {Count, Cursor}}
        -> {Reservations: [...], Cursor}
    /api/connector/v1/customers/getAll  {CustomerIds, Extent: {Customers: true}, Limitation} -> {Customers, Cursor}
Limits (Mews "Environments"): 200 requests per AccessToken within 30 seconds.

A reservation's `EnterpriseId` is not part of the 2023-06-06 reservation, so the configuration's
`external_account_id` (the enterprise id) names the property; with a single property per
tenant it may be left empty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx

from worker.errors import PayloadError
from worker.pms import mapping
from worker.pms.base import CanonicalReservation, EventAction, Fetch, Ignore, InboundEvent, Page, PmsConnection
from worker.pms.http import NotFound, RetryPolicy, VendorApi, credential
from worker.pms.ratelimit import LIMITERS, LimiterRegistry, Rate

PROVIDER = "mews"
DEFAULT_BASE_URL = "https://api.mews.com"
DEFAULT_CLIENT = "HotelWhatsApp 1.0"
RESERVATIONS = "/api/connector/v1/reservations/getAll/2023-06-06"
CUSTOMERS = "/api/connector/v1/customers/getAll"
PAGE_SIZE = 1000  # Mews' maximum Limitation.Count
MAX_IDS = 1000  # ReservationIds / CustomerIds per request
# "max length 3 months": windows of 89 days stay inside it whatever the months' lengths.
MAX_WINDOW = dt.timedelta(days=89)


def _events(payload: Mapping[str, Any]) -> list[Any]:
    if isinstance(payload.get("Events"), list):
        return list(payload["Events"])
    if isinstance(payload.get("Event"), Mapping):
        return [payload["Event"]]
    if "Discriminator" in payload:
        return [payload]
    raise PayloadError("a Mews webhook needs Events, Event or Discriminator")


def to_canonical(
    res: Mapping[str, Any], customer: Mapping[str, Any] | None, property_id: str | None, timezone: str | None
) -> CanonicalReservation:
    """A Mews reservation (2023-06-06) and its owner as a canonical reservation."""
    state = res.get("State")
    if state in mapping.MEWS_UNBOOKED:
        raise mapping.NotABooking(f"Mews reservation {res.get('Id')} is {state}")
    if state == "Canceled" and res.get("CancellationReason") == "NoShow":
        status = "no_show"
    else:
        status = mapping.status(mapping.MEWS_STATUS, state, "Mews")
    who: Mapping[str, Any] = customer or {}
    return mapping.canonical(
        provider=PROVIDER,
        pms_reservation_id=res.get("Id"),
        pms_property_id=property_id,
        status=status,
        # Mews times are UTC instants; the guest's calendar day is the property's.
        arrival_date=mapping.local_date(res.get("ScheduledStartUtc") or res.get("StartUtc"), timezone, "arrival"),
        departure_date=mapping.local_date(res.get("ScheduledEndUtc") or res.get("EndUtc"), timezone, "departure"),
        pms_updated_at=mapping.parse_instant(res.get("UpdatedUtc"), "UpdatedUtc"),
        guest=mapping.guest(
            mapping.full_name(who.get("FirstName"), who.get("LastName")),
            who.get("Phone"),
            who.get("Email"),
            who.get("PreferredLanguageCode") or who.get("LanguageCode"),
            who.get("NationalityCode"),
        ),
        # PersonCounts are per age category, which only the enterprise's configuration explains.
        adults=None,
        children=None,
        room=None,
    )


class MewsAdapter:
    provider = PROVIDER

    def __init__(self, *, policy: RetryPolicy | None = None, limiters: LimiterRegistry | None = None) -> None:
        self.api = VendorApi(
            PROVIDER,
            [Rate(200, 30.0)],
            default_retry_after=30.0,
            policy=policy or RetryPolicy(),
            limiters=limiters or LIMITERS,
        )

    # -- webhooks ------------------------------------------------------------------------------
    def parse_event(self, event: InboundEvent) -> list[EventAction]:
        payload = event.payload
        if not isinstance(payload, Mapping):
            raise PayloadError("a Mews webhook body must be a JSON object")
        actions: list[EventAction] = []
        seen: set[str] = set()
        for item in _events(payload):
            if not isinstance(item, Mapping):
                raise PayloadError("a Mews event must be a JSON object")
            kind = item.get("Discriminator")
            value = item.get("Value")
            ident = value.get("Id") if isinstance(value, Mapping) else None
            if kind != "ServiceOrderUpdated":
                actions.append(Ignore(f"Mews {kind} is not a reservation change"))
                continue
            if not isinstance(ident, str) or not ident:
                raise PayloadError("Mews ServiceOrderUpdated without Value.Id")
            if ident not in seen:
                seen.add(ident)
                actions.append(Fetch(ident))
        return actions

    # -- API -----------------------------------------------------------------------------------
    def _auth(self, conn: PmsConnection) -> dict[str, str]:
        creds = conn.credentials
        return {
            "ClientToken": credential(creds, "client_token", provider=PROVIDER),
            "AccessToken": credential(creds, "access_token", provider=PROVIDER),
            "Client": str(creds.get("client") or DEFAULT_CLIENT),
        }

    async def _post(
        self, http: httpx.AsyncClient, conn: PmsConnection, path: str, body: Mapping[str, Any], what: str
    ) -> Mapping[str, Any]:
        auth = self._auth(conn)
        answer = await self.api.call(
            http,
            "POST",
            (conn.api_base_url or DEFAULT_BASE_URL).rstrip("/") + path,
            credential=auth["AccessToken"],
            what=what,
            headers={"accept": "application/json"},
            json_body=auth | dict(body),
        )
        if not isinstance(answer, Mapping):
            raise PayloadError(f"Mews {what}: expected a JSON object")
        return answer

    def _property(self, conn: PmsConnection) -> tuple[str | None, str | None]:
        """(pms_property_id, time zone) of this configuration's enterprise."""
        enterprise = conn.external_account_id
        if enterprise:
            return enterprise, conn.property_timezones.get(enterprise)
        if len(conn.property_timezones) == 1:
            [(only, timezone)] = conn.property_timezones.items()
            return only, timezone
        return None, None

    async def _customers(
        self, http: httpx.AsyncClient, conn: PmsConnection, ids: Sequence[str]
    ) -> dict[str, Mapping[str, Any]]:
        found: dict[str, Mapping[str, Any]] = {}
        unique = sorted(set(ids))
        for start in range(0, len(unique), MAX_IDS):
            cursor: str | None = None
            while True:
                limitation: dict[str, Any] = {"Count": PAGE_SIZE}
                if cursor:
                    limitation["Cursor"] = cursor
                body = await self._post(
                    http,
                    conn,
                    CUSTOMERS,
                    {
                        "CustomerIds": unique[start : start + MAX_IDS],
                        "Extent": {"Customers": True, "Addresses": False},
                        "Limitation": limitation,
                    },
                    "customers/getAll",
                )
                customers = body.get("Customers") or []
                for customer in customers:
                    if isinstance(customer, Mapping) and isinstance(customer.get("Id"), str):
                        found[customer["Id"]] = customer
                cursor = body.get("Cursor") if isinstance(body.get("Cursor"), str) else None
                if cursor is None or len(customers) < PAGE_SIZE:
                    break
        return found

    async def _page(self, http: httpx.AsyncClient, conn: PmsConnection, items: list[Any]) -> Page:
        owners = [
            r["AccountId"]
            for r in items
            if isinstance(r, Mapping)
            and isinstance(r.get("AccountId"), str)
            and r.get("AccountType", "Customer") == "Customer"
        ]
        customers = await self._customers(http, conn, owners) if owners else {}
        property_id, timezone = self._property(conn)
        page = Page(reservations=[])
        for item in items:
            ident = item.get("Id") if isinstance(item, Mapping) else None
            try:
                if not isinstance(item, Mapping):
                    raise PayloadError("a Mews reservation must be a JSON object")
                owner = customers.get(str(item.get("AccountId")))
                page.reservations.append(to_canonical(item, owner, property_id, timezone))
            except mapping.NotABooking:
                continue
            except PayloadError as exc:
                page.failures.append((str(ident or "?"), str(exc)))
        return page

    async def fetch_reservations(
        self, http: httpx.AsyncClient, conn: PmsConnection, pms_reservation_ids: Sequence[str]
    ) -> Page:
        wanted = list(dict.fromkeys(pms_reservation_ids))
        items: list[Any] = []
        for start in range(0, len(wanted), MAX_IDS):
            chunk = wanted[start : start + MAX_IDS]
            body = await self._post(
                http,
                conn,
                RESERVATIONS,
                {"ReservationIds": chunk, "Limitation": {"Count": len(chunk)}},
                "reservations/getAll",
            )
            items.extend(body.get("Reservations") or [])
        page = await self._page(http, conn, items)
        returned = {str(r.get("Id")) for r in items if isinstance(r, Mapping)}
        page.failures.extend((i, f"Mews reservation {i} not found") for i in wanted if i not in returned)
        return page

    async def fetch_reservation(
        self, http: httpx.AsyncClient, conn: PmsConnection, pms_reservation_id: str
    ) -> CanonicalReservation:
        body = await self._post(
            http,
            conn,
            RESERVATIONS,
            {"ReservationIds": [pms_reservation_id], "Limitation": {"Count": 1}},
            "reservations/getAll",
        )
        items = [r for r in body.get("Reservations") or [] if isinstance(r, Mapping)]
        if not items:
            raise NotFound(f"Mews reservation {pms_reservation_id} not found")
        customers = await self._customers(http, conn, [str(items[0].get("AccountId"))])
        property_id, timezone = self._property(conn)
        return to_canonical(items[0], customers.get(str(items[0].get("AccountId"))), property_id, timezone)

    async def list_modified(
        self, http: httpx.AsyncClient, conn: PmsConnection, since: dt.datetime, until: dt.datetime
    ) -> AsyncIterator[Page]:
        start = since
        while start < until:
            end = min(start + MAX_WINDOW, until)
            cursor: str | None = None
            while True:
                limitation: dict[str, Any] = {"Count": PAGE_SIZE}
                if cursor:
                    limitation["Cursor"] = cursor
                body = await self._post(
                    http,
                    conn,
                    RESERVATIONS,
                    {
                        "UpdatedUtc": {"StartUtc": mapping.iso_utc(start), "EndUtc": mapping.iso_utc(end)},
                        "Limitation": limitation,
                    },
                    "reservations/getAll",
                )
                items = body.get("Reservations")
                if not isinstance(items, list):
                    raise PayloadError("Mews reservations/getAll: expected Reservations")
                if items:
                    yield await self._page(http, conn, items)
                cursor = body.get("Cursor") if isinstance(body.get("Cursor"), str) else None
                if cursor is None or len(items) < PAGE_SIZE:
                    break
            start = end
