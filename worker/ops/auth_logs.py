"""Auth's failure figures from the logs Auth really writes, read on a schedule.

Supabase Auth writes logins and refreshes to auth.audit_log_entries, but a wrong password or a
refused refresh token only to its request log. On hosted Supabase that log is queried through the
Management API (GET /v1/projects/{ref}/analytics/endpoints/logs, ClickHouse SQL over the `logs`
table, source `auth_logs`); locally devstack's simulator of that endpoint serves the local Auth's
log the same way. Every `interval` one replica reads the window since the last read (up to `lag`
ago: hosted logs arrive with a delay) and records two samples, `auth.failed_logins` and
`auth.refresh_failures`, each with its window; ops.auth_metrics() and the alert rules sum them.
A failed read records nothing, so the next one covers the gap.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import httpx
from loguru import logger

from worker.db.pool import Pool
from worker.db.queries import load

# The subset of ClickHouse SQL that PostgreSQL shares, so devstack's simulator runs it unchanged.
# GoTrue logs one line per request: path, status, grant_type, error_code (its x-sb-error-code).
QUERY = """\
select
  sum(case when log_attributes['path'] = '/token' and log_attributes['grant_type'] = 'password'
            and log_attributes['error_code'] = 'invalid_credentials' then 1 else 0 end) as failed_logins,
  sum(case when log_attributes['path'] = '/token' and log_attributes['grant_type'] = 'refresh_token'
            and log_attributes['status'] like '4%' then 1 else 0 end) as refresh_failures
from logs
where source = 'auth_logs'"""
MAX_WINDOW = dt.timedelta(hours=24)  # the endpoint's longest range


class AuthLogsError(Exception):
    """The logs endpoint did not answer with figures; the window is read again next time."""


@dataclass(frozen=True)
class AuthLogFigures:
    since: dt.datetime
    until: dt.datetime
    failed_logins: int
    refresh_failures: int


def _count(value: Any) -> int:
    # ClickHouse returns big integers as strings; an empty window sums to null in PostgreSQL.
    return 0 if value is None else int(value)


class AuthLogReader:
    def __init__(
        self,
        pool: Pool,
        http: httpx.AsyncClient,
        *,
        api_url: str,
        project_ref: str,
        access_token: str,
        interval: dt.timedelta,
        lag: dt.timedelta,
    ) -> None:
        self.pool = pool
        self.http = http
        self.url = f"{api_url.rstrip('/')}/v1/projects/{project_ref}/analytics/endpoints/logs"
        self.access_token = access_token
        self.interval = interval
        self.lag = lag
        self.sql = load("auth_logs")

    async def read_once(self) -> AuthLogFigures | None:
        """Reads and records the next window; None when another replica has it or it is too short."""
        async with self.pool.connection() as conn, conn.transaction():
            lock = await (await conn.execute(self.sql["lock"])).fetchone()
            assert lock is not None
            if not lock["locked"]:
                return None
            until: dt.datetime = lock["now"] - self.lag
            last = await (await conn.execute(self.sql["last_until"])).fetchone()
            since: dt.datetime = (last or {}).get("until") or until - self.interval
            since = max(since, until - MAX_WINDOW)
            if until - since < self.interval / 2:
                return None
            figures = await self._query(since, until)
            detail = json.dumps({"since": since.isoformat(), "until": until.isoformat(), "source": self.url})
            await conn.execute(
                self.sql["record"],
                {
                    "failed_logins": figures.failed_logins,
                    "refresh_failures": figures.refresh_failures,
                    "detail": detail,
                },
            )
            return figures

    async def _query(self, since: dt.datetime, until: dt.datetime) -> AuthLogFigures:
        response = await self.http.get(
            self.url,
            params={"sql": QUERY, "iso_timestamp_start": since.isoformat(), "iso_timestamp_end": until.isoformat()},
            headers={"Authorization": f"Bearer {self.access_token}"},
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("result"), list):
            raise AuthLogsError(f"logs endpoint answered {response.status_code}: {response.text[:300]}")
        if body.get("error"):
            raise AuthLogsError(f"logs endpoint refused the query: {body['error']}")
        row = body["result"][0] if body["result"] else {}
        return AuthLogFigures(since, until, _count(row.get("failed_logins")), _count(row.get("refresh_failures")))

    async def read_logged(self) -> None:
        """read_once for the worker's loop: a refused read is a warning, not a crash."""
        try:
            figures = await self.read_once()
        except AuthLogsError as exc:
            logger.warning("auth logs not read: {error}", error=exc)
            return
        if figures is not None:
            logger.info(
                "auth logs {since} .. {until}: {failed} failed logins, {refresh} refresh failures",
                since=figures.since.isoformat(),
                until=figures.until.isoformat(),
                failed=figures.failed_logins,
                refresh=figures.refresh_failures,
            )
