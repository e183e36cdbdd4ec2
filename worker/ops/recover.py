"""`ops recover` and `ops recoveries`: open a restore recovery, and follow it.

Right after a database restore (docs/runbook.md, "Restoring the database"), before any worker
sends: `recover --since <backup time> --reason <why>`. The workers hold every send until the
recovery has synced each PMS over the gap and settled with WAHA the messages sent in it.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

import psycopg

from worker.db.queries import load
from worker.ops import render
from worker.ops.store import OpsError, OpsStore

Row = dict[str, Any]


def backup_time(text: str) -> dt.datetime:
    """An ISO 8601 instant with its offset (a time without one would be read in some zone)."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"'{text}' is not an ISO 8601 time, e.g. 2026-12-01T03:00:00Z") from exc
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"'{text}' has no time zone: add Z or an offset, e.g. 2026-12-01T03:00:00Z")
    return value


def _rows(store: OpsStore, query: str, params: Row) -> list[Row]:
    return store.conn.execute(load("recovery")[query], params).fetchall()


def cmd_recover(store: OpsStore, args: argparse.Namespace) -> str:
    try:
        opened = _rows(store, "begin", {"since": args.since, "by": args.by, "reason": args.reason})
    except (psycopg.errors.UniqueViolation, psycopg.errors.InvalidParameterValue) as exc:
        raise OpsError((exc.diag.message_primary or str(exc)).strip()) from exc
    recovery_id = opened[0]["id"]
    row = _rows(store, "list", {"limit": 1})[0]
    if args.json:
        return render.to_json(row)
    return (
        f"restore recovery {recovery_id} opened: every worker holds its sends until each PMS is synced "
        f"since {args.since.isoformat()} ({row['syncs']} syncs asked for, {row['syncs_skipped']} paused "
        f"configurations skipped) and the messages sent since then are settled with WAHA.\n"
        f"Follow it with: ops recoveries"
    )


def cmd_recoveries(store: OpsStore, args: argparse.Namespace) -> str:
    rows = _rows(store, "list", {"limit": args.limit})
    if args.json:
        return render.to_json({"recoveries": rows})
    if not rows:
        return "no restore recoveries"
    return render.table(
        rows,
        [
            ("ID", lambda r: r["id"]),
            ("SINCE", lambda r: render.precise_time(r["since"])),
            ("BY", lambda r: render.clip(r["requested_by"], 16)),
            ("STATE", _state),
            ("SYNCS", lambda r: f"{r['syncs'] - r['syncs_running']}/{r['syncs']} done, {r['syncs_failed']} failed"),
            ("CHECKED", lambda r: r["checked"]),
            ("ALREADY SENT", lambda r: r["already_sent"]),
            ("UNVERIFIABLE", lambda r: r["unverifiable"]),
            ("REASON", lambda r: render.clip(r["reason"], 40)),
        ],
    )


def _state(row: Row) -> str:
    if row["finished_at"] is not None:
        return f"done {render.ago(row['finished_at'])} ago"
    if row["syncs_done_at"] is None:
        return "syncing PMSs (sends held)"
    return "checking WAHA (sends held)"


def register(sub: Any, common: argparse.ArgumentParser, who: str) -> None:
    """Adds both commands to the ops parser."""
    recover = sub.add_parser(
        "recover", parents=[common], help="after a database restore: hold sends, sync PMSs, settle with WAHA"
    )
    recover.add_argument(
        "--since", type=backup_time, required=True, help="when the backup was taken (ISO 8601 with offset)"
    )
    recover.add_argument("--reason", required=True, help="why the database was restored")
    recover.add_argument("--by", default=who, help="who restored it (default: the login name)")
    recover.set_defaults(handler=cmd_recover)

    recoveries = sub.add_parser("recoveries", parents=[common], help="restore recoveries: open and recent")
    recoveries.add_argument("--limit", type=int, default=10)
    recoveries.set_defaults(handler=cmd_recoveries)
