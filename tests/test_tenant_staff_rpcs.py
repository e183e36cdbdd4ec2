"""What a hotel's staff do through the Data API, run as PostgREST runs it (role and JWT claims):
the team and its invitations, pausing sending, guest consent, resending and replaying (one or
many, with reasons), and finding reservations."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.factories import Factory, Tenant

Conn = psycopg.Connection[Any]


def as_user(db: Conn, user: uuid.UUID | None, sql: str, params: Any = None) -> list[dict[str, Any]]:
    """Runs one statement as PostgREST would for this user, in its own committed transaction."""
    role = "anon" if user is None else "authenticated"
    claims = {"role": role} if user is None else {"sub": str(user), "role": role}
    with psycopg.connect(db.info.dsn, row_factory=dict_row) as conn, conn.transaction():
        conn.execute(f"set local role {role}")
        conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
        return conn.execute(sql, params).fetchall()


def refusal(db: Conn, user: uuid.UUID | None, sql: str, params: Any = None) -> tuple[str, str, str | None]:
    with pytest.raises(psycopg.errors.Error) as caught:
        as_user(db, user, sql, params)
    exc = caught.value
    return str(exc.sqlstate), exc.diag.message_primary or "", exc.diag.message_detail


def team(factory: Factory, tenant: Tenant) -> dict[str, uuid.UUID]:
    return {role: factory.member(tenant, role) for role in ("owner", "admin", "staff")}


def role_of(db: Conn, tenant: Tenant, user: uuid.UUID) -> str | None:
    row = db.execute(
        "select role::text from public.tenant_members where tenant_id = %s and user_id = %s", (tenant.id, user)
    ).fetchone()
    return None if row is None else str(row[0])


# ---- the team -------------------------------------------------------------------------------------
def test_an_invited_user_joins_with_the_role_once(db: Conn, factory: Factory) -> None:
    tenant = factory.tenant()
    people = team(factory, tenant)
    [invitation] = as_user(
        db, people["admin"], "select * from public.invite_member(%s, ' New.Person@Example.com ', 'admin')", (tenant.id,)
    )
    newcomer = factory.user("new.person@example.com")
    stranger = factory.user("stranger@example.com")

    # Only the invited address can use the token; a wrong token answers the same.
    sql = "select public.accept_invitation(%s) as tenant_id"
    assert refusal(db, stranger, sql, (invitation["token"],))[:2] == refusal(db, stranger, sql, ("wrong",))[:2]
    assert as_user(db, newcomer, sql, (invitation["token"],)) == [{"tenant_id": tenant.id}]
    assert role_of(db, tenant, newcomer) == "admin"
    # Used: a second acceptance is refused.
    assert refusal(db, newcomer, sql, (invitation["token"],))[0] == "P0002"
    # Owners and admins see the invitation, accepted; staff do not see invitations at all.
    seen = as_user(db, people["owner"], "select email, accepted_by from public.tenant_invitations")
    assert seen == [{"email": "new.person@example.com", "accepted_by": newcomer}]
    assert as_user(db, people["staff"], "select email from public.tenant_invitations") == []
    # The token's hash is nobody's business.
    assert refusal(db, people["owner"], "select token_hash from public.tenant_invitations")[0] == "42501"


def test_invitations_expire_and_inviting_again_replaces_the_open_one(db: Conn, factory: Factory) -> None:
    tenant = factory.tenant()
    people = team(factory, tenant)
    invited = factory.user("late@example.com")
    sql = "select token from public.invite_member(%s, 'late@example.com')"
    [first] = as_user(db, people["owner"], sql, (tenant.id,))
    [second] = as_user(db, people["owner"], sql, (tenant.id,))
    accept = "select public.accept_invitation(%s)"
    assert refusal(db, invited, accept, (first["token"],))[0] == "P0002", "the replaced token still worked"
    db.execute(
        "update public.tenant_invitations set created_at = now() - interval '8 days',"
        " expires_at = now() - interval '1 second' where revoked_at is null"
    )
    assert refusal(db, invited, accept, (second["token"],))[0] == "P0002", "an expired token worked"
    assert role_of(db, tenant, invited) is None


def test_who_may_invite_whom(db: Conn, factory: Factory) -> None:
    tenant = factory.tenant()
    people = team(factory, tenant)
    sql = "select invitation_id from public.invite_member(%s, %s, %s)"
    assert as_user(db, people["owner"], sql, (tenant.id, "co-owner@example.com", "owner"))
    assert as_user(db, people["admin"], sql, (tenant.id, "helper@example.com", "staff"))
    code, message, _ = refusal(db, people["admin"], sql, (tenant.id, "boss@example.com", "owner"))
    assert (code, message) == ("42501", "only an owner can invite an owner")
    assert refusal(db, people["staff"], sql, (tenant.id, "friend@example.com", "staff"))[0] == "P0002"
    owner_email = db.execute("select email from auth.users where id = %s", (people["owner"],)).fetchone()
    assert owner_email is not None
    code, message, _ = refusal(db, people["owner"], sql, (tenant.id, owner_email[0].upper(), "staff"))
    assert code == "23505" and message.endswith("is already a member")
    assert refusal(db, people["owner"], sql, (tenant.id, "not an address", "staff"))[0] == "22023"
    # An admin cannot withdraw an owner's invitation; an owner can.
    owner_invitation = db.execute("select id from public.tenant_invitations where role = 'owner'").fetchone()
    assert owner_invitation is not None
    revoke = "select public.revoke_invitation(%s) as revoked"
    assert refusal(db, people["admin"], revoke, (owner_invitation[0],))[0] == "42501"
    assert as_user(db, people["owner"], revoke, (owner_invitation[0],)) == [{"revoked": True}]
    assert as_user(db, people["owner"], revoke, (owner_invitation[0],)) == [{"revoked": False}]


def test_role_changes_follow_the_rules_and_a_tenant_keeps_an_owner(db: Conn, factory: Factory) -> None:
    tenant = factory.tenant()
    people = team(factory, tenant)
    other_staff = factory.member(tenant, "staff")
    change = "select public.change_member_role(%s, %s, %s) as changed"

    assert as_user(db, people["admin"], change, (tenant.id, other_staff, "admin")) == [{"changed": True}]
    assert as_user(db, people["admin"], change, (tenant.id, other_staff, "admin")) == [{"changed": False}]
    assert as_user(db, people["admin"], change, (tenant.id, other_staff, "staff")) == [{"changed": True}]
    assert refusal(db, people["admin"], change, (tenant.id, other_staff, "owner"))[0] == "42501"
    assert refusal(db, people["admin"], change, (tenant.id, people["owner"], "staff"))[0] == "42501"
    assert refusal(db, people["staff"], change, (tenant.id, other_staff, "admin"))[0] == "P0002"
    # The only owner cannot step down; after naming a second owner, they can.
    code, message, _ = refusal(db, people["owner"], change, (tenant.id, people["owner"], "admin"))
    assert (code, message) == ("23514", "a tenant must keep at least one owner")
    assert as_user(db, people["owner"], change, (tenant.id, people["admin"], "owner")) == [{"changed": True}]
    assert as_user(db, people["owner"], change, (tenant.id, people["owner"], "admin")) == [{"changed": True}]
    assert role_of(db, tenant, people["owner"]) == "admin"


def test_removing_members_and_leaving(db: Conn, factory: Factory) -> None:
    tenant = factory.tenant()
    people = team(factory, tenant)
    extra = factory.member(tenant, "staff")
    remove = "select public.remove_member(%s, %s)"

    assert refusal(db, people["staff"], remove, (tenant.id, extra))[0] == "P0002"
    assert refusal(db, people["admin"], remove, (tenant.id, people["owner"]))[0] == "42501"
    as_user(db, people["admin"], remove, (tenant.id, extra))
    assert role_of(db, tenant, extra) is None
    as_user(db, people["staff"], remove, (tenant.id, people["staff"]))  # leaving
    assert role_of(db, tenant, people["staff"]) is None
    code, message, _ = refusal(db, people["owner"], remove, (tenant.id, people["owner"]))
    assert (code, message) == ("23514", "a tenant must keep at least one owner")
    as_user(db, people["owner"], remove, (tenant.id, people["admin"]))
    assert role_of(db, tenant, people["admin"]) is None


# ---- pausing the tenant's sending -------------------------------------------------------------------
def sending(db: Conn, tenant: Tenant) -> dict[str, Any]:
    with db.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "select sends_paused_reason, sends_held_reason, sends_held_by, sends_held_at is not null as held"
            " from public.waha_configurations where tenant_id = %s",
            (tenant.id,),
        ).fetchone()
    assert row is not None
    return row


def claimable(db: Conn, tenant: Tenant) -> bool:
    """Whether the worker's claim hands out this tenant's due message (rolled back)."""
    with db.transaction(force_rollback=True):
        rows = db.execute("select tenant_id from internal.claim_messages_v4('probe', 10, '1 minute', '0')").fetchall()
    return any(r[0] == tenant.id for r in rows)


def test_a_pause_by_hand_holds_until_resumed_whatever_the_session_does(db: Conn, factory: Factory) -> None:
    tenant = factory.tenant()
    people = team(factory, tenant)
    factory.waha_configuration(tenant)
    factory.message(tenant)
    assert claimable(db, tenant)

    assert refusal(db, people["staff"], "select public.pause_tenant_sends(%s, 'x')", (tenant.id,))[0] == "P0002"
    assert refusal(db, people["admin"], "select public.pause_tenant_sends(%s, '  ')", (tenant.id,))[0] == "22023"
    as_user(db, people["admin"], "select public.pause_tenant_sends(%s, 'new templates being checked')", (tenant.id,))
    state = sending(db, tenant)
    assert state["sends_paused_reason"] == "held: new templates being checked"
    assert (state["sends_held_by"], state["held"]) == (people["admin"], True)
    assert not claimable(db, tenant)

    # WAHA reports the session WORKING (as after a probe): the hold stays.
    db.execute("select internal.record_session_status_v1(%s, 'default', 'WORKING', now())", (tenant.id,))
    assert sending(db, tenant)["sends_paused_reason"] == "held: new templates being checked"
    assert not claimable(db, tenant)

    resume = "select public.resume_tenant_sends(%s) as resumed"
    assert as_user(db, people["owner"], resume, (tenant.id,)) == [{"resumed": True}]
    assert sending(db, tenant)["sends_paused_reason"] is None
    assert claimable(db, tenant)
    assert as_user(db, people["owner"], resume, (tenant.id,)) == [{"resumed": False}]


def test_resuming_while_the_session_is_down_leaves_the_systems_pause(db: Conn, factory: Factory) -> None:
    tenant = factory.tenant()
    people = team(factory, tenant)
    factory.waha_configuration(tenant)
    as_user(db, people["owner"], "select public.pause_tenant_sends(%s, 'holiday')", (tenant.id,))
    db.execute("update public.waha_configurations set session_status = 'FAILED' where tenant_id = %s", (tenant.id,))
    assert sending(db, tenant)["sends_paused_reason"] == "held: holiday"
    as_user(db, people["owner"], "select public.resume_tenant_sends(%s)", (tenant.id,))
    assert sending(db, tenant)["sends_paused_reason"] == "session FAILED"


# ---- guest consent ------------------------------------------------------------------------------------
def planned_hotel(db: Conn, factory: Factory) -> tuple[Tenant, dict[str, uuid.UUID]]:
    """A hotel with WhatsApp, a confirmation rule and its template."""
    tenant = factory.tenant()
    people = team(factory, tenant)
    factory.waha_configuration(tenant)
    db.execute(
        "insert into public.message_templates (tenant_id, key, language, body)"
        " values (%s, 'welcome', 'en', 'Hello {{guest_name}}')",
        (tenant.id,),
    )
    db.execute(
        "insert into public.automation_rules (tenant_id, name, trigger, template_key)"
        " values (%s, 'Welcome', 'booking_confirmed', 'welcome')",
        (tenant.id,),
    )
    return tenant, people


def guest_of(db: Conn, reservation: uuid.UUID) -> uuid.UUID:
    row = db.execute("select guest_id from public.reservations where id = %s", (reservation,)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def message_of(db: Conn, reservation: uuid.UUID) -> tuple[int, str]:
    row = db.execute(
        "select id, status::text from public.message_logs where reservation_id = %s", (reservation,)
    ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def test_staff_opt_a_guest_out_and_in_and_the_history_says_who(db: Conn, factory: Factory) -> None:
    tenant, people = planned_hotel(db, factory)
    reservation = factory.reservation(tenant, arrival_date="2099-01-10", departure_date="2099-01-12")
    guest = guest_of(db, reservation)
    assert message_of(db, reservation)[1] == "scheduled"

    opt = "select public.set_guest_opt_in(%s, %s, %s) as changed"
    assert as_user(db, people["staff"], opt, (guest, False, "asked at the front desk")) == [{"changed": True}]
    assert message_of(db, reservation)[1] == "cancelled"
    assert as_user(db, people["staff"], opt, (guest, False, None)) == [{"changed": False}]
    assert as_user(db, people["admin"], opt, (guest, True, "signed the consent form")) == [{"changed": True}]
    assert message_of(db, reservation)[1] == "scheduled"
    # The guest texts STOP (the worker's opt-out).
    db.execute("select internal.opt_out_guest_v1(%s, '4915112345678@c.us')", (tenant.id,))

    history = as_user(
        db,
        people["staff"],
        "select whatsapp_opt_in, reason, source, changed_by from public.guest_consent_changes"
        " where guest_id = %s order by id",
        (guest,),
    )
    assert history == [
        {
            "whatsapp_opt_in": False,
            "reason": "asked at the front desk",
            "source": "member",
            "changed_by": people["staff"],
        },
        {
            "whatsapp_opt_in": True,
            "reason": "signed the consent form",
            "source": "member",
            "changed_by": people["admin"],
        },
        {"whatsapp_opt_in": False, "reason": "guest asked to stop", "source": "guest", "changed_by": None},
    ]
    row = db.execute("select opt_in_changed_by, opted_out_at is not null from public.guests where id = %s", (guest,))
    assert row.fetchone() == (None, True)


# ---- resending and replaying -------------------------------------------------------------------------
def test_a_message_cancelled_with_its_reservation_is_refused_with_the_reason(db: Conn, factory: Factory) -> None:
    tenant, people = planned_hotel(db, factory)
    booking = {"pms_reservation_id": "R-CANCEL", "arrival_date": "2099-01-10", "departure_date": "2099-01-12"}
    reservation = factory.reservation(tenant, **booking)
    factory.reservation(tenant, **booking, status="cancelled", pms_updated_at="2026-11-27T10:00:00Z")
    message, status = message_of(db, reservation)
    assert status == "cancelled"

    code, text, detail = refusal(db, people["admin"], "select public.resend_message(%s)", (message,))
    assert (code, text, detail) == (
        "23514",
        f"message {message} cannot be sent: the reservation was cancelled",
        "reservation_cancelled",
    )
    assert message_of(db, reservation)[1] == "cancelled", "the refused message was queued after all"


def test_resend_one_and_many_says_what_was_taken_and_why_not(db: Conn, factory: Factory) -> None:
    tenant, people = planned_hotel(db, factory)
    other = factory.tenant("Other hotel")
    factory.waha_configuration(other)
    dead = [factory.message(tenant, status="dead", dedupe_key=f"dead-{n}") for n in range(3)]
    queued = factory.message(tenant, status="queued", dedupe_key="queued")
    sent = factory.message(tenant, status="sent", waha_message_id="wamid-1", dedupe_key="sent")
    reservation = factory.reservation(tenant, guest={"full_name": "Quiet", "phone": "+4915199999999"})
    quiet = guest_of(db, reservation)
    db.execute("update public.guests set whatsapp_opt_in = false where id = %s", (quiet,))
    opted_out = factory.message(tenant, status="dead", guest_id=quiet, dedupe_key="opted-out")
    foreign = factory.message(other, status="dead", dedupe_key="foreign")

    one = "select public.resend_message(%s) as resent"
    assert as_user(db, people["admin"], one, (dead[0],)) == [{"resent": True}]
    assert as_user(db, people["admin"], one, (dead[0],)) == [{"resent": False}], "a double click resends twice"

    many = "select public.resend_messages(%s, %s::bigint[]) as result"
    ids = [dead[1], dead[0], queued, sent, opted_out, foreign, 9_000_000_000_000]
    [row] = as_user(db, people["owner"], many, (tenant.id, ids))
    assert row["result"] == {
        "taken": 1,
        "refused": {"already_on_its_way": 2, "already_sent": 1, "guest_opted_out": 1, "not_found": 2},
    }
    statuses = db.execute(
        "select id, status::text from public.message_logs where id = any(%s) order by id", (ids,)
    ).fetchall()
    assert dict(statuses) == {
        dead[0]: "queued",
        dead[1]: "queued",
        queued: "queued",
        sent: "sent",
        opted_out: "dead",
        foreign: "dead",
    }

    # By filter: the dead ones of the tenant, at most one at a time.
    [row] = as_user(db, people["owner"], "select public.resend_messages(%s, p_limit => 1) as result", (tenant.id,))
    assert row["result"]["taken"] + sum(row["result"]["refused"].values()) == 2  # dead[2] and opted_out
    assert row["result"]["refused"].get("over_limit") == 1
    assert refusal(db, people["staff"], "select public.resend_messages(%s)", (tenant.id,))[0] == "P0002"


def test_replay_many_events_by_ids_or_filter(db: Conn, factory: Factory) -> None:
    tenant = factory.tenant()
    people = team(factory, tenant)
    events = [f"ev-{n}" for n in range(4)]
    ingested = db.execute(
        "select id from internal.ingest_inbound_events_v1(%s, 'pms', 'mews', %s::jsonb)",
        (tenant.id, json.dumps([{"event_id": e, "event_type": "reservation.updated", "payload": {}} for e in events])),
    ).fetchall()
    ids = [int(r[0]) for r in ingested]
    for event_id in ids[:3]:
        db.execute(
            "update public.inbound_events set status = 'processing', lease_owner = 'w',"
            " lease_expires_at = now() + interval '1 minute' where id = %s",
            (event_id,),
        )
        db.execute(
            "update public.inbound_events set status = 'dead', lease_owner = null, lease_expires_at = null"
            " where id = %s",
            (event_id,),
        )

    many = "select public.replay_inbound_events(%s, %s::bigint[]) as result"
    [row] = as_user(db, people["admin"], many, (tenant.id, [ids[0], ids[3], 9_000_000_000_000]))
    assert row["result"] == {"taken": 1, "refused": {"not_dead_lettered": 1, "not_found": 1}}
    by_filter = "select public.replay_inbound_events(%s, p_provider => 'mews', p_limit => 1) as result"
    [row] = as_user(db, people["admin"], by_filter, (tenant.id,))
    assert row["result"] == {"taken": 1, "refused": {"over_limit": 1}}
    left = db.execute("select count(*) from public.inbound_events where status = 'dead'").fetchone()
    assert left == (1,)


# ---- finding reservations ------------------------------------------------------------------------------
def test_search_by_name_phone_pms_id_and_dates_with_the_timeline(db: Conn, factory: Factory) -> None:
    tenant, people = planned_hotel(db, factory)
    other = factory.tenant("Other hotel")
    factory.reservation(other, guest={"full_name": "Ada Lovelace", "phone": "+4915100000001"})
    guests = [
        ("Ada Lovelace", "+4915111110001", "APX-1001", "2099-03-01"),
        ("Grace Hopper", "+4915111110002", "APX-1002", "2099-03-05"),
        ("Alan Turing", "+4930222220003", "MEWS-77", "2099-04-01"),
    ]
    for name, phone, pms_id, arrival in guests:
        factory.reservation(
            tenant,
            pms_reservation_id=pms_id,
            arrival_date=arrival,
            departure_date=arrival[:-2] + "20",
            guest={"full_name": name, "phone": phone},
        )

    def search(user: uuid.UUID, *args: Any, **named: Any) -> list[dict[str, Any]]:
        params = ", ".join(["%s"] * (1 + len(args)) + [f"{k} => %s" for k in named])
        return as_user(
            db, user, f"select * from public.search_reservations({params})", (tenant.id, *args, *named.values())
        )

    def found(rows: list[dict[str, Any]]) -> list[str]:
        return [r["pms_reservation_id"] for r in rows]

    staff = people["staff"]
    assert found(search(staff, "lovelace")) == ["APX-1001"]
    assert found(search(staff, "GRACE hop")) == ["APX-1002"]
    assert found(search(staff, "+49 151 1111")) == ["APX-1002", "APX-1001"]
    assert found(search(staff, "030-2222")) == ["MEWS-77"], "a number typed with its trunk prefix"
    assert found(search(staff, "apx-")) == ["APX-1002", "APX-1001"]
    assert found(search(staff, "100%")) == [], "a % in the search is a character, not a wildcard"
    assert found(search(staff, None, "2099-03-02", "2099-04-30")) == ["MEWS-77", "APX-1002"]
    assert found(search(staff, p_limit=2)) == ["MEWS-77", "APX-1002"]
    assert found(search(staff, p_limit=2, p_offset=2)) == ["APX-1001"]

    [ada] = search(staff, "Ada")
    assert (ada["guest_name"], ada["guest_phone"], ada["whatsapp_opt_in"]) == ("Ada Lovelace", "+4915111110001", True)
    assert [(m["template_key"], m["status"]) for m in ada["messages"]] == [("welcome", "scheduled")]

    outsider = factory.member(other, "owner")
    assert search(outsider, "Ada") == [], "another hotel's member found this hotel's guest"
    assert refusal(db, staff, "select * from public.search_reservations(%s, 'x')", (tenant.id,))[0] == "22023"


# ---- the new tables, written only through the RPCs -------------------------------------------------
@pytest.mark.parametrize("actor", ["owner", "admin", "staff", "outsider", "anon"])
def test_invitations_and_consent_history_are_read_only_and_stay_in_their_tenant(
    db: Conn, factory: Factory, actor: str
) -> None:
    tenant, people = planned_hotel(db, factory)
    other = factory.tenant("Other hotel")
    people["outsider"] = factory.member(other, "owner")
    reservation = factory.reservation(tenant)
    guest = guest_of(db, reservation)
    as_user(db, people["owner"], "select public.invite_member(%s, 'x@example.com')", (tenant.id,))
    as_user(db, people["staff"], "select public.set_guest_opt_in(%s, false, 'asked')", (guest,))
    user = people.get(actor)

    writes = [
        (
            "insert into public.tenant_invitations (tenant_id, email, token_hash, expires_at)"
            " values (%s, 'y@example.com', '\\x00', now() + interval '1 day')",
            (tenant.id,),
        ),
        ("update public.tenant_invitations set role = 'owner' where tenant_id = %s", (tenant.id,)),
        ("delete from public.tenant_invitations where tenant_id = %s", (tenant.id,)),
        (
            "insert into public.guest_consent_changes (tenant_id, guest_id, whatsapp_opt_in, source)"
            " values (%s, %s, true, 'member')",
            (tenant.id, guest),
        ),
        ("update public.guest_consent_changes set reason = 'forged' where tenant_id = %s", (tenant.id,)),
        ("delete from public.guest_consent_changes where tenant_id = %s", (tenant.id,)),
    ]
    for sql, params in writes:
        assert refusal(db, user, sql, params)[0] == "42501", f"{actor} could run: {sql}"

    if actor == "anon":
        assert refusal(db, user, "select 1 from public.guest_consent_changes")[0] == "42501"
        return
    invitations = as_user(db, user, "select tenant_id from public.tenant_invitations")
    consent = as_user(db, user, "select tenant_id from public.guest_consent_changes")
    assert {r["tenant_id"] for r in invitations} == ({tenant.id} if actor in ("owner", "admin") else set())
    assert {r["tenant_id"] for r in consent} == ({tenant.id} if actor != "outsider" else set())
