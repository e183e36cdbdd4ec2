"""The pytest suite in shards that run at once, each against its own migrated PostgreSQL.

Most of the suite's time is spent waiting: for a worker process to wake, a browser to show a
screen, a simulated PMS to answer. Two shards on two cores finish in little more than half the
time of one. Files are dealt out by their measured duration (tests/durations.json, longest
first, each to the least-loaded shard); a folder of tests that share one session fixture (the
dashboard's browser tests share one built app and one gateway) stays together.

Refresh the durations after adding slow tests:
    .venv/bin/pytest tests --junitxml=/tmp/junit.xml && .venv/bin/python -m devstack.pytest_shards /tmp/junit.xml
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from devstack import cluster, database, paths

DURATIONS = paths.ROOT / "tests" / "durations.json"
# Folders whose tests share session fixtures that are costly to build twice.
KEPT_TOGETHER = ("tests/dashboard",)


@dataclass
class Shard:
    paths: list[str] = field(default_factory=list)
    seconds: float = 0.0


def test_units(root: Path = paths.ROOT) -> list[str]:
    """What gets dealt: each test file, and each kept-together folder as one unit."""
    units = set()
    for file in sorted((root / "tests").rglob("test_*.py")):
        rel = file.relative_to(root).as_posix()
        units.add(next((folder for folder in KEPT_TOGETHER if rel.startswith(f"{folder}/")), rel))
    return sorted(units)


def plan(count: int, durations: dict[str, float], units: list[str]) -> list[Shard]:
    """Longest first, each to the least-loaded shard. Unmeasured units weigh as the median."""
    known = sorted(durations.values())
    default = known[len(known) // 2] if known else 1.0

    def weight(unit: str) -> float:
        if unit in durations:
            return durations[unit]
        return sum(v for k, v in durations.items() if k.startswith(f"{unit}/")) or default

    shards = [Shard() for _ in range(count)]
    for unit in sorted(units, key=lambda u: (-weight(u), u)):
        lightest = min(shards, key=lambda s: s.seconds)
        lightest.paths.append(unit)
        lightest.seconds += weight(unit)
    return [s for s in shards if s.paths]


def load_durations() -> dict[str, float]:
    if not DURATIONS.exists():
        return {}
    return {str(k): float(v) for k, v in json.loads(DURATIONS.read_text()).items()}


def run(url: str, env: dict[str, str], count: int) -> tuple[bool, str]:
    """pytest in `count` shards at once; shard 0 on `url`, the others on throwaway clusters.
    Each shard's output is printed whole when all have finished, one after the other."""
    shards = plan(count, load_durations(), test_units())
    pytest = str(paths.VENV_BIN / "pytest")
    with contextlib.ExitStack() as stack:
        urls = [url]
        for _ in shards[1:]:
            pg = stack.enter_context(cluster.throwaway_cluster())
            database.prepare(pg.url)
            database.pause_schedules(pg.url)
            database.allow_local_urls(pg.url)
            urls.append(pg.url)
        logs = [stack.enter_context(tempfile.TemporaryFile("w+")) for _ in shards]
        procs = []
        for index, (shard, shard_url, log) in enumerate(zip(shards, urls, logs, strict=True)):
            print(f"shard {index + 1}/{len(shards)} (~{shard.seconds:.0f}s measured): {' '.join(shard.paths)}")
            procs.append(
                subprocess.Popen(
                    [pytest, "-p", "no:cacheprovider", *shard.paths],
                    env={**env, "TEST_DATABASE_URL": shard_url},
                    cwd=str(paths.ROOT),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        sys.stdout.flush()
        codes = [proc.wait() for proc in procs]
        for index, log in enumerate(logs):
            log.seek(0)
            print(f"\n----- pytest shard {index + 1}/{len(shards)} (exit {codes[index]}) -----")
            print(log.read(), end="", flush=True)
    failed = [i + 1 for i, code in enumerate(codes) if code != 0]
    if any(code == 5 for code in codes):
        return False, "a pytest shard collected no tests"
    return not failed, f"shard(s) {', '.join(map(str, failed))} failed" if failed else ""


def durations_from_junit(report: Path) -> dict[str, float]:
    """Seconds per test file, from pytest's --junitxml report (classname is the dotted path)."""
    totals: dict[str, float] = defaultdict(float)
    for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314 (our own report)
        module = case.get("classname", "")
        parts = module.split(".")
        # classname is tests.test_x or tests.test_x.TestClass: keep up to the test_ module.
        upto = next((i for i, p in enumerate(parts) if p.startswith("test_")), len(parts) - 1)
        totals["/".join(parts[: upto + 1]) + ".py"] += float(case.get("time", "0"))
    return {k: round(v, 1) for k, v in sorted(totals.items())}


if __name__ == "__main__":
    measured = durations_from_junit(Path(sys.argv[1]))
    DURATIONS.write_text(json.dumps(measured, indent=1) + "\n")
    print(f"wrote {DURATIONS.relative_to(paths.ROOT)}: {len(measured)} files, {sum(measured.values()):.0f}s")
