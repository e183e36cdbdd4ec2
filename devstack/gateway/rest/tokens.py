"""Who a request acts as: PostgREST's JWT checks (Auth/Jwt.hs).

The Authorization bearer token must be signed with the project's JWT secret (HS256/384/512) or
with one of the asymmetric signing keys Auth publishes (ES256/RS256, chosen by `kid`); its `exp`,
`nbf` and `iat` are checked with PostgREST's 30 s of allowed clock skew, and its `aud` (when
present) must match the configured audience. No token means the anonymous role.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from devstack.gateway.rest.errors import ApiError

_SKEW_SECONDS = 30
_SYMMETRIC = ("HS256", "HS384", "HS512")
_ASYMMETRIC = ("ES256", "RS256")


@dataclass(frozen=True)
class Identity:
    role: str
    claims: dict[str, Any]
    # PostgREST answers 42501 with 401 to the anonymous role and 403 to any other (App.hs).
    authenticated: bool


def _decode_error(message: str, details: str | None = None) -> ApiError:
    header = f'Bearer error="invalid_token", error_description="{message}"'
    return ApiError(401, "PGRST301", message, details, headers={"WWW-Authenticate": header})


def _claims_error(message: str) -> ApiError:
    header = f'Bearer error="invalid_token", error_description="{message}"'
    return ApiError(401, "PGRST303", message, headers={"WWW-Authenticate": header})


class Verifier:
    def __init__(
        self,
        secret: str,
        *,
        jwks: Sequence[Mapping[str, Any]] = (),
        audience: str | None = None,
        anon_role: str = "anon",
    ) -> None:
        self.secret = secret
        self.keys = {str(k.get("kid")): jwt.PyJWK(dict(k)) for k in jwks}
        self.audience = audience
        self.anon_role = anon_role

    def identify(self, authorization: str | None) -> Identity:
        if authorization is None:
            return Identity(self.anon_role, {"role": self.anon_role}, authenticated=False)
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            # PostgREST only reads Bearer credentials; other schemes are someone else's business.
            return Identity(self.anon_role, {"role": self.anon_role}, authenticated=False)
        claims = self.verify(token.strip())
        role = claims.get("role", self.anon_role)
        role = role if isinstance(role, str) else str(role)
        return Identity(role, {**claims, "role": role}, authenticated=role != self.anon_role)

    def verify(self, token: str) -> dict[str, Any]:
        if not token:
            raise _decode_error("Empty JWT is sent in Authorization header")
        parts = token.count(".") + 1
        if parts != 3:
            raise _decode_error(f"Expected 3 parts in JWT; got {parts}")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise _decode_error("JWT cryptographic operation failed") from None
        alg = header.get("alg")
        key: Any
        if alg in _SYMMETRIC:
            key = self.secret
        elif alg in _ASYMMETRIC:
            found = self.keys.get(str(header.get("kid")))
            if found is None:
                raise _decode_error("No suitable key or wrong key type", "None of the keys was able to decode the JWT")
            key = found
        else:
            raise _decode_error("Wrong or unsupported encoding algorithm", f"JWSInvalidAlgorithm {alg}")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                # The time and audience checks are PostgREST's own, below.
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
            )
        except (jwt.InvalidSignatureError, jwt.DecodeError, jwt.InvalidKeyError):
            raise _decode_error("JWT cryptographic operation failed") from None
        except jwt.InvalidTokenError:
            raise _decode_error("JWT couldn't be decoded") from None
        self._check_claims(claims)
        return claims

    def _check_claims(self, claims: dict[str, Any]) -> None:
        now = int(time.time())
        for name, message, in_past in (
            ("exp", "JWT expired", True),
            ("nbf", "JWT not yet valid", False),
            ("iat", "JWT issued at future", False),
        ):
            if name not in claims:
                continue
            value = claims[name]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _claims_error(f"The JWT '{name}' claim must be a number")
            if (now - _SKEW_SECONDS > value) if in_past else (now + _SKEW_SECONDS < value):
                raise _claims_error(message)
        if "aud" in claims and self.audience is not None:
            aud = claims["aud"]
            if isinstance(aud, str):
                ok = aud == self.audience
            elif isinstance(aud, list) and all(isinstance(a, str) for a in aud):
                ok = not aud or self.audience in aud
            else:
                raise _claims_error("The JWT 'aud' claim must be a string or an array of strings")
            if not ok:
                raise _claims_error("JWT not in audience")
