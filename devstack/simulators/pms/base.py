"""What every PMS simulator shares: an aiohttp server, a request log, faults and rate limits.

A vendor simulator subclasses `PmsSimulator`, registers its routes in `routes()`, renders its
own reservation shape from the vendor-neutral `Booking`, and says which credential a request
carries (`credential_of`). Everything else is here:

- `log`: every request with the simulator's monotonic time, so a test can check that a client
  waited for `Retry-After` by comparing two entries, not by timing itself;
- faults: `fail_next(n, status)` (5xx), `throttle_next(retry_after)` (one 429), `go_down()` /
  `come_back()` (every request 503, as in an outage), `revoke(credential)` (401 from then on),
  `latency` (seconds added to every answer);
- the vendor's own rate limit per credential (`limit`), answered with 429 and `Retry-After`;
- bookings with their modification time, and `touch()` to modify one "now" or at a given time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Self
from zoneinfo import ZoneInfo

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# The decoded request body (JSON or form), for handlers of POST APIs.
BODY = web.RequestKey("body", object)


@dataclass(frozen=True)
class Booking:
    """A reservation as the simulators keep it; each vendor renders it in its own shape."""

    id: str
    property_id: str
    status: str  # canonical: confirmed | checked_in | checked_out | cancelled | no_show
    arrival: dt.date
    departure: dt.date
    modified: dt.datetime
    first_name: str = "Ada"
    last_name: str = "Lovelace"
    phone: str | None = "+4915112345678"
    email: str | None = "ada@example.com"
    language: str | None = "de-DE"
    country: str | None = "DE"
    adults: int = 2
    children: int = 0
    room: str | None = None
    created: dt.datetime | None = None
    # The vendor's own status when it has no canonical equivalent (an inquiry, an option).
    vendor_status: str | None = None


@dataclass(frozen=True)
class Logged:
    at: float  # time.monotonic() when the request arrived
    method: str
    path: str
    query: Mapping[str, str]
    body: Any
    credential: str | None
    status: int


@dataclass
class Rate:
    requests: int
    per_seconds: float


@dataclass
class _Faults:
    fail: deque[int] = field(default_factory=deque)
    throttle: deque[float] = field(default_factory=deque)
    down: bool = False
    revoked: set[str] = field(default_factory=set)


def utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def local_instant(day: dt.date, clock: dt.time, timezone: str) -> dt.datetime:
    """`clock` on `day` in the property's time zone (e.g. the 15:00 check-in) as an aware time."""
    return dt.datetime.combine(day, clock, tzinfo=ZoneInfo(timezone))


def iso_z(value: dt.datetime) -> str:
    text = value.astimezone(dt.UTC).isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return text.replace("+00:00", "Z")


class PmsSimulator:
    vendor = "pms"

    def __init__(self, *, latency: float = 0.0, limit: Rate | None = None, host: str = "127.0.0.1", port: int = 0):
        self.host = host
        self.port = port
        self.latency = latency
        self.limit = limit
        self.bookings: dict[str, Booking] = {}
        self.log: list[Logged] = []
        self.faults = _Faults()
        self._windows: dict[str, deque[float]] = {}
        self._runner: web.AppRunner | None = None
        # Called with (request number, path) before each listing page is answered: tests use it to
        # modify data in the middle of a sync.
        self.before_page: Callable[[int, str], None] | None = None
        self._pages_served = 0

    # -- lifecycle -----------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware], client_max_size=4 * 1024 * 1024)
        for method, path, handler in self.routes():
            app.router.add_route(method, path, handler)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- what a vendor defines -------------------------------------------------------------------
    def routes(self) -> Iterable[tuple[str, str, Handler]]:
        raise NotImplementedError

    def credential_of(self, request: web.Request, body: Any) -> str | None:
        """The credential the request presents (None: none at all)."""
        raise NotImplementedError

    def known_credential(self, credential: str) -> bool:
        raise NotImplementedError

    def unauthorized(self, request: web.Request, message: str) -> web.StreamResponse:
        return web.json_response({"message": message}, status=401)

    def limited(self, request: web.Request) -> bool:
        """Whether the request counts against the vendor's rate limit."""
        return True

    # -- test controls -------------------------------------------------------------------------
    def put(self, *bookings: Booking) -> None:
        for booking in bookings:
            self.bookings[booking.id] = booking

    def touch(self, booking_id: str, at: dt.datetime | None = None, **changes: Any) -> Booking:
        """Modifies a booking (at `at`, default now), as a hotel would at the PMS."""
        booking = replace(self.bookings[booking_id], modified=utc(at or dt.datetime.now(dt.UTC)), **changes)
        self.bookings[booking_id] = booking
        return booking

    def fail_next(self, count: int = 1, status: int = 503) -> None:
        self.faults.fail.extend([status] * count)

    def throttle_next(self, retry_after: float = 1.0) -> None:
        self.faults.throttle.append(retry_after)

    def go_down(self) -> None:
        self.faults.down = True

    def come_back(self) -> None:
        self.faults.down = False

    def revoke(self, credential: str) -> None:
        self.faults.revoked.add(credential)

    def requests(self, path_contains: str = "") -> list[Logged]:
        return [r for r in self.log if path_contains in r.path]

    def modified_between(self, since: dt.datetime, until: dt.datetime) -> list[Booking]:
        """Bookings modified in [since, until), oldest first (ties by id), as listings return them."""
        found = [b for b in self.bookings.values() if utc(since) <= b.modified < utc(until)]
        return sorted(found, key=lambda b: (b.modified, b.id))

    def page_served(self, path: str) -> None:
        """Vendors call this before answering a listing page (see `before_page`)."""
        self._pages_served += 1
        if self.before_page is not None:
            self.before_page(self._pages_served, path)

    # -- the middleware: log, faults, auth, rate limit -------------------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        at = time.monotonic()
        body: Any = None
        if request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    body = None
            else:
                body = dict(await request.post())
        request[BODY] = body
        credential = self.credential_of(request, body)
        response = await self._answer(request, handler, credential)
        if self.latency:
            await asyncio.sleep(self.latency)
        self.log.append(
            Logged(at, request.method, request.path, dict(request.query), body, credential, response.status)
        )
        return response

    async def _answer(self, request: web.Request, handler: Handler, credential: str | None) -> web.StreamResponse:
        if request.path.startswith("/_sim"):
            return await handler(request)
        if self.faults.down:
            return web.json_response({"message": "service unavailable"}, status=503)
        if self.faults.fail:
            return web.json_response({"message": "internal error"}, status=self.faults.fail.popleft())
        if credential is None or not self.known_credential(credential) or credential in self.faults.revoked:
            return self.unauthorized(request, "invalid or revoked credentials")
        if self.faults.throttle:
            return self._too_many(self.faults.throttle.popleft())
        if self.limit is not None and self.limited(request):
            wait = self._count(credential, self.limit)
            if wait > 0:
                return self._too_many(wait)
        return await handler(request)

    def _count(self, credential: str, limit: Rate) -> float:
        now = time.monotonic()
        window = self._windows.setdefault(credential, deque())
        while window and window[0] <= now - limit.per_seconds:
            window.popleft()
        if len(window) >= limit.requests:
            return window[0] + limit.per_seconds - now
        window.append(now)
        return 0.0

    @staticmethod
    def _too_many(retry_after: float) -> web.StreamResponse:
        # Retry-After is whole seconds (RFC 9110); round up so that waiting it is always enough.
        seconds = max(1, math.ceil(retry_after))
        return web.json_response({"message": "too many requests"}, status=429, headers={"Retry-After": str(seconds)})
