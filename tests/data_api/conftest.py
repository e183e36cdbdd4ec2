"""The Data API suites' fixtures: the API (the local gateway, or a real project), two hotels with
their members and messages, and two probe functions."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest

from devstack.gateway.server import Gateway
from tests.data_api.support import PASSWORD, Api, Hotels, remote_api
from tests.factories import Factory, auth_user


@pytest.fixture(scope="session")
async def api(database_url: str) -> AsyncIterator[Api]:
    remote = remote_api()
    if remote is not None:
        yield remote
        return
    async with Gateway(database_url, port=0) as gateway:
        keys = gateway.keys
        yield Api(gateway.url, keys.publishable_key, keys.jwt_secret, keys.signing_key, keys.kid)


@pytest.fixture
def hotels(factory: Factory) -> Hotels:
    """Two hotels: A with an owner, an admin, a staff member and five messages; B with its owner
    and one message."""
    a = factory.tenant("Hotel A")
    b = factory.tenant("Hotel B", pms_property_id="PROP-B")
    # connected to WhatsApp, so a dead message can be sent again
    factory.waha_configuration(a)
    factory.waha_configuration(b)
    statuses = ["sent", "sent", "dead", "queued", "failed"]
    messages_a = [
        factory.message(
            a,
            status=s,
            template_key=f"tpl_{i}",
            body=f"Hello {'Ada' if i % 2 else 'Grace'} {i}",
            waha_message_id=f"wamid-{i}" if s == "sent" else None,
        )
        for i, s in enumerate(statuses)
    ]
    owner_email = f"owner-{uuid.uuid4().hex[:8]}@hotel-a.test"
    owner_a = auth_user(factory.conn, owner_email, PASSWORD)
    factory.conn.execute(
        "insert into public.tenant_members (tenant_id, user_id, role) values (%s, %s, 'owner')", (a.id, owner_a)
    )
    return Hotels(
        a=a,
        b=b,
        owner_a=owner_a,
        owner_a_email=owner_email,
        admin_a=factory.member(a, "admin"),
        staff_a=factory.member(a, "staff"),
        owner_b=factory.member(b, "owner"),
        messages_a=messages_a,
        message_b=factory.message(b, status="dead", body="Hello from B"),
    )


@pytest.fixture
async def probe_functions(api: Api, db: psycopg.Connection[tuple[object, ...]]) -> AsyncIterator[None]:
    """Two functions a dashboard would not have: one reporting the request's GUCs, one slow."""
    db.execute(
        """
        create function public.test_request_context() returns json language sql stable as $$
          select json_build_object(
            'method', current_setting('request.method'), 'path', current_setting('request.path'),
            'headers', current_setting('request.headers')::json, 'claims', current_setting('request.jwt.claims')::json,
            'role', current_user, 'uid', auth.uid(), 'timeout', current_setting('statement_timeout'))
        $$;
        create function public.test_slow(p_seconds double precision) returns integer language sql as $$
          select 1 from pg_sleep(p_seconds)
        $$;
        grant execute on function public.test_request_context(), public.test_slow(double precision)
          to anon, authenticated;
        notify pgrst, 'reload schema';
        """
    )
    if api.remote:
        await _until_served(api, "/rpc/test_request_context")
    yield
    db.execute("drop function public.test_request_context(); drop function public.test_slow(double precision)")


async def _until_served(api: Api, path: str) -> None:
    """A real project's PostgREST reloads its schema cache on the NOTIFY, a moment later."""
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=f"{api.url}/rest/v1", timeout=10) as http:
        while True:
            response = await http.get(path, headers={"apikey": api.publishable_key})
            if response.status_code != 404:
                return
            assert time.monotonic() < deadline, f"{path} never appeared in the schema cache"
            await asyncio.sleep(0.5)
