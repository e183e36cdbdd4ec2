"""Webhook delivery the way WAHA does it: one JSON body per event, POSTed to every webhook of the
session that subscribed to the event, signed per webhook, retried per webhook.

Headers (WAHA's documented ones): `Content-Type: application/json`, `User-Agent: WAHA/<version>`,
`X-Webhook-Request-Id` (a ULID per delivery), `X-Webhook-Timestamp` (ms), the webhook's
`customHeaders`, and, when the webhook has an `hmac.key`, `X-Webhook-Hmac` (hex HMAC-SHA512 of
the exact body bytes) with `X-Webhook-Hmac-Algorithm: sha512`.

Retries follow the webhook's `retries` (`attempts` counts every try, `delaySeconds`, `policy`
linear | exponential | constant); without one, WAHA's documented default of 15 tries 2 s apart.
A delivery counts as received on any 2xx answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import secrets
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_ulid(now_ms: int | None = None) -> str:
    """A ULID (48-bit millisecond time, 80 random bits), upper-case Crockford base32."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_event_id() -> str:
    """WAHA's event id: `evt_` and a lower-case ULID."""
    return "evt_" + new_ulid().lower()


def sign(body: bytes, key: str) -> str:
    """WAHA's X-Webhook-Hmac: hex HMAC-SHA512 of the raw body."""
    return hmac.new(key.encode(), body, hashlib.sha512).hexdigest()


@dataclass(frozen=True)
class Retries:
    attempts: int = 15
    delay: float = 2.0
    policy: str = "constant"

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait before try number `attempt` (2 is the first retry)."""
        n = attempt - 1
        if self.policy == "linear":
            return self.delay * n
        if self.policy == "exponential":
            return float(self.delay * 2 ** (n - 1))
        return self.delay


@dataclass(frozen=True)
class WebhookTarget:
    """One entry of a session's `config.webhooks`."""

    url: str
    events: frozenset[str]
    hmac_key: str | None
    retries: Retries
    custom_headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_config(cls, config: Mapping[str, Any], default_retries: Retries) -> WebhookTarget:
        retries = default_retries
        raw = config.get("retries")
        if isinstance(raw, Mapping):
            retries = Retries(
                attempts=max(1, int(raw.get("attempts", default_retries.attempts))),
                delay=float(raw.get("delaySeconds", default_retries.delay)),
                policy=str(raw.get("policy", default_retries.policy)),
            )
        key = (config.get("hmac") or {}).get("key")
        headers = tuple((h["name"], h["value"]) for h in config.get("customHeaders") or ())
        return cls(
            url=config["url"],
            events=frozenset(str(e) for e in config.get("events", ())),
            hmac_key=key or None,
            retries=retries,
            custom_headers=headers,
        )

    def wants(self, event: str) -> bool:
        return event in self.events or "*" in self.events


@dataclass
class Delivery:
    """One event on its way to one webhook URL, with what happened to it."""

    session: str
    event: str
    event_id: str
    url: str
    body: bytes
    headers: dict[str, str]
    target: WebhookTarget = field(repr=False)
    attempts: int = 0
    status: int | None = None
    error: str | None = None
    delivered: bool = False
    finished: bool = False

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookDispatcher:
    """Posts webhooks from a bounded pool of tasks sharing one aiohttp session."""

    def __init__(self, *, user_agent: str, concurrency: int = 64, timeout: float = 10.0, history: int = 10_000) -> None:
        self._user_agent = user_agent
        self._concurrency = concurrency
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue()
        self._workers: list[asyncio.Task[None]] = []
        self._http: aiohttp.ClientSession | None = None
        self._inflight: dict[int, Delivery] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self._retry_handles: set[asyncio.TimerHandle] = set()
        self.deliveries: deque[Delivery] = deque(maxlen=history)

    async def start(self) -> None:
        if self._http is not None:
            return
        connector = aiohttp.TCPConnector(limit=self._concurrency)
        self._http = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        self._workers = [asyncio.create_task(self._work(), name=f"waha-webhook-{i}") for i in range(self._concurrency)]

    async def stop(self) -> None:
        """Stops posting. Like a WAHA process that goes down, it forgets what it had not
        delivered yet (those deliveries end with the error "simulator stopped")."""
        for handle in self._retry_handles:
            handle.cancel()
        self._retry_handles.clear()
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers = []
        if self._http is not None:
            await self._http.close()
            self._http = None
        for delivery in list(self._inflight.values()):
            delivery.error = "simulator stopped"
            self._finish(delivery)
        while not self._queue.empty():
            self._queue.get_nowait()
            self._queue.task_done()

    def post(self, session: str, targets: Sequence[WebhookTarget], event: str, envelope: Mapping[str, Any]) -> None:
        """Queues one event for every target; the body is serialised once, as WAHA does."""
        body = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()
        for target in targets:
            headers = {"Content-Type": "application/json", "User-Agent": self._user_agent}
            headers.update(target.custom_headers)
            if target.hmac_key:
                headers["X-Webhook-Hmac"] = sign(body, target.hmac_key)
                headers["X-Webhook-Hmac-Algorithm"] = "sha512"
            delivery = Delivery(
                session=session,
                event=event,
                event_id=str(envelope["id"]),
                url=target.url,
                body=body,
                headers=headers,
                target=target,
            )
            self.deliveries.append(delivery)
            self._inflight[id(delivery)] = delivery
            self._idle.clear()
            self._queue.put_nowait(delivery)

    async def drain(self) -> None:
        """Returns once every queued webhook was delivered or ran out of tries."""
        await self._idle.wait()

    async def _work(self) -> None:
        while True:
            delivery = await self._queue.get()
            try:
                await self._attempt(delivery)
            finally:
                self._queue.task_done()

    async def _attempt(self, delivery: Delivery) -> None:
        assert self._http is not None
        delivery.attempts += 1
        headers = dict(delivery.headers)
        headers["X-Webhook-Request-Id"] = new_ulid()
        headers["X-Webhook-Timestamp"] = str(int(time.time() * 1000))
        try:
            async with self._http.post(delivery.url, data=delivery.body, headers=headers) as response:
                await response.read()
                delivery.status = response.status
                delivery.error = None if response.status < 300 else f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            delivery.status = None
            delivery.error = f"{type(exc).__name__}: {exc}"
        if delivery.error is None:
            delivery.delivered = True
            self._finish(delivery)
        elif delivery.attempts >= delivery.target.retries.attempts:
            self._finish(delivery)
        else:
            loop = asyncio.get_running_loop()
            delay = delivery.target.retries.delay_before(delivery.attempts + 1)
            handle: asyncio.TimerHandle

            def requeue() -> None:
                self._retry_handles.discard(handle)
                self._queue.put_nowait(delivery)

            handle = loop.call_later(delay, requeue)
            self._retry_handles.add(handle)

    def _finish(self, delivery: Delivery) -> None:
        delivery.finished = True
        self._inflight.pop(id(delivery), None)
        if not self._inflight:
            self._idle.set()
