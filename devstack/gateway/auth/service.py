"""What Auth does, on the database's auth schema, following GoTrue (supabase/auth: internal/api,
internal/models, internal/tokens). Every action runs in one transaction and writes GoTrue's
audit-log rows. HTTP lives in routes.py."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import string
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from devstack.gateway.auth import mail
from devstack.gateway.auth.errors import AuthError, OAuthError, bad_request, forbidden, unprocessable
from devstack.gateway.auth.ratelimit import RateLimiter
from devstack.gateway.auth.tokens import Issuer
from devstack.gateway.config import AuthSettings

Row = dict[str, Any]
Conn = psycopg.AsyncConnection[Row]

# GoTrue's limits and texts.
FLOW_STATE_EXPIRY = dt.timedelta(minutes=5)
INVALID_CREDENTIALS = "Invalid login credentials"
OTP_EXPIRED = "Email link is invalid or has expired"
_REFRESH_ALPHABET = string.ascii_lowercase + string.digits


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_refresh_token() -> str:
    """A refresh token in GoTrue's legacy format: 12 lower-case letters and digits."""
    return "".join(secrets.choice(_REFRESH_ALPHABET) for _ in range(12))


def token_hash(email: str, otp: str) -> str:
    """crypto.GenerateTokenHash: what an e-mail link carries and the user row keeps."""
    return hashlib.sha224((email + otp).encode()).hexdigest()


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class RequestInfo:
    """What GoTrue takes from the request: the caller's address and user agent, and the origin
    links in e-mails point to (API_EXTERNAL_URL)."""

    ip: str
    user_agent: str
    external_url: str


class AuthService:
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
                "last_sign_in_at": _iso(i["last_sign_in_at"]),
                "created_at": _iso(i["created_at"]),
                "updated_at": _iso(i["updated_at"]),
                "email": i["email"],
            }
            for i in await cur.fetchall()
        ]
        body: Row = {
            "id": str(user["id"]),
            "aud": user["aud"] or "",
            "role": user["role"] or "",
            "email": user["email"] or "",
            "email_confirmed_at": _iso(user["email_confirmed_at"]),
            "invited_at": _iso(user["invited_at"]),
            "phone": user["phone"] or "",
            "confirmation_sent_at": _iso(user["confirmation_sent_at"]),
            "confirmed_at": _iso(user["confirmed_at"]),
            "recovery_sent_at": _iso(user["recovery_sent_at"]),
            "last_sign_in_at": _iso(user["last_sign_in_at"]),
            "app_metadata": user["raw_app_meta_data"] or {},
            "user_metadata": user["raw_user_meta_data"] or {},
            "identities": identities,
            "created_at": _iso(user["created_at"]),
            "updated_at": _iso(user["updated_at"]),
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

    # ---- grants ----------------------------------------------------------------------------------
    async def password_grant(self, email: str, phone: str, password: str, request: RequestInfo) -> tuple[Row, Row]:
        """grant_type=password. Returns the token response and the audit payload."""
        if email and phone:
            raise bad_request("validation_failed", "Only an email address or phone number should be provided on login.")
        if not email and not phone:
            raise bad_request("validation_failed", "missing email or phone")
        async with self.pool.connection() as conn, conn.transaction():
            if email:
                user = await self._user_by_email(conn, email)
            else:
                cur = await conn.execute("select * from auth.users where phone = %s", (phone,))
                user = await cur.fetchone()
            if user is None or not user["encrypted_password"] or user["deleted_at"] is not None:
                raise bad_request("invalid_credentials", INVALID_CREDENTIALS)
            if user["banned_until"] is not None and user["banned_until"] > _now():
                raise bad_request("user_banned", "User is banned")
            cur = await conn.execute(
                "select %s::text = extensions.crypt(%s, %s::text) as ok",
                (user["encrypted_password"], password, user["encrypted_password"]),
            )
            row = await cur.fetchone()
            if row is None or not row["ok"]:
                raise bad_request("invalid_credentials", INVALID_CREDENTIALS)
            if email and user["email_confirmed_at"] is None:
                raise bad_request("email_not_confirmed", "Email not confirmed")
            if phone and user["phone_confirmed_at"] is None:
                raise bad_request("phone_not_confirmed", "Phone not confirmed")
            payload = await self.audit(conn, user, "login", {"provider": "email" if email else "phone"})
            return await self._issue_session(conn, user, "password", request), payload

    async def refresh_grant(self, refresh_token: str) -> tuple[Row, Row | None]:
        """grant_type=refresh_token: rotation, and reuse detection by the reuse interval
        (tokens.Service.RefreshTokenGrant, legacy tokens)."""
        if not refresh_token:
            raise OAuthError("invalid_request", "refresh_token required")
        if len(refresh_token) < 12 or (
            len(refresh_token) == 12 and any(c not in _REFRESH_ALPHABET for c in refresh_token)
        ):
            raise bad_request("validation_failed", "Refresh token is not valid")
        async with self.pool.connection() as conn, conn.transaction():
            outcome = await self._rotate(conn, refresh_token)
        if isinstance(outcome, AuthError):
            raise outcome
        return outcome

    async def _rotate(self, conn: Conn, refresh_token: str) -> tuple[Row, Row | None] | AuthError:
        cur = await conn.execute("select * from auth.refresh_tokens where token = %s for update", (refresh_token,))
        token = await cur.fetchone()
        if token is None:
            raise bad_request("refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
        user = await self._user(conn, token["user_id"])
        if user is None:
            raise bad_request("refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
        if user["banned_until"] is not None and user["banned_until"] > _now():
            raise bad_request("user_banned", "Invalid Refresh Token: User Banned")
        cur = await conn.execute("select * from auth.sessions where id = %s for update", (token["session_id"],))
        session = await cur.fetchone()
        if session is None:
            await conn.execute("delete from auth.refresh_tokens where id = %s", (token["id"],))
            raise bad_request("session_not_found", "Invalid Refresh Token: No Valid Session Found")
        if session["not_after"] is not None and session["not_after"] < _now():
            raise bad_request("session_expired", "Invalid Refresh Token: Session Expired")
        issued: str | None = None
        if token["revoked"]:
            cur = await conn.execute(
                "select * from auth.refresh_tokens where session_id = %s and not revoked order by id desc limit 1",
                (session["id"],),
            )
            active = await cur.fetchone()
            if active is not None and active["parent"] == token["token"]:
                # The client lost the answer to its last refresh: it gets the same child back.
                issued = active["token"]
            elif _now() > token["updated_at"] + dt.timedelta(seconds=self.settings.refresh_token_reuse_interval):
                if self.settings.enable_refresh_token_rotation:
                    await conn.execute(
                        "update auth.refresh_tokens set revoked = true, updated_at = now() "
                        "where session_id = %s and not revoked",
                        (session["id"],),
                    )
                # Returned, not raised: the revocation above must be committed.
                return AuthError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used")
        payload = await self.audit(conn, user, "token_refreshed")
        if issued is None:
            await conn.execute(
                "update auth.refresh_tokens set revoked = true, updated_at = now() where id = %s",
                (token["id"],),
            )
            issued = new_refresh_token()
            await conn.execute(
                "insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, "
                "updated_at, parent, session_id) values ('00000000-0000-0000-0000-000000000000', %s, %s, "
                "false, now(), now(), %s, %s)",
                (issued, str(user["id"]), token["token"], session["id"]),
            )
            await self.audit(conn, user, "token_revoked")
        await conn.execute(
            "update auth.sessions set refreshed_at = (now() at time zone 'utc'), updated_at = now() where id = %s",
            (session["id"],),
        )
        return await self._token_response(conn, user, session["id"], issued), payload

    async def pkce_grant(self, auth_code: str, code_verifier: str, request: RequestInfo) -> tuple[Row, Row]:
        """grant_type=pkce: the auth code an e-mail link ended in, and the verifier of its challenge."""
        if not auth_code or not code_verifier:
            raise bad_request(
                "validation_failed", "invalid request: both auth code and code verifier should be non-empty"
            )
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute("select * from auth.flow_state where auth_code = %s for update", (auth_code,))
            flow = await cur.fetchone()
            if flow is None:
                raise AuthError(404, "flow_state_not_found", "invalid flow state, no valid flow state found")
            issued_at = flow["auth_code_issued_at"] or flow["created_at"]
            if issued_at is None or _now() > issued_at + FLOW_STATE_EXPIRY:
                raise AuthError(422, "flow_state_expired", "invalid flow state, flow state has expired")
            expected = flow["code_challenge"] or ""
            given = s256(code_verifier) if flow["code_challenge_method"] == "s256" else code_verifier
            if not hmac.compare_digest(given.encode(), expected.encode()):
                raise forbidden("bad_code_verifier", "code challenge does not match previously saved code verifier")
            user = await self._user(conn, flow["user_id"]) if flow["user_id"] else None
            if user is None:
                raise AuthError(404, "user_not_found", "User not found")
            await conn.execute("delete from auth.flow_state where id = %s", (flow["id"],))
            payload = await self.audit(conn, user, "login", {"provider_type": flow["provider_type"]})
            return await self._issue_session(conn, user, flow["authentication_method"], request), payload

    # ---- the signed-in user ----------------------------------------------------------------------
    async def authenticate(self, bearer: str) -> tuple[Row, Row | None, Row]:
        """requireAuthentication + maybeLoadUserOrSession: the user, the session, the claims."""
        claims = self.issuer.verify(bearer)
        sub = claims.get("sub")
        if not sub:
            raise forbidden("bad_jwt", "invalid claim: missing sub claim")
        try:
            user_id = uuid.UUID(str(sub))
        except ValueError:
            raise bad_request("bad_jwt", "invalid claim: sub claim must be a UUID") from None
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        async with self.pool.connection() as conn:
            user = await self._user(conn, user_id)
            if user is None:
                raise forbidden("user_not_found", "User from sub claim in JWT does not exist")
            if (user["aud"] or "authenticated") not in audiences:
                raise forbidden("unexpected_audience", "Token audience doesn't match request audience")
            session = None
            if claims.get("session_id"):
                try:
                    session_id = uuid.UUID(str(claims["session_id"]))
                except ValueError:
                    raise forbidden("bad_jwt", "invalid claim: session_id claim must be a UUID") from None
                cur = await conn.execute("select * from auth.sessions where id = %s", (session_id,))
                session = await cur.fetchone()
                if session is None:
                    raise forbidden("session_not_found", "Session from session_id claim in JWT does not exist")
            if user["banned_until"] is not None and user["banned_until"] > _now():
                raise forbidden("user_banned", "User is banned")
        return user, session, claims

    async def get_user(self, user: Row) -> Row:
        async with self.pool.connection() as conn:
            return await self.user_json(conn, user)

    async def update_user(self, user: Row, body: Row) -> tuple[Row, list[Row]]:
        """PUT /user: the password and user_metadata (`data`). Changing the e-mail address or phone
        needs a confirmation round the local Auth does not run: refused, not ignored."""
        for field in ("email", "phone"):
            if body.get(field) and body[field] != user[field]:
                raise unprocessable(
                    "validation_failed", f"Changing the {field} is not supported by the local Auth stand-in"
                )
        password = body.get("password")
        data = body.get("data")
        if password is not None and not isinstance(password, str):
            raise bad_request("validation_failed", "Could not read password")
        if data is not None and not isinstance(data, dict):
            raise bad_request("validation_failed", "Could not read User Update params: data must be an object")
        payloads: list[Row] = []
        async with self.pool.connection() as conn, conn.transaction():
            current = await self._user(conn, user["id"], lock=True)
            assert current is not None
            if password is not None:
                self.check_password_strength(password)
                if current["encrypted_password"]:
                    cur = await conn.execute(
                        "select %s::text = extensions.crypt(%s, %s::text) as same",
                        (current["encrypted_password"], password, current["encrypted_password"]),
                    )
                    same = await cur.fetchone()
                    if same is not None and same["same"]:
                        raise unprocessable("same_password", "New password should be different from the old password.")
                await conn.execute(
                    "update auth.users set encrypted_password = extensions.crypt(%s, extensions.gen_salt('bf', 10)), "
                    "updated_at = now() where id = %s",
                    (password, current["id"]),
                )
                payloads.append(await self.audit(conn, current, "user_updated_password"))
            if data is not None:
                # UpdateUserMetaData: keys set, a null value removes the key.
                merged = dict(current["raw_user_meta_data"] or {})
                for key, value in data.items():
                    if value is None:
                        merged.pop(key, None)
                    else:
                        merged[key] = value
                await conn.execute(
                    "update auth.users set raw_user_meta_data = %s, updated_at = now() where id = %s",
                    (Jsonb(merged), current["id"]),
                )
            payloads.append(await self.audit(conn, current, "user_modified"))
            updated = await self._user(conn, current["id"])
            assert updated is not None
            return await self.user_json(conn, updated), payloads

    def check_password_strength(self, password: str) -> None:
        minimum = self.settings.minimum_password_length
        if len(password) < minimum:
            raise AuthError(
                422,
                "weak_password",
                f"Password should be at least {minimum} characters.",
                weak_password={"reasons": ["length"]},
            )

    async def logout(self, user: Row, session: Row | None, scope: str) -> Row:
        async with self.pool.connection() as conn, conn.transaction():
            payload = await self.audit(conn, user, "logout")
            if session is not None and scope == "local":
                await conn.execute("delete from auth.sessions where id = %s", (session["id"],))
            elif session is not None and scope == "others":
                await conn.execute(
                    "delete from auth.sessions where user_id = %s and id <> %s", (user["id"], session["id"])
                )
            else:
                await conn.execute("delete from auth.sessions where user_id = %s", (user["id"],))
            return payload

    # ---- e-mail links ----------------------------------------------------------------------------
    def redirect_target(self, redirect_to: str | None) -> str:
        """GetReferrer: redirect_to if it is the site URL's host or an allowed URL, else the site URL."""
        site = self.settings.site_url
        if not redirect_to:
            return site
        target = urlsplit(redirect_to)
        if target.scheme in ("http", "https") and target.netloc == urlsplit(site).netloc:
            return redirect_to
        for allowed in self.settings.additional_redirect_urls:
            if redirect_to == allowed or (allowed.endswith("**") and redirect_to.startswith(allowed[:-2])):
                return redirect_to
        return site

    async def _send_link(
        self,
        conn: Conn,
        user: Row,
        kind: str,
        request: RequestInfo,
        redirect_to: str,
        code_challenge: str | None = None,
        code_challenge_method: str | None = None,
    ) -> None:
        """A one-time token for `kind` (invite, recovery), its link by e-mail, and for PKCE the flow
        state whose auth code the link ends in (the token then starts with `pkce_`)."""
        last = user["recovery_sent_at"] if kind == "recovery" else user["confirmation_sent_at"]
        frequency = self.settings.email_max_frequency_seconds
        if last is not None and _now() < last + dt.timedelta(seconds=frequency):
            wait = int((last + dt.timedelta(seconds=frequency) - _now()).total_seconds()) + 1
            raise AuthError(
                429,
                "over_email_send_rate_limit",
                f"For security purposes, you can only request this after {wait} seconds.",
            )
        self.emails.take("project")
        otp = f"{secrets.randbelow(10**6):06d}"
        hashed = token_hash(user["email"], otp)
        if code_challenge:
            hashed = "pkce_" + hashed
            await conn.execute(
                "delete from auth.flow_state where user_id = %s and authentication_method = %s", (user["id"], kind)
            )
            await conn.execute(
                "insert into auth.flow_state (id, user_id, auth_code, code_challenge_method, code_challenge, "
                "provider_type, authentication_method, created_at, updated_at) "
                "values (%s, %s, %s, %s, %s, %s, %s, now(), now())",
                (
                    uuid.uuid4(),
                    user["id"],
                    str(uuid.uuid4()),
                    code_challenge_method,
                    code_challenge,
                    kind,
                    kind,
                ),
            )
        column, sent_column, token_type = (
            ("recovery_token", "recovery_sent_at", "recovery_token")
            if kind == "recovery"
            else ("confirmation_token", "confirmation_sent_at", "confirmation_token")
        )
        await conn.execute(
            f"update auth.users set {column} = %s, {sent_column} = now(), updated_at = now() where id = %s",
            (hashed, user["id"]),
        )
        await conn.execute(
            "insert into auth.one_time_tokens (id, user_id, token_type, token_hash, relates_to) "
            "values (%s, %s, %s, %s, %s) on conflict (user_id, token_type) do update "
            "set token_hash = excluded.token_hash, relates_to = excluded.relates_to, updated_at = now()",
            (uuid.uuid4(), user["id"], token_type, hashed, user["email"]),
        )
        query = urlencode({"token": hashed, "type": kind, "redirect_to": redirect_to})
        await mail.send(conn, user["email"], kind, f"{request.external_url}/verify?{query}", otp)

    @staticmethod
    def validate_pkce(code_challenge: str | None, method: str | None) -> None:
        if bool(code_challenge) != bool(method):
            raise bad_request("validation_failed", "PKCE flow requires code_challenge_method and code_challenge")
        if code_challenge:
            if not 43 <= len(code_challenge) <= 128:
                raise bad_request("validation_failed", "code challenge has to be between 43 and 128 characters")
            if (method or "").lower() not in ("s256", "plain"):
                raise bad_request("validation_failed", f"code challenge method not supported: {method}")

    async def invite(self, admin: Row, email: str, data: Row | None, redirect_to: str, request: RequestInfo) -> Row:
        """POST /invite (service role): the user, created if new, and an invite link by e-mail."""
        async with self.pool.connection() as conn, conn.transaction():
            user = await self._user_by_email(conn, email)
            if user is not None and user["confirmed_at"] is not None:
                raise unprocessable("email_exists", "A user with this email address has already been registered")
            if user is None:
                user_id = uuid.uuid4()
                await conn.execute(
                    "insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data, raw_user_meta_data, "
                    "invited_at, created_at, updated_at, is_sso_user, is_anonymous) values "
                    "('00000000-0000-0000-0000-000000000000', %s, 'authenticated', 'authenticated', lower(%s), %s, "
                    "%s, now(), now(), now(), false, false)",
                    (
                        user_id,
                        email,
                        Jsonb({"provider": "email", "providers": ["email"]}),
                        Jsonb(data or {}),
                    ),
                )
                await conn.execute(
                    "insert into auth.identities (provider_id, user_id, identity_data, provider, created_at, "
                    "updated_at) values (%s, %s, %s, 'email', now(), now())",
                    (
                        str(user_id),
                        user_id,
                        Jsonb({"sub": str(user_id), "email": email.lower(), "email_verified": False}),
                    ),
                )
                user = await self._user(conn, user_id)
                assert user is not None
            else:
                await conn.execute("update auth.users set invited_at = now() where id = %s", (user["id"],))
            await self.audit(conn, admin, "user_invited", {"user_id": str(user["id"]), "user_email": user["email"]})
            await self._send_link(conn, user, "invite", request, redirect_to)
            fresh = await self._user(conn, user["id"])
            assert fresh is not None
            return await self.user_json(conn, fresh)

    async def recover(
        self, email: str, redirect_to: str, code_challenge: str | None, method: str | None, request: RequestInfo
    ) -> None:
        """POST /recover: a recovery link by e-mail; the same empty answer whether or not the
        address has an account (no probing for users)."""
        self.validate_pkce(code_challenge, method)
        async with self.pool.connection() as conn, conn.transaction():
            user = await self._user_by_email(conn, email)
            if user is None:
                return
            await self.audit(conn, user, "user_recovery_requested")
            await self._send_link(
                conn, user, "recovery", request, redirect_to, code_challenge, (method or "").lower() or None
            )

    async def verify(
        self, tokens: list[str], kind: str, request: RequestInfo, *, link: bool
    ) -> tuple[Row, Row | None, str | None]:
        """/verify: confirms the invite or the recovery whose stored token is one of `tokens`.
        Returns the user, a session or None, and an auth code or None: a followed link (`link`)
        whose token is a PKCE one (`pkce_…`) ends in an auth code for the client's code exchange;
        anything else (an implicit link, POST /verify with the token hash or the e-mailed code) in
        a session."""
        if kind not in ("invite", "signup", "recovery", "magiclink"):
            raise bad_request("validation_failed", "Unsupported verification type")
        column, sent_column = (
            ("recovery_token", "recovery_sent_at")
            if kind in ("recovery", "magiclink")
            else ("confirmation_token", "confirmation_sent_at")
        )
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                f"select * from auth.users where {column} = any(%s) for update",
                ([t for t in tokens if t],),
            )
            user = await cur.fetchone()
            if (
                user is None
                or user[sent_column] is None
                or _now() > user[sent_column] + dt.timedelta(seconds=self.settings.otp_expiry)
            ):
                raise forbidden("otp_expired", OTP_EXPIRED)
            token: str = user[column]
            await conn.execute(
                f"update auth.users set {column} = '', "
                "email_confirmed_at = coalesce(email_confirmed_at, now()), updated_at = now() where id = %s",
                (user["id"],),
            )
            await conn.execute(
                "delete from auth.one_time_tokens where user_id = %s and token_hash = %s", (user["id"], token)
            )
            if kind in ("invite", "signup"):
                await self.audit(conn, user, "invite_accepted" if user["invited_at"] else "user_signedup")
            else:
                await self.audit(conn, user, "login")
            fresh = await self._user(conn, user["id"])
            assert fresh is not None
            if link and token.startswith("pkce_"):
                cur = await conn.execute(
                    "update auth.flow_state set auth_code_issued_at = now(), updated_at = now() "
                    "where id = (select id from auth.flow_state where user_id = %s and authentication_method = %s "
                    "order by created_at desc limit 1) returning auth_code",
                    (user["id"], kind),
                )
                flow = await cur.fetchone()
                if flow is None:
                    raise unprocessable("flow_state_not_found", "No associated flow state found.")
                return await self.user_json(conn, fresh), None, flow["auth_code"]
            session = await self._issue_session(conn, fresh, "otp", request)
            return session["user"], session, None


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
