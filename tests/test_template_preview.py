"""The Automations screen's template check and live preview, run as PostgREST runs them.

The preview must read exactly what the planner would send (the same renderer, on a real
reservation of the hotel), the check must be the one a save applies, and an id that is not the
caller's gets the one answer (tests/test_rpc_one_answer.py probes every actor)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.factories import Factory

Conn = psycopg.Connection[Any]


def as_user(db: Conn, user: uuid.UUID, sql: str, params: Any = None) -> Any:
    claims = {"sub": str(user), "role": "authenticated"}
    with psycopg.connect(db.info.dsn, row_factory=dict_row) as conn, conn.transaction():
        conn.execute("set local role authenticated")
        conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
        row = conn.execute(sql, params).fetchone()
        assert row is not None
        return row["answer"]


def test_the_preview_is_what_the_planner_sends(db: Conn, factory: Factory) -> None:
    tenant = factory.tenant("Hotel Spree")
    staff = factory.member(tenant, "staff")
    reservation = factory.reservation(
        tenant, pms_reservation_id="R-77", guest={"full_name": "Ada Lovelace", "phone": "+4915112345678"}
    )
    body = (
        "Hi {{ guest_first_name }}, {{nights}} nights at {{property_name}} from {{arrival_date}} ({{reservation_id}})"
    )
    preview = as_user(db, staff, "select public.preview_template(%s, %s) as answer", (reservation, body))
    assert preview["text"] == "Hi Ada, 3 nights at Hotel Spree Main from 2026-12-20 (R-77)"
    assert preview["unknown"] == [] and preview["unbalanced"] is False

    # The planner's message for a rule with this body reads the same.
    db.execute(
        "insert into public.message_templates (tenant_id, key, language, body) values (%s, 'pre_arrival', 'en', %s)",
        (tenant.id, body),
    )
    db.execute(
        "insert into public.automation_rules (tenant_id, name, trigger, offset_days, template_key)"
        " values (%s, 'pre', 'before_arrival', 2, 'pre_arrival')",
        (tenant.id,),
    )
    row = db.execute(
        "select body from public.message_logs where reservation_id = %s and template_key = 'pre_arrival'",
        (reservation,),
    ).fetchone()
    assert row is not None and row[0] == preview["text"]


def test_the_preview_names_the_language_the_guest_would_get(db: Conn, factory: Factory) -> None:
    tenant = factory.tenant()
    owner = factory.member(tenant, "owner")
    german = factory.reservation(tenant, guest={"full_name": "Ada", "phone": "+4915112345678", "language": "de"})
    db.execute("update public.tenants set default_language = 'fr' where id = %s", (tenant.id,))
    db.execute(
        "insert into public.message_templates (tenant_id, key, language, body)"
        " values (%s, 'welcome', 'en', 'Welcome'), (%s, 'welcome', 'fr', 'Bienvenue')",
        (tenant.id, tenant.id),
    )
    sql = "select public.preview_template(%s, 'x', %s) as answer"
    preview = as_user(db, owner, sql, (german, "welcome"))
    # No German version: the hotel's fallback language, before English.
    assert (preview["guest_language"], preview["language"]) == ("de", "fr")
    assert as_user(db, owner, sql, (german, "nothing_yet"))["language"] is None


def test_unknown_placeholders_are_named_by_the_check_the_save_applies(db: Conn, factory: Factory) -> None:
    tenant = factory.tenant()
    admin = factory.member(tenant, "admin")
    reservation = factory.reservation(tenant)
    body = "Hi {{guest_name}}, room {{ room_number }} {{room_number}} {{Guest}}"
    check = as_user(db, admin, "select public.check_template(%s) as answer", (body,))
    assert check["unknown"] == ["Guest", "room_number"]
    assert "guest_first_name" in check["allowed"]
    preview = as_user(db, admin, "select public.preview_template(%s, %s) as answer", (reservation, body))
    assert preview["text"] is None and preview["unknown"] == ["Guest", "room_number"]
    assert as_user(db, admin, "select public.check_template('Hi {{guest_name}') as answer")["unbalanced"] is True

    # Saving it is refused by the same check, the names in DETAIL for the dashboard.
    with pytest.raises(psycopg.errors.CheckViolation) as caught:
        db.execute(
            "insert into public.message_templates (tenant_id, key, language, body) values (%s, 'welcome', 'en', %s)",
            (tenant.id, body),
        )
    assert caught.value.diag.message_detail == "Guest, room_number"
    assert caught.value.diag.message_primary == "unknown placeholder(s) in template welcome: Guest, room_number"
