"""A Supabase Realtime server (Postgres Changes, Broadcast from the database) for tests and the
demo, fed by the real database.

    .venv/bin/python -m devstack.simulators.realtime --database-url URL [--port 4000] [--jwt-secret S]

or embedded:

    async with RealtimeSimulator(database_url, jwt_secret=SECRET) as realtime:
        ...  # Supabase URL: realtime.base_url; key: realtime.service_role_key()

It follows Supabase Realtime (github.com/supabase/realtime: RealtimeWeb.UserSocket, RealtimeChannel,
Extensions.PostgresCdcRls) as the `realtime` client (Python 2.x, JS 2.x) speaks to it:
- The Phoenix socket at /realtime/v1/websocket, the path Supabase's API gateway serves, with
  serializer vsn 1.0.0 (JSON objects; the Python client) or 2.0.0 (JSON arrays and binary
  broadcasts; supabase-js), see realtime_wire.py. The handshake needs `apikey` (query) or
  `x-api-key` (header): a JWT signed with the project's secret (HS256/384/512, `typ` JWT) with
  `role` and an unexpired `exp`; anything else gets Realtime's 403.
- phx_join on "realtime:<name>" with config.postgres_changes: the join's access_token (else the
  apikey) is checked the same way, the reply carries each binding back with its id, and then, as
  Realtime does after the reply, the channel subscribes to PostgreSQL and pushes the system
  message "Subscribed to PostgreSQL" (extension postgres_changes) - or a system error (a table
  outside the publication, a bad filter, an unknown role) and tries again. Only changes read
  after that point reach the channel, as on Realtime: the join reply alone is not readiness.
- Changes come from the write-ahead log, as Realtime's do: a temporary logical replication slot
  (pgoutput here, wal2json there) limited to the `supabase_realtime` publication, polled every
  100 ms. Each INSERT/UPDATE/DELETE goes out as "postgres_changes" {ids, data: {schema, table,
  commit_timestamp, type, columns, record, old_record, errors}} with values cast to JSON by
  PostgreSQL, to every ready channel with a matching binding (schema, table, event, filter
  eq/neq/lt/lte/gt/gte/in) whose role may see the row: RLS is checked as that role with the
  token's claims, like Realtime's `apply_rls`; a role with BYPASSRLS (service_role) sees all.
- Broadcast from the database: what realtime.send inserts into realtime.messages (read from the
  log through the publication Realtime creates, supabase_realtime_messages_publication, whose
  daily partitions the simulator creates on start as Realtime does on connect) goes to every
  channel joined on that topic with the same `private` flag: {event, payload, type, meta: {id}}.
- Private channels (config.private): the join is authorised as Realtime's Authorization does it:
  a probe row per extension (broadcast, presence) is inserted into realtime.messages, then, as
  the token's role with its claims and realtime.topic set, whether RLS lets it be selected; the
  transaction is rolled back. Neither readable: "Unauthorized: You do not have permissions to
  read from this Channel topic: <topic>". A refreshed token is checked again; read access lost
  closes the channel. config.broadcast.replication_ready: the system message "Replication
  connection established" once the log is being read.
- heartbeat on "phoenix"; phx_leave (reply, then phx_close); access_token (a bad one shuts the
  channel: system error, then phx_close; `sb_` keys are ignored, as Realtime ignores them);
  anything on a topic not joined: "unmatched topic".
- At most once, no replay: a change for a channel that is not ready, not connected, or whose
  message is dropped (`drop_changes`) is gone; if the database connection breaks, the slot is
  recreated and what happened in between is never sent.

Test controls: `drop_connections` (abort, or close with a code), `refuse_connections` (answer
handshakes with an HTTP status, as the gateway does while Realtime restarts), `refuse_joins`,
`hold_subscriptions` / `release_subscriptions` (the time Realtime takes to subscribe to
PostgreSQL), `drop_changes(n)`, `set_latency`, `disconnect_channels` (Realtime's operational
"Server requested disconnect"). Counters to wait on (`wait_until`): handshakes, rejected,
joins, refused_joins, subscribed, subscribe_errors, delivered, dropped, broadcasts (read from
the database), broadcast_deliveries (sent to clients), denied_joins; `violations` lists
what clients got wrong, `errors` the simulator's own troubles.

Not simulated: broadcasts sent by clients, binary payloads (realtime.send_binary), presence,
the REST API, rate limits, JWKS, and Realtime's size limit (Error 413) on records.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import secrets
import signal
import struct
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import psycopg
from psycopg import sql
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from devstack.simulators import realtime_wire as wire

PATH = "/realtime/v1/websocket"
PUBLICATION = "supabase_realtime"
# Realtime creates this one itself for Broadcast from the database.
MESSAGES_PUBLICATION = "supabase_realtime_messages_publication"
REPLICATION_READY = "Replication connection established"
PARTITIONS_SQL = Path(__file__).resolve().parents[1] / "platform" / "realtime_partitions.sql"
# The Supabase CLI's local JWT secret: the default, so local keys work unchanged.
LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"  # noqa: S105
SUBSCRIBED = "Subscribed to PostgreSQL"
UNABLE_TO_CONNECT = "Realtime was unable to connect to the project database"
_HS_ALGORITHMS = ["HS256", "HS384", "HS512"]
_FILTER_OPERATORS = {"eq": "=", "neq": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
JSON = dict[str, Any]


# ---- tokens -------------------------------------------------------------------------------------
def make_jwt(secret: str, role: str, *, expires_in: float = 10 * 365 * 86400, **claims: Any) -> str:
    """A key as Supabase issues them (`anon`, `service_role`), or a user's access token."""
    now = int(time.time())
    body = {"iss": "supabase-demo", "role": role, "iat": now, "exp": now + int(expires_in), **claims}
    return jwt.encode(body, secret, algorithm="HS256")


class TokenError(Exception):
    """A token Realtime refuses; the message is Realtime's reason."""


def verify_jwt(token: object, secret: str) -> JSON:
    """Realtime's checks (JwtVerification, ChannelsAuthorization.authorize_conn): an HS* signature
    with the project secret, a `typ` JWT header, an `exp` in the future, and `role` and `exp`."""
    if not isinstance(token, str) or not token:
        raise TokenError("invalid_token")
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        raise TokenError("Token claims must be a map") from None
    if header.get("typ") != "JWT" or header.get("alg") not in _HS_ALGORITHMS:
        raise TokenError("error_generating_signer")
    try:
        claims: JSON = jwt.decode(
            token,
            secret,
            algorithms=_HS_ALGORITHMS,
            # Joken, as Realtime configures it, validates the signature and `exp`, nothing else.
            options={"verify_aud": False, "verify_iat": False, "verify_nbf": False, "verify_iss": False},
        )
    except jwt.ExpiredSignatureError:
        ago = int(time.time()) - int(unverified.get("exp", 0))
        raise TokenError(f"Token has expired {ago} seconds ago") from None
    except jwt.InvalidSignatureError:
        raise TokenError("Failed to validate JWT signature") from None
    except jwt.InvalidTokenError as exc:
        raise TokenError(str(exc)) from None
    if "role" not in claims or not isinstance(claims.get("exp"), int):
        raise TokenError("Fields `role` and `exp` are required in JWT")
    return claims


# ---- the write-ahead log: pgoutput, protocol version 1 ------------------------------------------
class _Unchanged:
    """A TOASTed value an UPDATE did not touch: pgoutput leaves it out."""


UNCHANGED = _Unchanged()
TupleData = list[str | _Unchanged | None]


@dataclass(frozen=True)
class _Column:
    name: str
    type_oid: int
    is_identity: bool


@dataclass(frozen=True)
class _Relation:
    oid: int
    schema: str
    table: str
    columns: tuple[_Column, ...]


Values = dict[str, str | _Unchanged | None]


@dataclass(frozen=True)
class _Change:
    relation: _Relation
    type: str  # INSERT, UPDATE, DELETE
    new: Values  # the new row (empty for a DELETE), as text
    old: Values | None  # the old row's replica identity, when the log carries it
    committed_at: dt.datetime

    @property
    def identity(self) -> dict[str, str | None]:
        """What wal2json calls `identity`: the old identity, else that of the new row."""
        if self.old is not None:
            source = self.old
        else:
            identity_columns = {c.name for c in self.relation.columns if c.is_identity}
            source = {k: v for k, v in self.new.items() if k in identity_columns}
        return {k: v for k, v in source.items() if not isinstance(v, _Unchanged)}


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 1  # after the message type

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return int(value)

    def char(self) -> str:
        value = chr(self.data[self.pos])
        self.pos += 1
        return value

    def string(self) -> str:
        end = self.data.index(0, self.pos)
        value = self.data[self.pos : end].decode()
        self.pos = end + 1
        return value

    def tuple_data(self) -> TupleData:
        values: TupleData = []
        for _ in range(self.take("!h")):
            kind = self.char()
            if kind == "n":
                values.append(None)
            elif kind == "u":
                values.append(UNCHANGED)
            else:  # 't': text (the SQL interface decodes without binary mode)
                length = self.take("!i")
                values.append(self.data[self.pos : self.pos + length].decode())
                self.pos += length
        return values


class PgOutputDecoder:
    """Turns pgoutput messages (one per row of pg_logical_slot_get_binary_changes) into changes."""

    def __init__(self) -> None:
        self.relations: dict[int, _Relation] = {}
        self.committed_at = _PG_EPOCH

    def decode(self, data: bytes) -> _Change | None:
        kind = chr(data[0])
        reader = _Reader(data)
        if kind == "B":  # begin: final LSN, commit time, xid
            reader.take("!q")
            self.committed_at = _PG_EPOCH + dt.timedelta(microseconds=reader.take("!q"))
        elif kind == "R":
            oid = reader.take("!I")
            schema, table = reader.string() or "pg_catalog", reader.string()
            reader.take("!b")  # replica identity setting
            columns = []
            for _ in range(reader.take("!h")):
                flags = reader.take("!b")
                name = reader.string()
                type_oid = reader.take("!I")
                reader.take("!i")  # typmod
                columns.append(_Column(name, type_oid, bool(flags & 1)))
            self.relations[oid] = _Relation(oid, schema, table, tuple(columns))
        elif kind in ("I", "U", "D"):
            relation = self.relations[reader.take("!I")]
            names = [c.name for c in relation.columns]
            old: Values | None = None
            new: Values = {}
            marker = reader.char()
            if marker in ("K", "O"):
                old = dict(zip(names, reader.tuple_data(), strict=True))
                if marker == "K":  # only the key columns; the others are sent as nulls
                    old = {c.name: old[c.name] for c in relation.columns if c.is_identity}
                if kind == "U":
                    marker = reader.char()
            if marker == "N":
                new = dict(zip(names, reader.tuple_data(), strict=True))
            change_type = {"I": "INSERT", "U": "UPDATE", "D": "DELETE"}[kind]
            return _Change(relation, change_type, new, old, self.committed_at)
        # C (commit), Y (type), O (origin), T (truncate: Realtime sends nothing for it), M.
        return None


# ---- channels -----------------------------------------------------------------------------------
class _SubscribeError(Exception):
    """Why Realtime could not subscribe a channel to PostgreSQL (sent as a system error)."""


@dataclass(eq=False)
class _Binding:
    id: int
    params: JSON
    event: str
    schema: str = "public"
    table: str = "*"
    filter: tuple[str, str, str] | None = None  # column, operator, value
    entities: frozenset[int] = frozenset()


@dataclass(eq=False)
class _Channel:
    topic: str
    join_ref: str | None
    claims: JSON
    token: str
    bindings: list[_Binding]
    ready: bool = False
    task: asyncio.Task[None] | None = None
    private: bool = False
    broadcast_read: bool = True  # a private channel's policies; a public one reads everything
    presence_read: bool = True
    notify_task: asyncio.Task[None] | None = None  # "Replication connection established"

    @property
    def name(self) -> str:
        return self.topic.removeprefix("realtime:")


@dataclass(eq=False)
class _Client:
    connection: ServerConnection
    claims: JSON
    token: str
    vsn: str = "1.0.0"
    channels: dict[str, _Channel] = field(default_factory=dict)


@dataclass(frozen=True)
class _RelationInfo:
    columns: list[JSON]  # [{name, type}] the role may select, in column order
    selectable: frozenset[str]
    primary_key: tuple[str, ...]
    rls_enabled: bool


def _binding_id(params: JSON) -> int:
    # Realtime uses :erlang.phash2(params): a stable integer below 2**27 per set of parameters.
    return zlib.crc32(json.dumps(params, sort_keys=True).encode()) & 0x7FFFFFF


def _inspect(params: JSON) -> str:
    """Elixir's inspect of a params map, as Realtime puts it in its error messages."""
    inner = ", ".join(f"{json.dumps(k)} => {json.dumps(v)}" for k, v in sorted(params.items()))
    return "%{" + inner + "}"


def _parse_binding(params: JSON) -> _Binding:
    """Realtime's Subscriptions.parse_subscription_params."""
    binding = _Binding(id=_binding_id(params), params=params, event=str(params.get("event", "*")).upper())
    if "schema" not in params and "table" not in params:
        raise _SubscribeError(
            "No subscription params provided. Please provide at least a `schema` or `table` to subscribe to."
        )
    binding.schema = str(params.get("schema", "public"))
    binding.table = str(params.get("table", "*"))
    raw = params.get("filter")
    if raw is not None:
        column, _, rest = str(raw).partition("=")
        operator, dot, value = rest.partition(".")
        if not column or not dot or operator not in (*_FILTER_OPERATORS, "in"):
            raise _SubscribeError(f"Error parsing `filter` params: {json.dumps([operator, value] if dot else [raw])}")
        if operator == "in":
            if not (value.startswith("(") and value.endswith(")")):
                raise _SubscribeError("Error parsing `filter` params: `in` filter value must be wrapped by parentheses")
            value = "{" + value[1:-1] + "}"
        binding.filter = (column, operator, value)
    return binding


# ---- the server ---------------------------------------------------------------------------------
class RealtimeSimulator:
    def __init__(
        self,
        database_url: str,
        *,
        jwt_secret: str = LOCAL_JWT_SECRET,
        host: str = "127.0.0.1",
        port: int = 0,
        publication: str = PUBLICATION,
        poll_interval: float = 0.1,
        max_changes: int = 100,
        resubscribe_seconds: float = 5.0,
    ) -> None:
        self.database_url = database_url
        self.jwt_secret = jwt_secret
        self.host = host
        self.port = port
        self.publication = publication
        self.poll_interval = poll_interval
        self.max_changes = max_changes
        self.resubscribe_seconds = resubscribe_seconds
        # What tests wait on and look at.
        self.handshakes = 0
        self.serializers: list[str] = []  # the vsn of each accepted socket
        self.rejected: list[tuple[int, str]] = []
        self.joins = 0
        self.refused_joins = 0
        self.subscribed = 0
        self.subscribe_errors: list[str] = []  # system errors sent instead of "Subscribed to PostgreSQL"
        self.delivered: deque[tuple[str, JSON]] = deque(maxlen=1000)
        self.delivered_count = 0
        self.dropped = 0
        self.broadcasts = 0  # messages read from realtime.messages
        self.broadcast_deliveries = 0  # ... and sent to a channel
        self.denied_joins: list[str] = []
        self.violations: list[str] = []  # clients that broke the protocol
        self.errors: list[str] = []  # the simulator's own troubles (a lost database connection)
        # Controls.
        self._refuse_connections: int | None = None
        self._refuse_joins: str | None = None
        self._subscriptions_open = asyncio.Event()
        self._subscriptions_open.set()
        self._drop_next = 0
        self._latency = 0.0
        # Internals.
        self._clients: set[_Client] = set()
        self._accepted: dict[ServerConnection, tuple[JSON, str, str]] = {}
        self._server: Server | None = None
        self._db: psycopg.AsyncConnection[Any] | None = None
        self._db_lock = asyncio.Lock()
        self._slot = ""
        self._decoder = PgOutputDecoder()
        self._poller: asyncio.Task[None] | None = None
        self._type_names: dict[int, str] = {}
        self._relation_infos: dict[tuple[int, str], _RelationInfo] = {}
        self._bypass_rls: dict[str, bool] = {}
        self._publications = publication  # and Realtime's broadcast publication, once prepared

    # ---- lifecycle --------------------------------------------------------------------------------
    async def __aenter__(self) -> RealtimeSimulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        await self._prepare_broadcast()
        # The slot first: every change committed once a channel is ready must be in it.
        await self._open_replication()
        self._poller = asyncio.create_task(self._poll(), name="realtime-sim-poller")
        self._server = await serve(
            self._serve,
            self.host,
            self.port,
            process_request=self._handshake,
            ping_interval=None,  # Phoenix does not ping; the client heartbeats
            compression=None,
        )
        self.port = int(next(iter(self._server.sockets)).getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for client in list(self._clients):
            for channel in client.channels.values():
                self._stop_channel(channel)
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        if self._db is not None:
            await self._db.close()  # the temporary slot goes with its session

    @property
    def base_url(self) -> str:
        """What a Supabase client takes as the project URL."""
        return f"http://{self.host}:{self.port}"

    def service_role_key(self) -> str:
        return make_jwt(self.jwt_secret, "service_role")

    def anon_key(self) -> str:
        return make_jwt(self.jwt_secret, "anon")

    # ---- controls ---------------------------------------------------------------------------------
    async def drop_connections(self, code: int | None = None) -> int:
        """Ends every socket: without a close frame (`code` None: a crash or a network cut) or with
        `code` (1001, going away, as on a restart). Returns how many there were."""
        clients = list(self._clients)
        for client in clients:
            if code is None:
                client.connection.transport.abort()
            else:
                await client.connection.close(code, "simulator")
        return len(clients)

    def refuse_connections(self, status: int | None = HTTPStatus.SERVICE_UNAVAILABLE) -> None:
        """Answer new handshakes with `status` until called with None."""
        self._refuse_connections = status

    def refuse_joins(self, reason: str | None = UNABLE_TO_CONNECT) -> None:
        """Reply to joins with an error and `reason` until called with None."""
        self._refuse_joins = reason

    def hold_subscriptions(self) -> None:
        """Joins are answered, but subscribing to PostgreSQL (and "Replication connection
        established") waits for `release_subscriptions`."""
        self._subscriptions_open.clear()

    def release_subscriptions(self) -> None:
        self._subscriptions_open.set()

    def drop_changes(self, count: int) -> None:
        """The next `count` postgres_changes or broadcast messages are never sent."""
        self._drop_next += count

    def set_latency(self, seconds: float) -> None:
        """Changes reach clients `seconds` after they are read from the log."""
        self._latency = seconds

    async def disconnect_channels(self) -> int:
        """Realtime's operational disconnect: a system message, then phx_close, on every channel."""
        count = 0
        for client in list(self._clients):
            for channel in list(client.channels.values()):
                await self._system(client, channel, "system", "ok", "Server requested disconnect")
                await self._close_channel(client, channel)
                count += 1
        return count

    def assert_no_violations(self) -> None:
        assert not self.violations, f"clients broke the Realtime protocol: {self.violations}"
        assert not self.errors, f"the simulator failed: {self.errors}"

    async def wait_until(self, predicate: Callable[[], bool], seconds: float = 30) -> None:
        async with asyncio.timeout(seconds):
            while not predicate():  # noqa: ASYNC110 (counters change from several tasks)
                await asyncio.sleep(0.02)

    # ---- socket -----------------------------------------------------------------------------------
    def _handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        url = urlsplit(request.path)
        if url.path.rstrip("/") != PATH:
            return self._reject(connection, HTTPStatus.NOT_FOUND, "Not Found")
        if self._refuse_connections is not None:
            return self._reject(connection, self._refuse_connections, "refused by the test")
        query = parse_qs(url.query)
        vsn = query.get("vsn", ["1.0.0"])[0]
        if vsn not in wire.VERSIONS:
            # Phoenix finds no serializer for the version and refuses the upgrade.
            return self._reject(
                connection, HTTPStatus.FORBIDDEN, f"the simulator speaks vsn 1.0.0 and 2.0.0, not {vsn}"
            )
        token = request.headers.get("x-api-key") or query.get("apikey", [None])[0]
        try:
            claims = verify_jwt(token, self.jwt_secret)
        except TokenError as exc:
            # UserSocket.connect answers :error, which Phoenix turns into a bare 403.
            return self._reject(connection, HTTPStatus.FORBIDDEN, str(exc), body="")
        self._accepted[connection] = (claims, str(token), vsn)
        return None

    def _reject(self, connection: ServerConnection, status: int, reason: str, body: str | None = None) -> Response:
        self.rejected.append((int(status), reason))
        return connection.respond(status, reason + "\n" if body is None else body)

    async def _serve(self, connection: ServerConnection) -> None:
        claims, token, vsn = self._accepted.pop(connection)
        client = _Client(connection, claims, token, vsn)
        self._clients.add(client)
        self.handshakes += 1
        self.serializers.append(vsn)
        try:
            async for raw in connection:
                await self._receive(client, raw)
        except ConnectionClosed:
            pass
        finally:
            self._clients.discard(client)
            for channel in client.channels.values():
                self._stop_channel(channel)

    async def _send(
        self,
        client: _Client,
        topic: str,
        event: str,
        payload: JSON,
        ref: str | None = None,
        join_ref: str | None = None,
    ) -> None:
        await self._send_frame(client, wire.encode(client.vsn, topic, event, payload, ref, join_ref))

    async def _send_frame(self, client: _Client, frame: str | bytes) -> None:
        with contextlib.suppress(ConnectionClosed):
            await client.connection.send(frame)

    async def _reply(
        self, client: _Client, topic: str, ref: str | None, status: str, response: JSON, join_ref: str | None = None
    ) -> None:
        await self._send(client, topic, "phx_reply", {"status": status, "response": response}, ref, join_ref)

    async def _system(self, client: _Client, channel: _Channel, extension: str, status: str, message: str) -> None:
        payload = {"extension": extension, "status": status, "message": message, "channel": channel.name}
        await self._send(client, channel.topic, "system", payload, None, channel.join_ref)

    async def _receive(self, client: _Client, raw: str | bytes) -> None:
        try:
            message = wire.decode(client.vsn, raw)
        except wire.MalformedMessage as exc:
            # Phoenix's decoder raises and the socket goes down with it.
            self.violations.append(f"malformed message {raw!r}: {exc}")
            await client.connection.close(1011, "malformed message")
            return
        topic, event, payload = message.topic, message.event, message.payload
        ref, join_ref = message.ref, message.join_ref
        if topic == "phoenix" and event == "heartbeat":
            await self._reply(client, topic, ref, "ok", {})
        elif event == "phx_join":
            await self._join(client, topic, payload, ref, join_ref)
        elif (channel := client.channels.get(topic)) is None:
            await self._reply(client, topic, ref, "error", {"reason": "unmatched topic"}, join_ref)
        elif event == "phx_leave":
            await self._reply(client, topic, ref, "ok", {}, join_ref)
            await self._close_channel(client, channel)
        elif event == "access_token":
            await self._access_token(client, channel, payload.get("access_token"))
        else:
            # broadcast, presence: Realtime's features the simulator does not have.
            self.violations.append(f"unsupported event {event!r} on {topic}")

    async def _join(self, client: _Client, topic: str, payload: JSON, ref: str | None, join_ref: str | None) -> None:
        async def refuse(reason: str) -> None:
            await self._reply(client, topic, ref, "error", {"reason": reason}, join_ref)

        if not topic.startswith("realtime:") or topic == "realtime:":
            await refuse("You must provide a topic name")
            return
        if self._refuse_joins is not None:
            self.refused_joins += 1
            await refuse(self._refuse_joins)
            return
        config = payload.get("config")
        if not isinstance(config, dict):
            # The pre-2.0 API (topic "realtime:schema:table", no config) is not served here.
            self.violations.append(f"join without config on {topic}")
            await refuse("the simulator serves the config API only")
            return
        token = payload.get("user_token") or payload.get("access_token") or client.token
        try:
            claims = verify_jwt(token, self.jwt_secret)
        except TokenError as exc:
            await refuse(str(exc))
            return
        if (previous := client.channels.pop(topic, None)) is not None:
            self._stop_channel(previous)  # Phoenix closes the old channel on a duplicate join
        params_list = [p for p in config.get("postgres_changes") or [] if isinstance(p, dict)]
        bindings = [_Binding(id=_binding_id(p), params=p, event=str(p.get("event", "*")).upper()) for p in params_list]
        channel = _Channel(topic, join_ref or ref, claims, str(token), bindings, private=config.get("private") is True)
        if channel.private:
            try:
                await self._authorise(channel)
            except _SubscribeError as exc:
                await refuse(str(exc))
                return
            if not (channel.broadcast_read or channel.presence_read):
                self.denied_joins.append(channel.name)
                await refuse(
                    f"Unauthorized: You do not have permissions to read from this Channel topic: {channel.name}"
                )
                return
        client.channels[topic] = channel
        self.joins += 1
        reply = [{**b.params, "id": b.id} for b in bindings]
        await self._reply(client, topic, ref, "ok", {"postgres_changes": reply}, join_ref)
        if bindings:
            channel.task = asyncio.create_task(self._subscribe(client, channel), name=f"subscribe {topic}")
        broadcast = config.get("broadcast")
        if isinstance(broadcast, dict) and broadcast.get("replication_ready"):
            # The log is read from start() on: ready as soon as the database side is open.
            channel.notify_task = asyncio.create_task(
                self._notify_replication_ready(client, channel), name=f"replication ready {topic}"
            )

    async def _notify_replication_ready(self, client: _Client, channel: _Channel) -> None:
        await self._subscriptions_open.wait()
        if client.channels.get(channel.topic) is channel:
            await self._system(client, channel, "system", "ok", REPLICATION_READY)

    async def _authorise(self, channel: _Channel) -> None:
        """Realtime's Authorization.get_read_authorizations: may the token's role select a message
        of each extension on this topic, under RLS, with its claims and realtime.topic set?"""
        ids = {"broadcast": str(uuid.uuid4()), "presence": str(uuid.uuid4())}
        role = str(channel.claims.get("role"))
        sub = channel.claims.get("sub")
        try:
            async with self._db_lock:
                db = await self._database()
                async with db.transaction(force_rollback=True):
                    for extension, message_id in ids.items():
                        await db.execute(
                            "insert into realtime.messages (id, topic, extension) values (%s, %s, %s)",
                            (message_id, channel.name, extension),
                        )
                    await db.execute(
                        "select set_config('role', %s, true), set_config('realtime.topic', %s, true),"
                        " set_config('request.jwt.claims', %s, true), set_config('request.jwt.claim.sub', %s, true),"
                        " set_config('request.jwt.claim.role', %s, true), set_config('request.headers', '{}', true)",
                        (role, channel.name, json.dumps(channel.claims), "" if sub is None else str(sub), role),
                    )
                    try:
                        async with db.transaction():
                            cur = await db.execute(
                                "select id::text from realtime.messages where id = any(%s::uuid[])",
                                (list(ids.values()),),
                            )
                            visible = {str(r[0]) for r in await cur.fetchall()}
                    except psycopg.Error:
                        visible = set()  # a policy that fails: "RlsPolicyError", unauthorised
        except psycopg.errors.CheckViolation:
            raise _SubscribeError(
                "MissingPartition: Realtime was unable to find the expected messages partition"
            ) from None
        except psycopg.Error:
            raise _SubscribeError(UNABLE_TO_CONNECT) from None
        channel.broadcast_read = ids["broadcast"] in visible
        channel.presence_read = ids["presence"] in visible

    async def _access_token(self, client: _Client, channel: _Channel, token: object) -> None:
        if token is None or token == channel.token:
            return
        if isinstance(token, str) and token.startswith("sb_"):
            return  # Realtime ignores an API key sent as a user's token
        try:
            channel.claims = verify_jwt(token, self.jwt_secret)
            channel.token = str(token)
        except TokenError as exc:
            # RealtimeChannel.shutdown_response: a system error, then the channel stops.
            await self._system(client, channel, "system", "error", str(exc))
            await self._close_channel(client, channel)
            return
        if channel.private:
            could_read = (channel.broadcast_read, channel.presence_read)
            try:
                await self._authorise(channel)
            except _SubscribeError as exc:
                await self._system(client, channel, "system", "error", str(exc))
                await self._close_channel(client, channel)
                return
            if (could_read[0] and not channel.broadcast_read) or (could_read[1] and not channel.presence_read):
                message = f"You no longer have permission to read from this Channel topic: {channel.name}"
                await self._system(client, channel, "system", "error", message)
                await self._close_channel(client, channel)
                return
        if channel.bindings:  # Realtime subscribes again with the new claims
            if channel.task is not None:
                channel.task.cancel()
            channel.task = asyncio.create_task(self._subscribe(client, channel), name=f"subscribe {channel.topic}")

    async def _close_channel(self, client: _Client, channel: _Channel) -> None:
        if client.channels.get(channel.topic) is channel:
            del client.channels[channel.topic]
        self._stop_channel(channel)
        await self._send(client, channel.topic, "phx_close", {}, channel.join_ref, channel.join_ref)

    def _stop_channel(self, channel: _Channel) -> None:
        channel.ready = False
        for task in (channel.task, channel.notify_task):
            if task is not None:
                task.cancel()

    async def _subscribe(self, client: _Client, channel: _Channel) -> None:
        """RealtimeChannel's :postgres_subscribe: after the join reply, retried on failure."""
        while True:
            await self._subscriptions_open.wait()
            try:
                async with self._db_lock:
                    bindings = await self._check_bindings(channel)
            except _SubscribeError as exc:
                self.subscribe_errors.append(str(exc))
                await self._system(client, channel, "postgres_changes", "error", str(exc))
                await asyncio.sleep(self.resubscribe_seconds)
                continue
            except psycopg.Error as exc:
                self.subscribe_errors.append(f"{UNABLE_TO_CONNECT}: {exc}")
                await self._system(client, channel, "postgres_changes", "error", self.subscribe_errors[-1])
                await asyncio.sleep(self.resubscribe_seconds)
                continue
            channel.bindings = bindings
            channel.ready = True
            self.subscribed += 1
            await self._system(client, channel, "postgres_changes", "ok", SUBSCRIBED)
            return

    async def _check_bindings(self, channel: _Channel) -> list[_Binding]:
        """What inserting into realtime.subscription checks: the role, the tables of the
        publication the parameters name, and the filter's column and value."""
        db = await self._database()
        role = str(channel.claims.get("role"))
        checked = []
        for original in channel.bindings:
            params = original.params
            binding = _parse_binding(params)
            problem = (
                f"Check that tables are part of publication {self.publication}"
                f" and subscription params are correct: {_inspect(params)}"
            )
            row = await (await db.execute("select to_regrole(%s) is not null", (role,))).fetchone()
            if not row or not row[0]:
                raise _SubscribeError(f'Subscription insert failed with error: role "{role}" does not exist. {problem}')
            cur = await db.execute(
                "select format('%%I.%%I', schemaname, tablename)::regclass::oid from pg_publication_tables"
                " where pubname = %s and schemaname like %s and tablename like %s",
                (
                    self.publication,
                    "%" if binding.schema == "*" else binding.schema,
                    "%" if binding.table == "*" else binding.table,
                ),
            )
            entities = frozenset(int(r[0]) for r in await cur.fetchall())
            if not entities:
                raise _SubscribeError(f"Subscription insert failed with 0 rows. {problem}")
            if binding.filter is not None:
                column, operator, value = binding.filter
                for entity in entities:
                    cur = await db.execute(
                        "select format_type(atttypid, null) from pg_attribute"
                        " where attrelid = %s and attname = %s and attnum > 0 and not attisdropped",
                        (entity, column),
                    )
                    found = await cur.fetchone()
                    if found is None:
                        raise _SubscribeError(
                            f"Subscription insert failed with error: invalid column for filter {column}. {problem}"
                        )
                    cast = sql.SQL("select %s::{}").format(sql.SQL(found[0] + ("[]" if operator == "in" else "")))
                    try:
                        async with db.transaction():
                            await db.execute(cast, (value,))
                    except psycopg.Error as exc:
                        raise _SubscribeError(f"Subscription insert failed with error: {exc}. {problem}") from None
            binding.entities = entities
            checked.append(binding)
        return checked

    # ---- changes ----------------------------------------------------------------------------------
    async def _database(self) -> psycopg.AsyncConnection[Any]:
        if self._db is None or self._db.closed:
            await self._open_replication()
        assert self._db is not None
        return self._db

    async def _prepare_broadcast(self) -> None:
        """What Realtime does when it connects to a project: the publication its broadcast
        replication reads, and realtime.messages' daily partitions from yesterday to today + 3
        (Tenants.create_messages_partitions)."""
        async with await psycopg.AsyncConnection.connect(self.database_url, autocommit=True) as db:
            found = await (await db.execute("select to_regclass('realtime.messages') is not null")).fetchone()
            if not found or not found[0]:
                return  # a database without Realtime's schema: Postgres Changes only
            cur = await db.execute("select 1 from pg_publication where pubname = %s", (MESSAGES_PUBLICATION,))
            if await cur.fetchone() is None:
                await db.execute(
                    sql.SQL("create publication {} for table realtime.messages").format(
                        sql.Identifier(MESSAGES_PUBLICATION)
                    )
                )
            await db.execute(PARTITIONS_SQL.read_bytes())
            self._publications = f"{self.publication},{MESSAGES_PUBLICATION}"

    async def _open_replication(self) -> None:
        # Realtime's poller connects as application "realtime_rls" and uses a temporary slot.
        self._slot = f"realtime_sim_{secrets.token_hex(4)}"
        self._db = await psycopg.AsyncConnection.connect(
            self.database_url, autocommit=True, application_name="realtime_rls"
        )
        await self._db.execute("select pg_create_logical_replication_slot(%s, 'pgoutput', true)", (self._slot,))
        self._decoder = PgOutputDecoder()
        self._relation_infos.clear()

    async def _poll(self) -> None:
        backoff = 0.1
        while True:
            try:
                async with self._db_lock:
                    db = await self._database()
                    cur = await db.execute(
                        "select data from pg_logical_slot_get_binary_changes("
                        "%s, null, %s, 'proto_version', '1', 'publication_names', %s)",
                        (self._slot, self.max_changes, self._publications),
                    )
                    rows = await cur.fetchall()
                    changes = []
                    for (data,) in rows:
                        change = self._decoder.decode(bytes(data))
                        if change is not None:
                            changes.append(change)
                    if any(chr(bytes(data)[0]) == "R" for (data,) in rows):
                        self._relation_infos.clear()  # a relation (re)described: privileges may differ
                if changes and self._latency:
                    await asyncio.sleep(self._latency)
                for change in changes:
                    if change.relation.schema == "realtime" and change.relation.table.startswith("messages"):
                        await self._dispatch_broadcast(change)
                        continue
                    async with self._db_lock:
                        await self._dispatch(change)
                backoff = 0.1
            except psycopg.OperationalError as exc:
                # Like Realtime's poller: reconnect with a fresh slot; what happened meanwhile is lost.
                self.errors.append(f"database connection lost: {exc}")
                if self._db is not None:
                    await self._db.close()
                self._db = None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5)
                continue
            except psycopg.Error as exc:  # a bug here: make it visible to the test, keep serving
                # ...with a fresh slot, and not at once: a failing poll retried in a tight loop wrote
                # a million errors into the server's log and slowed every backend waiting to log.
                self.errors.append(f"{type(exc).__name__}: {exc}")
                if self._db is not None:
                    await self._db.close()
                self._db = None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5)
                continue
            if not rows:
                await asyncio.sleep(self.poll_interval)

    async def _dispatch(self, change: _Change) -> None:
        targets = []
        for client in self._clients:
            for channel in client.channels.values():
                if not channel.ready:
                    continue
                matched = [
                    b for b in channel.bindings if change.relation.oid in b.entities and b.event in ("*", change.type)
                ]
                if matched:
                    targets.append((client, channel, matched))
        data_by_role: dict[str, tuple[JSON, _RelationInfo]] = {}
        for client, channel, matched in targets:
            role = str(channel.claims.get("role"))
            if role not in data_by_role:
                data_by_role[role] = await self._change_data(change, role)
            data, info = data_by_role[role]
            ids = [b.id for b in matched if await self._passes(change, b)]
            if not ids or not await self._visible(change, role, channel.claims, info, data):
                continue
            if self._drop_next > 0:
                self._drop_next -= 1
                self.dropped += 1
                continue
            await self._send(client, channel.topic, "postgres_changes", {"ids": ids, "data": data})
            self.delivered.append((channel.topic, data))
            self.delivered_count += 1

    async def _dispatch_broadcast(self, change: _Change) -> None:
        """ReplicationConnection's handling of an insert into realtime.messages: to every channel
        joined on the topic with the same `private`, unless its policies deny reading broadcasts."""
        row = change.new
        if change.type != "INSERT" or row.get("extension") != "broadcast":
            return
        topic, event, payload = row.get("topic"), row.get("event"), row.get("payload")
        if not isinstance(topic, str) or not isinstance(event, str) or not isinstance(payload, str):
            return  # Realtime logs UnableToBroadcastChanges and sends nothing
        private = row.get("private") == "t"
        self.broadcasts += 1
        meta = {"id": row.get("id")}
        for client in list(self._clients):
            for channel in list(client.channels.values()):
                if channel.name != topic or channel.private != private:
                    continue
                if channel.private and not channel.broadcast_read:
                    continue  # "Broadcast message ignored"
                if self._drop_next > 0:
                    self._drop_next -= 1
                    self.dropped += 1
                    continue
                frame = wire.encode_user_broadcast(client.vsn, channel.topic, event, payload, meta)
                await self._send_frame(client, frame)
                self.broadcast_deliveries += 1

    async def _change_data(self, change: _Change, role: str) -> tuple[JSON, _RelationInfo]:
        """The `data` of a postgres_changes message as Realtime's realtime.apply_rls builds it."""
        relation = change.relation
        info = await self._relation_info(relation, role)
        base: JSON = {"schema": relation.schema, "table": relation.table, "type": change.type}
        # The poller turns each row into a NewRecord / UpdatedRecord / DeletedRecord, so an error
        # row still carries their fields, empty.
        empty: JSON = {"commit_timestamp": None, "columns": []}
        empty.update({"record": {}} if change.type != "DELETE" else {})
        empty.update({"old_record": {}} if change.type != "INSERT" else {})
        if change.type != "DELETE" and not info.primary_key:
            return {**base, **empty, "errors": ["Error 400: Bad Request, no primary key"]}, info
        if change.type != "DELETE" and not set(info.primary_key) <= info.selectable:
            return {**base, **empty, "errors": ["Error 401: Unauthorized"]}, info
        committed = change.committed_at
        data: JSON = {
            **base,
            "commit_timestamp": committed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{committed.microsecond // 1000:03d}Z",
            "columns": info.columns,
            "errors": None,
        }
        identity = {k: v for k, v in change.identity.items() if k in info.selectable}
        if change.type in ("INSERT", "UPDATE"):
            record: dict[str, str | None] = {}
            for name, value in change.new.items():
                if name not in info.selectable:
                    continue
                if not isinstance(value, _Unchanged):
                    record[name] = value
                elif name in identity:  # an untouched TOAST value, from the old row when logged
                    record[name] = identity[name]
            data["record"] = await self._to_json(relation, record)
        if change.type == "UPDATE":
            data["old_record"] = await self._to_json(relation, identity)
        if change.type == "DELETE":
            if info.rls_enabled:  # a delete cannot be checked against RLS: only its key goes out
                identity = {k: v for k, v in identity.items() if k in info.primary_key}
            data["old_record"] = await self._to_json(relation, identity)
        return data, info

    async def _to_json(self, relation: _Relation, values: dict[str, str | None]) -> JSON:
        """realtime.cast: each value through its type's input function, then to_jsonb."""
        if not values:
            return {}
        types = {c.name: c.type_oid for c in relation.columns}
        parts = [
            sql.SQL("{}::{} as {}").format(
                sql.Placeholder(), sql.SQL(await self._type_name(types[name])), sql.Identifier(name)
            )
            for name in values
        ]
        query = sql.SQL("select to_jsonb(r) from (select {}) r").format(sql.SQL(", ").join(parts))
        row = await (await (await self._database()).execute(query, list(values.values()))).fetchone()
        assert row is not None
        result: JSON = row[0]
        return result

    async def _type_name(self, oid: int) -> str:
        if oid not in self._type_names:
            row = await (await (await self._database()).execute("select %s::regtype::text", (oid,))).fetchone()
            assert row is not None
            self._type_names[oid] = str(row[0])
        return self._type_names[oid]

    async def _relation_info(self, relation: _Relation, role: str) -> _RelationInfo:
        key = (relation.oid, role)
        if key not in self._relation_infos:
            db = await self._database()
            cur = await db.execute(
                "select a.attname, t.typname, has_column_privilege(%(role)s, a.attrelid, a.attname, 'SELECT'),"
                " coalesce(a.attnum = any(i.indkey::int2[]), false)"
                " from pg_attribute a join pg_type t on t.oid = a.atttypid"
                " left join pg_index i on i.indrelid = a.attrelid and i.indisprimary"
                " where a.attrelid = %(oid)s and a.attnum > 0 and not a.attisdropped order by a.attnum",
                {"role": role, "oid": relation.oid},
            )
            rows = await cur.fetchall()
            cur = await db.execute("select relrowsecurity from pg_class where oid = %s", (relation.oid,))
            rls = await cur.fetchone()
            self._relation_infos[key] = _RelationInfo(
                columns=[{"name": r[0], "type": r[1]} for r in rows if r[2]],
                selectable=frozenset(str(r[0]) for r in rows if r[2]),
                primary_key=tuple(str(r[0]) for r in rows if r[3]),
                rls_enabled=bool(rls and rls[0]),
            )
        return self._relation_infos[key]

    async def _passes(self, change: _Change, binding: _Binding) -> bool:
        """realtime.is_visible_through_filters: the filter compared in the column's own type."""
        if binding.filter is None:
            return True
        column, operator, value = binding.filter
        row = change.identity if change.type == "DELETE" else change.new
        if column not in row:
            return change.type == "DELETE"  # a delete's identity may not carry the column
        actual = row[column]
        if actual is None or isinstance(actual, _Unchanged):
            return False
        oid = next(c.type_oid for c in change.relation.columns if c.name == column)
        type_name = sql.SQL(await self._type_name(oid))
        if operator == "in":
            query = sql.SQL("select %s::{} = any(%s::{}[])").format(type_name, type_name)
        else:
            query = sql.SQL("select %s::{} " + _FILTER_OPERATORS[operator] + " %s::{}").format(type_name, type_name)
        result = await (await (await self._database()).execute(query, (actual, value))).fetchone()
        return bool(result and result[0])

    async def _visible(self, change: _Change, role: str, claims: JSON, info: _RelationInfo, data: JSON) -> bool:
        """Realtime runs `select exists(... where <primary key> = ...)` as the subscriber's role
        with its claims; a delete cannot be checked and goes to every subscriber."""
        if change.type == "DELETE" or not info.rls_enabled or data.get("errors"):
            return True
        db = await self._database()
        if role not in self._bypass_rls:
            cur = await db.execute("select rolsuper or rolbypassrls from pg_roles where rolname = %s", (role,))
            row = await cur.fetchone()
            self._bypass_rls[role] = bool(row and row[0])
        if self._bypass_rls[role]:
            return True
        types = {c.name: c.type_oid for c in change.relation.columns}
        conditions = [
            sql.SQL("{} = %s::{}").format(sql.Identifier(k), sql.SQL(await self._type_name(types[k])))
            for k in info.primary_key
        ]
        query = sql.SQL("select exists(select 1 from {}.{} where {})").format(
            sql.Identifier(change.relation.schema),
            sql.Identifier(change.relation.table),
            sql.SQL(" and ").join(conditions),
        )
        try:
            async with db.transaction():
                await db.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
                await db.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
                cur = await db.execute(query, [change.new.get(k) for k in info.primary_key])
                row = await cur.fetchone()
        except psycopg.Error:
            return False  # a policy that fails hides the row, as it would from the role
        return bool(row and row[0])


# ---- command line -------------------------------------------------------------------------------
async def _serve_forever(args: argparse.Namespace) -> None:
    async with RealtimeSimulator(
        args.database_url,
        jwt_secret=args.jwt_secret,
        host=args.host,
        port=args.port,
        poll_interval=args.poll_interval,
    ) as sim:
        print(json.dumps({"url": sim.base_url, "service_role_key": sim.service_role_key()}), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Supabase Realtime (Postgres Changes) simulator")
    parser.add_argument("--database-url", required=True, help="the database whose changes are streamed")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4000)
    parser.add_argument("--jwt-secret", default=LOCAL_JWT_SECRET, help="the project's JWT secret")
    parser.add_argument(
        "--poll-interval", type=float, default=0.1, help="seconds between reads of the log when it had nothing"
    )
    asyncio.run(_serve_forever(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
