"""What the workers' wake-ups cost in hosted Realtime's quota (~100 messages/s on Free, 500/s on
Pro, the excess dropped silently), measured from the database over a benchmark's window:

- broadcast: the wake-ups the database broadcast (realtime.messages on the workers' topic), each
  one Realtime message per subscribed worker;
- postgres_changes: what the earlier design cost, one Postgres Changes message per row change of
  the queue tables the worker subscribed to (inbound_events, message_logs), counted from
  pg_stat_user_tables. A backend reports its counts at most once a second while busy, after 10 s
  when idle, and when it exits: take the closing snapshot once the load's processes have
  stopped (`settled`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from bench import seed

TOPIC = "worker:queues"
_SUBSCRIBED_TABLES = ("inbound_events", "message_logs")


@dataclass(frozen=True)
class Snapshot:
    broadcasts: int
    row_changes: int


def snapshot(conn: seed.Conn) -> Snapshot:
    row = conn.execute(
        """
        select
          (select count(*) from realtime.messages where topic = %(topic)s),
          (select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) from pg_stat_user_tables
           where schemaname = 'public' and relname = any(%(tables)s))
        """,
        {"topic": TOPIC, "tables": list(_SUBSCRIBED_TABLES)},
    ).fetchone()
    assert row is not None
    return Snapshot(int(row[0]), int(row[1]))


def settled(conn: seed.Conn, seconds: float = 12.0) -> Snapshot:
    """A snapshot once the statistics stopped moving (two reads half a second apart agree)."""
    deadline = time.monotonic() + seconds
    last = snapshot(conn)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        current = snapshot(conn)
        if current == last:
            return current
        last = current
    return last


def rates(before: Snapshot, after: Snapshot, seconds: float) -> dict[str, Any]:
    seconds = max(seconds, 1e-9)
    return {
        "seconds": round(seconds, 3),
        "broadcasts": after.broadcasts - before.broadcasts,
        "broadcast_per_second": round((after.broadcasts - before.broadcasts) / seconds, 2),
        "row_changes": after.row_changes - before.row_changes,
        "postgres_changes_per_second": round((after.row_changes - before.row_changes) / seconds, 1),
    }
