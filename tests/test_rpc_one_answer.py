"""One answer for "doesn't exist" and "not yours", for every tenant RPC that takes an id.

Two tenants, A and B. Each actor calls each RPC, as PostgREST would (`set local role` and
`request.jwt.claims`), with an id that does not exist, an id of the other tenant's row and an
id of its own tenant's row. The answers (SQLSTATE and message, or the rows returned) for a
missing id and another tenant's id must be the same; for a caller without the right role, its
own tenant's id must get that same answer too. Nothing is kept (every call is rolled back).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from tests.factories import Factory, acting_as

ACTORS = ["owner", "admin", "staff", "outsider", "anon"]
ADMINS = {"owner", "admin"}
MEMBERS = {"owner", "admin", "staff"}
MISSING_BIGINT = 9_000_000_000_000


@dataclass(frozen=True)
class RpcCase:
    name: str
    # The call, with %(...)s placeholders filled from the target's ids.
    sql: str
    # Roles of the row's tenant that may call it.
    allowed: set[str]


CASES = [
    RpcCase("set_pms_credentials", """select public.set_pms_credentials(%(pms)s, '{"api_key": "x"}')""", ADMINS),
    RpcCase(
        "set_pms_webhook_secret",
        "select public.set_pms_webhook_secret(%(pms)s, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')",
        ADMINS,
    ),
    RpcCase("rotate_pms_webhook_secret", "select public.rotate_pms_webhook_secret(%(pms)s) is not null", ADMINS),
    RpcCase("set_waha_api_key", "select public.set_waha_api_key(%(waha)s, 'key')", ADMINS),
    RpcCase("request_sync", "select public.request_sync(%(pms)s) is not null", ADMINS),
    RpcCase("replay_inbound_event", "select public.replay_inbound_event(%(event)s)", ADMINS),
    RpcCase("resend_message", "select public.resend_message(%(message)s)", ADMINS),
    RpcCase(
        "invite_member", "select token is not null from public.invite_member(%(tenant)s, 'new@example.com')", ADMINS
    ),
    RpcCase("revoke_invitation", "select public.revoke_invitation(%(invitation)s)", ADMINS),
    RpcCase("change_member_role", "select public.change_member_role(%(tenant)s, %(member)s, 'admin')", ADMINS),
    RpcCase("remove_member", "select public.remove_member(%(tenant)s, %(member)s)", ADMINS),
    RpcCase("pause_tenant_sends", "select public.pause_tenant_sends(%(tenant)s, 'checking the templates')", ADMINS),
    RpcCase("resume_tenant_sends", "select public.resume_tenant_sends(%(tenant)s)", ADMINS),
    RpcCase("set_guest_opt_in", "select public.set_guest_opt_in(%(guest)s, false, 'asked at the desk')", MEMBERS),
    RpcCase("resend_messages", "select public.resend_messages(%(tenant)s)", ADMINS),
    RpcCase("resend_messages", "select public.resend_messages(%(tenant)s, array[%(message)s]::bigint[])", ADMINS),
    RpcCase("replay_inbound_events", "select public.replay_inbound_events(%(tenant)s)", ADMINS),
    RpcCase(
        "replay_inbound_events", "select public.replay_inbound_events(%(tenant)s, array[%(event)s]::bigint[])", ADMINS
    ),
    RpcCase("search_reservations", "select reservation_id from public.search_reservations(%(tenant)s)", MEMBERS),
    RpcCase(
        "search_reservations", "select reservation_id from public.search_reservations(%(tenant)s, 'Guest')", MEMBERS
    ),
    RpcCase("list_conversations", "select id from public.list_conversations(%(tenant)s, 'all')", MEMBERS),
    RpcCase("inbox_unread_counts", "select * from public.inbox_unread_counts(%(tenant)s)", MEMBERS),
    RpcCase("inbox_assignees", "select user_id from public.inbox_assignees(%(tenant)s)", MEMBERS),
    RpcCase("mark_conversation_read", "select public.mark_conversation_read(%(conversation)s)", MEMBERS),
    RpcCase("set_conversation_status", "select public.set_conversation_status(%(conversation)s, 'closed')", MEMBERS),
    RpcCase("assign_conversation", "select public.assign_conversation(%(conversation)s, null)", MEMBERS),
    RpcCase("add_conversation_note", "select public.add_conversation_note(%(conversation)s, 'VIP') > 0", MEMBERS),
    RpcCase("link_conversation_guest", "select public.link_conversation_guest(%(conversation)s, %(guest)s)", MEMBERS),
    RpcCase(
        "conversation_reservations",
        "select reservation_id from public.conversation_reservations(%(conversation)s)",
        MEMBERS,
    ),
    RpcCase(
        "render_reply_template", "select body from public.render_reply_template(%(conversation)s, 'welcome')", MEMBERS
    ),
    RpcCase("send_reply", "select message_log_id > 0 from public.send_reply(%(conversation)s, 'Hello')", MEMBERS),
    RpcCase("set_inbox_settings", "select public.set_inbox_settings(%(tenant)s, true)", ADMINS),
    RpcCase(
        "preview_template", "select public.preview_template(%(reservation)s, 'Hi {{guest_name}}') ->> 'text'", MEMBERS
    ),
    RpcCase("team_members", "select user_id from public.team_members(%(tenant)s)", ADMINS),
    RpcCase("set_waha_pacing", "select public.set_waha_pacing(%(tenant)s, 1000, 5000)", ADMINS),
    RpcCase("sending_hold", "select * from public.sending_hold(%(tenant)s)", MEMBERS),
    RpcCase(
        "tenant_metrics_series",
        "select distinct tenant_id from metrics.tenant_metrics_series(now() - interval '1 day', now(),"
        " interval '1 hour', 'Europe/Berlin', %(tenant)s)",
        MEMBERS,
    ),
    RpcCase(
        "tenant_metrics",
        "select tenant_id, messages_sent from metrics.tenant_metrics(now() - interval '1 day', now(), %(tenant)s)",
        MEMBERS,
    ),
]

# RPCs that take no id of a row: nothing to probe.
WITHOUT_IDS = {"create_tenant", "accept_invitation", "check_template"}


def _seed(factory: Factory, name: str, phone: str) -> dict[str, Any]:
    db = factory.conn
    tenant = factory.tenant(name)
    ids: dict[str, Any] = {"tenant": tenant.id}
    for role in ("owner", "admin", "staff"):
        ids[role] = factory.member(tenant, role)
    ids["member"] = factory.member(tenant, "staff")
    ids["pms"] = factory.pms_configuration(tenant)
    ids["waha"] = factory.waha_configuration(tenant)
    reservation = factory.reservation(tenant, guest={"full_name": "Guest", "phone": phone})
    ids["reservation"] = reservation
    row = db.execute("select guest_id from public.reservations where id = %s", (reservation,)).fetchone()
    assert row is not None
    ids["guest"] = row[0]
    ids["message"] = factory.message(tenant, status="dead", to_phone=phone)
    row = db.execute(
        "select id from internal.ingest_inbound_events_v1(%s, 'pms', 'generic', %s::jsonb)",
        (tenant.id, json.dumps([{"event_id": f"{name}-1", "event_type": "x", "payload": {}}])),
    ).fetchone()
    assert row is not None
    ids["event"] = row[0]
    db.execute(
        "update public.inbound_events set status = 'processing', lease_owner = 'w', lease_expires_at = now()"
        " where id = %s",
        (ids["event"],),
    )
    db.execute(
        "update public.inbound_events set status = 'dead', lease_owner = null, lease_expires_at = null where id = %s",
        (ids["event"],),
    )
    db.execute(
        "insert into public.message_templates (tenant_id, key, language, body) values (%s, 'welcome', 'en', 'Hi')",
        (tenant.id,),
    )
    row = db.execute(
        "select conversation_id from internal.record_conversation_message_v1("
        " %s, 'default', %s, %s, false, now(), 'Hi')",
        (tenant.id, phone.removeprefix("+") + "@c.us", f"false_{name}_KEY"),
    ).fetchone()
    assert row is not None
    ids["conversation"] = row[0]
    row = db.execute(
        "select invitation_id from public.invite_member(%s, %s)", (tenant.id, f"{name}@example.com")
    ).fetchone()
    assert row is not None
    ids["invitation"] = row[0]
    return ids


@pytest.fixture(scope="module")
def world(database_url: str) -> dict[str, Any]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("truncate public.tenants, auth.users restart identity cascade")
        factory = Factory(conn)
        a = _seed(factory, "hotel-a", "+4915111111111")
        b = _seed(factory, "hotel-b", "+4915122222222")
    missing = {
        "tenant": uuid.uuid4(),
        "member": uuid.uuid4(),
        "pms": uuid.uuid4(),
        "waha": uuid.uuid4(),
        "guest": uuid.uuid4(),
        "reservation": uuid.uuid4(),
        "invitation": uuid.uuid4(),
        "conversation": uuid.uuid4(),
        "message": MISSING_BIGINT,
        "event": MISSING_BIGINT,
    }
    return {"a": a, "b": b, "missing": missing}


@pytest.fixture
def conn(database_url: str, world: dict[str, Any]) -> Any:
    with psycopg.connect(database_url) as connection:
        yield connection


def _answer(conn: psycopg.Connection[Any], user: uuid.UUID | None, sql: str, ids: dict[str, Any]) -> tuple[str, str]:
    role = "anon" if user is None else "authenticated"
    try:
        with acting_as(conn, user, role) as cur:
            cur.execute(sql, ids)
            return ("rows", repr(cur.fetchall()))
    except psycopg.errors.Error as exc:
        return (str(exc.sqlstate), exc.diag.message_primary or "")


def _targets(world: dict[str, Any], actor: str) -> tuple[uuid.UUID | None, dict[str, Any], dict[str, Any]]:
    """The actor's user id, its own tenant's ids and the other tenant's ids."""
    if actor == "anon":
        return None, world["a"], world["b"]
    if actor == "outsider":
        return world["b"]["owner"], world["b"], world["a"]
    return world["a"][actor], world["a"], world["b"]


def _with_missing(world: dict[str, Any], own: dict[str, Any], pick: Callable[[str], bool]) -> dict[str, Any]:
    return {k: (world["missing"][k] if k in world["missing"] and pick(k) else v) for k, v in own.items()}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_missing_and_foreign_ids_get_one_answer(conn: Any, world: dict[str, Any], case: RpcCase, actor: str) -> None:
    user, own, foreign = _targets(world, actor)
    missing = _with_missing(world, own, lambda _: True)
    # A missing member of the caller's own tenant (the tenant exists, the user is not in it).
    missing_member = _with_missing(world, own, lambda k: k == "member")

    for_missing = _answer(conn, user, case.sql, missing)
    for_foreign = _answer(conn, user, case.sql, foreign)
    assert for_foreign == for_missing, f"{case.name}: another tenant's id answered differently from a missing one"
    if "%(member)s" in case.sql:
        assert _answer(conn, user, case.sql, missing_member) == for_missing

    # The outsider owns tenant B, its own tenant here.
    role_in_own_tenant = "owner" if actor == "outsider" else actor
    if role_in_own_tenant not in case.allowed:
        assert _answer(conn, user, case.sql, own) == for_missing, (
            f"{case.name}: {actor} without the right learnt that its tenant's row exists"
        )
    # The one answer refuses and names no tenant.
    code, text = for_missing
    for ids in (world["a"], world["b"]):
        assert str(ids["tenant"]) not in text
    if actor == "anon":
        assert code == "42501" and text.startswith(("permission denied for function", "permission denied for schema"))
    elif code == "rows":
        assert text == "[]", f"{case.name} returned rows for an id that is not the caller's"
    else:
        assert code == "PT404" and text.endswith("not found or not accessible"), (code, text)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_allowed_callers_reach_their_own_rows(conn: Any, world: dict[str, Any], case: RpcCase) -> None:
    """The cases above really address rows: with the right role, the call gets through."""
    for actor in case.allowed:
        user, own, _ = _targets(world, actor)
        code, text = _answer(conn, user, case.sql, own)
        assert code == "rows", f"{case.name} as {actor}: {code} {text}"


def test_every_tenant_rpc_that_takes_an_id_is_covered(database_url: str) -> None:
    """A new RPC granted to signed-in users must be added above (or to WITHOUT_IDS)."""
    with psycopg.connect(database_url) as conn:
        names = {
            row[0]
            for row in conn.execute(
                "select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
                " where n.nspname in ('public', 'metrics') and p.prokind = 'f'"
                " and has_function_privilege('authenticated', p.oid, 'execute')"
            ).fetchall()
        }
    assert names == {c.name for c in CASES} | WITHOUT_IDS


def test_an_invitation_token_of_someone_else_answers_like_a_wrong_one(
    conn: Any, world: dict[str, Any], database_url: str
) -> None:
    with psycopg.connect(database_url, autocommit=True) as admin:
        row = admin.execute(
            "select token from public.invite_member(%s, 'someone-else@example.com')", (world["a"]["tenant"],)
        ).fetchone()
        assert row is not None
        token = row[0]
    try:
        outsider = world["b"]["owner"]
        sql = "select public.accept_invitation(%(token)s)"
        assert _answer(conn, outsider, sql, {"token": token}) == _answer(conn, outsider, sql, {"token": "nonsense"})
        assert _answer(conn, outsider, sql, {"token": token})[0] == "PT404"
    finally:
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute("delete from public.tenant_invitations where email = 'someone-else@example.com'")
