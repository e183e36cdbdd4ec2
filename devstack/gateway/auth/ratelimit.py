"""GoTrue's per-IP request limits ([auth.rate_limit]): a token bucket per (limit, IP address) that
holds `limit` requests and refills at limit/window per second, so bursts are allowed up to the
limit and the long-run rate is the configured one."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from devstack.gateway.auth.errors import AuthError


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class RateLimiter:
    limit: int
    window_seconds: float
    code: str = "over_request_rate_limit"
    message: str = "Request rate limit reached"
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def take(self, key: str) -> None:
        """Counts one request for `key`, or raises 429 when its bucket is empty."""
        now = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.limit), now)
        rate = self.limit / self.window_seconds
        bucket.tokens = min(float(self.limit), bucket.tokens + (now - bucket.stamp) * rate)
        bucket.stamp = now
        if bucket.tokens < 1:
            raise AuthError(429, self.code, self.message)
        bucket.tokens -= 1
