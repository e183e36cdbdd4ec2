"""search_reservations on a large tenant: every kind of search is answered from indexes.

The Data API cancels a signed-in user's statement after 8 seconds. A search that reads a whole
tenant's reservations, guests or messages would get there on a large hotel group, so this test
builds one (60,000 reservations, their guests and 120,000 messages, beside a small tenant) and
checks, from PostgreSQL's own table statistics, that no search scans any of those tables
sequentially. Speed itself is measured by `make bench`, not here.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg

from tests.factories import Factory

Conn = psycopg.Connection[Any]
ROWS = 60_000
TABLES = ("reservations", "guests", "message_logs")

SEED = """
-- Bulk data: no planning triggers, no FK checks.
set session_replication_role = replica;
insert into public.guests (id, tenant_id, full_name, phone_e164)
select ('00000000-0000-4000-800' || %(key)s || '-' || lpad(n::text, 12, '0'))::uuid, %(tenant)s,
       'Guest' || n || ' ' || (array['Smith', 'Jones', 'Meyer', 'Rossi', 'Dubois'])[n %% 5 + 1],
       '+49151' || lpad(n::text, 8, '0')
from generate_series(1, %(rows)s) n;
insert into public.reservations (tenant_id, property_id, guest_id, provider, pms_reservation_id, status,
                                 arrival_date, departure_date, pms_updated_at)
select %(tenant)s, %(property)s,
       ('00000000-0000-4000-800' || %(key)s || '-' || lpad(n::text, 12, '0'))::uuid, 'generic', 'BIG-' || n,
       'confirmed', date '2026-01-01' + n %% 1000, date '2026-01-01' + n %% 1000 + 3, now()
from generate_series(1, %(rows)s) n;
insert into public.message_logs (tenant_id, reservation_id, template_key, dedupe_key, status, last_error)
select r.tenant_id, r.id, k.key, r.id || ':' || k.key, 'skipped', 'test data'
from public.reservations r cross join (values ('welcome'), ('goodbye')) k (key)
where r.tenant_id = %(tenant)s;
set session_replication_role = origin;
analyze public.guests, public.reservations, public.message_logs;
"""

SEARCHES: list[tuple[str, dict[str, Any]]] = [
    ("everything, newest arrival first", {}),
    ("a name", {"p_query": "Guest4711 Jones"}),
    ("part of a name", {"p_query": "uest4711 J"}),
    ("a phone number as typed", {"p_query": "0151 0000 4711"}),
    ("a PMS reservation id", {"p_query": "BIG-4711"}),
    ("arrival dates", {"p_arrival_from": "2026-03-01", "p_arrival_to": "2026-03-03"}),
    ("a name and dates", {"p_query": "Smith", "p_arrival_from": "2026-03-01", "p_arrival_to": "2026-03-03"}),
    ("a deep page", {"p_offset": 5000, "p_limit": 100}),
]


def seq_scans(db: Conn) -> dict[str, int]:
    db.execute("select pg_stat_clear_snapshot()")
    rows = db.execute(
        "select relname, seq_scan from pg_stat_user_tables where schemaname = 'public' and relname = any(%s)",
        (list(TABLES),),
    ).fetchall()
    return {str(name): int(count) for name, count in rows}


def test_every_search_of_a_large_tenant_is_answered_from_indexes(db: Conn, factory: Factory) -> None:
    big = factory.tenant("Big hotel group")
    # As large, so the big tenant is half of each table, not all of it (a whole table read
    # would then be the cheapest plan, and no test of one).
    other = factory.tenant("Other hotel group", pms_property_id="OTHER")
    staff = factory.member(big, "staff")
    with db.transaction():
        for tenant, key in ((big, 1), (other, 2)):
            for statement in SEED.split(";\n"):
                if statement.strip():
                    db.execute(
                        statement,
                        {"tenant": tenant.id, "property": tenant.property_id, "rows": ROWS, "key": key},
                    )

    results: dict[str, list[str]] = {}
    before = seq_scans(db)
    with psycopg.connect(db.info.dsn, autocommit=True) as conn:
        with conn.transaction():
            # As PostgREST runs a signed-in user's request on Supabase.
            conn.execute("set local role authenticated")
            conn.execute("set local statement_timeout = '8s'")
            conn.execute(
                "select set_config('request.jwt.claims', %s, true)",
                (json.dumps({"sub": str(staff), "role": "authenticated"}),),
            )
            for label, args in SEARCHES:
                named = "".join(f", {name} => %({name})s" for name in args)
                rows = conn.execute(
                    f"select pms_reservation_id, messages from public.search_reservations(%(tenant)s{named})",
                    {"tenant": big.id, **args},
                ).fetchall()
                results[label] = [str(r[0]) for r in rows]
                assert all(len(r[1]) == 2 for r in rows), f"{label}: the timeline is missing"
        # Statistics of this backend reach the shared counters when it is next idle.
        conn.execute("select pg_stat_force_next_flush()")
        conn.execute("select 1")
    after = seq_scans(db)

    assert results["a name"] == ["BIG-4711"]
    assert results["part of a name"] == ["BIG-4711"]
    assert results["a phone number as typed"] == ["BIG-4711"]
    # The id's start: BIG-4711 and BIG-47110 .. BIG-47119.
    assert sorted(results["a PMS reservation id"]) == sorted(["BIG-4711"] + [f"BIG-4711{d}" for d in range(10)])
    assert len(results["everything, newest arrival first"]) == 25
    assert len(results["arrival dates"]) == 25
    assert len(results["a deep page"]) == 100
    assert results["a name and dates"], "Smiths arriving in early March exist"
    assert after == before, f"sequential scans during the searches: {before} -> {after}"


def test_the_statistics_would_see_a_sequential_scan(db: Conn, factory: Factory) -> None:
    """The check above can fail: a query that does scan a table shows in the same counters."""
    tenant = factory.tenant()
    factory.reservation(tenant)
    before = seq_scans(db)
    with psycopg.connect(db.info.dsn, autocommit=True) as conn:
        conn.execute("set enable_indexscan = off")
        conn.execute("set enable_bitmapscan = off")
        conn.execute("select count(*) from public.reservations where pms_reservation_id = %s", (str(uuid.uuid4()),))
        conn.execute("select pg_stat_force_next_flush()")
        conn.execute("select 1")
    assert seq_scans(db)["reservations"] > before["reservations"]
