"""Calling a PMS API: rate limit, timeouts, retries and error mapping in one place.

- Every request waits for its credential's limiter (ratelimit.py).
- 429: the credential is paused for `Retry-After` (or the vendor's window when absent) and the
  request is repeated; a pause longer than the policy allows becomes a TransientError so the
  sync job fails now instead of sleeping for an hour.
- 5xx, timeouts and connection errors are retried with exponential backoff and jitter
  (tenacity), then raised as TransientError: the PMS is down.
- 401 and 403 are ConfigurationError: the credentials were revoked or are wrong, and retrying
  cannot help (the configuration is marked failing with this reason).
- 404 is NotFound; other 4xx are RequestRejected (our request or the configuration is wrong).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from worker.errors import ConfigurationError, PayloadError, TransientError, WorkerError
from worker.pms.ratelimit import LIMITERS, Limiter, LimiterRegistry, Rate
from worker.url_guard import UrlRefused, address_refused_in


class NotFound(WorkerError):
    """The PMS does not know the record (deleted, or an id of another account)."""


class RequestRejected(WorkerError):
    """The PMS refused the request as malformed (400, 422, ...): retrying cannot help."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    initial_wait: float = 0.5
    max_wait: float = 8.0
    # 429s handled by waiting in one call; the next one fails the job (the PMS is throttling hard).
    rate_limit_retries: int = 5
    # Longer Retry-After values fail the job instead of holding a worker.
    max_retry_after: float = 120.0
    timeout: httpx.Timeout = field(default_factory=lambda: httpx.Timeout(30.0, connect=5.0))


class _Retryable(Exception):
    pass


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date (RFC 9110)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max((when - (now or dt.datetime.now(dt.UTC))).total_seconds(), 0.0)


def _excerpt(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:300]


@dataclass
class VendorApi:
    """The HTTP client side of one vendor: its rate limits and how to read its errors."""

    provider: str
    rates: Sequence[Rate]
    # The pause after a 429 without Retry-After (the vendor's rate window).
    default_retry_after: float = 1.0
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    limiters: LimiterRegistry = field(default_factory=lambda: LIMITERS)

    async def call(
        self,
        http: httpx.AsyncClient,
        method: str,
        url: str,
        *,
        credential: str,
        what: str,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
    ) -> Any:
        """The decoded JSON answer of a successful request (see the module doc for errors)."""
        limiter = self.limiters.for_credential(self.provider, credential, self.rates)
        throttled = 0
        while True:
            response = await self._send_with_retries(
                http, limiter, method, url, what=what, headers=headers, params=params, json_body=json_body, form=form
            )
            if response.status_code != 429:
                return self._decode(response, what)
            delay = retry_after_seconds(response.headers.get("retry-after"))
            delay = self.default_retry_after if delay is None else delay
            throttled += 1
            if throttled > self.policy.rate_limit_retries or delay > self.policy.max_retry_after:
                raise TransientError(f"{self.provider} {what}: rate limited (429), retry after {delay:.0f}s", delay)
            limiter.pause(delay)

    async def _send_with_retries(
        self,
        http: httpx.AsyncClient,
        limiter: Limiter,
        method: str,
        url: str,
        *,
        what: str,
        headers: Mapping[str, str] | None,
        params: Mapping[str, Any] | None,
        json_body: Any,
        form: Mapping[str, str] | None,
    ) -> httpx.Response:
        policy = self.policy
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(_Retryable),
                stop=stop_after_attempt(policy.attempts),
                wait=wait_random_exponential(multiplier=policy.initial_wait, max=policy.max_wait),
                reraise=True,
            ):
                with attempt:
                    await limiter.acquire()
                    try:
                        response = await http.request(
                            method,
                            url,
                            headers=headers,
                            params=params,
                            json=json_body,
                            data=form,
                            timeout=policy.timeout,
                        )
                    except UrlRefused as exc:
                        raise ConfigurationError(f"{self.provider} {what}: {exc}") from exc
                    except httpx.TransportError as exc:
                        # The host resolves to an address the URL policy refuses: configuration.
                        refused = address_refused_in(exc)
                        if refused is not None:
                            raise ConfigurationError(f"{self.provider} {what}: {refused.strerror}") from exc
                        if isinstance(exc, httpx.TimeoutException):
                            raise _Retryable(f"timed out ({type(exc).__name__})") from exc
                        raise _Retryable(f"unreachable ({type(exc).__name__}: {exc})") from exc
                    if response.status_code >= 500:
                        raise _Retryable(f"answered {response.status_code}: {_excerpt(response)}")
                    return response
        except _Retryable as exc:
            raise TransientError(f"{self.provider} {what}: {exc} (after {policy.attempts} attempts)") from exc
        raise AssertionError("unreachable: tenacity either returns or re-raises")

    def _decode(self, response: httpx.Response, what: str) -> Any:
        status = response.status_code
        if status in (401, 403):
            raise ConfigurationError(
                f"{self.provider} rejected the credentials ({status}) on {what}: {_excerpt(response)}"
            )
        if status == 404:
            raise NotFound(f"{self.provider} {what}: not found (404)")
        if status >= 300:
            raise RequestRejected(f"{self.provider} {what}: rejected ({status}): {_excerpt(response)}")
        if not response.content:
            return None
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PayloadError(f"{self.provider} {what}: the answer is not JSON") from exc


def credential(credentials: Mapping[str, Any], name: str, *, provider: str) -> str:
    """A required credential field, or ConfigurationError naming what is missing."""
    value = credentials.get(name)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ConfigurationError(f"{provider} credentials need {name!r} (set them in the PMS settings)")
