"""A WAHA (WhatsApp HTTP API, Plus tier) server for tests, the demo and the benchmarks.

    .venv/bin/python -m devstack.simulators.waha --port 3000 [--api-key K] [--auto-pair]

or embedded:

    async with WahaSimulator(api_key="k") as waha:
        waha.add_session("hotel-a", webhooks=[{"url": ..., "events": ["message.ack"], "hmac": {"key": ...}}])
        ...  # point the code under test at waha.base_url
        waha.assert_no_violations()

What it does, following WAHA's OpenAPI document (devstack/simulators/waha_spec.py loads it):
- Serves the operations the product uses: POST /api/sendText; sessions list / create / get /
  update / delete / start / stop / restart / logout / me; GET /api/{session}/auth/qr (PNG, or
  JSON with Accept: application/json, or format=raw); POST /api/{session}/auth/request-code;
  GET /api/contacts/check-exists; GET /api/{session}/chats/{chatId}/messages (the session's own
  sends, where the engine keeps history); GET /ping. Any other operation of the spec answers 501 and is
  listed in `unsupported`; a path the spec does not have answers 404 and is a violation.
- Checks every request (X-Api-Key, JSON body, query) against the operation's schemas; a request
  that does not follow the spec gets WAHA's 400 and is recorded in `violations`.
- Answers like WAHA: a session that is not running gives 404 ("We didn't find a session ..."),
  one that runs but is not WORKING gives 422 ("Session status is not as expected ..."); a wrong
  key gives 401. Unlike WAHA, it does not first wait up to 5 s for the session to become
  WORKING, and, with `start_delay=0`, a started session reaches its next status at once.
- Posts webhooks (waha_webhooks.py): `session.status` on every status change, `message.ack`
  for sent messages (SERVER 1, DEVICE 2, READ 3 after `ack_delays`, or when a test calls
  `ack()`), `message` for a guest's reply (`receive()`), `message.any` for both directions.
- `receive()` (control: POST /_sim/sessions/{session}/inbound) also brings media (image,
  document, voice, audio, video: served like WAHA at GET /api/files/{session}/{file}, with the API
  key, a route WAHA serves outside its OpenAPI document), locations, group and status-broadcast
  messages, channel posts, and messages the hotel wrote on its phone (fromMe, `message.any` only).
- A number "not on WhatsApp" behaves as it does on WAHA: check-exists says `numberExists: false`
  and sendText still answers 201, but the message never gets past the SERVER ack.
- sendText's answer has the shape of the session's engine: NOWEB (`key.id`), WEBJS
  (`id._serialized`), GOWS (the spec's WAMessage, `id` a string), or an empty 201.

Bodies follow the spec's schemas, which require some fields that real WAHA leaves out for
one-to-one chats (`participant`, `mediaUrl`) or sends as null (`environment.browser` on NOWEB);
the simulator fills them (the chat id, "", "") so that spec-validating receivers accept them.

Everything a test controls is a method here and, for the demo and the benchmarks where the
simulator is a separate process, an endpoint under /_sim/ (see `_control_routes`; it takes no
API key - the simulator is test infrastructure and listens on 127.0.0.1 by default).

Throughput measured on the 2-core dev machine: ~1,300 sendText/s over 1,000 sessions at 50 ms
latency (~0.3 ms CPU a request); each webhook costs another ~0.2 ms, so at full rate three ack
webhooks per message need most of a core - turn automatic acks off (`ack_delays=None`,
`--ack-delays-ms off`) or subscribe to fewer events when that matters.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import secrets
import signal
import socket
import struct
import time
import zlib
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

import uvloop
from aiohttp import web

from devstack.simulators import waha_spec
from devstack.simulators.waha_webhooks import (
    Delivery,
    Retries,
    WebhookDispatcher,
    WebhookTarget,
    new_event_id,
    new_ulid,
)

ENGINES = ("NOWEB", "WEBJS", "GOWS")
SHAPES = ("noweb", "webjs", "gows", "empty")
STATUSES = (
    "STOPPED",
    "STARTING",
    "SCAN_QR_CODE",
    "PASSKEY_REQUIRED",
    "PASSKEY_CONFIRMATION_REQUIRED",
    "WORKING",
    "FAILED",
)
ACK_NAMES = {-1: "ERROR", 0: "PENDING", 1: "SERVER", 2: "DEVICE", 3: "READ", 4: "PLAYED"}
_ENGINE_SHAPE = {"NOWEB": "noweb", "WEBJS": "webjs", "GOWS": "gows"}
# What `receive()` sends for each kind of media: (file, mimetype, extension). Small, but each is
# the start of a real file of its type (a viewer may not play them).
MEDIA_KINDS: dict[str, tuple[bytes, str, str]] = {
    "image": (b"", "image/png", "png"),  # filled below with a real PNG
    "document": (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
        "application/pdf",
        "pdf",
    ),
    "voice": (b"OggS\x00\x02" + bytes(22) + b"\x01\x13OpusHead\x01\x01", "audio/ogg; codecs=opus", "oga"),
    "audio": (b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg", "mp3"),
    "video": (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "video/mp4", "mp4"),
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# The parsed JSON body, read once by the middleware.
_BODY: web.RequestKey[Any] = web.RequestKey("body", object)


@dataclass(frozen=True)
class Fault:
    """What the next sendText of a session does instead of sending.

    http: answer `status` (5xx, 429 ...) with `Retry-After` when given; timeout: hold the
    request for `hang` seconds, then 504; disconnect: close the connection without an answer."""

    kind: Literal["http", "timeout", "disconnect"]
    status: int = 500
    retry_after: float | None = None
    hang: float = 30.0


@dataclass
class SentMessage:
    """A message sendText accepted. `at` is wall-clock time, `monotonic` the event loop's clock."""

    id: str  # WAHA's serialised id, as message.ack webhooks carry it: true_<chat>_<key>
    key: str
    session: str
    chat_id: str
    text: str
    at: float
    monotonic: float
    request: Mapping[str, Any]
    ack: int = 0
    on_whatsapp: bool = True
    # How many times sendText accepted this id: more than once is a guest messaged twice.
    times: int = 1


@dataclass(frozen=True)
class Violation:
    method: str
    path: str
    operation: str | None
    errors: tuple[str, ...]
    at: float

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.operation or 'not in the spec'}): {'; '.join(self.errors)}"


@dataclass
class SimSession:
    name: str
    engine: str
    config: dict[str, Any] | None
    status: str = "STOPPED"
    paired: bool = False
    phone: str = ""
    push_name: str = "Hotel"
    shape: str | None = None
    latency: float | None = None
    faults: deque[Fault] = field(default_factory=deque)
    sent: OrderedDict[str, SentMessage] = field(default_factory=OrderedDict)
    sent_total: int = 0
    statuses: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=10))
    targets: tuple[WebhookTarget, ...] = ()
    qr: str = ""
    pairing_code: str | None = None
    activity: float | None = None
    # Media of received messages, by file name: (bytes, mimetype), as WAHA keeps its downloads.
    files: OrderedDict[str, tuple[bytes, str]] = field(default_factory=OrderedDict)
    # Messages received (by id), for GET .../messages/{messageId}?downloadMedia=true.
    received: OrderedDict[str, tuple[dict[str, Any], str]] = field(default_factory=OrderedDict)

    @property
    def running(self) -> bool:
        return self.status != "STOPPED"

    @property
    def me(self) -> dict[str, Any] | None:
        return {"id": f"{self.phone}@c.us", "pushName": self.push_name} if self.paired else None


class _Reply(Exception):
    """Ends a request early with this response (WAHA's error answers)."""

    def __init__(self, response: web.StreamResponse) -> None:
        super().__init__(response.status)
        self.response = response


def _nest_error(status: int, message: str | list[str], error: str) -> web.Response:
    return web.json_response({"statusCode": status, "message": message, "error": error}, status=status)


def _not_found_session(name: str) -> _Reply:
    message = (
        f"We didn't find a session with name '{name}'.\n"
        f"Please start it first by using POST /api/sessions/{name}/start request"
    )
    return _Reply(_nest_error(404, message, "Not Found"))


def _wrong_status(session: SimSession, expected: Sequence[str]) -> _Reply:
    body = {
        "error": "Session status is not as expected. Try again later or restart the session",
        "session": session.name,
        "status": session.status,
        "expected": list(expected),
    }
    return _Reply(web.json_response(body, status=422))


def _server_error(message: str, status: int = 500) -> web.Response:
    body = {
        "statusCode": status,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "exception": {"message": message, "name": "Error"},
    }
    return web.json_response(body, status=status)


def _digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())


def _new_key() -> str:
    # The shape of ids WhatsApp Web clients generate: 3EB0 and 18 more hex digits.
    return "3EB0" + secrets.token_hex(9).upper()


class WahaSimulator:
    """One simulated WAHA server. All methods run on the event loop that started it."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        engine: str = "NOWEB",
        latency: float = 0.0,
        auto_pair: bool = False,
        start_delay: float = 0.0,
        ack_delays: tuple[float, float, float] | None = (0.05, 0.1, 0.2),
        webhook_retries: Retries | None = None,
        webhook_concurrency: int = 64,
        history: int = 10_000,
        spec: waha_spec.OpenApiSpec | None = None,
    ) -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}")
        self.host = host
        self.port = port
        self.engine = engine
        self.latency = latency
        self.auto_pair = auto_pair
        self.start_delay = start_delay
        self.ack_delays = ack_delays
        self.webhook_retries = webhook_retries or Retries()
        self.history = history
        self.spec = spec or waha_spec.load()
        self.sessions: dict[str, SimSession] = {}
        # key -> (session it is limited to or None, forced status 401/403 or None)
        self._keys: dict[str, tuple[str | None, int | None]] = {}
        if api_key:
            self._keys[api_key] = (None, None)
        self._not_on_whatsapp: set[str] = set()
        self.violations: deque[Violation] = deque(maxlen=history)
        self.unsupported: deque[str] = deque(maxlen=history)
        self._webhooks = WebhookDispatcher(
            user_agent=f"WAHA/{self.spec.version}", concurrency=webhook_concurrency, history=history
        )
        self._runner: web.AppRunner | None = None
        self._socket: socket.socket | None = None
        self._match_cache: dict[tuple[str, str], waha_spec.Operation | None] = {}
        self._png_cache: dict[str, bytes] = {}
        self._phone_counter = 0
        # Called with each message sendText accepted, before the answer goes out: a fault test
        # can kill the sender at exactly the moment WAHA has a message the sender never hears of.
        self.on_sent: Callable[[SentMessage], None] | None = None

    # ---------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def start(self) -> None:
        """Starts serving; after a stop() it comes back on the same port with its state kept
        (a WAHA restart that kept its sessions)."""
        if self._runner is not None:
            return
        app = web.Application(middlewares=[self._middleware], client_max_size=4 * 1024 * 1024)
        app.add_routes(self._api_routes() + self._file_routes() + self._control_routes())
        # A stop is a crash, not a graceful shutdown: requests held by a timeout fault or a long
        # latency are cut after a second instead of aiohttp's default minute.
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        site = web.SockSite(runner, sock, backlog=1024)
        await site.start()
        self._runner, self._socket = runner, sock
        await self._webhooks.start()

    async def stop(self) -> None:
        """Stops serving (connections are refused until start()); undelivered webhooks and
        pending acks are lost, as when a WAHA process dies."""
        if self._runner is None:
            return
        runner, self._runner = self._runner, None
        await runner.cleanup()
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        await self._webhooks.stop()

    async def __aenter__(self) -> WahaSimulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ---------------------------------------------------------------- sessions (test side)

    def add_session(
        self,
        name: str,
        *,
        status: str = "WORKING",
        engine: str | None = None,
        webhooks: Sequence[Mapping[str, Any]] = (),
        metadata: Mapping[str, str] | None = None,
        phone: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> SimSession:
        """Creates (or replaces) a session directly in `status`, as if it had been set up and
        paired earlier. `webhooks` are `config.webhooks` entries as in the spec; `config` adds
        other session config (e.g. {"noweb": {"store": {"enabled": True, "fullSync": False}}})."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")
        config = dict(config or {})
        if webhooks:
            config["webhooks"] = [dict(w) for w in webhooks]
        if metadata:
            config["metadata"] = dict(metadata)
        session = self._new_session(name, engine or self.engine, config or None)
        session.paired = status in ("WORKING", "FAILED")
        if phone:
            session.phone = _digits(phone)
        self.sessions[name] = session
        if status != "STOPPED":
            self._set_status(session, status)
        return session

    def session(self, name: str) -> SimSession:
        try:
            return self.sessions[name]
        except KeyError:
            raise KeyError(f"the WAHA simulator has no session {name!r}") from None

    def set_status(self, name: str, status: str) -> None:
        """Moves a session to `status` (e.g. SCAN_QR_CODE when the phone unlinked it, FAILED,
        STOPPED) with its session.status webhook; WORKING pairs it."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")
        session = self.session(name)
        if status == "WORKING":
            session.paired = True
        self._set_status(session, status)

    def pair(self, name: str) -> None:
        """The phone scanned the QR code (or entered the pairing code): the session works."""
        session = self.session(name)
        if session.status not in ("SCAN_QR_CODE", "STARTING"):
            raise RuntimeError(f"session {name!r} is {session.status}, not waiting for a QR scan")
        session.paired = True
        session.pairing_code = None
        self._set_status(session, "WORKING")

    # ---------------------------------------------------------------- faults and settings

    def fail_next(self, name: str, count: int = 1, *, status: int = 500, retry_after: float | None = None) -> None:
        """The next `count` sendText calls of the session answer `status` (500, 502, 503, 429 ...)."""
        self.session(name).faults.extend([Fault("http", status=status, retry_after=retry_after)] * count)

    def timeout_next(self, name: str, count: int = 1, *, hang: float = 30.0) -> None:
        """The next `count` sendText calls hang for `hang` seconds (nothing is sent)."""
        self.session(name).faults.extend([Fault("timeout", hang=hang)] * count)

    def disconnect_next(self, name: str, count: int = 1) -> None:
        """The next `count` sendText calls lose their connection without an answer."""
        self.session(name).faults.extend([Fault("disconnect")] * count)

    def set_latency(self, seconds: float, session: str | None = None) -> None:
        """Adds `seconds` to every answer (of one session, or the default for all)."""
        if session is None:
            self.latency = seconds
        else:
            self.session(session).latency = seconds

    def set_response_shape(self, name: str, shape: str | None) -> None:
        """sendText answers in the shape of another engine ("noweb", "webjs", "gows") or with
        an empty 201 ("empty"); None restores the session's engine."""
        if shape is not None and shape not in SHAPES:
            raise ValueError(f"shape must be one of {SHAPES}")
        self.session(name).shape = shape

    def add_api_key(self, key: str, session: str | None = None) -> None:
        """Accepts another key, for every session or (a session-scoped key) for one."""
        self._keys[key] = (session, None)

    def reject_api_key(self, key: str, status: int = 401) -> None:
        """From now on `key` gets `status`: 401 (a removed key) or 403 (a key not allowed)."""
        if status not in (401, 403):
            raise ValueError("status must be 401 or 403")
        scope = self._keys.get(key, (None, None))[0]
        self._keys[key] = (scope, status)

    def mark_not_on_whatsapp(self, *phones: str) -> None:
        self._not_on_whatsapp.update(_digits(p) for p in phones)

    # ---------------------------------------------------------------- observation

    def sent(self, name: str) -> list[SentMessage]:
        """What the session sent, oldest first (the last `history` messages)."""
        return list(self.session(name).sent.values())

    @property
    def deliveries(self) -> list[Delivery]:
        """Webhooks posted (the last `history`), with their outcome."""
        return list(self._webhooks.deliveries)

    async def drain_webhooks(self) -> None:
        """Waits until every webhook emitted so far was delivered or gave up."""
        await self._webhooks.drain()

    def assert_no_violations(self) -> None:
        if self.violations:
            listed = "\n".join(f"  {v}" for v in self.violations)
            raise AssertionError(f"requests that do not follow WAHA's OpenAPI spec:\n{listed}")

    # ---------------------------------------------------------------- events

    def ack(self, name: str, message_id: str, ack: int) -> None:
        """WhatsApp reports progress of a sent message (1 SERVER, 2 DEVICE, 3 READ, -1 ERROR)."""
        session = self.session(name)
        message = session.sent.get(message_id)
        if message is None:
            raise KeyError(f"session {name!r} sent no message {message_id!r} (or it left the history)")
        self._ack(session, message, ack)

    def receive(
        self,
        name: str,
        from_phone: str,
        text: str | None = None,
        *,
        kind: str = "text",
        caption: str | None = None,
        filename: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
        location_name: str | None = None,
        chat: str = "direct",
        from_me: bool = False,
        push_name: str | None = None,
    ) -> str:
        """A guest writes to the session (e.g. "STOP"), or sends media, a location; or a message
        arrives in a group, a status broadcast or a channel; or (`from_me`) the hotel writes to
        `from_phone` on its own phone. Posts the webhooks WAHA posts; returns the message id."""
        session = self.session(name)
        if session.status != "WORKING":
            raise RuntimeError(f"session {name!r} is {session.status}; it receives nothing")
        if kind not in MEDIA_KINDS and kind not in ("text", "location"):
            raise ValueError(f"kind must be text, location or one of {sorted(MEDIA_KINDS)}")
        if chat not in ("direct", "group", "status", "newsletter"):
            raise ValueError("chat must be direct, group, status or newsletter")
        person = f"{_digits(from_phone)}@c.us"
        me = f"{session.phone}@c.us"
        chat_id = {
            "direct": person,
            "group": f"120363{_digits(from_phone)[-9:]}@g.us",
            "status": "status@broadcast",
            "newsletter": f"120363{_digits(from_phone)[-9:]}@newsletter",
        }[chat]
        key = _new_key()
        message_id = f"{'true' if from_me else 'false'}_{chat_id}_{key}"
        raw: dict[str, Any] = {"notifyName": push_name or "Guest", "type": "chat"}
        payload: dict[str, Any] = {
            "id": message_id,
            "timestamp": int(time.time()),
            "from": me if from_me else chat_id,
            "fromMe": from_me,
            "source": "app",
            "to": chat_id if from_me else me,
            "participant": person if chat != "direct" else chat_id,
            "body": text if kind == "text" else (caption or ""),
            "hasMedia": False,
            "mediaUrl": "",
            "ack": 1,
            "ackName": ACK_NAMES[1],
            "_data": raw,
        }
        if kind == "location":
            raw["type"] = "location"
            payload["location"] = {
                "latitude": str(latitude if latitude is not None else 52.5163),
                "longitude": str(longitude if longitude is not None else 13.3777),
                "live": False,
                **({"name": location_name} if location_name else {}),
            }
        elif kind != "text":
            url = self._keep_file(session, key, kind)
            content, mimetype, extension = MEDIA_KINDS[kind]
            raw.update({"type": "ptt" if kind == "voice" else kind, "size": len(content)})
            payload.update(
                {
                    "hasMedia": True,
                    "mediaUrl": url,
                    "media": {
                        "url": url,
                        "mimetype": mimetype,
                        **({"filename": filename or f"document.{extension}"} if kind == "document" else {}),
                    },
                }
            )
        session.received[message_id] = (payload, kind)
        while len(session.received) > self.history:
            session.received.popitem(last=False)
        if not from_me:
            self._emit(session, "message", payload)
        self._emit(session, "message.any", payload)
        return message_id

    def media_file(self, name: str, file: str) -> tuple[bytes, str] | None:
        """The bytes and mimetype WAHA serves for a received message's media (None: unknown)."""
        return self.session(name).files.get(file)

    def expire_media(self, name: str) -> int:
        """WAHA deletes its downloads after WHATSAPP_FILES_LIFETIME (180 s by default): the
        files route answers 404 until the message is fetched again with downloadMedia=true."""
        session = self.session(name)
        count = len(session.files)
        session.files.clear()
        return count

    def _keep_file(self, session: SimSession, key: str, kind: str) -> str:
        content, mimetype, extension = MEDIA_KINDS[kind]
        file = f"{key}.{extension}"
        session.files[file] = (content, mimetype)
        while len(session.files) > self.history:
            session.files.popitem(last=False)
        return f"{self.base_url}/api/files/{session.name}/{file}"

    # ---------------------------------------------------------------- internals: state

    def _new_session(self, name: str, engine: str, config: dict[str, Any] | None) -> SimSession:
        self._phone_counter += 1
        session = SimSession(name=name, engine=engine, config=config, phone=f"4930{self._phone_counter:08d}")
        self._configure(session, config)
        return session

    def _configure(self, session: SimSession, config: dict[str, Any] | None) -> None:
        session.config = config
        hooks = (config or {}).get("webhooks") or []
        session.targets = tuple(WebhookTarget.from_config(h, self.webhook_retries) for h in hooks)

    def _set_status(self, session: SimSession, status: str) -> None:
        session.status = status
        now_ms = int(time.time() * 1000)
        session.activity = now_ms / 1000
        session.statuses.append({"status": status, "timestamp": now_ms})
        if status == "SCAN_QR_CODE":
            session.qr = "2@" + secrets.token_urlsafe(60) + "," + secrets.token_urlsafe(32)
        payload = {"name": session.name, "status": status, "statuses": list(session.statuses)}
        self._emit(session, "session.status", payload)

    def _start(self, session: SimSession) -> None:
        if session.running:
            return
        if self.auto_pair:
            session.paired = True
        self._set_status(session, "STARTING")
        target = "WORKING" if session.paired else "SCAN_QR_CODE"
        if self.start_delay <= 0:
            self._set_status(session, target)
            return

        def arrive() -> None:
            if session.status == "STARTING" and self.sessions.get(session.name) is session:
                self._set_status(session, target)

        asyncio.get_running_loop().call_later(self.start_delay, arrive)

    def _stop(self, session: SimSession) -> None:
        if session.running:
            self._set_status(session, "STOPPED")

    def _emit(self, session: SimSession, event: str, payload: Mapping[str, Any]) -> None:
        targets = [t for t in session.targets if t.wants(event)]
        if not targets or not self.running:
            return
        envelope: dict[str, Any] = {
            "id": new_event_id(),
            "timestamp": int(time.time() * 1000),
            "event": event,
            "session": session.name,
        }
        metadata = (session.config or {}).get("metadata")
        if metadata:
            envelope["metadata"] = metadata
        if session.me is not None:
            envelope["me"] = session.me
        envelope["payload"] = payload
        envelope["engine"] = session.engine
        envelope["environment"] = self._environment(session.engine)
        self._webhooks.post(session.name, targets, event, envelope)

    def _environment(self, engine: str) -> dict[str, Any]:
        return {
            "version": self.spec.version,
            "engine": engine,
            "tier": "PLUS",
            "browser": "/usr/bin/chromium" if engine == "WEBJS" else "",
            "platform": "linux/x64",
            "worker": {"id": None},
        }

    def _ack(self, session: SimSession, message: SentMessage, ack: int) -> None:
        message.ack = ack
        payload = {
            "id": message.id,
            "from": f"{session.phone}@c.us",
            "to": message.chat_id,
            "participant": message.chat_id,
            "fromMe": True,
            "ack": ack,
            "ackName": ACK_NAMES.get(ack, "UNKNOWN"),
        }
        self._emit(session, "message.ack", payload)

    def _schedule_acks(self, session: SimSession, message: SentMessage) -> None:
        if self.ack_delays is not None:
            asyncio.get_running_loop().call_later(self.ack_delays[0], self._auto_ack, session, message, 1)

    def _auto_ack(self, session: SimSession, message: SentMessage, level: int) -> None:
        # One timer per message at a time (each ack schedules the next): at 1,000 sends a second
        # the loop's timer heap stays small.
        if not self.running or self.sessions.get(session.name) is not session:
            return
        if message.ack < level:
            self._ack(session, message, level)
        # A number that is not on WhatsApp never gets past the server.
        if level < 3 and message.on_whatsapp and self.ack_delays is not None:
            delay = max(0.0, self.ack_delays[level] - self.ack_delays[level - 1])
            asyncio.get_running_loop().call_later(delay, self._auto_ack, session, message, level + 1)

    # ---------------------------------------------------------------- internals: HTTP

    def _operation(self, method: str, path: str) -> waha_spec.Operation | None:
        key = (method, path)
        try:
            return self._match_cache[key]
        except KeyError:
            pass
        operation = self.spec.match(method, path)
        if len(self._match_cache) > 20_000:
            self._match_cache.clear()
        self._match_cache[key] = operation
        return operation

    def _violation(self, request: web.Request, operation: str | None, errors: Iterable[str]) -> None:
        self.violations.append(Violation(request.method, request.path_qs, operation, tuple(errors), time.time()))

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_sim/"):
            try:
                return await handler(request)
            except (KeyError, ValueError, RuntimeError) as exc:
                return web.json_response({"error": str(exc)}, status=400)
        if request.method == "GET" and request.path.startswith("/api/files/"):
            # WAHA's media downloads: outside its OpenAPI document, behind the same API key.
            try:
                self._authorize(request, request.match_info.get("session"))
            except _Reply as reply:
                return reply.response
            return await handler(request)
        operation = self._operation(request.method, request.path)
        if operation is None:
            self._violation(request, None, [f"{request.method} {request.path} is not an operation of WAHA's API"])
            return _nest_error(404, f"Cannot {request.method} {request.path}", "Not Found")
        raw = await request.read()
        body: Any = None
        if raw:
            if request.content_type != "application/json":
                body = waha_spec.not_json(f"Content-Type is {request.content_type!r}, not application/json")
            else:
                try:
                    body = json.loads(raw)
                except ValueError as exc:
                    body = waha_spec.not_json(str(exc))
        session_name = request.match_info.get("session")
        if session_name is None and isinstance(body, dict):
            session_name = body.get("session") if isinstance(body.get("session"), str) else None
        if session_name is None:
            session_name = request.query.get("session")
        try:
            if operation.secured:
                self._authorize(request, session_name)
            query = {name: request.query.getall(name) for name in request.query}
            errors = operation.check(query, body, bool(raw))
            if errors:
                self._violation(request, operation.operation_id, errors)
                return _nest_error(400, errors, "Bad Request")
            delay = self.latency
            if session_name is not None and session_name in self.sessions:
                session_latency = self.sessions[session_name].latency
                delay = self.latency if session_latency is None else session_latency
            if delay > 0:
                await asyncio.sleep(delay)
            if request.match_info.http_exception is not None:
                self.unsupported.append(f"{request.method} {request.path} ({operation.operation_id})")
                return _nest_error(501, f"{operation.operation_id} is not simulated", "Not Implemented")
            request[_BODY] = body
            return await handler(request)
        except _Reply as reply:
            return reply.response

    def _authorize(self, request: web.Request, session_name: str | None) -> None:
        if not self._keys:
            return  # WAHA started without WAHA_API_KEY accepts every request
        key = request.headers.get("X-Api-Key")
        known = self._keys.get(key) if key else None
        if known is None:
            raise _Reply(web.json_response({"message": "Unauthorized", "statusCode": 401}, status=401))
        scope, forced = known
        if forced == 401:
            raise _Reply(web.json_response({"message": "Unauthorized", "statusCode": 401}, status=401))
        if forced == 403 or (scope is not None and scope != session_name):
            raise _Reply(_nest_error(403, "Forbidden resource", "Forbidden"))

    def _existing(self, name: str) -> SimSession:
        session = self.sessions.get(name)
        if session is None:
            raise _Reply(_nest_error(404, "Session not found", "Not Found"))
        return session

    def _running_session(self, name: str) -> SimSession:
        session = self.sessions.get(name)
        if session is None or not session.running:
            raise _not_found_session(name)
        return session

    def _session_in(self, name: str, expected: Sequence[str]) -> SimSession:
        session = self._running_session(name)
        if session.status not in expected:
            raise _wrong_status(session, expected)
        return session

    def _dto(self, session: SimSession) -> dict[str, Any]:
        dto: dict[str, Any] = {"name": session.name, "status": session.status}
        if session.config is not None:
            dto["config"] = session.config
        return dto

    def _info(self, session: SimSession) -> dict[str, Any]:
        info = self._dto(session)
        if session.me is not None:
            info["me"] = session.me
        info["presence"] = {}
        info["timestamps"] = {"activity": session.activity}
        return info

    def _api_routes(self) -> list[web.RouteDef]:
        return [
            web.get("/ping", self._ping),
            web.post("/api/sendText", self._send_text),
            web.get("/api/contacts/check-exists", self._check_exists),
            web.get("/api/sessions", self._list_sessions),
            web.post("/api/sessions", self._create_session),
            web.get("/api/sessions/{session}", self._get_session),
            web.put("/api/sessions/{session}", self._update_session),
            web.delete("/api/sessions/{session}", self._delete_session),
            web.get("/api/sessions/{session}/me", self._get_me),
            web.post("/api/sessions/{session}/start", self._start_session),
            web.post("/api/sessions/{session}/stop", self._stop_session),
            web.post("/api/sessions/{session}/restart", self._restart_session),
            web.post("/api/sessions/{session}/logout", self._logout_session),
            web.get("/api/{session}/auth/qr", self._qr),
            web.post("/api/{session}/auth/request-code", self._request_code),
            web.get("/api/{session}/chats/{chatId}/messages", self._chat_messages),
            web.get("/api/{session}/chats/{chatId}/messages/{messageId}", self._chat_message),
        ]

    async def _chat_message(self, request: web.Request) -> web.StreamResponse:
        """GET /api/{session}/chats/{chatId}/messages/{messageId}: a message the session
        received; with downloadMedia (WAHA's default: true) its media is downloaded again, so
        an expired file gets a working URL."""
        session = self._running_session(request.match_info["session"])
        found = session.received.get(request.match_info["messageId"])
        chat = None if found is None else found[0]["to" if found[0]["fromMe"] else "from"]
        if found is None or chat != request.match_info["chatId"]:
            return _nest_error(404, "Message not found", "Not Found")
        payload, kind = json.loads(json.dumps(found[0])), found[1]
        if kind in MEDIA_KINDS and request.query.get("downloadMedia", "true") != "false":
            key = payload["id"].rsplit("_", 1)[-1]
            payload["media"]["url"] = payload["mediaUrl"] = self._keep_file(session, key, kind)
        return web.json_response(payload)

    def _file_routes(self) -> list[web.RouteDef]:
        """WAHA serves media downloads on a static route its OpenAPI document leaves out (so
        the contract, shared/specs/waha-contract.json, has nothing to say about it)."""
        return [web.get("/api/files/{session}/{file}", self._file)]

    async def _file(self, request: web.Request) -> web.StreamResponse:
        """GET /api/files/{session}/{file}: the media of a received message, as WAHA serves its
        downloads (a static route, not in WAHA's OpenAPI document)."""
        session = self.sessions.get(request.match_info["session"])
        found = None if session is None else session.files.get(request.match_info["file"])
        if found is None:
            return _nest_error(404, "File not found", "Not Found")
        content, mimetype = found
        return web.Response(body=content, headers={"Content-Type": mimetype})

    async def _ping(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"message": "pong"})

    async def _send_text(self, request: web.Request) -> web.StreamResponse:
        body: dict[str, Any] = request[_BODY]
        session = self._session_in(body["session"], ["WORKING"])
        if session.faults:
            fault = session.faults.popleft()
            return await self._fault(request, fault)
        user, _, server = body["chatId"].partition("@")
        if server not in ("c.us", "s.whatsapp.net") or not user.isdigit():
            # What WEBJS answers for a chat id WhatsApp cannot parse.
            return _server_error("wid error: invalid wid")
        chat_id = f"{user}@c.us"
        key = body.get("id") or _new_key()
        message = SentMessage(
            id=f"true_{chat_id}_{key}",
            key=key,
            session=session.name,
            chat_id=chat_id,
            text=body["text"],
            at=time.time(),
            monotonic=asyncio.get_running_loop().time(),
            request=body,
            on_whatsapp=user not in self._not_on_whatsapp,
        )
        earlier = session.sent.get(message.id)
        if earlier is not None:
            # The same pre-set id again: WhatsApp delivers it again, the guest sees it twice.
            earlier.times += 1
        else:
            session.sent[message.id] = message
        session.sent_total += 1
        if len(session.sent) > self.history:
            session.sent.popitem(last=False)
        self._schedule_acks(session, message)
        if self.on_sent is not None:
            self.on_sent(earlier or message)
        if any(t.wants("message.any") for t in session.targets):
            self._emit(session, "message.any", self._wa_message(session, message))
        shape = session.shape or _ENGINE_SHAPE[session.engine]
        if shape == "empty":
            return web.Response(status=201)
        return web.json_response(self._send_answer(shape, session, message), status=201)

    def _wa_message(self, session: SimSession, message: SentMessage) -> dict[str, Any]:
        """The spec's WAMessage for a message the session sent."""
        return {
            "id": message.id,
            "timestamp": int(message.at),
            "from": f"{session.phone}@c.us",
            "fromMe": True,
            "source": "api",
            "to": message.chat_id,
            "participant": message.chat_id,
            "body": message.text,
            "hasMedia": False,
            "mediaUrl": "",
            "ack": message.ack,
            "ackName": ACK_NAMES[message.ack],
        }

    def _send_answer(self, shape: str, session: SimSession, message: SentMessage) -> dict[str, Any]:
        seconds = int(message.at)
        if shape == "noweb":
            # Baileys' WAMessage: the id is only key.id; the chat is a JID.
            return {
                "key": {
                    "remoteJid": message.chat_id.replace("@c.us", "@s.whatsapp.net"),
                    "fromMe": True,
                    "id": message.key,
                },
                "message": {"extendedTextMessage": {"text": message.text}},
                "messageTimestamp": str(seconds),
                "status": "PENDING",
            }
        if shape == "webjs":
            # whatsapp-web.js' Message: id is an object with the serialised form.
            serialized = {"fromMe": True, "remote": message.chat_id, "id": message.key, "_serialized": message.id}
            me = f"{session.phone}@c.us"
            return {
                "_data": {"id": serialized, "body": message.text, "type": "chat", "t": seconds, "from": me},
                "id": serialized,
                "ack": 0,
                "hasMedia": False,
                "body": message.text,
                "type": "chat",
                "timestamp": seconds,
                "from": me,
                "to": message.chat_id,
                "deviceType": "web",
                "isForwarded": False,
                "fromMe": True,
                "hasQuotedMsg": False,
                "links": [],
            }
        return self._wa_message(session, message)

    async def _fault(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault.kind == "timeout":
            await asyncio.sleep(fault.hang)
            return web.Response(status=504, text="Gateway Timeout")
        if fault.kind == "disconnect":
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)
        headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
        if fault.status == 429:
            response = _nest_error(429, "Too Many Requests", "Too Many Requests")
        elif fault.status == 500:
            response = _server_error("simulated engine failure")
        else:
            # What a reverse proxy in front of WAHA answers (502/503/504): not JSON.
            response = web.Response(status=fault.status, text=f"HTTP {fault.status} from the simulated proxy")
        if headers:
            response.headers.update(headers)
        return response

    async def _chat_messages(self, request: web.Request) -> web.StreamResponse:
        """GET /api/{session}/chats/{chatId}/messages: the session's own sends to the chat (the
        simulator keeps no incoming history). Like WAHA, NOWEB answers only with its store
        enabled (config.noweb.store.enabled) and GOWS unless message storage is off
        (config.gows.storage.messages false); WEBJS reads WhatsApp Web's own history."""
        session = self._session_in(request.match_info["session"], ["WORKING"])
        config = session.config or {}
        if session.engine == "NOWEB" and not ((config.get("noweb") or {}).get("store") or {}).get("enabled"):
            return _nest_error(
                400,
                "Enable NOWEB store 'config.noweb.store.enabled=True' when starting a new session",
                "Bad Request",
            )
        if session.engine == "GOWS" and ((config.get("gows") or {}).get("storage") or {}).get("messages") is False:
            return _nest_error(400, "Enable GOWS message storage 'config.gows.storage.messages=True'", "Bad Request")
        user, _, _ = request.match_info["chatId"].partition("@")
        query = request.query
        from_me = query.get("filter.fromMe")
        gte = float(query["filter.timestamp.gte"]) if "filter.timestamp.gte" in query else None
        lte = float(query["filter.timestamp.lte"]) if "filter.timestamp.lte" in query else None
        found = [
            m
            for m in session.sent.values()
            if m.chat_id == f"{user}@c.us"
            and from_me != "false"
            and (gte is None or int(m.at) >= gte)
            and (lte is None or int(m.at) <= lte)
        ]
        found.sort(key=lambda m: m.at, reverse=query.get("sortOrder", "desc") == "desc")
        offset = int(float(query.get("offset", "0")))
        limit = int(float(query.get("limit", "10")))
        return web.json_response([self._wa_message(session, m) for m in found[offset : offset + limit]])

    async def _check_exists(self, request: web.Request) -> web.StreamResponse:
        self._session_in(request.query.get("session", "default"), ["WORKING"])
        phone = _digits(request.query["phone"])
        if not phone or phone in self._not_on_whatsapp:
            return web.json_response({"numberExists": False})
        chat_id = f"{phone}@c.us"
        return web.json_response({"numberExists": True, "chatId": chat_id, "pn": chat_id})

    async def _list_sessions(self, request: web.Request) -> web.StreamResponse:
        show_all = request.query.get("all") == "true"
        infos = [self._info(s) for s in self.sessions.values() if show_all or s.running]
        return web.json_response(infos)

    async def _create_session(self, request: web.Request) -> web.StreamResponse:
        body: dict[str, Any] = request[_BODY]
        name = body.get("name") or f"session_{new_ulid().lower()}"
        if name in self.sessions:
            message = f"Session '{name}' already exists. Use PUT to update it."
            raise _Reply(_nest_error(422, message, "Unprocessable Entity"))
        session = self._new_session(name, self.engine, body.get("config"))
        self.sessions[name] = session
        if body.get("start", True):
            self._start(session)
        return web.json_response(self._dto(session), status=201)

    async def _get_session(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self._info(self._existing(request.match_info["session"])))

    async def _update_session(self, request: web.Request) -> web.StreamResponse:
        session = self._existing(request.match_info["session"])
        was_running = session.running
        self._stop(session)
        self._configure(session, request[_BODY].get("config"))
        if was_running:
            self._start(session)
        return web.json_response(self._dto(session))

    async def _delete_session(self, request: web.Request) -> web.StreamResponse:
        session = self.sessions.get(request.match_info["session"])
        if session is not None:
            self._stop(session)
            del self.sessions[session.name]
        return web.Response(status=200)

    async def _get_me(self, request: web.Request) -> web.StreamResponse:
        session = self._running_session(request.match_info["session"])
        return web.json_response(session.me)

    async def _start_session(self, request: web.Request) -> web.StreamResponse:
        session = self._existing(request.match_info["session"])
        self._start(session)
        return web.json_response(self._dto(session), status=201)

    async def _stop_session(self, request: web.Request) -> web.StreamResponse:
        session = self._existing(request.match_info["session"])
        self._stop(session)
        return web.json_response(self._dto(session), status=201)

    async def _restart_session(self, request: web.Request) -> web.StreamResponse:
        session = self._existing(request.match_info["session"])
        self._stop(session)
        self._start(session)
        return web.json_response(self._dto(session), status=201)

    async def _logout_session(self, request: web.Request) -> web.StreamResponse:
        session = self._existing(request.match_info["session"])
        was_running = session.running
        self._stop(session)
        session.paired = False
        if was_running:
            self._start(session)
        return web.json_response(self._dto(session), status=201)

    async def _qr(self, request: web.Request) -> web.StreamResponse:
        session = self._session_in(request.match_info["session"], ["SCAN_QR_CODE"])
        if request.query.get("format") == "raw":
            return web.json_response({"value": session.qr})
        png = self._png_cache.get(session.qr)
        if png is None:
            self._png_cache.clear()
            png = self._png_cache[session.qr] = _qr_png(session.qr)
        # WAHA answers JSON only for exactly "application/json", else the image itself.
        if request.headers.get("Accept") == "application/json":
            return web.json_response({"mimetype": "image/png", "data": base64.b64encode(png).decode()})
        return web.Response(body=png, content_type="image/png")

    async def _request_code(self, request: web.Request) -> web.StreamResponse:
        session = self._running_session(request.match_info["session"])
        if session.status != "SCAN_QR_CODE":
            raise _wrong_status(session, ["SCAN_QR_CODE"])
        letters = "ABCDEFGHJKLMNPQRSTVWXYZ0123456789"
        code = "".join(secrets.choice(letters) for _ in range(8))
        session.pairing_code = f"{code[:4]}-{code[4:]}"
        return web.json_response({"code": session.pairing_code}, status=201)

    # ---------------------------------------------------------------- control API (/_sim/)

    def _control_routes(self) -> list[web.RouteDef]:
        return [
            web.get("/_sim/sessions", self._c_sessions),
            web.post("/_sim/sessions", self._c_add_session),
            web.post("/_sim/sessions/{session}/status", self._c_status),
            web.post("/_sim/sessions/{session}/pair", self._c_pair),
            web.post("/_sim/sessions/{session}/faults", self._c_faults),
            web.put("/_sim/sessions/{session}/latency", self._c_session_latency),
            web.put("/_sim/sessions/{session}/response-shape", self._c_shape),
            web.get("/_sim/sessions/{session}/sent", self._c_sent),
            web.post("/_sim/sessions/{session}/acks", self._c_ack),
            web.post("/_sim/sessions/{session}/inbound", self._c_inbound),
            web.post("/_sim/sessions/{session}/files/expire", self._c_expire_media),
            web.put("/_sim/latency", self._c_latency),
            web.put("/_sim/acks", self._c_acks),
            web.post("/_sim/api-keys", self._c_add_key),
            web.post("/_sim/api-keys/reject", self._c_reject_key),
            web.post("/_sim/numbers/not-on-whatsapp", self._c_not_on_whatsapp),
            web.get("/_sim/violations", self._c_violations),
            web.delete("/_sim/violations", self._c_clear_violations),
            web.get("/_sim/webhooks", self._c_webhooks),
            web.post("/_sim/webhooks/drain", self._c_drain),
        ]

    @staticmethod
    async def _json(request: web.Request) -> dict[str, Any]:
        if not request.can_read_body:
            return {}
        data = await request.json()
        if not isinstance(data, dict):
            raise ValueError("the control API takes a JSON object")
        return data

    def _summary(self, session: SimSession) -> dict[str, Any]:
        return {
            "name": session.name,
            "status": session.status,
            "engine": session.engine,
            "phone": session.phone,
            "sent_total": session.sent_total,
            "pending_faults": len(session.faults),
            "pairing_code": session.pairing_code,
        }

    async def _c_sessions(self, request: web.Request) -> web.StreamResponse:
        return web.json_response([self._summary(s) for s in self.sessions.values()])

    async def _c_add_session(self, request: web.Request) -> web.StreamResponse:
        data = await self._json(request)
        session = self.add_session(
            data["name"],
            status=data.get("status", "WORKING"),
            engine=data.get("engine"),
            webhooks=data.get("webhooks", ()),
            metadata=data.get("metadata"),
            phone=data.get("phone"),
            config=data.get("config"),
        )
        return web.json_response(self._summary(session), status=201)

    async def _c_status(self, request: web.Request) -> web.StreamResponse:
        self.set_status(request.match_info["session"], (await self._json(request))["status"])
        return web.json_response(self._summary(self.session(request.match_info["session"])))

    async def _c_pair(self, request: web.Request) -> web.StreamResponse:
        self.pair(request.match_info["session"])
        return web.json_response(self._summary(self.session(request.match_info["session"])))

    async def _c_faults(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["session"]
        data = await self._json(request)
        kind, count = data.get("kind", "http"), int(data.get("count", 1))
        if kind == "http":
            self.fail_next(name, count, status=int(data.get("status", 500)), retry_after=data.get("retry_after"))
        elif kind == "timeout":
            self.timeout_next(name, count, hang=float(data.get("hang", 30.0)))
        elif kind == "disconnect":
            self.disconnect_next(name, count)
        else:
            raise ValueError("kind must be http, timeout or disconnect")
        return web.json_response(self._summary(self.session(name)))

    async def _c_session_latency(self, request: web.Request) -> web.StreamResponse:
        self.set_latency(float((await self._json(request))["ms"]) / 1000, request.match_info["session"])
        return web.json_response({})

    async def _c_latency(self, request: web.Request) -> web.StreamResponse:
        self.set_latency(float((await self._json(request))["ms"]) / 1000)
        return web.json_response({})

    async def _c_shape(self, request: web.Request) -> web.StreamResponse:
        self.set_response_shape(request.match_info["session"], (await self._json(request)).get("shape"))
        return web.json_response({})

    async def _c_sent(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(
            [
                {"id": m.id, "chat_id": m.chat_id, "text": m.text, "at": m.at, "ack": m.ack, "times": m.times}
                for m in self.sent(request.match_info["session"])
            ]
        )

    async def _c_ack(self, request: web.Request) -> web.StreamResponse:
        data = await self._json(request)
        self.ack(request.match_info["session"], data["message_id"], int(data["ack"]))
        return web.json_response({})

    async def _c_inbound(self, request: web.Request) -> web.StreamResponse:
        data = await self._json(request)
        message_id = self.receive(
            request.match_info["session"],
            data["from"],
            data.get("text"),
            kind=data.get("kind", "text"),
            caption=data.get("caption"),
            filename=data.get("filename"),
            latitude=data.get("latitude"),
            longitude=data.get("longitude"),
            location_name=data.get("location_name"),
            chat=data.get("chat", "direct"),
            from_me=bool(data.get("from_me", False)),
            push_name=data.get("push_name"),
        )
        return web.json_response({"id": message_id})

    async def _c_expire_media(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"expired": self.expire_media(request.match_info["session"])})

    async def _c_acks(self, request: web.Request) -> web.StreamResponse:
        delays = (await self._json(request)).get("delays_ms")
        if delays is None:
            self.ack_delays = None
        else:
            a, b, c = (float(d) / 1000 for d in delays)
            self.ack_delays = (a, b, c)
        return web.json_response({})

    async def _c_add_key(self, request: web.Request) -> web.StreamResponse:
        data = await self._json(request)
        self.add_api_key(data["key"], data.get("session"))
        return web.json_response({})

    async def _c_reject_key(self, request: web.Request) -> web.StreamResponse:
        data = await self._json(request)
        self.reject_api_key(data["key"], int(data.get("status", 401)))
        return web.json_response({})

    async def _c_not_on_whatsapp(self, request: web.Request) -> web.StreamResponse:
        self.mark_not_on_whatsapp(*(await self._json(request))["phones"])
        return web.json_response({})

    async def _c_violations(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(
            [
                {"method": v.method, "path": v.path, "operation": v.operation, "errors": list(v.errors), "at": v.at}
                for v in self.violations
            ]
        )

    async def _c_clear_violations(self, request: web.Request) -> web.StreamResponse:
        self.violations.clear()
        return web.json_response({})

    async def _c_webhooks(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(
            [
                {
                    "event": d.event,
                    "event_id": d.event_id,
                    "session": d.session,
                    "url": d.url,
                    "attempts": d.attempts,
                    "status": d.status,
                    "delivered": d.delivered,
                    "error": d.error,
                }
                for d in self.deliveries
            ]
        )

    async def _c_drain(self, request: web.Request) -> web.StreamResponse:
        await self.drain_webhooks()
        return web.json_response({})


def _qr_png(value: str) -> bytes:
    """A valid PNG that shows a QR-like pattern derived from `value` and carries the value in a
    tEXt chunk. It is not scannable: there is no WhatsApp behind the simulator to pair with."""
    modules, scale = 29, 8
    seed = value.encode()
    bits = b"".join(zlib.crc32(seed + bytes([i])).to_bytes(4, "big") for i in range(modules * modules // 32 + 1))
    size = modules * scale
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter type: none
        for x in range(size):
            i = (y // scale) * modules + (x // scale)
            dark = (bits[i // 8] >> (i % 8)) & 1
            row.append(0 if dark else 255)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", b"QR\x00" + seed)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


MEDIA_KINDS["image"] = (_qr_png("a photo a guest sent"), "image/png", "png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.simulators.waha", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000, help="0 picks a free port (printed)")
    parser.add_argument("--api-key", help="require this X-Api-Key (default: no key, like WAHA without WAHA_API_KEY)")
    parser.add_argument("--engine", choices=ENGINES, default="NOWEB")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every answer")
    parser.add_argument("--auto-pair", action="store_true", help="started sessions skip the QR scan")
    parser.add_argument(
        "--ack-delays-ms",
        default="50,100,200",
        help="SERVER,DEVICE,READ ack delays after a send, or 'off' (acks only through /_sim/)",
    )
    args = parser.parse_args(argv)
    ack_delays: tuple[float, float, float] | None = None
    if args.ack_delays_ms != "off":
        a, b, c = (float(part) / 1000 for part in args.ack_delays_ms.split(","))
        ack_delays = (a, b, c)

    async def serve() -> None:
        simulator = WahaSimulator(
            host=args.host,
            port=args.port,
            api_key=args.api_key,
            engine=args.engine,
            latency=args.latency_ms / 1000,
            auto_pair=args.auto_pair,
            ack_delays=ack_delays,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await simulator.start()
        print(f"WAHA simulator listening on {simulator.base_url}", flush=True)
        await stop.wait()
        await simulator.stop()

    # uvloop, as in the worker: at benchmark rates the simulator shares two cores with the code
    # it measures, and asyncio's pure-Python loop was a third of its CPU.
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(serve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
