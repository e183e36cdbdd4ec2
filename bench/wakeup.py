"""Wake-up latency: from an event's insert to its claim by an idle worker, p50/p99, with
LISTEN/NOTIFY (WORKER_WAKEUP=listen) and with Realtime Broadcast from the database through the
Realtime stand-in (WORKER_WAKEUP=realtime), against poll only (WORKER_WAKEUP=poll).

Through Realtime, three things add up: the stand-in reads the log every 20 ms when it had
nothing (hosted Realtime streams it instead), a queue broadcasts at most every 100 ms (an event
stored sooner after the last wake-up is found by the worker's follow-up look 250 ms after it),
and the websocket hop.

Events are stored one at a time, as webhooks arrive, at random intervals (so they fall at random
points of the poll cycle). Each is a WAHA `message` event, a guest's reply that is not STOP: the
worker handles it without further database work, so what is measured is the wake-up and the
claim, not the handling of the event before it in the queue.

Both instants come from the database clock: the insert is the event's received_at; the claim
is recorded by a trigger this benchmark adds to its own database for the duration of the run
(benchmark.claims: the now() of the claiming transaction), because the row's lease columns are
cleared again when the event completes.
"""

from __future__ import annotations

import contextlib
import random
import time
from pathlib import Path
from typing import Any

import psycopg

from bench import seed, services
from bench.common import Result, Sizes, fmt_ms, ratio, summary_ms

TITLE = "wake-up latency"

_INSTALL = """
create schema if not exists benchmark;
create table if not exists benchmark.claims (event_id bigint primary key, claimed_at timestamptz not null);
create or replace function benchmark.record_claim() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  insert into benchmark.claims (event_id, claimed_at) values (new.id, now()) on conflict do nothing;
  return null;
end
$$;
create or replace trigger benchmark_record_claim after update of status on public.inbound_events
for each row when (old.status = 'pending' and new.status = 'processing')
execute function benchmark.record_claim();
"""

_UNINSTALL = """
drop trigger if exists benchmark_record_claim on public.inbound_events;
drop schema if exists benchmark cascade;
"""


def _guest_reply(event_id: str) -> dict[str, Any]:
    """A WAHA `message` webhook: a guest says thanks (not STOP, so nothing else happens)."""
    return {
        "id": event_id,
        "event": "message",
        "session": "default",
        "timestamp": int(time.time() * 1000),
        "payload": {
            "id": f"false_4915112345678@c.us_{event_id}",
            "timestamp": int(time.time()),
            "from": "4915112345678@c.us",
            "fromMe": False,
            "body": "Thank you, see you soon!",
            "hasMedia": False,
        },
    }


def _measure(
    db_url: str,
    run_dir: Path,
    conn: seed.Conn,
    tenant: seed.BenchTenant,
    mode: str,
    samples: int,
    seconds: float,
    gap_ms: tuple[int, int],
    poll: float,
) -> list[float]:
    conn.execute("truncate public.inbound_events, benchmark.claims")
    with contextlib.ExitStack() as stack:
        settings: dict[str, object] = {}
        if mode == "realtime":
            realtime, url, key = services.realtime_simulator(db_url, run_dir, poll_interval=0.02)
            stack.enter_context(services.running(realtime))
            settings = {"supabase_url": url, "supabase_service_role_key": key}
        worker = services.worker(db_url, run_dir, f"wakeup-{mode}", wakeup=mode, poll_interval_seconds=poll, **settings)
        stack.enter_context(services.running(worker))
        time.sleep(0.5)  # let the start-up pass over the (empty) queues finish
        rng = random.Random(7)  # noqa: S311 (spacing of test events, not a secret)
        deadline = time.monotonic() + seconds
        sent = 0
        while sent < samples and time.monotonic() < deadline:
            sent += 1
            event_id = f"wake-{mode}-{sent}"
            reply = _guest_reply(event_id)
            seed.ingest(conn, tenant, [(event_id, reply)], None, source="waha", provider="waha", type_key="event")
            time.sleep(rng.uniform(*gap_ms) / 1000)
        # Every event stored must be claimed; poll mode needs up to one poll interval more.
        settle = time.monotonic() + poll + 10
        while time.monotonic() < settle:
            row = conn.execute("select count(*) from benchmark.claims").fetchone()
            if row and int(row[0]) >= sent:
                break
            time.sleep(0.05)
    rows = conn.execute(
        "select extract(epoch from c.claimed_at - e.received_at)::float8 from public.inbound_events e"
        " join benchmark.claims c on c.event_id = e.id"
    ).fetchall()
    if len(rows) < sent:
        raise RuntimeError(f"{mode}: only {len(rows)} of {sent} events were claimed")
    return [float(r[0]) for r in rows]


def run(db_url: str, run_dir: Path, sizes: Sizes) -> list[Result]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        seed.reset(conn)
        tenant = seed.tenants(conn, "wakeup", 1)[0]
        conn.execute(_INSTALL)
        try:
            listen = _measure(
                db_url,
                run_dir,
                conn,
                tenant,
                "listen",
                sizes.wakeup_samples_listen,
                120,
                sizes.wakeup_gap_ms,
                sizes.poll_interval_seconds,
            )
            through_realtime = _measure(
                db_url,
                run_dir,
                conn,
                tenant,
                "realtime",
                sizes.wakeup_samples_listen,
                120,
                sizes.wakeup_gap_ms,
                sizes.poll_interval_seconds,
            )
            poll = _measure(
                db_url,
                run_dir,
                conn,
                tenant,
                "poll",
                1_000_000,
                sizes.wakeup_seconds_poll,
                sizes.wakeup_gap_ms,
                sizes.poll_interval_seconds,
            )
        finally:
            conn.execute(_UNINSTALL)
            seed.reset(conn)
    lat, base, rt = summary_ms(listen), summary_ms(poll), summary_ms(through_realtime)
    realtime_result = Result(
        name=f"{TITLE} (Realtime)",
        figure=f"Realtime broadcast p50 {fmt_ms(rt['p50_ms'])}, p99 {fmt_ms(rt['p99_ms'])}",
        baseline=f"poll only: p50 {fmt_ms(base['p50_ms'])}, p99 {fmt_ms(base['p99_ms'])}",
        ratio=ratio(base["p50_ms"], rt["p50_ms"]),
        ratio_meaning="poll p50 / Realtime p50 (how many times sooner a woken worker claims)",
        data={"realtime": rt, "poll": base, "poll_interval_seconds": sizes.poll_interval_seconds},
        notes=[
            f"{rt['count']} events, one every {sizes.wakeup_gap_ms[0]}-{sizes.wakeup_gap_ms[1]} ms, each its own "
            "transaction; a queue broadcasts at most every 100 ms, so events closer to the last wake-up wait for "
            "the worker's follow-up look (250 ms after it)",
            "through the Realtime stand-in, which reads the log every 20 ms when idle (hosted Realtime streams it "
            "and adds its own network hops): the design's latency, not hosted Realtime's",
        ],
    )
    return [
        Result(
            name=TITLE,
            figure=f"LISTEN/NOTIFY p50 {fmt_ms(lat['p50_ms'])}, p99 {fmt_ms(lat['p99_ms'])}",
            baseline=f"poll only: p50 {fmt_ms(base['p50_ms'])}, p99 {fmt_ms(base['p99_ms'])}",
            ratio=ratio(base["p50_ms"], lat["p50_ms"]),
            ratio_meaning="poll p50 / listen p50 (how many times sooner a woken worker claims)",
            data={"listen": lat, "poll": base, "poll_interval_seconds": sizes.poll_interval_seconds},
            notes=[
                f"{lat['count']} events with LISTEN/NOTIFY, {base['count']} polling only "
                f"(WORKER_POLL_INTERVAL_SECONDS={sizes.poll_interval_seconds:g}, the default); one event every "
                f"{sizes.wakeup_gap_ms[0]}-{sizes.wakeup_gap_ms[1]} ms",
                "insert = received_at, claim = now() of the claiming transaction (database clock)",
            ],
        ),
        realtime_result,
    ]
