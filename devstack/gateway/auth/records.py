"""Auth's records on the database's auth schema, as GoTrue keeps them (internal/models): users
and their JSON, audit-log rows, sessions with their refresh tokens and AMR claims. The actions
build on these: service.py (grants, the signed-in user) and links.py (e-mailed links)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import string
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from devstack.gateway.auth.ratelimit import RateLimiter
from devstack.gateway.auth.tokens import Issuer
from devstack.gateway.config import AuthSettings

Row = dict[str, Any]
Conn = psycopg.AsyncConnection[Row]

REFRESH_ALPHABET = string.ascii_lowercase + string.digits


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_refresh_token() -> str:
    """A refresh token in GoTrue's legacy format: 12 lower-case letters and digits."""
    return "".join(secrets.choice(REFRESH_ALPHABET) for _ in range(12))


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class RequestInfo:
    """What GoTrue takes from the request: the caller's address and user agent, and the origin
    links in e-mails point to (API_EXTERNAL_URL)."""

    ip: str
    user_agent: str
    external_url: str


class Records:
    def __init__(
        self, pool: AsyncConnectionPool[Conn], settings: AuthSettings, issuer: Issuer, emails: RateLimiter
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.issuer = issuer
        self.emails = emails  # [auth.rate_limit] email_sent: e-mails actually sent, project-wide

    # ---- users -----------------------------------------------------------------------------------
    async def _user(self, conn: Conn, user_id: uuid.UUID | str, *, lock: bool = False) -> Row | None:
        cur = await conn.execute(
            "select * from auth.users where id = %s" + (" for update" if lock else ""), (str(user_id),)
        )
        return await cur.fetchone()

    async def _user_by_email(self, conn: Conn, email: str, aud: str = "authenticated") -> Row | None:
        cur = await conn.execute(
            "select * from auth.users where lower(email) = lower(%s) and aud = %s and not is_sso_user",
            (email, aud),
        )
        return await cur.fetchone()

    async def user_json(self, conn: Conn, user: Row) -> Row:
        """models.User as GoTrue serialises it."""
        cur = await conn.execute(
            "select * from auth.identities where user_id = %s order by created_at, id", (user["id"],)
        )
        identities = [
            {
                "identity_id": str(i["id"]),
                "id": i["provider_id"],
                "user_id": str(i["user_id"]),
                "identity_data": i["identity_data"],
                "provider": i["provider"],
                "last_sign_in_at": iso(i["last_sign_in_at"]),
                "created_at": iso(i["created_at"]),
                "updated_at": iso(i["updated_at"]),
                "email": i["email"],
            }
            for i in await cur.fetchall()
        ]
        body: Row = {
            "id": str(user["id"]),
            "aud": user["aud"] or "",
            "role": user["role"] or "",
            "email": user["email"] or "",
            "email_confirmed_at": iso(user["email_confirmed_at"]),
            "invited_at": iso(user["invited_at"]),
            "phone": user["phone"] or "",
            "confirmation_sent_at": iso(user["confirmation_sent_at"]),
            "confirmed_at": iso(user["confirmed_at"]),
            "recovery_sent_at": iso(user["recovery_sent_at"]),
            "last_sign_in_at": iso(user["last_sign_in_at"]),
            "app_metadata": user["raw_app_meta_data"] or {},
            "user_metadata": user["raw_user_meta_data"] or {},
            "identities": identities,
            "created_at": iso(user["created_at"]),
            "updated_at": iso(user["updated_at"]),
            "is_anonymous": bool(user["is_anonymous"]),
        }
        return {k: v for k, v in body.items() if v is not None}

    # ---- audit -----------------------------------------------------------------------------------
    async def audit(self, conn: Conn, actor: Row, action: str, traits: Row | None = None) -> Row:
        """models.NewAuditLogEntry: one row per action, with GoTrue's payload. Returns the payload
        (the request log carries it as `auth_event`)."""
        log_types = {
            "login": "account",
            "logout": "account",
            "invite_accepted": "account",
            "user_signedup": "team",
            "user_invited": "team",
            "token_revoked": "token",
            "token_refreshed": "token",
            "user_modified": "user",
            "user_recovery_requested": "user",
            "user_updated_password": "user",
        }
        payload: Row = {
            "actor_id": str(actor["id"]),
            "actor_via_sso": bool(actor.get("is_sso_user")),
            "actor_username": actor.get("phone") or actor.get("email") or "",
            "action": action,
            "log_type": log_types[action],
        }
        name = (actor.get("raw_user_meta_data") or {}).get("full_name")
        if name is not None:
            payload["actor_name"] = name
        if traits is not None:
            payload["traits"] = traits
        await conn.execute(
            "insert into auth.audit_log_entries (instance_id, id, payload, created_at, ip_address) "
            "values ('00000000-0000-0000-0000-000000000000', %s, %s, now(), '')",
            (uuid.uuid4(), json.dumps(payload)),
        )
        return payload

    # ---- sessions --------------------------------------------------------------------------------
    async def _amr(self, conn: Conn, session_id: uuid.UUID) -> list[Row]:
        cur = await conn.execute(
            "select authentication_method, updated_at from auth.mfa_amr_claims where session_id = %s "
            "order by updated_at desc",
            (session_id,),
        )
        return [
            {"method": r["authentication_method"], "timestamp": int(r["updated_at"].timestamp())}
            for r in await cur.fetchall()
        ]

    async def _token_response(self, conn: Conn, user: Row, session_id: uuid.UUID, refresh_token: str) -> Row:
        access, expires_at = self.issuer.access_token(user, session_id, await self._amr(conn, session_id))
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.settings.jwt_expiry,
            "expires_at": expires_at,
            "refresh_token": refresh_token,
            "user": await self.user_json(conn, user),
            "weak_password": None,
        }

    async def _issue_session(self, conn: Conn, user: Row, method: str, request: RequestInfo) -> Row:
        """IssueRefreshToken: a new session, its first refresh token and its AMR claim."""
        session_id = uuid.uuid4()
        await conn.execute(
            "insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip) "
            "values (%s, %s, now(), now(), 'aal1', %s, %s)",
            (session_id, user["id"], request.user_agent, request.ip or None),
        )
        await conn.execute(
            "insert into auth.mfa_amr_claims (session_id, created_at, updated_at, authentication_method, id) "
            "values (%s, now(), now(), %s, %s)",
            (session_id, method, uuid.uuid4()),
        )
        refresh = new_refresh_token()
        await conn.execute(
            "insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, "
            "session_id) values ('00000000-0000-0000-0000-000000000000', %s, %s, false, now(), now(), %s)",
            (refresh, str(user["id"]), session_id),
        )
        await conn.execute(
            "update auth.users set last_sign_in_at = now(), updated_at = now() where id = %s", (user["id"],)
        )
        await conn.execute(
            "update auth.identities set last_sign_in_at = now() where user_id = %s and provider = 'email'",
            (user["id"],),
        )
        refreshed = await self._user(conn, user["id"])
        assert refreshed is not None
        return await self._token_response(conn, refreshed, session_id, refresh)


async def open_pool(database_url: str) -> AsyncConnectionPool[Conn]:
    pool: AsyncConnectionPool[Conn] = AsyncConnectionPool(
        database_url,
        min_size=1,
        max_size=8,
        kwargs={"autocommit": True, "row_factory": dict_row, "application_name": "local-auth"},
        open=False,
    )
    await pool.open(wait=True)
    return pool
