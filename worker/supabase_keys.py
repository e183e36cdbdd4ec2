"""Supabase API keys the worker accepts, and what each kind is.

Supabase is replacing the JWT-based `anon` and `service_role` keys with opaque ones:
`sb_publishable_…` (the anon role) and `sb_secret_…` (the service role). The worker reads every
tenant's queues, so it needs the service role: an `sb_secret_…` key, or while a project
migrates, its legacy `service_role` JWT. The new keys are not JWTs: they are sent as the
`apikey` (never as a bearer token), and Supabase's API gateway checks them and hands the
service behind it (Realtime, PostgREST) a short-lived service_role JWT instead.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Literal

KeyKind = Literal["secret", "legacy_service_role"]

SECRET_PREFIX = "sb_secret_"  # noqa: S105 (a prefix, not a secret)
PUBLISHABLE_PREFIX = "sb_publishable_"


def classify_service_key(key: str) -> KeyKind:
    """The kind of a key given for the service role; ValueError says what is wrong with it."""
    key = key.strip()
    if key.startswith(SECRET_PREFIX):
        if len(key) <= len(SECRET_PREFIX):
            raise ValueError("an sb_secret_ key has more after its prefix")
        return "secret"
    if key.startswith(PUBLISHABLE_PREFIX):
        raise ValueError("is a publishable key (the anon role); the worker needs a secret key (sb_secret_…)")
    role = _jwt_role(key)
    if role is None:
        raise ValueError("must be a secret key (sb_secret_…) or the legacy service_role JWT")
    if role != "service_role":
        raise ValueError(f"is a legacy JWT key of role {role!r}; the worker needs the service role")
    return "legacy_service_role"


def _jwt_role(token: str) -> str | None:
    """The `role` claim of a JWT-shaped key, unverified (only the server can verify it)."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return None
    role = payload.get("role") if isinstance(payload, dict) else None
    return role if isinstance(role, str) else None
