"""Realtime for signed-in hotel staff, against the Realtime stand-in streaming this database:
Postgres Changes through RLS with the user's claims, a refreshed access token on a live channel,
private channels authorised by policies on realtime.messages, and both serializers: vsn 1.0.0
(the Python `realtime` client) and vsn 2.0.0 (what current supabase-js sends), spoken here frame
by frame as supabase-js does."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import psycopg
import pytest
from realtime import AsyncRealtimeClient, RealtimePostgresChangesListenEvent
from websockets.asyncio.client import ClientConnection, connect

from devstack.simulators.realtime import RealtimeSimulator, make_jwt
from tests.factories import Factory
from tests.realtime_policies import hotel_topics_policy  # noqa: F401 (a fixture)


@pytest.fixture
async def realtime(clean_db: str) -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(clean_db) as sim:
        yield sim
        sim.assert_no_violations()


async def eventually(check: Callable[[], bool], seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110 (the state changes in other tasks and in the database)
            await asyncio.sleep(0.02)


def user_token(realtime: RealtimeSimulator, user: object, *, expires_in: float = 3600) -> str:
    return make_jwt(realtime.jwt_secret, "authenticated", expires_in=expires_in, sub=str(user), aud="authenticated")


def message_ids(collected: list[Any]) -> list[int]:
    return [int(p["data"]["record"]["id"]) for p in collected]


async def subscribe_to_messages(
    realtime: RealtimeSimulator, token: str, name: str
) -> tuple[AsyncRealtimeClient, list[Any], list[tuple[str, str]]]:
    """A Python client signed in with `token`, listening to message_logs inserts on `name`;
    returns it, the changes it gets and the states the client reports (with their error)."""
    client = AsyncRealtimeClient(f"{realtime.base_url}/realtime/v1", realtime.anon_key(), auto_reconnect=False)
    await client.set_auth(token)
    channel = client.channel(name)
    changes: list[Any] = []
    states: list[tuple[str, str]] = []
    channel.on_postgres_changes(
        RealtimePostgresChangesListenEvent.Insert, changes.append, table="message_logs", schema="public"
    )

    def on_state(state: Any, error: Exception | None = None) -> None:
        states.append((str(state.value), str(error)))

    await channel.subscribe(on_state)
    return client, changes, states


# ---- Postgres Changes through RLS, with a token refreshed on the live channel ------------------------
async def test_a_member_of_hotel_b_never_receives_a_change_to_hotel_a(
    realtime: RealtimeSimulator, factory: Factory
) -> None:
    hotel_a, hotel_b = factory.tenant("Hotel A"), factory.tenant("Hotel B")
    staff_b = factory.member(hotel_b, "staff")
    client, changes, _ = await subscribe_to_messages(realtime, user_token(realtime, staff_b), "staff-b")
    try:
        await realtime.wait_until(lambda: realtime.subscribed == 1)
        a1, b1, a2, b2 = (factory.message(t) for t in (hotel_a, hotel_b, hotel_a, hotel_b))
        # In commit order: once b2 is there, a1 and a2 were decided.
        await eventually(lambda: b2 in message_ids(changes))
        assert message_ids(changes) == [b1, b2]
        assert {p["data"]["record"]["tenant_id"] for p in changes} == {str(hotel_b.id)}
        assert a1 not in message_ids(changes) and a2 not in message_ids(changes)
    finally:
        await client.close()


async def test_a_refreshed_token_keeps_the_channel_and_its_claims_decide_from_then_on(
    realtime: RealtimeSimulator, factory: Factory
) -> None:
    """supabase-js and supabase-py send each refreshed access token to every joined channel; the
    channel stays up, and RLS is applied with the new token's claims (here another user's, to
    make the switch visible)."""
    hotel_a, hotel_b = factory.tenant("Hotel A"), factory.tenant("Hotel B")
    staff_a, staff_b = factory.member(hotel_a, "staff"), factory.member(hotel_b, "staff")
    client, changes, _ = await subscribe_to_messages(realtime, user_token(realtime, staff_a, expires_in=60), "staff")
    try:
        await realtime.wait_until(lambda: realtime.subscribed == 1)
        first_a = factory.message(hotel_a)
        await eventually(lambda: first_a in message_ids(changes))

        # The same user's token, refreshed: nothing changes for the user but the expiry.
        await client.set_auth(user_token(realtime, staff_a, expires_in=3600))
        await realtime.wait_until(lambda: realtime.subscribed == 2)  # Realtime subscribes again
        second_a = factory.message(hotel_a)
        await eventually(lambda: second_a in message_ids(changes))

        # Another user's token on the live channel: hotel B's rows from now on, not hotel A's.
        await client.set_auth(user_token(realtime, staff_b))
        await realtime.wait_until(lambda: realtime.subscribed == 3)
        after_a, after_b = factory.message(hotel_a), factory.message(hotel_b)
        await eventually(lambda: after_b in message_ids(changes))
        assert message_ids(changes) == [first_a, second_a, after_b]
        assert after_a not in message_ids(changes)
        assert realtime.joins == 1, "one join: the token was refreshed on the live channel"
    finally:
        await client.close()


async def test_an_expired_token_sent_to_a_live_channel_closes_it(realtime: RealtimeSimulator, factory: Factory) -> None:
    hotel = factory.tenant()
    staff = factory.member(hotel, "staff")
    client, _, states = await subscribe_to_messages(realtime, user_token(realtime, staff), "staff")
    channel = client.channels["realtime:staff"]
    try:
        await realtime.wait_until(lambda: realtime.subscribed == 1)
        await client.set_auth(user_token(realtime, staff, expires_in=-10))
        await eventually(lambda: not channel.is_joined and any(state == "CLOSED" for state, _ in states))
        errors = [error for state, error in states if state == "CHANNEL_ERROR"]
        assert errors and "Token has expired" in errors[0]
    finally:
        await client.close()


# ---- vsn 2.0.0, frame by frame --------------------------------------------------------------------
class V2Socket:
    """What supabase-js's RealtimeClient sends and reads with serializer 2.0.0."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ref = 0
        self.frames: list[list[Any] | bytes] = []

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, realtime: RealtimeSimulator, apikey: str) -> AsyncIterator[V2Socket]:
        url = f"ws://{realtime.host}:{realtime.port}/realtime/v1/websocket?apikey={apikey}&vsn=2.0.0"
        async with connect(url) as socket:
            yield cls(socket)

    async def push(self, topic: str, event: str, payload: dict[str, Any], join_ref: str | None = None) -> str:
        self.ref += 1
        ref = str(self.ref)
        await self.socket.send(json.dumps([join_ref, ref, topic, event, payload]))
        return ref

    async def next_frame(self, seconds: float = 30) -> list[Any] | bytes:
        raw = await asyncio.wait_for(self.socket.recv(), seconds)
        frame: list[Any] | bytes = raw if isinstance(raw, bytes) else json.loads(raw)
        self.frames.append(frame)
        return frame

    async def until(self, match: Callable[[list[Any] | bytes], bool]) -> list[Any] | bytes:
        while True:
            frame = await self.next_frame()
            if match(frame):
                return frame


def decode_user_broadcast(frame: bytes) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    """supabase-js's decoder for Realtime's binary user broadcast (kind 4, JSON payload)."""
    kind, topic_size, event_size, meta_size, encoding = frame[:5]
    assert (kind, encoding) == (4, 1)
    rest = frame[5:]
    topic = rest[:topic_size].decode()
    event = rest[topic_size : topic_size + event_size].decode()
    meta = json.loads(rest[topic_size + event_size : topic_size + event_size + meta_size])
    payload = json.loads(rest[topic_size + event_size + meta_size :])
    return topic, event, meta, payload


async def test_vsn_2_arrays_carry_joins_replies_and_changes_through_rls(
    realtime: RealtimeSimulator, factory: Factory
) -> None:
    hotel_a, hotel_b = factory.tenant("Hotel A"), factory.tenant("Hotel B")
    staff_b = factory.member(hotel_b, "staff")
    async with V2Socket.open(realtime, realtime.anon_key()) as ws:
        heartbeat = await ws.push("phoenix", "heartbeat", {})
        assert await ws.next_frame() == [None, heartbeat, "phoenix", "phx_reply", {"status": "ok", "response": {}}]

        params = {"event": "INSERT", "schema": "public", "table": "message_logs"}
        join_payload = {
            "config": {
                "broadcast": {"ack": False, "self": False},
                "presence": {"key": ""},
                "postgres_changes": [params],
            },
            "access_token": user_token(realtime, staff_b),
        }
        join = await ws.push("realtime:staff-b", "phx_join", join_payload, join_ref="1")
        reply = await ws.next_frame()
        assert isinstance(reply, list) and reply[:4] == ["1", join, "realtime:staff-b", "phx_reply"]
        assert reply[4]["status"] == "ok"
        [binding] = reply[4]["response"]["postgres_changes"]
        system = await ws.next_frame()
        assert isinstance(system, list) and system[:4] == ["1", None, "realtime:staff-b", "system"]
        assert system[4]["message"] == "Subscribed to PostgreSQL"

        mine, theirs, mine_again = factory.message(hotel_b), factory.message(hotel_a), factory.message(hotel_b)

        def is_change(frame: list[Any] | bytes) -> bool:
            return isinstance(frame, list) and frame[3] == "postgres_changes"

        first, second = await ws.until(is_change), await ws.until(is_change)
        assert isinstance(first, list) and isinstance(second, list)
        assert first[:3] == [None, None, "realtime:staff-b"]  # fastlaned: no refs
        assert first[4]["ids"] == [binding["id"]]
        assert [first[4]["data"]["record"]["id"], second[4]["data"]["record"]["id"]] == [mine, mine_again]
        assert theirs not in (first[4]["data"]["record"]["id"], second[4]["data"]["record"]["id"])

        # A refreshed token on the live channel, then leaving it.
        await ws.push("realtime:staff-b", "access_token", {"access_token": user_token(realtime, staff_b)}, "1")
        leave = await ws.push("realtime:staff-b", "phx_leave", {}, join_ref="1")
        left = await ws.until(lambda f: isinstance(f, list) and f[1] == leave)
        assert left == ["1", leave, "realtime:staff-b", "phx_reply", {"status": "ok", "response": {}}]


# ---- private channels: RLS on realtime.messages decides who joins --------------------------------
async def join_private(ws: V2Socket, topic: str, token: str) -> list[Any] | bytes:
    payload = {
        "config": {"broadcast": {"self": False}, "presence": {"key": ""}, "private": True},
        "access_token": token,
    }
    ref = await ws.push(f"realtime:{topic}", "phx_join", payload, join_ref=topic)
    return await ws.until(lambda f: isinstance(f, list) and f[1] == ref)


@pytest.mark.usefixtures("hotel_topics_policy")
async def test_a_private_hotel_topic_admits_its_members_only_and_gets_broadcasts_from_the_database(
    realtime: RealtimeSimulator, factory: Factory, db: psycopg.Connection[Any]
) -> None:
    hotel_a, hotel_b = factory.tenant("Hotel A"), factory.tenant("Hotel B")
    staff_a, staff_b = factory.member(hotel_a, "staff"), factory.member(hotel_b, "staff")
    topic = f"hotel:{hotel_a.id}"
    async with (
        V2Socket.open(realtime, realtime.anon_key()) as member,
        V2Socket.open(realtime, realtime.anon_key()) as stranger,
    ):
        admitted = await join_private(member, topic, user_token(realtime, staff_a))
        refused = await join_private(stranger, topic, user_token(realtime, staff_b))
        assert isinstance(admitted, list) and admitted[4]["status"] == "ok"
        assert refused == [
            topic,
            "1",
            f"realtime:{topic}",
            "phx_reply",
            {
                "status": "error",
                "response": {
                    "reason": f"Unauthorized: You do not have permissions to read from this Channel topic: {topic}"
                },
            },
        ]

        db.execute("select realtime.send(%s::jsonb, 'reservation', %s, true)", (json.dumps({"n": 1}), topic))
        db.execute("select realtime.send(%s::jsonb, 'reservation', %s, false)", (json.dumps({"n": 2}), topic))
        frame = await member.until(lambda f: isinstance(f, bytes))
        assert isinstance(frame, bytes)
        sent_topic, event, meta, payload = decode_user_broadcast(frame)
        assert (sent_topic, event, payload["n"]) == (f"realtime:{topic}", "reservation", 1)
        assert meta["id"] == payload["id"]  # realtime.send puts the message id in both
        await eventually(lambda: realtime.broadcasts == 2)
        # The public message (private = false) is for public channels of that name, not this one.
        assert realtime.broadcast_deliveries == 1
