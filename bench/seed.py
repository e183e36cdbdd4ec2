"""Benchmark data, made set-based through the product's own tables and functions.

Every benchmark gets tenants of its own (names prefixed with the benchmark's), so benchmarks
sharing one database do not see each other's work; `reset` empties the queues between them.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import psycopg

PMS_SECRET = "whsec_" + base64.b64encode(b"benchmark-pms-webhook-secret-32b").decode()
WAHA_API_KEY = "bench-waha-api-key"
PROPERTY = "BENCH"

Conn = psycopg.Connection[Any]


@dataclass(frozen=True)
class BenchTenant:
    id: str
    webhook_key: str
    session_name: str


def tenants(
    conn: Conn,
    prefix: str,
    count: int,
    *,
    waha_base_url: str | None = None,
    send_gap_ms: tuple[int, int] = (0, 0),
    rules: bool = False,
    pms_secret: bool = False,
) -> list[BenchTenant]:
    """`count` tenants with a property without quiet hours (a benchmark must not depend on the
    time of day it runs), a generic PMS configuration, and optionally a WORKING WhatsApp session
    at `waha_base_url` (session `<prefix>-<n>`), message rules and the PMS webhook secret."""
    rows = conn.execute(
        """
        with made as (
          insert into public.tenants (name)
          select format('%%s %%s', %(prefix)s::text, i) from generate_series(1, %(count)s) i
          returning id, webhook_key, name
        ), props as (
          insert into public.properties (tenant_id, name, timezone, pms_property_id,
                                         quiet_hours_start, quiet_hours_end)
          select id, name || ' Main', 'Europe/Berlin', %(property)s, '00:00', '00:00' from made
        )
        select id::text, webhook_key, (regexp_match(name, '(\\d+)$'))[1]::int as n from made order by n
        """,
        {"prefix": prefix, "count": count, "property": PROPERTY},
    ).fetchall()
    made = [BenchTenant(id=r[0], webhook_key=r[1], session_name=f"{prefix}-{r[2]:05d}") for r in rows]
    ids = [t.id for t in made]
    conn.execute(
        "insert into public.pms_configurations (tenant_id, provider, auth_scheme)"
        " select t, 'generic', 'standard_webhooks' from unnest(%s::uuid[]) t",
        (ids,),
    )
    if pms_secret:
        conn.execute(
            "select public.set_pms_webhook_secret(c.id, %s) from public.pms_configurations c"
            " where c.tenant_id = any(%s::uuid[])",
            (PMS_SECRET, ids),
        )
    if waha_base_url is not None:
        conn.execute(
            "insert into public.waha_configurations"
            " (tenant_id, base_url, session_name, session_status, send_gap_min_ms, send_gap_max_ms)"
            " select t, %s, s, 'WORKING', %s, %s from unnest(%s::uuid[], %s::text[]) as x (t, s)",
            (waha_base_url, send_gap_ms[0], send_gap_ms[1], ids, [t.session_name for t in made]),
        )
        conn.execute(
            "select public.set_waha_api_key(w.id, %s) from public.waha_configurations w"
            " where w.tenant_id = any(%s::uuid[])",
            (WAHA_API_KEY, ids),
        )
    if rules:
        # What a hotel typically has: a confirmation on booking and a note three days ahead.
        conn.execute(
            """
            insert into public.message_templates (tenant_id, key, language, body)
            select t, k, 'en', b from unnest(%(ids)s::uuid[]) t,
              (values
                ('booking_confirmation', 'Dear {{guest_name}}, your {{nights}} nights at {{property_name}} are booked'),
                ('pre_arrival', 'See you on {{arrival_date}}, {{guest_first_name}}: check-in from {{check_in_time}}.'))
              as v (k, b)
            """,
            {"ids": ids},
        )
        conn.execute(
            """
            insert into public.automation_rules (tenant_id, name, trigger, offset_days, send_at_local, template_key)
            select t, n, g::public.automation_trigger, o, s::time, k from unnest(%(ids)s::uuid[]) t,
              (values ('Confirmation', 'booking_confirmed', 0, null, 'booking_confirmation'),
                      ('Pre-arrival', 'before_arrival', 3, '10:00', 'pre_arrival')) as v (n, g, o, s, k)
            """,
            {"ids": ids},
        )
    return made


def reservation_event(pms_id: str, phone_serial: int, now: dt.datetime | None = None) -> dict[str, Any]:
    """A generic provider's `reservation.created` webhook body: the full canonical reservation,
    arriving in a month, the guest with a phone number of their own."""
    at = now or dt.datetime.now(dt.UTC)
    arrival = (at + dt.timedelta(days=30)).date()
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "type": "reservation.created",
        "timestamp": stamp,
        "data": {
            "provider": "generic",
            "pms_reservation_id": pms_id,
            "pms_property_id": PROPERTY,
            "status": "confirmed",
            "arrival_date": arrival.isoformat(),
            "departure_date": (arrival + dt.timedelta(days=3)).isoformat(),
            "pms_updated_at": stamp,
            "adults": 2,
            "children": 0,
            "room": "204",
            "guest": {
                "full_name": f"Guest {phone_serial}",
                "phone": guest_phone(phone_serial),
                "email": f"guest{phone_serial}@example.com",
                "language": "en",
            },
        },
    }


def guest_phone(serial: int) -> str:
    """A valid German mobile number, distinct for each serial below 10^8."""
    return f"+49151{serial % 100_000_000:08d}"


def ingest(
    conn: Conn,
    tenant: BenchTenant,
    events: list[tuple[str, dict[str, Any]]],
    request_id: str | None,
    *,
    source: str = "pms",
    provider: str = "generic",
    type_key: str = "type",
) -> None:
    """Stores events exactly as the webhook functions do (ingest_inbound_events_v1)."""
    batch = [{"event_id": eid, "event_type": body[type_key], "payload": body} for eid, body in events]
    conn.execute(
        "select count(*) from internal.ingest_inbound_events_v1(%s, %s::public.event_source, %s, %s::jsonb, %s)",
        (tenant.id, source, provider, json.dumps(batch), request_id),
    )


def reset(conn: Conn) -> None:
    """Removes every tenant and what hangs off it, so the next benchmark starts from empty queues."""
    conn.execute("truncate public.tenants restart identity cascade")
