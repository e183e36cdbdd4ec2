"""Figures that say what they claim (issue 17), on the real migrated database: rates over
everything attempted with the failure rate beside them, webhooks split PMS / WAHA with the
edge's refusals counted, and the three alerts nothing tested before — webhook failures (critical),
database connection errors, retry queue depth — made to fire and to resolve, each naming the
value and threshold that fired and linking its runbook section."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from tests.factories import Factory, Tenant, acting_as

Conn = psycopg.Connection[Any]


def figures(db: Conn, tenant: Tenant) -> dict[str, Any]:
    with db.cursor(row_factory=psycopg.rows.dict_row) as cur:
        row = cur.execute(
            "select * from metrics.tenant_metrics(now() - interval '1 hour', now() + interval '1 second', %s)",
            (tenant.id,),
        ).fetchone()
    assert row is not None
    return dict(row)


def evaluate(db: Conn, rule: str) -> None:
    db.execute("select ops.evaluate_alerts(array[%s])", (rule,))


def alert(db: Conn, rule: str) -> dict[str, Any] | None:
    with db.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(
            "select a.*, r.runbook_url from ops.alerts a join ops.alert_rules r on r.key = a.rule_key"
            " where a.rule_key = %s order by a.id desc limit 1",
            (rule,),
        ).fetchone()


def events(db: Conn, tenant: Tenant, source: str, statuses: list[str]) -> None:
    for i, status in enumerate(statuses):
        db.execute(
            "insert into public.inbound_events (tenant_id, source, provider, event_id, event_type, payload, status,"
            " attempts, processed_at) values (%s, %s, %s, %s, 'x', '{}', %s, %s,"
            " case when %s in ('succeeded', 'dead') then now() end)",
            (
                tenant.id,
                source,
                "generic" if source == "pms" else "waha",
                f"{source}-{status}-{i}",
                status,
                10 if status == "dead" else 1,
                status,
            ),
        )


def refusals(db: Conn, *counts: dict[str, Any]) -> None:
    db.execute("select internal.record_webhook_refusals_v1(%s::jsonb)", (json.dumps(list(counts)),))


def wait_for(check: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.1)


# ---- rates --------------------------------------------------------------------------------------
def test_the_delivery_rate_counts_the_dead_and_stands_beside_the_failure_rate(db: Conn, factory: Factory) -> None:
    """The issue's case: 60% of the messages dead used to read as a delivery rate of 1.0."""
    tenant = factory.tenant()
    for i in range(4):
        factory.message(tenant, status="delivered", waha_message_id=f"w{i}", dedupe_key=f"d{i}")
    for i in range(6):
        factory.message(tenant, status="dead", last_error="invalid number", dedupe_key=f"x{i}")
    db.execute("update public.message_logs set sent_at = now() where status = 'delivered'")

    got = figures(db, tenant)
    assert (got["messages_attempted"], got["messages_sent"], got["messages_dead"]) == (10, 4, 6)
    assert got["message_delivery_rate"] == Decimal("0.4")
    assert got["message_failure_rate"] == Decimal("0.6")


def test_webhooks_are_reported_per_source_with_the_edges_refusals(db: Conn, factory: Factory) -> None:
    tenant = factory.tenant("Test Hotel")
    other = factory.tenant("Another Hotel")
    events(db, tenant, "pms", ["succeeded"] * 6 + ["dead"])
    events(db, tenant, "waha", ["succeeded"] * 9 + ["ignored"])
    minute = "2026-12-02T09:41:00Z"
    refusals(
        db,
        {
            "minute": minute,
            "tenant_id": str(tenant.id),
            "source": "pms",
            "provider": "generic",
            "status": 401,
            "reason": "unauthorized",
            "count": 2,
        },
        {
            "minute": minute,
            "tenant_id": str(tenant.id),
            "source": "pms",
            "provider": "generic",
            "status": 422,
            "reason": "unprocessable_payload",
            "count": 1,
        },
        # Another isolate flushing the same minute adds up.
        {
            "minute": minute,
            "tenant_id": str(tenant.id),
            "source": "pms",
            "provider": "generic",
            "status": 401,
            "reason": "unauthorized",
            "count": 1,
        },
        # Unknown keys belong to no tenant; another tenant's refusals are not this one's.
        {
            "minute": minute,
            "tenant_id": None,
            "source": "pms",
            "provider": "generic",
            "status": 401,
            "reason": "unauthorized",
            "count": 50,
        },
        {
            "minute": minute,
            "tenant_id": str(other.id),
            "source": "waha",
            "provider": "waha",
            "status": 413,
            "reason": "payload_too_large",
            "count": 4,
        },
    )
    db.execute("update ops.webhook_refusals set minute = date_trunc('minute', now())")

    got = figures(db, tenant)
    assert (got["pms_webhooks_attempted"], got["pms_webhooks_succeeded"], got["pms_webhooks_failed"]) == (11, 6, 5)
    assert got["pms_webhooks_refused"] == 4
    assert (got["pms_webhook_success_rate"], got["pms_webhook_failure_rate"]) == (Decimal("0.5455"), Decimal("0.4545"))
    assert (got["waha_webhooks_attempted"], got["waha_webhook_success_rate"], got["waha_webhook_failure_rate"]) == (
        10,
        Decimal("1.0000"),
        Decimal("0.0000"),
    )
    assert (got["webhooks_attempted"], got["webhooks_received"], got["webhooks_refused"]) == (21, 17, 4)
    assert figures(db, other)["waha_webhooks_refused"] == 4

    by_reason = db.execute(
        "select coalesce(tenant_name, '(unknown key)'), provider, status, reason, refused"
        " from ops.webhook_refusals(now() - interval '1 hour', now() + interval '1 minute')"
    ).fetchall()
    assert set(by_reason) == {
        ("(unknown key)", "generic", 401, "unauthorized", 50),
        ("Another Hotel", "waha", 413, "payload_too_large", 4),
        ("Test Hotel", "generic", 401, "unauthorized", 3),
        ("Test Hotel", "generic", 422, "unprocessable_payload", 1),
    }
    # Three upserts for seven refusals of one tenant in one minute: rows are counters, not requests.
    assert db.execute("select count(*) from ops.webhook_refusals").fetchone() == (4,)


# ---- the three alerts that had no test ----------------------------------------------------------
def test_webhook_failure_critical_fires_on_refusals_and_dead_events_and_resolves(db: Conn, factory: Factory) -> None:
    tenant = factory.tenant("Leaky Hotel")
    events(db, tenant, "pms", ["succeeded"] * 9 + ["dead"])
    evaluate(db, "webhook_processing_failure_critical")
    opened = alert(db, "webhook_processing_failure_critical")
    assert opened is not None and opened["status"] == "open" and opened["tenant_id"] == tenant.id
    assert opened["value"] == Decimal("0.1") and opened["threshold"] == Decimal("0.05")
    assert "webhook failure rate 10.0% > 5.0% over 15 min" in opened["summary"]
    assert opened["summary"].endswith("runbook: docs/runbook.md#webhook-failures")

    # The dead event replayed (waiting in the queue again: not a failure) — but the edge refused
    # 2 of the PMS's deliveries (wrong secret): 2 of 12 attempted.
    db.execute("select public.replay_inbound_event(id) from public.inbound_events where status = 'dead'")
    refusals(
        db,
        {
            "minute": "2026-12-02T09:00:00Z",
            "tenant_id": str(tenant.id),
            "source": "pms",
            "provider": "generic",
            "status": 401,
            "reason": "unauthorized",
            "count": 2,
        },
    )
    db.execute("update ops.webhook_refusals set minute = date_trunc('minute', now())")
    evaluate(db, "webhook_processing_failure_critical")
    still = alert(db, "webhook_processing_failure_critical")
    assert still is not None and (still["id"], still["status"]) == (opened["id"], "open")
    assert still["value"] == Decimal("0.1667") and "16.7% > 5.0%" in still["summary"]

    db.execute("delete from ops.webhook_refusals")
    evaluate(db, "webhook_processing_failure_critical")
    resolved = alert(db, "webhook_processing_failure_critical")
    assert resolved is not None and (resolved["id"], resolved["status"]) == (opened["id"], "resolved")


def test_retry_queue_depth_fires_above_100_and_resolves(db: Conn, factory: Factory) -> None:
    tenant = factory.tenant("Retrying Hotel")
    db.execute(
        "insert into public.message_logs (tenant_id, template_key, dedupe_key, to_phone, body, status, attempts,"
        " last_error) select %s, 't', 'retry-' || g, '+4915112345678', 'Hi', 'failed', 1, 'WAHA 502'"
        " from generate_series(1, 101) g",
        (tenant.id,),
    )
    evaluate(db, "retry_queue_depth_high")
    opened = alert(db, "retry_queue_depth_high")
    assert opened is not None and (opened["status"], opened["tenant_id"]) == ("open", tenant.id)
    assert "retry queue depth 101 > 100" in opened["summary"]
    assert opened["runbook_url"] == "docs/runbook.md#queues-and-retries"

    # One of them is cancelled (its guest cancelled the stay): 100 left, not above 100.
    db.execute("update public.message_logs set status = 'cancelled' where dedupe_key = 'retry-1'")
    evaluate(db, "retry_queue_depth_high")
    resolved = alert(db, "retry_queue_depth_high")
    assert resolved is not None and (resolved["id"], resolved["status"]) == (opened["id"], "resolved")


def test_database_connection_errors_fire_on_a_fatal_session_and_resolve(db: Conn, clean_db: str) -> None:
    def fatal_sessions() -> int:
        row = db.execute("select sessions_fatal from pg_stat_database where datname = current_database()").fetchone()
        assert row is not None
        return int(row[0])

    db.execute("delete from ops.samples where name = 'pg.sessions_fatal'")
    evaluate(db, "database_connection_errors")  # the baseline sample
    assert alert(db, "database_connection_errors") is None
    before = fatal_sessions()

    # A session the server ends with FATAL: idle in a transaction past its timeout.
    victim = psycopg.connect(clean_db)  # not autocommit: the SET below leaves it idle in a transaction
    pid = victim.info.backend_pid
    victim.execute("set idle_in_transaction_session_timeout = '50ms'")

    def ended() -> bool:
        row = db.execute("select count(*) from pg_stat_activity where pid = %s", (pid,)).fetchone()
        return row == (0,)

    wait_for(ended)
    victim.close()
    wait_for(lambda: fatal_sessions() > before)

    evaluate(db, "database_connection_errors")
    opened = alert(db, "database_connection_errors")
    assert opened is not None and opened["status"] == "open" and opened["tenant_id"] is None
    assert (
        opened["value"] >= 1 and "db connection errors" in opened["summary"] and "> 0 over 5 min" in opened["summary"]
    )
    assert opened["runbook_url"] == "docs/runbook.md#database-issues"

    # Five minutes on (the samples are moved back rather than waited for): nothing new, resolved.
    db.execute("update ops.samples set taken_at = taken_at - interval '6 minutes' where name = 'pg.sessions_fatal'")
    evaluate(db, "database_connection_errors")
    resolved = alert(db, "database_connection_errors")
    assert resolved is not None and (resolved["id"], resolved["status"]) == (opened["id"], "resolved")


def test_session_refresh_failures_link_the_authentication_section(db: Conn) -> None:
    row = db.execute(
        "select runbook, runbook_url from ops.alert_rules where key in"
        " ('session_refresh_failures', 'authentication_down') order by key"
    ).fetchall()
    assert row == [("Authentication", "docs/runbook.md#authentication")] * 2


def test_a_member_sees_only_their_own_tenants_refusals(db: Conn, factory: Factory) -> None:
    mine = factory.tenant("Mine Hotel")
    theirs = factory.tenant("Theirs Hotel")
    member = factory.member(mine, "staff")
    for tenant, count in ((mine, 2), (theirs, 5)):
        refusals(
            db,
            {
                "minute": "2026-12-02T09:00:00Z",
                "tenant_id": str(tenant.id),
                "source": "pms",
                "provider": "generic",
                "status": 401,
                "reason": "unauthorized",
                "count": count,
            },
        )
    db.execute("update ops.webhook_refusals set minute = date_trunc('minute', now())")

    with acting_as(db, member) as cur:
        rows = cur.execute("select tenant_id, count from ops.webhook_refusals").fetchall()
        assert [(r["tenant_id"], r["count"]) for r in rows] == [(mine.id, 2)]
        seen = cur.execute(
            "select tenant_id, pms_webhooks_refused from metrics.tenant_metrics(now() - interval '1 hour',"
            " now() + interval '1 minute')"
        ).fetchall()
        assert [(r["tenant_id"], r["pms_webhooks_refused"]) for r in seen] == [(mine.id, 2)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            cur.execute("select internal.record_webhook_refusals_v1('[]')")
