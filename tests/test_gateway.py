"""The local API gateway's pass-through services: the edge functions and Realtime behind
/functions/v1 and /realtime/v1, reached with a project key and a session from the gateway's Auth,
as a dashboard reaches them on Supabase."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest
from supabase_functions.errors import FunctionsHttpError

from devstack.demo import stack
from devstack.gateway.server import Gateway
from supabase import AsyncClientOptions, acreate_client
from tests.factories import Factory, auth_user
from tests.test_wakeup_realtime import eventually, ingest, running, settle, woken
from worker.wakeup import RealtimeSource, Signals

PASSWORD = "correct horse battery staple"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def functions_upstream(clean_db: str) -> AsyncIterator[str]:
    """The real functions server (supabase/functions/serve.ts) on a port of its own."""
    port = _free_port()
    service = stack.functions_service(clean_db, port)
    await service.start()
    try:
        await stack.wait_http(f"http://127.0.0.1:{port}/health", service)
        yield f"http://127.0.0.1:{port}"
    finally:
        await service.stop()


async def test_functions_behind_the_gateway_see_the_signed_in_user(
    clean_db: str, functions_upstream: str, db: psycopg.Connection[Any], factory: Factory
) -> None:
    tenant = factory.tenant()
    owner = auth_user(db, "owner@functions.test", PASSWORD)
    staff = auth_user(db, "staff@functions.test", PASSWORD)
    db.execute(
        "insert into public.tenant_members (tenant_id, user_id, role) values (%s, %s, 'owner'), (%s, %s, 'staff')",
        (tenant.id, owner, tenant.id, staff),
    )
    async with Gateway(clean_db, functions_url=functions_upstream) as gw:
        answers = {}
        for email in ("owner@functions.test", "staff@functions.test"):
            sb = await acreate_client(gw.url, gw.keys.publishable_key, AsyncClientOptions(persist_session=False))
            await sb.auth.sign_in_with_password({"email": email, "password": PASSWORD})
            with pytest.raises(FunctionsHttpError) as refused:
                await sb.functions.invoke("waha-session", {"body": {"action": "status", "tenant_id": str(tenant.id)}})
            answers[email] = (refused.value.status, refused.value.message)
        # The owner passes the function's membership check and learns what is missing; staff may not.
        assert answers == {"owner@functions.test": (404, "not_configured"), "staff@functions.test": (403, "forbidden")}
        # Webhooks from PMSs and WAHA carry no Supabase key: /functions/v1 is open, the function decides.
        async with httpx.AsyncClient() as http:
            anonymous = await http.post(f"{gw.url}/functions/v1/waha-session", json={"action": "status"})
        assert (anonymous.status_code, anonymous.json()["error"]) == (401, "unauthorized")


async def test_realtime_behind_the_gateway_takes_the_secret_key(
    clean_db: str, db: psycopg.Connection[Any], factory: Factory
) -> None:
    tenant = factory.tenant()
    async with Gateway(clean_db, realtime=True) as gw:
        async with httpx.AsyncClient() as http:
            keyless = await http.get(f"{gw.url}/realtime/v1/websocket", params={"vsn": "1.0.0"})
        assert (keyless.status_code, keyless.json()["message"]) == (401, "No API key found in request")
        # The worker's own Realtime source, given the gateway's URL and an sb_secret_ key.
        source = RealtimeSource(gw.url, gw.keys.secret_key, Signals())
        async with running(source):
            await eventually(lambda: source.connected)
            settle(source.signals)
            ingest(db, tenant, "evt-through-gateway")
            await eventually(lambda: bool(woken(source.signals)))
            assert woken(source.signals) == {"inbound_events"}
        assert gw.realtime is not None and not gw.realtime.violations
