"""Two hotels through Realtime, as supabase-py subscribes to Postgres Changes: a signed-in member
receives the changes to their own hotel's rows and never another hotel's (Realtime checks each
change against RLS as the subscriber)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from realtime import RealtimePostgresChangesListenEvent

from supabase import AsyncClient, AsyncClientOptions, acreate_client
from tests.data_api.support import Api, Hotels, realtime_url
from tests.factories import Factory

pytestmark = pytest.mark.slow


class Listener:
    """A member's supabase-py client listening to inserts into message_logs."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.changed = asyncio.Event()
        self.ready = asyncio.Event()
        self.client: AsyncClient | None = None

    def on_change(self, payload: Any) -> None:
        data = payload.get("data", payload)
        self.ids.append(int(data["record"]["id"]))
        self.changed.set()

    async def received(self, message_id: int) -> None:
        async with asyncio.timeout(30):
            while message_id not in self.ids:
                self.changed.clear()
                await self.changed.wait()

    def on_system(self, payload: Any) -> None:
        # Realtime's readiness: the join's reply comes first, then this once it listens to PostgreSQL
        if "Subscribed to PostgreSQL" in str(payload):
            self.ready.set()

    async def start(self, url: str, key: str, token: str, name: str) -> None:
        self.client = await acreate_client(url, key, AsyncClientOptions(persist_session=False))
        await self.client.realtime.set_auth(token)
        channel = self.client.channel(name)
        channel.on_postgres_changes(
            RealtimePostgresChangesListenEvent.Insert, self.on_change, table="message_logs", schema="public"
        )
        channel.on_system(self.on_system)
        await channel.subscribe()
        await asyncio.wait_for(self.ready.wait(), timeout=30)

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.remove_all_channels()


async def test_a_member_receives_their_hotels_changes_and_never_another_hotels(
    api: Api, hotels: Hotels, factory: Factory, clean_db: str
) -> None:
    a, b = Listener(), Listener()
    async with realtime_url(api, clean_db) as url:
        try:
            await a.start(url, api.publishable_key, api.user_token(hotels.staff_a), "dashboard-a")
            await b.start(url, api.publishable_key, api.user_token(hotels.owner_b), "dashboard-b")

            for_a = factory.message(hotels.a, status="queued", body="for A")
            # B's own change comes after A's in the log: once B has it, a leak of A's would be there
            for_b = factory.message(hotels.b, status="queued", body="for B")
            await b.received(for_b)
            await a.received(for_a)
            assert b.ids == [for_b]
            assert a.ids == [for_a]

            # a session refresh hands the live channel a new access token; changes keep coming
            assert a.client is not None
            await a.client.realtime.set_auth(api.user_token(hotels.staff_a, session_id=str(uuid.uuid4())))
            after_refresh = factory.message(hotels.a, status="queued", body="after the refresh")
            await a.received(after_refresh)
            assert a.ids == [for_a, after_refresh]
        finally:
            await a.stop()
            await b.stop()
