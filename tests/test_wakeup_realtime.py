"""Wake-ups from Supabase Realtime: the worker's RealtimeSource with the real `realtime` client,
against the Realtime simulator (devstack/simulators/realtime.py) streaming this database's
write-ahead log. The database broadcasts one wake-up per transaction that leaves work, on a
private channel only the service role may read. Realtime is at most once, so what matters is
what the worker does around the channel: ready only when Realtime says so, a reconcile after
every (re)join, and a poll that finishes what a lost wake-up would have started."""

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
from worker.wakeup import QUEUES, WAKEUP_TOPIC, RealtimeSource, Signals

EVERY_QUEUE = set(QUEUES)


@pytest.fixture
async def realtime(clean_db: str) -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(clean_db) as sim:
        yield sim
        sim.assert_no_violations()


@pytest.fixture(autouse=True)
def wakeup_interval(clean_db: str) -> Iterator[Callable[[str], None]]:
    """Each test starts with no recent wake-up nor stored message; `set_interval` changes the
    minimum interval between two wake-ups of a queue."""

    def set_interval(interval: str) -> None:
        with psycopg.connect(clean_db, autocommit=True) as conn:
            conn.execute("update private.wakeup_broadcasts set min_interval = %s::interval", (interval,))

    with psycopg.connect(clean_db, autocommit=True) as conn:
        conn.execute("update private.wakeup_broadcasts set last_sent_at = '-infinity', min_interval = '100 ms'")
        conn.execute("truncate realtime.messages")
    yield set_interval


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


def source_for(realtime: RealtimeSimulator, key: str | None = None, *, follow_up: float = 0.25) -> RealtimeSource:
    return RealtimeSource(realtime.base_url, key or realtime.service_role_key(), Signals(), follow_up_seconds=follow_up)


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


def wakeups(realtime: RealtimeSimulator) -> int:
    return realtime.broadcasts


async def test_a_transaction_that_leaves_work_wakes_its_queue_once(
    realtime: RealtimeSimulator,
    db: psycopg.Connection[Any],
    factory: Factory,
    wakeup_interval: Callable[[str], None],
) -> None:
    wakeup_interval("0")  # here: every transaction may broadcast, however close together
    tenant = factory.tenant()
    # No follow-up looks here: each wake-up seen must be one the database sent.
    async with running(source_for(realtime, follow_up=3600)) as source:
        await eventually(lambda: source.connected)

        settle(source.signals)
        ingest(db, tenant, "evt-wake")
        await eventually(lambda: bool(woken(source.signals)))
        assert woken(source.signals) == {"inbound_events"}

        settle(source.signals)
        message = factory.message(tenant)
        await eventually(lambda: bool(woken(source.signals)))
        assert woken(source.signals) == {"message_logs"}

        # A transaction of many statements and rows that leave work: one message, not one per row.
        settle(source.signals)
        before = wakeups(realtime)
        with db.transaction():
            for n in range(3):
                ingest(db, tenant, f"evt-batch-{n}")
            factory.message(tenant)
            factory.message(tenant)
        await eventually(lambda: woken(source.signals) == {"inbound_events", "message_logs"})
        await eventually(lambda: wakeups(realtime) >= before + 2)

        # A change that leaves no work (a cancellation) sends nothing; a requeue does.
        settle(source.signals)
        db.execute("update public.message_logs set status = 'cancelled' where id = %s", (message,))
        db.execute("update public.message_logs set status = 'queued' where id = %s", (message,))
        await eventually(lambda: woken(source.signals) == {"message_logs"})
        await eventually(lambda: wakeups(realtime) == before + 3)
    assert realtime.delivered_count == 0, "no Postgres Changes: every wake-up is a broadcast"
    assert realtime.broadcast_deliveries == realtime.broadcasts == before + 3


class RecordingSignals(Signals):
    """Signals that remember when each queue was woken (monotonic clock)."""

    def __init__(self) -> None:
        super().__init__()
        self.woken_at: list[tuple[str, float]] = []

    def wake(self, queue: str) -> None:
        self.woken_at.append((queue, asyncio.get_running_loop().time()))
        super().wake(queue)

    def wake_all(self) -> None:
        for queue in self.events:
            self.wake(queue)


async def test_within_the_interval_transactions_stay_silent_and_the_worker_looks_again(
    realtime: RealtimeSimulator,
    db: psycopg.Connection[Any],
    factory: Factory,
    wakeup_interval: Callable[[str], None],
) -> None:
    """The cap on Realtime messages: after a queue's wake-up, transactions leaving work on it
    send nothing until the interval has passed; the worker looks once more `follow_up` after
    the wake-up, which finds their work without a message of its own."""
    tenant = factory.tenant()
    signals = RecordingSignals()
    follow_up = 0.25
    source = RealtimeSource(realtime.base_url, realtime.service_role_key(), signals, follow_up_seconds=follow_up)
    async with running(source):
        await eventually(lambda: source.connected)
        wakeup_interval("1 hour")
        before = len(signals.woken_at)
        ingest(db, tenant, "evt-first")
        for n in range(5):
            ingest(db, tenant, f"evt-silent-{n}")
        await eventually(lambda: realtime.broadcasts == 1)
        await eventually(lambda: len(signals.woken_at) >= before + 2)
        (first, woken_at), (again, looked_at) = signals.woken_at[before : before + 2]
        assert first == again == "inbound_events"
        assert looked_at - woken_at >= follow_up * 0.9, "the second look is the follow-up, not a broadcast"
    assert realtime.broadcasts == 1
    stored = db.execute("select count(*) from realtime.messages where topic = %s", (WAKEUP_TOPIC,)).fetchone()
    assert stored == (1,)


def test_a_transaction_broadcasting_does_not_hold_up_the_others(
    db: psycopg.Connection[Any], factory: Factory, clean_db: str
) -> None:
    """While one transaction that broadcasts is still open (it holds the queue's row), another
    leaving work commits at once, silently, instead of queueing behind it."""
    tenant = factory.tenant()
    before = db.execute("select count(*) from realtime.messages").fetchone()
    with psycopg.connect(clean_db) as first, psycopg.connect(clean_db, autocommit=True) as second:
        ingest(first, tenant, "evt-open")  # broadcasts, and keeps its transaction open
        second.execute("set lock_timeout = '5s'")
        ingest(second, tenant, "evt-meanwhile")  # would fail on the lock timeout if it waited
        first.commit()
    after = db.execute("select count(*) from realtime.messages").fetchone()
    assert before is not None and after is not None
    assert after[0] - before[0] == 1
    assert status_of(db, "evt-meanwhile") == "pending"


async def test_the_wakeups_channel_is_private_to_the_service_role(
    realtime: RealtimeSimulator, factory: Factory
) -> None:
    """RLS on realtime.messages decides who joins the private channel: a hotel's staff member (or
    anyone with the anon key) is refused, so never sees the workers' traffic nor can fake it."""
    hotel = factory.tenant()
    member = factory.member(hotel, "owner")
    member_token = make_jwt(realtime.jwt_secret, "authenticated", sub=str(member), aud="authenticated")
    for key in (member_token, realtime.anon_key()):
        async with running(source_for(realtime, key)) as source:
            await eventually(lambda: len(realtime.denied_joins) >= 2)  # refused, retried, refused
            assert not source.connected
        assert set(realtime.denied_joins) == {WAKEUP_TOPIC}
        realtime.denied_joins.clear()
    assert realtime.joins == 0


async def test_a_wakeup_wakes_the_queue_it_names() -> None:
    source = RealtimeSource("http://127.0.0.1:1", "key", Signals())
    source._on_wakeup({"event": "wake", "type": "broadcast", "payload": {"queue": "sync_jobs", "id": "x"}})
    assert woken(source.signals) == {"sync_jobs"}
    settle(source.signals)
    # A queue this version does not know (a newer database): better every queue than none.
    source._on_wakeup({"event": "wake", "type": "broadcast", "payload": {"queue": "invoices"}})
    assert woken(source.signals) == EVERY_QUEUE


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
        await eventually(lambda: realtime.handshakes == 2 and realtime.joins == 2 and source.connected)
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
        await eventually(lambda: realtime.joins == 2 and source.connected)
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
        delivered = realtime.broadcast_deliveries
        ingest(db, tenant, "evt-dropped")
        await realtime.wait_until(lambda: realtime.dropped == 1)  # the insert's wake-up is gone
        await eventually(lambda: status_of(db, "evt-dropped") == "succeeded")
        assert realtime.broadcast_deliveries == delivered, "the worker was never told: its poll found it"

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
