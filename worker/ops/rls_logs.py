"""Writes that row-level security refused, counted from the Postgres log.

An insert or update through the Data API whose new row fails a policy's check is refused by
Postgres (SQLSTATE 42501, `new row violates row-level security policy for table "t"`), PostgREST
answers 403, and the database keeps nothing of it: the log line is all there is. One replica
reads the log on a schedule and adds the refusals, per table and minute, to ops.rls_refusals
(ops.record_rls_refusals), where ops.rls_refused_writes(), the metric `rls_refused_writes` and
its alert read them. Two sources:

- hosted Supabase: `postgres_logs` through the Management API's logs endpoint, exactly as
  worker/ops/auth_logs.py reads Auth's (ClickHouse SQL over `logs`; the Postgres fields are in
  `log_attributes` as `parsed.*`, the message in `event_message`);
- a local or self-run PostgreSQL: its jsonlog file (devstack clusters write one, see
  devstack/cluster.py), read from the byte offset the previous read stopped at.

The line names the table, never the tenant or the user (the role is `authenticated`), so the
counts are per table. Where a read stopped is saved in ops.log_cursors in the same transaction
as its counts: a failed read records neither, and the next one reads the same lines again.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from loguru import logger

from worker.db.pool import Pool
from worker.db.queries import load

SQLSTATE = "42501"
# With or without the policy's name (a restrictive policy's check names it).
_REFUSAL = re.compile(r'new row violates row-level security policy (?:"[^"]*" )?for table "(?P<table>[^"]+)"')

# The subset of ClickHouse SQL that PostgreSQL shares, so devstack's simulator runs it unchanged.
# At most one row per distinct message (a table, or a table and policy): a flood stays small.
QUERY = """\
select event_message, count(*) as refused
from logs
where source = 'postgres_logs'
  and log_attributes['parsed.sql_state_code'] = '42501'
  and event_message like '%violates row-level security policy%'
group by event_message"""
MAX_WINDOW = dt.timedelta(hours=24)  # the endpoint's longest range
MAX_READ_BYTES = 32 * 1024 * 1024  # of the local file per read; the rest is read next time


class RlsLogsError(Exception):
    """The log could not be read; nothing was recorded, and the next read covers the same lines."""


def refused_table(message: str) -> str | None:
    """The table of an RLS refusal's message, or None for any other message."""
    match = _REFUSAL.search(message)
    return match.group("table") if match else None


@dataclass
class RlsFigures:
    source: str
    refused: dict[str, int] = field(default_factory=dict)  # table -> writes refused in this read
    since: dt.datetime | None = None  # the Management API's window
    until: dt.datetime | None = None

    @property
    def total(self) -> int:
        return sum(self.refused.values())


def _minute(value: dt.datetime) -> str:
    return value.replace(second=0, microsecond=0).isoformat()


def _log_time(value: Any) -> dt.datetime | None:
    """jsonlog's "2026-12-03 13:05:01.123 UTC" (devstack clusters log in UTC)."""
    if not isinstance(value, str) or not value.endswith(" UTC"):
        return None
    try:
        return dt.datetime.strptime(value[:-4], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


@dataclass(frozen=True)
class FileChunk:
    counts: collections.Counter[tuple[str, str]]  # (minute, table) -> refused
    position: dict[str, Any]


def read_jsonlog(path: Path, position: dict[str, Any] | None, *, now: dt.datetime) -> FileChunk:
    """The refusals in `path` after `position` (a previous chunk's), up to its last whole line.
    A file that is not the one the position names, or is shorter than its offset (replaced or
    truncated), is read from its start."""
    try:
        with path.open("rb") as f:
            st = os.fstat(f.fileno())
            identity = f"{st.st_dev}:{st.st_ino}"
            offset = 0
            if position and position.get("path") == str(path) and position.get("identity") == identity:
                offset = int(position.get("offset", 0))
                if offset > st.st_size:
                    offset = 0
            f.seek(offset)
            data = f.read(MAX_READ_BYTES)
    except OSError as exc:
        raise RlsLogsError(f"cannot read the Postgres log {path}: {exc}") from exc
    end = data.rfind(b"\n") + 1  # a line still being written is read next time
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    for raw in data[:end].splitlines():
        if SQLSTATE.encode() not in raw or b"row-level security" not in raw:
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(line, dict) or line.get("state_code") != SQLSTATE:
            continue
        table = refused_table(str(line.get("message", "")))
        if table is None:
            continue
        counts[(_minute(_log_time(line.get("timestamp")) or now), table)] += 1
    return FileChunk(counts, {"path": str(path), "identity": identity, "offset": offset + end})


class RlsLogReader:
    """Reads the next stretch of the Postgres log and records the writes RLS refused in it."""

    def __init__(
        self,
        pool: Pool,
        *,
        interval: dt.timedelta,
        http: httpx.AsyncClient | None = None,
        api_url: str | None = None,
        project_ref: str | None = None,
        access_token: str | None = None,
        lag: dt.timedelta = dt.timedelta(0),
        log_file: Path | None = None,
    ) -> None:
        self.pool = pool
        self.interval = interval
        self.lag = lag
        self.sql = load("rls_logs")
        self.http = http
        self.access_token = access_token
        self.log_file = log_file
        if api_url and project_ref and access_token and http is not None:
            self.source = "postgres_logs"
            self.url = f"{api_url.rstrip('/')}/v1/projects/{project_ref}/analytics/endpoints/logs"
        elif log_file is not None:
            self.source = "local_postgres_log"
            self.url = str(log_file)
        else:
            raise ValueError("an RLS log reader needs the Management API or a log file")

    async def read_once(self) -> RlsFigures | None:
        """Reads and records the next stretch; None when another replica is reading, or (hosted)
        the next window is not due yet."""
        async with self.pool.connection() as conn, conn.transaction():
            lock = await (await conn.execute(self.sql["lock"])).fetchone()
            assert lock is not None
            if not lock["locked"]:
                return None
            row = await (await conn.execute(self.sql["cursor"], {"source": self.source})).fetchone()
            position: dict[str, Any] | None = row["position"] if row else None
            now: dt.datetime = lock["now"]
            if self.source == "postgres_logs":
                found = await self._read_api(now, position)
                if found is None:
                    return None
                figures, counts, new_position = found
            else:
                assert self.log_file is not None
                chunk = read_jsonlog(self.log_file, position, now=now)
                counts, new_position = chunk.counts, chunk.position
                figures = RlsFigures(self.source)
                for (_, table), n in counts.items():
                    figures.refused[table] = figures.refused.get(table, 0) + n
            payload = [{"minute": minute, "table": table, "refused": n} for (minute, table), n in counts.items()]
            await conn.execute(
                self.sql["record"],
                {"source": self.source, "counts": json.dumps(payload), "position": json.dumps(new_position)},
            )
            return figures

    async def _read_api(
        self, now: dt.datetime, position: dict[str, Any] | None
    ) -> tuple[RlsFigures, collections.Counter[tuple[str, str]], dict[str, Any]] | None:
        until = now - self.lag
        last = (position or {}).get("until")
        since = dt.datetime.fromisoformat(last) if isinstance(last, str) else until - self.interval
        since = max(since, until - MAX_WINDOW)
        if until - since < self.interval / 2:
            return None
        assert self.http is not None
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
            raise RlsLogsError(f"logs endpoint answered {response.status_code}: {response.text[:300]}")
        if body.get("error"):
            raise RlsLogsError(f"logs endpoint refused the query: {body['error']}")
        figures = RlsFigures(self.source, since=since, until=until)
        counts: collections.Counter[tuple[str, str]] = collections.Counter()
        for row in body["result"]:
            table = refused_table(str(row.get("event_message", "")))
            if table is None:
                continue
            n = int(row.get("refused") or 0)  # ClickHouse answers big integers as strings
            # The window is one read interval long (a minute by default): its refusals count
            # in the minute it began.
            counts[(_minute(since), table)] += n
            figures.refused[table] = figures.refused.get(table, 0) + n
        return figures, counts, {"until": until.isoformat()}

    async def read_logged(self) -> None:
        """read_once for the worker's loop: an unreadable log is a warning, not a crash."""
        try:
            figures = await self.read_once()
        except RlsLogsError as exc:
            logger.warning("postgres log not read for RLS refusals: {error}", error=exc)
            return
        if figures is not None and figures.total:
            logger.warning(
                "row-level security refused {total} writes ({tables}) [{source}]",
                total=figures.total,
                tables=", ".join(f"{t}: {n}" for t, n in sorted(figures.refused.items())),
                source=figures.source,
            )
