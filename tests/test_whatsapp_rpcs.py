"""The WhatsApp screen's tenant RPCs, run as PostgREST runs them: pacing between sends (owners
and admins, refused with a readable reason) and who paused sending (every member sees it)."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from tests.factories import Factory
from tests.test_tenant_staff_rpcs import as_user, refusal, team

Conn = psycopg.Connection[Any]

PACING = "select public.set_waha_pacing(%s, %s, %s)"


def pacing(db: Conn, tenant_id: uuid.UUID) -> tuple[int, int]:
    row = db.execute(
        "select send_gap_min_ms, send_gap_max_ms from public.waha_configurations where tenant_id = %s", (tenant_id,)
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_owners_and_admins_set_the_pacing_within_readable_limits(db: Conn, factory: Factory) -> None:
    tenant = factory.tenant()
    people = team(factory, tenant)
    factory.waha_configuration(tenant)

    as_user(db, people["admin"], PACING, (tenant.id, 2000, 5000))
    assert pacing(db, tenant.id) == (2000, 5000)
    as_user(db, people["owner"], PACING, (tenant.id, 0, 0))
    assert pacing(db, tenant.id) == (0, 0)

    # Each broken rule says which, in words and as a code the dashboard translates.
    for low, high, detail in [
        (5000, 2000, "pacing_max_below_min"),
        (-1, 2000, "pacing_negative"),
        (1000, 600_001, "pacing_too_long"),
        (None, 2000, "pacing_missing"),
    ]:
        code, message, said = refusal(db, people["owner"], PACING, (tenant.id, low, high))
        assert (code, said) == ("22023", detail)
        assert "gap" in message
    assert pacing(db, tenant.id) == (0, 0)

    # Front desk staff, strangers and hotels without WhatsApp get the one answer.
    other = factory.tenant()
    stranger = team(factory, other)["owner"]
    assert refusal(db, people["staff"], PACING, (tenant.id, 1000, 2000))[0] == "PT404"
    assert refusal(db, stranger, PACING, (tenant.id, 1000, 2000))[0] == "PT404"
    assert refusal(db, stranger, PACING, (other.id, 1000, 2000))[0] == "PT404"
    assert refusal(db, None, PACING, (tenant.id, 1000, 2000))[0] == "42501"
    assert pacing(db, tenant.id) == (0, 0)


def test_every_member_sees_who_paused_sending_when_and_why(db: Conn, factory: Factory) -> None:
    tenant = factory.tenant()
    people = team(factory, tenant)
    factory.waha_configuration(tenant)
    hold = "select reason, held_by_email, held_at is not null as held from public.sending_hold(%s)"
    assert as_user(db, people["staff"], hold, (tenant.id,)) == []

    as_user(db, people["admin"], "select public.pause_tenant_sends(%s, ' new templates being checked ')", (tenant.id,))
    [email] = db.execute("select email from auth.users where id = %s", (people["admin"],)).fetchone() or [None]
    expected = [{"reason": "new templates being checked", "held_by_email": email, "held": True}]
    for role in ("staff", "admin", "owner"):
        assert as_user(db, people[role], hold, (tenant.id,)) == expected

    stranger = team(factory, factory.tenant())["owner"]
    assert refusal(db, stranger, hold, (tenant.id,))[0] == "PT404"

    as_user(db, people["owner"], "select public.resume_tenant_sends(%s)", (tenant.id,))
    assert as_user(db, people["staff"], hold, (tenant.id,)) == []
