"""Tenant isolation, role by table by command, as PostgREST applies it.

Two tenants, A and B, each with one row in every table. A user of each role acts on A's rows;
the matrix below says who may do what. "Denied" means an error (no privilege, or the RLS
check on a new row) or zero rows touched, and in both cases nothing changed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from tests.factories import Factory, Tenant, acting_as

MEMBERS = {"owner", "admin", "staff"}
ADMINS = {"owner", "admin"}
NOBODY: set[str] = set()
ACTORS = ["owner", "admin", "staff", "outsider", "anon"]


@dataclass(frozen=True)
class TableCase:
    table: str
    insert: str
    update: str
    delete: str
    writers_insert: set[str]
    writers_update: set[str]
    writers_delete: set[str]
    prepare_insert: str = ""
    tenant_column: str = "tenant_id"


CASES = [
    TableCase(
        "tenants",
        insert="insert into public.tenants (name) values ('New hotel')",
        update="update public.tenants set name = 'Renamed' where id = %(a)s",
        delete="delete from public.tenants where id = %(a)s",
        writers_insert=NOBODY,
        writers_update=ADMINS,
        writers_delete=NOBODY,
        tenant_column="id",
    ),
    TableCase(
        "tenant_members",
        insert="insert into public.tenant_members (tenant_id, user_id, role) values (%(a)s, %(spare_user)s, 'staff')",
        update="update public.tenant_members set role = 'admin' where tenant_id = %(a)s and user_id = %(staff2)s",
        delete="delete from public.tenant_members where tenant_id = %(a)s and user_id = %(staff2)s",
        writers_insert={"owner"},
        writers_update={"owner"},
        writers_delete={"owner"},
    ),
    TableCase(
        "properties",
        insert="insert into public.properties (tenant_id, name, timezone) values (%(a)s, 'Annex', 'UTC')",
        update="update public.properties set name = 'Renamed' where id = %(a_property)s",
        delete="delete from public.properties where id = %(a_property)s",
        writers_insert=ADMINS,
        writers_update=ADMINS,
        writers_delete=ADMINS,
    ),
    TableCase(
        "pms_configurations",
        insert="insert into public.pms_configurations (tenant_id, provider) values (%(a)s, 'mews')",
        update="update public.pms_configurations set is_active = false where tenant_id = %(a)s",
        delete="delete from public.pms_configurations where tenant_id = %(a)s",
        writers_insert=ADMINS,
        writers_update=ADMINS,
        writers_delete=ADMINS,
    ),
    TableCase(
        "waha_configurations",
        prepare_insert="delete from public.waha_configurations where tenant_id = %(a)s",
        insert="insert into public.waha_configurations (tenant_id, base_url) values (%(a)s, 'http://waha:3000')",
        update="update public.waha_configurations set base_url = 'http://other:3000' where tenant_id = %(a)s",
        delete="delete from public.waha_configurations where tenant_id = %(a)s",
        writers_insert=ADMINS,
        writers_update=ADMINS,
        writers_delete=ADMINS,
    ),
    TableCase(
        "guests",
        insert="insert into public.guests (tenant_id, full_name) values (%(a)s, 'Walk-in')",
        update="update public.guests set full_name = 'Fixed' where tenant_id = %(a)s",
        delete="delete from public.guests where id = %(a_spare_guest)s",
        writers_insert=MEMBERS,
        writers_update=MEMBERS,
        writers_delete=ADMINS,
    ),
    TableCase(
        "reservations",
        insert="insert into public.reservations (tenant_id, property_id, provider, pms_reservation_id, status,"
        " arrival_date, departure_date, pms_updated_at)"
        " values (%(a)s, %(a_property)s, 'generic', 'MANUAL-1', 'confirmed', '2027-01-01', '2027-01-02', now())",
        update="update public.reservations set room_label = '101' where tenant_id = %(a)s",
        delete="delete from public.reservations where tenant_id = %(a)s",
        writers_insert=ADMINS,
        writers_update=ADMINS,
        writers_delete=ADMINS,
    ),
    TableCase(
        "inbound_events",
        insert="insert into public.inbound_events (tenant_id, source, provider, event_id, event_type, payload)"
        " values (%(a)s, 'pms', 'generic', 'forged', 'reservation.created', '{}')",
        update="update public.inbound_events set event_type = 'x' where tenant_id = %(a)s",
        delete="delete from public.inbound_events where tenant_id = %(a)s",
        writers_insert=NOBODY,
        writers_update=NOBODY,
        writers_delete=NOBODY,
    ),
    TableCase(
        "sync_jobs",
        insert="insert into public.sync_jobs (tenant_id, pms_configuration_id, kind, trigger)"
        " values (%(a)s, %(a_pms)s, 'full', 'manual')",
        update="update public.sync_jobs set error = 'x' where tenant_id = %(a)s",
        delete="delete from public.sync_jobs where tenant_id = %(a)s",
        writers_insert=NOBODY,
        writers_update=NOBODY,
        writers_delete=NOBODY,
    ),
    TableCase(
        "message_templates",
        insert="insert into public.message_templates (tenant_id, key, language, body)"
        " values (%(a)s, 'welcome', 'fr', 'Bienvenue {{guest_name}}')",
        update="update public.message_templates set body = 'Hi {{guest_name}}' where tenant_id = %(a)s",
        delete="delete from public.message_templates where tenant_id = %(a)s",
        writers_insert=ADMINS,
        writers_update=ADMINS,
        writers_delete=ADMINS,
    ),
    TableCase(
        "automation_rules",
        insert="insert into public.automation_rules (tenant_id, name, trigger, template_key)"
        " values (%(a)s, 'Extra', 'arrival_day', 'welcome')",
        update="update public.automation_rules set is_active = false where tenant_id = %(a)s",
        delete="delete from public.automation_rules where tenant_id = %(a)s",
        writers_insert=ADMINS,
        writers_update=ADMINS,
        writers_delete=ADMINS,
    ),
    TableCase(
        "message_logs",
        insert="insert into public.message_logs (tenant_id, template_key, dedupe_key)"
        " values (%(a)s, 'welcome', 'forged')",
        update="update public.message_logs set last_error = 'x' where tenant_id = %(a)s",
        delete="delete from public.message_logs where tenant_id = %(a)s",
        writers_insert=NOBODY,
        writers_update=NOBODY,
        writers_delete=NOBODY,
    ),
    # The inbox: members read it; every change goes through the RPCs (tests/test_conversations.py).
    TableCase(
        "conversations",
        insert="insert into public.conversations (tenant_id, waha_session, chat_id)"
        " values (%(a)s, 'default', 'x@c.us')",
        update="update public.conversations set status = 'closed' where tenant_id = %(a)s",
        delete="delete from public.conversations where tenant_id = %(a)s",
        writers_insert=NOBODY,
        writers_update=NOBODY,
        writers_delete=NOBODY,
    ),
    TableCase(
        "conversation_messages",
        insert="insert into public.conversation_messages (tenant_id, conversation_id, direction, sender, waha_session)"
        " select tenant_id, id, 'inbound', 'guest', 'default' from public.conversations where tenant_id = %(a)s",
        update="update public.conversation_messages set body = 'forged' where tenant_id = %(a)s",
        delete="delete from public.conversation_messages where tenant_id = %(a)s",
        writers_insert=NOBODY,
        writers_update=NOBODY,
        writers_delete=NOBODY,
    ),
    TableCase(
        "conversation_notes",
        insert="insert into public.conversation_notes (tenant_id, conversation_id, body)"
        " select tenant_id, id, 'forged' from public.conversations where tenant_id = %(a)s",
        update="update public.conversation_notes set body = 'forged' where tenant_id = %(a)s",
        delete="delete from public.conversation_notes where tenant_id = %(a)s",
        writers_insert=NOBODY,
        writers_update=NOBODY,
        writers_delete=NOBODY,
    ),
]


def _seed_tenant(factory: Factory, name: str, phone: str) -> tuple[Tenant, dict[str, Any]]:
    tenant = factory.tenant(name)
    db = factory.conn
    ids: dict[str, Any] = {"owner": factory.member(tenant, "owner")}
    ids["admin"] = factory.member(tenant, "admin")
    ids["staff"] = factory.member(tenant, "staff")
    ids["staff2"] = factory.member(tenant, "staff")
    ids["pms"] = factory.pms_configuration(tenant)
    factory.waha_configuration(tenant)
    factory.reservation(tenant, guest={"full_name": "Guest", "phone": phone})
    spare = db.execute(
        "insert into public.guests (tenant_id, full_name) values (%s, 'Spare') returning id", (tenant.id,)
    ).fetchone()
    assert spare is not None
    ids["spare_guest"] = spare[0]
    db.execute(
        "select internal.ingest_inbound_events_v1(%s, 'pms', 'generic',"
        ' \'[{"event_id": "e1", "event_type": "reservation.created", "payload": {}}]\')',
        (tenant.id,),
    )
    db.execute("select internal.enqueue_sync_v1(%s, 'full', 'initial')", (ids["pms"],))
    db.execute(
        "insert into public.message_templates (tenant_id, key, language, body)"
        " values (%s, 'welcome', 'en', 'Welcome {{guest_name}}')",
        (tenant.id,),
    )
    db.execute(
        "insert into public.automation_rules (tenant_id, name, trigger, template_key)"
        " values (%s, 'Welcome', 'arrival_day', 'welcome')",
        (tenant.id,),
    )
    factory.message(tenant)
    row = db.execute(
        "select conversation_id from internal.record_conversation_message_v1("
        " %s, 'default', %s, %s, false, now(), 'Hi')",
        (tenant.id, phone.removeprefix("+") + "@c.us", f"false_{name}_KEY"),
    ).fetchone()
    assert row is not None
    db.execute(
        "insert into public.conversation_notes (tenant_id, conversation_id, body) values (%s, %s, 'VIP')",
        (tenant.id, row[0]),
    )
    return tenant, ids


@pytest.fixture(scope="module")
def world(database_url: str) -> dict[str, Any]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "truncate public.tenants, auth.users restart identity cascade",
        )
        factory = Factory(conn)
        a, a_ids = _seed_tenant(factory, "Hotel A", "+4915111111111")
        b, b_ids = _seed_tenant(factory, "Hotel B", "+4915122222222")
        return {
            "a": a.id,
            "b": b.id,
            "a_property": a.property_id,
            "a_pms": a_ids["pms"],
            "a_spare_guest": a_ids["spare_guest"],
            "staff2": a_ids["staff2"],
            "spare_user": factory.user(),
            "users": {**{k: a_ids[k] for k in ("owner", "admin", "staff")}, "outsider": b_ids["owner"]},
        }


@pytest.fixture
def conn(database_url: str, world: dict[str, Any]) -> Any:
    with psycopg.connect(database_url) as connection:
        yield connection


def _act(conn: psycopg.Connection[Any], world: dict[str, Any], actor: str, sql: str, prepare: str = "") -> str:
    """Runs `sql` as the actor in a rolled-back transaction: 'allowed' or 'denied'."""
    user: uuid.UUID | None = None if actor == "anon" else world["users"][actor]
    role = "anon" if actor == "anon" else "authenticated"
    params = {k: v for k, v in world.items() if k != "users"}
    try:
        with conn.transaction(force_rollback=True):
            if prepare:
                conn.execute(prepare, params)
            with acting_as(conn, user, role) as cur:
                cur.execute(sql, params)
                return "allowed" if cur.rowcount > 0 else "denied"
    except psycopg.errors.InsufficientPrivilege as exc:
        # Refusals come from table grants or RLS; a missing grant on a helper function is a bug.
        assert "permission denied for function" not in str(exc), str(exc)
        return "denied"


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.table)
def test_select_sees_only_own_tenant(conn: Any, world: dict[str, Any], case: TableCase, actor: str) -> None:
    user = None if actor == "anon" else world["users"][actor]
    role = "anon" if actor == "anon" else "authenticated"
    try:
        with acting_as(conn, user, role) as cur:
            cur.execute(f"select {case.tenant_column} as tenant from public.{case.table}")
            tenants = {row["tenant"] for row in cur.fetchall()}
    except psycopg.errors.InsufficientPrivilege:
        assert actor == "anon", f"{actor} was refused reading {case.table}"
        return
    assert actor != "anon", f"anon could read {case.table}"
    expected = {world["a"]} if actor in MEMBERS else {world["b"]}
    assert tenants == expected


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("command", ["insert", "update", "delete"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.table)
def test_write_rights(conn: Any, world: dict[str, Any], case: TableCase, command: str, actor: str) -> None:
    writers: set[str] = getattr(case, f"writers_{command}")
    prepare = case.prepare_insert if command == "insert" else ""
    outcome = _act(conn, world, actor, getattr(case, command), prepare)
    assert outcome == ("allowed" if actor in writers else "denied")


@pytest.mark.parametrize("actor", ["owner", "admin", "staff"])
@pytest.mark.parametrize("case", [c for c in CASES if c.table != "tenants"], ids=lambda c: c.table)
def test_no_row_moves_to_another_tenant(conn: Any, world: dict[str, Any], case: TableCase, actor: str) -> None:
    """Even someone allowed to update a table cannot move A's row into tenant B."""
    sql = f"update public.{case.table} set tenant_id = %(b)s where tenant_id = %(a)s"
    try:
        outcome = _act(conn, world, actor, sql)
    except psycopg.errors.CheckViolation:
        outcome = "denied"
    assert outcome == "denied"
