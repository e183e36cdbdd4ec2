"""Auth's e-mailed links, following GoTrue (internal/api: invite.go, recover.go, verify.go,
pkce.go): invitations and password recovery, their one-time tokens, and /verify, which ends a
PKCE link in an auth code and any other in a session. E-mails go to devstack.mail (mail.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import secrets
import uuid
from urllib.parse import urlencode, urlsplit

from psycopg.types.json import Jsonb

from devstack.gateway.auth import mail
from devstack.gateway.auth.errors import AuthError, bad_request, forbidden, unprocessable
from devstack.gateway.auth.records import Conn, Records, RequestInfo, Row, utc_now

OTP_EXPIRED = "Email link is invalid or has expired"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_hash(email: str, otp: str) -> str:
    """crypto.GenerateTokenHash: what an e-mail link carries and the user row keeps."""
    return hashlib.sha224((email + otp).encode()).hexdigest()


class EmailLinks(Records):
    # ---- e-mail links ----------------------------------------------------------------------------
    def redirect_target(self, redirect_to: str | None) -> str:
        """GetReferrer/IsRedirectURLValid: redirect_to if it is on the site (same scheme and host,
        and the same port unless the host is a loopback address, RFC 8252 7.3), a loopback IP
        address, or an allowed URL (matched without its fragment); else the site URL."""
        site = self.settings.site_url
        if not redirect_to or any(c <= " " or c == "\x7f" for c in redirect_to):
            return site
        base, target = urlsplit(site), urlsplit(redirect_to)
        try:
            same_port = base.port == target.port
        except ValueError:
            return site
        host = target.hostname or ""
        if host == base.hostname and target.scheme == base.scheme and (same_port or _is_loopback(host)):
            return redirect_to
        if host.isdigit():
            return site  # an IP address in decimal form
        try:
            return redirect_to if ipaddress.ip_address(host).is_loopback else site
        except ValueError:
            pass
        unfragmented = redirect_to.partition("#")[0]
        for allowed in self.settings.additional_redirect_urls:
            if unfragmented == allowed or (allowed.endswith("**") and unfragmented.startswith(allowed[:-2])):
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
        if last is not None and utc_now() < last + dt.timedelta(seconds=frequency):
            wait = int((last + dt.timedelta(seconds=frequency) - utc_now()).total_seconds()) + 1
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
                or utc_now() > user[sent_column] + dt.timedelta(seconds=self.settings.otp_expiry)
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
