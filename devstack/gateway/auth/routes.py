"""The HTTP side of /auth/v1: GoTrue's routes (internal/api/router.go) on top of service.py, its
rate limits, its error shapes, and one request-log line per request (devstack.auth_logs, what
hosted Supabase keeps as auth_logs) for the logs endpoint the ops worker reads."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.typedefs import Handler
from psycopg_pool import AsyncConnectionPool

from devstack.gateway.auth.errors import API_VERSION_HEADER, AuthError, OAuthError, api_version, bad_request, render
from devstack.gateway.auth.links import EmailLinks
from devstack.gateway.auth.links import token_hash as token_hash_of
from devstack.gateway.auth.ratelimit import RateLimiter
from devstack.gateway.auth.records import Conn, RequestInfo, open_pool
from devstack.gateway.auth.service import AuthService
from devstack.gateway.auth.tokens import EXTERNAL_URL, Issuer

if TYPE_CHECKING:
    from devstack.gateway.app import GatewayContext

SERVICE = web.AppKey("auth_service", AuthService)
LINKS = web.AppKey("auth_links", EmailLinks)
POOL = web.AppKey("auth_pool", AsyncConnectionPool)
Row = dict[str, Any]
# The audit payloads of the request's actions, for its log line (GoTrue's `auth_event`).
EVENTS = web.RequestKey("auth_events", list[Row])


def _request_info(request: web.Request) -> RequestInfo:
    # Links point where the caller reached Auth: the gateway's origin and /auth/v1.
    origin = f"{request.scheme}://{request.host}"
    return RequestInfo(
        ip=request.remote or "",
        user_agent=request.headers.get("User-Agent", ""),
        external_url=f"{origin}/auth/v1",
    )


async def _json_body(request: web.Request) -> Row:
    if not request.body_exists:
        return {}
    try:
        body = await request.json(loads=json.loads)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise bad_request("bad_json", "Could not parse request body as JSON") from None
    if not isinstance(body, dict):
        raise bad_request("bad_json", "Could not parse request body as JSON: expected an object")
    return body


# checkmail's format check, which GoTrue's validateEmail uses.
_EMAIL = re.compile(
    r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$"
)


def _email(body: Row) -> str:
    """GoTrue's validateEmail: required, at most 255 characters, a valid format; lower-cased."""
    email = _text(body, "email")
    if not email:
        raise bad_request("validation_failed", "An email address is required")
    if len(email) > 255:
        raise bad_request("validation_failed", "An email address is too long")
    if not _EMAIL.match(email):
        raise bad_request("validation_failed", "Unable to validate email address: invalid format")
    return email.lower()


def _text(body: Row, key: str) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise bad_request("validation_failed", f"Could not read {key}: a string is expected")
    return value.strip() if key == "email" else value


def build(context: GatewayContext) -> web.Application:
    settings = context.config.auth
    issuer = Issuer(context.keys, settings, settings.issuer or "")
    limits = settings.rate_limit
    # GoTrue's limiters, per IP address, as the CLI maps config.toml onto them: every /token grant
    # shares one (token_refresh: GOTRUE_RATE_LIMIT_TOKEN_REFRESH); sign-ups, recovery and PUT /user
    # another (sign_in_sign_ups: GOTRUE_RATE_LIMIT_OTP); /verify its own; e-mails per project.
    tokens = RateLimiter(limits.token_refresh, limits.window_seconds)
    sign_ins = RateLimiter(limits.sign_in_sign_ups, limits.window_seconds)
    verifications = RateLimiter(limits.token_verifications, limits.window_seconds)
    emails = RateLimiter(limits.email_sent, 3600.0, "over_email_send_rate_limit", "email rate limit exceeded")

    @web.middleware
    async def gotrue(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Errors in GoTrue's shapes (never a bare 500), the API version echoed, and the request
        log line."""
        started = time.monotonic()
        request[EVENTS] = []
        EXTERNAL_URL.set(_request_info(request).external_url)
        error: AuthError | OAuthError | None = None
        try:
            response = await handler(request)
        except (AuthError, OAuthError) as exc:
            error = exc
            response = render(request, exc)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            error = AuthError(exc.status, "unknown" if exc.status != 404 else "not_found", exc.reason)
            response = render(request, error)
        except Exception:
            error = AuthError(
                500, "unexpected_failure", "Unexpected failure, please check server logs for more information"
            )
            response = render(request, error)
            await _log(request, response.status, started, error)
            raise
        version = api_version(request)
        if version is not None and API_VERSION_HEADER not in response.headers:
            response.headers[API_VERSION_HEADER] = version
        await _log(request, response.status, started, error)
        return response

    async def _log(request: web.Request, status: int, started: float, error: AuthError | OAuthError | None) -> None:
        line: Row = {
            "component": "api",
            "level": "info" if status < 400 else ("error" if status >= 500 else "warning"),
            "method": request.method,
            "path": request.path.removeprefix("/auth/v1") or "/",
            "status": status,
            "msg": "request completed",
            "remote_addr": request.remote or "",
            "request_id": str(uuid.uuid4()),
            "duration": int((time.monotonic() - started) * 1e9),
            "referer": request.headers.get("Referer", ""),
        }
        grant_type = request.query.get("grant_type")
        if grant_type:
            line["grant_type"] = grant_type
        if isinstance(error, AuthError):
            line["error_code"] = error.code
            line["error"] = error.message
        elif isinstance(error, OAuthError):
            line["error"] = error.description
        for event in request[EVENTS]:
            line["auth_event"] = event
        if request.path.endswith("/health"):
            return  # probes are not worth a log line
        pool = request.app[POOL]
        async with pool.connection() as conn:
            await conn.execute("insert into devstack.auth_logs (event_message) values (%s)", (json.dumps(line),))

    app = web.Application(middlewares=[gotrue], client_max_size=1024 * 1024)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        pool = await open_pool(context.database_url)
        app[POOL] = pool
        app[SERVICE] = AuthService(pool, settings, issuer, emails)
        app[LINKS] = EmailLinks(pool, settings, issuer, emails)
        yield
        await pool.close()

    app.cleanup_ctx.append(resources)

    def service(request: web.Request) -> AuthService:
        return request.app[SERVICE]

    def links(request: web.Request) -> EmailLinks:
        return request.app[LINKS]

    async def signed_in(request: web.Request) -> tuple[Row, Row | None, Row]:
        header = request.headers.get("Authorization", "")
        scheme, _, bearer = header.partition(" ")
        if scheme.lower() != "bearer" or not bearer.strip():
            raise AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token")
        return await service(request).authenticate(bearer.strip())

    async def admin(request: web.Request) -> Row:
        """requireAdmin: a service_role token (the secret key, or the legacy service key)."""
        header = request.headers.get("Authorization", "")
        scheme, _, bearer = header.partition(" ")
        if scheme.lower() != "bearer" or not bearer.strip():
            raise AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token")
        claims = service(request).issuer.verify(bearer.strip())
        if claims.get("role") != "service_role":
            raise AuthError(403, "not_admin", "User not allowed")
        # The audit log's actor for a service key: GoTrue's system user.
        return {"id": "00000000-0000-0000-0000-000000000000", "email": "service_role", "phone": ""}

    # ---- routes ----------------------------------------------------------------------------------
    async def health(_: web.Request) -> web.Response:
        return web.json_response(
            {
                "version": "devstack",
                "name": "GoTrue",
                "description": "GoTrue is a user registration and authentication API",
            }
        )

    async def jwks(_: web.Request) -> web.Response:
        return web.json_response(context.keys.jwks(), headers={"Cache-Control": "public, max-age=600"})

    async def settings_route(_: web.Request) -> web.Response:
        return web.json_response(
            {
                "external": {"email": True, "phone": False},
                "disable_signup": not settings.enable_signup,
                "mailer_autoconfirm": not settings.email_enable_confirmations,
                "phone_autoconfirm": False,
                "sms_provider": "",
                "saml_enabled": False,
            }
        )

    async def token(request: web.Request) -> web.Response:
        grant_type = request.query.get("grant_type", "")
        if grant_type not in ("password", "refresh_token", "pkce"):
            raise bad_request("invalid_credentials", "unsupported_grant_type")
        tokens.take(request.remote or "")
        body = await _json_body(request)
        svc = service(request)
        if grant_type == "password":
            result, event = await svc.password_grant(
                _text(body, "email"), _text(body, "phone"), _text(body, "password"), _request_info(request)
            )
        elif grant_type == "refresh_token":
            result, maybe_event = await svc.refresh_grant(_text(body, "refresh_token"))
            event = maybe_event or {}
        else:
            result, event = await svc.pkce_grant(
                _text(body, "auth_code"), _text(body, "code_verifier"), _request_info(request)
            )
        request[EVENTS].append(event)
        return web.json_response(result, headers={"Cache-Control": "no-store"})

    async def get_user(request: web.Request) -> web.Response:
        user, _, _ = await signed_in(request)
        return web.json_response(await service(request).get_user(user))

    async def put_user(request: web.Request) -> web.Response:
        sign_ins.take(request.remote or "")
        user, session, _ = await signed_in(request)
        body = await _json_body(request)
        result, events = await service(request).update_user(user, session, body)
        request[EVENTS].extend(events)
        return web.json_response(result)

    async def logout(request: web.Request) -> web.Response:
        scope = request.query.get("scope", "") or "global"
        if scope not in ("global", "local", "others"):
            raise bad_request("validation_failed", f'Unsupported logout scope "{scope}"')
        user, session, _ = await signed_in(request)
        request[EVENTS].append(await service(request).logout(user, session, scope))
        return web.Response(status=204)

    async def signup(request: web.Request) -> web.Response:
        sign_ins.take(request.remote or "")
        if not settings.enable_signup or not settings.email_enable_signup:
            raise AuthError(422, "signup_disabled", "Signups not allowed for this instance")
        raise AuthError(422, "signup_disabled", "Signups are not served by the local Auth stand-in: invite users")

    async def invite(request: web.Request) -> web.Response:
        actor = await admin(request)
        body = await _json_body(request)
        email = _email(body)
        data = body.get("data")
        if data is not None and not isinstance(data, dict):
            raise bad_request("validation_failed", "Could not read data: an object is expected")
        svc = links(request)
        user = await svc.invite(
            actor, email, data, svc.redirect_target(request.query.get("redirect_to")), _request_info(request)
        )
        return web.json_response(user)

    async def recover(request: web.Request) -> web.Response:
        sign_ins.take(request.remote or "")
        body = await _json_body(request)
        email = _email(body)
        svc = links(request)
        await svc.recover(
            email,
            svc.redirect_target(request.query.get("redirect_to") or _text(body, "redirect_to") or None),
            _text(body, "code_challenge") or None,
            _text(body, "code_challenge_method") or None,
            _request_info(request),
        )
        return web.json_response({})

    async def verify_get(request: web.Request) -> web.StreamResponse:
        """The link in an e-mail: confirms, then redirects with a session (implicit flow, in the
        fragment) or an auth code (PKCE, `?code=`), or with the error."""
        verifications.take(request.remote or "")
        svc = links(request)
        token_ = request.query.get("token", "")
        kind = request.query.get("type", "")
        target = svc.redirect_target(request.query.get("redirect_to"))
        pkce = token_.startswith("pkce_")
        try:
            _, session, code = await svc.verify([token_], kind, _request_info(request), link=True)
        except AuthError as exc:
            error = {"error": "access_denied" if exc.status == 403 else "server_error", "error_code": exc.code}
            error["error_description"] = exc.message
            separator = ("&" if "?" in target else "?") if pkce else "#"
            raise web.HTTPSeeOther(f"{target}{separator}{urlencode(error)}") from None
        if code is not None:
            raise web.HTTPSeeOther(f"{target}{'&' if '?' in target else '?'}{urlencode({'code': code})}")
        assert session is not None
        fragment = urlencode(
            {
                "access_token": session["access_token"],
                "expires_at": session["expires_at"],
                "expires_in": session["expires_in"],
                "refresh_token": session["refresh_token"],
                "token_type": "bearer",
                "type": kind,
            }
        )
        raise web.HTTPSeeOther(f"{target}#{fragment}")

    async def verify_post(request: web.Request) -> web.Response:
        """verifyOtp: the token hash of a link, or the e-mailed code with the address; a session."""
        verifications.take(request.remote or "")
        body = await _json_body(request)
        hashed, code, email = _text(body, "token_hash"), _text(body, "token"), _text(body, "email").lower()
        if bool(hashed) == bool(code):
            raise bad_request("validation_failed", "Verify requires either a token or a token hash")
        if hashed and (email or _text(body, "phone") or _text(body, "redirect_to")):
            raise bad_request("validation_failed", "Only the token_hash and type should be provided")
        if code and not email:
            raise bad_request("validation_failed", "Only an email address or phone number should be provided on verify")
        if code:
            # GoTrue stores hash(email + code); a PKCE link's token carries a prefix.
            digest = token_hash_of(email, code)
            candidates = [digest, f"pkce_{digest}"]
        else:
            candidates = [hashed]
        _, session, _ = await links(request).verify(candidates, _text(body, "type"), _request_info(request), link=False)
        assert session is not None
        return web.json_response(session)

    app.router.add_get("/health", health)
    app.router.add_get("/.well-known/jwks.json", jwks)
    app.router.add_get("/settings", settings_route)
    app.router.add_post("/token", token)
    app.router.add_get("/user", get_user)
    app.router.add_put("/user", put_user)
    app.router.add_post("/logout", logout)
    app.router.add_post("/signup", signup)
    app.router.add_post("/invite", invite)
    app.router.add_post("/recover", recover)
    app.router.add_get("/verify", verify_get)
    app.router.add_post("/verify", verify_post)
    return app


__all__ = ["LINKS", "POOL", "SERVICE", "Conn", "build"]
