"""Test data made through the same tables and functions the product uses."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row


@dataclass
class Tenant:
    id: uuid.UUID
    webhook_key: str
    property_id: uuid.UUID


class Factory:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def user(self, email: str | None = None) -> uuid.UUID:
        user_id = uuid.uuid4()
        self.conn.execute(
            "insert into auth.users (id, email, role, aud) values (%s, %s, 'authenticated', 'authenticated')",
            (user_id, email or f"{user_id}@example.com"),
        )
        return user_id

    def tenant(
        self, name: str = "Hotel Test", timezone: str = "Europe/Berlin", pms_property_id: str = "PROP-1"
    ) -> Tenant:
        row = self.conn.execute(
            "insert into public.tenants (name) values (%s) returning id, webhook_key", (name,)
        ).fetchone()
        assert row is not None
        tenant_id, webhook_key = row
        prop = self.conn.execute(
            "insert into public.properties (tenant_id, name, timezone, pms_property_id)"
            " values (%s, %s, %s, %s) returning id",
            (tenant_id, f"{name} Main", timezone, pms_property_id),
        ).fetchone()
        assert prop is not None
        return Tenant(id=tenant_id, webhook_key=webhook_key, property_id=prop[0])

    def member(self, tenant: Tenant, role: str) -> uuid.UUID:
        user_id = self.user()
        self.conn.execute(
            "insert into public.tenant_members (tenant_id, user_id, role) values (%s, %s, %s)",
            (tenant.id, user_id, role),
        )
        return user_id

    def pms_configuration(
        self, tenant: Tenant, provider: str = "generic", auth_scheme: str = "standard_webhooks", **extra: Any
    ) -> uuid.UUID:
        columns = {"tenant_id": tenant.id, "provider": provider, "auth_scheme": auth_scheme, **extra}
        names = ", ".join(columns)
        marks = ", ".join(["%s"] * len(columns))
        row = self.conn.execute(
            f"insert into public.pms_configurations ({names}) values ({marks}) returning id",
            list(columns.values()),
        ).fetchone()
        assert row is not None
        return uuid.UUID(str(row[0]))

    def waha_configuration(
        self, tenant: Tenant, base_url: str = "http://127.0.0.1:9", status: str = "WORKING"
    ) -> uuid.UUID:
        row = self.conn.execute(
            "insert into public.waha_configurations (tenant_id, base_url, session_status)"
            " values (%s, %s, %s) returning id",
            (tenant.id, base_url, status),
        ).fetchone()
        assert row is not None
        return uuid.UUID(str(row[0]))

    def reservation(self, tenant: Tenant, **overrides: Any) -> uuid.UUID:
        body: dict[str, Any] = {
            "provider": "generic",
            "pms_reservation_id": f"R-{uuid.uuid4().hex[:8]}",
            "pms_property_id": "PROP-1",
            "status": "confirmed",
            "arrival_date": "2026-12-20",
            "departure_date": "2026-12-23",
            "pms_updated_at": "2026-11-26T10:00:00Z",
            "adults": 2,
            "guest": {"full_name": "Ada Lovelace", "phone": "+4915112345678", "language": "de"},
        }
        body.update(overrides)
        row = self.conn.execute(
            "select reservation_id from internal.upsert_reservation_v1(%s, %s::jsonb)",
            (tenant.id, json.dumps(body)),
        ).fetchone()
        assert row is not None
        return uuid.UUID(str(row[0]))

    def message(self, tenant: Tenant, **overrides: Any) -> int:
        columns: dict[str, Any] = {
            "tenant_id": tenant.id,
            "template_key": "booking_confirmation",
            "dedupe_key": f"test:{uuid.uuid4()}",
            "to_phone": "+4915112345678",
            "body": "Hello",
            "status": "queued",
        }
        columns.update(overrides)
        names = ", ".join(columns)
        marks = ", ".join(["%s"] * len(columns))
        row = self.conn.execute(
            f"insert into public.message_logs ({names}) values ({marks}) returning id",
            list(columns.values()),
        ).fetchone()
        assert row is not None
        return int(row[0])


@contextlib.contextmanager
def acting_as(
    conn: psycopg.Connection[Any], user_id: uuid.UUID | None, role: str = "authenticated"
) -> Iterator[psycopg.Cursor[dict[str, Any]]]:
    """A transaction in which `conn` acts as PostgREST would for this user (rolled back)."""
    claims = {"role": role} if user_id is None else {"sub": str(user_id), "role": role}
    with conn.transaction(force_rollback=True), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(f"set local role {role}")
        cur.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
        yield cur


def auth_user(conn: psycopg.Connection[Any], email: str, password: str) -> uuid.UUID:
    """A confirmed user who signs in with `password`, stored as Auth stores one (bcrypt through
    pgcrypto, the e-mail identity, the provider in app_metadata)."""
    user_id = uuid.uuid4()
    conn.execute(
        "insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, "
        "raw_app_meta_data, raw_user_meta_data, created_at, updated_at) values "
        "('00000000-0000-0000-0000-000000000000', %s, 'authenticated', 'authenticated', %s, "
        "extensions.crypt(%s, extensions.gen_salt('bf', 4)), now(), "
        """'{"provider": "email", "providers": ["email"]}', '{}', now(), now())""",
        (user_id, email, password),
    )
    conn.execute(
        "insert into auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at) "
        "values (%s, %s, %s, 'email', now(), now())",
        (str(user_id), user_id, json.dumps({"sub": str(user_id), "email": email})),
    )
    return user_id
