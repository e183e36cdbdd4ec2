"""Restore recovery in pieces: which due messages WAHA's history settles (matching.py), and what
`ops recover` does to a restored database and what it refuses. The whole drill, with the worker
process and the simulators, is tests/test_restore_drill.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest

from tests.factories import Factory
from worker.ops.cli import main
from worker.recovery.matching import settled_by_history
from worker.recovery.store import Candidate
from worker.waha import OwnMessage, message_key

CHAT = "4915112345678@c.us"


def _key(c: Candidate) -> str:
    return message_key(f"{c.tenant_id}:{c.id}")


def _ours(candidate: Candidate, at: float) -> OwnMessage:
    """How WAHA (WEBJS) lists a message sent with the candidate's key."""
    return OwnMessage(id=f"true_{CHAT}_{_key(candidate)}", body=candidate.body, timestamp=at)


def test_a_restored_row_is_found_by_its_key_even_when_its_text_changed() -> None:
    restored = Candidate(id=7, tenant_id="t", to_phone="+4915112345678", body="Hello Ada (new room)")
    sent = OwnMessage(id=f"true_{CHAT}_{_key(restored)}", body="Hello Ada", timestamp=100.0)
    found = settled_by_history([restored], [sent], chat_id=CHAT, key_of=_key, recorded=set(), now_epoch=0)
    assert found == [(7, sent.id, 100.0)]


def test_a_message_planned_again_under_a_new_row_is_found_by_its_text() -> None:
    before = Candidate(id=3, tenant_id="t", to_phone="+4915112345678", body="Your stay is booked.")
    sent = _ours(before, 200.0)
    replanned = Candidate(id=9, tenant_id="t", to_phone="+4915112345678", body="Your stay is booked.")
    found = settled_by_history([replanned], [sent], chat_id=CHAT, key_of=_key, recorded=set(), now_epoch=0)
    assert found == [(9, sent.id, 200.0)]


def test_a_text_the_chat_got_once_settles_one_row_and_the_other_goes_out() -> None:
    first = Candidate(id=1, tenant_id="t", to_phone="+4915112345678", body="See you soon")
    second = Candidate(id=2, tenant_id="t", to_phone="+4915112345678", body="See you soon")
    sent = OwnMessage(id=f"true_{CHAT}_3EB0AAAAAAAAAAAAAAAAAA", body="See you soon", timestamp=5.0)
    found = settled_by_history([first, second], [sent], chat_id=CHAT, key_of=_key, recorded=set(), now_epoch=0)
    assert found == [(1, sent.id, 5.0)]


def test_a_waha_message_already_recorded_settles_nothing_else() -> None:
    due = Candidate(id=4, tenant_id="t", to_phone="+4915112345678", body="Welcome")
    earlier = OwnMessage(id=f"true_{CHAT}_3EB0BBBBBBBBBBBBBBBBBB", body="Welcome", timestamp=1.0)
    found = settled_by_history([due], [earlier], chat_id=CHAT, key_of=_key, recorded={earlier.id}, now_epoch=0)
    assert found == []


def test_a_different_text_is_not_taken_for_the_message() -> None:
    due = Candidate(id=5, tenant_id="t", to_phone="+4915112345678", body="Check-in from 15:00")
    other = OwnMessage(id=f"true_{CHAT}_3EB0CCCCCCCCCCCCCCCCCC", body="Check-out by 11:00", timestamp=1.0)
    assert settled_by_history([due], [other], chat_id=CHAT, key_of=_key, recorded=set(), now_epoch=0) == []


@pytest.fixture
def no_recovery_left(db: psycopg.Connection[Any]) -> Any:
    """restore_recoveries belongs to no tenant, so the per-test truncate leaves it: an open
    recovery left behind would hold every later test's sends."""
    yield
    db.execute("delete from public.restore_recoveries")


def _ops(capsys: pytest.CaptureFixture[str], url: str, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--database-url", url])
    out, err = capsys.readouterr()
    return code, out, err


def test_ops_recover_brings_sends_back_in_doubt_and_asks_each_pms_for_the_gap(
    clean_db: str,
    db: psycopg.Connection[Any],
    factory: Factory,
    capsys: pytest.CaptureFixture[str],
    no_recovery_left: None,
) -> None:
    tenant = factory.tenant()
    active = factory.pms_configuration(tenant, provider="generic")
    other = factory.tenant("Hotel Paused")
    paused = factory.pms_configuration(other, provider="mews", auth_scheme="token")
    db.execute(
        "update public.pms_configurations set sync_paused_reason = '401', sync_paused_at = now() where id = %s",
        (paused,),
    )
    db.execute("update public.pms_configurations set sync_cursor = now() where id = %s", (active,))
    out = factory.message(tenant, status="sending", lease_owner="gone-worker", lease_expires_at=dt.datetime.now(dt.UTC))
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=20)

    code, stdout, err = _ops(capsys, clean_db, "recover", "--since", since.isoformat(), "--reason", "drill")
    assert code == 0, err
    assert "1 syncs asked for, 1 paused configurations skipped" in stdout

    row = db.execute("select status::text, send_uncertain, lease_owner from public.message_logs where id = %s", (out,))
    assert row.fetchone() == ("queued", True, None), "a send out at backup time is checked with WAHA first"
    jobs = db.execute(
        "select pms_configuration_id, kind::text, trigger::text from public.sync_jobs where status = 'pending'"
    ).fetchall()
    assert jobs == [(active, "incremental", "recovery")]
    cursor = db.execute("select sync_cursor from public.pms_configurations where id = %s", (active,)).fetchone()
    assert cursor is not None and cursor[0] <= since, "the sync starts at the backup at the latest"

    code, _, err = _ops(capsys, clean_db, "recover", "--since", since.isoformat(), "--reason", "again")
    assert (code, err.strip()) == (1, "ops: a recovery is already open")
    code, stdout, _ = _ops(capsys, clean_db, "recoveries")
    assert code == 0 and "syncing PMSs (sends held)" in stdout


def test_ops_recover_refuses_a_time_without_zone_or_in_the_future(
    clean_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _ops(capsys, clean_db, "recover", "--since", "2026-12-01T03:00:00", "--reason", "x")
    assert code == 2 and "has no time zone" in err
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    code, _, err = _ops(capsys, clean_db, "recover", "--since", future, "--reason", "x")
    assert (code, err.strip()) == (1, "ops: the backup time must be in the past")


def _tick(db: psycopg.Connection[Any], last_seen: dt.datetime | None) -> tuple[dt.datetime, int | None]:
    row = db.execute(
        "select ticked_at, opened_recovery from internal.tick_database_clock_v1('w1', %s)", (last_seen,)
    ).fetchone()
    assert row is not None
    return row[0], row[1]


def test_a_database_restored_into_another_cluster_opens_a_recovery_by_itself(
    db: psycopg.Connection[Any], no_recovery_left: None
) -> None:
    db.execute("delete from public.database_clock")
    seen, opened = _tick(db, None)
    assert opened is None, "the first tick only records the cluster"
    assert _tick(db, seen)[1] is None, "the same cluster, the clock moving on: nothing to do"

    # What the restored clock row looks like: written on the cluster the dump came from.
    backup_tick = dt.datetime.now(dt.UTC) - dt.timedelta(hours=6)
    db.execute(
        "update public.database_clock set system_identifier = system_identifier + 1, ticked_at = %s", (backup_tick,)
    )
    _, opened = _tick(db, None)
    assert opened is not None
    row = db.execute(
        "select since, requested_by, reason from public.restore_recoveries where id = %s", (opened,)
    ).fetchone()
    assert row is not None
    assert row[0] == backup_tick and row[1] == "worker w1" and row[2].startswith("detected: restored into another")
    assert _tick(db, None)[1] is None, "the clock now names this cluster"


def test_a_database_that_went_back_in_time_under_a_worker_opens_a_recovery(
    db: psycopg.Connection[Any], no_recovery_left: None
) -> None:
    db.execute("delete from public.database_clock")
    seen, _ = _tick(db, None)
    seen, _ = _tick(db, seen)
    db.execute("update public.database_clock set ticked_at = %s", (seen - dt.timedelta(hours=3),))
    _, opened = _tick(db, seen)
    assert opened is not None
    reason = db.execute("select reason from public.restore_recoveries where id = %s", (opened,)).fetchone()
    assert reason is not None and "went back in time" in reason[0]
    # While it is open, another restore sign opens no second one.
    db.execute("update public.database_clock set ticked_at = %s", (seen - dt.timedelta(hours=4),))
    assert _tick(db, seen)[1] is None
