"""The worker's two HTTP clients: an aiohttp session for WAHA, an httpx client for PMS calls.

WAHA: aiohttp directly (worker/waha/client.py). The send path is thousands of exchanges a second
and CPU-bound; httpx's request/response layer on top of aiohttp cost 2.01 ms of CPU per message
(check-exists + sendText) against 0.71 ms for aiohttp alone, measured at 300 concurrent sends.

PMS: httpx's API (worker/pms/ is written against it) with aiohttp underneath: httpx's own
connection pool (httpcore) scans every pooled connection on each request, which at hundreds of
concurrent connections cost 5-10 ms of CPU per request; the aiohttp transport does the same work
in well under 1 ms (bench/README.md has the measurements).
"""

from __future__ import annotations

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport


def new_client(*, timeout_seconds: float, max_connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_seconds), limits=limits, transport=AiohttpTransport(limits=limits)
    )


def new_waha_session(*, timeout_seconds: float, max_connections: int) -> aiohttp.ClientSession:
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
        connector=aiohttp.TCPConnector(limit=max_connections, limit_per_host=0),
        timeout=timeout,
        # WAHA sets no cookies, and one jar across tenants' WAHA servers must not keep any.
        cookie_jar=aiohttp.DummyCookieJar(),
    )
