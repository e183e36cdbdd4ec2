"""The worker's one HTTP client, shared by WAHA and PMS calls.

httpx's API with aiohttp underneath: httpx's own connection pool (httpcore) scans every pooled
connection on each request, which at hundreds of concurrent WAHA sessions cost 5-10 ms of CPU per
request and capped delivery near 50 messages/s per process; the aiohttp transport does the same
work in well under 1 ms (bench/README.md has the measurements).
"""

from __future__ import annotations

import httpx
from httpx_aiohttp import AiohttpTransport


def new_client(*, timeout_seconds: float, max_connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_seconds), limits=limits, transport=AiohttpTransport(limits=limits)
    )
