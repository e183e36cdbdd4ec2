"""What Auth does for a client, following GoTrue (supabase/auth: internal/api, internal/tokens):
the token grants (password, refresh with rotation and reuse detection, PKCE), the signed-in
user, sign-out. Every action runs in one transaction and writes GoTrue's audit-log rows. HTTP
lives in routes.py; e-mailed links in links.py."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import uuid

from psycopg.types.json import Jsonb

from devstack.gateway.auth.errors import AuthError, OAuthError, bad_request, forbidden, unprocessable
from devstack.gateway.auth.records import (
    REFRESH_ALPHABET,
    Conn,
    Records,
    RequestInfo,
    Row,
    new_refresh_token,
    utc_now,
)

# GoTrue's limits and texts.
FLOW_STATE_EXPIRY = dt.timedelta(minutes=5)
INVALID_CREDENTIALS = "Invalid login credentials"


def s256(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class AuthService(Records):
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
            if user["banned_until"] is not None and user["banned_until"] > utc_now():
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
            len(refresh_token) == 12 and any(c not in REFRESH_ALPHABET for c in refresh_token)
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
        if user["banned_until"] is not None and user["banned_until"] > utc_now():
            raise bad_request("user_banned", "Invalid Refresh Token: User Banned")
        cur = await conn.execute("select * from auth.sessions where id = %s for update", (token["session_id"],))
        session = await cur.fetchone()
        if session is None:
            await conn.execute("delete from auth.refresh_tokens where id = %s", (token["id"],))
            raise bad_request("session_not_found", "Invalid Refresh Token: No Valid Session Found")
        if session["not_after"] is not None and session["not_after"] < utc_now():
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
            elif utc_now() > token["updated_at"] + dt.timedelta(seconds=self.settings.refresh_token_reuse_interval):
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
            if issued_at is None or utc_now() > issued_at + FLOW_STATE_EXPIRY:
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
            if user["banned_until"] is not None and user["banned_until"] > utc_now():
                raise forbidden("user_banned", "User is banned")
        return user, session, claims

    async def get_user(self, user: Row) -> Row:
        async with self.pool.connection() as conn:
            return await self.user_json(conn, user)

    async def update_user(self, user: Row, session: Row | None, body: Row) -> tuple[Row, list[Row]]:
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
                # User.UpdatePassword: links sent before no longer count, and every other session
                # ends (whoever knew the old password is signed out).
                await conn.execute(
                    "update auth.users set encrypted_password = extensions.crypt(%s, extensions.gen_salt('bf', 10)), "
                    "confirmation_token = '', confirmation_sent_at = null, recovery_token = '', "
                    "recovery_sent_at = null, email_change_token_current = '', email_change_token_new = '', "
                    "email_change_sent_at = null, phone_change_token = '', phone_change_sent_at = null, "
                    "reauthentication_token = '', reauthentication_sent_at = null, updated_at = now() where id = %s",
                    (password, current["id"]),
                )
                await conn.execute("delete from auth.one_time_tokens where user_id = %s", (current["id"],))
                await conn.execute(
                    "delete from auth.sessions where user_id = %s and id is distinct from %s",
                    (current["id"], session["id"] if session is not None else None),
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
