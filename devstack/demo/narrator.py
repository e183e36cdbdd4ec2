"""Prints, as it happens, what the system does: it compares snapshots of the tables every half
second and tells each new row and each change of status in a line a person can follow."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

SNAPSHOTS = {
    "event": """
        select id, status::text as status, source::text as source, event_type, request_id, last_error
        from public.inbound_events""",
    "reservation": """
        select r.id, r.pms_reservation_id, r.status::text as status, r.arrival_date, r.departure_date,
               r.pms_updated_at, g.full_name
        from public.reservations r left join public.guests g on g.id = r.guest_id""",
    "message": """
        select m.id, m.status::text as status, m.template_key, m.scheduled_for, m.last_error, m.attempts,
               m.sent_at, m.delivered_at, m.read_at, g.full_name, p.timezone
        from public.message_logs m
        left join public.guests g on g.id = m.guest_id
        left join public.reservations r on r.id = m.reservation_id
        left join public.properties p on p.id = r.property_id""",
    "sync": """
        select id, status::text as status, kind::text as kind, trigger::text as trigger,
               created_count, updated_count, unchanged_count, error
        from public.sync_jobs""",
    "session": """
        select tenant_id as id, session_status as status, sends_paused_reason from public.waha_configurations""",
    "pms": """
        select id, health::text as status, last_error from public.pms_configurations""",
    "chat": """
        select m.id, m.sender as status, m.body, m.media_kind, m.media_filename, m.consent_change,
               coalesce(g.full_name, c.contact_name, c.phone_e164) as who
        from public.conversation_messages m
        join public.conversations c on c.id = m.conversation_id
        left join public.guests g on g.id = c.guest_id
        where m.sender in ('guest', 'phone', 'staff')""",
}

# Present once the alerting migration is in (ops.alerts); absent tables are skipped.
OPTIONAL_SNAPSHOTS = {
    "alert": """
        select id, status, rule_key as rule_name, severity, summary from ops.alerts""",
}


def _when(value: dt.datetime | None, timezone: str | None) -> str:
    if value is None:
        return "?"
    local = value.astimezone(ZoneInfo(timezone or "UTC"))
    return f"{local:%a %d %b %H:%M} {timezone or 'UTC'}"


def _short(text: str | None, width: int = 90) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def describe(kind: str, row: dict[str, Any], before: dict[str, Any] | None) -> str | None:
    status = row.get("status")
    if kind == "event":
        if before is None:
            stored = f"⇢ {row['source']} webhook stored: {row['event_type']} (request {row['request_id'] or '-'})"
            if status == "dead":  # stored and dead-lettered between two looks
                return f"{stored}\n          ✗ event {row['id']} dead-lettered: {_short(row['last_error'])}"
            return stored
        if status == "dead":
            return f"✗ event {row['id']} dead-lettered: {_short(row['last_error'])}"
        if status == "pending" and row.get("last_error"):
            return f"↻ event {row['id']} will be retried: {_short(row['last_error'])}"
        return None
    if kind == "reservation":
        stay = f"{row['arrival_date']:%d %b} → {row['departure_date']:%d %b}"
        if before is None:
            return f"■ reservation {row['pms_reservation_id']} ({row['full_name']}) {status}, {stay}"
        if before.get("pms_updated_at") != row.get("pms_updated_at"):
            return f"■ reservation {row['pms_reservation_id']} ({row['full_name']}) now {status}, {stay}"
        return None
    if kind == "message":
        return _message(row, before)
    if kind == "sync":
        if before is None:
            return f"⟳ {row['kind']} sync requested ({row['trigger']})"
        if status == "succeeded":
            counts = f"{row['created_count']} new, {row['updated_count']} updated, {row['unchanged_count']} unchanged"
            return f"⟳ {row['kind']} sync done: {counts}"
        if status == "failed":
            return f"⟳ {row['kind']} sync failed: {_short(row['error'])}"
        return None
    if kind == "session":
        if before is not None and before.get("status") != status:
            paused = f" — sends paused ({row['sends_paused_reason']})" if row.get("sends_paused_reason") else ""
            return f"☎ WhatsApp session is {status}{paused}"
        if before is not None and before.get("sends_paused_reason") and not row.get("sends_paused_reason"):
            return "☎ WhatsApp sends resume"
        return None
    if kind == "pms":
        if before is not None and before.get("status") != status:
            reason = f": {_short(row['last_error'])}" if status == "failing" else ""
            return f"⚠ PMS connection {status}{reason}"
        return None
    if kind == "chat":
        return _chat(row) if before is None else None
    if kind == "alert":
        if before is None or before.get("status") != status:
            return f"🔔 alert {status}: [{row['severity']}] {row['rule_name']} — {_short(row['summary'])}"
        return None
    return None


def _chat(row: dict[str, Any]) -> str:
    """A line of a guest conversation: what the guest wrote, or what the hotel answered."""
    what = _short(row["body"], 70) if row["body"] else ""
    if row["media_kind"]:
        media = f"[{row['media_kind']}{': ' + row['media_filename'] if row['media_filename'] else ''}]"
        what = f"{media} {what}".strip()
    if row["status"] == "guest":
        consent = " — opted out" if row["consent_change"] == "opted_out" else ""
        return f"💬 {row['who']} wrote: {what}{consent}"
    source = "the hotel's phone" if row["status"] == "phone" else "the dashboard"
    return f"💬 reply to {row['who']} from {source}: {what}"


def _message(row: dict[str, Any], before: dict[str, Any] | None) -> str | None:
    status = row["status"]
    who = f"{row['template_key']} for {row['full_name'] or 'guest'}"
    lines: list[str] = []
    if before is None:
        due_later = row["scheduled_for"] and row["scheduled_for"] > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
        if status in ("skipped", "cancelled"):
            return f"✎ {who} {status}: {_short(row['last_error'])}"
        if status == "dead":  # planned and dead-lettered between two looks
            return f"✎ planned {who}\n          ✗ {who} dead: {_short(row['last_error'])}"
        if due_later:
            lines.append(f"✎ planned {who} at {_when(row['scheduled_for'], row['timezone'])}")
        else:
            lines.append(f"✎ planned {who}, due now")
    elif before["status"] == status:
        if before["scheduled_for"] != row["scheduled_for"] and status == "scheduled":
            return f"✎ re-planned {who} to {_when(row['scheduled_for'], row['timezone'])}"
        return None
    # Several steps can pass between two looks (planned, sent, delivered and read in a second).
    milestones = [("sent_at", "✉ sent"), ("delivered_at", "✓ delivered"), ("read_at", "✓✓ read")]
    lines += [f"{text}: {who}" for column, text in milestones if row[column] and not (before or {}).get(column)]
    if before is not None and not lines:
        if status == "failed":
            lines.append(f"↻ send failed: {who} ({_short(row['last_error'], 60)})")
        elif status in ("cancelled", "skipped", "dead"):
            lines.append(f"✗ {who} {status}: {_short(row['last_error'])}")
        elif status == "queued" and before["status"] == "sending":
            lines.append(f"⏸ {who} held back: {_short(row['last_error'])}")
    return "\n          ".join(lines) or None


class Narrator:
    def __init__(self, database_url: str, say: Callable[[str], None] = print) -> None:
        self.database_url = database_url
        self.say = say
        self.seen: dict[str, dict[Any, dict[str, Any]]] = {}
        self.queries = dict(SNAPSHOTS)

    async def _snapshot(self, conn: psycopg.AsyncConnection[dict[str, Any]]) -> dict[str, dict[Any, dict[str, Any]]]:
        result: dict[str, dict[Any, dict[str, Any]]] = {}
        for kind, sql in self.queries.items():
            cur = await conn.execute(sql)
            result[kind] = {row["id"]: row for row in await cur.fetchall()}
        return result

    async def run(self, stop: asyncio.Event, *, quiet_start: bool = True) -> None:
        try:
            await self._run(stop, quiet_start)
        except Exception as exc:  # the demo goes on; say why the commentary stopped
            self.say(f"(narration stopped: {type(exc).__name__}: {exc})")

    async def _run(self, stop: asyncio.Event, quiet_start: bool) -> None:
        async with await psycopg.AsyncConnection.connect(
            self.database_url, autocommit=True, row_factory=dict_row
        ) as conn:
            for kind, sql in OPTIONAL_SNAPSHOTS.items():
                table = sql.split(" from ")[-1].split()[0]
                cur = await conn.execute("select to_regclass(%s) is not null as present", (table,))
                row = await cur.fetchone()
                if row and row["present"]:
                    self.queries[kind] = sql
            if quiet_start:
                self.seen = await self._snapshot(conn)
            while not stop.is_set():
                current = await self._snapshot(conn)
                for kind, rows in current.items():
                    before_rows = self.seen.get(kind, {})
                    for key, row in sorted(rows.items(), key=lambda item: str(item[0])):
                        line = describe(kind, row, before_rows.get(key))
                        if line and row != before_rows.get(key):
                            self.say(f"{dt.datetime.now():%H:%M:%S}  {line}")
                self.seen = current
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.5)
