"""`make bench` / `python -m bench`: every benchmark against a throwaway PostgreSQL of its own.

    python -m bench                       # all, full sizes, results to bench/results/latest.{json,md}
    python -m bench --only wakeup,scale   # some of them (results printed, not written)
    python -m bench --smoke               # tiny sizes: does each still run end to end?
    python -m bench --database-url URL    # an existing, migrated database instead of a throwaway one
    python -m bench --fast                # the throwaway PostgreSQL without fsync (flatters writes)

The throwaway PostgreSQL is durable by default (fsync, synchronous_commit and full_page_writes
on), as a Supabase database runs: write figures measured without fsync promise what production
cannot give. The results say which settings were used.

Each benchmark starts what it needs itself (the edge functions server, the WAHA simulator,
worker processes) and stops it again; nothing is left running.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench import dashboard, delivery, ingest, memory, processing, report, restore, scale, takeover, wakeup
from bench.common import FULL, SMOKE, Result, Sizes
from devstack import cluster, database, paths
from devstack.errors import DevstackError

Benchmark = Callable[[str, Path, Sizes], list[Result]]

# In this order: the cheap ones first, the 5-million-row table late, the soak last.
BENCHMARKS: dict[str, Benchmark] = {
    "ingest": ingest.run,
    "processing": processing.run,
    "delivery": delivery.run,
    "takeover": takeover.run,
    "wakeup": wakeup.run,
    "scale": scale.run,
    "memory": memory.run,
    "restore": restore.run,
    "dashboard": dashboard.run,
}

DEFAULT_OUT = paths.ROOT / "bench" / "results" / "latest"


def run_all(database_url: str, names: list[str], sizes: Sizes, run_dir: Path) -> list[Result]:
    results: list[Result] = []
    for name in names:
        print(f"\n== {name} (load average {', '.join(f'{x:.2f}' for x in os.getloadavg())})", flush=True)
        started = time.monotonic()
        found = BENCHMARKS[name](database_url, run_dir, sizes)
        for result in found:
            result.data["benchmark_seconds"] = round(time.monotonic() - started, 1)
            print(f"   {result.name}: {result.figure}")
            print(f"   baseline: {result.baseline}; ratio {result.ratio} ({result.ratio_meaning})")
        print(f"   ({time.monotonic() - started:.0f} s)", flush=True)
        results.extend(found)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (what `make test` runs)")
    parser.add_argument("--database-url", help="use this migrated database instead of a throwaway cluster")
    parser.add_argument(
        "--out", type=Path, help="write <out>.json and <out>.md (default for a full run: bench/results/latest)"
    )
    parser.add_argument(
        "--fast",
        action="store_true",
        help="run the throwaway PostgreSQL with fsync, synchronous_commit and full_page_writes off",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the services' logs after a good run")
    parser.add_argument(
        "--soak-minutes",
        type=float,
        help="run the memory benchmark's steady load this long instead (the issue's hour: 60)",
    )
    parser.add_argument(
        "--restore-size",
        metavar="HOTELS,RESERVATIONS,MESSAGES",
        help="the restore benchmark's database (the issue's: 100,1000000,5000000)",
    )
    args = parser.parse_args(argv)

    names = list(BENCHMARKS) if not args.only else [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    sizes = SMOKE if args.smoke else FULL
    if args.soak_minutes is not None:
        if args.soak_minutes * 60 <= sizes.soak_warmup_seconds:
            parser.error(f"--soak-minutes must be longer than the {sizes.soak_warmup_seconds:g} s warm-up")
        sizes = dataclasses.replace(sizes, soak_seconds=args.soak_minutes * 60)
    if args.restore_size:
        try:
            hotels, reservations, messages = (int(x) for x in args.restore_size.split(","))
        except ValueError:
            parser.error("--restore-size is three whole numbers: HOTELS,RESERVATIONS,MESSAGES")
        sizes = dataclasses.replace(
            sizes, restore_hotels=hotels, restore_reservations=reservations, restore_messages=messages
        )
    out: Path | None = args.out
    if out is None and not args.only and not args.smoke:
        out = DEFAULT_OUT
    print(f"sizes: {sizes.as_dict()}", flush=True)

    run_dir = Path(tempfile.mkdtemp(prefix="hotelwa-bench-"))
    started = time.monotonic()
    ok = False
    try:
        if args.database_url:
            database.prepare(args.database_url)
            database.allow_local_urls(args.database_url)  # the simulators listen on 127.0.0.1
            url = args.database_url
            env = report.environment(url)
            results = run_all(url, names, sizes, run_dir)
        else:
            with cluster.throwaway_cluster(durable=not args.fast) as pg:
                settings = "fast: fsync off" if args.fast else "durable: fsync and synchronous_commit on"
                print(f"throwaway PostgreSQL at {pg.url} ({settings})", flush=True)
                database.prepare(pg.url)
                database.allow_local_urls(pg.url)  # the simulators listen on 127.0.0.1
                env = report.environment(pg.url)
                results = run_all(pg.url, names, sizes, run_dir)
        ok = True
    except (DevstackError, RuntimeError) as exc:
        print(f"\nbenchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if ok and not args.keep_logs:
            shutil.rmtree(run_dir, ignore_errors=True)
        elif not ok:
            print(f"logs of the services: {run_dir}", file=sys.stderr)
    seconds = time.monotonic() - started
    print("\n" + report.table(results))
    print(f"\nwhole run: {seconds:.0f} s")
    if out is not None:
        meta = {"seconds": round(seconds, 1), "benchmarks": names, "sizes": sizes.as_dict()}
        json_path, md_path = report.write(out, results, env, meta)
        print(
            f"results: {json_path.relative_to(paths.ROOT) if json_path.is_relative_to(paths.ROOT) else json_path}, "
            f"{md_path.name}"
        )
    if args.keep_logs:
        print(f"logs: {run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
