"""Ingest: signed webhooks per second through the local `pms-webhook` edge function (Deno,
supabase/functions/serve.ts), with p50/p99 latency, against pgbench's single-row insert rate on
the same server.

The webhook side is what a PMS does: POST a generic provider's `reservation.created` body, signed
with Standard Webhooks (worker/webhook_signatures.py) using the tenant's secret, to
/functions/v1/pms-webhook/generic/<tenant key>. The function looks the tenant and its secrets up,
verifies the HMAC, validates the JSON against the provider's schema and stores the event through
internal.ingest_inbound_events_v1 before it answers 202. Each request is signed just before it is
sent, by a fixed number of concurrent clients (aiohttp, keep-alive).

Baseline: pgbench on the same database, a custom script inserting the same row (same payload)
into public.inbound_events, one row per transaction, with prepared statements: the server's own
ceiling for what every webhook ends in.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import psycopg

from bench import seed, services
from bench.common import Result, Sizes, fmt_ms, fmt_rate, ratio, summary_ms
from bench.cpu import CpuMeter, postmaster_pid
from devstack.cluster import pg_bindir
from worker.webhook_signatures import standard_webhook_headers

TITLE = "ingest"

_PGBENCH_SCRIPT = """\
insert into public.inbound_events (tenant_id, source, provider, event_id, event_type, payload)
values (:tenant::uuid, 'pms', 'generic', 'pgbench-' || gen_random_uuid()::text, 'reservation.created', :payload::jsonb);
"""


def _pgbench(db_url: str, run_dir: Path, tenant_id: str, payload: str, clients: int, seconds: float) -> dict[str, Any]:
    script = run_dir / "ingest-pgbench.sql"
    script.write_text(_PGBENCH_SCRIPT)
    log_prefix = run_dir / "pgbench"
    for old in run_dir.glob("pgbench.*"):
        old.unlink()
    cmd = [
        str(pg_bindir() / "pgbench"),
        "--no-vacuum",
        "--protocol=prepared",
        f"--file={script}",
        f"--client={clients}",
        f"--jobs={min(clients, 2)}",
        f"--time={max(1, round(seconds))}",
        f"--define=tenant={tenant_id}",
        f"--define=payload={payload}",
        "--log",
        f"--log-prefix={log_prefix}",
        db_url,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"pgbench failed:\n{out.stdout}\n{out.stderr}")
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out.stdout)
    if match is None:
        raise RuntimeError(f"no tps in pgbench's output:\n{out.stdout}")
    # Per-transaction log: client, transaction, latency (us), script, epoch s, us.
    latencies = [
        int(line.split()[2]) / 1e6 for log in run_dir.glob("pgbench.*") for line in log.read_text().splitlines()
    ]
    return {
        "clients": clients,
        "seconds": seconds,
        "transactions": len(latencies),
        "per_second": round(float(match.group(1)), 1),
        "latency": summary_ms(latencies),
    }


class _Load:
    """Concurrent clients posting signed webhooks until a deadline."""

    def __init__(self, url: str, tenants: list[seed.BenchTenant], concurrency: int) -> None:
        self.url = url
        self.tenants = tenants
        self.concurrency = concurrency
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.errors: list[str] = []
        self.serial = 0

    def _request(self) -> tuple[str, bytes, dict[str, str]]:
        self.serial += 1
        tenant = self.tenants[self.serial % len(self.tenants)]
        body = json.dumps(seed.reservation_event(f"ingest-R{self.serial}", self.serial)).encode()
        headers = standard_webhook_headers(seed.PMS_SECRET, f"msg_{uuid.uuid4().hex}", body)
        headers["content-type"] = "application/json"
        return f"{self.url}/pms-webhook/generic/{tenant.webhook_key}", body, headers

    async def _client(self, session: aiohttp.ClientSession, until: float, record: bool) -> None:
        while time.monotonic() < until:
            url, body, headers = self._request()
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    status = response.status
            except aiohttp.ClientError as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            if record:
                self.latencies.append(time.perf_counter() - started)
                self.statuses[status] = self.statuses.get(status, 0) + 1

    async def run(self, seconds: float, warmup: float) -> float:
        connector = aiohttp.TCPConnector(limit=self.concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            # Deno compiles hot paths and postgres.js opens its connections on first use.
            await asyncio.gather(
                *(self._client(session, time.monotonic() + warmup, False) for _ in range(self.concurrency))
            )
            started = time.monotonic()
            await asyncio.gather(*(self._client(session, started + seconds, True) for _ in range(self.concurrency)))
            return time.monotonic() - started


def run(db_url: str, run_dir: Path, sizes: Sizes) -> list[Result]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        seed.reset(conn)
        tenants = seed.tenants(conn, TITLE, 10, pms_secret=True)
        payload = json.dumps(seed.reservation_event("pgbench-R1", 1))
        baseline = _pgbench(db_url, run_dir, tenants[0].id, payload, sizes.pgbench_clients, sizes.ingest_seconds)
        # The webhooks start from the same (empty) table pgbench started from; nothing left for
        # autovacuum to work through while they are measured.
        conn.execute("truncate public.inbound_events")

        functions, url = services.functions_server(db_url, run_dir)
        with services.running(functions):
            load = _Load(url, tenants, sizes.ingest_concurrency)
            meter = CpuMeter({"edge functions (deno)": functions.pid}, postmaster_pid(db_url))
            meter.start()
            seconds = asyncio.run(load.run(sizes.ingest_seconds, warmup=min(2.0, sizes.ingest_seconds)))
            cpu = meter.stop()
        row = conn.execute("select count(*) from public.inbound_events where request_id is not null").fetchone()
        stored = int(row[0]) if row else 0
        seed.reset(conn)

    accepted = load.statuses.get(202, 0)
    rate = accepted / seconds if seconds > 0 else 0.0
    latency = summary_ms(load.latencies)
    notes = [
        f"{sizes.ingest_concurrency} concurrent HTTP clients for {sizes.ingest_seconds:g} s (after a warm-up) "
        f"over 10 tenants; pgbench: {sizes.pgbench_clients} clients, prepared statements, one insert per transaction",
        f"answers: {load.statuses}; client errors: {len(load.errors)}; events stored (incl. warm-up): {stored:,}",
        f"pgbench latency p50 {fmt_ms(baseline['latency']['p50_ms'])}, p99 {fmt_ms(baseline['latency']['p99_ms'])}",
        f"CPU (% of one core) during the webhook run: {cpu}",
    ]
    if set(load.statuses) - {202}:
        notes.append("some answers were not 202: see data.webhooks.statuses")
    return [
        Result(
            name=TITLE,
            figure=f"{fmt_rate(rate, 'webhooks')} (p50 {fmt_ms(latency['p50_ms'])}, p99 {fmt_ms(latency['p99_ms'])})",
            baseline=f"pgbench single-row inserts: {fmt_rate(baseline['per_second'], 'rows')}",
            ratio=ratio(rate, baseline["per_second"]),
            ratio_meaning="webhooks / raw inserts (1.0 would be the database's own ceiling)",
            data={
                "webhooks": {
                    "concurrency": sizes.ingest_concurrency,
                    "seconds": round(seconds, 3),
                    "accepted": accepted,
                    "per_second": round(rate, 1),
                    "latency": latency,
                    "statuses": {str(k): v for k, v in load.statuses.items()},
                    "client_errors": load.errors[:5],
                    "stored_including_warmup": stored,
                    "cpu_percent_of_one_core": cpu,
                },
                "pgbench": baseline,
            },
            notes=notes,
        )
    ]
