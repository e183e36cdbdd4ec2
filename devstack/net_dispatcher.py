"""pg_net's background worker, for a plain PostgreSQL (tests and the local system).

On Supabase, pg_net's worker takes the requests that `net.http_get/http_post/http_delete`
queued in `net.http_request_queue`, performs them and records each outcome in
`net._http_response` under the request's id. The emulation installed by the platform bootstrap
only queues; this module does the worker's part, the same way: a batch is taken off the queue
(deleted, so each request is tried at most once, as pg_net does), performed concurrently with
httpx within each request's own timeout, and answered in `net._http_response` — status, headers
and body, or `timed_out` / `error_msg` when no answer came.

Unlike pg_net it also applies the outbound URL policy (worker/url_guard.py) when it connects:
a URL to a private, loopback or metadata address is answered with an `error_msg` and never
called, unless local URLs are allowed (`--allow-local-urls`; `make demo` does).

    python -m devstack.net_dispatcher --database-url postgresql://...   # serve until Ctrl-C
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
from psycopg.rows import dict_row

from worker.http import new_client
from worker.url_guard import UrlRefused

_TAKE = """
delete from net.http_request_queue q
where q.id in (select r.id from net.http_request_queue r order by r.id limit %(limit)s for update skip locked)
returning q.id, q.method::text as method, q.url, q.headers, q.body, q.timeout_milliseconds
"""

_ANSWER = """
insert into net._http_response (id, status_code, content_type, headers, content, timed_out, error_msg)
values (%(id)s, %(status_code)s, %(content_type)s, %(headers)s, %(content)s, %(timed_out)s, %(error_msg)s)
"""


@dataclass(frozen=True)
class Outcome:
    id: int
    status_code: int | None = None
    content_type: str | None = None
    headers: dict[str, str] | None = None
    content: str | None = None
    timed_out: bool = False
    error_msg: str | None = None

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status_code": self.status_code,
            "content_type": self.content_type,
            "headers": None if self.headers is None else json.dumps(self.headers),
            "content": self.content,
            "timed_out": self.timed_out,
            "error_msg": self.error_msg,
        }


async def perform(client: httpx.AsyncClient, request: dict[str, Any]) -> Outcome:
    """One queued request, performed; never raises for what the remote end does."""
    timeout = max(int(request["timeout_milliseconds"]), 1) / 1000
    headers = {str(k): str(v) for k, v in (request["headers"] or {}).items()}
    try:
        response = await client.request(
            request["method"].upper(),
            request["url"],
            headers=headers,
            content=bytes(request["body"]) if request["body"] is not None else None,
            timeout=timeout,
        )
    except httpx.TimeoutException:
        return Outcome(
            id=request["id"],
            timed_out=True,
            error_msg=f"Timeout of {request['timeout_milliseconds']} ms reached",
        )
    except httpx.HTTPError as exc:
        return Outcome(id=request["id"], error_msg=str(exc) or type(exc).__name__)
    except UrlRefused as exc:
        return Outcome(id=request["id"], error_msg=str(exc))
    return Outcome(
        id=request["id"],
        status_code=response.status_code,
        content_type=response.headers.get("content-type"),
        headers=dict(response.headers),
        content=response.text,
    )


async def dispatch_once(conn: psycopg.AsyncConnection[Any], client: httpx.AsyncClient, *, limit: int = 100) -> int:
    """Performs up to `limit` queued requests and records their outcomes; returns how many.

    `conn` must be in autocommit mode: taking the batch commits at once, so no transaction stays
    open across the HTTP calls."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_TAKE, {"limit": limit})
        taken = await cur.fetchall()
    if not taken:
        return 0
    outcomes = await asyncio.gather(*(perform(client, r) for r in taken))
    async with conn.cursor() as cur:
        await cur.executemany(_ANSWER, [o.row() for o in outcomes])
    return len(outcomes)


async def drain(conn: psycopg.AsyncConnection[Any], client: httpx.AsyncClient) -> int:
    """Performs every queued request, including those queued while it runs; returns how many."""
    total = 0
    while done := await dispatch_once(conn, client):
        total += done
    return total


def new_dispatch_client(*, allow_local: bool) -> httpx.AsyncClient:
    """The client requests are performed with: no redirects, the outbound URL policy at connect
    time (each request brings its own timeout)."""
    return new_client(timeout_seconds=30, max_connections=100, allow_local=allow_local)


async def serve(url: str, stop: asyncio.Event, *, interval: float = 0.5, allow_local: bool = False) -> None:
    """Polls the queue until `stop` is set (pg_net's worker also polls)."""
    async with (
        await psycopg.AsyncConnection.connect(url, autocommit=True) as conn,
        new_dispatch_client(allow_local=allow_local) as client,
    ):
        while not stop.is_set():
            if await dispatch_once(conn, client) == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.net_dispatcher", description=__doc__.splitlines()[0])
    default_url = os.environ.get("DATABASE_URL") or os.environ.get("WORKER_DATABASE_URL")
    parser.add_argument("--database-url", default=default_url, help="default: $DATABASE_URL or $WORKER_DATABASE_URL")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between polls of an empty queue")
    parser.add_argument(
        "--allow-local-urls",
        action="store_true",
        help="local development: also call http, loopback and private addresses",
    )
    args = parser.parse_args(argv)
    if not args.database_url:
        print("net_dispatcher: pass --database-url or set DATABASE_URL", file=sys.stderr)
        return 2

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(args.database_url, stop, interval=args.interval, allow_local=args.allow_local_urls)

    try:
        asyncio.run(run())
    except psycopg.OperationalError as exc:
        print(f"net_dispatcher: {exc}".strip(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
