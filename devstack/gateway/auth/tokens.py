"""Access tokens as GoTrue issues and checks them (internal/tokens/service.go, api/auth.go)."""

from __future__ import annotations

import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import jwt

from devstack.gateway.auth.errors import AuthError, forbidden
from devstack.gateway.config import AuthSettings
from devstack.gateway.keys import ProjectKeys

# Where the current request reached Auth (GoTrue's API_EXTERNAL_URL): the tokens' `iss` unless
# settings name one, as GoTrue's default issuer is that URL.
EXTERNAL_URL: ContextVar[str] = ContextVar("auth_external_url", default="")


@dataclass(frozen=True)
class Issuer:
    keys: ProjectKeys
    settings: AuthSettings
    issuer: str

    def access_token(
        self, user: dict[str, Any], session_id: uuid.UUID, amr: list[dict[str, Any]], now: float | None = None
    ) -> tuple[str, int]:
        """The signed token and its `exp`: GoTrue's claims, in its order."""
        issued = int(now if now is not None else time.time())
        expires = issued + self.settings.jwt_expiry
        claims: dict[str, Any] = {
            "iss": self.issuer or EXTERNAL_URL.get(),
            "sub": str(user["id"]),
            "aud": user["aud"] or "authenticated",
            "exp": expires,
            "iat": issued,
            "email": user["email"] or "",
            "phone": user["phone"] or "",
            "app_metadata": user["raw_app_meta_data"] or {},
            "user_metadata": user["raw_user_meta_data"] or {},
            "role": user["role"] or "authenticated",
            "aal": "aal1",
            "amr": amr,
            "session_id": str(session_id),
            "is_anonymous": bool(user["is_anonymous"]),
        }
        if self.settings.signing_alg == "ES256":
            token = jwt.encode(
                claims, self.keys.signing_key, algorithm="ES256", headers={"kid": self.keys.kid, "typ": "JWT"}
            )
        else:
            token = jwt.encode(claims, self.keys.jwt_secret, algorithm="HS256", headers={"typ": "JWT"})
        return token, expires

    def verify(self, token: str) -> dict[str, Any]:
        """GoTrue's parseJWTClaims: HS256 with the secret (no kid, or an unknown one) or ES256 by the
        kid in the JWKS; anything else, a bad signature or an expired token is 403 bad_jwt."""
        try:
            header = jwt.get_unverified_header(token)
            alg = header.get("alg")
            if alg == "ES256" and header.get("kid") == self.keys.kid:
                key: Any = self.keys.signing_key.public_key()
            elif alg == "HS256":
                key = self.keys.jwt_secret
            else:
                raise jwt.InvalidAlgorithmError(f"unrecognized JWT kid {header.get('kid')} for algorithm {alg}")
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                options={"verify_aud": False, "require": ["exp"]},
                leeway=0,
            )
        except jwt.ExpiredSignatureError:
            raise _bad_jwt("token has invalid claims: token is expired") from None
        except jwt.InvalidTokenError as exc:
            raise _bad_jwt(str(exc) or type(exc).__name__) from None
        return claims


def _bad_jwt(reason: str) -> AuthError:
    return forbidden("bad_jwt", f"invalid JWT: unable to parse or verify signature, {reason}")
