"""Alert notifications end to end: an alert opened by ops.evaluate_alerts leaves through pg_net
(served by devstack.net_dispatcher, as pg_net's worker would) to a real HTTP endpoint of the
on-call engineer and of the tenant, signed where a secret is configured, retried when the
endpoint fails, and followed by a "resolved" notification when the condition ends."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from aiohttp import web

from devstack.net_dispatcher import drain
from tests.factories import Factory
from worker.webhook_signatures import verify_standard_webhook

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

Received = dict[str, list[dict[str, Any]]]


@pytest.fixture
async def endpoints() -> AsyncIterator[tuple[str, Received]]:
    """/oncall always answers 200; /tenant fails its first delivery with a 500."""
    received: Received = {"oncall": [], "tenant": [], "other": []}

    async def hook(request: web.Request) -> web.Response:
        target = request.match_info["target"]
        body = await request.read()
        received[target].append({"headers": dict(request.headers), "body": body, "json": json.loads(body)})
        if target == "tenant" and len(received["tenant"]) == 1:
            return web.Response(status=500, text="try later")
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/{target}", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}", received
    finally:
        await runner.cleanup()


@pytest.fixture
def oncall_configured(db: psycopg.Connection[Any], endpoints: tuple[str, Received]) -> Iterator[None]:
    base, _ = endpoints
    db.execute(
        "update ops.settings set oncall_webhook_url = %s, oncall_webhook_secret = %s", (f"{base}/oncall", SECRET)
    )
    try:
        yield
    finally:
        db.execute("update ops.settings set oncall_webhook_url = null, oncall_webhook_secret = null")
        db.execute("delete from ops.notifications where url like %s", (f"{base}/%",))


def evaluate(db: psycopg.Connection[Any]) -> None:
    db.execute("select ops.evaluate_alerts(array['whatsapp_disconnected'])")


async def deliver(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn, httpx.AsyncClient() as client:
        await drain(conn, client)


def mine(received: list[dict[str, Any]], tenant_id: str) -> list[tuple[str, str]]:
    return [
        (r["json"]["type"], r["json"]["alert"]["rule"])
        for r in received
        if r["json"]["alert"]["tenant_id"] == tenant_id
    ]


@pytest.mark.usefixtures("oncall_configured")
async def test_open_and_resolve_reach_on_call_and_the_tenant(
    db: psycopg.Connection[Any], clean_db: str, factory: Factory, endpoints: tuple[str, Received]
) -> None:
    base, received = endpoints
    hotel = factory.tenant("Notified Hotel")
    other = factory.tenant("Other Hotel")
    db.execute("update public.tenants set notification_url = %s where id = %s", (f"{base}/tenant", hotel.id))
    db.execute("update public.tenants set notification_url = %s where id = %s", (f"{base}/other", other.id))
    factory.waha_configuration(hotel, status="SCAN_QR_CODE")
    factory.waha_configuration(other, status="WORKING")
    db.execute(
        "update public.waha_configurations set status_changed_at = now() - interval '30 minutes' where tenant_id = %s",
        (hotel.id,),
    )

    evaluate(db)
    await deliver(clean_db)
    hotel_id = str(hotel.id)
    assert mine(received["oncall"], hotel_id) == [("alert.opened", "whatsapp_disconnected")]
    assert mine(received["tenant"], hotel_id) == [("alert.opened", "whatsapp_disconnected")]
    opened = received["oncall"][0]
    assert opened["json"]["alert"]["tenant_name"] == "Notified Hotel"
    assert opened["json"]["alert"]["runbook"] == "WAHA Down"
    assert verify_standard_webhook(opened["headers"], opened["body"], [SECRET]).ok

    # The tenant's endpoint answered 500: the next evaluation sees it, and after the backoff
    # the notification goes out again.
    evaluate(db)
    db.execute(
        "update ops.notifications set next_attempt_at = now() where status = 'pending' and url like %s", (f"{base}/%",)
    )
    evaluate(db)
    await deliver(clean_db)
    assert mine(received["tenant"], hotel_id) == [("alert.opened", "whatsapp_disconnected")] * 2

    db.execute("update public.waha_configurations set session_status = 'WORKING' where tenant_id = %s", (hotel.id,))
    evaluate(db)
    await deliver(clean_db)
    evaluate(db)  # reads the last answers

    assert mine(received["oncall"], hotel_id) == [
        ("alert.opened", "whatsapp_disconnected"),
        ("alert.resolved", "whatsapp_disconnected"),
    ]
    assert mine(received["tenant"], hotel_id)[-1] == ("alert.resolved", "whatsapp_disconnected")
    assert received["other"] == []
    assert not [r for r in received["tenant"] if r["json"]["alert"]["tenant_id"] != hotel_id]

    states = db.execute(
        "select n.event, n.target, n.status, n.attempts from ops.notifications n"
        " join ops.alerts a on a.id = n.alert_id where a.tenant_id = %s order by n.id",
        (hotel.id,),
    ).fetchall()
    assert states == [
        ("opened", "oncall", "delivered", 1),
        ("opened", "tenant", "delivered", 2),
        ("resolved", "oncall", "delivered", 1),
        ("resolved", "tenant", "delivered", 1),
    ]
