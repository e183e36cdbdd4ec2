"""Asking WAHA whether a chat already has our message (WahaClient.find_sent), per engine, against
the WAHA simulator: what settles a send cut off by a crash without sending it twice."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from devstack.simulators.waha import WahaSimulator
from worker.http import new_waha_session
from worker.waha import SessionUnavailable, WahaClient, message_key

KEY = "find-sent-key"
GUEST = "+4915112345678"
CHAT = "4915112345678@c.us"


@dataclass(frozen=True)
class Target:
    base_url: str
    session_name: str = "hotel"
    api_key: str | None = KEY


@pytest.fixture
async def waha() -> AsyncIterator[WahaSimulator]:
    async with WahaSimulator(api_key=KEY, ack_delays=None) as sim:
        yield sim
        sim.assert_no_violations()


@pytest.fixture
async def client() -> AsyncIterator[WahaClient]:
    async with new_waha_session(timeout_seconds=10, max_connections=10) as session:
        yield WahaClient(session)


async def _sent_and_looked_up(
    waha: WahaSimulator, client: WahaClient, engine: str, config: dict[str, Any] | None = None
) -> tuple[str, Any, Any]:
    waha.add_session("hotel", engine=engine, config=config)
    target = Target(waha.base_url)
    key, other = message_key("tenant:1"), message_key("tenant:2")
    sent = await client.send_text(target, GUEST, "Your booking is confirmed", key=key)
    since = time.time() - 60
    return (
        sent.message_id,
        await client.find_sent(target, CHAT, key, since_epoch=since),
        await client.find_sent(target, CHAT, other, since_epoch=since),
    )


@pytest.mark.parametrize(
    ("engine", "config"),
    [
        ("WEBJS", None),
        ("NOWEB", {"noweb": {"store": {"enabled": True, "fullSync": False}}}),
        ("GOWS", None),
    ],
    ids=["webjs", "noweb-with-store", "gows"],
)
async def test_an_engine_with_history_finds_our_send_and_only_ours(
    waha: WahaSimulator, client: WahaClient, engine: str, config: dict[str, Any] | None
) -> None:
    sent_id, ours, not_sent = await _sent_and_looked_up(waha, client, engine, config)
    assert (ours.known, ours.message_id) == (True, sent_id), "found under the id the acks carry"
    assert (not_sent.known, not_sent.message_id) == (True, None), "a message never sent is not found"


@pytest.mark.parametrize(
    ("engine", "config"),
    [("NOWEB", None), ("GOWS", {"gows": {"storage": {"messages": False}}})],
    ids=["noweb-without-store", "gows-without-message-storage"],
)
async def test_an_engine_without_history_cannot_tell(
    waha: WahaSimulator, client: WahaClient, engine: str, config: dict[str, Any] | None
) -> None:
    _, ours, not_sent = await _sent_and_looked_up(waha, client, engine, config)
    assert not ours.known and not not_sent.known


async def test_a_chat_never_written_to_has_nothing(waha: WahaSimulator, client: WahaClient) -> None:
    waha.add_session("hotel", engine="WEBJS")
    found = await client.find_sent(Target(waha.base_url), CHAT, message_key("x"), since_epoch=time.time())
    assert (found.known, found.message_id) == (True, None)


async def test_a_session_that_is_down_is_not_taken_for_an_answer(waha: WahaSimulator, client: WahaClient) -> None:
    waha.add_session("hotel", engine="WEBJS", status="SCAN_QR_CODE")
    with pytest.raises(SessionUnavailable):
        await client.find_sent(Target(waha.base_url), CHAT, message_key("x"), since_epoch=time.time())
