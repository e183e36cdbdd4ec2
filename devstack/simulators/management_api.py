"""The Supabase Management API's logs endpoint, fed by the local Auth's records.

    GET /v1/projects/{ref}/analytics/endpoints/logs?sql=...&iso_timestamp_start=...&iso_timestamp_end=...
    Authorization: Bearer <access token>

On hosted Supabase this runs ClickHouse SQL over one `logs` table (columns id, timestamp,
event_message, source, and the map log_attributes) and answers {"result": [rows]}; the older
`logs.all` endpoint it replaced (BigQuery dialect, a table per source) was removed in September
2026. Here the same request runs on PostgreSQL over `devstack.logs` (platform bootstrap), which has
that shape: source `auth_logs` is the local Auth's request log (devstack.auth_logs, GoTrue's
fields: path, status, grant_type, error_code, auth_event.*), source `auth_audit_logs` its audit
log, and source `postgres_logs` the server's own log, read from its jsonlog file
(`pg_current_logfile('jsonlog')`; devstack clusters write one) with Supabase's field names: the
message in `event_message`, the rest under `parsed.` (error_severity, sql_state_code, user_name,
database_name, application_name, backend_type, session_id, process_id, query, detail, hint,
context). A database that writes no jsonlog has no postgres_logs rows. So the SQL must be in
the part of ClickHouse that PostgreSQL shares (select, where, case, sum, count(*), like, group
by, `log_attributes['key']`); anything else gets the endpoint's error answer, never a made-up
result. The query runs read-only, as a role that can read that view only, within
the window the timestamps give (default: the last hour, at most 24 hours).

    async with ManagementApiSimulator(database_url) as api:
        ...  # api.base_url, api.project_ref, api.access_token
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg
from aiohttp import web
from psycopg.rows import dict_row

LOCAL_PROJECT_REF = "local"
LOCAL_ACCESS_TOKEN = "sbp_local_devstack_access_token"  # noqa: S105
MAX_RANGE = dt.timedelta(hours=24)
_FIRST_WORD = re.compile(r"^\s*(with|select)\b", re.IGNORECASE)


def _timestamp(value: str | None, default: dt.datetime) -> dt.datetime:
    if not value:
        return default
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def windowed(sql: str) -> str:
    """The caller's query with `logs` bound to the window: a CTE of that name shadows the view,
    and adds the server log's lines of the window (parameter `postgres_logs`)."""
    window = (
        "logs as (select * from devstack.logs where timestamp >= %(start)s and timestamp < %(end)s"
        " union all select p.id, p.timestamp, p.event_message, 'postgres_logs'::text,"
        " devstack.log_attributes(p.attributes)"
        " from jsonb_to_recordset(%(postgres_logs)s::jsonb)"
        " as p(id text, timestamp timestamptz, event_message text, attributes jsonb))"
    )
    match = _FIRST_WORD.match(sql)
    if match is None:
        raise ValueError("only a select query is accepted")
    rest = sql[match.end() :] if match.group(1).lower() == "with" else sql
    rest = rest.replace("%", "%%")  # the caller's `like '4%'` is not a placeholder
    return f"with {window}, {rest}" if match.group(1).lower() == "with" else f"with {window} {rest}"


class ManagementApiSimulator:
    def __init__(
        self,
        database_url: str,
        *,
        project_ref: str = LOCAL_PROJECT_REF,
        access_token: str = LOCAL_ACCESS_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.database_url = database_url
        self.project_ref = project_ref
        self.access_token = access_token
        self.host = host
        self.port = port
        self.queries: list[str] = []  # what callers asked, for tests to look at
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/v1/projects/{ref}/analytics/endpoints/logs", self._logs)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ManagementApiSimulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def _logs(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return web.json_response({"message": "Unauthorized"}, status=401)
        if request.match_info["ref"] != self.project_ref:
            return web.json_response({"message": "Project not found"}, status=404)
        sql = request.query.get("sql", "")
        if not sql.strip():
            return web.json_response({"error": "sql is required"}, status=400)
        now = dt.datetime.now(dt.UTC)
        try:
            end = _timestamp(request.query.get("iso_timestamp_end"), now)
            start = _timestamp(request.query.get("iso_timestamp_start"), end - dt.timedelta(hours=1))
        except ValueError as exc:
            return web.json_response({"error": f"invalid timestamp: {exc}"}, status=400)
        if end <= start or end - start > MAX_RANGE:
            return web.json_response({"error": "the time range must be positive and at most 24 hours"}, status=400)
        self.queries.append(sql)
        try:
            query = windowed(sql.strip().rstrip(";"))
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        try:
            rows = await self._run(query, start, end)
        except psycopg.Error as exc:
            return web.json_response({"error": (exc.diag.message_primary or str(exc))}, status=400)
        return web.json_response({"result": rows}, dumps=_dumps)

    async def _run(self, query: str, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
        async with await psycopg.AsyncConnection.connect(self.database_url, row_factory=dict_row) as conn:
            await conn.execute("set transaction read only")
            await conn.execute("set local statement_timeout = '5s'")
            found = await (await conn.execute("select pg_current_logfile('jsonlog') as path")).fetchone()
            postgres_logs = postgres_log_rows(Path(found["path"]), start, end) if found and found["path"] else []
            await conn.execute("set local role devstack_logs_reader")
            params = {"start": start, "end": end, "postgres_logs": json.dumps(postgres_logs)}
            cur = await conn.execute(query.encode(), params)
            return await cur.fetchall()


# jsonlog's keys -> the field names of Supabase's postgres_logs (`parsed.*`).
_PARSED = {
    "error_severity": "error_severity",
    "state_code": "sql_state_code",
    "user": "user_name",
    "dbname": "database_name",
    "application_name": "application_name",
    "backend_type": "backend_type",
    "session_id": "session_id",
    "pid": "process_id",
    "statement": "query",
    "detail": "detail",
    "hint": "hint",
    "context": "context",
}


def postgres_log_rows(path: Path, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """The lines of a jsonlog file logged in [start, end), shaped as postgres_logs rows."""
    rows: list[dict[str, Any]] = []
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return rows
    for number, raw in enumerate(text.splitlines()):
        try:
            line = json.loads(raw)
            at = dt.datetime.strptime(line["timestamp"][:-4], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=dt.UTC)
        except (ValueError, KeyError, TypeError):
            continue  # a line being written, or not in UTC (devstack clusters log in UTC)
        if not start <= at < end:
            continue
        parsed = {name: str(line[key]) for key, name in _PARSED.items() if key in line}
        rows.append(
            {
                "id": f"{line.get('session_id', '')}:{line.get('line_num', number)}",
                "timestamp": at.isoformat(),
                "event_message": str(line.get("message", "")),
                "attributes": {"parsed": parsed},
            }
        )
    return rows


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)
