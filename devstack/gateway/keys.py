"""The project's keys, as a Supabase project has them.

- The JWT secret (HS256): it signs the legacy `anon` and `service_role` API keys and, by default,
  users' access tokens, as on a project that has not moved to asymmetric keys.
- The legacy API keys: long-lived JWTs with `role` anon / service_role (`iss` supabase-demo, the
  Supabase CLI's; with the CLI's secret they are byte for byte the CLI's well-known local keys).
- The new API keys: `sb_publishable_…` (anon) and `sb_secret_…` (service_role). They are not
  JWTs; the gateway swaps them for an equivalent role JWT (see apikey.py).
- An ES256 signing key with a `kid`, published in the JWKS (/auth/v1/.well-known/jwks.json), which
  Auth signs access tokens with when asked to (`signing_alg="ES256"`), as on projects that use
  asymmetric JWT signing keys.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

# The Supabase CLI's local defaults: local keys work unchanged with clients configured for them.
LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"  # noqa: S105
LOCAL_PUBLISHABLE_KEY = "sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH"
LOCAL_SECRET_KEY = "sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz"  # noqa: S105
# The CLI's legacy keys never expire in practice (2032).
LEGACY_KEY_EXPIRY = 1983812996

API_ROLES = ("anon", "service_role")


def legacy_key(secret: str, role: str) -> str:
    """The legacy API key for `role`: with the CLI's secret, the CLI's own key."""
    return jwt.encode({"iss": "supabase-demo", "role": role, "exp": LEGACY_KEY_EXPIRY}, secret, algorithm="HS256")


def _new_signing_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@dataclass(frozen=True)
class ProjectKeys:
    jwt_secret: str = LOCAL_JWT_SECRET
    publishable_key: str = LOCAL_PUBLISHABLE_KEY
    secret_key: str = LOCAL_SECRET_KEY
    # A fresh P-256 key per process: tokens signed with it are verifiable through the JWKS only.
    signing_key: ec.EllipticCurvePrivateKey = field(default_factory=_new_signing_key)

    @property
    def anon_key(self) -> str:
        return legacy_key(self.jwt_secret, "anon")

    @property
    def service_role_key(self) -> str:
        return legacy_key(self.jwt_secret, "service_role")

    @property
    def kid(self) -> str:
        """The signing key's id: a digest of its public JWK, stable for the key."""
        public = self.public_jwk(with_kid=False)
        digest = hashlib.sha256(json.dumps(public, sort_keys=True).encode()).hexdigest()
        return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"

    def public_jwk(self, *, with_kid: bool = True) -> dict[str, Any]:
        jwk: dict[str, Any] = ECAlgorithm.to_jwk(self.signing_key.public_key(), as_dict=True)
        jwk.update({"alg": "ES256", "use": "sig", "key_ops": ["verify"]})
        if with_kid:
            jwk["kid"] = self.kid
        return jwk

    def jwks(self) -> dict[str, Any]:
        """What /auth/v1/.well-known/jwks.json serves: the public asymmetric keys only (never the
        shared secret)."""
        return {"keys": [self.public_jwk()]}

    def role_of_api_key(self, key: str) -> str | None:
        """The role an `apikey` stands for, or None for a key this project does not know.

        The four keys above are compared in constant time; besides them, as the legacy keys are
        plain JWTs, any unexpired HS256 JWT signed with the project secret whose role is anon or
        service_role is a legacy key too (tests mint their own)."""
        for known, known_role in (
            (self.publishable_key, "anon"),
            (self.secret_key, "service_role"),
            (self.anon_key, "anon"),
            (self.service_role_key, "service_role"),
        ):
            if hmac.compare_digest(key.encode(), known.encode()):
                return known_role
        if key.startswith("sb_"):
            return None
        try:
            claims = jwt.decode(key, self.jwt_secret, algorithms=["HS256"], options={"verify_aud": False})
        except jwt.InvalidTokenError:
            return None
        claimed = claims.get("role")
        return claimed if isinstance(claimed, str) and claimed in API_ROLES else None

    def role_jwt(self, role: str) -> str:
        """The JWT the gateway passes on for an `sb_…` key: the legacy key of the same role."""
        return legacy_key(self.jwt_secret, role)
