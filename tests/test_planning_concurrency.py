"""Planning under concurrent writers: the worker upserting reservations, staff editing the guest
and an admin editing rules, all at once on the same guest. No error (no deadlock, no unique
violation), one row per reservation and rule, and the end state is what planning from scratch
gives."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import psycopg

from tests.factories import Factory, Tenant

ROUNDS = 60


def _rules(db: psycopg.Connection[Any], tenant: Tenant) -> None:
    for name, trigger, offset, at, key in [
        ("conf", "booking_confirmed", 0, None, "booking_confirmation"),
        ("pre", "before_arrival", 3, "10:00", "pre_arrival"),
        ("arr", "arrival_day", 0, "14:00", "pre_arrival"),
        ("rev", "after_departure", 1, "11:00", "pre_arrival"),
        ("canc", "booking_cancelled", 0, None, "booking_confirmation"),
    ]:
        db.execute(
            "insert into public.automation_rules (tenant_id, name, trigger, offset_days, send_at_local, template_key)"
            " values (%s, %s, %s, %s, %s, %s)",
            (tenant.id, name, trigger, offset, at, key),
        )
    for key in ("booking_confirmation", "pre_arrival"):
        db.execute(
            "insert into public.message_templates (tenant_id, key, language, body) values (%s, %s, 'en', %s)",
            (tenant.id, key, f"{key} {{{{arrival_date}}}}"),
        )


def test_concurrent_writers_never_duplicate_or_deadlock(
    db: psycopg.Connection[Any], factory: Factory, database_url: str
) -> None:
    tenant = factory.tenant()
    _rules(db, tenant)
    phone = "+4915100000001"
    for pms_id in ("R1", "R2"):
        factory.reservation(
            tenant, pms_reservation_id=pms_id, guest={"full_name": "Ada", "phone": phone, "language": "en"}
        )
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def worker() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            start.wait()
            for i in range(ROUNDS):
                arrival = dt.date(2035, 6, 1) + dt.timedelta(days=i % 7)
                for pms_id in ("R1", "R2"):
                    body = {
                        "provider": "generic",
                        "pms_reservation_id": pms_id,
                        "pms_property_id": "PROP-1",
                        "status": "cancelled" if i % 5 == 4 else "confirmed",
                        "arrival_date": arrival.isoformat(),
                        "departure_date": (arrival + dt.timedelta(days=2)).isoformat(),
                        "pms_updated_at": (
                            dt.datetime(2026, 11, 27, tzinfo=dt.UTC) + dt.timedelta(minutes=i)
                        ).isoformat(),
                        "guest": {"full_name": f"Ada {i % 3}", "phone": phone, "language": "en"},
                    }
                    conn.execute(
                        "select internal.upsert_reservation_v1(%s, %s::jsonb, %s)",
                        (tenant.id, json.dumps(body), f"req-{i}"),
                    )

    def staff() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            start.wait()
            for i in range(ROUNDS):
                conn.execute(
                    "update public.guests set language = %s, whatsapp_opt_in = %s where tenant_id = %s",
                    ("de" if i % 2 else "en", i % 7 != 3, tenant.id),
                )

    def admin() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            start.wait()
            for i in range(ROUNDS):
                conn.execute(
                    "update public.automation_rules set send_at_local = %s, is_active = %s"
                    " where tenant_id = %s and name = 'pre'",
                    (dt.time(9 + i % 3), i % 6 != 5, tenant.id),
                )

    def guarded(fn: Any) -> Any:
        def run() -> None:
            try:
                fn()
            except BaseException as exc:
                errors.append(exc)

        return run

    threads = [threading.Thread(target=guarded(fn)) for fn in (worker, staff, admin)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors

    # One row per reservation and rule, at most.
    counts = db.execute(
        "select count(*), count(distinct (reservation_id, rule_id)) from public.message_logs"
    ).fetchone()
    assert counts is not None and counts[0] == counts[1]

    # The concurrent result is a fixed point: planning it again changes nothing.
    before = db.execute("select id, ctid::text from public.message_logs order by id").fetchall()
    db.execute("select private.plan_messages(array(select id from public.reservations))")
    after = db.execute("select id, ctid::text from public.message_logs order by id").fetchall()
    assert before == after
