"""Scale: claim latency with a small and a very large message_logs (10 thousand vs 5 million
rows). The claims go through partial indexes on claimable rows only, so they should not care
how much history the table holds.

The rows are made in one `insert ... select generate_series` per size, spread over 1,000 tenants
with WhatsApp sessions, in the mix a message log has after months of use: most rows finished
(sent, delivered, read), some cancelled, skipped or dead, 5% scheduled for coming stays, a few
failed and waiting for their retry, and the same set of due messages at both sizes (what the
claims find). The bulk insert runs with session_replication_role = replica, which skips the
per-row foreign key checks and the statement triggers (the rows are consistent by construction:
every tenant exists), with the secondary indexes rebuilt from their own definitions after the
insert rather than maintained row by row; then VACUUM ANALYZE, as autovacuum would have done by
the time a table grew that large. (Freshly built indexes are a little denser than ones grown
row by row over months; the claims read only the small partial indexes either way.)

Timed: every version of public.claim_messages_vN the migrations define (v2 and later pace per
session; v1 does not), each claiming a batch and handing it back (release_messages_v1, not
timed) so every call sees the same queue, and internal.next_message_due_v1 (what an idle worker
asks after each batch).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psycopg

from bench import seed
from bench.common import Result, Sizes, fmt_ms, ratio, summary_ms

TITLE = "scale"

_GENERATE = """
insert into public.message_logs (
  tenant_id, template_key, dedupe_key, to_phone, status, scheduled_for, next_attempt_at, attempts,
  waha_message_id, sent_at, delivered_at, read_at, last_error, created_at, updated_at)
select
  p.tenants[1 + x.i %% p.n], 'booking_confirmation', 'scale:' || x.i, '+49151' || (10000000 + x.i %% 90000000),
  p.statuses[x.k],
  x.at, case when x.k in (2, 3) then x.future else x.at end,
  case when x.k <= 2 then 0 else 1 end,
  case when x.k >= 7 then 'w' || x.i end,
  case when x.k >= 7 then x.at end,
  case when x.k >= 8 then x.at + interval '2 seconds' end,
  case when x.k = 9 then x.at + interval '5 minutes' end,
  case when x.k between 3 and 6 then 'benchmark history' end,
  x.at - interval '1 day', x.at
from (
  select array(select id from public.tenants where name like 'scale %%' order by id) as tenants,
         (select count(*) from public.tenants where name like 'scale %%')::int as n,
         '{queued,scheduled,failed,cancelled,skipped,dead,sent,delivered,read}'::public.message_status[] as statuses,
         now() as t0
) p,
lateral (
  select g.i,
    -- The status, spread deterministically (per mille b); rows up to %(due)s are due now.
    case when g.i <= %(due)s then 1
         when b < 50 then 2 when b < 52 then 3 when b < 62 then 4 when b < 72 then 5 when b < 74 then 6
         when b < 300 then 7 when b < 550 then 8 else 9 end as k,
    -- History goes back a year, newest rows last.
    case when g.i <= %(due)s then p.t0 - interval '1 minute'
         else p.t0 - interval '1 hour' - interval '1 second' * ((%(span)s - g.i) * 31536000.0 / %(span)s) end as at,
    -- Scheduled rows wait for stays up to 90 days ahead, failed ones for their retry.
    case when b < 50 then p.t0 + interval '1 day' * (1 + g.i %% 90)
         else p.t0 + interval '1 minute' * (5 + g.i %% 120) end as future
  from generate_series(%(first)s::bigint, %(last)s::bigint) as g (i),
       lateral (select (g.i * 7919) %% 1000 as b) spread
) x
"""

# Secondary indexes and the unique constraint, dropped for the bulk insert and rebuilt from
# their own definitions afterwards (a sorted build is far faster than 5 million inserts into
# each); the primary key is kept. Same definitions before and after.
_INDEXES = """
select format('drop index public.%I', c.relname), pg_get_indexdef(i.indexrelid)
from pg_index i
join pg_class c on c.oid = i.indexrelid
left join pg_constraint k on k.conindid = i.indexrelid
where i.indrelid = 'public.message_logs'::regclass and k.oid is null
union all
select format('alter table public.message_logs drop constraint %I', k.conname),
       format('alter table public.message_logs add constraint %I %s', k.conname, pg_get_constraintdef(k.oid))
from pg_constraint k
where k.conrelid = 'public.message_logs'::regclass and k.contype = 'u'
"""


def _generate(conn: seed.Conn, first: int, last: int, due: int) -> float:
    started = time.monotonic()
    with conn.transaction():
        # Rows consistent by construction: no per-row foreign key checks or statement triggers.
        conn.execute("set local session_replication_role = replica")
        conn.execute("set local maintenance_work_mem = '512MB'")
        rebuild = conn.execute(_INDEXES).fetchall()
        for drop, _ in rebuild:
            conn.execute(drop)
        conn.execute(_GENERATE, {"first": first, "last": last, "due": due, "span": max(last, 1000)})
        for _, create in rebuild:
            conn.execute(create)
    conn.execute("vacuum (analyze) public.message_logs")
    return time.monotonic() - started


# Newest first: every version the migrations define is timed (two worker versions can run side
# by side during a deploy, and the newest is the one the current worker calls).
# Each is called with (worker, limit, lease); a fourth parameter has a default: v1's per-tenant
# cap, v4's look-ahead (timed at 0, the same claim as v3's plus the time left in each gap), v5's
# liveness grace (v4 plus the takeover of dead workers' sends), v6's the same (v5 with staff
# replies ahead of automations).
CLAIM_FUNCTIONS = {
    "claim_messages_v6": "text, integer, interval, interval, interval",
    "claim_messages_v5": "text, integer, interval, interval, interval",
    "claim_messages_v4": "text, integer, interval, interval",
    "claim_messages_v3": "text, integer, interval",
    "claim_messages_v2": "text, integer, interval",
    "claim_messages_v1": "text, integer, interval, integer",
}


def claim_functions(conn: seed.Conn) -> list[str]:
    found = []
    for name, parameters in CLAIM_FUNCTIONS.items():
        signature = f"internal.{name}({parameters})"
        row = conn.execute("select to_regprocedure(%s) is not null", (signature,)).fetchone()
        if row is not None and row[0]:
            found.append(name)
    return found


def _timed(conn: seed.Conn, functions: list[str], claims: int, batch: int) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name in functions:
        sql = f"select id from internal.{name}('scale-bench', %(n)s, interval '2 minutes')"
        times: list[float] = []
        claimed = 0
        for i in range(claims + 3):
            started = time.perf_counter()
            ids = [r[0] for r in conn.execute(sql, {"n": batch}, prepare=True).fetchall()]
            elapsed = time.perf_counter() - started
            if i >= 3:  # the first calls plan and warm the cache
                times.append(elapsed)
                claimed += len(ids)
            conn.execute("select internal.release_messages_v1(%s, 'scale-bench', null, interval '0 seconds')", (ids,))
        out[name] = {**summary_ms(times), "rows_per_claim": round(claimed / max(len(times), 1), 1)}
    times = []
    for i in range(claims + 3):
        started = time.perf_counter()
        conn.execute("select internal.next_message_due_v1()", prepare=True).fetchone()
        if i >= 3:
            times.append(time.perf_counter() - started)
    out["next_message_due_v1"] = summary_ms(times)
    return out


def _size(conn: seed.Conn) -> dict[str, Any]:
    row = conn.execute(
        "select count(*), pg_total_relation_size('public.message_logs'),"
        " count(*) filter (where status in ('scheduled', 'queued', 'failed')),"
        " count(*) filter (where status in ('scheduled', 'queued', 'failed') and next_attempt_at <= now())"
        " from public.message_logs"
    ).fetchone()
    assert row is not None
    return {"rows": int(row[0]), "bytes": int(row[1]), "claimable_rows": int(row[2]), "due_rows": int(row[3])}


def run(db_url: str, run_dir: Path, sizes: Sizes) -> list[Result]:
    small, large = sizes.scale_rows
    with psycopg.connect(db_url, autocommit=True) as conn:
        seed.reset(conn)
        seed.tenants(conn, TITLE, 1000, waha_base_url="http://127.0.0.1:9", send_gap_ms=(0, 0))
        functions = claim_functions(conn)
        steps: dict[str, dict[str, Any]] = {}
        made = 0
        for label, rows in (("small", small), ("large", large)):
            seconds = _generate(conn, made + 1, rows, sizes.scale_due_rows)
            made = rows
            steps[label] = {**_size(conn), "generate_seconds": round(seconds, 1)}
            steps[label]["timings"] = _timed(conn, functions, sizes.scale_claims, sizes.scale_batch)
        seed.reset(conn)

    results = []
    for name in functions:
        a, b = steps["small"]["timings"][name], steps["large"]["timings"][name]
        results.append(
            Result(
                name=f"{TITLE}: {name}",
                figure=f"{large:,} rows: p50 {fmt_ms(b['p50_ms'])}, p99 {fmt_ms(b['p99_ms'])}",
                baseline=f"{small:,} rows: p50 {fmt_ms(a['p50_ms'])}, p99 {fmt_ms(a['p99_ms'])}",
                ratio=ratio(b["p50_ms"], a["p50_ms"]),
                ratio_meaning="large p50 / small p50 (1.0 = flat)",
                data={"small": a, "large": b},
                notes=[
                    f"{sizes.scale_claims} claims of up to {sizes.scale_batch} rows at each size "
                    f"({b['rows_per_claim']:g} rows per claim on average), {sizes.scale_due_rows:,} due rows "
                    "over 1,000 tenants",
                ],
            )
        )
    nd_a, nd_b = steps["small"]["timings"]["next_message_due_v1"], steps["large"]["timings"]["next_message_due_v1"]
    results[0].notes.append(
        f"next_message_due_v1: p50 {fmt_ms(nd_a['p50_ms'])} at {small:,} rows, {fmt_ms(nd_b['p50_ms'])} at {large:,}"
    )
    results[0].notes.append(
        f"generated {large - small:,} rows in {steps['large']['generate_seconds']:g} s incl. VACUUM ANALYZE; "
        f"table + indexes {steps['large']['bytes'] / 2**20:,.0f} MiB; "
        f"{steps['large']['claimable_rows']:,} rows in the claimable partial index"
    )
    for result in results:
        result.data["tables"] = {k: {x: y for x, y in v.items() if x != "timings"} for k, v in steps.items()}
        result.data["next_message_due_v1"] = {"small": nd_a, "large": nd_b}
    return results
