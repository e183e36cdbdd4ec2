"""Memory: a worker process's resident set size (VmRSS in /proc/<pid>/status, sampled every
second) under steady load, to see that it stays flat.

The load is the whole path a hotel's day goes through: a PMS feeding `reservation.created` events
at a steady rate (stored as the webhook function stores them), the worker turning them into
reservations and planned messages, and sending each booking confirmation through the WAHA
simulator. The first seconds (imports, pools, caches filling) are not counted; "flat" means the
median RSS of the last tenth of the run is within 2% (or 2 MiB) of the first tenth's.

The events cycle through a fixed set of returning guests. The worker keeps a bounded cache of
phone numbers WAHA confirmed to be on WhatsApp (worker/waha/client.py: up to 50,000 numbers,
about 0.4 KiB each); with a new guest in every event that cache alone grows the process by
~20 MiB until it is full, which in a short soak looks like a leak and is not one. With returning
guests it fills during the warm-up, so what is left to see is any growth per event.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench import seed, services
from bench.common import Result, Sizes, slope_per_minute

TITLE = "memory"


def run(db_url: str, run_dir: Path, sizes: Sizes) -> list[Result]:
    waha, waha_url = services.waha_simulator(run_dir, api_key=seed.WAHA_API_KEY, latency_ms=sizes.waha_latency_ms)
    with services.running(waha), psycopg.connect(db_url, autocommit=True) as conn:
        seed.reset(conn)
        tenants = seed.tenants(conn, "soak", 10, waha_base_url=waha_url, send_gap_ms=(100, 300), rules=True)
        with httpx.Client(base_url=waha_url, timeout=30) as client:
            for tenant in tenants:
                client.post("/_sim/sessions", json={"name": tenant.session_name}).raise_for_status()
        worker = services.worker(db_url, run_dir, "soak", wakeup="listen")
        samples: list[tuple[float, int]] = []
        with services.running(worker):
            started = time.monotonic()
            fed = 0
            next_sample = started
            while (now := time.monotonic()) < started + sizes.soak_seconds:
                due = int((now - started) * sizes.soak_events_per_second)
                while fed < due:
                    fed += 1
                    tenant = tenants[fed % len(tenants)]
                    body = seed.reservation_event(f"soak-R{fed}", 40_000_000 + fed % sizes.soak_guests)
                    seed.ingest(conn, tenant, [(f"soak-{fed}", body)], request_id=f"soak-{fed}")
                if now >= next_sample:
                    samples.append((now - started, worker.rss_kib()))
                    next_sample += 1.0
                time.sleep(0.02)
            counts = _counts(conn)
        seed.reset(conn)

    counted = [(t, kib) for t, kib in samples if t >= sizes.soak_warmup_seconds]
    tenth = max(1, len(counted) // 10)
    first = statistics.median(k for _, k in counted[:tenth]) / 1024
    last = statistics.median(k for _, k in counted[-tenth:]) / 1024
    peak = max(k for _, k in counted) / 1024
    slope = slope_per_minute([(t, k / 1024) for t, k in counted])
    flat = abs(last - first) <= max(2.0, 0.02 * first)
    measured = sizes.soak_seconds - sizes.soak_warmup_seconds
    return [
        Result(
            name=TITLE,
            figure=(
                f"worker RSS {first:.1f} -> {last:.1f} MiB over {measured:g} s "
                f"({'flat' if flat else 'NOT flat'}; {slope:+.2f} MiB/min)"
            ),
            baseline=f"start of the measured window: {first:.1f} MiB",
            ratio=round(last / first, 3) if first else None,
            ratio_meaning="RSS end / start (1.0 = flat)",
            data={
                "seconds": sizes.soak_seconds,
                "warmup_seconds": sizes.soak_warmup_seconds,
                "events_per_second_fed": sizes.soak_events_per_second,
                "rss_mib": {"first_tenth": round(first, 2), "last_tenth": round(last, 2), "peak": round(peak, 2)},
                "slope_mib_per_minute": round(slope, 3),
                "flat": flat,
                "samples": [(round(t, 1), k) for t, k in samples],
                "work_done": counts,
            },
            notes=[
                f"{sizes.soak_events_per_second:g} reservation events/s fed for {sizes.soak_seconds:g} s over "
                f"{len(tenants)} tenants and {sizes.soak_guests} returning guests (first "
                f"{sizes.soak_warmup_seconds:g} s not counted); work done: {counts}",
                *(
                    ["a shorter soak than an hour: a leak of a few KiB per event would show as a steady slope"]
                    if sizes.soak_seconds < 3600
                    else []
                ),
            ],
        )
    ]


def _counts(conn: seed.Conn) -> dict[str, Any]:
    row = conn.execute(
        "select (select count(*) from public.inbound_events),"
        " (select count(*) from public.inbound_events where status in ('succeeded', 'ignored')),"
        " (select count(*) from public.message_logs where status = 'sent')"
    ).fetchone()
    assert row is not None
    return {"events_fed": int(row[0]), "events_processed": int(row[1]), "messages_sent": int(row[2])}
