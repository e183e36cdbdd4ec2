"""Auth (/auth/v1) behind the local gateway, driven by the real supabase-py client: what a
dashboard user does (sign in, stay signed in, sign out, accept an invitation, reset a password)
and what an attacker tries (wrong passwords, forged or stolen tokens, no key)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import psycopg
import pytest
from supabase_auth.errors import AuthApiError

from devstack import paths
from devstack.gateway.config import AuthSettings, ProjectConfig, RateLimits
from devstack.gateway.server import Gateway
from supabase import AsyncClient, AsyncClientOptions, acreate_client
from tests.factories import auth_user

PASSWORD = "correct horse battery staple"
SITE = "http://127.0.0.1:3000"


def settings(**overrides: Any) -> AuthSettings:
    return replace(ProjectConfig.load().auth, jwt_expiry=5, **overrides)


@pytest.fixture
async def gateway(clean_db: str) -> AsyncIterator[Gateway]:
    async with Gateway(clean_db, auth=settings()) as gw:
        yield gw


@pytest.fixture
def user(db: psycopg.Connection[Any]) -> tuple[uuid.UUID, str]:
    email = f"staff-{uuid.uuid4().hex[:8]}@hotel.test"
    return auth_user(db, email, PASSWORD), email


async def client(gw: Gateway, key: str | None = None, *, auto_refresh: bool = False) -> AsyncClient:
    options = AsyncClientOptions(auto_refresh_token=auto_refresh, persist_session=False)
    return await acreate_client(gw.url, key or gw.keys.publishable_key, options=options)


async def until(predicate: Callable[[], Awaitable[bool]], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.1)


def audit_actions(db: psycopg.Connection[Any], user_id: uuid.UUID) -> list[str]:
    rows = db.execute(
        "select payload ->> 'action' from auth.audit_log_entries where payload ->> 'actor_id' = %s order by created_at",
        (str(user_id),),
    ).fetchall()
    return [r[0] for r in rows]


def claims_of(gw: Gateway, token: str) -> dict[str, Any]:
    """The token's claims, signature checked; a token that expired meanwhile (they live 5 s here)
    still says whose session it was. Expiry is tested by calling Auth with it."""
    return jwt.decode(
        token, gw.keys.jwt_secret, algorithms=["HS256"], audience="authenticated", options={"verify_exp": False}
    )


async def test_sign_in_issues_gotrue_claims_and_logs_the_login(
    gateway: Gateway, user: tuple[uuid.UUID, str], db: psycopg.Connection[Any]
) -> None:
    user_id, email = user
    sb = await client(gateway)
    signed_in = await sb.auth.sign_in_with_password({"email": email, "password": PASSWORD})
    assert signed_in.session is not None and signed_in.user is not None
    assert signed_in.user.id == str(user_id)
    claims = claims_of(gateway, signed_in.session.access_token)
    assert claims["sub"] == str(user_id) and claims["role"] == "authenticated" and claims["email"] == email
    assert claims["exp"] - claims["iat"] == 5, "the configured lifetime"
    assert claims["aal"] == "aal1" and [a["method"] for a in claims["amr"]] == ["password"]
    assert claims["app_metadata"]["provider"] == "email" and claims["user_metadata"] == {}
    assert claims["is_anonymous"] is False and claims["iss"] == f"{gateway.url}/auth/v1"
    session = db.execute("select user_id from auth.sessions where id = %s", (claims["session_id"],)).fetchone()
    assert session == (user_id,)
    me = await sb.auth.get_user()
    assert me is not None and me.user.email == email
    # With a 5 s token the client refreshes before using it (inside its 10 s margin).
    assert audit_actions(db, user_id)[0] == "login"


async def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(
    gateway: Gateway, user: tuple[uuid.UUID, str], db: psycopg.Connection[Any]
) -> None:
    _, email = user
    # Other tests of the run fail logins too: count only this test's.
    since = db.execute("select clock_timestamp()").fetchone()
    assert since is not None
    sb = await client(gateway)
    answers = []
    for attempt in ({"email": email, "password": "wrong"}, {"email": "nobody@hotel.test", "password": PASSWORD}):
        with pytest.raises(AuthApiError) as caught:
            await sb.auth.sign_in_with_password(attempt)  # type: ignore[arg-type]
        answers.append((caught.value.status, caught.value.code, caught.value.message))
    assert answers == [(400, "invalid_credentials", "Invalid login credentials")] * 2
    logged = db.execute(
        "select count(*) from devstack.auth_logs where event_message ->> 'error_code' = 'invalid_credentials' "
        "and event_message ->> 'path' = '/token' and (event_message ->> 'status')::int = 400 and timestamp > %s",
        (since[0],),
    ).fetchone()
    assert logged == (2,), "failed logins are in Auth's request log, where the metrics read them"


async def test_the_client_refreshes_its_session_before_the_token_expires(
    gateway: Gateway, user: tuple[uuid.UUID, str], db: psycopg.Connection[Any]
) -> None:
    user_id, email = user
    sb = await client(gateway, auto_refresh=True)
    refreshed: list[str] = []
    sb.auth.on_auth_state_change(
        lambda event, s: refreshed.append(s.access_token) if event == "TOKEN_REFRESHED" and s else None
    )
    first = await sb.auth.sign_in_with_password({"email": email, "password": PASSWORD})
    assert first.session is not None

    async def was_refreshed() -> bool:
        return bool(refreshed)

    await until(was_refreshed)
    current = await sb.auth.get_session()
    assert current is not None and current.refresh_token != first.session.refresh_token, "rotated"
    assert (
        claims_of(gateway, current.access_token)["session_id"]
        == claims_of(gateway, first.session.access_token)["session_id"]
    )
    revoked = db.execute(
        "select revoked from auth.refresh_tokens where token = %s", (first.session.refresh_token,)
    ).fetchone()
    assert revoked == (True,)
    assert "token_refreshed" in audit_actions(db, user_id)
    me = await sb.auth.get_user(current.access_token)
    assert me is not None and me.user.id == str(user_id)

    # The first access token dies at its exp, however fresh the session is.
    async def expired() -> bool:
        try:
            await sb.auth.get_user(first.session.access_token)  # type: ignore[union-attr]
        except AuthApiError as exc:
            assert (exc.status, exc.code) == (403, "bad_jwt")
            return True
        return False

    await until(expired)
    await sb.auth.sign_out()


async def test_a_rotated_refresh_token_reused_later_revokes_the_session(
    clean_db: str, user: tuple[uuid.UUID, str]
) -> None:
    _, email = user
    async with Gateway(clean_db, auth=settings(refresh_token_reuse_interval=0)) as gw:
        sb = await client(gw)
        signed_in = await sb.auth.sign_in_with_password({"email": email, "password": PASSWORD})
        assert signed_in.session is not None
        first = signed_in.session.refresh_token
        second = (await sb.auth.refresh_session(first)).session
        assert second is not None
        third = (await sb.auth.refresh_session(second.refresh_token)).session
        assert third is not None
        with pytest.raises(AuthApiError) as reused:
            await sb.auth.refresh_session(first)
        assert (reused.value.status, reused.value.code) == (400, "refresh_token_already_used")
        # The thief used the old token; the legitimate holder's current one is dead too.
        with pytest.raises(AuthApiError) as current:
            await sb.auth.refresh_session(third.refresh_token)
        assert str(current.value.code) == "refresh_token_already_used"


async def test_within_the_reuse_interval_the_last_rotated_token_gets_its_child_back(
    gateway: Gateway, user: tuple[uuid.UUID, str]
) -> None:
    _, email = user
    sb = await client(gateway)
    signed_in = await sb.auth.sign_in_with_password({"email": email, "password": PASSWORD})
    assert signed_in.session is not None
    first = signed_in.session.refresh_token
    second = (await sb.auth.refresh_session(first)).session
    assert second is not None
    again = (await sb.auth.refresh_session(first)).session  # the answer to the first refresh was lost
    assert again is not None and again.refresh_token == second.refresh_token


async def test_sign_out_scopes_end_the_right_sessions(gateway: Gateway, user: tuple[uuid.UUID, str]) -> None:
    _, email = user
    phones = [await client(gateway) for _ in range(3)]
    sessions = []
    for sb in phones:
        signed_in = await sb.auth.sign_in_with_password({"email": email, "password": PASSWORD})
        assert signed_in.session is not None
        sessions.append(signed_in.session)

    async def alive(index: int) -> bool:
        try:
            await phones[index].auth.get_user(sessions[index].access_token)
            return True
        except AuthApiError as exc:
            assert exc.code == "session_not_found"
            return False

    await phones[0].auth.sign_out({"scope": "local"})
    assert [await alive(i) for i in range(3)] == [False, True, True]
    await phones[1].auth.sign_out({"scope": "others"})
    assert [await alive(i) for i in range(3)] == [False, True, False]
    with pytest.raises(AuthApiError) as gone:
        await phones[2].auth.refresh_session(sessions[2].refresh_token)
    assert str(gone.value.code) == "refresh_token_not_found"
    await phones[1].auth.sign_out()  # global
    assert not await alive(1)


async def test_forged_and_expired_tokens_are_refused(gateway: Gateway, user: tuple[uuid.UUID, str]) -> None:
    user_id, email = user
    sb = await client(gateway)
    signed_in = await sb.auth.sign_in_with_password({"email": email, "password": PASSWORD})
    assert signed_in.session is not None
    genuine = claims_of(gateway, signed_in.session.access_token)
    now = int(time.time())
    forged = {
        "alg none": jwt.encode(genuine, None, algorithm="none"),  # type: ignore[arg-type]
        "wrong key": jwt.encode(genuine, "another-secret-of-at-least-32-characters!", algorithm="HS256"),
        "expired": jwt.encode({**genuine, "iat": now - 20, "exp": now - 10}, gateway.keys.jwt_secret),
        "wrong audience": jwt.encode({**genuine, "aud": "someone-else"}, gateway.keys.jwt_secret),
    }
    answers = {}
    for name, token in forged.items():
        with pytest.raises(AuthApiError) as refused:
            await sb.auth.get_user(token)
        answers[name] = (refused.value.status, refused.value.code)
    assert answers == {
        "alg none": (403, "bad_jwt"),
        "wrong key": (403, "bad_jwt"),
        "expired": (403, "bad_jwt"),
        "wrong audience": (403, "unexpected_audience"),
    }
    me = await sb.auth.get_user(signed_in.session.access_token)
    assert me is not None and me.user.id == str(user_id)


async def test_every_request_needs_a_project_key(gateway: Gateway) -> None:
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        missing = await http.get("/auth/v1/settings")
        unknown = await http.get("/auth/v1/settings", headers={"apikey": "sb_publishable_not-this-project"})
        forged = await http.get(
            "/auth/v1/settings", headers={"apikey": jwt.encode({"role": "service_role"}, "not-the-secret-" * 3)}
        )
        assert (missing.status_code, missing.json()["message"]) == (401, "No API key found in request")
        assert (unknown.status_code, unknown.json()["message"]) == (401, "Invalid API key")
        assert (forged.status_code, forged.json()["message"]) == (401, "Invalid API key")
        keys = gateway.keys
        for key in (keys.publishable_key, keys.secret_key, keys.anon_key, keys.service_role_key):
            assert (await http.get("/auth/v1/settings", headers={"apikey": key})).status_code == 200
        assert (await http.get("/auth/v1/settings", params={"apikey": keys.publishable_key})).status_code == 200
        # sb_ keys stand for their role: the secret key may invite, the publishable one may not.
        body = {"email": f"new-{uuid.uuid4().hex[:6]}@hotel.test"}
        as_public = await http.post("/auth/v1/invite", json=body, headers={"apikey": keys.publishable_key})
        assert (as_public.status_code, as_public.json()["error_code"]) == (403, "not_admin")
        as_secret = await http.post("/auth/v1/invite", json=body, headers={"apikey": keys.secret_key})
        assert as_secret.status_code == 200 and as_secret.json()["email"] == body["email"]


async def test_an_invited_member_follows_the_link_and_sets_a_password(
    gateway: Gateway, db: psycopg.Connection[Any]
) -> None:
    email = f"invitee-{uuid.uuid4().hex[:8]}@hotel.test"
    admin = await client(gateway, gateway.keys.secret_key)
    invited = await admin.auth.admin.invite_user_by_email(email, {"redirect_to": f"{SITE}/welcome"})
    assert invited.user.email == email and invited.user.invited_at is not None
    link = db.execute("select link from devstack.mail where recipient = %s and kind = 'invite'", (email,)).fetchone()
    assert link is not None
    async with httpx.AsyncClient() as http:
        landed = await http.get(link[0])  # a browser, without any apikey
    assert landed.status_code == 303
    target = urlsplit(landed.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{SITE}/welcome"
    fragment = {k: v[0] for k, v in parse_qs(target.fragment).items()}
    assert fragment["type"] == "invite" and fragment["token_type"] == "bearer"
    sb = await client(gateway)
    await sb.auth.set_session(fragment["access_token"], fragment["refresh_token"])
    await sb.auth.update_user({"password": PASSWORD})
    await sb.auth.sign_out()
    again = await sb.auth.sign_in_with_password({"email": email, "password": PASSWORD})
    assert again.user is not None and again.user.email_confirmed_at is not None
    user_id = uuid.UUID(again.user.id)
    actions = [a for a in audit_actions(db, user_id) if not a.startswith("token_")]  # the 5 s tokens' refreshes
    assert actions == ["invite_accepted", "user_updated_password", "user_modified", "logout", "login"]
    async with httpx.AsyncClient() as http:
        reused = await http.get(link[0])
    assert "error_code=otp_expired" in reused.headers["location"], "a link works once"


async def test_password_recovery_ends_in_a_pkce_code_exchange(
    gateway: Gateway, user: tuple[uuid.UUID, str], db: psycopg.Connection[Any]
) -> None:
    user_id, email = user
    elsewhere = await client(gateway)  # a session on another device, from before the reset
    other = (await elsewhere.auth.sign_in_with_password({"email": email, "password": PASSWORD})).session
    assert other is not None
    sb = await client(gateway)  # supabase-py's default flow is PKCE: it keeps the verifier
    await sb.auth.reset_password_for_email(email, {"redirect_to": f"{SITE}/reset"})
    link = db.execute("select link from devstack.mail where recipient = %s and kind = 'recovery'", (email,)).fetchone()
    assert link is not None and "token=pkce_" in link[0]
    async with httpx.AsyncClient() as http:
        landed = await http.get(link[0])
    assert landed.status_code == 303
    target = urlsplit(landed.headers["location"])
    code = parse_qs(target.query)["code"][0]
    assert target.path == "/reset" and not target.fragment, "no tokens in the URL, only the code"
    # Without the verifier the code is worthless.
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        stolen = await http.post(
            "/auth/v1/token",
            params={"grant_type": "pkce"},
            json={"auth_code": code, "code_verifier": "x" * 43},
            headers={"apikey": gateway.keys.publishable_key},
        )
    assert (stolen.status_code, stolen.json()["error_code"]) == (403, "bad_code_verifier")
    exchanged = await sb.auth.exchange_code_for_session({"auth_code": code})
    assert exchanged.session is not None
    assert [a["method"] for a in claims_of(gateway, exchanged.session.access_token)["amr"]] == ["recovery"]
    await sb.auth.update_user({"password": "a brand new passphrase"})
    with pytest.raises(AuthApiError) as signed_out:
        await elsewhere.auth.refresh_session(other.refresh_token)
    assert str(signed_out.value.code) == "refresh_token_not_found", "a new password ends the other sessions"
    with pytest.raises(AuthApiError):
        await sb.auth.sign_in_with_password({"email": email, "password": PASSWORD})
    assert (await sb.auth.sign_in_with_password({"email": email, "password": "a brand new passphrase"})).session
    assert "user_recovery_requested" in audit_actions(db, user_id)
    # Recovery for an address without an account answers the same, and sends nothing.
    await sb.auth.reset_password_for_email("nobody@hotel.test", {"redirect_to": f"{SITE}/reset"})
    assert db.execute("select count(*) from devstack.mail where recipient = 'nobody@hotel.test'").fetchone() == (0,)


async def test_the_token_endpoint_is_rate_limited_per_address(clean_db: str, user: tuple[uuid.UUID, str]) -> None:
    """GoTrue counts every /token grant (sign-ins and refreshes) against config.toml's token_refresh."""
    _, email = user
    limits = RateLimits(token_refresh=3)
    async with Gateway(clean_db, auth=settings(rate_limit=limits)) as gw:
        sb = await client(gw)
        signed_in = await sb.auth.sign_in_with_password({"email": email, "password": PASSWORD})
        assert signed_in.session is not None
        refreshed = await sb.auth.refresh_session(signed_in.session.refresh_token)
        assert refreshed.session is not None
        await sb.auth.sign_in_with_password({"email": email, "password": PASSWORD})
        with pytest.raises(AuthApiError) as limited:
            await sb.auth.sign_in_with_password({"email": email, "password": PASSWORD})
        assert (limited.value.status, limited.value.code) == (429, "over_request_rate_limit")
        with pytest.raises(AuthApiError) as refresh_limited:
            await sb.auth.refresh_session(refreshed.session.refresh_token)
        assert refresh_limited.value.status == 429
        # E-mails: 2 an hour for the project (email_sent), counted when one is really sent.
        admin = await client(gw, gw.keys.secret_key)
        await sb.auth.reset_password_for_email("nobody@hotel.test")  # sends nothing
        for n in range(2):
            await admin.auth.admin.invite_user_by_email(f"new-{n}-{uuid.uuid4().hex[:6]}@hotel.test")
        with pytest.raises(AuthApiError) as mails:
            await admin.auth.admin.invite_user_by_email(f"third-{uuid.uuid4().hex[:6]}@hotel.test")
        assert (mails.value.status, mails.value.code) == (429, "over_email_send_rate_limit")


async def test_asymmetric_tokens_verify_with_the_published_jwks(clean_db: str, user: tuple[uuid.UUID, str]) -> None:
    user_id, email = user
    async with Gateway(clean_db, auth=settings(signing_alg="ES256")) as gw:
        sb = await client(gw)
        signed_in = await sb.auth.sign_in_with_password({"email": email, "password": PASSWORD})
        assert signed_in.session is not None
        async with httpx.AsyncClient() as http:
            jwks = (await http.get(f"{gw.url}/auth/v1/.well-known/jwks.json")).json()
        token = signed_in.session.access_token
        kid = jwt.get_unverified_header(token)["kid"]
        key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid))
        claims = jwt.decode(token, key, algorithms=["ES256"], audience="authenticated")
        assert claims["sub"] == str(user_id)
        assert all("k" not in k for k in jwks["keys"]), "the shared secret is never published"
        me = await sb.auth.get_user()
        assert me is not None and me.user.id == str(user_id)


async def test_an_invitation_accepted_by_token_hash_or_code_gives_a_session(
    gateway: Gateway, db: psycopg.Connection[Any]
) -> None:
    """A PKCE dashboard cannot read tokens from a link's fragment: its accept page takes the
    link's token hash to POST /verify (verifyOtp), as Supabase's server-side guides do; a person
    can type the e-mailed code instead."""
    admin = await client(gateway, gateway.keys.secret_key)
    first, second = (f"{n}-{uuid.uuid4().hex[:6]}@hotel.test" for n in ("hash", "code"))
    for email in (first, second):
        await admin.auth.admin.invite_user_by_email(email)
    link = db.execute("select link from devstack.mail where recipient = %s", (first,)).fetchone()
    body = db.execute("select body from devstack.mail where recipient = %s", (second,)).fetchone()
    assert link is not None and body is not None
    token_hash = parse_qs(urlsplit(link[0]).query)["token"][0]
    code = body[0].rsplit("code: ", 1)[1].strip()
    sb = await client(gateway)
    by_hash = await sb.auth.verify_otp({"token_hash": token_hash, "type": "invite"})
    assert by_hash.session is not None and by_hash.user is not None and by_hash.user.email == first
    await sb.auth.sign_out()
    with pytest.raises(AuthApiError) as wrong:
        await sb.auth.verify_otp(
            {"email": second, "token": "000000" if code != "000000" else "111111", "type": "invite"}
        )
    assert (wrong.value.status, wrong.value.code) == (403, "otp_expired")
    by_code = await sb.auth.verify_otp({"email": second, "token": code, "type": "invite"})
    assert by_code.session is not None and by_code.user is not None and by_code.user.email == second


async def test_bad_requests_get_gotrue_answers_never_a_500(gateway: Gateway) -> None:
    sb = await client(gateway)
    with pytest.raises(AuthApiError) as signup:
        await sb.auth.sign_up({"email": "walk-in@hotel.test", "password": PASSWORD})
    assert (signup.value.status, signup.value.code) == (422, "signup_disabled"), "staff are invited"
    headers = {"apikey": gateway.keys.publishable_key, "X-Supabase-Api-Version": "2024-01-01"}
    async with httpx.AsyncClient(base_url=f"{gateway.url}/auth/v1", headers=headers) as http:
        garbled = await http.post("/token", params={"grant_type": "password"}, content=b"{not json")
        assert (garbled.status_code, garbled.json()["code"]) == (400, "bad_json")
        huge = await http.post(
            "/token", params={"grant_type": "password"}, content=b'{"email": "' + b"x" * 2_000_000 + b'"}'
        )
        assert huge.status_code == 413
        grant = await http.post("/token", params={"grant_type": "magic"}, json={})
        assert (grant.status_code, grant.json()) == (
            400,
            {"code": "invalid_credentials", "message": "unsupported_grant_type"},
        )
        short = await http.post("/token", params={"grant_type": "refresh_token"}, json={"refresh_token": "abc"})
        assert (short.status_code, short.json()["code"]) == (400, "validation_failed")
        invalid = await http.post("/recover", json={"email": "not an address"})
        assert (invalid.status_code, invalid.json()["message"]) == (
            400,
            "Unable to validate email address: invalid format",
        )
        typed = await http.post("/token", params={"grant_type": "password"}, json={"email": 42, "password": "x"})
        assert (typed.status_code, typed.json()["code"]) == (400, "validation_failed")
        scope = await http.post("/logout", params={"scope": "everyone"}, headers={"Authorization": "Bearer x"})
        assert (scope.status_code, scope.json()["code"]) == (400, "validation_failed")
        # The publishable key alone stands for anon's JWT, which is nobody: no `sub`.
        nobody = await http.get("/user")
        assert (nobody.status_code, nobody.json()["code"]) == (403, "bad_jwt")
        anonymous = await http.get("/user", headers={"apikey": gateway.keys.anon_key})
        assert (anonymous.status_code, anonymous.json()["code"]) == (401, "no_authorization")
        # Browsers on the dashboard's origin get the gateway's CORS answer.
        preflight = await http.options("/token", headers={"Origin": SITE, "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "*"


async def test_two_tabs_refreshing_at_once_share_one_rotation(
    gateway: Gateway, user: tuple[uuid.UUID, str], db: psycopg.Connection[Any]
) -> None:
    """Two tabs of the dashboard hold the same session and refresh it at the same moment: one
    rotates the token, the other gets the same new token back (the parent of the active one),
    and neither is taken for a thief."""
    _, email = user
    sb = await client(gateway)
    signed_in = await sb.auth.sign_in_with_password({"email": email, "password": PASSWORD})
    assert signed_in.session is not None
    headers = {"apikey": gateway.keys.publishable_key}
    body = {"refresh_token": signed_in.session.refresh_token}
    async with httpx.AsyncClient(base_url=f"{gateway.url}/auth/v1", headers=headers) as http:
        answers = await asyncio.gather(
            *(http.post("/token", params={"grant_type": "refresh_token"}, json=body) for _ in range(2))
        )
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json()["refresh_token"] == answers[1].json()["refresh_token"]
    session_id = claims_of(gateway, signed_in.session.access_token)["session_id"]
    active = db.execute(
        "select count(*) from auth.refresh_tokens where session_id = %s and not revoked", (session_id,)
    ).fetchone()
    assert active == (1,)


async def test_the_readmes_demo_users_sign_in(gateway: Gateway, db: psycopg.Connection[Any]) -> None:
    db.execute(paths.SEED_FILE.read_text().encode())
    members = dict(
        db.execute(
            "select u.email, t.name || ': ' || m.role from auth.users u "
            "join public.tenant_members m on m.user_id = u.id join public.tenants t on t.id = m.tenant_id"
        ).fetchall()
    )
    assert members == {
        "owner@demo-hotel.test": "Demo Hotel Group: owner",
        "admin@demo-hotel.test": "Demo Hotel Group: admin",
        "frontdesk@demo-hotel.test": "Demo Hotel Group: staff",
        "owner@second-hotel.test": "Second Hotel Group: owner",
    }
    for email in members:
        sb = await client(gateway)
        signed_in = await sb.auth.sign_in_with_password({"email": email, "password": "demo-password"})
        assert signed_in.user is not None and signed_in.user.email == email
