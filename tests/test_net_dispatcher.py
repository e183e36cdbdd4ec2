"""devstack.net_dispatcher serves pg_net's queue the way pg_net's worker does: requests queued
by net.http_post/http_get are performed against a real local HTTP server and answered in
net._http_response under the request's id."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest
from aiohttp import web

from devstack import cluster
from devstack.net_dispatcher import dispatch_once, drain, main


@pytest.fixture
async def http_server() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(
            {
                "method": request.method,
                "path": request.path,
                "headers": dict(request.headers),
                "body": await request.read(),
                "query": dict(request.query),
            }
        )
        if request.path == "/fail":
            return web.json_response({"error": "down"}, status=503)
        if request.path == "/slow":
            await asyncio.sleep(2)
        return web.json_response({"ok": True}, headers={"X-Answer": "42"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}", seen
    finally:
        await runner.cleanup()


def _responses(db: psycopg.Connection[Any]) -> dict[int, tuple[Any, ...]]:
    rows = db.execute(
        "select id, status_code, content_type, content, timed_out, error_msg, headers from net._http_response"
    ).fetchall()
    return {int(r[0]): tuple(r[1:]) for r in rows}


async def test_posts_and_gets_are_performed_and_answered_under_their_ids(
    db: psycopg.Connection[Any], clean_db: str, http_server: tuple[str, list[dict[str, Any]]]
) -> None:
    base, seen = http_server
    post_id = db.execute(
        'select net.http_post(%s, \'{"alert": 1}\'::jsonb, headers => \'{"webhook-id": "ntf_1"}\'::jsonb)',
        (f"{base}/hook",),
    ).fetchone()[0]  # type: ignore[index]
    get_id = db.execute('select net.http_get(%s, params => \'{"q": "a b"}\'::jsonb)', (f"{base}/health",)).fetchone()[0]  # type: ignore[index]
    fail_id = db.execute("select net.http_post(%s)", (f"{base}/fail",)).fetchone()[0]  # type: ignore[index]

    async with await psycopg.AsyncConnection.connect(clean_db, autocommit=True) as conn, httpx.AsyncClient() as client:
        assert await drain(conn, client) == 3

    answers = _responses(db)
    assert answers[post_id][0] == 200
    assert answers[post_id][1].startswith("application/json")
    assert json.loads(answers[post_id][2]) == {"ok": True}
    assert answers[post_id][5]["x-answer"] == "42"
    assert answers[get_id][0] == 200
    assert answers[fail_id][:1] == (503,)

    by_path = {s["path"]: s for s in seen}
    assert json.loads(by_path["/hook"]["body"]) == {"alert": 1}
    assert by_path["/hook"]["headers"]["webhook-id"] == "ntf_1"
    assert by_path["/hook"]["headers"]["Content-Type"] == "application/json"
    assert by_path["/health"]["method"] == "GET" and by_path["/health"]["query"] == {"q": "a b"}
    # Taken off the queue, as pg_net does: a request is tried once.
    assert db.execute("select count(*) from net.http_request_queue").fetchone() == (0,)


async def test_no_answer_is_recorded_as_pg_net_records_it(
    db: psycopg.Connection[Any], clean_db: str, http_server: tuple[str, list[dict[str, Any]]]
) -> None:
    base, _ = http_server
    slow_id = db.execute("select net.http_get(%s, timeout_milliseconds => 200)", (f"{base}/slow",)).fetchone()[0]  # type: ignore[index]
    refused_id = db.execute("select net.http_get(%s)", (f"http://127.0.0.1:{cluster.free_port()}/nobody",)).fetchone()[
        0
    ]  # type: ignore[index]

    async with await psycopg.AsyncConnection.connect(clean_db, autocommit=True) as conn, httpx.AsyncClient() as client:
        assert await dispatch_once(conn, client) == 2

    answers = _responses(db)
    status, _, _, timed_out, error, _ = answers[slow_id]
    assert (status, timed_out) == (None, True) and "200 ms" in error
    status, _, _, timed_out, error, _ = answers[refused_id]
    assert status is None and not timed_out and error


async def test_an_empty_queue_is_a_no_op(clean_db: str) -> None:
    async with await psycopg.AsyncConnection.connect(clean_db, autocommit=True) as conn, httpx.AsyncClient() as client:
        assert await dispatch_once(conn, client) == 0


def test_the_command_needs_a_database(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("WORKER_DATABASE_URL", raising=False)
    assert main([]) == 2
    assert "--database-url" in capsys.readouterr().err
