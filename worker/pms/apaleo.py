"""Apaleo (booking API v1).

Webhooks are thin: `{topic, type, id, accountId, propertyId, timestamp (ms), data: {entityId}}`.
Every Reservation event (created, amended, changed, checked-in, checked-out, canceled,
set-to-no-show, unit-assigned, ...) becomes a Fetch of the reservation `data.entityId`; the
`system/healthcheck` Apaleo sends on subscribing and every few minutes is ignored, as are
topics this product does not use.

API (`https://api.apaleo.com`, OAuth 2.0 bearer token):
    GET /booking/v1/reservations/{id}?expand=booker
    GET /booking/v1/reservations?dateFilter=Modification&from=&to=&propertyIds=&pageNumber=&pageSize=&expand=booker
        -> {"reservations": [...], "count": N}; 204 No Content when nothing matches
Credentials: `client_id` + `client_secret` (a "simple client", client-credentials grant against
identity.apaleo.com, or `token_url` to override), or a ready `access_token` (connect apps).
Limits (apaleo.dev "Rate limiting"): 3,500 requests/min and 100/s per client and account.
"""

from __future__ import annotations

import datetime as dt
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

PROVIDER = "apaleo"
DEFAULT_BASE_URL = "https://api.apaleo.com"
DEFAULT_TOKEN_URL = "https://identity.apaleo.com/connect/token"  # noqa: S105 (a URL, not a secret)
PAGE_SIZE = 200


def to_canonical(res: Mapping[str, Any], timezones: Mapping[str, str]) -> CanonicalReservation:
    """An Apaleo ReservationModel as a canonical reservation."""
    prop = res.get("property") if isinstance(res.get("property"), Mapping) else {}
    property_id = prop.get("id") if isinstance(prop, Mapping) else None
    timezone = timezones.get(str(property_id)) if property_id else None
    primary = res.get("primaryGuest") if isinstance(res.get("primaryGuest"), Mapping) else None
    booker = res.get("booker") if isinstance(res.get("booker"), Mapping) else None
    # The booker stands in for a primary guest without contact data (common for OTA bookings).
    person: Mapping[str, Any] = primary or booker or {}
    contact: Mapping[str, Any] = person if (person.get("phone") or person.get("email") or not booker) else booker
    address = person.get("address") if isinstance(person.get("address"), Mapping) else {}
    region = address.get("countryCode") if isinstance(address, Mapping) else None
    unit = res.get("unit") if isinstance(res.get("unit"), Mapping) else {}
    children = res.get("childrenAges")
    return mapping.canonical(
        provider=PROVIDER,
        pms_reservation_id=res.get("id"),
        pms_property_id=property_id,
        status=mapping.status(mapping.APALEO_STATUS, res.get("status"), "Apaleo"),
        arrival_date=mapping.local_date(res.get("arrival"), timezone, "arrival"),
        departure_date=mapping.local_date(res.get("departure"), timezone, "departure"),
        pms_updated_at=mapping.parse_instant(res.get("modified") or res.get("created"), "modified"),
        guest=mapping.guest(
            mapping.full_name(person.get("firstName"), person.get("lastName")),
            contact.get("phone"),
            contact.get("email"),
            person.get("preferredLanguage") or contact.get("preferredLanguage"),
            region or person.get("nationalityCountryCode"),
        ),
        adults=mapping.count(res.get("adults")),
        children=len(children) if isinstance(children, list) else None,
        room=unit.get("name") if isinstance(unit, Mapping) else None,
    )


class ApaleoAdapter:
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
            [Rate(100, 1.0), Rate(3500, 60.0)],
            default_retry_after=1.0,
            policy=policy or RetryPolicy(),
            limiters=limiters or LIMITERS,
        )
        self.tokens = tokens or TOKENS

    # -- webhooks ------------------------------------------------------------------------------
    def parse_event(self, event: InboundEvent) -> list[EventAction]:
        payload = event.payload
        if not isinstance(payload, Mapping):
            raise PayloadError("an Apaleo webhook body must be a JSON object")
        topic = str(payload.get("topic", "")).lower()
        kind = str(payload.get("type", ""))
        if topic == "system":
            return [Ignore(f"Apaleo system/{kind}")]
        if topic != "reservation":
            return [Ignore(f"Apaleo topic {payload.get('topic')!r} is not about reservations")]
        data = payload.get("data")
        entity = data.get("entityId") if isinstance(data, Mapping) else None
        if not isinstance(entity, str) or not entity:
            raise PayloadError(f"Apaleo reservation/{kind} event without data.entityId")
        return [Fetch(entity)]

    # -- API -----------------------------------------------------------------------------------
    async def _auth(self, http: httpx.AsyncClient, conn: PmsConnection, fresh: bool) -> tuple[str, str]:
        """(limiter key, bearer token)."""
        account = conn.external_account_id or ""
        creds = conn.credentials
        if isinstance(creds.get("client_id"), str) and creds.get("client_id"):
            client_id = credential(creds, "client_id", provider=PROVIDER)
            secret = credential(creds, "client_secret", provider=PROVIDER)
            token_url = str(creds.get("token_url") or DEFAULT_TOKEN_URL)
            if fresh:
                self.tokens.forget(token_url, client_id, secret)
            token = await self.tokens.token(http, self.api, token_url, client_id, secret)
            return f"{client_id}:{account}", token
        token = credential(creds, "access_token", provider=PROVIDER)
        return f"{token[:16]}:{account}", token

    async def _get(
        self, http: httpx.AsyncClient, conn: PmsConnection, path: str, params: Mapping[str, Any], what: str
    ) -> Any:
        base = (conn.api_base_url or DEFAULT_BASE_URL).rstrip("/")
        for fresh in (False, True):
            key, token = await self._auth(http, conn, fresh)
            try:
                return await self.api.call(
                    http,
                    "GET",
                    base + path,
                    credential=key,
                    what=what,
                    headers={"authorization": f"Bearer {token}", "accept": "application/json"},
                    params=params,
                )
            except ConfigurationError:
                # A cached token may have been revoked or expired early: one more try with a new one.
                if fresh or "client_id" not in conn.credentials:
                    raise
        raise AssertionError("unreachable")

    async def fetch_reservation(
        self, http: httpx.AsyncClient, conn: PmsConnection, pms_reservation_id: str
    ) -> CanonicalReservation:
        body = await self._get(
            http,
            conn,
            f"/booking/v1/reservations/{quote(pms_reservation_id, safe='')}",
            {"expand": "booker"},
            f"GET reservation {pms_reservation_id}",
        )
        if not isinstance(body, Mapping):
            raise PayloadError(f"Apaleo reservation {pms_reservation_id}: expected a JSON object")
        return to_canonical(body, conn.property_timezones)

    async def list_modified(
        self, http: httpx.AsyncClient, conn: PmsConnection, since: dt.datetime, until: dt.datetime
    ) -> AsyncIterator[Page]:
        params: dict[str, Any] = {
            "dateFilter": "Modification",
            "from": mapping.iso_utc(since),
            "to": mapping.iso_utc(until),
            "pageSize": PAGE_SIZE,
            "expand": "booker",
        }
        # Only the hotels configured here, when the account has others too.
        if conn.property_timezones:
            params["propertyIds"] = ",".join(sorted(conn.property_timezones))

        async def fetch(offset: int) -> Chunk:
            body = await self._get(
                http,
                conn,
                "/booking/v1/reservations",
                params | {"pageNumber": offset // PAGE_SIZE + 1},
                "GET reservations",
            )
            if body is None:  # 204: no (more) reservations
                return Chunk([], None)
            if not isinstance(body, Mapping) or not isinstance(body.get("reservations"), list):
                raise PayloadError("Apaleo GET reservations: expected {reservations: [...], count}")
            count = body.get("count")
            return Chunk(body["reservations"], count if isinstance(count, int) else None)

        async for items in offset_pages(fetch, PAGE_SIZE):
            page = Page(reservations=[])
            for item in items:
                try:
                    page.reservations.append(to_canonical(item, conn.property_timezones))
                except PayloadError as exc:
                    ident = item.get("id") if isinstance(item, Mapping) else None
                    page.failures.append((str(ident or "?"), str(exc)))
            if items:
                yield page
