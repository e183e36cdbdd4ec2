"""Fixtures shared by every Python test: one real, migrated PostgreSQL per run.

`make test` passes TEST_DATABASE_URL (the same database pgTAP and Deno use); a bare `pytest`
starts its own throwaway cluster. Each test starts from empty tables.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import httpx
import psycopg
import pytest

from devstack import cluster, database
from tests.factories import Factory
from worker.db.pool import Pool, open_pool
from worker.http import new_client

# Every table the application writes, emptied between tests (auth.users cascades to members;
# pg_net's queue exists once a migration enables the extension).
_TRUNCATE = """
do $$
begin
  truncate public.tenants, auth.users, auth.audit_log_entries restart identity cascade;
  if to_regclass('net.http_request_queue') is not null then
    truncate net.http_request_queue, net._http_response;
  end if;
  -- Platform alerts belong to no tenant.
  if to_regclass('ops.alerts') is not null then
    truncate ops.alerts cascade;
  end if;
end
$$
"""


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    with cluster.throwaway_cluster() as pg:
        database.prepare(pg.url)
        database.pause_schedules(pg.url)
        # The simulators listen on 127.0.0.1 (tests/test_ssrf.py turns this off where it matters).
        database.allow_local_urls(pg.url)
        os.environ["TEST_DATABASE_URL"] = pg.url
        yield pg.url


def empty_tables(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        # A transaction left open (a server in this process, mid-request) makes the truncate
        # wait; after a minute that is an error in the test, not a run that hangs for ever.
        conn.execute("set lock_timeout = '60s'")
        conn.execute(_TRUNCATE)


@pytest.fixture
def clean_db(database_url: str) -> str:
    empty_tables(database_url)
    return database_url


@pytest.fixture
def deployed_url_policy(database_url: str) -> Iterator[None]:
    """The database as deployed: the local-development URL setting off for this test (the test
    run turns it on, so that the simulators on 127.0.0.1 can be configured)."""
    database.allow_local_urls(database_url, False)
    try:
        yield
    finally:
        database.allow_local_urls(database_url, True)


@pytest.fixture
def db(clean_db: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A superuser connection (what the worker and the edge functions use), autocommit."""
    with psycopg.connect(clean_db, autocommit=True) as conn:
        yield conn


@pytest.fixture
def factory(db: psycopg.Connection[tuple[object, ...]]) -> Factory:
    return Factory(db)


@pytest.fixture
async def pool(clean_db: str) -> AsyncIterator[Pool]:
    """The worker's kind of pool (dict rows, autocommit) on the emptied database."""
    pool = await open_pool(clean_db, min_size=1, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """The worker's kind of shared HTTP client (httpx over aiohttp), allowed to call the
    simulators on 127.0.0.1."""
    async with new_client(timeout_seconds=10, max_connections=50, allow_local=True) as client:
        yield client
