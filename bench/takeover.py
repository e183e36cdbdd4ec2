"""Takeover: time to full throughput after a worker SIGKILL, at the default lease (120 s).

Two worker processes share many sessions, each with a long backlog, against the WAHA simulator
(a separate process, sessions on the WEBJS engine, so a send cut off by the kill can be checked
with WAHA). Once both send steadily, one is SIGKILLed mid-send. Measured, from the simulator's
record of every accepted sendText (one clock: everything runs on this machine):

- every session the killed worker held sends again: the time from the kill to the last of them
  (a reconciled send - found in the chat and recorded without sending - counts: from then on the
  session is paced and sending again);
- full throughput: the first second after the kill from which the send rate (over 2-second
  windows) stays within 90% of the rate before it.

Baseline: the lease. Without liveness (claim_messages_v4, reclaim_messages_v1) a killed worker's
sessions wait until their leases run out, 120 s at the default.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench import seed, services
from bench.common import Result, Sizes, ratio

TITLE = "takeover"
LEASE_SECONDS = 120  # the worker's default (worker/settings.py)


def _insert_backlog(conn: seed.Conn, tenants: list[seed.BenchTenant], per_session: int) -> int:
    row = conn.execute(
        """
        with t as (select id, ord from unnest(%(ids)s::uuid[]) with ordinality as u (id, ord)),
        made as (
          insert into public.message_logs (tenant_id, template_key, dedupe_key, to_phone, body, status, next_attempt_at)
          select t.id, 'benchmark', format('takeover:%%s:%%s', t.ord, k), '+49153' || (10000000 + t.ord * 100 + k %% 7),
                 format('Message %%s of %%s', k, t.ord), 'queued', now() + make_interval(secs => k * 0.001)
          from t, generate_series(1, %(per)s) k
          returning 1
        )
        select count(*) from made
        """,
        {"ids": [t.id for t in tenants], "per": per_session},
    ).fetchone()
    return int(row[0]) if row else 0


def _record(client: httpx.Client, tenants: list[seed.BenchTenant]) -> dict[str, list[float]]:
    """Wall-clock times of every accepted sendText, per session."""
    return {
        t.session_name: sorted(float(m["at"]) for m in client.get(f"/_sim/sessions/{t.session_name}/sent").json())
        for t in tenants
    }


def _duplicates(client: httpx.Client, tenants: list[seed.BenchTenant]) -> int:
    return sum(
        int(m.get("times", 1)) - 1 for t in tenants for m in client.get(f"/_sim/sessions/{t.session_name}/sent").json()
    )


def _rate(times: list[float], since: float, until: float) -> float:
    return sum(1 for t in times if since <= t < until) / max(until - since, 1e-9)


def _full_throughput_after(times: list[float], killed_at: float, before_rate: float, horizon: float) -> float | None:
    """Seconds after the kill from which the rate over every following 2-second window (up to
    `horizon`) holds at least 90% of the rate before the kill (pacing's random gaps make single
    seconds noisy)."""
    buckets = Counter(int(t - killed_at) for t in times if killed_at <= t < killed_at + horizon)
    last = int(horizon) - 2
    for start in range(last + 1):
        if all((buckets.get(b, 0) + buckets.get(b + 1, 0)) / 2 >= 0.9 * before_rate for b in range(start, last + 1)):
            return float(start)
    return None


def run(db_url: str, run_dir: Path, sizes: Sizes) -> list[Result]:
    sessions = min(sizes.delivery_sessions, 200)
    # Steady sending measured before the kill, and how long it is watched after (short for --smoke).
    before_seconds, after_seconds = (6.0, 15.0) if sessions >= 50 else (2.0, 8.0)
    gap = sizes.send_gap_ms
    cycle = sum(gap) / 2 / 1000 + 2 * sizes.waha_latency_ms / 1000
    per_session = int((before_seconds + after_seconds + 10) / cycle) + 5
    waha, waha_url = services.waha_simulator(run_dir, api_key=seed.WAHA_API_KEY, latency_ms=sizes.waha_latency_ms)
    with services.running(waha), psycopg.connect(db_url, autocommit=True) as conn:
        seed.reset(conn)
        tenants = seed.tenants(conn, TITLE, sessions, waha_base_url=waha_url, send_gap_ms=gap)
        with httpx.Client(base_url=waha_url, timeout=30) as client:
            for tenant in tenants:
                client.post("/_sim/sessions", json={"name": tenant.session_name, "engine": "WEBJS"}).raise_for_status()
        total = _insert_backlog(conn, tenants, per_session)
        conn.execute("analyze public.message_logs")
        settings: dict[str, Any] = {"wakeup": "listen", "shutdown_grace_seconds": 5, "poll_interval_seconds": 1}
        workers = {name: services.worker(db_url, run_dir, name, **settings) for name in ("takeover-a", "takeover-b")}
        with services.running(*workers.values()):
            time.sleep(before_seconds + 2)  # warm-up, then the measured window before the kill
            # The worker holding more sessions right now is the one killed.
            held_by = conn.execute(
                "select w.session_name, m.lease_owner from public.message_logs m"
                " join public.waha_configurations w on w.tenant_id = m.tenant_id"
                " where m.status = 'sending' and m.lease_owner = any(%s)",
                (list(workers),),
            ).fetchall()
            victim_name = Counter(str(r[1]) for r in held_by).most_common(1)[0][0] if held_by else "takeover-a"
            victim = workers[victim_name]
            held_sessions = sorted({str(r[0]) for r in held_by if r[1] == victim_name})
            killed_at = time.time()
            os.kill(victim.pid, signal.SIGKILL)
            time.sleep(after_seconds)
            with httpx.Client(base_url=waha_url, timeout=30) as client:
                record = _record(client, tenants)
                duplicates = _duplicates(client, tenants)
        states = {
            str(r[0]): int(r[1])
            for r in conn.execute("select status::text, count(*) from public.message_logs group by 1").fetchall()
        }
        seed.reset(conn)

    every = sorted(t for times in record.values() for t in times)
    before_rate = _rate(every, killed_at - before_seconds, killed_at)
    resumed = []
    for name in held_sessions:
        after = [t for t in record.get(name, []) if t > killed_at]
        resumed.append(after[0] - killed_at if after else float("inf"))
    every_session_again = max(resumed) if resumed else 0.0
    full = _full_throughput_after(every, killed_at, before_rate, after_seconds)
    full_figure = f"{full:.0f} s" if full is not None else f"not within {after_seconds:g} s"
    figure = (
        f"full throughput {full_figure} after the kill; every session it held sending again in "
        f"{every_session_again:.1f} s ({len(held_sessions)} sessions, lease {LEASE_SECONDS} s)"
    )
    return [
        Result(
            name=TITLE,
            figure=figure,
            baseline=f"lease expiry: {LEASE_SECONDS} s",
            ratio=ratio(LEASE_SECONDS, every_session_again) if every_session_again > 0 else None,
            ratio_meaning="lease / time until every held session sends again (higher is better)",
            data={
                "sessions": sessions,
                "messages_queued": total,
                "held_sessions": len(held_sessions),
                "rate_before_per_second": round(before_rate, 1),
                "rate_after_per_second": round(
                    _rate(every, killed_at + after_seconds - 5, killed_at + after_seconds), 1
                ),
                "every_held_session_sending_again_seconds": round(every_session_again, 2),
                "held_session_resume_seconds_sorted": [round(r, 2) for r in sorted(resumed)],
                "full_throughput_after_seconds": full,
                "sends_per_second_after_kill": [
                    sum(1 for t in every if killed_at + b <= t < killed_at + b + 1) for b in range(int(after_seconds))
                ],
                "duplicate_sends": duplicates,
                "final_states": states,
            },
            notes=[
                f"{sessions} sessions x {per_session} messages, gaps {gap[0]}-{gap[1]} ms, WAHA latency "
                f"{sizes.waha_latency_ms:g} ms, 2 workers at the default lease, one SIGKILLed after "
                f"{before_seconds + 2:g} s",
                "liveness grace 1.5 s, probe every 0.25 s (WORKER_LIVENESS_GRACE_SECONDS, _PROBE_SECONDS); a "
                "taken-over send is checked with WAHA before it is sent again",
                f"duplicate sends seen by the simulator: {duplicates}",
            ],
        )
    ]
