"""The runbook's authentication figures from what Auth records: failed logins and refused
refreshes reach Auth's request log only, and the worker reads that log through the Management
API's logs endpoint (here devstack's simulator of it, fed by the local Auth behind the gateway)
into ops.auth_metrics() and the alert rules."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from supabase_auth.errors import AuthApiError

from devstack.gateway.server import Gateway
from devstack.simulators.management_api import ManagementApiSimulator
from supabase import AsyncClientOptions, acreate_client
from tests.factories import auth_user
from tests.processes import WorkerProcess
from worker.db.pool import Pool
from worker.ops.auth_logs import QUERY, AuthLogFigures, AuthLogReader, AuthLogsError

PASSWORD = "correct horse battery staple"


@pytest.fixture
def no_auth_samples(db: psycopg.Connection[Any]) -> Iterator[None]:
    """Neither Auth's log nor ops.samples is emptied between tests: this test starts without
    other tests' requests in the log, and its samples do not outlive it."""
    db.execute("truncate devstack.auth_logs")
    yield
    db.execute("delete from ops.samples where name like 'auth.%'")


@pytest.fixture
async def management_api(clean_db: str) -> AsyncIterator[ManagementApiSimulator]:
    async with ManagementApiSimulator(clean_db) as api:
        yield api


def reader(pool: Pool, http: httpx.AsyncClient, api: ManagementApiSimulator) -> AuthLogReader:
    return AuthLogReader(
        pool,
        http,
        api_url=api.base_url,
        project_ref=api.project_ref,
        access_token=api.access_token,
        interval=dt.timedelta(minutes=1),
        lag=dt.timedelta(0),
    )


async def test_failed_logins_and_refresh_failures_reach_the_metrics_and_alerts(
    clean_db: str,
    db: psycopg.Connection[Any],
    pool: Pool,
    http: httpx.AsyncClient,
    management_api: ManagementApiSimulator,
    no_auth_samples: None,
) -> None:
    email = f"frontdesk-{uuid.uuid4().hex[:6]}@hotel.test"
    auth_user(db, email, PASSWORD)
    async with Gateway(clean_db) as gw:
        sb = await acreate_client(gw.url, gw.keys.publishable_key, AsyncClientOptions(persist_session=False))
        for attempt in ({"email": email, "password": "guess"}, {"email": "ghost@hotel.test", "password": "guess"}):
            with pytest.raises(AuthApiError):
                await sb.auth.sign_in_with_password(attempt)  # type: ignore[arg-type]
        signed_in = await sb.auth.sign_in_with_password({"email": email, "password": PASSWORD})
        assert signed_in.session is not None
        with pytest.raises(AuthApiError):
            await sb.auth.refresh_session("abcdefghijkl")  # never issued
    assert ops_figure(db, "failed_logins") is None, "nothing read yet: unknown, not zero"

    figures = await reader(pool, http, management_api).read_once()
    assert figures is not None
    assert (figures.failed_logins, figures.refresh_failures) == (2, 1), "an unknown address counts too"
    assert management_api.queries == [QUERY]
    assert ops_figure(db, "failed_logins") == 2
    assert ops_figure(db, "refresh_failures") == 1
    assert ops_figure(db, "logins") == 1, "successful logins still come from the audit log"

    db.execute("select ops.evaluate_alerts()")
    opened = db.execute("select rule_key from ops.alerts where status = 'open' order by rule_key").fetchall()
    assert ("session_refresh_failures",) in opened

    # A second read right away has no window to read: nothing is counted twice.
    assert await reader(pool, http, management_api).read_once() is None
    assert ops_figure(db, "failed_logins") == 2


def ops_figure(db: psycopg.Connection[Any], column: str) -> Any:
    row = db.execute(f"select {column} from ops.auth_metrics(now() - interval '1 hour', now() + interval '1 minute')")
    value = row.fetchone()
    assert value is not None
    return value[0]


async def test_the_logs_endpoint_answers_only_what_it_can_run(
    management_api: ManagementApiSimulator, db: psycopg.Connection[Any]
) -> None:
    url = f"{management_api.base_url}/v1/projects/{management_api.project_ref}/analytics/endpoints/logs"
    auth = {"Authorization": f"Bearer {management_api.access_token}"}
    async with httpx.AsyncClient() as http:
        unauthorized = await http.get(url, params={"sql": "select 1 as one"})
        assert unauthorized.status_code == 401
        fine = await http.get(url, params={"sql": "select 1 as one"}, headers=auth)
        assert fine.json() == {"result": [{"one": 1}]}
        # ClickHouse-only syntax is refused with the reason, never answered with a made-up figure.
        clickhouse = await http.get(url, params={"sql": "select count() from logs"}, headers=auth)
        assert clickhouse.status_code == 400 and "error" in clickhouse.json()
        # The query reads the logs and nothing else.
        users = await http.get(url, params={"sql": "select email from auth.users"}, headers=auth)
        assert users.status_code == 400 and "permission denied" in users.json()["error"]
        writes = await http.get(url, params={"sql": "delete from devstack.auth_logs"}, headers=auth)
        assert writes.status_code == 400


async def test_a_failed_read_leaves_its_window_to_the_next_one(
    clean_db: str,
    db: psycopg.Connection[Any],
    pool: Pool,
    http: httpx.AsyncClient,
    management_api: ManagementApiSimulator,
    no_auth_samples: None,
) -> None:
    def reader_with(token: str) -> AuthLogReader:
        return AuthLogReader(
            pool,
            http,
            api_url=management_api.base_url,
            project_ref=management_api.project_ref,
            access_token=token,
            interval=dt.timedelta(milliseconds=200),
            lag=dt.timedelta(0),
        )

    good, revoked = reader_with(management_api.access_token), reader_with("sbp_revoked")

    async def next_read(which: AuthLogReader) -> AuthLogFigures:
        # Until a window is due (the reader's own clock, in the database).
        while (figures := await which.read_once()) is None:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        return figures

    async with Gateway(clean_db) as gw:
        sb = await acreate_client(gw.url, gw.keys.publishable_key, AsyncClientOptions(persist_session=False))

        async def wrong_password() -> None:
            with pytest.raises(AuthApiError):
                await sb.auth.sign_in_with_password({"email": "ghost@hotel.test", "password": "guess"})

        first = await next_read(good)
        await wrong_password()
        with pytest.raises(AuthLogsError):
            await next_read(revoked)  # refused once a window is due
        await wrong_password()
        caught_up = await next_read(good)
    assert caught_up.since == first.until, "the failed read's window is read again"
    assert caught_up.failed_logins == 2
    assert ops_figure(db, "failed_logins") == 2


async def test_the_worker_process_reads_auth_logs_on_its_schedule(
    clean_db: str, db: psycopg.Connection[Any], management_api: ManagementApiSimulator, no_auth_samples: None
) -> None:
    async with Gateway(clean_db) as gw:
        sb = await acreate_client(gw.url, gw.keys.publishable_key, AsyncClientOptions(persist_session=False))
        with pytest.raises(AuthApiError):
            await sb.auth.sign_in_with_password({"email": "ghost@hotel.test", "password": "guess"})
    worker = WorkerProcess(
        clean_db,
        wakeup="poll",
        management_api_url=management_api.base_url,
        project_ref=management_api.project_ref,
        management_api_token=management_api.access_token,
        auth_logs_lag_seconds=0,
    )
    await worker.start()
    try:
        line = await worker.wait_for_log(lambda entry: str(entry.get("msg", "")).startswith("auth logs "), 60)
    finally:
        await worker.stop()
    assert "1 failed logins, 0 refresh failures" in str(line["msg"])
    assert ops_figure(db, "failed_logins") == 1
