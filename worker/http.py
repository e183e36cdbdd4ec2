"""The worker's two HTTP clients: an aiohttp session for WAHA, an httpx client for PMS calls.

WAHA: aiohttp directly (worker/waha/client.py). The send path is thousands of exchanges a second
and CPU-bound; httpx's request/response layer on top of aiohttp cost 2.01 ms of CPU per message
(check-exists + sendText) against 0.71 ms for aiohttp alone, measured at 300 concurrent sends.

PMS: httpx's API (worker/pms/ is written against it) with aiohttp underneath: httpx's own
connection pool (httpcore) scans every pooled connection on each request, which at hundreds of
concurrent connections cost 5-10 ms of CPU per request; the aiohttp transport does the same work
in well under 1 ms (bench/README.md has the measurements).

Both refuse tenant URLs the outbound policy forbids (worker/url_guard.py), also at connect time,
unless `allow_local` (WORKER_ALLOW_LOCAL_URLS, local development) is set.
"""

from __future__ import annotations

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from worker.url_guard import guarded_session_options


def new_client(*, timeout_seconds: float, max_connections: int, allow_local: bool = False) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)

    def session() -> aiohttp.ClientSession:
        # What AiohttpTransport would build itself, with the guarded connector.
        return aiohttp.ClientSession(
            **guarded_session_options(
                allow_local=allow_local,
                limit=max_connections,
                keepalive_timeout=limits.keepalive_expiry,
                ssl=httpx.create_ssl_context(),
            )
        )

    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_seconds), limits=limits, transport=AiohttpTransport(limits=limits, client=session)
    )


def new_waha_session(
    *, timeout_seconds: float, max_connections: int, allow_local: bool = False
) -> aiohttp.ClientSession:
    """The session WahaClient sends through. Must be created inside the running event loop and
    closed by its owner."""
    timeout = aiohttp.ClientTimeout(
        total=timeout_seconds,
        # Shorter than the total, so a WAHA that cannot be reached fails in connect
        # (ConnectionTimeoutError: nothing sent, the session counts as unavailable) rather than
        # in the total timeout, which cannot tell a connect from a lost answer.
        sock_connect=min(5.0, timeout_seconds / 2),
    )
    return aiohttp.ClientSession(
        # No per-host limit: many tenants' sessions live on one WAHA server.
        **guarded_session_options(allow_local=allow_local, limit=max_connections, limit_per_host=0),
        timeout=timeout,
        # WAHA sets no cookies, and one jar across tenants' WAHA servers must not keep any.
        cookie_jar=aiohttp.DummyCookieJar(),
    )
