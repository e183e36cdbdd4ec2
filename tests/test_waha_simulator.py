"""The WAHA simulator: it answers as WAHA's OpenAPI spec and WAHA's own code say, refuses and
records requests that break the spec, signs its webhooks as WAHA does, and does what a test
tells it through Python and through /_sim/.

Webhooks are checked with the project's own verifier (worker.webhook_signatures) and against
both the spec's webhook schemas and the ingress schema in shared/, so the simulator and the
code that receives real WAHA webhooks cannot drift apart.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import signal
import subprocess
import sys
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]  # no stubs in the lock file
import pytest
from aiohttp import web

from devstack.paths import ROOT
from devstack.simulators import waha_contract, waha_spec
from devstack.simulators.waha import WahaSimulator
from devstack.simulators.waha_webhooks import Retries, sign
from worker.webhook_signatures import verify_waha

KEY = "sim-api-key"
HMAC_KEY = "4f0c4e1c7a9b2d3e5f60718293a4b5c6"
GUEST = "4915112345678"
SPEC = waha_spec.load()
INGRESS_SCHEMA = jsonschema.Draft202012Validator(
    json.loads((ROOT / "shared" / "schemas" / "webhooks" / "waha.schema.json").read_text())
)


class Receiver:
    """A webhook endpoint that keeps every delivery as it arrived (headers and raw bytes)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.answer = 200
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/hook"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _hook(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.read()))
        return web.Response(status=self.answer)

    def bodies(self, event: str | None = None) -> list[dict[str, Any]]:
        found = [json.loads(raw) for _, raw in self.received]
        return [b for b in found if event is None or b["event"] == event]


@pytest.fixture
async def sim() -> AsyncIterator[WahaSimulator]:
    # Acks only when a test asks, so what arrives never depends on timing.
    async with WahaSimulator(api_key=KEY, ack_delays=None, webhook_retries=Retries(attempts=1)) as simulator:
        yield simulator


@pytest.fixture
async def http(sim: WahaSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.base_url, headers={"X-Api-Key": KEY}, timeout=10) as client:
        yield client


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    await hook.start()
    yield hook
    await hook.stop()


def webhook(receiver: Receiver, *events: str, key: str | None = HMAC_KEY) -> dict[str, Any]:
    config: dict[str, Any] = {"url": receiver.url, "events": list(events)}
    if key is not None:
        config["hmac"] = {"key": key}
    return config


async def eventually(condition: Callable[[], bool]) -> None:
    """Waits (generously) for something the simulator does on its own event-loop schedule."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


def send(session: str = "hotel", chat: str = f"{GUEST}@c.us", text: str = "Welcome!") -> dict[str, Any]:
    return {"session": session, "chatId": chat, "text": text}


# ------------------------------------------------------------------ requests and the spec


async def test_send_text_is_accepted_recorded_and_conforms(sim: WahaSimulator, http: httpx.AsyncClient) -> None:
    sim.add_session("hotel")
    response = await http.post("/api/sendText", json={**send(), "linkPreview": False})
    assert response.status_code == 201
    [sent] = sim.sent("hotel")
    assert (sent.chat_id, sent.text) == (f"{GUEST}@c.us", "Welcome!")
    assert sent.id == f"true_{GUEST}@c.us_{sent.key}"
    sim.assert_no_violations()


@pytest.mark.parametrize(
    ("body", "content_type", "complaint"),
    [
        ({"session": "hotel", "text": "hi"}, "application/json", "'chatId' is a required property"),
        ({**send(), "text": 42}, "application/json", "body.text: 42 is not of type 'string'"),
        ({**send(), "chatID": "x"}, "application/json", "'chatID' was unexpected"),
        ({**send(), "linkPreview": "yes"}, "application/json", "body.linkPreview: 'yes' is not of type 'boolean'"),
        ("chatId=1", "application/x-www-form-urlencoded", "not application/json"),
        ("{not json", "application/json", "the request body is not JSON"),
        (None, "application/json", "a JSON request body is required"),
    ],
)
async def test_a_request_that_breaks_the_spec_gets_400_and_is_recorded(
    sim: WahaSimulator, http: httpx.AsyncClient, body: Any, content_type: str, complaint: str
) -> None:
    sim.add_session("hotel")
    content = json.dumps(body) if isinstance(body, dict) else body
    response = await http.post("/api/sendText", content=content, headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert response.json()["error"] == "Bad Request"
    assert any(complaint in m for m in response.json()["message"]), response.json()
    [violation] = sim.violations
    assert violation.operation == "ChattingController_sendText"
    assert any(complaint in e for e in violation.errors)
    assert sim.sent("hotel") == []
    with pytest.raises(AssertionError, match="do not follow WAHA's OpenAPI spec"):
        sim.assert_no_violations()


@pytest.mark.parametrize(
    ("path", "params", "complaint"),
    [
        ("/api/contacts/check-exists", {"session": "hotel"}, "query parameter 'phone' is required"),
        ("/api/contacts/check-exists", {"phone": GUEST, "session": "hotel", "x": "1"}, "'x' is not defined"),
        ("/api/hotel/auth/qr", {"format": "png"}, "'png' is not one of ['image', 'raw']"),
        ("/api/sessions", {"all": "yes"}, "must be true or false"),
    ],
)
async def test_query_parameters_are_checked_against_the_spec(
    sim: WahaSimulator, http: httpx.AsyncClient, path: str, params: dict[str, str], complaint: str
) -> None:
    sim.add_session("hotel", status="SCAN_QR_CODE")
    response = await http.get(path, params=params)
    assert response.status_code == 400
    assert any(complaint in e for e in sim.violations[0].errors), sim.violations


async def test_a_path_waha_does_not_have_is_a_violation_and_an_unsimulated_one_is_501(
    sim: WahaSimulator, http: httpx.AsyncClient
) -> None:
    sim.add_session("hotel")
    missing = await http.post("/api/sendMessage", json=send())
    assert missing.status_code == 404
    assert missing.json()["message"] == "Cannot POST /api/sendMessage"
    assert sim.violations[0].operation is None

    unsimulated = await http.get("/api/hotel/chats")
    assert unsimulated.status_code == 501
    assert list(sim.unsupported) == ["GET /api/hotel/chats (ChatsController_getChats)"]
    assert len(sim.violations) == 1


async def test_the_session_create_examples_of_the_spec_are_accepted(
    sim: WahaSimulator, http: httpx.AsyncClient
) -> None:
    document = json.loads(waha_spec.find_spec().read_text())
    examples = document["paths"]["/api/sessions"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    for name in ("basic", "withWebhooks"):
        body = {**examples[name]["value"], "name": f"example-{name}"}
        response = await http.post("/api/sessions", json=body)
        assert response.status_code == 201, response.text
    sim.assert_no_violations()


# ------------------------------------------------------------------ authentication


async def test_api_keys(sim: WahaSimulator, http: httpx.AsyncClient) -> None:
    sim.add_session("hotel")
    sim.add_session("other")
    sim.add_api_key("hotel-only", session="hotel")

    async def status(key: str | None, session: str = "hotel") -> int:
        headers = {"X-Api-Key": key} if key is not None else {}
        async with httpx.AsyncClient(base_url=sim.base_url, headers=headers) as client:
            response = await client.post("/api/sendText", json=send(session))
        return response.status_code

    assert await status(None) == 401
    assert await status("wrong") == 401
    assert await status(KEY) == 201
    assert await status("hotel-only") == 201
    assert await status("hotel-only", session="other") == 403
    sim.reject_api_key(KEY, 403)
    assert await status(KEY) == 403
    sim.reject_api_key(KEY, 401)
    assert await status(KEY) == 401
    # Unauthorised requests are refused before their body is looked at: not spec violations.
    response = await http.post("/api/sendText", json={"bogus": True})
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized", "statusCode": 401}
    sim.assert_no_violations()


async def test_without_an_api_key_waha_accepts_every_request() -> None:
    async with WahaSimulator() as open_sim, httpx.AsyncClient(base_url=open_sim.base_url) as client:
        open_sim.add_session("hotel")
        assert (await client.post("/api/sendText", json=send())).status_code == 201
        assert (await client.get("/ping")).json() == {"message": "pong"}


# ------------------------------------------------------------------ sessions


async def test_a_session_that_is_not_working_refuses_sends_as_waha_does(
    sim: WahaSimulator, http: httpx.AsyncClient
) -> None:
    sim.add_session("hotel")
    sim.set_status("hotel", "SCAN_QR_CODE")
    response = await http.post("/api/sendText", json=send())
    assert response.status_code == 422
    assert response.json() == {
        "error": "Session status is not as expected. Try again later or restart the session",
        "session": "hotel",
        "status": "SCAN_QR_CODE",
        "expected": ["WORKING"],
    }
    sim.set_status("hotel", "FAILED")
    assert (await http.post("/api/sendText", json=send())).json()["status"] == "FAILED"

    sim.set_status("hotel", "STOPPED")
    stopped = await http.post("/api/sendText", json=send())
    assert stopped.status_code == 404
    assert stopped.json()["message"].startswith("We didn't find a session with name 'hotel'.")
    missing = await http.post("/api/sendText", json=send(session="nobody"))
    assert missing.status_code == 404
    assert sim.sent("hotel") == []
    sim.assert_no_violations()


def conforms(response: httpx.Response, method: str, template: str) -> Any:
    validator = SPEC.response(method, template, response.status_code)
    assert validator is not None, f"the spec declares no {response.status_code} answer for {method} {template}"
    body = response.json()
    errors = [e.message for e in validator.iter_errors(body)]
    assert errors == [], errors
    return body


async def test_connect_a_tenant_by_qr_code_then_log_out(
    sim: WahaSimulator, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    """What the waha-session edge function does: create and start the session with its webhook
    (HMAC key set), show the QR code or a pairing code, see it working, log out."""
    config = {"webhooks": [webhook(receiver, "session.status", "message", "message.ack")], "metadata": {"t": "1"}}
    created = await http.post("/api/sessions", json={"name": "hotel", "start": True, "config": config})
    assert created.status_code == 201
    assert conforms(created, "POST", "/api/sessions")["status"] == "SCAN_QR_CODE"
    again = await http.post("/api/sessions", json={"name": "hotel"})
    assert again.status_code == 422
    assert "already exists" in again.json()["message"]

    raw = await http.get("/api/hotel/auth/qr", params={"format": "raw"})
    value = conforms(raw, "GET", "/api/{session}/auth/qr")["value"]
    assert value.startswith("2@")
    image = await http.get("/api/hotel/auth/qr", params={"format": "image"})
    assert image.headers["Content-Type"] == "image/png"
    assert png_text(image.content) == value
    as_json = await http.get("/api/hotel/auth/qr", headers={"Accept": "application/json"})
    assert conforms(as_json, "GET", "/api/{session}/auth/qr")["mimetype"] == "image/png"
    assert base64.b64decode(as_json.json()["data"]) == image.content

    code = await http.post("/api/hotel/auth/request-code", json={"phoneNumber": "4930123456789"})
    assert code.status_code == 201
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code.json()["code"])

    sim.pair("hotel")  # the hotel's phone scanned the code
    info = conforms(await http.get("/api/sessions/hotel"), "GET", "/api/sessions/{session}")
    assert info["status"] == "WORKING"
    assert info["me"]["id"].endswith("@c.us")
    assert info["config"] == config
    me = await http.get("/api/sessions/hotel/me")
    assert me.json() == info["me"]
    not_now = await http.get("/api/hotel/auth/qr")
    assert not_now.status_code == 422
    assert not_now.json()["expected"] == ["SCAN_QR_CODE"]

    restarted = await http.post("/api/sessions/hotel/restart")
    assert conforms(restarted, "POST", "/api/sessions/{session}/restart")["status"] == "WORKING"
    logged_out = await http.post("/api/sessions/hotel/logout")
    assert conforms(logged_out, "POST", "/api/sessions/{session}/logout")["status"] == "SCAN_QR_CODE"
    stopped = await http.post("/api/sessions/hotel/stop")
    assert conforms(stopped, "POST", "/api/sessions/{session}/stop")["status"] == "STOPPED"
    assert [s["name"] for s in (await http.get("/api/sessions")).json()] == []
    listed = await http.get("/api/sessions", params={"all": "true"})
    assert [s["name"] for s in listed.json()] == ["hotel"]
    assert (await http.get("/api/sessions/hotel/me")).status_code == 404

    await sim.drain_webhooks()
    statuses = [b["payload"]["status"] for b in receiver.bodies("session.status")]
    expected = ["STARTING", "SCAN_QR_CODE", "WORKING"]  # created, then paired
    expected += ["STOPPED", "STARTING", "WORKING"]  # restarted
    expected += ["STOPPED", "STARTING", "SCAN_QR_CODE", "STOPPED"]  # logged out, stopped
    assert sorted(statuses) == sorted(expected)
    for body in receiver.bodies():
        assert body["metadata"] == {"t": "1"}
    assert (await http.delete("/api/sessions/hotel")).status_code == 200
    assert (await http.get("/api/sessions/hotel")).status_code == 404
    sim.assert_no_violations()


async def test_updating_a_session_points_its_webhook_elsewhere(
    sim: WahaSimulator, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    sim.add_session("hotel")
    assert sim.session("hotel").targets == ()
    config = {"webhooks": [webhook(receiver, "session.status")]}
    updated = await http.put("/api/sessions/hotel", json={"config": config})
    assert conforms(updated, "PUT", "/api/sessions/{session}")["status"] == "WORKING"
    await sim.drain_webhooks()
    # A running session restarts to take the new config; the new webhook sees it come back.
    assert sorted(b["payload"]["status"] for b in receiver.bodies()) == ["STARTING", "WORKING"]
    assert (await http.put("/api/sessions/nobody", json={"config": config})).status_code == 404
    sim.assert_no_violations()


def png_text(png: bytes) -> str:
    """The QR value the simulator's PNG carries (and a check that it is a well-formed PNG)."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    position, text = 8, ""
    while position < len(png):
        length = int.from_bytes(png[position : position + 4], "big")
        kind = png[position + 4 : position + 8]
        data = png[position + 8 : position + 8 + length]
        crc = int.from_bytes(png[position + 8 + length : position + 12 + length], "big")
        assert zlib.crc32(kind + data) == crc
        if kind == b"tEXt":
            text = data.split(b"\x00", 1)[1].decode()
        position += 12 + length
    return text


# ------------------------------------------------------------------ webhooks


def check_delivery(headers: dict[str, str], raw: bytes, key: str | None) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(raw)
    if key is None:
        assert "X-Webhook-Hmac" not in headers
    else:
        assert headers["X-Webhook-Hmac-Algorithm"] == "sha512"
        assert verify_waha(headers, raw, [key]).ok
        assert not verify_waha(headers, raw + b" ", [key]).ok
    assert re.fullmatch(r"evt_[0-9a-hjkmnp-tv-z]{26}", body["id"])
    assert headers["User-Agent"] == f"WAHA/{SPEC.version}"
    assert headers["X-Webhook-Timestamp"].isdigit()
    errors = [e.message for e in SPEC.webhook(body["event"]).iter_errors(body)]
    assert errors == [], (body["event"], errors)
    assert [e.message for e in INGRESS_SCHEMA.iter_errors(body)] == []
    return body


def test_the_signature_matches_the_shared_vectors() -> None:
    vectors = json.loads((ROOT / "shared" / "vectors" / "waha-hmac.json").read_text())
    valid = [v for v in vectors["verify"] if v["valid"] and v["hmac"] == v["hmac"].lower()]
    assert valid
    for vector in valid:
        signatures = {sign(vector["body"].encode(), secret) for secret in vector["secrets"]}
        assert vector["hmac"] in signatures, vector["name"]


async def test_acks_are_signed_webhooks_that_follow_the_spec(
    sim: WahaSimulator, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    sim.add_session("hotel", webhooks=[webhook(receiver, "message.ack")])
    response = await http.post("/api/sendText", json=send())
    [sent] = sim.sent("hotel")
    for level in (1, 2, 3):
        sim.ack("hotel", sent.id, level)
    await sim.drain_webhooks()

    acks = [check_delivery(h, raw, HMAC_KEY) for h, raw in receiver.received]
    assert sorted(a["payload"]["ack"] for a in acks) == [1, 2, 3]
    assert {a["payload"]["ackName"] for a in acks} == {"SERVER", "DEVICE", "READ"}
    assert {a["payload"]["id"] for a in acks} == {sent.id}
    assert sent.id == f"true_{GUEST}@c.us_{response.json()['key']['id']}"
    assert all(a["session"] == "hotel" and a["engine"] == "NOWEB" for a in acks)
    assert len({a["id"] for a in acks}) == 3


async def test_automatic_acks_reach_read_unless_the_number_is_not_on_whatsapp(receiver: Receiver) -> None:
    async with (
        WahaSimulator(api_key=KEY, ack_delays=(0, 0, 0)) as auto,
        httpx.AsyncClient(base_url=auto.base_url, headers={"X-Api-Key": KEY}) as client,
    ):
        auto.add_session("hotel", webhooks=[webhook(receiver, "message.ack")])
        auto.mark_not_on_whatsapp("+49 170 0000000")
        exists = await client.get("/api/contacts/check-exists", params={"phone": "491700000000", "session": "hotel"})
        assert exists.json() == {"numberExists": False}
        assert (await client.post("/api/sendText", json=send(chat="491700000000@c.us"))).status_code == 201
        assert (await client.post("/api/sendText", json=send())).status_code == 201
        ghost, guest = auto.sent("hotel")
        # A number not on WhatsApp stops at SERVER: once its SERVER ack has come, no other follows.
        await eventually(lambda: ghost.ack >= 1 and guest.ack == 3)
        await auto.drain_webhooks()
        assert (ghost.ack, guest.ack) == (1, 3)
        by_message = {(b["payload"]["id"], b["payload"]["ack"]) for b in receiver.bodies()}
        assert by_message == {(ghost.id, 1), (guest.id, 1), (guest.id, 2), (guest.id, 3)}


async def test_a_guest_reply_arrives_as_a_message_webhook(sim: WahaSimulator, receiver: Receiver) -> None:
    plain = webhook(receiver, "message", key=None)
    plain["customHeaders"] = [{"name": "X-Tenant", "value": "t-1"}]
    sim.add_session("hotel", webhooks=[webhook(receiver, "message"), plain, webhook(receiver, "session.status")])
    message_id = sim.receive("hotel", f"+{GUEST}", "STOP")
    await sim.drain_webhooks()
    messages = [(h, raw) for h, raw in receiver.received if json.loads(raw)["event"] == "message"]
    signed, unsigned = (
        [(h, raw) for h, raw in messages if ("X-Webhook-Hmac" in h) == with_key] for with_key in (True, False)
    )
    [(headers, raw)] = signed
    body = check_delivery(headers, raw, HMAC_KEY)
    assert body["event"] == "message"
    payload = body["payload"]
    assert (payload["id"], payload["from"], payload["fromMe"], payload["body"]) == (
        message_id,
        f"{GUEST}@c.us",
        False,
        "STOP",
    )
    [(headers, raw)] = unsigned
    check_delivery(headers, raw, None)
    assert headers["X-Tenant"] == "t-1"


async def test_guest_media_locations_and_other_chats_arrive_as_waha_posts_them(
    sim: WahaSimulator, receiver: Receiver
) -> None:
    sim.add_api_key("media-key")
    sim.add_session("hotel", webhooks=[webhook(receiver, "message"), webhook(receiver, "message.any")])
    voice = sim.receive("hotel", f"+{GUEST}", kind="voice", push_name="Ada")
    document = sim.receive("hotel", f"+{GUEST}", kind="document", caption="My invoice", filename="invoice.pdf")
    place = sim.receive("hotel", f"+{GUEST}", kind="location", latitude=52.52, longitude=13.405, location_name="Gate")
    group = sim.receive("hotel", f"+{GUEST}", "Hi all", chat="group")
    status = sim.receive("hotel", f"+{GUEST}", "My holiday", chat="status")
    phone = sim.receive("hotel", f"+{GUEST}", "Sent from the front desk phone", from_me=True)
    await sim.drain_webhooks()
    bodies = [b for b in receiver.bodies()]
    by_id: dict[str, list[str]] = {}
    for body in bodies:
        assert [e.message for e in SPEC.schema("WAMessage").iter_errors(body["payload"])] == []
        by_id.setdefault(body["payload"]["id"], []).append(body["event"])
    # The hotel's own message from the phone is only in message.any, as on WAHA.
    assert by_id[phone] == ["message.any"]
    assert sorted(by_id[voice]) == ["message", "message.any"]
    payloads = {b["payload"]["id"]: b["payload"] for b in bodies}
    assert payloads[voice]["_data"]["type"] == "ptt" and payloads[voice]["media"]["mimetype"].startswith("audio/ogg")
    assert (payloads[document]["body"], payloads[document]["media"]["filename"]) == ("My invoice", "invoice.pdf")
    assert payloads[place]["location"]["latitude"] == "52.52"
    assert payloads[group]["from"].endswith("@g.us") and payloads[group]["participant"] == f"{GUEST}@c.us"
    assert payloads[status]["from"] == "status@broadcast"
    assert (payloads[phone]["fromMe"], payloads[phone]["to"]) == (True, f"{GUEST}@c.us")

    url = payloads[voice]["media"]["url"]
    async with httpx.AsyncClient() as client:
        assert (await client.get(url)).status_code == 401, "WAHA's files need the API key"
        served = await client.get(url, headers={"X-Api-Key": "media-key"})
        assert served.status_code == 200
        assert served.headers["content-type"].startswith("audio/ogg") and served.content.startswith(b"OggS")
        missing = await client.get(url.rsplit("/", 1)[0] + "/nothing.png", headers={"X-Api-Key": "media-key"})
        assert missing.status_code == 404
        # WAHA deletes its files after WHATSAPP_FILES_LIFETIME; fetching the message downloads again.
        assert sim.expire_media("hotel") == 2
        assert (await client.get(url, headers={"X-Api-Key": "media-key"})).status_code == 404
        again = await client.get(
            f"{sim.base_url}/api/hotel/chats/{GUEST}@c.us/messages/{voice}",
            params={"downloadMedia": "true"},
            headers={"X-Api-Key": "media-key"},
        )
        assert again.status_code == 200
        assert [e.message for e in SPEC.schema("WAMessage").iter_errors(again.json())] == []
        fresh = await client.get(again.json()["media"]["url"], headers={"X-Api-Key": "media-key"})
        assert fresh.status_code == 200 and fresh.content.startswith(b"OggS")
        other_chat = await client.get(
            f"{sim.base_url}/api/hotel/chats/49111@c.us/messages/{voice}", headers={"X-Api-Key": "media-key"}
        )
        assert other_chat.status_code == 404
    assert list(sim.violations) == []


async def test_undeliverable_webhooks_are_retried_then_given_up(receiver: Receiver) -> None:
    receiver.answer = 503
    retries = {"attempts": 3, "delaySeconds": 0.01, "policy": "constant"}
    async with WahaSimulator(ack_delays=None) as waha:
        hooks = [{**webhook(receiver, "session.status"), "retries": retries}]
        waha.add_session("hotel", status="STOPPED", webhooks=hooks)
        waha.set_status("hotel", "FAILED")
        await waha.drain_webhooks()
        [delivery] = waha.deliveries
        assert (delivery.attempts, delivery.delivered, delivery.error) == (3, False, "HTTP 503")
        assert len(receiver.received) == 3
        # Every try is the same event with the same signed body.
        assert {raw for _, raw in receiver.received} == {delivery.body}


# ------------------------------------------------------------------ engines


@pytest.mark.parametrize("engine", ["NOWEB", "WEBJS", "GOWS"])
async def test_send_text_answers_in_the_shape_of_the_engine(engine: str) -> None:
    async with WahaSimulator(engine=engine, ack_delays=None) as waha, httpx.AsyncClient(base_url=waha.base_url) as c:
        waha.add_session("hotel")
        body = (await c.post("/api/sendText", json={**send(), "id": "3EB0CAFE"})).json()
        [sent] = waha.sent("hotel")
        assert sent.id == f"true_{GUEST}@c.us_3EB0CAFE"
        if engine == "NOWEB":
            assert body["key"] == {"remoteJid": f"{GUEST}@s.whatsapp.net", "fromMe": True, "id": "3EB0CAFE"}
        elif engine == "WEBJS":
            assert body["id"]["_serialized"] == sent.id
        else:
            assert body["id"] == sent.id
            assert [e.message for e in SPEC.schema("WAMessage").iter_errors(body)] == []
        waha.set_response_shape("hotel", "empty")
        empty = await c.post("/api/sendText", json=send())
        assert (empty.status_code, empty.content) == (201, b"")


# ------------------------------------------------------------------ faults


async def test_injected_failures_then_recovery(sim: WahaSimulator, http: httpx.AsyncClient) -> None:
    sim.add_session("hotel")
    sim.add_session("other")
    sim.fail_next("hotel", 2, status=503)
    sim.fail_next("hotel", 1, status=429, retry_after=7)
    sim.fail_next("hotel", 1, status=500)

    first, second = [await http.post("/api/sendText", json=send()) for _ in range(2)]
    assert (first.status_code, second.status_code) == (503, 503)
    assert (await http.post("/api/sendText", json=send(session="other"))).status_code == 201
    limited = await http.post("/api/sendText", json=send())
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "7")
    broken = await http.post("/api/sendText", json=send())
    assert broken.status_code == 500
    assert broken.json()["exception"]["message"] == "simulated engine failure"
    assert (await http.post("/api/sendText", json=send())).status_code == 201
    assert len(sim.sent("hotel")) == 1
    sim.assert_no_violations()


async def test_timeouts_dropped_connections_and_latency(sim: WahaSimulator) -> None:
    sim.add_session("hotel")
    async with httpx.AsyncClient(base_url=sim.base_url, headers={"X-Api-Key": KEY}, timeout=0.2) as impatient:
        sim.timeout_next("hotel", hang=60)
        with pytest.raises(httpx.ReadTimeout):
            await impatient.post("/api/sendText", json=send())
        sim.disconnect_next("hotel")
        with pytest.raises(httpx.RemoteProtocolError):
            await impatient.post("/api/sendText", json=send())
        sim.set_latency(60, session="hotel")
        with pytest.raises(httpx.ReadTimeout):
            await impatient.post("/api/sendText", json=send())
        sim.set_latency(0, session="hotel")
        assert (await impatient.post("/api/sendText", json=send())).status_code == 201
    assert len(sim.sent("hotel")) == 1


async def test_a_stopped_simulator_refuses_connections_and_comes_back_with_its_state(sim: WahaSimulator) -> None:
    sim.add_session("hotel")
    port = sim.port
    await sim.stop()
    async with httpx.AsyncClient(base_url=sim.base_url, headers={"X-Api-Key": KEY}) as client:
        with pytest.raises(httpx.ConnectError):
            await client.post("/api/sendText", json=send())
        await sim.start()
        assert sim.port == port
        assert (await client.post("/api/sendText", json=send())).status_code == 201
    assert len(sim.sent("hotel")) == 1


# ------------------------------------------------------------------ control API


async def test_the_control_api_drives_the_same_simulator(sim: WahaSimulator, receiver: Receiver) -> None:
    async with (
        httpx.AsyncClient(base_url=sim.base_url) as control,
        httpx.AsyncClient(base_url=sim.base_url, headers={"X-Api-Key": KEY}) as api,
    ):

        async def call(method: str, path: str, body: Any = None) -> Any:
            response = await control.request(method, f"/_sim{path}", json=body)
            assert response.status_code < 300, response.text
            return response.json()

        hooks = [webhook(receiver, "message", "message.ack", "session.status")]
        created = await call("POST", "/sessions", {"name": "hotel", "webhooks": hooks, "engine": "WEBJS"})
        assert (created["status"], created["engine"]) == ("WORKING", "WEBJS")
        await call("POST", "/sessions/hotel/faults", {"kind": "http", "status": 502, "count": 1})
        assert (await api.post("/api/sendText", json=send())).status_code == 502
        await call("PUT", "/sessions/hotel/response-shape", {"shape": "empty"})
        assert (await api.post("/api/sendText", json=send())).content == b""
        [sent] = await call("GET", "/sessions/hotel/sent")
        await call("POST", "/sessions/hotel/acks", {"message_id": sent["id"], "ack": 3})
        inbound = await call("POST", "/sessions/hotel/inbound", {"from": GUEST, "text": "STOP"})
        await call("POST", "/numbers/not-on-whatsapp", {"phones": [GUEST]})
        exists = await api.get("/api/contacts/check-exists", params={"phone": GUEST, "session": "hotel"})
        assert exists.json()["numberExists"] is False
        await call("POST", "/sessions/hotel/status", {"status": "SCAN_QR_CODE"})
        assert (await api.post("/api/sendText", json=send())).status_code == 422
        await call("POST", "/sessions/hotel/pair")
        await call("PUT", "/sessions/hotel/latency", {"ms": 0})
        await call("PUT", "/latency", {"ms": 0})
        await call("PUT", "/acks", {"delays_ms": None})
        await call("POST", "/api-keys", {"key": "second"})
        await call("POST", "/api-keys/reject", {"key": KEY, "status": 403})
        assert (await api.post("/api/sendText", json=send())).status_code == 403

        await api.post("/api/sendText", json={"chatId": 1}, headers={"X-Api-Key": "second"})
        [violation] = await call("GET", "/violations")
        assert violation["operation"] == "ChattingController_sendText"
        await call("DELETE", "/violations")
        assert await call("GET", "/violations") == []

        await call("POST", "/webhooks/drain")
        delivered = await call("GET", "/webhooks")
        assert {d["event"] for d in delivered} == {"message", "message.ack", "session.status"}
        assert all(d["delivered"] for d in delivered)
        assert any(b["payload"].get("id") == inbound["id"] for b in receiver.bodies("message"))
        [summary] = await call("GET", "/sessions")
        assert (summary["status"], summary["sent_total"]) == ("WORKING", 1)

        bad = await control.post("/_sim/sessions/nobody/pair")
        assert bad.status_code == 400
        assert "no session 'nobody'" in bad.json()["error"]


# ------------------------------------------------------------------ the command line


@pytest.mark.slow
def test_the_command_line_serves_until_sigterm() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.simulators.waha", "--port", "0", "--api-key", KEY, "--auto-pair"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.rsplit(" ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:"), line
        with httpx.Client(base_url=url, headers={"X-Api-Key": KEY}) as client:
            assert client.get("/ping").json() == {"message": "pong"}
            created = client.post("/api/sessions", json={"name": "hotel"})
            assert created.json()["status"] == "WORKING"  # --auto-pair: no QR scan needed
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_spec_is_the_repositorys_contract_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAHA_OPENAPI_SPEC", raising=False)
    assert waha_spec.find_spec() == waha_contract.CONTRACT
    assert SPEC.version == "2026.9.2"
    monkeypatch.setenv("WAHA_OPENAPI_SPEC", "/nonexistent/waha-openapi.json")
    with pytest.raises(FileNotFoundError, match=r"/nonexistent/waha-openapi\.json"):
        waha_spec.find_spec()
