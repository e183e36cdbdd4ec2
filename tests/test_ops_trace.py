"""Tracing (issue 17): a sync asked for with request_sync ("Sync now") carries a request id as a
webhook does, and `ops trace` follows a sync job id and a reservation id across the database and
the worker's own log lines — with the real worker process running the real sync against the PMS
simulator."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from devstack.simulators.pms.base import Booking
from devstack.simulators.pms.generic import GenericPmsSimulator
from devstack.simulators.pms.harness import add_booking_confirmation, configure
from tests.factories import Factory, Tenant
from tests.processes import WorkerProcess
from worker.ops.cli import main as ops_main

Conn = psycopg.Connection[Any]
KEY = "trace-key"
FAST = {"lease_seconds": 5, "poll_interval_seconds": 0.2, "shutdown_grace_seconds": 10, "retry_base_seconds": 1}


def request_sync(db: Conn, user: uuid.UUID, configuration: str, kind: str, headers: dict[str, str] | None) -> str:
    """As the dashboard calls it through PostgREST: the member's JWT claims and request headers."""
    with db.transaction(), db.cursor() as cur:
        cur.execute("set local role authenticated")
        cur.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps({"sub": str(user)}),))
        if headers is not None:
            cur.execute("select set_config('request.headers', %s, true)", (json.dumps(headers),))
        row = cur.execute("select public.request_sync(%s, %s)::text", (configuration, kind)).fetchone()
    assert row is not None
    return str(row[0])


def request_id_of(db: Conn, job: str) -> str:
    row = db.execute("select request_id from public.sync_jobs where id = %s", (job,)).fetchone()
    assert row is not None and row[0] is not None
    return str(row[0])


def test_a_sync_asked_for_from_the_dashboard_carries_a_request_id(db: Conn, factory: Factory) -> None:
    tenant = factory.tenant()
    owner = factory.user()
    db.execute(
        "insert into public.tenant_members (tenant_id, user_id, role) values (%s, %s, 'owner')", (tenant.id, owner)
    )
    config = configure(db, tenant.id, "generic", "https://pms.example.com", {"api_key": KEY})

    generated = request_id_of(db, request_sync(db, owner, config, "incremental", None))
    assert generated.startswith("sync-") and len(generated) == 21
    passed_on = request_id_of(db, request_sync(db, owner, config, "full", {"x-request-id": "req-dashboard-7"}))
    assert passed_on == "req-dashboard-7"


@pytest.fixture
async def pms() -> AsyncIterator[GenericPmsSimulator]:
    async with GenericPmsSimulator(api_keys=[KEY]) as sim:
        yield sim


def trace(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code = ops_main(["trace", *argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    return dict(json.loads(out))


@pytest.mark.timeout(300)
async def test_ops_trace_follows_a_job_and_a_reservation_through_the_database_and_the_workers_log(
    db: Conn,
    clean_db: str,
    factory: Factory,
    pms: GenericPmsSimulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant: Tenant = factory.tenant(timezone="Europe/Berlin", pms_property_id="PROP-1")
    owner = factory.user()
    db.execute(
        "insert into public.tenant_members (tenant_id, user_id, role) values (%s, %s, 'owner')", (tenant.id, owner)
    )
    add_booking_confirmation(db, tenant.id)
    config = configure(db, tenant.id, "generic", pms.base_url, {"api_key": KEY})
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    pms.put(
        Booking(
            id="T-1",
            property_id="PROP-1",
            status="confirmed",
            arrival=dt.date.today() + dt.timedelta(days=20),
            departure=dt.date.today() + dt.timedelta(days=22),
            modified=now,
            first_name="Tracy",
            last_name="Trace",
            phone="+4915112349999",
            email="tracy@example.com",
        )
    )
    job = request_sync(db, owner, config, "full", None)
    request_id = request_id_of(db, job)

    worker = await WorkerProcess(clean_db, **FAST).start()
    try:
        async with asyncio.timeout(120):
            while db.execute("select status::text from public.sync_jobs where id = %s", (job,)).fetchone() != (  # noqa: ASYNC110 (the state is in the database)
                "succeeded",
            ):
                await asyncio.sleep(0.2)
        await worker.wait_for_log(lambda line: line.get("jobId") == job and "succeeded in" in str(line.get("msg")))
    finally:
        await worker.stop()
    log = tmp_path / "worker.log"
    log.write_text("".join(json.dumps(line) + "\n" for line in worker.lines if line.get("level") != "raw"))
    monkeypatch.setenv("WORKER_DATABASE_URL", clean_db)

    by_job = trace(capsys, job, "--log", str(log))
    assert by_job["kind"] == "job"
    changes = [(s["entity"], s["change"]) for s in by_job["steps"]]
    # "Sync now" joined the first sync of the new connection, which is this request's now.
    assert ("sync_job", "requested full sync (initial)") in changes
    assert ("sync_job", "result: succeeded") in changes
    assert ("reservation", "created (confirmed)") in changes
    logged = [s for s in by_job["steps"] if s["entity"] == "log"]
    assert logged and all(s["detail"].get("jobId") == job or s["request_id"] == request_id for s in logged)
    assert [s["at"] for s in by_job["steps"]] == sorted(s["at"] for s in by_job["steps"])
    assert f'jobId:"{job}"' in by_job["log_query"] and request_id in by_job["log_query"]

    row = db.execute("select id::text from public.reservations where pms_reservation_id = 'T-1'").fetchone()
    assert row is not None
    reservation = str(row[0])
    by_reservation = trace(capsys, reservation, "--log", str(log))
    assert by_reservation["kind"] == "reservation"
    steps = by_reservation["steps"]
    assert {s["request_id"] for s in steps if s["entity"] != "log"} == {request_id}
    assert ("reservation", "created (confirmed)") in [(s["entity"], s["change"]) for s in steps]
    assert any(s["entity"] == "message" and s["change"].startswith("planned") for s in steps)
    assert any(s["entity"] == "sync_job" and s["entity_id"] == job for s in steps)
    assert any(s["entity"] == "log" for s in steps)

    code = ops_main(["trace", str(uuid.uuid4()), "--kind", "reservation"])
    assert code == 1 and "not found" in capsys.readouterr().err
