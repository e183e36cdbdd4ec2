"""`python -m worker ops ...`: the on-call engineer's tool (RUNBOOK.md, "On-Call Actions").

    status        per tenant: WhatsApp session, PMS health, queue and retry depths, dead letters,
                  open alerts; and the database's connections
    dead-letters  dead inbound events and messages, with the reason each died
    replay ID     bring a dead inbound event back into the queue (once)
    resend ID     send a dead, failed, cancelled or skipped message again (once)
    sync TENANT   ask for a PMS sync of a tenant (id or name), full or incremental
    trace REQ     every stored row and state change of one request id, in order
    alerts        open alerts (or recent ones), evaluate now, acknowledge
    recover       after a database restore: hold sends, sync PMSs, settle with WAHA
    recoveries    restore recoveries, open and recent

Every command prints a table, or JSON with --json. The database comes from --database-url or
WORKER_DATABASE_URL (the worker's own). Exit codes: 0 done, 1 could not be done (unknown id,
nothing to replay, database unreachable; one line on stderr), 2 usage or configuration.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import sys
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.rows import dict_row

from worker.ops import recover, render
from worker.ops.store import OpsError, OpsStore

Row = dict[str, Any]
Handler = Callable[[OpsStore, argparse.Namespace], str]

PROVIDERS = ("generic", "apaleo", "mews", "cloudbeds", "guesty")


# ---- commands -----------------------------------------------------------------------------------
def _tenant_id(store: OpsStore, ref: str | None) -> str | None:
    return None if ref is None else str(store.resolve_tenant(ref)["id"])


def _whatsapp(row: Row) -> str:
    if row["waha_status"] is None:
        return "not configured"
    text = f"{row['waha_status']} {render.ago(row['waha_since'])}"
    if row["sends_paused_reason"] and row["waha_status"] == "WORKING":
        text += f" (sends paused: {row['sends_paused_reason']})"
    return text


def _pms(row: Row) -> str:
    parts = []
    for c in row["pms"]:
        text = f"{c['provider']} {c['health']}"
        if not c["active"]:
            text += " (inactive)"
        elif c["health"] == "failing":
            text += f" x{c['failures']}"
            if c["failing_since"]:
                since = render.ago(dt.datetime.fromisoformat(c["failing_since"]))
                text += f" for {since}"
        parts.append(text)
    return "; ".join(parts) or "not configured"


def cmd_status(store: OpsStore, args: argparse.Namespace) -> str:
    tenants = store.tenant_status(_tenant_id(store, args.tenant))
    platform = store.platform_status()
    if args.json:
        return render.to_json({"tenants": tenants, "platform": platform})
    if not tenants:
        body = "no tenants"
    else:
        body = render.table(
            tenants,
            [
                ("TENANT", lambda r: render.clip(r["tenant_name"], 28)),
                ("ID", lambda r: r["tenant_id"]),
                ("WHATSAPP", _whatsapp),
                ("PMS", _pms),
                ("INBOUND due/retry/dead", lambda r: f"{r['inbound_due']}/{r['inbound_retrying']}/{r['inbound_dead']}"),
                (
                    "MESSAGES due/retry/dead",
                    lambda r: f"{r['messages_due']}/{r['messages_retrying']}/{r['messages_dead']}",
                ),
                ("SYNCS pending/running", lambda r: f"{r['syncs_pending']}/{r['syncs_running']}"),
                ("ALERTS", lambda r: r["open_alerts"]),
            ],
        )
    usage = float(platform["connection_usage"]) * 100
    footer = (
        f"database: {platform['connections_used']}/{platform['connections_max']} connections ({usage:.1f}%), "
        f"{platform['idle_in_transaction']} idle in transaction, {platform['waiting_on_locks']} waiting on locks, "
        f"longest running query {platform['longest_query_seconds']}s; "
        f"open alerts: {platform['open_alerts_all']} ({platform['open_alerts']} platform-wide)"
    )
    return f"{body}\n\n{footer}"


def cmd_dead_letters(store: OpsStore, args: argparse.Namespace) -> str:
    rows = store.dead_letters(args.queue, _tenant_id(store, args.tenant), args.limit)
    if args.json:
        return render.to_json(rows)
    if not rows:
        return "no dead letters"
    listing = render.table(
        rows,
        [
            ("QUEUE", lambda r: r["queue"]),
            ("ID", lambda r: r["id"]),
            ("TENANT", lambda r: render.clip(r["tenant_name"], 24)),
            ("WHAT", lambda r: render.clip(r["what"], 40)),
            ("ATTEMPTS", lambda r: r["attempts"]),
            ("DEAD FOR", lambda r: render.ago(r["dead_since"])),
            ("REASON", lambda r: render.clip(r["reason"], 90)),
        ],
    )
    return f"{listing}\n\nreplay an event: ops replay <ID>; resend a message: ops resend <ID>"


def cmd_replay(store: OpsStore, args: argparse.Namespace) -> str:
    event = store.replay(args.event_id)
    if args.json:
        return render.to_json(event)
    return f"inbound event {event['id']} is back in the queue (pending); the worker takes it on its next claim"


def cmd_resend(store: OpsStore, args: argparse.Namespace) -> str:
    message = store.resend(args.message_id)
    if args.json:
        return render.to_json(message)
    return f"message {message['id']} is queued to be sent again"


def cmd_sync(store: OpsStore, args: argparse.Namespace) -> str:
    result = store.sync(args.tenant, args.kind, args.provider)
    if args.json:
        return render.to_json(result)
    lines = [f"{args.kind} sync requested for {result['tenant_name']} (request id {result['request_id']}):"]
    for job in result["jobs"]:
        note = "  (a sync of this kind was already waiting: joined it)" if job["joined_existing"] else ""
        lines.append(f"  {job['provider']:<10} job {job['job_id']}  {job['status']}{note}")
    lines.append(f"follow it with: ops trace {result['request_id']}")
    return "\n".join(lines)


def _detail(detail: dict[str, Any] | None) -> str:
    if not detail:
        return ""
    return ", ".join(f"{k}={v}" for k, v in detail.items() if v is not None)


def cmd_trace(store: OpsStore, args: argparse.Namespace) -> str:
    steps = store.trace(args.request_id)
    if args.json:
        return render.to_json({"request_id": args.request_id, "steps": steps})
    listing = render.table(
        steps,
        [
            ("TIME", lambda r: render.precise_time(r["at"])),
            ("ENTITY", lambda r: r["entity"]),
            ("ID", lambda r: r["entity_id"]),
            ("CHANGE", lambda r: r["change"]),
            ("DETAIL", lambda r: render.clip(_detail(r["detail"]), 100)),
        ],
    )
    tenants = sorted({str(s["tenant_id"]) for s in steps})
    return (
        f"request {args.request_id}: {len(steps)} steps, tenant {', '.join(tenants)}\n\n{listing}\n\n"
        f'its log lines: requestId:"{args.request_id}"'
    )


def _notified(row: Row) -> str:
    return ", ".join(f"{n['event']}->{n['target']} {n['status']}" for n in row["notifications"]) or "-"


def cmd_alerts(store: OpsStore, args: argparse.Namespace) -> str:
    head: list[str] = []
    evaluated: Row | None = None
    acknowledged: bool | None = None
    if args.evaluate:
        evaluated = store.evaluate_alerts()
        head.append(
            f"evaluated now: {evaluated['alerts_opened']} opened, {evaluated['alerts_resolved']} resolved, "
            f"{evaluated['alerts_open']} open, {evaluated['notifications_sent']} notifications sent"
        )
    if args.ack is not None:
        acknowledged = store.acknowledge(args.ack, args.by)
        head.append(
            f"alert {args.ack} acknowledged by {args.by}"
            if acknowledged
            else f"alert {args.ack} was already acknowledged"
        )
    rows = store.alerts(args.all, _tenant_id(store, args.tenant))
    if args.json:
        return render.to_json({"evaluated": evaluated, "acknowledged": acknowledged, "alerts": rows})
    if not rows:
        head.append("no open alerts" if not args.all else "no alerts in the last 7 days")
        return "\n".join(head)
    listing = render.table(
        rows,
        [
            ("ID", lambda r: r["id"]),
            ("SEVERITY", lambda r: r["severity"]),
            ("STATUS", lambda r: r["status"]),
            ("RULE", lambda r: r["rule"]),
            ("TENANT", lambda r: render.clip(r["tenant_name"] or "(platform)", 24)),
            ("VALUE", lambda r: f"{render.number(r['value'])} {r['comparison']} {render.number(r['threshold'])}"),
            ("OPENED", lambda r: render.ago(r["opened_at"]) + " ago"),
            ("RESOLVED", lambda r: render.ago(r["resolved_at"]) + " ago" if r["resolved_at"] else "-"),
            ("ACK", lambda r: r["acknowledged_by"] or "-"),
            ("NOTIFIED", _notified),
            ("RUNBOOK", lambda r: r["runbook"]),
        ],
    )
    return "\n".join([*head, listing] if not head else [*head, "", listing])


# ---- wiring -------------------------------------------------------------------------------------
def _who() -> str:
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):  # no login name (e.g. a container user without a passwd entry)
        return "on-call"


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON instead of a table")
    common.add_argument("--database-url", help="PostgreSQL URL (default: $WORKER_DATABASE_URL)")

    parser = argparse.ArgumentParser(
        prog="python -m worker ops",
        description="Operator tools for the on-call engineer (RUNBOOK.md).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    status = sub.add_parser("status", parents=[common], help="per tenant: WhatsApp, PMS, queues, dead letters, alerts")
    status.add_argument("--tenant", help="one tenant (id or name)")
    status.set_defaults(handler=cmd_status)

    dead = sub.add_parser("dead-letters", parents=[common], help="dead inbound events and messages, with reasons")
    dead.add_argument("--queue", choices=("all", "inbound", "messages"), default="all")
    dead.add_argument("--tenant", help="one tenant (id or name)")
    dead.add_argument("--limit", type=int, default=50)
    dead.set_defaults(handler=cmd_dead_letters)

    replay = sub.add_parser("replay", parents=[common], help="bring a dead inbound event back into the queue")
    replay.add_argument("event_id", type=int, metavar="EVENT_ID", help="inbound_events.id")
    replay.set_defaults(handler=cmd_replay)

    resend = sub.add_parser("resend", parents=[common], help="send a dead or failed message again")
    resend.add_argument("message_id", type=int, metavar="MESSAGE_ID", help="message_logs.id")
    resend.set_defaults(handler=cmd_resend)

    sync = sub.add_parser("sync", parents=[common], help="ask for a PMS sync of a tenant")
    sync.add_argument("tenant", metavar="TENANT", help="tenant id or name")
    sync.add_argument("--kind", choices=("incremental", "full"), default="incremental")
    sync.add_argument("--provider", choices=PROVIDERS, help="only this PMS (default: every active one)")
    sync.set_defaults(handler=cmd_sync)

    trace = sub.add_parser("trace", parents=[common], help="everything stored for one request id, in order")
    trace.add_argument("request_id", metavar="REQUEST_ID")
    trace.set_defaults(handler=cmd_trace)

    alerts = sub.add_parser("alerts", parents=[common], help="open alerts; --evaluate, --ack")
    alerts.add_argument("--all", action="store_true", help="also alerts resolved in the last 7 days")
    alerts.add_argument("--tenant", help="one tenant (id or name)")
    alerts.add_argument("--evaluate", action="store_true", help="evaluate the rules now (pg_cron does every minute)")
    alerts.add_argument("--ack", type=int, metavar="ALERT_ID", help="acknowledge an alert")
    alerts.add_argument("--by", default=_who(), help="who acknowledges (default: the login name)")
    alerts.set_defaults(handler=cmd_alerts)

    recover.register(sub, common, _who())
    return parser


def _first_line(exc: BaseException) -> str:
    if isinstance(exc, psycopg.Error) and exc.diag.message_primary:
        return exc.diag.message_primary
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:  # argparse has printed the usage (or --help)
        return exc.code if isinstance(exc.code, int) else 2
    url = args.database_url or os.environ.get("WORKER_DATABASE_URL")
    if not url:
        print("ops: set WORKER_DATABASE_URL or pass --database-url", file=sys.stderr)
        return 2
    handler: Handler = args.handler
    try:
        with psycopg.connect(
            url, autocommit=True, row_factory=dict_row, connect_timeout=10, application_name="worker-ops"
        ) as conn:
            conn.execute("set statement_timeout = '60s'")
            output = handler(OpsStore(conn), args)
    except OpsError as exc:
        print(f"ops: {exc}", file=sys.stderr)
        return 1
    except psycopg.OperationalError as exc:
        print(f"ops: cannot reach the database: {_first_line(exc)}", file=sys.stderr)
        return 1
    except psycopg.Error as exc:
        print(f"ops: {_first_line(exc)}", file=sys.stderr)
        return 1
    print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
