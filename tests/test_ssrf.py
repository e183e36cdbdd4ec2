"""Server-side request forgery: every URL the system calls for a tenant, pointed at a server on
127.0.0.1 that records each request. With the local-development setting off, as deployed,
nothing may reach it: not the worker's WAHA sends, not its PMS syncs, not the tenant's
notifications through pg_net. (waha-session's QR and session start: supabase/functions/
waha-session/ssrf_test.ts.)"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx
import psycopg
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from httpx_aiohttp import AiohttpTransport

from devstack.net_dispatcher import drain, new_dispatch_client
from devstack.simulators.pms.harness import configure, fast_registry, jobs
from devstack.simulators.pms.harness import drain as drain_syncs
from tests.factories import Factory
from worker.errors import ConfigurationError
from worker.http import new_client, new_waha_session
from worker.pms.http import VendorApi
from worker.pms.ratelimit import Rate
from worker.url_guard import guarded_session_options
from worker.waha.client import WahaClient
from worker.waha.errors import SessionUnavailable, WahaConfigError

GUEST = "+4915112345678"


@dataclass
class Recorder:
    url: str
    seen: list[str] = field(default_factory=list)


@pytest.fixture
async def internal() -> AsyncIterator[Recorder]:
    """An internal service on 127.0.0.1: it records every request and answers 200."""
    recorder = Recorder(url="")

    async def record(request: web.Request) -> web.Response:
        recorder.seen.append(f"{request.method} {request.path_qs}")
        return web.json_response({"status": "WORKING", "numberExists": True, "chatId": "1@c.us", "id": "x"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    recorder.url = f"http://{host}:{port}"
    try:
        yield recorder
    finally:
        await runner.cleanup()


@dataclass(frozen=True)
class Target:
    base_url: str
    session_name: str = "hotel"
    api_key: str | None = "key"


class RebindingResolver(AbstractResolver):
    """DNS as an attacker controls it: every name answers with the given address."""

    def __init__(self, address: str) -> None:
        self.address = address

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        return [{"hostname": host, "host": self.address, "port": port, "family": family, "proto": 0, "flags": 0}]

    async def close(self) -> None:
        return None


async def test_the_worker_sends_nothing_to_a_local_waha_url(internal: Recorder) -> None:
    async with new_waha_session(timeout_seconds=5, max_connections=5) as session:
        with pytest.raises(WahaConfigError, match="the WAHA base URL is not allowed"):
            await WahaClient(session).send_text(Target(internal.url), GUEST, "Welcome")
    assert internal.seen == []


@pytest.mark.parametrize("address", ["127.0.0.1", "169.254.169.254", "10.0.0.8", "::1"])
async def test_a_public_waha_name_resolving_to_an_internal_address_is_refused_when_connecting(
    internal: Recorder, address: str
) -> None:
    options = guarded_session_options(allow_local=False, limit=5, resolver=RebindingResolver(address))
    async with aiohttp.ClientSession(**options) as session:
        with pytest.raises(SessionUnavailable, match=f"refused: waha.hotel-example.com resolves to {address}"):
            await WahaClient(session).send_text(Target("https://waha.hotel-example.com"), GUEST, "Welcome")
    assert internal.seen == []


async def test_the_same_send_reaches_the_server_with_the_local_setting_on(internal: Recorder) -> None:
    """The recorder does count what reaches it: the tests above are not vacuous."""
    async with new_waha_session(timeout_seconds=5, max_connections=5, allow_local=True) as session:
        await WahaClient(session, check_numbers=False).post_text(Target(internal.url), "1@c.us", "Welcome")
    assert len(internal.seen) == 1


async def test_a_pms_sync_calls_no_local_api_url(db: Any, pool: Any, factory: Factory, internal: Recorder) -> None:
    tenant = factory.tenant(timezone="Europe/Berlin", pms_property_id="PROP-1")
    configure(db, tenant.id, "generic", internal.url, {"api_key": "k"})
    async with new_client(timeout_seconds=5, max_connections=5) as guarded:
        await drain_syncs(pool, guarded, fast_registry())
    [job] = jobs(db)
    assert job["status"] == "failed"
    assert "the URL is not allowed: it must use https" in job["error"]
    assert internal.seen == []


@pytest.mark.parametrize("address", ["127.0.0.1", "169.254.169.254", "fd00::1"])
async def test_a_public_pms_name_resolving_to_an_internal_address_is_refused_when_connecting(address: str) -> None:
    """The PMS client (httpx over aiohttp) checks resolved addresses the same way."""

    def session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            **guarded_session_options(allow_local=False, limit=5, resolver=RebindingResolver(address))
        )

    async with httpx.AsyncClient(transport=AiohttpTransport(client=session)) as client:
        with pytest.raises(ConfigurationError, match=f"refused: api.hotel-example.com resolves to {address}"):
            await VendorApi("generic", [Rate(20, 1.0)]).call(
                client, "GET", "https://api.hotel-example.com/v1/reservations", credential="k", what="reservations"
            )


@pytest.mark.usefixtures("deployed_url_policy")
def test_a_local_notification_url_cannot_be_saved(db: psycopg.Connection[Any], factory: Factory) -> None:
    tenant = factory.tenant()
    for url in ("http://127.0.0.1:8080/hook", "https://169.254.169.254/", "https://[::1]/", "https://10.0.0.1/"):
        with pytest.raises(psycopg.errors.CheckViolation, match=r"tenants\.notification_url is not allowed"):
            db.execute("update public.tenants set notification_url = %s where id = %s", (url, tenant.id))


async def test_a_notification_to_a_local_url_saved_earlier_is_never_sent(
    db: psycopg.Connection[Any], clean_db: str, factory: Factory, internal: Recorder
) -> None:
    hotel = factory.tenant("Notified Hotel")
    # Saved while local URLs were allowed; then the setting is turned off (as deployed).
    db.execute("update public.tenants set notification_url = %s where id = %s", (f"{internal.url}/t", hotel.id))
    factory.waha_configuration(hotel, status="SCAN_QR_CODE")
    db.execute(
        "update public.waha_configurations set status_changed_at = now() - interval '30 minutes' where tenant_id = %s",
        (hotel.id,),
    )
    db.execute("update private.platform_settings set allow_local_urls = false")
    try:
        db.execute("select ops.evaluate_alerts(array['whatsapp_disconnected'])")
    finally:
        db.execute("update private.platform_settings set allow_local_urls = true")
    rows = db.execute(
        "select status, last_error from ops.notifications where target = 'tenant' and url like %s",
        (f"{internal.url}/%",),
    ).fetchall()
    assert rows == [("failed", "refused: the notification URL is not allowed: it must use https")]
    async with (
        await psycopg.AsyncConnection.connect(clean_db, autocommit=True) as conn,
        new_dispatch_client(allow_local=False) as client,
    ):
        await drain(conn, client)
    assert internal.seen == []


def test_a_maintenance_notice_to_a_local_url_saved_earlier_is_never_queued(
    db: psycopg.Connection[Any], factory: Factory, internal: Recorder
) -> None:
    hotel = factory.tenant("Maintained Hotel")
    db.execute("update public.tenants set notification_url = %s where id = %s", (f"{internal.url}/m", hotel.id))
    db.execute("update private.platform_settings set allow_local_urls = false")
    try:
        db.execute("select ops.schedule_emergency_maintenance(now() + interval '2 hours', '30 minutes', 'disk', 'ada')")
    finally:
        db.execute("update private.platform_settings set allow_local_urls = true")
        db.execute("delete from ops.maintenance_windows where reason = 'disk'")
    queued = db.execute(
        "select count(*) from net.http_request_queue where url like %s", (f"{internal.url}/%",)
    ).fetchone()
    assert queued == (0,), "nothing is handed to pg_net for a refused URL"
    assert internal.seen == []


async def test_pg_net_requests_to_local_addresses_are_answered_with_an_error_not_sent(
    db: psycopg.Connection[Any], clean_db: str, internal: Recorder
) -> None:
    ids = [
        db.execute("select net.http_post(%s)", (url,)).fetchone()[0]  # type: ignore[index]
        for url in (f"{internal.url}/hook", "https://169.254.169.254/latest/meta-data/")
    ]
    async with (
        await psycopg.AsyncConnection.connect(clean_db, autocommit=True) as conn,
        new_dispatch_client(allow_local=False) as client,
    ):
        assert await drain(conn, client) == 2
    answers = db.execute(
        "select status_code, error_msg from net._http_response where id = any(%s) order by id", (ids,)
    ).fetchall()
    assert [a[0] for a in answers] == [None, None]
    assert all(a[1] and a[1].startswith("the URL is not allowed") for a in answers), answers
    assert internal.seen == []
    # The same dispatcher with the local setting on does reach it (the recorder counts).
    db.execute("select net.http_post(%s)", (f"{internal.url}/hook",))
    async with (
        await psycopg.AsyncConnection.connect(clean_db, autocommit=True) as conn,
        new_dispatch_client(allow_local=True) as client,
    ):
        await drain(conn, client)
    assert internal.seen == ["POST /hook"]
