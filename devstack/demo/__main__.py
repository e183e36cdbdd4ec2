"""`make demo` (python -m devstack.demo): the whole system locally, without Docker.

Starts a fresh local PostgreSQL with the migrations and the demo hotel (supabase/seed.sql), the
local API gateway (Auth, Realtime and the edge functions behind http://127.0.0.1:54321, as
Supabase serves them), the hotel dashboard built for that API (http://127.0.0.1:54333), the
worker, a WAHA simulator and a generic PMS simulator; signs the
hotel's owner in and links the hotel's WhatsApp through the real waha-session function; plays a
hotel's day (devstack/demo/scenario.py) and narrates what the system does. Everything then
stays up for inspection until Ctrl-C, which stops it all.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import shutil
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import psycopg

from devstack import cluster, dashboard, database, net_dispatcher, paths
from devstack.demo import stack
from devstack.demo.narrator import Narrator
from devstack.demo.receivers import NotificationReceiver
from devstack.demo.scenario import World, play
from devstack.errors import DevstackError
from devstack.gateway.keys import ProjectKeys
from devstack.gateway.server import Gateway
from devstack.simulators.management_api import ManagementApiSimulator
from devstack.simulators.pms.generic import GenericPmsSimulator
from devstack.simulators.waha import WahaSimulator

TENANT = "d1000000-0000-4000-8000-000000000001"
# The seed's demo users (supabase/seed.sql) all have this password.
OWNER_EMAIL = "owner@demo-hotel.test"
DEMO_PASSWORD = "demo-password"  # noqa: S105
WAHA_API_KEY = "demo-waha-api-key"
PMS_API_KEY = "demo-pms-api-key"


def say(text: str) -> None:
    print(text, flush=True)


def fresh_database(root: Path, port: int) -> cluster.Cluster:
    pg_root = cluster.cluster_dir(root)  # root/pg, or in /var/tmp if `postgres` cannot reach root
    if pg_root.exists():
        old = cluster.Cluster(datadir=pg_root / "data", port=port, sockdir=pg_root / "sock")
        if old.is_running():
            old.stop()
        shutil.rmtree(pg_root)
    pg = cluster.init_cluster(pg_root, port)
    pg.start()
    try:
        cluster.wait_until_ready(pg.url)
        database.prepare(pg.url, seed=True)
        # `make demo` is local development: its simulators and receivers listen on 127.0.0.1.
        database.allow_local_urls(pg.url)
    except BaseException:
        pg.stop()  # a demo that cannot start leaves nothing running
        raise
    return pg


def point_seed_at(url: str, waha: WahaSimulator, pms: GenericPmsSimulator, receiver: NotificationReceiver) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("update ops.settings set oncall_webhook_url = %s", (receiver.oncall_url,))
        conn.execute("update public.tenants set notification_url = %s", (receiver.hotel_url,))
        # A real hotel hears about a lost WhatsApp link after 10 minutes; the demo cannot wait.
        conn.execute("update ops.alert_rules set threshold = 0 where key = 'whatsapp_disconnected'")
        conn.execute("update public.waha_configurations set base_url = %s, send_gap_min_ms = 300", (waha.base_url,))
        conn.execute("update public.pms_configurations set api_base_url = %s", (pms.base_url,))
        # The demo runs at any hour; the seed's quiet hours (21:00-08:00) would hold every message.
        conn.execute("update public.properties set quiet_hours_start = '00:00', quiet_hours_end = '00:00'")
        # Nor may a Sunday 02:00-04:00 UTC run have its alerts held back by the weekly window: the
        # windows of the demo's own day are cancelled (`ops maintenance` still lists them).
        conn.execute(
            "update ops.maintenance_windows set cancelled_at = now(), cancelled_by = 'demo'"
            " where kind = 'scheduled' and starts_at < now() + interval '1 day' and cancelled_at is null"
        )


async def sign_in(api_url: str, publishable_key: str) -> str:
    """What the dashboard's sign-in form does: Auth's password grant. Returns the access token."""
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.post(
            f"{api_url}/auth/v1/token",
            params={"grant_type": "password"},
            json={"email": OWNER_EMAIL, "password": DEMO_PASSWORD},
            headers={"apikey": publishable_key},
        )
    if answer.status_code != 200:
        raise DevstackError(f"the demo owner could not sign in: {answer.status_code} {answer.text}")
    return str(answer.json()["access_token"])


async def link_whatsapp(functions_url: str, access_token: str, publishable_key: str) -> None:
    """What the dashboard's "Connect WhatsApp" button does: waha-session start, then status."""
    headers = {"authorization": f"Bearer {access_token}", "apikey": publishable_key}
    async with httpx.AsyncClient(timeout=10) as http:
        started = await http.post(
            f"{functions_url}/waha-session", json={"action": "start", "tenant_id": TENANT}, headers=headers
        )
        say(f"   waha-session start → {started.status_code}")
        for _ in range(50):
            status = await http.post(
                f"{functions_url}/waha-session", json={"action": "status", "tenant_id": TENANT}, headers=headers
            )
            if status.json().get("session", {}).get("status") == "WORKING":
                say("   WhatsApp session WORKING (the simulator pairs it as if the QR code had been scanned)")
                return
            await asyncio.sleep(0.2)
    raise DevstackError("the demo's WhatsApp session did not reach WORKING")


async def run(args: argparse.Namespace, root: Path) -> int:
    base = args.base_port
    ports = {
        "gateway": base,
        "db": base + 1,
        "functions": base + 8,
        "pms": base + 9,
        "waha": base + 10,
        "worker": base + 19,
        "receiver": base + 20,
        "dashboard": base + 12,
    }
    stack.LOG_DIR = root / "logs"
    api_url = f"http://127.0.0.1:{ports['gateway']}"
    # The dashboard builds (for this API) while everything else starts.
    dashboard_build: asyncio.Task[Path] | None = None
    if not args.no_dashboard:
        dashboard_build = asyncio.create_task(
            asyncio.to_thread(dashboard.build, root / "dashboard", api_url, ProjectKeys().publishable_key)
        )
    dashboard_server: dashboard.DashboardServer | None = None
    say(f"▶ local PostgreSQL on port {ports['db']} (fresh, with the demo hotel)")
    try:
        pg = await asyncio.to_thread(fresh_database, root, ports["db"])
    except BaseException:
        if dashboard_build is not None:
            dashboard_build.cancel()  # nothing else has started yet
        raise
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    narrator_task: asyncio.Task[None] | None = None
    dispatcher_task: asyncio.Task[None] | None = None
    # What has been started, in order; stopped in reverse whatever fails, whenever.
    started: list[tuple[str, Callable[[], Awaitable[None]]]] = []
    try:
        waha = WahaSimulator(api_key=WAHA_API_KEY, port=ports["waha"], auto_pair=True, ack_delays=(0.5, 1.5, 4.0))
        pms = GenericPmsSimulator(api_keys=[PMS_API_KEY])
        pms.port = ports["pms"]
        receiver = NotificationReceiver(ports["receiver"], say)
        functions_url = f"{api_url}/functions/v1"
        # WAHA posts its webhooks through the gateway, as to a Supabase project.
        functions = stack.functions_service(
            pg.url, ports["functions"], public_url=functions_url, auth_url=f"{api_url}/auth/v1"
        )
        gateway = Gateway(
            pg.url, port=ports["gateway"], functions_url=f"http://127.0.0.1:{ports['functions']}", realtime=True
        )
        # The worker reads the local Auth's failures through the Management API stand-in, as on hosted.
        management_api = ManagementApiSimulator(pg.url)
        started.append(("Management API stand-in", management_api.stop))
        await management_api.start()
        worker = stack.worker_service(
            pg.url,
            ports["worker"],
            {
                "WORKER_MANAGEMENT_API_URL": management_api.base_url,
                "WORKER_PROJECT_REF": management_api.project_ref,
                "WORKER_MANAGEMENT_API_TOKEN": management_api.access_token,
                "WORKER_AUTH_LOGS_LAG_SECONDS": "0",
            },
        )
        started.append(("WAHA simulator", waha.stop))
        await waha.start()
        started.append(("PMS simulator", pms.stop))
        await pms.start()
        started.append(("notification receiver", receiver.stop))
        await receiver.start()
        point_seed_at(pg.url, waha, pms, receiver)
        # pg_net's part: deliver the notifications the alert evaluation queues.
        dispatcher_task = asyncio.create_task(net_dispatcher.serve(pg.url, stop, interval=0.3, allow_local=True))
        say(f"▶ WAHA simulator {waha.base_url}, PMS simulator {pms.base_url}")
        started.append(("edge functions", functions.stop))
        await functions.start()
        await stack.wait_http(f"http://127.0.0.1:{ports['functions']}/health", functions)
        started.append(("gateway", gateway.stop))
        await gateway.start()
        keys = gateway.keys
        say(f"▶ API {api_url}: {', '.join(gateway.services)}")
        say(f"   publishable key {keys.publishable_key}, secret key {keys.secret_key}")
        say(f"   edge functions {functions_url}/{{pms-webhook,waha-webhook,waha-session}}")
        say(f"   demo users, password {DEMO_PASSWORD}: owner@, admin@ and frontdesk@demo-hotel.test (the demo")
        say("   hotel's owner, admin, staff), owner@second-hotel.test (another hotel's owner)")
        if dashboard_build is not None:
            dashboard_server = dashboard.DashboardServer(await dashboard_build, port=ports["dashboard"])
            started.append(("dashboard", dashboard_server.stop))
            await dashboard_server.start()
            say(f"▶ dashboard {dashboard_server.url}  (sign in as {OWNER_EMAIL}, password {DEMO_PASSWORD})")
        started.append(("worker", worker.stop))
        await worker.start()
        await stack.wait_http(f"http://127.0.0.1:{ports['worker']}/healthz", worker)
        say(f"▶ worker (health and metrics on http://127.0.0.1:{ports['worker']}/metrics; Auth's logs read")
        say(f"   through the Management API stand-in {management_api.base_url})")
        say(f"▶ {OWNER_EMAIL} signs in and connects the hotel's WhatsApp through waha-session")
        await link_whatsapp(functions_url, await sign_in(api_url, keys.publishable_key), keys.publishable_key)

        narrator = Narrator(pg.url, say)
        narrator_task = asyncio.create_task(narrator.run(stop))
        world = World(functions_url, pg.url, pms, waha, session="default", say=say, pace=args.pace)

        async def after_step() -> None:
            # pg_cron evaluates the alert rules every minute; the demo does not wait for it.
            await waha.drain_webhooks()
            async with await psycopg.AsyncConnection.connect(pg.url, autocommit=True) as conn:
                await conn.execute("select ops.evaluate_alerts()")

        if not args.no_scenario:
            scenario = asyncio.create_task(play(world, after_step))
            done, _ = await asyncio.wait({scenario, asyncio.create_task(stop.wait())}, return_when="FIRST_COMPLETED")
            if scenario in done:
                scenario.result()
                await asyncio.sleep(3 * args.pace)
                say("\n── The day is over. Everything keeps running for you to inspect:")
            else:
                scenario.cancel()
        say(f"   WORKER_DATABASE_URL='{pg.url}' .venv/bin/hotel-worker ops status")
        say(f"   psql '{pg.url}'      logs: {stack.LOG_DIR}")
        if args.exit_after_scenario:
            return 0
        say("   Ctrl-C stops everything.")
        await stop.wait()
        return 0
    finally:
        say("\n■ stopping")
        stop.set()
        for task in (narrator_task, dispatcher_task):
            if task is not None:
                with contextlib.suppress(Exception):
                    await task
        if dashboard_build is not None and not dashboard_build.done():
            dashboard_build.cancel()
            with contextlib.suppress(BaseException):
                await dashboard_build
        for name, stop_it in reversed(started):
            try:
                await stop_it()
            except Exception as exc:  # one that will not stop must not keep the others running
                say(f"   could not stop the {name}: {exc}")
        pg.stop()
        say(f"■ stopped; the database stays in {pg.datadir.parent} (make db starts it again)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.demo", description=__doc__)
    parser.add_argument("--root", default=str(paths.LOCAL_DIR), help="where the demo keeps its database and logs")
    parser.add_argument("--base-port", type=int, default=54321, help="the API on this port, the database on +1")
    parser.add_argument("--pace", type=float, default=1.0, help="scale the pauses of the scenario (0.2 is brisk)")
    parser.add_argument("--no-scenario", action="store_true", help="start everything but play nothing")
    parser.add_argument("--no-dashboard", action="store_true", help="do not build and serve the dashboard")
    parser.add_argument("--exit-after-scenario", action="store_true", help="stop once the day has been played")
    args = parser.parse_args(argv)
    say(f"Hotel PMS ↔ WhatsApp, local demo ({dt.datetime.now():%Y-%m-%d %H:%M})")
    try:
        return asyncio.run(run(args, Path(args.root).resolve()))
    except (DevstackError, RuntimeError, OSError) as exc:
        # Everything the demo started is stopped by now; say why in a sentence, not a traceback.
        print(f"demo: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
