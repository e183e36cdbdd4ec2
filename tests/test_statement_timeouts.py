"""The dashboard's reads and every tenant RPC finish inside hosted Supabase's statement timeout.

Hosted projects give the `authenticated` role an 8 s statement timeout (anon 3 s): a query
over it is cancelled and the dashboard shows an error. This seeds a busy hotel (100,000
messages and 100,000 webhook events over 90 days, 2,000 sync runs) among twenty smaller ones,
then makes each call the dashboard makes as that hotel's owner, with the timeout set as hosted
sets it, and checks the answer too. The Data API stand-in applies the same role timeouts; here
the calls go straight to PostgreSQL, as PostgREST would make them.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.factories import Factory, Tenant

BUSY_MESSAGES = 100_000
BUSY_EVENTS = 100_000
BUSY_SYNCS = 2_000
OTHER_TENANTS = 20
OTHER_ROWS = 5_000
TIMEOUT = "8s"  # hosted Supabase's statement_timeout for the authenticated role

# Statuses in realistic proportions; times spread over 90 days, one row a minute or so.
_SEED_MESSAGES = """
insert into public.message_logs (tenant_id, template_key, dedupe_key, to_phone, body, status, scheduled_for,
  next_attempt_at, attempts, waha_message_id, last_error, sent_at, delivered_at, read_at, created_at, updated_at)
select %(tenant)s, 'booking_confirmation', 'seed:' || g, '+4915112345678', 'Hello', s.status::public.message_status,
       c.at, c.at, case when s.status in ('failed', 'dead') then 3 else 0 end,
       case when s.status in ('sent', 'delivered', 'read') then 'true_' || g || '@c.us_SEED' end,
       case when s.status in ('failed', 'dead') then 'WAHA answered 500' end,
       case when s.status in ('sent', 'delivered', 'read') then c.at + interval '1 minute' end,
       case when s.status in ('delivered', 'read') then c.at + interval '2 minutes' end,
       case when s.status = 'read' then c.at + interval '1 hour' end,
       c.at, c.at + interval '1 hour'
from generate_series(1, %(n)s) g
cross join lateral (select now() - (g::bigint * 129600 / %(n)s) * interval '1 minute' as at) c
cross join lateral (
  select case when g %% 100 < 60 then 'read' when g %% 100 < 85 then 'delivered' when g %% 100 < 92 then 'sent'
              when g %% 100 < 95 then 'failed' when g %% 100 < 97 then 'dead' when g %% 100 < 99 then 'queued'
              else 'cancelled' end as status
) s
"""

_SEED_EVENTS = """
insert into public.inbound_events (tenant_id, source, provider, event_id, event_type, payload, status, attempts,
  received_at, processed_at, updated_at, last_error)
select %(tenant)s, 'pms', 'generic', 'seed-' || g, 'reservation.updated', '{"type": "reservation.updated"}'::jsonb,
       s.status::public.inbound_event_status, case when s.status = 'dead' then 10 else 1 end,
       c.at, case when s.status in ('succeeded', 'ignored', 'dead') then c.at end, c.at,
       case when s.status = 'dead' then 'the PMS answered 500' end
from generate_series(1, %(n)s) g
cross join lateral (select now() - (g::bigint * 129600 / %(n)s) * interval '1 minute' as at) c
cross join lateral (
  select case when g %% 100 < 95 then 'succeeded' when g %% 100 < 98 then 'ignored' else 'dead' end as status
) s
"""

_SEED_SYNCS = """
insert into public.sync_jobs (tenant_id, pms_configuration_id, kind, trigger, status, attempts, requested_at,
  started_at, finished_at, updated_at, pages, updated_count, failed_count, error)
select %(tenant)s, %(configuration)s, 'incremental', 'schedule',
       case when g %% 50 = 0 then 'failed' else 'succeeded' end::public.sync_status, 1,
       c.at, c.at, c.at + interval '20 seconds', c.at + interval '20 seconds', 1, 3,
       case when g %% 50 = 0 then 1 else 0 end, case when g %% 50 = 0 then 'PMS timeout' end
from generate_series(1, %(n)s) g
cross join lateral (select now() - (g::bigint * 129600 / %(n)s) * interval '1 minute' as at) c
"""


@dataclass
class BusyHotel:
    tenant: Tenant
    owner: uuid.UUID
    pms_configuration: uuid.UUID
    waha_configuration: uuid.UUID


@pytest.fixture(scope="module")
def busy(database_url: str) -> Iterator[tuple[str, BusyHotel]]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("truncate public.tenants, auth.users restart identity cascade")
        factory = Factory(conn)
        for i in range(OTHER_TENANTS):
            other = factory.tenant(f"Hotel {i:02}")
            conn.execute(_SEED_MESSAGES, {"tenant": other.id, "n": OTHER_ROWS})
            conn.execute(_SEED_EVENTS, {"tenant": other.id, "n": OTHER_ROWS})
        tenant = factory.tenant("Grand Hotel")
        pms = factory.pms_configuration(tenant)
        waha = factory.waha_configuration(tenant)
        conn.execute(_SEED_MESSAGES, {"tenant": tenant.id, "n": BUSY_MESSAGES})
        conn.execute(_SEED_EVENTS, {"tenant": tenant.id, "n": BUSY_EVENTS})
        conn.execute(_SEED_SYNCS, {"tenant": tenant.id, "configuration": pms, "n": BUSY_SYNCS})
        conn.execute("analyze public.message_logs, public.inbound_events, public.sync_jobs, public.tenants")
        owner = factory.member(tenant, "owner")
        yield database_url, BusyHotel(tenant, owner, pms, waha)
        conn.execute("truncate public.tenants, auth.users restart identity cascade")


def as_owner(url: str, hotel: BusyHotel, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One call as PostgREST makes it for the owner, under the authenticated role's timeout.

    A call over the timeout raises QueryCanceled, which fails the test."""
    claims = {"sub": str(hotel.owner), "role": "authenticated", "aud": "authenticated"}
    with (
        psycopg.connect(url) as conn,
        conn.transaction(force_rollback=True),
        conn.cursor(row_factory=dict_row) as cur,
    ):
        cur.execute("set local role authenticated")
        cur.execute(f"set local statement_timeout = '{TIMEOUT}'")
        cur.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
        cur.execute(sql, params or {})
        return cur.fetchall() if cur.description else []


def superuser_one(url: str, sql: str, params: dict[str, Any]) -> Any:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql, params).fetchone()
        assert row is not None
        return row[0]


@pytest.mark.slow
@pytest.mark.parametrize("days", [1, 30, 90])
def test_tenant_metrics_over_a_window(busy: tuple[str, BusyHotel], days: int) -> None:
    url, hotel = busy
    window = {"since": f"{days} days"}
    rows = as_owner(url, hotel, "select * from metrics.tenant_metrics(now() - %(since)s::interval, now())", window)
    assert [r["tenant_id"] for r in rows] == [hotel.tenant.id]  # only the owner's hotel
    expected_sent = superuser_one(
        url,
        "select count(*) from public.message_logs where tenant_id = %(t)s and sent_at >= now() - %(since)s::interval",
        {"t": hotel.tenant.id, **window},
    )
    expected_events = superuser_one(
        url,
        "select count(*) from public.inbound_events where tenant_id = %(t)s"
        " and received_at >= now() - %(since)s::interval",
        {"t": hotel.tenant.id, **window},
    )
    assert expected_sent > 0 and expected_events > 0
    # now() moved on between the two transactions: a row may cross the window's start.
    assert abs(rows[0]["messages_sent"] - expected_sent) <= 2
    assert abs(rows[0]["webhooks_received"] - expected_events) <= 2
    assert rows[0]["syncs_finished"] > 0


@pytest.mark.slow
def test_tenant_metrics_for_one_tenant(busy: tuple[str, BusyHotel]) -> None:
    url, hotel = busy
    rows = as_owner(
        url,
        hotel,
        "select * from metrics.tenant_metrics(now() - interval '90 days', now(), %(t)s)",
        {"t": hotel.tenant.id},
    )
    expected_sent = superuser_one(
        url,
        "select count(*) from public.message_logs where tenant_id = %(t)s and sent_at is not null",
        {"t": hotel.tenant.id},
    )
    assert len(rows) == 1 and rows[0]["messages_sent"] == expected_sent


DASHBOARD_READS = {
    "queue depths": "select * from metrics.queue_depths where tenant_id = %(t)s",
    "WhatsApp sessions": "select * from metrics.waha_sessions where tenant_id = %(t)s",
    "PMS health": "select * from metrics.pms_health where tenant_id = %(t)s",
    "alerts": "select * from metrics.alerts where tenant_id = %(t)s",
    "latest messages": "select * from public.message_logs where tenant_id = %(t)s order by created_at desc limit 50",
    "messages, counted": "select count(*) from public.message_logs where tenant_id = %(t)s",
    "dead messages": "select * from public.message_logs where tenant_id = %(t)s and status = 'dead'"
    " order by updated_at desc limit 50",
    "latest webhooks": "select * from public.inbound_events where tenant_id = %(t)s order by received_at desc limit 50",
    "webhooks, counted": "select count(*) from public.inbound_events where tenant_id = %(t)s",
    "dead webhooks": "select * from public.inbound_events where tenant_id = %(t)s and status = 'dead'"
    " order by updated_at desc limit 50",
    "sync runs": "select * from public.sync_jobs where tenant_id = %(t)s order by requested_at desc limit 50",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DASHBOARD_READS))
def test_dashboard_reads(busy: tuple[str, BusyHotel], name: str) -> None:
    url, hotel = busy
    rows = as_owner(url, hotel, DASHBOARD_READS[name], {"t": hotel.tenant.id})
    if name == "messages, counted":
        assert rows[0]["count"] == BUSY_MESSAGES
    elif name == "webhooks, counted":
        assert rows[0]["count"] == BUSY_EVENTS
    elif name not in {"alerts"}:  # a fresh hotel has no alerts
        assert rows, name


def _dead(url: str, table: str, tenant: Tenant) -> object:
    return superuser_one(
        url, f"select id from public.{table} where tenant_id = %(t)s and status = 'dead' limit 1", {"t": tenant.id}
    )


@pytest.mark.slow
def test_every_tenant_rpc(busy: tuple[str, BusyHotel]) -> None:
    url, hotel = busy
    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    calls: list[tuple[str, dict[str, Any]]] = [
        ("select public.replay_inbound_event(%(id)s) as ok", {"id": _dead(url, "inbound_events", hotel.tenant)}),
        ("select public.resend_message(%(id)s) as ok", {"id": _dead(url, "message_logs", hotel.tenant)}),
        ("select public.request_sync(%(c)s, 'incremental') as ok", {"c": hotel.pms_configuration}),
        ('select public.set_pms_credentials(%(c)s, \'{"api_key": "k"}\') as ok', {"c": hotel.pms_configuration}),
        ("select public.set_pms_webhook_secret(%(c)s, %(s)s) as ok", {"c": hotel.pms_configuration, "s": secret}),
        ("select public.rotate_pms_webhook_secret(%(c)s) as ok", {"c": hotel.pms_configuration}),
        ("select public.set_waha_api_key(%(c)s, 'waha-key') as ok", {"c": hotel.waha_configuration}),
    ]
    for sql, params in calls:
        rows = as_owner(url, hotel, sql, params)
        assert len(rows) == 1, sql
