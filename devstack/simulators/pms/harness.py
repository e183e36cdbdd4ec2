"""Helpers the PMS and sync tests share: configure a tenant's PMS, store a webhook the way the
pms-webhook function stores it, apply it the way the worker's inbound processor does, and run
sync jobs until none is due.

The inbound step mirrors worker/inbound/handlers.py (Upsert -> upsert_reservation_v1, Fetch ->
enqueue_sync_v1 'reservation' 'webhook'), so these tests do not need the worker loop.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import httpx
import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from worker.pms import registry as pms_registry
from worker.pms.base import Fetch, Ignore, InboundEvent, Upsert
from worker.pms.http import RetryPolicy
from worker.pms.oauth import TokenCache
from worker.pms.ratelimit import LimiterRegistry
from worker.pms.registry import AdapterRegistry
from worker.sync.runner import SyncSettings, run_next_job

Conn = psycopg.Connection[Any]

# Retries without the production waits, and limiters of its own (no state shared between tests).
FAST_RETRIES = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05)


def fast_registry(policy: RetryPolicy = FAST_RETRIES) -> AdapterRegistry:
    return pms_registry.build_registry(policy=policy, limiters=LimiterRegistry(), tokens=TokenCache())


def configure(
    db: Conn,
    tenant_id: Any,
    provider: str,
    base_url: str | None,
    credentials: Mapping[str, Any] | None,
    **columns: Any,
) -> str:
    """A PMS configuration (columns as given) and its credentials, set as an admin would."""
    values = {"tenant_id": tenant_id, "provider": provider, "api_base_url": base_url, **columns}
    values.setdefault("auth_scheme", "standard_webhooks" if provider in ("generic", "guesty") else "token")
    names = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    row = db.execute(
        f"insert into public.pms_configurations ({names}) values ({marks}) returning id",
        list(values.values()),
    ).fetchone()
    assert row is not None
    config_id = str(row[0])
    if credentials is not None:
        db.execute("select public.set_pms_credentials(%s, %s)", (config_id, Jsonb(dict(credentials))))
    return config_id


def content_event_id(provider: str, payload: Any) -> str:
    """A deterministic event id for vendors that send none (Mews, Cloudbeds)."""
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return f"{provider}:{digest[:40]}"


def store_event(
    db: Conn,
    tenant_id: Any,
    provider: str,
    event_type: str,
    payload: Any,
    *,
    event_id: str | None = None,
    request_id: str = "req-test",
) -> InboundEvent | None:
    """Stores a webhook event as the pms-webhook function does; None when it is a duplicate."""
    ident = event_id or content_event_id(provider, payload)
    row = db.execute(
        "select id, duplicate from internal.ingest_inbound_events_v1(%s, 'pms', %s, %s, %s)",
        (tenant_id, provider, Jsonb([{"event_id": ident, "event_type": event_type, "payload": payload}]), request_id),
    ).fetchone()
    assert row is not None
    if row[1]:
        return None
    stored = db.execute(
        "select id, tenant_id::text, provider, event_id, event_type, payload, request_id"
        " from public.inbound_events where id = %s",
        (row[0],),
    ).fetchone()
    assert stored is not None
    return InboundEvent(*stored)


def apply_event(db: Conn, event: InboundEvent, registry: AdapterRegistry | None = None) -> list[str]:
    """What the inbound processor does with a stored PMS event; returns what happened per action."""
    adapter = (registry or pms_registry.default_registry()).adapter_for(event.provider)
    done: list[str] = []
    for action in adapter.parse_event(event):
        if isinstance(action, Upsert):
            row = db.execute(
                "select outcome from internal.upsert_reservation_v1(%s, %s, %s)",
                (event.tenant_id, Jsonb(action.reservation), event.request_id),
            ).fetchone()
            assert row is not None
            done.append(f"upsert:{row[0]}")
        elif isinstance(action, Fetch):
            config = db.execute(
                "select id from public.pms_configurations where tenant_id = %s and provider::text = %s",
                (event.tenant_id, event.provider),
            ).fetchone()
            assert config is not None, f"tenant has no {event.provider} configuration"
            db.execute(
                "select internal.enqueue_sync_v1(%s, 'reservation', 'webhook', %s, %s)",
                (config[0], action.pms_reservation_id, event.request_id),
            )
            done.append(f"fetch:{action.pms_reservation_id}")
        elif isinstance(action, Ignore):
            done.append(f"ignore:{action.reason}")
    return done


async def drain(
    pool: AsyncConnectionPool[Any],
    http: httpx.AsyncClient,
    registry: AdapterRegistry,
    *,
    settings: SyncSettings | None = None,
    worker: str = "test-worker",
    max_jobs: int = 1000,
) -> int:
    """Runs sync jobs until none is due; the number run."""
    ran = 0
    while ran < max_jobs and await run_next_job(pool, http, worker, settings=settings, registry=registry):
        ran += 1
    return ran


def jobs(db: Conn) -> list[dict[str, Any]]:
    with db.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "select id::text, kind::text, trigger::text, status::text, pms_reservation_id, request_id, pages,"
            " created_count, updated_count, unchanged_count, failed_count, error, cursor_from, cursor_to"
            " from public.sync_jobs order by requested_at, id"
        )
        return list(cur.fetchall())


def configuration(db: Conn, config_id: str) -> dict[str, Any]:
    with db.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "select health::text, consecutive_failures, last_error, last_success_at, sync_cursor,"
            " sync_paused_reason from public.pms_configurations where id = %s",
            (config_id,),
        )
        row = cur.fetchone()
    assert row is not None
    return row


def reservations(db: Conn) -> dict[str, dict[str, Any]]:
    """Stored reservations by PMS id, with their guest."""
    with db.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "select r.pms_reservation_id, r.status::text as status, r.arrival_date, r.departure_date,"
            " r.pms_updated_at, r.adults, r.children, r.room_label, r.last_request_id, r.last_job_id::text,"
            " g.full_name, g.phone_e164, g.email, g.language"
            " from public.reservations r left join public.guests g on g.id = r.guest_id"
        )
        return {row["pms_reservation_id"]: row for row in cur.fetchall()}


def add_booking_confirmation(db: Conn, tenant_id: Any) -> None:
    """A booking-confirmation rule with English and German templates, so a new reservation plans
    a message (the planning itself is the messaging migrations' business)."""
    db.execute(
        "insert into public.message_templates (tenant_id, key, language, body) values"
        " (%s, 'booking_confirmation', 'en', 'Hello {{guest_first_name}}, see you on {{arrival_date}}!'),"
        " (%s, 'booking_confirmation', 'de', 'Hallo {{guest_first_name}}, bis zum {{arrival_date}}!')",
        (tenant_id, tenant_id),
    )
    db.execute(
        "insert into public.automation_rules (tenant_id, name, trigger, template_key)"
        " values (%s, 'Booking confirmation', 'booking_confirmed', 'booking_confirmation')",
        (tenant_id,),
    )


def planned_messages(db: Conn) -> list[dict[str, Any]]:
    with db.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "select r.pms_reservation_id, m.template_key, m.language, m.to_phone, m.status::text as status,"
            " m.request_id, m.job_id::text"
            " from public.message_logs m join public.reservations r on r.id = m.reservation_id"
            " order by r.pms_reservation_id, m.template_key"
        )
        return list(cur.fetchall())
