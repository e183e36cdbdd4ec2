"""Runbook item 12: writes that row-level security refused. A hotel owner's insert into another
hotel's properties through the Data API is refused (403) and leaves nothing in the database; the
worker counts it from the Postgres log — the local server's jsonlog file, or `postgres_logs`
through the Management API (devstack's simulator, reading that same log) — into
ops.rls_refused_writes(), the metric `rls_refused_writes` and its alert."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from postgrest.exceptions import APIError

from devstack.gateway.server import Gateway
from devstack.simulators.management_api import ManagementApiSimulator
from supabase import AsyncClientOptions, acreate_client
from tests.factories import Factory, auth_user
from worker.db.pool import Pool
from worker.metrics import REGISTRY
from worker.ops.gauges import refresh_gauges
from worker.ops.rls_logs import QUERY, RlsFigures, RlsLogReader, read_jsonlog

PASSWORD = "correct horse battery staple"


@pytest.fixture
def no_refusals(db: psycopg.Connection[Any]) -> Iterator[None]:
    """Counts and read positions are not emptied between tests: this test starts without them."""
    db.execute("delete from ops.rls_refusals; delete from ops.log_cursors")
    yield
    db.execute("delete from ops.rls_refusals; delete from ops.log_cursors")


@pytest.fixture
async def management_api(clean_db: str) -> AsyncIterator[ManagementApiSimulator]:
    async with ManagementApiSimulator(clean_db) as api:
        yield api


def jsonlog(db: psycopg.Connection[Any]) -> Path:
    row = db.execute("select pg_current_logfile('jsonlog')").fetchone()
    assert row is not None and row[0], "the test cluster writes a jsonlog (devstack/cluster.py)"
    return Path(row[0])


async def refused_write(db: psycopg.Connection[Any], factory: Factory, gateway_url: str, publishable: str) -> None:
    """Hotel A's owner tries to add a property to hotel B through the Data API: 403."""
    a, b = factory.tenant("Hotel A"), factory.tenant("Hotel B", pms_property_id="PROP-B")
    email = f"owner-{uuid.uuid4().hex[:6]}@hotel-a.test"
    owner = auth_user(db, email, PASSWORD)
    db.execute("insert into public.tenant_members (tenant_id, user_id, role) values (%s, %s, 'owner')", (a.id, owner))
    sb = await acreate_client(gateway_url, publishable, AsyncClientOptions(persist_session=False))
    await sb.auth.sign_in_with_password({"email": email, "password": PASSWORD})
    with pytest.raises(APIError) as refused:
        await sb.table("properties").insert({"tenant_id": str(b.id), "name": "Annexe", "timezone": "UTC"}).execute()
    assert refused.value.code == "42501"
    row = db.execute("select count(*) from public.properties where name = 'Annexe'").fetchone()
    assert row == (0,), "the refused write left nothing in the database"


async def until_counted(reader: RlsLogReader) -> RlsFigures:
    """Reads until a read finds a refusal (the server's log collector writes the line a moment
    after the statement failed)."""
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        figures = await reader.read_once()
        if figures is not None and figures.total:
            return figures
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("no refused write found in the Postgres log")
        await asyncio.sleep(0.1)


def figure(db: psycopg.Connection[Any]) -> dict[str, int]:
    rows = db.execute(
        "select table_name, refused"
        " from ops.rls_refused_writes(now() - interval '15 minutes', now() + interval '1 minute')"
    ).fetchall()
    return {str(t): int(n) for t, n in rows}


def measured(db: psycopg.Connection[Any]) -> Any:
    row = db.execute("select value from ops.measurements('15 minutes') where metric = 'rls_refused_writes'").fetchone()
    return None if row is None else row[0]


async def test_a_write_rls_refused_is_counted_from_the_local_postgres_log(
    clean_db: str, db: psycopg.Connection[Any], factory: Factory, pool: Pool, no_refusals: None
) -> None:
    reader = RlsLogReader(pool, interval=dt.timedelta(minutes=1), log_file=jsonlog(db))
    assert measured(db) is None, "no log read yet: unknown, not zero"
    # What earlier tests left in the log is read past, until a read finds nothing new (the log
    # collector writes a line a moment after the statement that caused it).
    while (earlier := await reader.read_once()) is not None and earlier.total:  # noqa: ASYNC110 (the log is a file)
        await asyncio.sleep(0.5)
    db.execute("delete from ops.rls_refusals")
    assert measured(db) == 0

    async with Gateway(clean_db) as gw:
        await refused_write(db, factory, gw.url, gw.keys.publishable_key)
    figures = await until_counted(reader)
    assert figures.refused == {"properties": 1}
    assert figure(db) == {"properties": 1}
    assert measured(db) == 1
    await refresh_gauges(pool)
    assert REGISTRY.get_sample_value("ops_rls_refused_writes_15m") == 1, "the worker's /metrics shows it"

    db.execute("select ops.evaluate_alerts()")
    alert = db.execute(
        "select summary, value from ops.alerts where rule_key = 'rls_refused_writes' and status = 'open'"
    )
    opened = alert.fetchone()
    assert opened is not None, "the alert opened"
    assert opened[1] == 1, opened

    # The next read starts where this one stopped: nothing is counted twice.
    again = await reader.read_once()
    assert again is not None and again.total == 0
    assert figure(db) == {"properties": 1}


def test_a_flood_of_refused_writes_is_a_row_per_table_and_minute(tmp_path: Path) -> None:
    log = tmp_path / "postgresql.json"
    line = (
        '{"timestamp":"2026-12-03 13:05:%02d.000 UTC","user":"authenticated","error_severity":"ERROR",'
        '"state_code":"42501","message":"new row violates row-level security policy for table \\"%s\\""}\n'
    )
    other = (
        '{"timestamp":"2026-12-03 13:05:00.000 UTC","state_code":"42501","message":"permission denied for table x"}\n'
    )
    log.write_text("".join(line % (i % 60, "properties") for i in range(5000)) + other + line % (1, "guests"))
    chunk = read_jsonlog(log, None, now=dt.datetime.now(dt.UTC))
    assert dict(chunk.counts) == {
        ("2026-12-03T13:05:00+00:00", "properties"): 5000,
        ("2026-12-03T13:05:00+00:00", "guests"): 1,
    }
    # A line still being written waits for the next read; the offset moves past whole lines only.
    with log.open("a") as f:
        f.write('{"timestamp":"2026-12-03 13:06:00.000 UTC","state_code":"42501","mess')
    later = read_jsonlog(log, chunk.position, now=dt.datetime.now(dt.UTC))
    assert not later.counts and later.position == chunk.position


async def test_hosted_postgres_logs_through_the_management_api(
    clean_db: str,
    db: psycopg.Connection[Any],
    factory: Factory,
    pool: Pool,
    http: httpx.AsyncClient,
    management_api: ManagementApiSimulator,
    no_refusals: None,
) -> None:
    log, started = jsonlog(db), dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    async with Gateway(clean_db) as gw:
        await refused_write(db, factory, gw.url, gw.keys.publishable_key)
    # Hosted logs arrive late (the reader's lag); here: until the server's collector wrote the line.
    deadline = asyncio.get_running_loop().time() + 20
    while not any(
        table == "properties" and dt.datetime.fromisoformat(minute) >= started
        for minute, table in read_jsonlog(log, None, now=started).counts
    ):
        assert asyncio.get_running_loop().time() < deadline, "the refusal never reached the Postgres log"
        await asyncio.sleep(0.1)

    def reader() -> RlsLogReader:
        return RlsLogReader(
            pool,
            interval=dt.timedelta(seconds=30),
            http=http,
            api_url=management_api.base_url,
            project_ref=management_api.project_ref,
            access_token=management_api.access_token,
        )

    figures = await reader().read_once()
    assert figures is not None
    assert figures.source == "postgres_logs"
    assert figures.refused.get("properties", 0) >= 1
    assert set(management_api.queries) == {QUERY}
    assert figure(db).get("properties", 0) == figures.refused["properties"]
    assert measured(db) == figures.total
