"""What the Data API client tests share: where the API is (the local gateway, or a real Supabase
project when SUPABASE_URL is set) and how a test gets a signed-in user's token.

Against a real project (README, "The client suite against a real Supabase project"):
SUPABASE_URL, SUPABASE_PUBLISHABLE_KEY (or the legacy anon key), SUPABASE_JWT_SECRET (the legacy
JWT secret, to mint the test users' sessions) and TEST_DATABASE_URL (the project's database, for
the factories). The suite empties the tenant tables: use a disposable project.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import jwt

from devstack.gateway.config import AuthSettings
from devstack.gateway.server import Gateway
from tests.factories import Tenant

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Api:
    """A Supabase API as the clients see it."""

    url: str
    publishable_key: str
    jwt_secret: str
    # Local only: the ES256 signing key Auth publishes (None against a real project).
    signing_key: Any = None
    kid: str | None = None
    remote: bool = False

    def user_token(self, user_id: uuid.UUID, *, email: str | None = None, **overrides: Any) -> str:
        """An access token shaped like GoTrue's (sub, role, aud, exp, iat, session_id, email,
        app_metadata, user_metadata, aal, amr), signed with the project's JWT secret."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": f"{self.url}/auth/v1",
            "sub": str(user_id),
            "aud": "authenticated",
            "exp": now + 3600,
            "iat": now,
            "email": email or f"{user_id}@example.com",
            "phone": "",
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {},
            "role": "authenticated",
            "aal": "aal1",
            "amr": [{"method": "password", "timestamp": now}],
            "session_id": str(uuid.uuid4()),
            "is_anonymous": False,
        }
        claims.update(overrides)
        return jwt.encode(claims, self.jwt_secret, algorithm="HS256")

    def service_token(self) -> str:
        now = int(time.time())
        return jwt.encode({"role": "service_role", "iat": now, "exp": now + 3600}, self.jwt_secret, algorithm="HS256")


@dataclass
class Hotels:
    a: Tenant
    b: Tenant
    owner_a: uuid.UUID
    # owner_a signs in through Auth with this address and PASSWORD
    owner_a_email: str
    admin_a: uuid.UUID
    staff_a: uuid.UUID
    owner_b: uuid.UUID
    messages_a: list[int]
    message_b: int


def remote_api() -> Api | None:
    """The real project named by the environment, if any."""
    url = os.environ.get("SUPABASE_URL")
    if not url:
        return None
    key = os.environ.get("SUPABASE_PUBLISHABLE_KEY") or os.environ.get("SUPABASE_ANON_KEY")
    secret = os.environ.get("SUPABASE_JWT_SECRET")
    if not key or not secret or not os.environ.get("TEST_DATABASE_URL"):
        raise RuntimeError(
            "SUPABASE_URL is set: the client suite also needs SUPABASE_PUBLISHABLE_KEY (or SUPABASE_ANON_KEY), "
            "SUPABASE_JWT_SECRET and TEST_DATABASE_URL (the project's database)"
        )
    return Api(url.rstrip("/"), key, secret, remote=True)


def forged_tokens(api: Api, user: uuid.UUID) -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": str(user), "role": "service_role", "aud": "authenticated", "iat": now, "exp": now + 600}
    unsigned = jwt.encode(claims, key="", algorithm="none")
    return {
        "alg none": unsigned,
        "wrong key": jwt.encode(claims, "not-the-project-secret-but-long-enough-0123456789", algorithm="HS256"),
        "wrong audience": api.user_token(user, aud="somebody-else"),
        "expired": api.user_token(user, exp=now - 120, iat=now - 3720),
        "garbage": "abc.def",
    }


@contextlib.asynccontextmanager
async def realtime_url(api: Api, database_url: str, auth: AuthSettings | None = None) -> AsyncIterator[str]:
    """The project URL with Realtime behind it: the real project's, or a local gateway's with the
    Realtime stand-in."""
    if api.remote:
        yield api.url
        return
    async with Gateway(database_url, realtime=True, auth=auth) as gateway:
        yield gateway.url
