"""Message planning (supabase/migrations/20261126002000_message_planning.sql) checked against an
independent model written with Python's zoneinfo, on the real database, with hypothesis.

- Local times: the SQL resolves a wall-clock time to the first instant at or after it (a DST gap
  ends, an overlap's first occurrence), for any zone and any time around any transition.
- Quiet hours: a deferred instant is the end of the quiet window, never earlier, never quiet.
- Planning: through any sequence of reservation, guest and rule changes, every message row is
  where the rules say, nothing sent ever changes, and planning again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

UTC = dt.UTC
ONE_SECOND = dt.timedelta(seconds=1)

# DST forward and back by an hour, by half an hour (Lord Howe), in the southern hemisphere, at
# odd offsets (St John's, Chatham, Kolkata), and none at all.
ZONES = [
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/St_Johns",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Australia/Adelaide",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "UTC",
]

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    # Each example runs in its own rolled-back transaction, so the function-scoped connection is fine.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # No example database in the working tree.
    database=None,
)
# A planning example is a whole hotel and up to ten changes.
PLANNING_SETTINGS = settings(SETTINGS, max_examples=150)


# ---- the model --------------------------------------------------------------------------------------


def wall(instant: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def first_instant(local: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The earliest instant whose wall-clock time is `local`; in a DST gap, the instant it ends."""
    hits = []
    for fold in (0, 1):
        instant = local.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if wall(instant, zone) == local:
            hits.append(instant)
    if hits:
        return min(hits)
    # In a gap: walk minute by minute from well before it (transitions fall on whole minutes).
    instant = local.replace(tzinfo=zone, fold=0).astimezone(UTC) - dt.timedelta(hours=3)
    while wall(instant, zone) < local:
        instant += dt.timedelta(minutes=1)
    return instant


def is_quiet(t: dt.time, start: dt.time, end: dt.time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= t < end
    return t >= start or t < end


def after_quiet_hours(instant: dt.datetime, zone: ZoneInfo, start: dt.time, end: dt.time) -> dt.datetime:
    """Deferred to the end of the quiet window, found by walking the clock minute by minute. The
    window ends when the clock reaches its end, not when a fall-back briefly sets the clock
    before its start; if the end falls into a gap that swallows all allowed hours of that day,
    the next day's end."""
    for _ in range(3):
        local = wall(instant, zone)
        if not is_quiet(local.time(), start, end):
            return instant
        ends_on = local.date() + dt.timedelta(days=0 if local.time() < end else 1)
        window_end = dt.datetime.combine(ends_on, end)
        candidate = instant.replace(second=0, microsecond=0)
        while wall(candidate, zone) < window_end:
            candidate += dt.timedelta(minutes=1)
        instant = candidate
    return instant


@functools.cache
def transitions(zone_name: str, year: int) -> tuple[dt.datetime, ...]:
    """The instants (to the minute) at which the zone's UTC offset changes during the year."""
    zone = ZoneInfo(zone_name)
    found = []
    hour = dt.timedelta(hours=1)
    t = dt.datetime(year, 1, 1, tzinfo=UTC)
    while t.year == year:
        if (t + hour).astimezone(zone).utcoffset() != t.astimezone(zone).utcoffset():
            m = t
            while m.astimezone(zone).utcoffset() == t.astimezone(zone).utcoffset():
                m += dt.timedelta(minutes=1)
            found.append(m)
        t += hour
    return tuple(found)


# ---- strategies ----------------------------------------------------------------------------------------


@st.composite
def zoned_wall_times(draw: st.DrawFn) -> tuple[str, dt.datetime]:
    """A zone and a wall-clock time in it, often within a few hours of a DST transition."""
    zone_name = draw(st.sampled_from(ZONES))
    near = transitions(zone_name, draw(st.integers(2026, 2035)))
    use_transition = draw(st.booleans())
    if near and use_transition:
        t = draw(st.sampled_from(near))
        local = wall(t, ZoneInfo(zone_name)) + dt.timedelta(minutes=draw(st.integers(-180, 180)))
    else:
        local = draw(st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2035, 12, 31)))
    return zone_name, local.replace(second=0, microsecond=0)


minute_times = st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 1, 15, 29, 30, 45, 59]))


# ---- local times and quiet hours -------------------------------------------------------------------


@pytest.fixture
def sql(db: psycopg.Connection[Any]) -> Iterator[psycopg.Connection[Any]]:
    db.execute("set timezone = 'UTC'")
    yield db


def scalar(conn: psycopg.Connection[Any], query: str, params: tuple[Any, ...]) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


@SETTINGS
@given(case=zoned_wall_times())
def test_a_wall_clock_time_is_the_first_instant_at_or_after_it(
    sql: psycopg.Connection[Any], case: tuple[str, dt.datetime]
) -> None:
    zone_name, local = case
    zone = ZoneInfo(zone_name)
    got = scalar(sql, "select private.local_instant(%s::timestamp, %s)", (local, zone_name))
    assert got == first_instant(local, zone)
    # The definition itself: not before the wall-clock time, and the second before it is.
    assert wall(got, zone) >= local
    assert wall(got - ONE_SECOND, zone) < local


@st.composite
def zoned_instants(draw: st.DrawFn) -> tuple[str, dt.datetime]:
    """A zone and an instant, often within a few hours of a DST transition (either pass of a
    repeated hour included)."""
    zone_name = draw(st.sampled_from(ZONES))
    near = transitions(zone_name, draw(st.integers(2026, 2035)))
    use_transition = draw(st.booleans())
    if near and use_transition:
        instant = draw(st.sampled_from(near)) + dt.timedelta(minutes=draw(st.integers(-180, 180)))
    else:
        instant = draw(
            st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2035, 12, 31), timezones=st.just(UTC))
        ).replace(second=0, microsecond=0)
    return zone_name, instant


@SETTINGS
@given(case=zoned_instants(), start=minute_times, end=minute_times, end_in=st.none() | st.integers(1, 90))
def test_quiet_hours_defer_to_the_end_of_the_window(
    sql: psycopg.Connection[Any], case: tuple[str, dt.datetime], start: dt.time, end: dt.time, end_in: int | None
) -> None:
    zone_name, instant = case
    zone = ZoneInfo(zone_name)
    if end_in is not None:
        # A window that ends shortly after, often inside a DST gap or overlap: the hardest case.
        end = (wall(instant, zone) + dt.timedelta(minutes=end_in)).time()
    got = scalar(sql, "select private.after_quiet_hours(%s, %s, %s::time, %s::time)", (instant, zone_name, start, end))
    assert got == after_quiet_hours(instant, zone, start, end)
    assert got >= instant
    assert not is_quiet(wall(got, zone).time(), start, end)


# ---- planning through any sequence of changes ----------------------------------------------------------

RULES = {
    # name: (trigger, template key)
    "conf": ("booking_confirmed", "booking_confirmation"),
    "pre": ("before_arrival", "pre_arrival"),
    "arr": ("arrival_day", "welcome"),
    "rev": ("after_departure", "review_request"),
    "canc": ("booking_cancelled", "cancellation_notice"),
}
TIMED = {"pre", "arr", "rev"}
PENDING = {"scheduled", "queued", "failed"}
SENT = {"sending", "sent", "delivered", "read", "dead"}
STATUSES = ["confirmed", "checked_in", "checked_out", "cancelled", "no_show"]


@dataclass(frozen=True)
class Setup:
    zone: str
    quiet: tuple[dt.time, dt.time]
    offsets: dict[str, int]
    times: dict[str, dt.time | None]
    arrival_in_days: int
    nights: int


setups = st.builds(
    Setup,
    zone=st.sampled_from(ZONES),
    quiet=st.one_of(st.just((dt.time(21), dt.time(8))), st.tuples(minute_times, minute_times)),
    offsets=st.fixed_dictionaries({"pre": st.integers(0, 10), "rev": st.integers(0, 5)}),
    times=st.fixed_dictionaries({r: st.one_of(st.none(), minute_times) for r in sorted(TIMED)}),
    arrival_in_days=st.integers(-3, 40),
    nights=st.integers(0, 7),
)

operations = st.one_of(
    st.tuples(st.just("dates"), st.integers(-3, 40), st.integers(0, 7)),
    st.tuples(st.just("status"), st.sampled_from(STATUSES)),
    st.tuples(st.just("phone"), st.sampled_from([None, "+4915100000001", "+4915100000002"])),
    st.tuples(st.just("opt_in"), st.booleans()),
    st.tuples(st.just("rule_active"), st.sampled_from(sorted(RULES)), st.booleans()),
    st.tuples(st.just("send"), st.sampled_from(sorted(RULES))),
    st.tuples(st.just("replan")),
)


class Hotel:
    """One tenant with one property, one guest and one reservation, inside a rolled-back transaction."""

    def __init__(self, conn: psycopg.Connection[Any], setup: Setup) -> None:
        self.conn = conn
        self.setup = setup
        self.zone = ZoneInfo(setup.zone)
        self.tenant = uuid.uuid4()
        self.now: dt.datetime = scalar(conn, "select now()", ())
        today = wall(self.now, self.zone).date()
        conn.execute("insert into public.tenants (id, name) values (%s, 'Property test')", (self.tenant,))
        conn.execute(
            "insert into public.properties (tenant_id, name, timezone, pms_property_id, quiet_hours_start,"
            " quiet_hours_end) values (%s, 'P', %s, 'P', %s, %s)",
            (self.tenant, setup.zone, *setup.quiet),
        )
        for name, (trigger, key) in RULES.items():
            conn.execute(
                "insert into public.message_templates (tenant_id, key, language, body) values (%s, %s, 'en', %s)",
                (self.tenant, key, f"{name}: {{{{guest_first_name}}}} {{{{arrival_date}}}}"),
            )
            conn.execute(
                "insert into public.automation_rules (tenant_id, name, trigger, offset_days, send_at_local,"
                " template_key) values (%s, %s, %s, %s, %s, %s)",
                (self.tenant, name, trigger, setup.offsets.get(name, 0), setup.times.get(name), key),
            )
        arrival = today + dt.timedelta(days=setup.arrival_in_days)
        canonical = {
            "provider": "generic",
            "pms_reservation_id": "R1",
            "status": "confirmed",
            "arrival_date": arrival.isoformat(),
            "departure_date": (arrival + dt.timedelta(days=setup.nights)).isoformat(),
            "pms_updated_at": "2026-11-26T10:00:00Z",
            "guest": {"full_name": "Ada Lovelace", "phone": "+4915100000001", "language": "en"},
        }
        self.reservation = scalar(
            conn,
            "select reservation_id from internal.upsert_reservation_v1(%s, %s::jsonb, 'req-1')",
            (self.tenant, json.dumps(canonical)),
        )

    def apply(self, op: tuple[Any, ...]) -> None:
        kind = op[0]
        c = self.conn
        if kind == "dates":
            arrival = wall(self.now, self.zone).date() + dt.timedelta(days=op[1])
            c.execute(
                "update public.reservations set arrival_date = %s, departure_date = %s where id = %s",
                (arrival, arrival + dt.timedelta(days=op[2]), self.reservation),
            )
        elif kind == "status":
            c.execute("update public.reservations set status = %s where id = %s", (op[1], self.reservation))
        elif kind == "phone":
            c.execute(
                "update public.guests set phone_e164 = %s where id = (select guest_id from public.reservations"
                " where id = %s)",
                (op[1], self.reservation),
            )
        elif kind == "opt_in":
            c.execute(
                "update public.guests set whatsapp_opt_in = %s where id = (select guest_id from"
                " public.reservations where id = %s)",
                (op[1], self.reservation),
            )
        elif kind == "rule_active":
            c.execute(
                "update public.automation_rules set is_active = %s where tenant_id = %s and name = %s",
                (op[2], self.tenant, op[1]),
            )
        elif kind == "send":
            row = c.execute(
                "select m.id from public.message_logs m join public.automation_rules a on a.id = m.rule_id"
                " where m.reservation_id = %s and a.name = %s and m.status in ('scheduled', 'queued', 'failed')",
                (self.reservation, op[1]),
            ).fetchone()
            if row is not None:
                c.execute(
                    "update public.message_logs set status = 'sending', attempts = attempts + 1, lease_owner = 'w',"
                    " lease_expires_at = now() + interval '1 minute' where id = %s",
                    (row[0],),
                )
                c.execute(
                    "update public.message_logs set status = 'sent', waha_message_id = 'wamid-' || id,"
                    " lease_owner = null, lease_expires_at = null where id = %s",
                    (row[0],),
                )
        else:
            self.replan()

    def replan(self) -> None:
        self.conn.execute("select private.plan_messages(array[%s]::uuid[])", (self.reservation,))

    def rows(self) -> dict[str, dict[str, Any]]:
        cur = self.conn.execute(
            "select a.name, m.*, m.ctid::text as version from public.message_logs m"
            " join public.automation_rules a on a.id = m.rule_id where m.reservation_id = %s",
            (self.reservation,),
        )
        names = [d.name for d in cur.description or []]
        return {r[0]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}

    def state(self) -> dict[str, Any]:
        row = self.conn.execute(
            "select r.status::text, r.arrival_date, r.departure_date, g.phone_e164, g.whatsapp_opt_in"
            " from public.reservations r join public.guests g on g.id = r.guest_id where r.id = %s",
            (self.reservation,),
        ).fetchone()
        assert row is not None
        active = dict(
            self.conn.execute(
                "select name, is_active from public.automation_rules where tenant_id = %s", (self.tenant,)
            ).fetchall()
        )
        return {
            "status": row[0],
            "arrival": row[1],
            "departure": row[2],
            "reachable": row[3] is not None and row[4],
            "active": active,
        }

    def model_send_at(self, rule: str, arrival: dt.date, departure: dt.date) -> dt.datetime:
        at = self.setup.times.get(rule)
        if rule == "pre":
            local = dt.datetime.combine(arrival - dt.timedelta(days=self.setup.offsets["pre"]), at or dt.time(15))
        elif rule == "arr":
            local = dt.datetime.combine(arrival, at or dt.time(15))
        else:
            local = dt.datetime.combine(departure + dt.timedelta(days=self.setup.offsets["rev"]), at or dt.time(11))
        return after_quiet_hours(first_instant(local, self.zone), self.zone, *self.setup.quiet)


def check_invariants(hotel: Hotel, sent_before: dict[str, dict[str, Any]]) -> None:
    rows = hotel.rows()
    state = hotel.state()
    cancelled = state["status"] in ("cancelled", "no_show")

    for name, before in sent_before.items():
        assert rows[name] == before, f"{name}: a message already sent changed"

    for name, row in rows.items():
        assert row["dedupe_key"] == f"{hotel.reservation}:{row['rule_id']}"
        if row["status"] in ("cancelled", "skipped"):
            assert row["last_error"], f"{name}: {row['status']} without a reason"
        if row["status"] == "scheduled":
            assert row["next_attempt_at"] == row["scheduled_for"], f"{name}: claim time differs from send time"
        if row["status"] in PENDING:
            assert state["active"][name], f"{name}: pending for an inactive rule"
            assert state["reachable"], f"{name}: pending for an unreachable guest"
            assert row["scheduled_for"] >= hotel.now, f"{name}: pending for a time already passed"
            if name == "canc":
                assert state["status"] == "cancelled", "a cancellation notice pending for a live booking"
            else:
                assert not cancelled, f"{name}: pending for a cancelled reservation"

    # Every timed message that can still go out is planned at the model's time.
    for name in sorted(TIMED):
        planned = rows.get(name)
        if planned is not None and planned["status"] in SENT:
            continue
        if not state["active"][name] or cancelled or not state["reachable"]:
            continue
        expected = hotel.model_send_at(name, state["arrival"], state["departure"])
        assert planned is not None, f"{name}: missing"
        if expected >= hotel.now:
            assert planned["status"] == "scheduled", f"{name}: {planned['status']} ({planned['last_error']})"
            assert planned["scheduled_for"] == expected, f"{name}: planned for the wrong time"
        else:
            assert planned["status"] == "skipped", f"{name}: {expected} has passed"


@PLANNING_SETTINGS
@given(setup=setups, ops=st.lists(operations, max_size=10))
def test_planning_follows_the_rules_through_any_sequence_of_changes(
    sql: psycopg.Connection[Any], setup: Setup, ops: list[tuple[Any, ...]]
) -> None:
    with sql.transaction(force_rollback=True):
        hotel = Hotel(sql, setup)
        check_invariants(hotel, {})
        for op in ops:
            sent_before = {n: r for n, r in hotel.rows().items() if r["status"] in SENT}
            hotel.apply(op)
            check_invariants(hotel, sent_before)
            # Planning again, with nothing changed, writes nothing.
            versions = {n: r["version"] for n, r in hotel.rows().items()}
            hotel.replan()
            assert {n: r["version"] for n, r in hotel.rows().items()} == versions, f"re-planning after {op} wrote"
        assert len(hotel.rows()) <= len(RULES)
