"""OAuth 2.0 client-credentials tokens for PMS APIs (Apaleo, Guesty), cached per client.

Tokens are fetched once and reused until shortly before they expire: Guesty allows only a few
token requests per client per day, and every token request counts against the rate limit.
The cache lives in this process (a restarted worker fetches a new token). A token the API
rejects is dropped, and the request is tried once more with a fresh one; credentials the
token endpoint rejects are a ConfigurationError.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from worker.errors import ConfigurationError, PayloadError
from worker.pms.http import RequestRejected, VendorApi

# Renew this long before the token's own expiry (clock skew, slow requests).
EARLY_RENEWAL_SECONDS = 120.0


@dataclass
class _Token:
    value: str
    expires_at: float


class TokenCache:
    def __init__(self) -> None:
        self._tokens: dict[str, _Token] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @staticmethod
    def _key(token_url: str, client_id: str, client_secret: str) -> str:
        return hashlib.sha256(f"{token_url}\n{client_id}\n{client_secret}".encode()).hexdigest()

    async def token(
        self,
        http: httpx.AsyncClient,
        api: VendorApi,
        token_url: str,
        client_id: str,
        client_secret: str,
        extra: Mapping[str, str] | None = None,
    ) -> str:
        key = self._key(token_url, client_id, client_secret)
        cached = self._tokens.get(key)
        if cached is not None and cached.expires_at > time.monotonic():
            return cached.value
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(key)
            if cached is not None and cached.expires_at > time.monotonic():
                return cached.value
            form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
            form.update(extra or {})
            try:
                body: Any = await api.call(
                    http,
                    "POST",
                    token_url,
                    credential=client_id,
                    what="token request",
                    headers={"accept": "application/json"},
                    form=form,
                )
            except RequestRejected as exc:
                # OAuth servers answer bad client credentials with 400 invalid_client.
                raise ConfigurationError(f"{api.provider} rejected the client credentials: {exc}") from exc
            if not isinstance(body, Mapping) or not isinstance(body.get("access_token"), str):
                raise PayloadError(f"{api.provider} token endpoint: no access_token in the answer")
            lifetime = body.get("expires_in")
            seconds = float(lifetime) if isinstance(lifetime, int | float) else 3600.0
            token = _Token(body["access_token"], time.monotonic() + max(seconds - EARLY_RENEWAL_SECONDS, 1.0))
            self._tokens[key] = token
            return token.value

    def forget(self, token_url: str, client_id: str, client_secret: str) -> None:
        self._tokens.pop(self._key(token_url, client_id, client_secret), None)


TOKENS = TokenCache()
