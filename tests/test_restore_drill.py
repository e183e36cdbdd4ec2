"""The restore drill: a backup taken mid-day, the day going on, the database lost and restored
from the backup, and the recovery (ops recover + the worker) bringing it back to the world.

Real parts throughout: the migrations on PostgreSQL, pg_dump and pg_restore into a fresh
cluster, the worker as a process, the edge functions (a booking's webhook, WAHA's acks), the
`ops recover` CLI; the PMS and WAHA are the simulators.
The simulators' records are the truth: every booking the PMS has is in the restored database,
no guest got a text twice, and every message that was due has gone out.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from devstack import backup, cluster
from devstack.simulators.pms.base import Booking
from devstack.simulators.pms.generic import GenericPmsSimulator, canonical
from devstack.simulators.pms.harness import configure
from devstack.simulators.waha import WahaSimulator
from tests import faults
from tests.processes import WorkerProcess, functions_server
from worker.webhook_signatures import standard_webhook_headers

pytestmark = pytest.mark.slow

PMS_KEY = "drill-pms-key"
PMS_SECRET = "whsec_ZHJpbGwtcG1zLXdlYmhvb2stc2VjcmV0LWtleTE="
WAHA_KEY = "drill-waha-key"
HOTELS = ("spree", "havel")
SETTINGS: dict[str, Any] = {**faults.WORKER_SETTINGS, "recovery_check_seconds": 0.5}


def _hotel(
    db: psycopg.Connection[Any], name: str, pms: GenericPmsSimulator, waha: WahaSimulator, functions: str
) -> Any:
    row = db.execute("insert into public.tenants (name) values (%s) returning id", (f"Hotel {name}",)).fetchone()
    assert row is not None
    tenant = row[0]
    db.execute(
        "insert into public.properties (tenant_id, name, timezone, pms_property_id, quiet_hours_start,"
        " quiet_hours_end) values (%s, %s, 'Europe/Berlin', %s, '00:00', '00:00')",
        (tenant, name, name.upper()),
    )
    pms_config = configure(db, tenant, "generic", pms.base_url, {"api_key": PMS_KEY})
    db.execute("select public.set_pms_webhook_secret(%s, %s)", (pms_config, PMS_SECRET))
    config = db.execute(
        "insert into public.waha_configurations"
        " (tenant_id, base_url, session_name, session_status, send_gap_min_ms, send_gap_max_ms)"
        " values (%s, %s, %s, 'WORKING', 0, 0) returning id",
        (tenant, waha.base_url, name),
    ).fetchone()
    assert config is not None
    db.execute("select public.set_waha_api_key(%s, %s)", (config[0], WAHA_KEY))
    secret = db.execute("select internal.rotate_waha_webhook_secret_v1(%s)", (config[0],)).fetchone()
    key = db.execute("select webhook_key from public.tenants where id = %s", (tenant,)).fetchone()
    assert secret is not None and key is not None
    # Acks come back through the waha-webhook edge function, as in production.
    waha.add_session(
        name,
        webhooks=[{"url": f"{functions}/waha-webhook/{key[0]}", "events": ["message.ack"], "hmac": {"key": secret[0]}}],
    )
    db.execute(
        "insert into public.message_templates (tenant_id, key, language, body)"
        " values (%s, 'booking_confirmation', 'en', 'Dear {{guest_name}}, your stay from {{arrival_date}} is booked.')",
        (tenant,),
    )
    db.execute(
        "insert into public.automation_rules (tenant_id, name, trigger, template_key)"
        " values (%s, 'Confirmation', 'booking_confirmed', 'booking_confirmation')",
        (tenant,),
    )
    return tenant


async def _post_booking(functions: str, webhook_key: str, booking: Booking) -> None:
    body = json.dumps(
        {"type": "reservation.created", "timestamp": booking.modified.isoformat(), "data": canonical(booking)}
    )
    headers = standard_webhook_headers(PMS_SECRET, f"msg_{uuid.uuid4().hex}", body.encode())
    headers["content-type"] = "application/json"
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{functions}/pms-webhook/generic/{webhook_key}", content=body, headers=headers)
    assert response.status_code == 202, response.text


def _booking(hotel: str, n: int) -> Booking:
    arrival = dt.date.today() + dt.timedelta(days=30 + n)
    return Booking(
        id=f"{hotel}-{n}",
        property_id=hotel.upper(),
        status="confirmed",
        arrival=arrival,
        departure=arrival + dt.timedelta(days=2),
        modified=dt.datetime.now(dt.UTC),
        first_name="Guest",
        last_name=f"{hotel} {n}",
        phone=f"+49151{HOTELS.index(hotel)}{n:06d}",
        language="en",
    )


def _book(pms: GenericPmsSimulator, hotel: str, n: int) -> Booking:
    booking = _booking(hotel, n)
    pms.put(booking)
    return booking


def _sync_all(db: psycopg.Connection[Any], kind: str) -> None:
    db.execute(
        "select internal.enqueue_sync_v1(c.id, %s::public.sync_kind, 'manual') from public.pms_configurations c",
        (kind,),
    )


def _note(db: psycopg.Connection[Any], tenant: Any, phone: str, text: str, due_in: float) -> None:
    """A message written by hand at the front desk, due in `due_in` seconds."""
    db.execute(
        "insert into public.message_logs (tenant_id, template_key, dedupe_key, to_phone, body, status, next_attempt_at)"
        " values (%s, 'note', %s, %s, %s, 'scheduled', now() + make_interval(secs => %s))",
        (tenant, f"note:{phone}", phone, text, due_in),
    )


def _unsent_due(db: psycopg.Connection[Any]) -> int:
    row = db.execute(
        "select count(*) from public.message_logs"
        " where next_attempt_at <= now() and status not in ('sent', 'delivered', 'read')"
    ).fetchone()
    assert row is not None
    return int(row[0])


def _count(db: psycopg.Connection[Any], *statuses: str) -> int:
    row = db.execute(
        "select count(*) from public.message_logs where status::text = any(%s)", (list(statuses),)
    ).fetchone()
    assert row is not None
    return int(row[0])


def _webhook_key(db: psycopg.Connection[Any], tenant: Any) -> str:
    row = db.execute("select webhook_key from public.tenants where id = %s", (tenant,)).fetchone()
    assert row is not None
    return str(row[0])


def _texts(waha: WahaSimulator) -> collections.Counter[tuple[str, str]]:
    """(chat, text) -> how many times sendText accepted it, over every session."""
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    for hotel in HOTELS:
        for message in waha.sent(hotel):
            counts[(message.chat_id, message.text)] += message.times
    return counts


def _ops(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WORKER_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "worker", "ops", *args], env=env, capture_output=True, text=True, check=False
    )


async def _wait(worker: WorkerProcess, check: Any, seconds: float = 60) -> None:
    async with asyncio.timeout(seconds):
        while not check():
            assert worker.process is not None and worker.process.returncode is None, worker.lines[-5:]
            await asyncio.sleep(0.1)


@pytest.mark.parametrize("opened_by", ["operator", "worker"])
async def test_a_restore_to_a_mid_day_backup_loses_no_booking_and_messages_no_guest_twice(opened_by: str) -> None:
    """`operator`: the runbook's procedure, `ops recover` before the worker starts. `worker`:
    nobody runs it; the worker finds the database restored into another cluster by itself."""
    port = cluster.free_port()
    functions = f"http://127.0.0.1:{port}/functions/v1"
    with (
        faults.fresh_database() as original,
        psycopg.connect(original.url, autocommit=True) as db,
        tempfile.TemporaryDirectory(prefix="drill-backup-") as backup_dir,
    ):
        async with (
            GenericPmsSimulator(api_keys=[PMS_KEY]) as pms,
            WahaSimulator(api_key=WAHA_KEY, ack_delays=(0.05, 0.1, 0.15), engine="WEBJS") as waha,
        ):
            tenants = {hotel: _hotel(db, hotel, pms, waha, functions) for hotel in HOTELS}
            with functions_server(original.url, port):
                # Morning: the first bookings come in through a PMS sync, are confirmed and read.
                for hotel in HOTELS:
                    _book(pms, hotel, 1)
                worker = await WorkerProcess(original.url, worker_id="drill-morning", **SETTINGS).start()
                try:
                    _sync_all(db, "full")
                    await _wait(worker, lambda: _count(db, "read") == 2)

                    # Notes due shortly after the backup: unsent in it, sent in the gap.
                    for hotel in HOTELS:
                        _note(db, tenants[hotel], _booking(hotel, 1).phone or "", f"Late check-out at {hotel}?", 3)
                    backup_taken = dt.datetime.now(dt.UTC)
                    taken = backup.take(original.url, Path(backup_dir))
                    # pg_dump's snapshot was taken between the two instants.
                    backup_done = dt.datetime.now(dt.UTC)

                    # The day goes on: bookings by PMS sync and by webhook, confirmed and read;
                    # the notes go out.
                    for hotel in HOTELS:
                        _book(pms, hotel, 2)
                    _sync_all(db, "incremental")
                    await _post_booking(functions, _webhook_key(db, tenants["spree"]), _book(pms, "spree", 3))
                    await _wait(worker, lambda: _count(db, "read") == 7)
                    # Booked at the PMS just before the database was lost: not yet synced.
                    _book(pms, "havel", 4)
                    sent_before_loss = _texts(waha)
                finally:
                    await worker.stop()

            # The database is lost; the backup goes into a fresh cluster.
            with cluster.throwaway_cluster() as fresh, psycopg.connect(fresh.url, autocommit=True) as restored:
                backup.restore(taken, fresh.url)
                assert _count(restored, "sent", "delivered", "read") == 2, "the restored database is the morning's"

                if opened_by == "operator":
                    opened = _ops(
                        fresh.url,
                        "recover",
                        "--since",
                        backup_taken.isoformat(),
                        "--reason",
                        "restore drill",
                        "--by",
                        "drill",
                    )
                    assert opened.returncode == 0, opened.stderr
                    assert "sends until" in opened.stdout

                with functions_server(fresh.url, port):
                    worker = await WorkerProcess(fresh.url, worker_id="drill-recovered", **SETTINGS).start()
                    try:
                        await _wait(worker, lambda: _count(restored, "sent", "delivered", "read") == 8)
                        await _wait(worker, lambda: _unsent_due(restored) == 0 and _count(restored, "read") == 3)
                    finally:
                        await worker.stop()

                booked = {b.id for b in pms.bookings.values()}
                stored = {r[0] for r in restored.execute("select pms_reservation_id from public.reservations")}
                assert stored == booked, "no booking is missing"

                texts = _texts(waha)
                assert [k for k, n in texts.items() if n > 1] == [], "no guest got a text twice"
                assert len(texts) == 8, "each booking's confirmation and each note went out"
                new_since_loss = set(texts) - set(sent_before_loss)
                assert {text for _, text in new_since_loss} == {
                    f"Dear Guest havel 4, your stay from {_booking('havel', 4).arrival.isoformat()} is booked."
                }, "after the restore only the booking the database never had was confirmed"

                summary = restored.execute(
                    "select already_sent, syncs_failed, requested_by, finished_at is not null, since <= %s"
                    " from public.restore_recoveries",
                    (backup_done,),
                ).fetchall()
                requested_by = "drill" if opened_by == "operator" else "worker drill-recovered"
                assert summary == [(5, 0, requested_by, True, True)], (
                    "one recovery, from the backup at the latest: the gap's 5 sends found in WAHA's history"
                )
                listing = _ops(fresh.url, "recoveries")
                assert listing.returncode == 0 and "done" in listing.stdout, listing.stdout
