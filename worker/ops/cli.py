"""`python -m worker ops ...`: the on-call engineer's tool (RUNBOOK.md, "On-Call Actions").

    status        per tenant: WhatsApp session, PMS health, queue and retry depths, dead letters,
                  open alerts; and the database's connections
    dead-letters  dead inbound events and messages, with the reason each died
    replay ID     bring a dead inbound event back into the queue (once)
    resend ID     send a dead, failed, cancelled or skipped message again (once)
    sync TENANT   ask for a PMS sync of a tenant (id or name), full or incremental
    trace ID      a request, reservation or sync job: every stored change, and with --log the
                  worker's log lines, in order
    alerts        open alerts (or recent ones), evaluate now, acknowledge
    maintenance   maintenance windows (in force, to come), deployments; announce an emergency
    recover       after a database restore: hold sends, sync PMSs, settle with WAHA
    recoveries    restore recoveries, open and recent

Every command prints a table, or JSON with --json. The database comes from --database-url or
WORKER_DATABASE_URL (the worker's own). Exit codes: 0 done, 1 could not be done (unknown id,
nothing to replay, database unreachable; one line on stderr), 2 usage or configuration. With
--json an error is JSON too, on stdout: {"error": "<reason>", "exit_code": <1 or 2>}.

Run it as `.venv/bin/hotel-worker ops ...` (any directory, no activated virtualenv needed) or
`make ops ARGS="status"` (against the local database of `make db` / `make demo`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import psycopg
from psycopg.rows import dict_row

from worker.ops import logs, recover, render
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
    if platform["maintenance_window_id"] is not None:
        footer += (
            f"\nmaintenance: {platform['maintenance_kind']} window {platform['maintenance_window_id']} in force until "
            f"{render.timestamp(platform['maintenance_ends_at'])} (alerts held back unless critical and unrelated)"
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
            ("REASON", lambda r: " ".join(str(r["reason"] or "-").split())),
        ],
        wrap_last=70,
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


def _log_files(args: argparse.Namespace) -> list[Path]:
    """--log files (each must exist), else $WORKER_LOG_FILE's (those that exist: a default)."""
    if not args.log:
        return [Path(p) for p in os.environ.get("WORKER_LOG_FILE", "").split(os.pathsep) if p and Path(p).is_file()]
    files = [Path(p) for p in args.log]
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise OpsError(f"no log file {', '.join(missing)}")
    return files


def _trace_steps(store: OpsStore, args: argparse.Namespace) -> tuple[str, list[Row], str]:
    """What the id names, its steps from the database and the worker's logs, and the log query."""
    kind = store.trace_kind(args.id) if args.kind == "auto" else args.kind
    if kind == "reservation":
        steps = store.trace_reservation(args.id)
    elif kind == "job":
        steps = store.trace_job(args.id)
    else:
        steps = store.trace(args.id)
    request_ids = {str(s["request_id"]) for s in steps if s.get("request_id")}
    key = {"reservation": "reservationId", "job": "jobId", "request": "requestId"}[kind]
    query = " OR ".join([f'{key}:"{args.id}"'] + [f'requestId:"{r}"' for r in sorted(request_ids - {args.id})])
    files = _log_files(args)
    if files:
        steps += logs.matching_steps(
            files,
            request_ids | ({args.id} if kind == "request" else set()),
            job_id=args.id if kind == "job" else None,
            reservation_id=args.id if kind == "reservation" else None,
        )
        steps.sort(key=lambda s: s["at"])
    return kind, steps, query


def cmd_trace(store: OpsStore, args: argparse.Namespace) -> str:
    kind, steps, query = _trace_steps(store, args)
    if args.json:
        return render.to_json({"kind": kind, "id": args.id, "steps": steps, "log_query": query})
    listing = render.table(
        steps,
        [
            ("TIME", lambda r: render.precise_time(r["at"])),
            ("ENTITY", lambda r: r["entity"]),
            ("ID", lambda r: r["entity_id"]),
            ("REQUEST", lambda r: r.get("request_id") or "-"),
            ("CHANGE", lambda r: r["change"]),
            ("DETAIL", lambda r: _detail(r["detail"])),
        ],
        wrap_last=80,
    )
    tenants = sorted({str(s["tenant_id"]) for s in steps if s["tenant_id"]})
    from_logs = sum(1 for s in steps if s["entity"] == "log")
    logs_note = f" ({from_logs} from the worker's log)" if from_logs else ""
    return (
        f"{kind} {args.id}: {len(steps)} steps{logs_note}, tenant {', '.join(tenants)}\n\n{listing}\n\n"
        f"its log lines: {query}"
    )


COMPONENTS = ("database", "webhooks", "queues", "messages", "whatsapp", "pms", "auth")


def _when(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone, e.g. {text}Z or {text}+00:00")
    return value


def cmd_maintenance(store: OpsStore, args: argparse.Namespace) -> str:
    head: list[str] = []
    if args.emergency is not None:
        if not args.reason:
            raise OpsError("an emergency window needs --reason (tenants read it)")
        components = [c.strip() for c in args.components.split(",") if c.strip()]
        unknown = [c for c in components if c not in COMPONENTS]
        if unknown:
            raise OpsError(f"unknown component(s) {', '.join(unknown)}; one of {', '.join(COMPONENTS)}")
        window = store.announce_emergency(args.emergency, args.duration, args.reason, args.by, components)
        head.append(f"emergency maintenance window {window} announced; tenants are being told")
    if args.cancel is not None:
        store.cancel_window(args.cancel, args.by)
        head.append(f"maintenance window {args.cancel} cancelled")
    found = store.maintenance()
    if args.json:
        return render.to_json(found)
    windows = found["windows"]
    listing = (
        render.table(
            windows,
            [
                ("ID", lambda r: r["id"]),
                ("KIND", lambda r: r["kind"]),
                ("STATE", lambda r: "cancelled" if r["cancelled_at"] else "IN FORCE" if r["in_force"] else "-"),
                ("STARTS (UTC)", lambda r: render.timestamp(r["starts_at"])),
                ("ENDS (UTC)", lambda r: render.timestamp(r["ends_at"])),
                ("TOUCHES", lambda r: ",".join(r["components"])),
                ("TENANTS TOLD", lambda r: f"{r['notices_delivered']}/{r['notices']}"),
                ("REASON", lambda r: r["reason"]),
            ],
            wrap_last=60,
        )
        if windows
        else "no maintenance windows"
    )
    deployments = [
        f"  {d['id']}: {d['status']} {render.timestamp(d['started_at'])}, {len(d['migrations'])} migration(s), "
        + (f"forced by {d['forced_by']}: {d['force_reason']}" if d["forced"] else f"in window {d['window_id']}")
        for d in found["deployments"]
    ]
    tail = "\n\nrecent deployments:\n" + "\n".join(deployments) if deployments else ""
    return "\n".join([*head, *([""] if head else []), listing]) + tail


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
            ("WINDOW", lambda r: r["maintenance_window_id"] or "-"),
            ("NOTIFIED", _notified),
            ("RUNBOOK", lambda r: f"{r['runbook']} ({r['runbook_url']})"),
        ],
    )
    return "\n".join([*head, listing] if not head else [*head, "", listing])


# ---- wiring -------------------------------------------------------------------------------------
def _who() -> str:
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):  # no login name (e.g. a container user without a passwd entry)
        return "on-call"


class UsageError(Exception):
    """A command line argparse refuses; str() is argparse's message."""


class _Parser(argparse.ArgumentParser):
    """Raises instead of printing and exiting, so that --json can report usage errors as JSON."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON instead of a table")
    common.add_argument("--database-url", help="PostgreSQL URL (default: $WORKER_DATABASE_URL)")

    parser = _Parser(
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

    trace = sub.add_parser(
        "trace", parents=[common], help="one request, reservation or sync job: what was stored and logged, in order"
    )
    trace.add_argument("id", metavar="ID", help="a request id, a reservation id or a sync job id")
    trace.add_argument(
        "--kind", choices=("auto", "request", "reservation", "job"), default="auto", help="what ID is (default: found)"
    )
    trace.add_argument(
        "--log",
        action="append",
        metavar="FILE",
        help="the worker's JSON log to merge in (repeatable; default: $WORKER_LOG_FILE)",
    )
    trace.set_defaults(handler=cmd_trace)

    maintenance = sub.add_parser(
        "maintenance", parents=[common], help="maintenance windows and deployments; announce an emergency window"
    )
    maintenance.add_argument(
        "--emergency", type=_when, metavar="START", help="announce an emergency window starting then (>= 1 h ahead)"
    )
    maintenance.add_argument("--duration", default="1 hour", help="how long (a PostgreSQL interval; default 1 hour)")
    maintenance.add_argument("--reason", help="what is done (the tenants' notice says it)")
    maintenance.add_argument(
        "--components", default="database,webhooks,queues", help=f"what it touches: {','.join(COMPONENTS)}"
    )
    maintenance.add_argument("--cancel", type=int, metavar="WINDOW_ID", help="cancel a window")
    maintenance.add_argument("--by", default=_who(), help="who announces or cancels (default: the login name)")
    maintenance.set_defaults(handler=cmd_maintenance)

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


def _fail(message: str, code: int, as_json: bool) -> int:
    if as_json:
        print(render.to_json({"error": message, "exit_code": code}))
    else:
        print(message, file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    as_json = "--json" in argv
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        if not as_json:
            parser.print_usage(sys.stderr)
        return _fail(str(exc), 2, as_json)
    except SystemExit as exc:  # --help has been printed
        return exc.code if isinstance(exc.code, int) else 2
    url = args.database_url or os.environ.get("WORKER_DATABASE_URL")
    if not url:
        return _fail("ops: set WORKER_DATABASE_URL or pass --database-url", 2, as_json)
    handler: Handler = args.handler
    try:
        with psycopg.connect(
            url, autocommit=True, row_factory=dict_row, connect_timeout=10, application_name="worker-ops"
        ) as conn:
            conn.execute("set statement_timeout = '60s'")
            output = handler(OpsStore(conn), args)
    except OpsError as exc:
        return _fail(f"ops: {exc}", 1, as_json)
    except psycopg.OperationalError as exc:
        return _fail(f"ops: cannot reach the database: {_first_line(exc)}", 1, as_json)
    except psycopg.Error as exc:
        return _fail(f"ops: {_first_line(exc)}", 1, as_json)
    print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
