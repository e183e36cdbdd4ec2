"""The dashboard end to end: its production build in Debian's Chromium, driven by Playwright,
against the real local system: the gateway (Auth, the Data API, Realtime) with short-lived tokens, the
edge functions, the worker process, and the WAHA simulator.

The build bakes in the gateway's URL, so the gateway's port is chosen before the build."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from devstack import dashboard
from devstack.gateway.config import AuthSettings, ProjectConfig
from devstack.simulators.waha import WahaSimulator
from tests import processes
from tests.conftest import empty_tables
from tests.factories import Factory, Tenant, auth_user
from tests.processes import WorkerProcess

# Debian's Chromium (make setup installs it as root); another Chromium build by $CHROMIUM_PATH.
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
AXE = dashboard.DASHBOARD_DIR / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct horse battery staple"
WAHA_KEY = "dashboard-e2e-waha-key"
# Access tokens live a minute: supabase-js refreshes a token once it is within 90 seconds of
# expiring, so every check of its 30-second timer refreshes, and a test sees one within 30s.
TOKEN_SECONDS = 60


# What a user waits for on a loaded 2-core machine, at most.
expect.set_options(timeout=30_000)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    app_url: str
    api_url: str
    functions_url: str
    waha: WahaSimulator


@pytest.fixture(scope="session")
def dashboard_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    return dashboard.build_for_local_api(tmp_path_factory.mktemp("dashboard") / "dist")


@pytest.fixture(scope="session")
def functions_server(database_url: str, dashboard_build: tuple[Path, int]) -> Iterator[str]:
    """supabase/functions/serve.ts, as `make functions` runs it (WAHA's webhooks go there; its
    team-invite e-mails through the gateway's Auth, which listens on the build's port)."""
    auth_url = f"http://127.0.0.1:{dashboard_build[1]}/auth/v1"
    with processes.functions_server(database_url, _free_port(), auth_url) as url:
        yield url


@pytest.fixture(scope="session")
async def stack(database_url: str, dashboard_build: tuple[Path, int], functions_server: str) -> AsyncIterator[Stack]:
    dist, port = dashboard_build
    config = ProjectConfig.load()
    auth = AuthSettings(**{**config.auth.__dict__, "jwt_expiry": TOKEN_SECONDS})
    async with (
        dashboard.with_local_api(
            database_url, dist, port, auth=auth, functions_url=functions_server.removesuffix("/functions/v1")
        ) as (app_url, gateway),
        WahaSimulator(api_key=WAHA_KEY, ack_delays=(0.2, 0.4, 0.6)) as waha,
    ):
        yield Stack(app_url, gateway.url, functions_server, waha)


@pytest.fixture
async def clean_db(database_url: str) -> str:
    """Empty tables, as everywhere, but with the event loop running meanwhile: the session's
    gateway serves in this loop, and a request the last test's page left in flight keeps its
    transaction open until the loop lets it finish. A truncate that blocked the loop would wait
    for that transaction, and the transaction for the loop."""
    await asyncio.to_thread(empty_tables, database_url)
    return database_url


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        await browser.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(locale="en-GB", timezone_id="America/New_York")
    yield context
    await context.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


@pytest.fixture
async def worker(clean_db: str) -> AsyncIterator[WorkerProcess]:
    """The real worker process, woken by LISTEN/NOTIFY."""
    process = await WorkerProcess(
        clean_db, wakeup="listen", poll_interval_seconds=0.5, lease_seconds=5, retry_base_seconds=1
    ).start()
    yield process
    await process.stop()


@dataclass
class Member:
    email: str
    user_id: uuid.UUID


def member(db: psycopg.Connection[Any], tenant: Tenant, role: str, email: str | None = None) -> Member:
    email = email or f"{role}-{uuid.uuid4().hex[:8]}@hotel.test"
    existing = db.execute("select id from auth.users where email = %s", (email,)).fetchone()
    user_id = uuid.UUID(str(existing[0])) if existing else auth_user(db, email, PASSWORD)
    db.execute(
        "insert into public.tenant_members (tenant_id, user_id, role) values (%s, %s, %s)", (tenant.id, user_id, role)
    )
    return Member(email, user_id)


def connect_whatsapp(db: psycopg.Connection[Any], tenant: Tenant, stack: Stack, session: str) -> None:
    """The hotel's WAHA session on the simulator, its acks posted back through the edge function."""
    waha_config = Factory(db).waha_configuration(tenant, base_url=stack.waha.base_url)
    db.execute(
        "update public.waha_configurations set session_name = %s, send_gap_min_ms = 0, send_gap_max_ms = 0"
        " where id = %s",
        (session, waha_config),
    )
    db.execute("select public.set_waha_api_key(%s, %s)", (waha_config, WAHA_KEY))
    row = db.execute("select internal.rotate_waha_webhook_secret_v1(%s)", (waha_config,)).fetchone()
    assert row is not None
    stack.waha.add_session(
        session,
        webhooks=[
            {
                "url": f"{stack.functions_url}/waha-webhook/{tenant.webhook_key}",
                "events": ["message.ack", "session.status", "message"],
                "hmac": {"key": row[0]},
            }
        ],
    )


async def sign_in(page: Page, stack: Stack, email: str, path: str = "/") -> None:
    await page.goto(f"{stack.app_url}{path}")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").and_(page.locator("input")).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def assert_accessible(page: Page, screen: str) -> None:
    """axe-core finds no violations on what the page shows once it has settled: a dialog still
    fading in, or the overlay still dimming the page behind it, shows colours that no one reads
    (spinners, which turn for ever, are not waited for)."""
    await page.wait_for_function(
        """() => document.getAnimations().every(
             (a) => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity)"""
    )
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")
    violations = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]
    assert violations == [], f"axe on {screen}: {json.dumps(violations, indent=1)}"


async def stored_access_token(page: Page) -> str:
    token = await page.evaluate(
        """() => {
          const key = Object.keys(localStorage).find((k) => k.startsWith('sb-') && k.endsWith('-auth-token'));
          return key ? JSON.parse(localStorage.getItem(key)).access_token : '';
        }"""
    )
    return str(token)
