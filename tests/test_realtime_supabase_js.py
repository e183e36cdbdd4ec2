"""supabase-js (pinned in tests/js/deno.json, run under Deno) against the Realtime stand-in:
the client a hotel's dashboard uses, with the serializer it really sends (vsn 2.0.0). A signed-in
member of hotel B gets hotel B's message inserts and never hotel A's, keeps the channel across a
refreshed access token, joins the private topic of hotel B and receives what the database
broadcasts there, and is refused hotel A's."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import psycopg
import pytest

from devstack import paths
from devstack.simulators.realtime import RealtimeSimulator, make_jwt
from tests.factories import Factory
from tests.realtime_policies import hotel_topics_policy  # noqa: F401 (a fixture)

CLIENT_DIR = paths.ROOT / "tests" / "js"


@pytest.fixture
async def realtime(clean_db: str) -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(clean_db) as sim:
        yield sim
        sim.assert_no_violations()


class SupabaseJs:
    """tests/js/realtime_client.ts as a process: commands in, JSON lines out."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[dict[str, Any]] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            with contextlib.suppress(ValueError):
                self.lines.append(json.loads(raw))

    async def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{command}\n".encode())
        await self.process.stdin.drain()

    async def wait_for(self, match: Callable[[dict[str, Any]], bool], seconds: float = 60) -> dict[str, Any]:
        try:
            return await asyncio.wait_for(self._wait_for(match), seconds)
        except TimeoutError:
            raise AssertionError(f"not seen in {seconds:g} s; supabase-js printed {self.lines}") from None

    async def _wait_for(self, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        if True:
            while True:
                for line in self.lines:
                    if match(line):
                        return line
                if self.process.returncode is not None:
                    stderr = await self.process.stderr.read() if self.process.stderr else b""
                    raise AssertionError(f"supabase-js exited: {stderr.decode()[-2000:]}")
                await asyncio.sleep(0.05)

    def changes(self) -> list[int]:
        return [int(line["id"]) for line in self.lines if line["kind"] == "change"]


@contextlib.asynccontextmanager
async def supabase_js(realtime: RealtimeSimulator, token: str) -> AsyncIterator[SupabaseJs]:
    process = await asyncio.create_subprocess_exec(
        str(paths.VENV_BIN / "deno"),
        "run",
        "--frozen",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        "realtime_client.ts",
        realtime.base_url,
        realtime.anon_key(),
        token,
        cwd=CLIENT_DIR,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    client = SupabaseJs(process)
    try:
        yield client
    finally:
        with contextlib.suppress(ConnectionError):
            await client.send("quit")
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
        client._reader.cancel()


def status(channel: str, value: str) -> Callable[[dict[str, Any]], bool]:
    return lambda line: line["kind"] == "status" and line["channel"] == channel and line["status"] == value


@pytest.mark.slow
@pytest.mark.usefixtures("hotel_topics_policy")
async def test_supabase_js_sees_its_own_hotel_only_across_a_token_refresh(
    realtime: RealtimeSimulator, factory: Factory, db: psycopg.Connection[Any]
) -> None:
    hotel_a, hotel_b = factory.tenant("Hotel A"), factory.tenant("Hotel B")
    staff_b = factory.member(hotel_b, "staff")

    def token(expires_in: float) -> str:
        claims = {"sub": str(staff_b), "aud": "authenticated"}
        return make_jwt(realtime.jwt_secret, "authenticated", expires_in=expires_in, **claims)

    async with supabase_js(realtime, token(600)) as js:
        await js.wait_for(status("staff", "SUBSCRIBED"))
        await realtime.wait_until(lambda: realtime.subscribed == 1)
        assert realtime.serializers == ["2.0.0"]

        theirs, mine = factory.message(hotel_a), factory.message(hotel_b)
        await js.wait_for(lambda line: line["kind"] == "change" and line["id"] == mine)
        assert js.changes() == [mine] and theirs not in js.changes()

        # What supabase-js does after Auth refreshed the session: the new token to every channel.
        # (A later expiry, so that it differs from the first even within the same second.)
        await js.send(f"auth {token(3600)}")
        await realtime.wait_until(lambda: realtime.subscribed == 2)  # subscribed again, same channel
        later_theirs, later_mine = factory.message(hotel_a), factory.message(hotel_b)
        await js.wait_for(lambda line: line["kind"] == "change" and line["id"] == later_mine)
        assert js.changes() == [mine, later_mine] and later_theirs not in js.changes()
        assert realtime.joins == 1

        # Private topics: hotel B's admits its member and carries the database's broadcasts.
        await js.send(f"private hotel:{hotel_b.id}")
        await js.wait_for(status(f"hotel:{hotel_b.id}", "SUBSCRIBED"))
        db.execute(
            "select realtime.send(%s::jsonb, 'reservation', %s, true)",
            (json.dumps({"reservation": "BK-1"}), f"hotel:{hotel_b.id}"),
        )
        broadcast = await js.wait_for(lambda line: line["kind"] == "broadcast", 15)
        assert broadcast["event"] == "reservation"
        assert broadcast["payload"]["reservation"] == "BK-1"

        await js.send(f"private hotel:{hotel_a.id}")
        refused = await js.wait_for(status(f"hotel:{hotel_a.id}", "CHANNEL_ERROR"))
        assert "You do not have permissions to read from this Channel topic" in str(refused["error"])
        assert realtime.denied_joins == [f"hotel:{hotel_a.id}"]
