"""`python -m worker ops ...` against the real migrated database: what the on-call engineer sees
and what each command changes. main(argv) is called in-process (stdout/stderr captured); one
test runs the real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import psycopg
import pytest

from devstack import cluster, paths
from tests.factories import Factory, Tenant
from worker.ops.cli import main

Conn = psycopg.Connection[Any]


@pytest.fixture(autouse=True)
def _database_url(clean_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_DATABASE_URL", clean_db)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def dead_event(db: Conn, tenant: Tenant, event_id: str = "evt-dead", error: str = "payload missing 'id'") -> int:
    row = db.execute(
        "insert into public.inbound_events (tenant_id, source, provider, event_id, event_type, payload, status,"
        " attempts, last_error, processed_at, request_id)"
        " values (%s, 'pms', 'generic', %s, 'reservation.updated', '{}', 'dead', 10, %s, now(), 'req-dead')"
        " returning id",
        (tenant.id, event_id, error),
    ).fetchone()
    assert row is not None
    return int(row[0])


# ---- status -------------------------------------------------------------------------------------
def test_status_shows_each_tenant_whatsapp_pms_queues_and_alerts(
    db: Conn, factory: Factory, capsys: pytest.CaptureFixture[str]
) -> None:
    a = factory.tenant("Hotel Alpha")
    b = factory.tenant("Hotel Beta")
    factory.waha_configuration(a, status="WORKING")
    factory.waha_configuration(b, status="SCAN_QR_CODE")
    factory.pms_configuration(a, "apaleo", "token", health="failing", consecutive_failures=4)
    factory.message(a, status="queued")
    factory.message(a, status="dead", last_error="invalid number")
    dead_event(db, b)

    code, out, err = run(capsys, "status")
    assert code == 0, err
    alpha = next(line for line in out.splitlines() if line.startswith("Hotel Alpha"))
    beta = next(line for line in out.splitlines() if line.startswith("Hotel Beta"))
    assert "WORKING" in alpha and "apaleo failing x4" in alpha
    assert "SCAN_QR_CODE" in beta and "not configured" in beta
    assert "connections" in out  # the database's connection pool usage

    report = run_json(capsys, "status")
    by_name = {t["tenant_name"]: t for t in report["tenants"]}
    assert (by_name["Hotel Alpha"]["messages_due"], by_name["Hotel Alpha"]["messages_dead"]) == (1, 1)
    assert (by_name["Hotel Beta"]["inbound_dead"], by_name["Hotel Beta"]["dead_letters"]) == (1, 1)
    assert by_name["Hotel Alpha"]["pms"][0]["health"] == "failing"
    assert report["platform"]["connections_used"] >= 1

    only_beta = run_json(capsys, "status", "--tenant", "hotel beta")
    assert [t["tenant_name"] for t in only_beta["tenants"]] == ["Hotel Beta"]


# ---- dead letters, replay, resend ---------------------------------------------------------------
def test_dead_letters_lists_both_queues_with_their_reasons(
    db: Conn, factory: Factory, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = factory.tenant()
    event = dead_event(db, tenant)
    message = factory.message(tenant, status="dead", last_error="WAHA: invalid number +491")

    code, out, err = run(capsys, "dead-letters")
    assert code == 0, err
    assert "payload missing 'id'" in out and "WAHA: invalid number +491" in out

    rows = run_json(capsys, "dead-letters")
    assert {(r["queue"], r["id"], r["reason"]) for r in rows} == {
        ("inbound", event, "payload missing 'id'"),
        ("message", message, "WAHA: invalid number +491"),
    }
    assert [r["queue"] for r in run_json(capsys, "dead-letters", "--queue", "messages")] == ["message"]


def test_replay_brings_a_dead_event_back_once(db: Conn, factory: Factory, capsys: pytest.CaptureFixture[str]) -> None:
    event = dead_event(db, factory.tenant())

    code, out, err = run(capsys, "replay", str(event))
    assert code == 0, err
    assert f"inbound event {event} is back in the queue" in out
    assert db.execute("select status, attempts from public.inbound_events where id = %s", (event,)).fetchone() == (
        "pending",
        0,
    )

    code, out, err = run(capsys, "replay", str(event))
    assert (code, out) == (1, "")
    assert err == f"ops: inbound event {event} is pending, not dead: nothing to replay\n"


def test_resend_queues_a_dead_message_and_refuses_what_it_must_not_send(
    db: Conn, factory: Factory, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = factory.tenant()
    message = factory.message(tenant, status="dead", last_error="WAHA 500")
    code, _, err = run(capsys, "resend", str(message))
    assert (code, err) == (1, f"ops: message {message} cannot be sent: the hotel has no WhatsApp connection\n")
    factory.waha_configuration(tenant)

    result = run_json(capsys, "resend", str(message))
    assert (result["id"], result["status"]) == (message, "queued")
    assert db.execute("select status from public.message_logs where id = %s", (message,)).fetchone() == ("queued",)

    code, _, err = run(capsys, "resend", str(message))
    assert code == 1 and "is queued: only dead, failed, cancelled or skipped messages are resent" in err

    reservation = factory.reservation(tenant)
    guest = db.execute("select guest_id from public.reservations where id = %s", (reservation,)).fetchone()
    assert guest is not None
    db.execute("update public.guests set whatsapp_opt_in = false where id = %s", (guest[0],))
    opted_out = factory.message(tenant, status="dead", guest_id=guest[0], dedupe_key="opted-out")
    code, _, err = run(capsys, "resend", str(opted_out))
    assert code == 1
    assert err == f"ops: message {opted_out} cannot be sent: the guest opted out of WhatsApp messages\n"


@pytest.mark.parametrize(("command", "noun"), [("replay", "inbound event"), ("resend", "message")])
def test_unknown_ids_are_one_clear_line_and_exit_1(command: str, noun: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, command, "987654321")
    assert (code, out) == (1, "")
    assert err == f"ops: {noun} 987654321 not found\n"


# ---- sync ---------------------------------------------------------------------------------------
def test_sync_asks_for_a_manual_sync_of_the_tenants_pms_by_name_or_id(
    db: Conn, factory: Factory, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = factory.tenant("Seaside Inn")
    configuration = factory.pms_configuration(tenant, "mews", "token")

    code, out, err = run(capsys, "sync", "seaside inn", "--kind", "full")
    assert code == 0, err
    assert "full sync requested for Seaside Inn" in out and "mews" in out
    job = db.execute(
        "select kind::text, trigger::text, status::text, request_id, pms_configuration_id from public.sync_jobs"
    ).fetchall()
    assert len(job) == 1
    kind, trigger, status, request_id, config_id = job[0]
    assert (kind, trigger, status, config_id) == ("full", "manual", "pending", configuration)
    assert f"ops trace {request_id}" in out

    again = run_json(capsys, "sync", str(tenant.id), "--kind", "full")
    assert again["jobs"][0]["joined_existing"] is True
    assert db.execute("select count(*) from public.sync_jobs").fetchone() == (1,)

    incremental = run_json(capsys, "sync", str(tenant.id))
    assert incremental["jobs"][0]["kind"] == "incremental"
    assert db.execute("select count(*) from public.sync_jobs").fetchone() == (2,)


def test_sync_explains_why_it_cannot(factory: Factory, capsys: pytest.CaptureFixture[str]) -> None:
    factory.tenant("Twin Hotel")
    factory.tenant("Twin Hotel", pms_property_id="PROP-2")
    lonely = factory.tenant("No PMS Hotel")

    code, _, err = run(capsys, "sync", "Nowhere Hotel")
    assert (code, err) == (1, "ops: no tenant has the id or name 'Nowhere Hotel'\n")
    code, _, err = run(capsys, "sync", "twin hotel")
    assert code == 1 and "2 tenants are named 'twin hotel'" in err and "give the id" in err
    code, _, err = run(capsys, "sync", str(lonely.id))
    assert (code, err) == (1, "ops: tenant 'No PMS Hotel' has no active PMS configuration to sync\n")


# ---- trace --------------------------------------------------------------------------------------
def test_trace_tells_one_requests_story_in_order(
    db: Conn, factory: Factory, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = factory.tenant()
    factory.waha_configuration(tenant)
    db.execute(
        "select internal.ingest_inbound_events_v1(%s, 'pms', 'generic',"
        ' \'[{"event_id": "e-1", "event_type": "reservation.created", "payload": {}}]\', \'req-cli-1\')',
        (tenant.id,),
    )
    claimed = db.execute("select id from internal.claim_inbound_events_v1('cli-test', 10)").fetchall()
    factory.reservation(tenant)  # another request's reservation: not part of this trace
    db.execute(
        "select internal.upsert_reservation_v1(%s, %s::jsonb, 'req-cli-1')",
        (
            tenant.id,
            json.dumps(
                {
                    "provider": "generic",
                    "pms_reservation_id": "R-TRACE",
                    "pms_property_id": "PROP-1",
                    "status": "confirmed",
                    "arrival_date": "2026-12-20",
                    "departure_date": "2026-12-23",
                    "pms_updated_at": "2026-11-26T10:00:00Z",
                }
            ),
        ),
    )
    db.execute("select internal.complete_inbound_events_v1(%s, 'cli-test')", ([r[0] for r in claimed],))

    code, out, err = run(capsys, "trace", "req-cli-1")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("request req-cli-1: 4 steps")
    order = [
        "received pms/generic reservation.created",
        "pending -> processing",
        "created (confirmed)",
        "processing -> succeeded",
    ]
    positions = [next(i for i, line in enumerate(lines) if step in line) for step in order]
    assert positions == sorted(positions)
    assert 'requestId:"req-cli-1"' in out

    steps = run_json(capsys, "trace", "req-cli-1")["steps"]
    assert [s["change"] for s in steps] == order
    assert {s["tenant_id"] for s in steps} == {str(tenant.id)}

    code, out, err = run(capsys, "trace", "req-nobody")
    assert (code, out, err) == (1, "", "ops: nothing is stored for request id 'req-nobody'\n")


# ---- alerts -------------------------------------------------------------------------------------
def test_alerts_evaluate_acknowledge_and_resolve(
    db: Conn, factory: Factory, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = factory.tenant("Quiet Phone Hotel")
    factory.waha_configuration(tenant, status="SCAN_QR_CODE")
    db.execute(
        "update public.waha_configurations set status_changed_at = now() - interval '30 minutes' where tenant_id = %s",
        (tenant.id,),
    )

    code, out, err = run(capsys, "alerts", "--evaluate", "--tenant", str(tenant.id))
    assert code == 0, err
    assert out.startswith("evaluated now:")
    row = next(line for line in out.splitlines() if "whatsapp_disconnected" in line)
    assert "warning" in row and "open" in row and "Quiet Phone Hotel" in row and "WAHA Down" in row

    alerts = run_json(capsys, "alerts", "--tenant", "Quiet Phone Hotel")["alerts"]
    assert [(a["rule"], a["status"]) for a in alerts] == [("whatsapp_disconnected", "open")]
    alert_id = alerts[0]["id"]

    code, out, err = run(capsys, "alerts", "--ack", str(alert_id), "--by", "ada")
    assert code == 0, err
    assert f"alert {alert_id} acknowledged by ada" in out
    code, out, _ = run(capsys, "alerts", "--ack", str(alert_id), "--by", "ada")
    assert f"alert {alert_id} was already acknowledged" in out
    code, _, err = run(capsys, "alerts", "--ack", "987654321")
    assert (code, err) == (1, "ops: alert 987654321 not found\n")

    db.execute("update public.waha_configurations set session_status = 'WORKING' where tenant_id = %s", (tenant.id,))
    result = run_json(capsys, "alerts", "--evaluate", "--tenant", str(tenant.id))
    assert result["alerts"] == []
    resolved = run_json(capsys, "alerts", "--all", "--tenant", str(tenant.id))["alerts"]
    assert [(a["rule"], a["status"], a["acknowledged_by"]) for a in resolved] == [
        ("whatsapp_disconnected", "resolved", "ada")
    ]


# ---- usage and configuration --------------------------------------------------------------------
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(capsys)[0] == 2
    code, _, err = run(capsys, "replay", "not-a-number")
    assert code == 2 and "invalid int value" in err
    assert run(capsys, "sync", "x", "--kind", "sideways")[0] == 2
    monkeypatch.delenv("WORKER_DATABASE_URL")
    assert run(capsys, "status") == (2, "", "ops: set WORKER_DATABASE_URL or pass --database-url\n")


def test_an_unreachable_database_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://postgres@127.0.0.1:{cluster.free_port()}/postgres"
    code, out, err = run(capsys, "status", "--database-url", url)
    assert (code, out) == (1, "")
    assert err.startswith("ops: cannot reach the database:") and err.count("\n") == 1


def test_the_real_process(clean_db: str, factory: Factory) -> None:
    factory.tenant("Process Hotel")
    result = subprocess.run(
        [sys.executable, "-m", "worker.ops.cli", "status", "--json"],
        env={**os.environ, "WORKER_DATABASE_URL": clean_db},
        cwd=paths.ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert [t["tenant_name"] for t in json.loads(result.stdout)["tenants"]] == ["Process Hotel"]
