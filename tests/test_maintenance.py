"""Maintenance windows as data (issue 17), on the real migrated database, with a clock that is
set (every function takes p_now), never waited on:

- the scheduled window (Sundays 02:00-04:00 UTC) and emergency windows (announced >= 1 h ahead);
- tenants told in advance through their notification URL (pg_net's queue shows the POST);
- alerts opened during a window annotated, held back from paging unless critical and unrelated,
  and paged when the window ends if still open;
- migrations only inside a window: `python -m devstack deploy` refuses outside one unless forced,
  and records who forced it and why.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from devstack import cluster, database, paths
from tests.factories import Factory

Conn = psycopg.Connection[Any]

WEDNESDAY = dt.datetime(2027, 1, 6, 12, 0, tzinfo=dt.UTC)
SUNDAY_2AM = dt.datetime(2027, 1, 10, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def windows(db: Conn) -> Iterator[None]:
    """The weekly schedule on (the test runner turns it off), and no window left behind."""

    def clear() -> None:
        db.execute("delete from ops.deployments")
        db.execute("update ops.alerts set maintenance_window_id = null")
        db.execute("delete from ops.maintenance_windows")

    clear()
    db.execute("update ops.maintenance_schedule set enabled = true")
    try:
        yield
    finally:
        db.execute("update ops.maintenance_schedule set enabled = false")
        db.execute("update ops.settings set oncall_webhook_url = null, oncall_webhook_secret = null")
        clear()


def one(db: Conn, sql: str, *params: object) -> dict[str, Any]:
    with db.cursor(row_factory=dict_row) as cur:
        row = cur.execute(sql, params).fetchone()
    assert row is not None
    return dict(row)


def requests_to(db: Conn, url: str) -> list[dict[str, Any]]:
    with db.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "select method, url, headers, convert_from(body, 'UTF8')::jsonb as body from net.http_request_queue"
            " where url = %s order by id",
            (url,),
        ).fetchall()
    return [dict(r) for r in rows]


# ---- the windows --------------------------------------------------------------------------------
def test_the_scheduled_window_is_sunday_2_to_4_utc(db: Conn, windows: None) -> None:
    created = one(db, "select ops.ensure_scheduled_windows(%s) as n", WEDNESDAY)["n"]
    assert created == 4  # four Sundays ahead
    assert one(db, "select ops.ensure_scheduled_windows(%s) as n", WEDNESDAY)["n"] == 0  # idempotent

    nxt = one(db, "select * from ops.next_maintenance_window(%s)", WEDNESDAY)
    assert (nxt["kind"], nxt["starts_at"], nxt["ends_at"]) == (
        "scheduled",
        SUNDAY_2AM,
        SUNDAY_2AM + dt.timedelta(hours=2),
    )
    assert nxt["notice_at"] == SUNDAY_2AM - dt.timedelta(hours=48)

    inside = one(db, "select id from ops.maintenance_window_at(%s)", SUNDAY_2AM + dt.timedelta(minutes=90))
    assert inside["id"] == nxt["id"]
    for outside in (SUNDAY_2AM - dt.timedelta(seconds=1), SUNDAY_2AM + dt.timedelta(hours=2), WEDNESDAY):
        assert one(db, "select id from ops.maintenance_window_at(%s)", outside)["id"] is None


def test_emergency_maintenance_needs_an_hours_notice_and_tells_every_tenant_at_once(
    db: Conn, factory: Factory, windows: None
) -> None:
    told = factory.tenant("Told Hotel")
    db.execute("update public.tenants set notification_url = 'https://told.test/ops' where id = %s", (told.id,))
    factory.tenant("No URL Hotel")

    with pytest.raises(psycopg.errors.InvalidParameterValue, match="at least 1 hour ahead"):
        db.execute(
            "select ops.schedule_emergency_maintenance(%s, '30 minutes', 'disk full', 'ada', p_now => %s)",
            (WEDNESDAY + dt.timedelta(minutes=59), WEDNESDAY),
        )
    window = one(
        db,
        "select ops.schedule_emergency_maintenance(%s, '45 minutes', 'PostgreSQL minor upgrade', 'ada',"
        " '{database}', %s) as id",
        WEDNESDAY + dt.timedelta(hours=1),
        WEDNESDAY,
    )["id"]

    [post] = requests_to(db, "https://told.test/ops")
    assert post["method"] == "POST" and post["headers"]["webhook-id"].startswith("mnt_")
    notice = post["body"]["maintenance"]
    assert post["body"]["type"] == "maintenance.scheduled"
    assert (notice["id"], notice["kind"], notice["reason"], notice["hours_ahead"]) == (
        window,
        "emergency",
        "PostgreSQL minor upgrade",
        1.0,
    )
    assert notice["components"] == ["database"]
    assert one(db, "select count(*) as n from ops.maintenance_notices")["n"] == 1  # the tenant without a URL: none

    # Told once, at announcement: later ticks send nothing new.
    assert one(db, "select * from ops.maintenance_tick(%s)", WEDNESDAY + dt.timedelta(minutes=5))["notices_sent"] == 0
    assert len(requests_to(db, "https://told.test/ops")) == 1


def test_tenants_hear_of_the_scheduled_window_48_hours_ahead(db: Conn, factory: Factory, windows: None) -> None:
    tenant = factory.tenant("Planning Hotel")
    db.execute("update public.tenants set notification_url = 'https://plan.test/ops' where id = %s", (tenant.id,))

    db.execute("select * from ops.maintenance_tick(%s)", (SUNDAY_2AM - dt.timedelta(hours=49),))
    assert requests_to(db, "https://plan.test/ops") == []
    db.execute("select * from ops.maintenance_tick(%s)", (SUNDAY_2AM - dt.timedelta(hours=47),))
    [post] = requests_to(db, "https://plan.test/ops")
    assert post["body"]["maintenance"]["kind"] == "scheduled"
    assert post["body"]["maintenance"]["starts_at"].startswith("2027-01-10T02:00:00")
    assert post["body"]["maintenance"]["hours_ahead"] == 47.0


# ---- alerts during a window ---------------------------------------------------------------------
def test_alerts_in_a_window_are_annotated_and_held_unless_critical_and_unrelated(
    db: Conn,
    factory: Factory,
    windows: None,
    clean_db: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from worker.ops.cli import main as ops_main

    db.execute("update ops.settings set oncall_webhook_url = 'https://oncall.test/page'")
    tenant = factory.tenant("Busy Hotel")
    db.execute("update public.tenants set notification_url = 'https://busy.test/ops' where id = %s", (tenant.id,))
    # A window in force now (announced two hours ago), touching the database and the webhooks.
    window = one(
        db,
        "select ops.schedule_emergency_maintenance(now() - interval '30 minutes', '2 hours', 'index rebuild', 'ada',"
        " '{database,webhooks}', now() - interval '2 hours') as id",
    )["id"]

    # A warning: held. A critical rule about the webhooks (touched): held. A critical rule about
    # sending messages (not touched): paged.
    factory.waha_configuration(tenant, status="SCAN_QR_CODE")
    db.execute(
        "update public.waha_configurations set status_changed_at = now() - interval '30 minutes' where tenant_id = %s",
        (tenant.id,),
    )
    for i in range(10):
        factory.message(tenant, status="dead", last_error="WAHA 500", dedupe_key=f"dead-{i}")
        db.execute(
            "insert into public.inbound_events (tenant_id, source, provider, event_id, event_type, payload, status,"
            " attempts, processed_at) values (%s, 'pms', 'generic', %s, 'x', '{}', 'dead', 10, now())",
            (tenant.id, f"dead-{i}"),
        )
    db.execute(
        "select ops.evaluate_alerts(array['whatsapp_disconnected', 'webhook_processing_failure_critical',"
        " 'message_delivery_failure_critical'])"
    )

    with db.cursor(row_factory=dict_row) as cur:
        sent = cur.execute(
            "select a.rule_key, a.maintenance_window_id, n.target, n.status, n.body -> 'alert' -> 'maintenance' as m"
            " from ops.alerts a join ops.notifications n on n.alert_id = a.id order by a.rule_key, n.target"
        ).fetchall()
    by = {(r["rule_key"], r["target"]): r for r in sent}
    assert {r["maintenance_window_id"] for r in sent} == {window}
    assert by[("whatsapp_disconnected", "oncall")]["status"] == "held"
    assert by[("whatsapp_disconnected", "tenant")]["status"] == "held"
    assert by[("webhook_processing_failure_critical", "oncall")]["status"] == "held"
    assert by[("message_delivery_failure_critical", "oncall")]["status"] == "sent"
    assert by[("whatsapp_disconnected", "oncall")]["m"]["held_back"] is True
    assert by[("message_delivery_failure_critical", "oncall")]["m"] == {
        **by[("message_delivery_failure_critical", "oncall")]["m"],
        "window_id": window,
        "held_back": False,
        "reason": "index rebuild",
    }
    pages = [r["body"]["alert"]["rule"] for r in requests_to(db, "https://oncall.test/page")]
    assert pages == ["message_delivery_failure_critical"]

    # What the on-call engineer sees: the window in force, and which alerts opened in it.
    monkeypatch.setenv("WORKER_DATABASE_URL", clean_db)
    assert ops_main(["status"]) == 0
    assert f"maintenance: emergency window {window} in force until" in capsys.readouterr().out
    assert ops_main(["alerts", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["alerts"]
    assert {a["rule"]: a["maintenance_window_id"] for a in listed} == {
        "whatsapp_disconnected": window,
        "webhook_processing_failure_critical": window,
        "message_delivery_failure_critical": window,
    }

    # The webhooks recover during the window: that alert resolves, and nobody is ever paged for it.
    db.execute("select public.replay_inbound_event(id) from public.inbound_events where tenant_id = %s", (tenant.id,))
    db.execute("select ops.evaluate_alerts(array['webhook_processing_failure_critical'])")
    # The window ends with WhatsApp still disconnected: that page goes out now.
    released = one(db, "select * from ops.maintenance_tick(now() + interval '2 hours')")
    assert released["pages_released"] == 2  # on-call and the tenant
    db.execute("select ops.dispatch_notifications()")
    pages = [r["body"]["alert"]["rule"] for r in requests_to(db, "https://oncall.test/page")]
    assert pages == ["message_delivery_failure_critical", "whatsapp_disconnected"]
    held = db.execute(
        "select n.event, n.status from ops.notifications n join ops.alerts a on a.id = n.alert_id"
        " where a.rule_key = 'webhook_processing_failure_critical' order by n.id"
    ).fetchall()
    assert held == [("opened", "held"), ("resolved", "held")]


# ---- deployments --------------------------------------------------------------------------------
def test_a_deployment_outside_a_window_is_refused_unless_forced_with_who_and_why(db: Conn, windows: None) -> None:
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as refused:
        db.execute("select ops.begin_deployment('{20270101000000}', p_now => %s)", (WEDNESDAY,))
    assert "outside a maintenance window" in str(refused.value) and "2027-01-10 02:00 to 04:00 UTC" in str(
        refused.value
    )
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="who forces it and why"):
        db.execute("select ops.begin_deployment('{20270101000000}', true, 'ada', ' ', %s)", (WEDNESDAY,))

    forced = one(
        db, "select ops.begin_deployment('{20270101000000}', true, 'ada', 'security fix', %s) as id", WEDNESDAY
    )["id"]
    inside = one(
        db,
        "select ops.begin_deployment('{20270101000000}', p_now => %s) as id",
        SUNDAY_2AM + dt.timedelta(minutes=10),
    )["id"]
    with db.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "select d.id, d.forced, d.forced_by, d.force_reason, w.starts_at from ops.deployments d"
            " left join ops.maintenance_windows w on w.id = d.window_id order by d.id"
        ).fetchall()
    assert [(r["id"], r["forced"], r["forced_by"], r["force_reason"], r["starts_at"]) for r in rows] == [
        (forced, True, "ada", "security fix", None),
        (inside, False, None, None, SUNDAY_2AM),
    ]


@pytest.mark.slow
def test_deploy_command_applies_pending_migrations_only_in_a_window() -> None:
    """The real command on a database one migration behind, through the Supabase CLI."""
    files = sorted(paths.MIGRATIONS_DIR.glob("*.sql"))
    # Applied: everything up to the migration that brings the rule; pending: what follows it.
    policy = next(i for i, f in enumerate(files) if "create function ops.begin_deployment" in f.read_text())
    applied_first, pending = files[: policy + 1], [f.stem.split("_", 1)[0] for f in files[policy + 1 :]]
    if not pending:
        pytest.skip("no migration comes after the one that brings maintenance windows")
    with cluster.throwaway_cluster() as pg:
        database.install_pg_net_emulation()
        database.bootstrap_platform(pg.url)
        with psycopg.connect(pg.url, autocommit=True) as conn:
            # Recorded as the Supabase CLI records them.
            conn.execute("create schema supabase_migrations")
            conn.execute(
                "create table supabase_migrations.schema_migrations (version text primary key, statements text[],"
                " name text)"
            )
            for path in applied_first:
                conn.execute(path.read_text().encode())
                version, name = path.stem.split("_", 1)
                conn.execute(
                    "insert into supabase_migrations.schema_migrations (version, name) values (%s, %s)",
                    (version, name),
                )
            conn.execute("update ops.maintenance_schedule set enabled = true")

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "devstack", "deploy", "--database-url", pg.url, *args],
                cwd=paths.ROOT,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )

        def applied() -> list[str]:
            with psycopg.connect(pg.url) as conn:
                return [r[0] for r in conn.execute("select version from supabase_migrations.schema_migrations")]

        refused = run("--now", WEDNESDAY.isoformat())
        assert refused.returncode == 1, refused.stderr
        assert "deploy refused: outside a maintenance window" in refused.stderr and "--force" in refused.stderr
        assert not set(pending) & set(applied())
        no_reason = run("--now", WEDNESDAY.isoformat(), "--force", "--by", "ada")
        assert no_reason.returncode == 2 and "who forces it and why" in no_reason.stderr

        done = run("--now", (SUNDAY_2AM + dt.timedelta(minutes=5)).isoformat())
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"{len(pending)} migration(s) pending: {', '.join(pending)}" in done.stdout
        assert f"deployed {len(pending)} migration(s)" in done.stdout and "inside maintenance window" in done.stdout
        assert set(pending) <= set(applied())
        with psycopg.connect(pg.url) as conn:
            row = conn.execute("select status, forced, migrations from ops.deployments").fetchall()
        assert row == [("succeeded", False, pending)]

        again = run("--now", WEDNESDAY.isoformat())
        assert (again.returncode, again.stdout.strip()) == (0, "nothing to deploy: every migration is applied")


def test_ops_maintenance_announces_lists_and_cancels_windows(
    db: Conn,
    factory: Factory,
    windows: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    clean_db: str,
) -> None:
    from worker.ops.cli import main as ops_main

    monkeypatch.setenv("WORKER_DATABASE_URL", clean_db)
    tenant = factory.tenant("Listening Hotel")
    db.execute("update public.tenants set notification_url = 'https://listen.test/ops' where id = %s", (tenant.id,))
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)).isoformat()
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()

    code = ops_main(["maintenance", "--emergency", soon, "--reason", "disk", "--by", "ada"])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "") and "at least 1 hour ahead" in err
    code = ops_main(["maintenance", "--emergency", "2027-01-01T10:00", "--reason", "disk"])
    assert code == 2 and "needs a time zone" in capsys.readouterr().err

    code = ops_main(
        [
            "maintenance",
            "--emergency",
            later,
            "--duration",
            "30 minutes",
            "--reason",
            "replace a failing disk",
            "--components",
            "database",
            "--by",
            "ada",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("emergency maintenance window ") and "replace a failing disk" in out
    row = next(line for line in out.splitlines() if "emergency" in line and "replace" in line)
    assert "0/1" in row  # queued for the one tenant with a URL, not delivered yet
    assert [r["url"] for r in requests_to(db, "https://listen.test/ops")] == ["https://listen.test/ops"]

    listed = json.loads(_run_json(ops_main, capsys, ["maintenance", "--json"]))
    [window] = [w for w in listed["windows"] if w["kind"] == "emergency"]
    assert (window["components"], window["created_by"], window["in_force"]) == (["database"], "ada", False)
    assert any(w["kind"] == "scheduled" for w in listed["windows"])  # the weekly ones ahead

    code = ops_main(["maintenance", "--cancel", str(window["id"]), "--by", "ada"])
    out, _ = capsys.readouterr()
    assert code == 0 and f"maintenance window {window['id']} cancelled" in out
    # The tenant was told; now it is told the window is off.
    told, taken_back = requests_to(db, "https://listen.test/ops")
    assert (told["body"]["type"], taken_back["body"]["type"]) == ("maintenance.scheduled", "maintenance.cancelled")
    assert taken_back["body"]["maintenance"]["id"] == window["id"]
    assert ops_main(["maintenance", "--cancel", str(window["id"])]) == 1


def _run_json(main: Any, capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out
