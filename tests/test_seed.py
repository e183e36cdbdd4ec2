"""The demo data a newcomer explores must load on a freshly migrated database."""

from __future__ import annotations

from typing import Any

import psycopg

from devstack import paths


def test_seed_loads_a_usable_demo_tenant(db: psycopg.Connection[Any]) -> None:
    db.execute(paths.SEED_FILE.read_text().encode())
    tenant = db.execute("select name, webhook_key from public.tenants order by id").fetchall()
    assert tenant == [
        ("Demo Hotel Group", "demo-hotel-webhook-key"),
        ("Second Hotel Group", "second-hotel-webhook-key"),
    ], "the demo hotel, and a second one to see isolation by hand"
    context = db.execute(
        "select auth_scheme, cardinality(secrets) from internal.webhook_auth_context_v1('pms', 'generic', %s)",
        ("demo-hotel-webhook-key",),
    ).fetchall()
    assert context == [("standard_webhooks", 1)], "the demo PMS can sign webhooks"
    waha = db.execute(
        "select api_key, session_status from internal.waha_connection_v1('d1000000-0000-4000-8000-000000000001')"
    ).fetchall()
    assert waha == [("demo-waha-api-key", "STOPPED")], "linked through waha-session, not assumed"
    rules = db.execute("select count(*) from public.automation_rules where is_active").fetchone()
    assert rules == (5,)
