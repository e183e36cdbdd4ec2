"""Wake-ups from LISTEN/NOTIFY: the worker's ListenSource on a real connection to the migrated
database, woken by the notifications the migrations' triggers send, through a backend killed by
the server and a connection the network silently lost."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.factories import Factory, Tenant
from worker.wakeup import QUEUES, ListenSource, Signals

EVERY_QUEUE = set(QUEUES)


@contextlib.asynccontextmanager
async def running(source: ListenSource) -> AsyncIterator[ListenSource]:
    stop = asyncio.Event()
    task = asyncio.create_task(source.run(stop))
    try:
        yield source
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def eventually(check: Callable[[], bool], seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110 (the state changes in other tasks and in the database)
            await asyncio.sleep(0.02)


def woken(signals: Signals) -> set[str]:
    return {queue for queue, event in signals.events.items() if event.is_set()}


def settle(signals: Signals) -> None:
    for event in signals.events.values():
        event.clear()


def listeners(db: psycopg.Connection[Any]) -> list[int]:
    """Backends of the source's connection, as the server sees them."""
    rows = db.execute("select pid from pg_stat_activity where application_name = 'worker-listen' order by pid")
    return [int(r[0]) for r in rows.fetchall()]


def ingest(db: psycopg.Connection[Any], tenant: Tenant, event_id: str) -> None:
    event = {"event_id": event_id, "event_type": "reservation.created", "payload": {"type": "reservation.created"}}
    db.execute(
        "select count(*) from internal.ingest_inbound_events_v1(%s, 'pms', 'generic', %s::jsonb, null)",
        (tenant.id, json.dumps([event])),
    )


class FreezingProxy:
    """A TCP proxy to the database that can stop forwarding without closing anything: what a
    connection looks like after a NAT or a firewall forgot it. New connections still pass."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.frozen: set[asyncio.StreamWriter] = set()
        self.writers: set[asyncio.StreamWriter] = set()
        self.pipes: set[asyncio.Task[Any]] = set()
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> FreezingProxy:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.close()
        for writer in self.writers:
            writer.close()
        await asyncio.gather(*self.pipes, return_exceptions=True)

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    def freeze(self) -> None:
        """Everything sent either way on today's connections is lost from now on."""
        self.frozen |= self.writers

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(*self.target)
        self.writers |= {client_writer, server_writer}
        for reader, writer in ((client_reader, server_writer), (server_reader, client_writer)):
            self.pipes.add(asyncio.create_task(self._pipe(reader, writer)))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                if writer not in self.frozen:
                    writer.write(data)
                    await writer.drain()
        writer.close()


async def test_connecting_wakes_every_queue_to_reconcile(clean_db: str) -> None:
    async with running(ListenSource(clean_db, Signals())) as source:
        await eventually(lambda: source.connected)
        assert woken(source.signals) == EVERY_QUEUE


async def test_each_channel_wakes_its_own_queue(clean_db: str, db: psycopg.Connection[Any], factory: Factory) -> None:
    tenant = factory.tenant()
    pms = factory.pms_configuration(tenant)
    async with running(ListenSource(clean_db, Signals())) as source:
        await eventually(lambda: source.connected)

        settle(source.signals)
        ingest(db, tenant, "evt-listen")
        await eventually(lambda: bool(woken(source.signals)))
        assert woken(source.signals) == {"inbound_events"}

        settle(source.signals)
        factory.message(tenant, status="queued")
        await eventually(lambda: bool(woken(source.signals)))
        assert woken(source.signals) == {"message_logs"}

        settle(source.signals)
        db.execute("select internal.enqueue_sync_v1(%s, 'incremental', 'manual')", (pms,))
        await eventually(lambda: bool(woken(source.signals)))
        assert woken(source.signals) == {"sync_jobs"}


async def test_a_writer_that_wakes_its_own_sender_plans_messages_without_notify(
    clean_db: str, db: psycopg.Connection[Any], factory: Factory
) -> None:
    """The worker upserts reservations with upsert_reservation_v2(p_notify => false) and wakes
    its own sender: a NOTIFY would make every such commit wait for one cluster-wide lock. Any
    other writer still notifies."""
    tenant = factory.tenant()
    db.execute(
        "insert into public.message_templates (tenant_id, key, language, body)"
        " values (%s, 'booking_confirmation', 'en', 'Booked!')",
        (tenant.id,),
    )
    db.execute(
        "insert into public.automation_rules (tenant_id, name, trigger, template_key)"
        " values (%s, 'Confirmation', 'booking_confirmed', 'booking_confirmation')",
        (tenant.id,),
    )
    # No quiet hours: the confirmation is due now, whatever the time of day.
    db.execute(
        "update public.properties set quiet_hours_start = '00:00', quiet_hours_end = '00:00' where tenant_id = %s",
        (tenant.id,),
    )

    def booking(pms_id: str) -> str:
        return json.dumps(
            {
                "provider": "generic",
                "pms_reservation_id": pms_id,
                "pms_property_id": "PROP-1",
                "status": "confirmed",
                "arrival_date": "2027-03-01",
                "departure_date": "2027-03-03",
                "pms_updated_at": "2026-11-26T10:00:00Z",
                "guest": {"full_name": "Ada Lovelace", "phone": "+4915112345678", "language": "en"},
            }
        )

    due = "select count(*) from public.message_logs where status = 'scheduled' and next_attempt_at <= now()"
    async with running(ListenSource(clean_db, Signals())) as source:
        await eventually(lambda: source.connected)
        settle(source.signals)
        db.execute(
            "select * from internal.upsert_reservation_v2(%s, %s::jsonb, null, null, false)",
            (tenant.id, booking("Q-1")),
        )
        assert db.execute(due).fetchone() == (1,), "the confirmation is planned and due"
        # Notifications arrive in commit order: once this one is here, one from the upsert would be too.
        ingest(db, tenant, "evt-fence")
        await eventually(lambda: "inbound_events" in woken(source.signals))
        assert woken(source.signals) == {"inbound_events"}, "the upsert sent no notification"

        settle(source.signals)
        db.execute("select * from internal.upsert_reservation_v2(%s, %s::jsonb)", (tenant.id, booking("Q-2")))
        await eventually(lambda: bool(woken(source.signals)))
        assert woken(source.signals) == {"message_logs"}, "by default the upsert notifies, as v1 does"


async def test_a_terminated_backend_is_replaced_and_every_queue_reconciles(
    clean_db: str, db: psycopg.Connection[Any], factory: Factory
) -> None:
    tenant = factory.tenant()
    async with running(ListenSource(clean_db, Signals())) as source:
        await eventually(lambda: source.connected and len(listeners(db)) == 1)
        [first] = listeners(db)
        settle(source.signals)

        db.execute("select pg_terminate_backend(%s)", (first,))
        await eventually(lambda: source.connected and len(listeners(db)) == 1 and listeners(db) != [first])
        # Notifications sent while it was away are lost: every queue looks for itself.
        await eventually(lambda: woken(source.signals) == EVERY_QUEUE)

        settle(source.signals)
        ingest(db, tenant, "evt-after-terminate")
        await eventually(lambda: woken(source.signals) == {"inbound_events"})


async def test_a_connection_the_network_silently_lost_is_noticed_and_replaced(
    clean_db: str, db: psycopg.Connection[Any], factory: Factory
) -> None:
    tenant = factory.tenant()
    target = conninfo_to_dict(clean_db)
    async with FreezingProxy(str(target.get("host") or "127.0.0.1"), int(str(target.get("port") or 5432))) as proxy:
        url = make_conninfo(clean_db, host="127.0.0.1", port=proxy.port)
        async with running(ListenSource(url, Signals(), check_seconds=0.5, check_timeout=1)) as source:
            await eventually(lambda: source.connected and len(listeners(db)) == 1)
            [first] = listeners(db)
            settle(source.signals)

            proxy.freeze()  # the server still sees its backend; nothing gets through any more
            # Noticed within check_seconds + check_timeout, plus psycopg's bounded cancel (~10 s).
            await eventually(lambda: source.connected and [p for p in listeners(db) if p != first] != [], 60)
            await eventually(lambda: woken(source.signals) == EVERY_QUEUE)

            settle(source.signals)
            ingest(db, tenant, "evt-after-freeze")
            await eventually(lambda: woken(source.signals) == {"inbound_events"})
