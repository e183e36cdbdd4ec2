"""The team screen's list (public.team_members): owners and admins see their own tenant's members
with e-mail addresses; staff and outsiders get the one answer for "not yours"."""

from __future__ import annotations

import psycopg

from tests.factories import Factory
from tests.test_tenant_staff_rpcs import as_user, refusal, team

Conn = psycopg.Connection[object]


def test_owners_and_admins_list_their_team_with_addresses_and_nobody_else_does(db: Conn, factory: Factory) -> None:
    tenant, other = factory.tenant(), factory.tenant()
    people = team(factory, tenant)
    outsider = factory.member(other, "owner")
    sql = "select email, role::text, is_me from public.team_members(%s)"

    listed = as_user(db, people["admin"], sql, (tenant.id,))
    assert [row["role"] for row in listed] == ["owner", "admin", "staff"]
    assert [row["is_me"] for row in listed] == [False, True, False]
    assert all("@" in row["email"] for row in listed)
    assert as_user(db, people["owner"], sql, (tenant.id,)) == [{**r, "is_me": r["role"] == "owner"} for r in listed]

    # Staff, an owner of another tenant and a made-up tenant all get the same answer.
    answers = {refusal(db, people["staff"], sql, (tenant.id,))[:2], refusal(db, outsider, sql, (tenant.id,))[:2]}
    answers.add(refusal(db, outsider, sql, ("00000000-0000-0000-0000-000000000000",))[:2])
    assert answers == {("PT404", "tenant not found or not accessible")}
