"""What every benchmark shares: the sizes of a run, the shape of a result, and small statistics."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Sizes:
    """How much work each benchmark does. `FULL` is `make bench` (under 10 minutes on 2 cores);
    `SMOKE` only proves in `make test` that every benchmark still runs end to end."""

    # ingest: seconds of load per side, concurrent HTTP clients, pgbench clients
    ingest_seconds: float
    ingest_concurrency: int
    pgbench_clients: int
    # processing: events queued per run, tenants, at most this many seconds per worker run,
    # seconds per naive baseline run
    processing_events: int
    processing_tenants: int
    processing_seconds: float
    naive_seconds: float
    # delivery: sessions (one tenant each), messages per session, at most this many seconds of
    # sending, seconds of the one-at-a-time baseline
    delivery_sessions: int
    delivery_messages_per_session: int
    delivery_seconds: float
    delivery_baseline_seconds: float
    pacing_sessions: int  # sessions and messages each of the two-replica pacing check
    pacing_messages: int
    waha_latency_ms: float
    send_gap_ms: tuple[int, int]
    # wake-up: samples per mode and the gap between inserts
    wakeup_samples_listen: int
    wakeup_seconds_poll: float
    wakeup_gap_ms: tuple[int, int]
    poll_interval_seconds: float
    # scale: message_logs sizes, timed claims per function and size, claim batch
    scale_rows: tuple[int, ...]
    scale_claims: int
    scale_batch: int
    scale_due_rows: int
    # memory: seconds of steady load, events per second fed, seconds of warm-up not counted,
    # distinct guests the events cycle through
    soak_seconds: float
    soak_events_per_second: float
    soak_warmup_seconds: float
    soak_guests: int
    # restore: hotels, reservations and messages of the restored database; messages due and
    # unsent at backup time (sent in the gap); bookings per hotel made in the gap
    restore_hotels: int = 100
    restore_reservations: int = 100_000
    restore_messages: int = 500_000
    restore_gap_messages: int = 2_000
    restore_gap_bookings: int = 10
    # dashboard: reservations of the hotel whose screens are loaded, cold loads per screen
    dashboard_reservations: int = 10_000
    dashboard_loads: int = 5

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FULL = Sizes(
    ingest_seconds=10,
    ingest_concurrency=16,
    pgbench_clients=8,
    processing_events=4000,
    processing_tenants=50,
    processing_seconds=20,
    naive_seconds=10,
    delivery_sessions=1000,
    delivery_messages_per_session=20,
    delivery_seconds=30,
    delivery_baseline_seconds=10,
    pacing_sessions=20,
    pacing_messages=8,
    waha_latency_ms=50,
    send_gap_ms=(500, 1000),
    wakeup_samples_listen=100,
    wakeup_seconds_poll=16,
    wakeup_gap_ms=(50, 250),
    poll_interval_seconds=5.0,
    scale_rows=(10_000, 5_000_000),
    scale_claims=100,
    scale_batch=100,
    scale_due_rows=2000,
    soak_seconds=150,
    soak_events_per_second=40,
    soak_warmup_seconds=30,
    soak_guests=500,
)

SMOKE = Sizes(
    ingest_seconds=1,
    ingest_concurrency=4,
    pgbench_clients=2,
    processing_events=40,
    processing_tenants=3,
    processing_seconds=60,
    naive_seconds=1,
    delivery_sessions=5,
    delivery_messages_per_session=3,
    delivery_seconds=10,
    delivery_baseline_seconds=1,
    pacing_sessions=3,
    pacing_messages=3,
    waha_latency_ms=5,
    send_gap_ms=(100, 200),
    wakeup_samples_listen=5,
    wakeup_seconds_poll=1.5,
    wakeup_gap_ms=(20, 60),
    poll_interval_seconds=0.5,
    scale_rows=(1_000, 3_000),
    scale_claims=5,
    scale_batch=10,
    scale_due_rows=100,
    soak_seconds=4,
    soak_events_per_second=5,
    soak_warmup_seconds=1,
    soak_guests=10,
    restore_hotels=3,
    restore_reservations=300,
    restore_messages=1_000,
    restore_gap_messages=10,
    restore_gap_bookings=2,
    dashboard_reservations=400,
    dashboard_loads=1,
)


@dataclass
class Result:
    """One benchmark's outcome: its figure, the baseline it is compared with, and the ratio."""

    name: str
    figure: str  # what the table shows, e.g. "812 webhooks/s (p50 9.1 ms, p99 31 ms)"
    baseline: str
    ratio: float | None  # figure / baseline, so > 1 means faster than the baseline
    ratio_meaning: str  # how to read the ratio
    data: dict[str, Any] = field(default_factory=dict)  # every number behind the figure
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100) by the nearest-rank method; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/max/mean of durations given in seconds, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return {
        "count": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p90_ms": round(percentile(ms, 90), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3) if ms else math.nan,
        "mean_ms": round(statistics.fmean(ms), 3) if ms else math.nan,
    }


def ratio(value: float, baseline: float) -> float | None:
    return round(value / baseline, 3) if baseline > 0 and math.isfinite(value) else None


def fmt_ms(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 100:
        return f"{ms:.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    return f"{ms:.2f} ms"


def fmt_rate(per_second: float, unit: str) -> str:
    return f"{per_second:,.0f} {unit}/s" if per_second >= 100 else f"{per_second:,.1f} {unit}/s"


def slope_per_minute(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, per minute."""
    if len(points) < 2:
        return 0.0
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if var == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var * 60
