"""A small fault-injection rig: a fresh PostgreSQL, real worker processes and the WAHA simulator,
with guests whose messages must arrive once each and in their planned order.

The simulator's record of what sendText accepted is the truth: a message is lost if the guest
never got it, duplicated if sendText accepted its id twice, out of order if a guest got a later
message first. The workers run at the default lease (two minutes), so a takeover that waited
for the lease would show.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg

from devstack import cluster, database
from devstack.simulators.waha import SentMessage, WahaSimulator
from tests.processes import WorkerProcess
from worker.waha import message_key

API_KEY = "fault-key"
SESSIONS = 8
GUESTS_PER_SESSION = 2
# The default lease: takeover must not depend on it.
WORKER_SETTINGS: dict[str, Any] = {
    "poll_interval_seconds": 1,
    "retry_base_seconds": 1,
    "shutdown_grace_seconds": 5,
    "log_level": "INFO",
}


@dataclass(frozen=True)
class Planned:
    id: int
    session: str
    chat_id: str
    body: str
    key: str


@dataclass
class Kill:
    """A SIGKILL and what the killed worker held at that moment."""

    worker_id: str
    at: dt.datetime
    # The message WAHA had just accepted when the worker died (it never heard the answer).
    accepted: int
    held: list[int] = field(default_factory=list)


@contextlib.contextmanager
def fresh_database() -> Iterator[cluster.Cluster]:
    """A new cluster with every migration, for one fault cell (a restart cell restarts it)."""
    with cluster.throwaway_cluster() as pg:
        database.prepare(pg.url)
        database.pause_schedules(pg.url)
        yield pg


@contextlib.asynccontextmanager
async def simulator(engine: str = "WEBJS") -> AsyncIterator[WahaSimulator]:
    # Sends take a while, so every kill finds some in flight.
    async with WahaSimulator(api_key=API_KEY, ack_delays=None, engine=engine, latency=0.25) as sim:
        yield sim


def plan(
    db: psycopg.Connection[Any], waha: WahaSimulator, *, per_guest: int = 3, config: dict[str, Any] | None = None
) -> list[Planned]:
    """SESSIONS hotels with one WhatsApp session each; each guest has `per_guest` messages due in
    a fixed order (next_attempt_at, then id: the order the claim keeps per session)."""
    planned: list[Planned] = []
    base = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    for s in range(SESSIONS):
        name = f"hotel-{s}"
        waha.add_session(name, config=config)
        row = db.execute("insert into public.tenants (name) values (%s) returning id", (f"Fault Hotel {s}",)).fetchone()
        assert row is not None
        tenant = row[0]
        config_row = db.execute(
            "insert into public.waha_configurations"
            " (tenant_id, base_url, session_name, session_status, send_gap_min_ms, send_gap_max_ms)"
            " values (%s, %s, %s, 'WORKING', 100, 200) returning id",
            (tenant, waha.base_url, name),
        ).fetchone()
        assert config_row is not None
        db.execute("select public.set_waha_api_key(%s, %s)", (config_row[0], API_KEY))
        for j in range(per_guest):
            for g in range(GUESTS_PER_SESSION):
                phone = f"+4917{s:03d}{g:05d}"
                body = f"guest {g} message {j}"
                due = base + dt.timedelta(seconds=j)
                row = db.execute(
                    "insert into public.message_logs"
                    " (tenant_id, template_key, dedupe_key, to_phone, body, status, next_attempt_at)"
                    " values (%s, 'fault', %s, %s, %s, 'queued', %s) returning id",
                    (tenant, f"fault:{uuid.uuid4()}", phone, body, due),
                ).fetchone()
                assert row is not None
                key = message_key(f"{tenant}:{row[0]}")
                planned.append(Planned(row[0], name, f"{phone.lstrip('+')}@c.us", body, key))
    return planned


def workers(url: str, count: int, **settings: Any) -> list[WorkerProcess]:
    return [
        WorkerProcess(url, **{**WORKER_SETTINGS, "worker_id": f"fault-{uuid.uuid4().hex[:8]}", **settings})
        for _ in range(count)
    ]


async def started(processes: list[WorkerProcess]) -> list[WorkerProcess]:
    for process in processes:
        await process.start()
    for process in processes:
        await process.wait_for_log(lambda line: "listening for wake-ups" in str(line.get("msg")), seconds=60)
    return processes


def worker_id(process: WorkerProcess) -> str:
    return process.env["WORKER_WORKER_ID"]


def ready(process: WorkerProcess) -> bool:
    return (
        process.process is not None
        and process.process.returncode is None
        and any("listening for wake-ups" in str(line.get("msg")) for line in process.lines)
    )


def kill_on_send(
    waha: WahaSimulator, db: psycopg.Connection[Any], processes: list[WorkerProcess], after: list[int]
) -> list[Kill]:
    """The i-th kill: once `after[i]` messages have been accepted in all, SIGKILLs the worker
    that sent the next one, the moment WAHA accepts it - WAHA has that message, the database
    still says `sending` and the worker never hears the answer. Only while another worker of
    `processes` (the test may add replacements) is up to take over. Returns the kills."""
    kills: list[Kill] = []
    keys: dict[str, int] = {}
    for row in db.execute("select id, tenant_id from public.message_logs").fetchall():
        keys[message_key(f"{row[1]}:{row[0]}")] = int(row[0])
    accepted = 0

    def hook(message: SentMessage) -> None:
        nonlocal accepted
        accepted += 1
        n = len(kills)
        if n >= len(after) or accepted < after[n] or sum(ready(p) for p in processes) < 2:
            return
        owner = db.execute(
            "select lease_owner from public.message_logs where id = %s", (keys.get(message.key),)
        ).fetchone()
        victim = next((p for p in processes if owner is not None and worker_id(p) == owner[0] and ready(p)), None)
        if victim is None or victim.process is None:
            return
        os.kill(victim.process.pid, signal.SIGKILL)
        held = db.execute(
            "select id from public.message_logs where lease_owner = %s and status = 'sending'", (worker_id(victim),)
        ).fetchall()
        accepted_id = keys[message.key]
        kills.append(Kill(worker_id(victim), dt.datetime.now(dt.UTC), accepted_id, [int(r[0]) for r in held]))

    waha.on_sent = hook
    return kills


async def until(check: Callable[[], bool], seconds: float = 60) -> None:
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110 (the state is in the database and the simulator)
            await asyncio.sleep(0.1)


def all_settled(db: psycopg.Connection[Any]) -> bool:
    row = db.execute("select count(*) filter (where status = 'sent'), count(*) from public.message_logs").fetchone()
    return row is not None and row[0] == row[1] > 0


@dataclass(frozen=True)
class Outcome:
    lost: list[Planned]
    duplicated: list[Planned]
    out_of_order: dict[str, list[str]]
    not_sent_in_db: int


def outcome(db: psycopg.Connection[Any], waha: WahaSimulator, planned: list[Planned]) -> Outcome:
    """What the guests got, by the simulator's record."""
    record: dict[str, dict[str, SentMessage]] = {}
    for session in {p.session for p in planned}:
        record[session] = {m.key: m for m in waha.sent(session)}
    lost = [p for p in planned if p.key not in record[p.session]]
    duplicated = [p for p in planned if p.key in record[p.session] and record[p.session][p.key].times > 1]
    out_of_order: dict[str, list[str]] = {}
    for chat in {p.chat_id for p in planned}:
        mine = [p for p in planned if p.chat_id == chat and p.key in record[p.session]]
        got = [p.body for p in sorted(mine, key=lambda p: record[p.session][p.key].monotonic)]
        expected = [p.body for p in planned if p.chat_id == chat]
        if got != expected:
            out_of_order[chat] = got
    row = db.execute("select count(*) from public.message_logs where status <> 'sent'").fetchone()
    return Outcome(lost, duplicated, out_of_order, int(row[0]) if row else -1)


def taken_over_within(db: psycopg.Connection[Any], kill: Kill) -> float:
    """Seconds from the kill until the last message the killed worker held was settled."""
    row = db.execute(
        "select extract(epoch from max(sent_at) - %s) from public.message_logs where id = any(%s)",
        (kill.at, kill.held),
    ).fetchone()
    return float(row[0]) if row and row[0] is not None else float("inf")


async def stop_all(processes: list[WorkerProcess]) -> None:
    for process in processes:
        await process.stop()
