"""Delivery: WhatsApp messages per second through the worker against the WAHA simulator (a
separate process answering every request after a fixed latency), spread over many tenants'
sessions, with per-session pacing obeyed.

Pacing lives in SQL (claim_messages_v2 and later): at most one message per session at a time,
and a random gap in [send_gap_min_ms, send_gap_max_ms] from WAHA's answer to one message before
the session's next. With 1,000 sessions and gaps of 0.5-1.0 s, pacing alone allows at most about
1,333 messages/s (1,000 / 0.75 s); at the default gaps (1-3 s) it would allow 500/s, so the
target of 1,000/s needs gaps of <= 1 s and little time in flight.

Each message goes to a guest number of its own, so the worker asks WAHA whether the number is
on WhatsApp (GET /api/contacts/check-exists) before POST /api/sendText: two requests, each with
the simulator's latency, per message. With the default look-ahead (claim_messages_v4) the check
runs while the session's gap still runs, so a session's cycle is its gap plus one sendText.

Baseline: the same worker and SQL sending one message at a time (WORKER_MESSAGE_BATCH_SIZE=1,
WORKER_SEND_CONCURRENCY=1): claim one, send it, record it, repeat. It is what a sender without
concurrency reaches against a WAHA that answers in 50 ms, and the ratio is what claiming
in batches and sending concurrently buys.

Pacing is checked afterwards from the simulator's own record of every accepted sendText: no two
consecutive messages of one session closer than the session's minimum gap.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench import realtime_cost, seed, services
from bench.common import Result, Sizes, fmt_ms, fmt_rate, percentile, ratio
from bench.cpu import CpuMeter, postmaster_pid

TITLE = "delivery"


def _insert_messages(conn: seed.Conn, tenants: list[seed.BenchTenant], per_session: int, phase: int) -> int:
    """Due messages written by hand (no reservation), each to a guest number of its own."""
    row = conn.execute(
        """
        with t as (select id, ord from unnest(%(ids)s::uuid[]) with ordinality as u (id, ord)),
        made as (
          insert into public.message_logs (tenant_id, template_key, dedupe_key, to_phone, body, status, next_attempt_at)
          select t.id, 'benchmark', format('phase%%s:%%s:%%s', %(phase)s, t.ord, k),
                 '+49152' || (10000000 + %(phase)s * 1000000 + t.ord * 100 + k),
                 format('Hello guest %%s, your room is ready.', t.ord * 100 + k), 'queued', now()
          from t, generate_series(1, %(per)s) k
          returning 1
        )
        select count(*) from made
        """,
        {"ids": [t.id for t in tenants], "per": per_session, "phase": phase},
    ).fetchone()
    return int(row[0]) if row else 0


def _cancel_waiting(conn: seed.Conn) -> None:
    """Ends a phase: what it did not send is cancelled, so the next phase measures only its own."""
    conn.execute(
        "update public.message_logs set status = 'cancelled', last_error = 'benchmark phase over'"
        " where status in ('scheduled', 'queued', 'failed')"
    )


def _sent_since(conn: seed.Conn, since: float) -> list[float]:
    rows = conn.execute(
        "select extract(epoch from sent_at)::float8 from public.message_logs"
        " where sent_at >= to_timestamp(%s) order by sent_at",
        (since,),
    ).fetchall()
    return [float(r[0]) for r in rows]


def _sent_count(conn: seed.Conn, since: float) -> int:
    row = conn.execute(
        "select count(*) from public.message_logs where sent_at >= to_timestamp(%s)", (since,)
    ).fetchone()
    return int(row[0]) if row else 0


def _cpu_per_message(measured: dict[str, Any]) -> dict[str, float]:
    """Milliseconds of CPU each process spent per message over the measured window: what a
    rate would cost, independent of how many cores this machine has."""
    since, until = measured["window"]
    sent = measured["messages"] or 1
    return {
        name: round(percent / 100 * (until - since) / sent * 1000, 2)
        for name, percent in measured["cpu_percent_of_one_core"].items()
        if not name.startswith("benchmark")
    }


def _db_now(conn: seed.Conn) -> float:
    row = conn.execute("select extract(epoch from clock_timestamp())::float8").fetchone()
    assert row is not None
    return float(row[0])


def _counts(conn: seed.Conn) -> dict[str, int]:
    rows = conn.execute("select status::text, count(*) from public.message_logs group by 1").fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def _rates(sent_at: list[float]) -> dict[str, float]:
    """Overall rate, and the steady rate over the middle 80% of sends (start-up and the tail,
    when fewer and fewer sessions still have messages, left out)."""
    n = len(sent_at)
    if n < 2:
        return {"messages": n, "overall_per_second": 0.0, "steady_per_second": 0.0, "seconds": 0.0}
    overall = (n - 1) / max(sent_at[-1] - sent_at[0], 1e-9)
    lo, hi = int(n * 0.1), max(int(n * 0.9) - 1, int(n * 0.1) + 1)
    steady = (hi - lo) / max(sent_at[hi] - sent_at[lo], 1e-9) if hi < n else overall
    return {
        "messages": n,
        "seconds": round(sent_at[-1] - sent_at[0], 3),
        "overall_per_second": round(overall, 1),
        "steady_per_second": round(steady, 1),
    }


def _pacing(
    waha_url: str, tenants: list[seed.BenchTenant], min_gap_ms: int, window: tuple[float, float]
) -> dict[str, Any]:
    """Gaps between consecutive accepted sends of each session, from the simulator's record
    (the simulator and the database run on this machine: one clock). `window` is the throughput
    phase, whose median gap is the sessions' real cycle under load."""
    gaps: list[float] = []
    in_window: list[float] = []
    violations: list[dict[str, Any]] = []
    sends = 0
    with httpx.Client(base_url=waha_url, timeout=30) as client:
        for tenant in tenants:
            record = client.get(f"/_sim/sessions/{tenant.session_name}/sent").raise_for_status().json()
            times = sorted(float(m["at"]) for m in record)
            sends += len(times)
            for a, b in itertools.pairwise(times):
                gap_ms = (b - a) * 1000
                gaps.append(gap_ms)
                if window[0] <= a and b <= window[1]:
                    in_window.append(gap_ms)
                if gap_ms < min_gap_ms:
                    violations.append({"session": tenant.session_name, "gap_ms": round(gap_ms, 1)})
        spec_violations = client.get("/_sim/violations").raise_for_status().json()
    return {
        "sends_recorded": sends,
        "gaps_checked": len(gaps),
        "min_gap_required_ms": min_gap_ms,
        "min_gap_seen_ms": round(min(gaps), 1) if gaps else None,
        "p1_gap_ms": round(percentile(gaps, 1), 1) if gaps else None,
        "median_gap_ms": round(percentile(gaps, 50), 1) if gaps else None,
        "throughput_phase_median_gap_ms": round(percentile(in_window, 50), 1) if in_window else None,
        "violations": len(violations),
        "worst_violations": sorted(violations, key=lambda v: float(v["gap_ms"]))[:5],
        "spec_violations": len(spec_violations),
    }


def _run_workers(
    db_url: str,
    run_dir: Path,
    conn: seed.Conn,
    names: list[str],
    seconds: float,
    expect: int,
    waha: services.Service,
    postmaster: int | None,
    **settings: object,
) -> dict[str, Any]:
    """Runs worker processes until `expect` more messages are sent or `seconds` passed."""
    since = _db_now(conn)
    cost_before = realtime_cost.settled(conn)
    workers = [
        services.worker(db_url, run_dir, name, wakeup="listen", shutdown_grace_seconds=5, **settings) for name in names
    ]
    pids = {f"worker {w.name.removeprefix('worker ')}": w.pid for w in workers}
    meter = CpuMeter({**pids, "WAHA simulator": waha.pid}, postmaster)
    with services.running(*workers):
        meter.start()
        deadline = time.monotonic() + seconds
        # Once a second, on the sent_at index: a status count over the whole table every quarter
        # second cost Postgres a tenth of a core, taken from what is being measured.
        while time.monotonic() < deadline and _sent_count(conn, since) < expect:
            time.sleep(1.0)
        cpu = meter.stop()
    until = _db_now(conn)
    return {
        **_rates(_sent_since(conn, since)),
        "cpu_percent_of_one_core": cpu,
        "settings": settings,
        "window": (since, until),
        # The workers have stopped: their database sessions have reported their counts.
        "realtime": realtime_cost.rates(cost_before, realtime_cost.settled(conn), until - since),
    }


def run(db_url: str, run_dir: Path, sizes: Sizes) -> list[Result]:
    waha, waha_url = services.waha_simulator(run_dir, api_key=seed.WAHA_API_KEY, latency_ms=sizes.waha_latency_ms)
    with services.running(waha), psycopg.connect(db_url, autocommit=True) as conn:
        seed.reset(conn)
        tenants = seed.tenants(
            conn, TITLE, sizes.delivery_sessions, waha_base_url=waha_url, send_gap_ms=sizes.send_gap_ms
        )
        with httpx.Client(base_url=waha_url, timeout=30) as client:
            for tenant in tenants:
                client.post("/_sim/sessions", json={"name": tenant.session_name}).raise_for_status()
        postmaster = postmaster_pid(db_url)

        # 1. Baseline: one message at a time.
        _insert_messages(conn, tenants, 2, phase=1)
        conn.execute("analyze public.message_logs, public.waha_configurations")
        baseline = _run_workers(
            db_url,
            run_dir,
            conn,
            ["delivery-one-at-a-time"],
            sizes.delivery_baseline_seconds,
            10**9,
            waha,
            postmaster,
            message_batch_size=1,
            send_concurrency=1,
        )
        _cancel_waiting(conn)

        # 2. Throughput: one worker as configured by default.
        total = _insert_messages(conn, tenants, sizes.delivery_messages_per_session, phase=2)
        conn.execute("analyze public.message_logs")
        measured = _run_workers(db_url, run_dir, conn, ["delivery"], sizes.delivery_seconds, total, waha, postmaster)
        _cancel_waiting(conn)

        # 3. Pacing held across two replicas: few sessions, many messages each, both workers
        # competing for them. A 1 s poll bounds the idle wait after a batch that was not full.
        few = tenants[: sizes.pacing_sessions]
        paced_total = _insert_messages(conn, few, sizes.pacing_messages, phase=3)
        paced = _run_workers(
            db_url,
            run_dir,
            conn,
            ["pacing-a", "pacing-b"],
            60,
            paced_total,
            waha,
            postmaster,
            poll_interval_seconds=1,
        )
        _cancel_waiting(conn)
        pacing = _pacing(waha_url, tenants, sizes.send_gap_ms[0], measured["window"])
        counts = _counts(conn)
        seed.reset(conn)

    ceiling = sizes.delivery_sessions / (sum(sizes.send_gap_ms) / 2 / 1000)
    paced_ceiling = sizes.pacing_sessions / (sum(sizes.send_gap_ms) / 2 / 1000)
    figure = (
        f"{fmt_rate(measured['steady_per_second'], 'msg')} over {sizes.delivery_sessions:,} sessions; "
        f"pacing: {pacing['violations']} gaps under {sizes.send_gap_ms[0]} ms in {pacing['gaps_checked']:,} "
        f"(closest {fmt_ms(pacing['min_gap_seen_ms'] or 0)})"
    )
    notes = [
        f"{total:,} messages queued ({sizes.delivery_messages_per_session} per session), WAHA latency "
        f"{sizes.waha_latency_ms:g} ms per request (2 requests per message: check-exists, sendText), gaps "
        f"{sizes.send_gap_ms[0]}-{sizes.send_gap_ms[1]} ms, so pacing allows at most {ceiling:,.0f} msg/s "
        f"(if a message took no time in flight); target 1,000 msg/s",
        f"each session's cycle while sending (median time between its sends on the simulator's record): "
        f"{fmt_ms(pacing['throughput_phase_median_gap_ms'] or 0)}, of which the pacing gap is "
        f"{sum(sizes.send_gap_ms) / 2:g} ms on average",
        f"one worker with default settings sent {measured['messages']:,} in at most {sizes.delivery_seconds:g} s "
        f"(steady rate = middle 80% of sends by sent_at; overall {measured['overall_per_second']:g}/s)",
        f"CPU (% of one core) while sending: {measured['cpu_percent_of_one_core']}",
        f"CPU per message sent (ms): {_cpu_per_message(measured)}; at 1,000 msg/s these would need "
        f"{sum(_cpu_per_message(measured).values()):.2f} cores",
        f"baseline: the same worker with WORKER_MESSAGE_BATCH_SIZE=1 and WORKER_SEND_CONCURRENCY=1 for "
        f"{sizes.delivery_baseline_seconds:g} s",
        f"pacing check: 2 workers sharing {sizes.pacing_sessions} sessions x {sizes.pacing_messages} messages "
        f"(pacing allows {paced_ceiling:,.0f} msg/s) sent {paced['messages']} at "
        f"{paced['overall_per_second']:g} msg/s; gaps are checked over every phase from the simulator's record "
        f"(median gap {fmt_ms(pacing['median_gap_ms'] or 0)}, 1st percentile {fmt_ms(pacing['p1_gap_ms'] or 0)}); "
        f"requests not following WAHA's OpenAPI spec: {pacing['spec_violations']}",
        f"final states of all messages: {counts}",
    ]
    cost = measured["realtime"]
    wakeups = Result(
        name="realtime messages while delivering",
        figure=f"{cost['broadcast_per_second']:g} wake-up msg/s while sending {measured['overall_per_second']:g} msg/s",
        baseline=f"Postgres Changes on the queue tables: {cost['postgres_changes_per_second']:,.0f} msg/s",
        ratio=ratio(cost["postgres_changes_per_second"], cost["broadcast_per_second"]),
        ratio_meaning="Postgres Changes / broadcast wake-ups (target: broadcasts <= 50/s at 1,000 sends/s)",
        data={"throughput_phase": cost, "target_per_second": 50},
        notes=[
            f"the throughput phase's window ({cost['seconds']:g} s): {cost['broadcasts']} broadcasts from the database "
            f"(realtime.messages on {realtime_cost.TOPIC}), {cost['row_changes']:,} row changes of inbound_events and "
            "message_logs (each a Postgres Changes message to a worker subscribed to them, the earlier design)",
            "each message counts once per subscribed worker; hosted Realtime allows ~100 msg/s (Free), 500/s (Pro)",
            "the messages are queued before the phase, and WAHA's acks are off here: the webhook-heavy case is "
            "measured in the ingest benchmark",
        ],
    )
    return [
        wakeups,
        Result(
            name=TITLE,
            figure=figure,
            baseline=f"one at a time: {fmt_rate(baseline['overall_per_second'], 'msg')}",
            ratio=ratio(measured["steady_per_second"], baseline["overall_per_second"]),
            ratio_meaning="concurrent / one at a time (higher is better)",
            data={
                "measured": measured,
                "baseline": baseline,
                "pacing_two_replicas": paced,
                "pacing": pacing,
                "pacing_ceiling_per_second": round(ceiling, 1),
                "target_per_second": 1000,
            },
            notes=notes,
        ),
    ]
