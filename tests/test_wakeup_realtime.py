"""Wake-ups from Supabase Realtime: the worker's RealtimeSource with the real `realtime` client,
against the Realtime simulator (devstack/simulators/realtime.py) streaming this database's
write-ahead log. Realtime is at most once, so what matters is what the worker does around the
subscription: ready only when Realtime says so, a reconcile after every (re)subscription, and a
poll that finishes what a lost change would have started."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from loguru import logger
from realtime import AsyncRealtimeClient, RealtimePostgresChangesListenEvent

from devstack.simulators.realtime import RealtimeSimulator, make_jwt
from tests.factories import Factory, Tenant
from tests.processes import WorkerProcess
from worker.app import Worker, open_resources
from worker.settings import Settings
from worker.wakeup import QUEUES, RealtimeSource, Signals

EVERY_QUEUE = set(QUEUES)


@pytest.fixture
async def realtime(clean_db: str) -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(clean_db) as sim:
        yield sim
        sim.assert_no_violations()


@contextlib.asynccontextmanager
async def running(source: RealtimeSource) -> AsyncIterator[RealtimeSource]:
    stop = asyncio.Event()
    task = asyncio.create_task(source.run(stop))
    try:
        yield source
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@pytest.fixture
def messages() -> Iterator[list[str]]:
    """What the source logs (operators see the same lines)."""
    lines: list[str] = []
    handler = logger.add(lambda m: lines.append(m.record["message"]), level="INFO")
    yield lines
    logger.remove(handler)


async def eventually(check: Callable[[], bool], seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110 (the state changes in other tasks and in the database)
            await asyncio.sleep(0.02)


def woken(signals: Signals) -> set[str]:
    return {queue for queue, event in signals.events.items() if event.is_set()}


def settle(signals: Signals) -> None:
    for event in signals.events.values():
        event.clear()


def ingest(db: psycopg.Connection[Any], tenant: Tenant, event_id: str) -> None:
    """What pms-webhook stores for a new generic booking."""
    arrival = dt.date.today() + dt.timedelta(days=30)
    reservation = {
        "provider": "generic",
        "pms_reservation_id": f"R-{event_id}",
        "pms_property_id": "PROP-1",
        "status": "confirmed",
        "arrival_date": arrival.isoformat(),
        "departure_date": (arrival + dt.timedelta(days=2)).isoformat(),
        "pms_updated_at": "2026-11-26T10:00:00Z",
        "guest": {"full_name": "Grace Hopper", "phone": "+4915112345678", "language": "en"},
    }
    body = {"type": "reservation.created", "timestamp": "2026-11-26T10:00:00Z", "data": reservation}
    events = [{"event_id": event_id, "event_type": "reservation.created", "payload": body}]
    db.execute(
        "select count(*) from internal.ingest_inbound_events_v1(%s, 'pms', 'generic', %s::jsonb, null)",
        (tenant.id, json.dumps(events)),
    )


def status_of(db: psycopg.Connection[Any], event_id: str) -> str | None:
    row = db.execute("select status::text from public.inbound_events where event_id = %s", (event_id,)).fetchone()
    return None if row is None else str(row[0])


def collector(seen: list[int]) -> Callable[[Any], None]:
    def collect(payload: Any) -> None:
        seen.append(int(payload["data"]["record"]["id"]))

    return collect


def source_for(realtime: RealtimeSimulator, key: str | None = None) -> RealtimeSource:
    return RealtimeSource(realtime.base_url, key or realtime.service_role_key(), Signals())


# ---- readiness ------------------------------------------------------------------------------------
async def test_ready_only_once_realtime_has_subscribed_to_postgres(
    realtime: RealtimeSimulator, messages: list[str]
) -> None:
    realtime.hold_subscriptions()  # Realtime answers the join, then takes its time with the database
    async with running(source_for(realtime)) as source:
        await eventually(lambda: any("channel joined" in m for m in messages))
        # The client has reported SUBSCRIBED, but a change committed now would never be sent.
        assert not source.connected
        assert woken(source.signals) == set(), "no reconcile before the subscription is live"

        realtime.release_subscriptions()
        await eventually(lambda: source.connected)
        assert woken(source.signals) == EVERY_QUEUE, "every queue reconciles once the subscription is live"


async def test_a_change_wakes_the_queue_of_its_table(
    realtime: RealtimeSimulator, db: psycopg.Connection[Any], factory: Factory
) -> None:
    tenant = factory.tenant()
    async with running(source_for(realtime)) as source:
        await eventually(lambda: source.connected)

        settle(source.signals)
        ingest(db, tenant, "evt-wake")
        await eventually(lambda: bool(woken(source.signals)))
        assert woken(source.signals) == {"inbound_events"}

        settle(source.signals)
        message = factory.message(tenant)
        await eventually(lambda: bool(woken(source.signals)))
        assert woken(source.signals) == {"message_logs"}

        settle(source.signals)
        db.execute("update public.message_logs set status = 'cancelled' where id = %s", (message,))
        db.execute("update public.message_logs set status = 'queued' where id = %s", (message,))
        await eventually(lambda: bool(woken(source.signals)))
        assert woken(source.signals) == {"message_logs"}
    # What the worker received is what Realtime sends: one change per row, with its record.
    inserted = [data for _, data in realtime.delivered if data["type"] == "INSERT"]
    assert [(d["table"], d["record"]["tenant_id"]) for d in inserted] == [
        ("inbound_events", str(tenant.id)),
        ("message_logs", str(tenant.id)),
    ]


def test_only_rows_left_waiting_are_a_reason_to_wake() -> None:
    """A worker's own claims and completions come back as changes too; they are not new work."""
    source = RealtimeSource("http://127.0.0.1:1", "key", Signals())
    for status in ("processing", "sending", "sent", "succeeded", "cancelled"):
        source._on_change({"data": {"table": "message_logs", "record": {"status": status}}})
    assert woken(source.signals) == set()
    source._on_change({"data": {"table": "message_logs", "record": {"status": "queued"}}})
    source._on_change({"data": {"table": "inbound_events", "record": {"status": "pending"}}})
    assert woken(source.signals) == {"message_logs", "inbound_events"}


# ---- reconnecting ---------------------------------------------------------------------------------
@pytest.mark.parametrize("close_code", [None, 1001], ids=["connection-cut", "server-restart"])
async def test_after_a_dropped_connection_it_resubscribes_and_reconciles(
    realtime: RealtimeSimulator, db: psycopg.Connection[Any], factory: Factory, close_code: int | None
) -> None:
    tenant = factory.tenant()
    async with running(source_for(realtime)) as source:
        await eventually(lambda: source.connected)
        settle(source.signals)

        assert await realtime.drop_connections(close_code) == 1
        await eventually(lambda: realtime.handshakes == 2 and realtime.subscribed == 2 and source.connected)
        # Whatever changed while the socket was down was never sent: every queue reconciles.
        await eventually(lambda: woken(source.signals) == EVERY_QUEUE)

        settle(source.signals)
        ingest(db, tenant, "evt-after-reconnect")
        await eventually(lambda: woken(source.signals) == {"inbound_events"})


async def test_an_outage_is_waited_out_and_reconciled(realtime: RealtimeSimulator) -> None:
    async with running(source_for(realtime)) as source:
        await eventually(lambda: source.connected)
        realtime.refuse_connections(503)  # the gateway while Realtime restarts
        await realtime.drop_connections()
        await eventually(lambda: len(realtime.rejected) >= 2)  # it keeps trying
        assert not source.connected
        settle(source.signals)

        realtime.refuse_connections(None)
        await eventually(lambda: source.connected)
        assert woken(source.signals) == EVERY_QUEUE


async def test_a_channel_the_server_closes_is_joined_again(realtime: RealtimeSimulator) -> None:
    async with running(source_for(realtime)) as source:
        await eventually(lambda: source.connected)
        settle(source.signals)

        # Realtime's operational disconnect: "Server requested disconnect", then phx_close. The
        # client drops a closed channel for good; the source must subscribe again by itself.
        assert await realtime.disconnect_channels() == 1
        await eventually(lambda: realtime.subscribed == 2 and source.connected)
        assert woken(source.signals) == EVERY_QUEUE


async def test_a_refused_join_is_retried_until_realtime_accepts_it(realtime: RealtimeSimulator) -> None:
    realtime.refuse_joins("Realtime was unable to connect to the project database")
    async with running(source_for(realtime)) as source:
        await eventually(lambda: realtime.refused_joins >= 2)
        assert not source.connected
        assert woken(source.signals) == set()

        realtime.refuse_joins(None)
        await eventually(lambda: source.connected)
        assert woken(source.signals) == EVERY_QUEUE


async def test_a_key_realtime_does_not_know_never_connects(realtime: RealtimeSimulator) -> None:
    foreign = make_jwt("a-secret-of-another-project-at-least-32-chars", "service_role")
    async with running(source_for(realtime, foreign)) as source:
        await eventually(lambda: len(realtime.rejected) >= 2)  # retried, and refused each time
        assert realtime.handshakes == 0
        assert {status for status, _ in realtime.rejected} == {403}
        assert not source.connected


# ---- what Realtime itself decides ---------------------------------------------------------------
async def test_a_queue_table_outside_the_publication_never_gets_ready(
    clean_db: str, db: psycopg.Connection[Any]
) -> None:
    """If a migration forgot `alter publication supabase_realtime add table ...`, Realtime refuses
    the subscription; the worker must stay not ready (and keep polling) instead of waiting for
    changes that never come."""
    db.execute("create publication realtime_test_partial for table public.inbound_events")
    try:
        async with RealtimeSimulator(clean_db, publication="realtime_test_partial") as sim:
            async with running(source_for(sim)) as source:
                await eventually(lambda: len(sim.subscribe_errors) >= 2)  # Realtime and the client retry
                assert not source.connected
                assert woken(source.signals) == set()
            assert "Check that tables are part of publication realtime_test_partial" in sim.subscribe_errors[0]
            assert '"table" => "message_logs"' in sim.subscribe_errors[0]
    finally:
        db.execute("drop publication realtime_test_partial")


async def test_changes_reach_only_those_allowed_to_see_them(
    realtime: RealtimeSimulator, db: psycopg.Connection[Any], factory: Factory
) -> None:
    """The service role sees every tenant (what the worker relies on); a member sees their own
    tenant's rows through RLS; a filter narrows what a subscriber gets; anon, without SELECT on
    the table, gets Realtime's "Error 401: Unauthorized" for each change, a payload without a
    commit_timestamp that the Python client cannot parse and drops."""
    hotel, other = factory.tenant("Hotel A"), factory.tenant("Hotel B")
    member = factory.member(hotel, "staff")
    member_token = make_jwt(realtime.jwt_secret, "authenticated", sub=str(member), aud="authenticated")
    received: dict[str, list[int]] = {}
    clients = []
    for name, token, row_filter in [
        ("member", member_token, None),
        ("anon", None, None),
        ("filtered", realtime.service_role_key(), f"tenant_id=eq.{other.id}"),
    ]:
        client = AsyncRealtimeClient(f"{realtime.base_url}/realtime/v1", realtime.anon_key(), auto_reconnect=False)
        if token is not None:
            await client.set_auth(token)
        channel = client.channel(name)
        received[name] = []
        channel.on_postgres_changes(
            RealtimePostgresChangesListenEvent.Insert,
            collector(received[name]),
            table="message_logs",
            schema="public",
            filter=row_filter,
        )
        await channel.subscribe()
        clients.append(client)
    try:
        await realtime.wait_until(lambda: realtime.subscribed == 3)
        # Changes go out in commit order: once the last one has arrived, the others were decided.
        first_other, mine, second_other = factory.message(other), factory.message(hotel), factory.message(other)
        await eventually(lambda: second_other in received["filtered"] and mine in received["member"])
        assert received == {"member": [mine], "anon": [], "filtered": [first_other, second_other]}

        def to_anon() -> list[Any]:
            return [data["errors"] for topic, data in realtime.delivered if topic == "realtime:anon"]

        await eventually(lambda: len(to_anon()) == 3)
        assert to_anon() == [["Error 401: Unauthorized"]] * 3
    finally:
        for client in clients:
            await client.close()


# ---- the worker -----------------------------------------------------------------------------------
async def test_the_worker_polls_up_what_a_dropped_change_would_have_woken(
    realtime: RealtimeSimulator, db: psycopg.Connection[Any], factory: Factory, clean_db: str
) -> None:
    tenant = factory.tenant()
    settings = Settings(
        database_url=clean_db,
        wakeup="realtime",
        supabase_url=realtime.base_url,
        supabase_service_role_key=realtime.service_role_key(),
        poll_interval_seconds=1,
        health_port=0,
        shutdown_grace_seconds=5,
    )
    resources = await open_resources(settings)
    worker = Worker(settings, resources)
    # Which inbound batches ran after the subscription was ready (the real batch, counted).
    after_ready: list[int] = []
    real_batch = worker.inbound.run_batch

    async def counted_batch() -> int:
        began_ready = worker.wakeup.connected
        done = await real_batch()
        if began_ready:
            after_ready.append(done)
        return done

    worker.inbound.run_batch = counted_batch  # type: ignore[method-assign]
    run = asyncio.create_task(worker.run())
    try:
        # The reconcile after readiness has run: from now on only a delivered change or the
        # periodic poll makes the worker look at the queue again.
        await eventually(lambda: len(after_ready) >= 1)
        realtime.drop_changes(1)
        ingest(db, tenant, "evt-dropped")
        await realtime.wait_until(lambda: realtime.dropped == 1)  # the insert's change is gone
        await eventually(lambda: status_of(db, "evt-dropped") == "succeeded")
        inserts = [data["record"]["event_id"] for _, data in realtime.delivered if data["type"] == "INSERT"]
        assert "evt-dropped" not in inserts, "the worker was never told about the event: its poll found it"

        ingest(db, tenant, "evt-delivered")
        await eventually(lambda: status_of(db, "evt-delivered") == "succeeded")
    finally:
        worker.stop.set()
        assert await asyncio.wait_for(run, 30) == 0
        await resources.close()


@pytest.mark.slow
async def test_readyz_reports_the_realtime_subscription(realtime: RealtimeSimulator, clean_db: str) -> None:
    worker = await WorkerProcess(
        clean_db,
        wakeup="realtime",
        supabase_url=realtime.base_url,
        supabase_service_role_key=realtime.service_role_key(),
    ).start()
    try:
        port = await worker.health_port()
        await worker.wait_for_log(lambda line: line.get("msg") == "Realtime subscription ready")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
    finally:
        await worker.stop()


@pytest.mark.slow
async def test_with_a_wrong_key_readyz_says_the_wakeup_source_is_not_connected(
    realtime: RealtimeSimulator, clean_db: str
) -> None:
    worker = await WorkerProcess(
        clean_db,
        wakeup="realtime",
        supabase_url=realtime.base_url,
        supabase_service_role_key=make_jwt("a-secret-of-another-project-at-least-32-chars", "service_role"),
    ).start()
    try:
        port = await worker.health_port()
        await realtime.wait_until(lambda: len(realtime.rejected) >= 2)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["problems"] == {"wakeup": "realtime not connected"}
        assert realtime.handshakes == 0
        # The reason is in the worker's own log lines, not only in a library's.
        assert any("HTTP 403" in str(line.get("msg")) for line in worker.lines if line.get("level") == "warning")
    finally:
        await worker.stop()
