"""Per-session pacing in claim_messages_v2: it holds across replicas because it lives in SQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from tests.factories import Factory


def test_one_message_per_session_per_claim_and_gap_respected(db: psycopg.Connection[Any], factory: Factory) -> None:
    a, b = factory.tenant("A"), factory.tenant("B")
    for tenant in (a, b):
        factory.waha_configuration(tenant)
        db.execute(
            "update public.waha_configurations set send_gap_min_ms = 2000, send_gap_max_ms = 4000 where tenant_id = %s",
            (tenant.id,),
        )
        for _ in range(3):
            factory.message(tenant)

    first = db.execute("select tenant_id from internal.claim_messages_v2('w1', 100)").fetchall()
    assert sorted(r[0] for r in first) == sorted([a.id, b.id]), "one message per session"

    second = db.execute("select tenant_id from internal.claim_messages_v2('w2', 100)").fetchall()
    assert second == [], "another replica must wait for the sessions' gap too"

    gaps = db.execute(
        "select next_send_at - now() from public.waha_configurations where tenant_id in (%s, %s)", (a.id, b.id)
    ).fetchall()
    for (gap,) in gaps:
        assert dt.timedelta(seconds=2) <= gap <= dt.timedelta(seconds=4)

    db.execute("update public.waha_configurations set next_send_at = now() where tenant_id = %s", (a.id,))
    third = db.execute("select tenant_id from internal.claim_messages_v2('w2', 100)").fetchall()
    assert [r[0] for r in third] == [a.id], "a session sends again once its gap has passed"


def test_next_message_due_names_the_pacing_deadline(db: psycopg.Connection[Any], factory: Factory) -> None:
    tenant = factory.tenant()
    factory.waha_configuration(tenant)
    factory.message(tenant)
    factory.message(tenant)
    db.execute("select internal.claim_messages_v2('w', 10)")
    due, next_send = db.execute(
        "select internal.next_message_due_v1(), next_send_at from public.waha_configurations"
    ).fetchone() or (None, None)
    assert due == next_send, "the second message waits for the session's gap"


def test_paused_and_idle_sessions_are_not_touched(db: psycopg.Connection[Any], factory: Factory) -> None:
    paused, idle = factory.tenant("Paused"), factory.tenant("Idle")
    factory.waha_configuration(paused, status="SCAN_QR_CODE")
    factory.waha_configuration(idle)
    factory.message(paused)
    before = db.execute("select tenant_id, next_send_at from public.waha_configurations order by 1").fetchall()
    assert db.execute("select * from internal.claim_messages_v2('w', 10)").fetchall() == []
    after = db.execute("select tenant_id, next_send_at from public.waha_configurations order by 1").fetchall()
    assert before == after


def test_the_gap_counts_from_the_send_not_the_claim(db: psycopg.Connection[Any], factory: Factory) -> None:
    tenant = factory.tenant()
    factory.waha_configuration(tenant)
    db.execute("update public.waha_configurations set send_gap_min_ms = 2000, send_gap_max_ms = 4000")
    first, _ = factory.message(tenant), factory.message(tenant)

    assert len(db.execute("select id from internal.claim_messages_v3('w1', 10, '1 minute')").fetchall()) == 1
    (held,) = db.execute("select next_send_at - now() from public.waha_configurations").fetchone() or (None,)
    assert held is not None and held > dt.timedelta(seconds=50), "the session is held for the lease while in flight"
    assert db.execute("select id from internal.claim_messages_v3('w2', 10, '1 minute')").fetchall() == []

    db.execute("select internal.mark_message_sent_v1(%s, 'w1', 'true_1@c.us_A')", (first,))
    (gap,) = db.execute("select next_send_at - now() from public.waha_configurations").fetchone() or (None,)
    assert gap is not None and dt.timedelta(seconds=2) <= gap <= dt.timedelta(seconds=4), "paced from the send"


def test_a_message_settled_without_sending_frees_the_session_at_once(
    db: psycopg.Connection[Any], factory: Factory
) -> None:
    tenant = factory.tenant()
    factory.waha_configuration(tenant)
    db.execute("update public.waha_configurations set send_gap_min_ms = 2000, send_gap_max_ms = 4000")
    message = factory.message(tenant)
    factory.message(tenant)

    db.execute("select internal.claim_messages_v3('w1', 10, '1 minute')")
    db.execute("select internal.release_messages_v1(array[%s]::bigint[], 'w1', 'shutting down')", (message,))

    assert len(db.execute("select id from internal.claim_messages_v3('w2', 10, '1 minute')").fetchall()) == 1


def test_pacing_holds_while_automations_and_replies_mix(db: psycopg.Connection[Any], factory: Factory) -> None:
    """Staff replies (priority 1, public.send_reply) go ahead of the session's automations waiting
    longer, and every message of the session, reply or not, still keeps the gap (claim_messages_v6)."""
    tenant = factory.tenant()
    factory.waha_configuration(tenant)
    db.execute("update public.waha_configurations set send_gap_min_ms = 2000, send_gap_max_ms = 4000")
    automations = [
        factory.message(tenant, next_attempt_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5 - i)) for i in range(3)
    ]
    row = db.execute(
        "select conversation_id from internal.record_conversation_message_v1("
        " %s, 'default', '4915112345678@c.us', 'false_4915112345678@c.us_AAA', false, now(), 'Parking?')",
        (tenant.id,),
    ).fetchone()
    assert row is not None
    staff = factory.member(tenant, "staff")
    replies = []
    for text in ("Yes, in the garage", "It is free"):
        with db.transaction():
            db.execute("set local role authenticated")
            db.execute("select set_config('request.jwt.claims', %s, true)", (f'{{"sub": "{staff}"}}',))
            reply = db.execute("select message_log_id from public.send_reply(%s, %s)", (row[0], text)).fetchone()
        assert reply is not None
        replies.append(reply[0])

    order = []
    for n in range(5):
        claimed = db.execute("select id from internal.claim_messages_v6('w', 100, '1 minute')").fetchall()
        assert len(claimed) == 1, "one message of the session per claim"
        (message_id,) = claimed[0]
        order.append(message_id)
        assert db.execute("select id from internal.claim_messages_v6('w2', 100, '1 minute')").fetchall() == []
        db.execute("select internal.mark_message_sent_v1(%s, 'w', %s)", (message_id, f"true_4915112345678@c.us_{n}"))
        (gap,) = db.execute("select next_send_at - now() from public.waha_configurations").fetchone() or (None,)
        # From the send (mark_message_sent_v1's now()), read a moment later by this statement.
        assert gap is not None and dt.timedelta(seconds=1.9) <= gap <= dt.timedelta(seconds=4), "the gap holds"
        assert db.execute("select id from internal.claim_messages_v6('w', 100, '1 minute')").fetchall() == [], (
            "nothing, not even a reply, goes out inside the gap"
        )
        db.execute("update public.waha_configurations set next_send_at = now(), gap_ends_at = now()")
    assert order == replies + automations, "replies first, then automations oldest first"
