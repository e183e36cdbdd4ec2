"""CPU time per process over a measured window, to say where a bottleneck is.

Read from /proc/<pid>/stat (utime + stime). PostgreSQL is counted as the postmaster's children
(the backends serving every connection, plus autovacuum, WAL writer, ...); a process that exits
inside the window loses its share, which is why services are measured while they run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

import psycopg

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may contain spaces; everything after its ')' is split cleanly.
    return raw[raw.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float:
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    # After the name: state(0) ppid(1) ... utime(11) stime(12)
    return (int(fields[11]) + int(fields[12])) / _TICKS


def children_of(parent: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None and int(fields[1]) == parent:
                pids.append(int(entry.name))
    return pids


def postmaster_pid(database_url: str) -> int | None:
    """The server's postmaster, when it runs on this machine (the parent of our own backend)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("select pg_backend_pid()").fetchone()
        # Read while connected: the backend exits with the connection.
        fields = _stat_fields(int(row[0])) if row else None
    return int(fields[1]) if fields else None


class CpuMeter:
    """CPU use of named processes (and of PostgreSQL) between start() and stop()."""

    def __init__(self, pids: Mapping[str, int], postmaster: int | None) -> None:
        self.pids = dict(pids)
        self.postmaster = postmaster
        self._start: dict[str, float] = {}
        self._pg_start: dict[int, float] = {}
        self._wall = 0.0

    def _postgres(self) -> dict[int, float]:
        if self.postmaster is None:
            return {}
        return {pid: cpu_seconds(pid) for pid in children_of(self.postmaster)}

    def start(self) -> None:
        self._start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self._start["benchmark (this process)"] = time.process_time()
        self._pg_start = self._postgres()
        self._wall = time.monotonic()

    def stop(self) -> dict[str, float]:
        """Percent of one core each used over the window (200 = both cores of this machine)."""
        wall = max(time.monotonic() - self._wall, 1e-9)
        used = {name: cpu_seconds(pid) - self._start[name] for name, pid in self.pids.items()}
        used["benchmark (this process)"] = time.process_time() - self._start["benchmark (this process)"]
        if self.postmaster is not None:
            used["postgres (all backends)"] = sum(
                now - self._pg_start.get(pid, 0.0) for pid, now in self._postgres().items()
            )
        return {name: round(100 * seconds / wall, 1) for name, seconds in used.items()}
