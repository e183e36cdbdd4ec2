"""The generic provider: a PMS (or middleware) that speaks our own documented contract.

Webhooks (Standard Webhooks signed, stored by the pms-webhook function with
event_type = body.type, event_id = the `webhook-id` header and payload = the whole body):

    {"type": "reservation.created" | "reservation.updated" | "reservation.cancelled",
     "timestamp": "2026-11-26T10:00:00Z",
     "data": <canonical reservation, shared/schemas/canonical-reservation.schema.json>}

The event carries the whole reservation, so it becomes one Upsert.

REST API (for syncs; documented in docs/pms/README.md, simulated by
devstack/simulators/pms/generic.py), `Authorization: Bearer <api_key>`:

    GET {base}/reservations/{id}
        200 <canonical reservation> | 404
    GET {base}/reservations?modified_from=<ISO>&modified_to=<ISO>&page=<1..>&page_size=<1..500>
        200 {"data": [<canonical reservation>...], "page": n, "page_size": m, "total": N}
        modified_from inclusive, modified_to exclusive, ordered by (pms_updated_at, pms_reservation_id)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from worker.errors import ConfigurationError, PayloadError
from worker.pms import mapping
from worker.pms.base import CanonicalReservation, EventAction, Ignore, InboundEvent, Page, PmsConnection, Upsert
from worker.pms.http import RetryPolicy, VendorApi, credential
from worker.pms.paging import Chunk, offset_pages
from worker.pms.ratelimit import LIMITERS, LimiterRegistry, Rate

PROVIDER = "generic"
EVENT_TYPES = frozenset({"reservation.created", "reservation.updated", "reservation.cancelled"})
PAGE_SIZE = 200


def canonical_from(data: Any) -> CanonicalReservation:
    """A generic reservation as sent by the PMS: validated, provider filled in if left out."""
    if not isinstance(data, Mapping):
        raise PayloadError("the reservation ('data') must be a JSON object")
    doc = dict(data)
    doc.setdefault("provider", PROVIDER)
    if doc["provider"] != PROVIDER:
        raise PayloadError(f"a generic webhook cannot carry a {doc['provider']!r} reservation")
    return mapping.validate_canonical(doc)


class GenericAdapter:
    provider = PROVIDER

    def __init__(self, *, policy: RetryPolicy | None = None, limiters: LimiterRegistry | None = None) -> None:
        # Our own contract: no published limit, so a polite 20 requests/s per key.
        self.api = VendorApi(PROVIDER, [Rate(20, 1.0)], policy=policy or RetryPolicy(), limiters=limiters or LIMITERS)

    def parse_event(self, event: InboundEvent) -> list[EventAction]:
        payload = event.payload
        if not isinstance(payload, Mapping):
            raise PayloadError("a generic webhook body must be a JSON object")
        event_type = payload.get("type", event.event_type)
        if event_type not in EVENT_TYPES:
            return [Ignore(f"generic event type {event_type!r} is not a reservation change")]
        reservation = canonical_from(payload.get("data"))
        if event_type == "reservation.cancelled" and reservation["status"] not in ("cancelled", "no_show"):
            raise PayloadError(f"reservation.cancelled carries status {reservation['status']!r}")
        return [Upsert(reservation)]

    # -- API -----------------------------------------------------------------------------------
    def _base(self, conn: PmsConnection) -> str:
        if not conn.api_base_url:
            raise ConfigurationError("the generic PMS has no API base URL (set api_base_url to sync)")
        return conn.api_base_url.rstrip("/")

    def _auth(self, conn: PmsConnection) -> tuple[str, dict[str, str]]:
        key = credential(conn.credentials, "api_key", provider=PROVIDER)
        return key, {"authorization": f"Bearer {key}", "accept": "application/json"}

    async def fetch_reservation(
        self, http: httpx.AsyncClient, conn: PmsConnection, pms_reservation_id: str
    ) -> CanonicalReservation:
        key, headers = self._auth(conn)
        body = await self.api.call(
            http,
            "GET",
            f"{self._base(conn)}/reservations/{quote(pms_reservation_id, safe='')}",
            credential=key,
            headers=headers,
            what=f"GET reservation {pms_reservation_id}",
        )
        return canonical_from(body)

    async def list_modified(
        self, http: httpx.AsyncClient, conn: PmsConnection, since: dt.datetime, until: dt.datetime
    ) -> AsyncIterator[Page]:
        key, headers = self._auth(conn)
        url = f"{self._base(conn)}/reservations"

        async def fetch(offset: int) -> Chunk:
            body = await self.api.call(
                http,
                "GET",
                url,
                credential=key,
                headers=headers,
                params={
                    "modified_from": mapping.iso_utc(since),
                    "modified_to": mapping.iso_utc(until),
                    "page": offset // PAGE_SIZE + 1,
                    "page_size": PAGE_SIZE,
                },
                what="GET reservations",
            )
            if not isinstance(body, Mapping) or not isinstance(body.get("data"), list):
                raise PayloadError("generic GET /reservations: expected {data: [...], total}")
            total = body.get("total")
            return Chunk(body["data"], total if isinstance(total, int) else None)

        async for items in offset_pages(fetch, PAGE_SIZE):
            if not items:
                continue
            page = Page(reservations=[])
            for item in items:
                try:
                    page.reservations.append(canonical_from(item))
                except PayloadError as exc:
                    ident = item.get("pms_reservation_id") if isinstance(item, Mapping) else None
                    page.failures.append((str(ident or "?"), str(exc)))
            yield page
