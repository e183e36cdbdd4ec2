"""Every benchmark of `make bench` still runs end to end, at tiny sizes, against the test database.

No timing is asserted (a shared 2-core machine makes timings noise); what is asserted is what a
benchmark's figures rest on: the work it measures was really done, and it leaves the database
as it found it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from bench import delivery, ingest, memory, processing, scale, wakeup
from bench.common import SMOKE, Result

pytestmark = pytest.mark.slow


def _only(results: list[Result]) -> Result:
    assert len(results) == 1
    return results[0]


def _schema_of_message_logs(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select pg_get_indexdef(indexrelid) from pg_index where indrelid = 'public.message_logs'::regclass"
            " union all select pg_get_constraintdef(oid) from pg_constraint"
            " where conrelid = 'public.message_logs'::regclass order by 1"
        ).fetchall()


def test_ingest_stores_every_signed_webhook(clean_db: str, tmp_path: Path) -> None:
    with psycopg.connect(clean_db, autocommit=True) as conn:  # no wake-up just before the run
        conn.execute("update private.wakeup_broadcasts set last_sent_at = '-infinity'")
    result = _only(ingest.run(clean_db, tmp_path, SMOKE))
    webhooks = result.data["webhooks"]
    assert webhooks["accepted"] > 0
    assert webhooks["statuses"] == {"202": webhooks["accepted"]}, "every genuine webhook is accepted"
    assert webhooks["stored_including_warmup"] >= webhooks["accepted"]
    assert result.data["pgbench"]["transactions"] > 0
    assert result.ratio is not None
    # Every webhook is a transaction that queues work; the wake-ups are capped all the same:
    # at most one per 100 ms (plus the first), where Postgres Changes sent one per stored event.
    realtime = result.data["realtime"]
    assert 1 <= realtime["broadcasts"] <= realtime["seconds"] * 10 + 1
    assert realtime["row_changes"] >= webhooks["accepted"]


def test_processing_handles_every_event_with_one_and_two_workers(clean_db: str, tmp_path: Path) -> None:
    results = processing.run(clean_db, tmp_path, SMOKE)
    assert [r.name for r in results] == ["processing (1 worker)", "processing (2 workers)"]
    for result in results:
        worker = result.data["worker"]
        assert worker["succeeded"] == SMOKE.processing_events, worker
        assert worker["dead"] == 0
        # Each reservation plans a confirmation and a pre-arrival message.
        assert worker["messages_planned"] == 2 * worker["reservations"] == 2 * SMOKE.processing_events
        assert result.data["naive"]["events"] > 0


def test_delivery_sends_through_the_simulator_and_checks_pacing(clean_db: str, tmp_path: Path) -> None:
    wakeups, result = delivery.run(clean_db, tmp_path, SMOKE)
    assert wakeups.name == "realtime messages while delivering"
    cost = wakeups.data["throughput_phase"]
    # Sending claims, marks sent and records each message: row changes Postgres Changes would
    # have sent; what the database broadcast is counted beside them.
    assert cost["row_changes"] >= SMOKE.delivery_sessions * SMOKE.delivery_messages_per_session
    assert cost["broadcasts"] >= 0 and cost["seconds"] > 0
    measured, pacing = result.data["measured"], result.data["pacing"]
    assert measured["messages"] == SMOKE.delivery_sessions * SMOKE.delivery_messages_per_session
    assert result.data["pacing_two_replicas"]["messages"] == SMOKE.pacing_sessions * SMOKE.pacing_messages
    assert result.data["baseline"]["messages"] > 0
    # Every accepted send is on the simulator's record, so the pacing check saw them all.
    assert pacing["sends_recorded"] >= measured["messages"] + result.data["pacing_two_replicas"]["messages"]
    assert pacing["gaps_checked"] > 0
    assert pacing["spec_violations"] == 0, "the worker's requests follow WAHA's OpenAPI spec"


def test_wakeup_measures_every_event_and_removes_its_trigger(clean_db: str, tmp_path: Path) -> None:
    result, through_realtime = wakeup.run(clean_db, tmp_path, SMOKE)
    assert result.data["listen"]["count"] == SMOKE.wakeup_samples_listen
    assert result.data["poll"]["count"] > 0
    assert through_realtime.name == "wake-up latency (Realtime)"
    assert through_realtime.data["realtime"]["count"] == SMOKE.wakeup_samples_listen
    with psycopg.connect(clean_db) as conn:
        left = conn.execute(
            "select count(*) from pg_trigger where tgname = 'benchmark_record_claim'"
            " union all select count(*) from pg_namespace where nspname = 'benchmark'"
        ).fetchall()
    assert left == [(0,), (0,)]


def test_scale_claims_at_both_sizes_and_restores_the_indexes(clean_db: str, tmp_path: Path) -> None:
    before = _schema_of_message_logs(clean_db)
    results = scale.run(clean_db, tmp_path, SMOKE)
    names = [r.name for r in results]
    assert [f"scale: claim_messages_v{n}" for n in (6, 5, 4, 3, 2, 1)] == names, "every version, newest first"
    tables = results[0].data["tables"]
    assert [tables["small"]["rows"], tables["large"]["rows"]] == list(SMOKE.scale_rows)
    assert tables["small"]["due_rows"] == tables["large"]["due_rows"] == SMOKE.scale_due_rows
    for result in results:
        assert result.data["small"]["rows_per_claim"] == result.data["large"]["rows_per_claim"] == SMOKE.scale_batch
    assert _schema_of_message_logs(clean_db) == before


def test_memory_samples_a_worker_under_load(clean_db: str, tmp_path: Path) -> None:
    result = _only(memory.run(clean_db, tmp_path, SMOKE))
    assert len(result.data["samples"]) >= SMOKE.soak_seconds - 1
    assert all(kib > 10_000 for _, kib in result.data["samples"]), "RSS is read from /proc in KiB"
    assert result.data["work_done"]["events_processed"] > 0
