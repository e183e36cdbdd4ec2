"""The worker's WAHA client against the WAHA simulator: the id it returns is the one WAHA's acks
carry, for every engine's answer; every failure WAHA can give becomes the exception that tells
the send loop what to do; and every request it makes follows WAHA's OpenAPI spec (each test
ends by checking the simulator saw no violation).
"""

from __future__ import annotations

import datetime as dt
import http as http_status
import json
import re
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import aiohttp
import pytest

from devstack.simulators.waha import WahaSimulator
from worker.errors import ConfigurationError, TransientError, WorkerError
from worker.http import new_waha_session
from worker.waha import (
    InvalidNumber,
    SessionUnavailable,
    WahaAuthError,
    WahaClient,
    WahaConfigError,
    WahaRateLimited,
    WahaRequestRejected,
    WahaTransientError,
    chat_id_for,
    message_key,
    responses,
)

KEY = "tenant-api-key-0123456789"
GUEST = "+4915112345678"
CHAT = "4915112345678@c.us"
# What aiohttp puts into its exceptions' texts: a request URL with the guest's number.
_URL = "http://waha.example:3000/api/contacts/check-exists?phone=4915112345678&session=hotel"


@dataclass(frozen=True)
class Target:
    base_url: str
    session_name: str = "hotel"
    api_key: str | None = KEY


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def sim() -> AsyncIterator[WahaSimulator]:
    async with WahaSimulator(api_key=KEY, ack_delays=None) as simulator:
        simulator.add_session("hotel")
        yield simulator
        simulator.assert_no_violations()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # The worker's own kind of session, so timeouts and their classification are production's.
    async with new_waha_session(timeout_seconds=5, max_connections=50, allow_local=True) as session:
        yield session


def recording(seen: list[str]) -> aiohttp.TraceConfig:
    """Notes "<method> <path>" of every request a session starts."""

    async def started(
        session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestStartParams
    ) -> None:
        seen.append(f"{params.method} {params.url.path}")

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(started)
    return trace


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(http: aiohttp.ClientSession, clock: Clock) -> WahaClient:
    return WahaClient(http, clock=clock)


@pytest.fixture
def target(sim: WahaSimulator) -> Target:
    return Target(sim.base_url)


# ------------------------------------------------------------------ the message id


@pytest.mark.parametrize(("engine", "shape"), [("NOWEB", "noweb"), ("WEBJS", "webjs"), ("GOWS", "gows")])
async def test_the_id_of_every_engine_is_the_one_its_acks_carry(
    http: aiohttp.ClientSession, engine: str, shape: str
) -> None:
    async with WahaSimulator(api_key=KEY, engine=engine, ack_delays=None) as waha:
        waha.add_session("hotel")
        sent = await WahaClient(http).send_text(Target(waha.base_url), GUEST, "Welcome to the Alpenhof!")
        [recorded] = waha.sent("hotel")
        # recorded.id is the id the simulator's message.ack webhooks carry for this message.
        assert (sent.message_id, sent.chat_id, sent.shape) == (recorded.id, CHAT, shape)
        assert recorded.text == "Welcome to the Alpenhof!"
        waha.assert_no_violations()


async def test_an_empty_201_still_gives_the_id_of_the_key_we_sent(
    sim: WahaSimulator, client: WahaClient, target: Target
) -> None:
    sim.set_response_shape("hotel", "empty")
    key = message_key("tenant-1:42")
    sent = await client.send_text(target, GUEST, "Hello", key=key)
    assert sent.shape == "empty"
    assert sent.message_id == f"true_{CHAT}_{key}" == sim.sent("hotel")[0].id


async def test_every_attempt_of_a_message_uses_the_same_key(
    sim: WahaSimulator, client: WahaClient, target: Target
) -> None:
    key = message_key("tenant-1:42")
    assert re.fullmatch(r"3EB0[0-9A-F]{18}", key)
    assert key == message_key("tenant-1:42") != message_key("tenant-1:43")
    first = await client.send_text(target, GUEST, "Hello", key=key)
    second = await client.send_text(target, GUEST, "Hello", key=key)
    assert first.message_id == second.message_id


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", (f"true_{CHAT}_K", "empty")),
        (b"{}", (f"true_{CHAT}_K", "empty")),
        (b"null", (f"true_{CHAT}_K", "empty")),
        (b"<html>ok</html>", (f"true_{CHAT}_K", "unrecognised")),
        (b'{"status": "ok"}', (f"true_{CHAT}_K", "unrecognised")),
        (
            b'{"key": {"remoteJid": "49170@s.whatsapp.net", "fromMe": true, "id": "A1"}}',
            ("true_49170@c.us_A1", "noweb"),
        ),
        (b'{"id": {"fromMe": true, "remote": "49170@c.us", "id": "B2"}}', ("true_49170@c.us_B2", "webjs")),
        (b'{"id": "C3"}', (f"true_{CHAT}_C3", "gows")),
    ],
)
def test_message_id_from_any_answer(body: bytes, expected: tuple[str, str]) -> None:
    assert responses.message_id(body, chat_id=CHAT, sent_key="K") == expected


# ------------------------------------------------------------------ numbers


@pytest.mark.parametrize(
    ("phone", "chat_id"),
    [
        ("+4915112345678", CHAT),
        ("4915112345678", CHAT),
        ("+49 151 1234-5678", CHAT),
        ("+1 (212) 555-0100", "12125550100@c.us"),
    ],
)
def test_phone_numbers_become_chat_ids(phone: str, chat_id: str) -> None:
    assert chat_id_for(phone) == chat_id


@pytest.mark.parametrize("phone", ["", "+49", "0049-151-ABC", "+4915112345678901234", "guest@example.com"])
async def test_what_is_not_a_phone_number_is_refused_before_any_request(
    sim: WahaSimulator, target: Target, phone: str
) -> None:
    requests: list[str] = []
    async with aiohttp.ClientSession(trace_configs=[recording(requests)]) as http:
        with pytest.raises(InvalidNumber, match="is not a phone number"):
            await WahaClient(http).send_text(target, phone, "Hello")
        await WahaClient(http).send_text(target, GUEST, "Hello")  # the recording does record
    assert requests == ["GET /api/contacts/check-exists", "POST /api/sendText"]


async def test_a_number_not_on_whatsapp_is_dead_at_once(sim: WahaSimulator, client: WahaClient, target: Target) -> None:
    sim.mark_not_on_whatsapp(GUEST)
    with pytest.raises(InvalidNumber) as raised:
        await client.send_text(target, GUEST, "Hello")
    assert str(raised.value) == "+4915112345678 is not on WhatsApp (WAHA check-exists)"
    assert not raised.value.retryable
    assert sim.sent("hotel") == []


async def test_numbers_found_on_whatsapp_are_remembered_for_a_while(
    sim: WahaSimulator, client: WahaClient, target: Target, clock: Clock
) -> None:
    await client.send_text(target, GUEST, "one")
    sim.mark_not_on_whatsapp(GUEST)  # what WAHA would now say; the client does not ask yet
    await client.send_text(target, GUEST, "two")
    clock.now += 6 * 3600 + 1
    with pytest.raises(InvalidNumber):
        await client.send_text(target, GUEST, "three")
    assert [m.text for m in sim.sent("hotel")] == ["one", "two"]


async def test_number_checks_can_be_turned_off(sim: WahaSimulator, http: aiohttp.ClientSession, target: Target) -> None:
    sim.mark_not_on_whatsapp(GUEST)
    sent = await WahaClient(http, check_numbers=False).send_text(target, GUEST, "Hello")
    # WAHA's own behaviour: accepted, and the message never gets past the server.
    assert sent.message_id == sim.sent("hotel")[0].id


# ------------------------------------------------------------------ session unavailable


# With number checks on, check-exists meets the session first; without, sendText does.
@pytest.mark.parametrize("check_numbers", [True, False])
@pytest.mark.parametrize("status", ["SCAN_QR_CODE", "FAILED", "STARTING"])
async def test_a_session_that_is_not_working_pauses_the_tenant(
    sim: WahaSimulator, http: aiohttp.ClientSession, target: Target, status: str, check_numbers: bool
) -> None:
    sim.set_status("hotel", status)
    with pytest.raises(SessionUnavailable) as raised:
        await WahaClient(http, check_numbers=check_numbers).send_text(target, GUEST, "Hello")
    error = raised.value
    assert (error.status, error.session_status, error.pauses_tenant) == (422, status, True)
    assert str(error) == f"WAHA 422: session 'hotel' is {status}, not WORKING; sends paused until it reconnects"
    assert sim.sent("hotel") == []


@pytest.mark.parametrize("check_numbers", [True, False])
@pytest.mark.parametrize("session", ["hotel", "never-created"])
async def test_a_session_that_is_not_running_pauses_the_tenant(
    sim: WahaSimulator, http: aiohttp.ClientSession, session: str, check_numbers: bool
) -> None:
    sim.set_status("hotel", "STOPPED")
    client = WahaClient(http, check_numbers=check_numbers)
    with pytest.raises(SessionUnavailable) as raised:
        await client.send_text(Target(sim.base_url, session_name=session), GUEST, "Hello")
    assert raised.value.status == 404
    assert str(raised.value).startswith(f"WAHA 404: session '{session}' is not running on WAHA")


async def test_waha_down_pauses_the_tenant(sim: WahaSimulator, client: WahaClient, target: Target) -> None:
    await sim.stop()
    with pytest.raises(SessionUnavailable) as raised:
        await client.send_text(target, GUEST, "Hello")
    assert raised.value.status is None
    assert str(raised.value).startswith(f"WAHA at 127.0.0.1:{sim.port} unreachable (ClientConnectorError: Connect")
    await sim.start()
    assert (await client.send_text(target, GUEST, "Hello")).message_id == sim.sent("hotel")[0].id


# ------------------------------------------------------------------ configuration errors


@pytest.mark.parametrize("status", [401, 403])
async def test_a_refused_api_key_is_a_configuration_error(
    sim: WahaSimulator, client: WahaClient, target: Target, status: int
) -> None:
    sim.reject_api_key(KEY, status)
    with pytest.raises(WahaAuthError) as raised:
        await client.send_text(target, GUEST, "Hello")
    error = raised.value
    assert isinstance(error, ConfigurationError)
    assert (error.status, error.pauses_tenant, error.retryable) == (status, True, False)
    assert str(error).startswith(f"WAHA {status}: the API key ")
    assert KEY not in str(error)


async def test_a_key_for_another_session_is_forbidden(sim: WahaSimulator, client: WahaClient) -> None:
    sim.add_session("other")
    sim.add_api_key("other-key", session="other")
    with pytest.raises(WahaAuthError, match="WAHA 403: the API key may not use this session"):
        await client.send_text(Target(sim.base_url, api_key="other-key"), GUEST, "Hello")


async def test_a_base_url_that_is_not_waha_is_a_configuration_error(sim: WahaSimulator, client: WahaClient) -> None:
    with pytest.raises(WahaConfigError, match="WAHA 404: Cannot GET /wrong/api/contacts/check-exists") as raised:
        await client.send_text(Target(sim.base_url + "/wrong/"), GUEST, "Hello")
    assert raised.value.pauses_tenant
    [violation] = sim.violations  # the simulator rightly saw a path WAHA does not have
    assert violation.operation is None
    sim.violations.clear()


# ------------------------------------------------------------------ retryable


@pytest.mark.parametrize(
    ("status", "retry_after", "reason"),
    [
        (500, None, "WAHA 500: simulated engine failure"),
        (502, None, "WAHA 502: HTTP 502 from the simulated proxy"),
        (503, 30.0, "WAHA 503: HTTP 503 from the simulated proxy"),
    ],
)
async def test_server_errors_are_retried(
    sim: WahaSimulator, client: WahaClient, target: Target, status: int, retry_after: float | None, reason: str
) -> None:
    sim.fail_next("hotel", status=status, retry_after=retry_after)
    with pytest.raises(WahaTransientError) as raised:
        await client.send_text(target, GUEST, "Hello")
    error = raised.value
    assert isinstance(error, TransientError)
    assert (str(error), error.status, error.retry_after, error.retryable) == (reason, status, retry_after, True)
    assert not error.maybe_delivered
    assert (await client.send_text(target, GUEST, "Hello")).message_id == sim.sent("hotel")[0].id


async def test_429_is_retried_no_earlier_than_retry_after(
    sim: WahaSimulator, client: WahaClient, target: Target
) -> None:
    sim.fail_next("hotel", status=429, retry_after=7)
    with pytest.raises(WahaRateLimited) as raised:
        await client.send_text(target, GUEST, "Hello")
    assert (raised.value.status, raised.value.retry_after) == (429, 7.0)
    assert str(raised.value) == "WAHA 429: too many requests (retry after 7 s)"


# The session's own timeout, or the client's per-request one (which then applies alone).
@pytest.mark.parametrize("whose", ["session", "client"])
async def test_no_answer_is_retried_and_flagged_as_maybe_delivered(
    sim: WahaSimulator, target: Target, whose: str
) -> None:
    impatient = aiohttp.ClientTimeout(total=0.3)
    session_timeout = impatient if whose == "session" else aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=session_timeout) as http:
        client = WahaClient(http, timeout=impatient if whose == "client" else None)
        sim.timeout_next("hotel", hang=30)
        with pytest.raises(WahaTransientError, match="did not answer in time") as timed_out:
            await client.send_text(target, GUEST, "Hello")
        sim.disconnect_next("hotel")
        with pytest.raises(WahaTransientError, match="dropped the connection") as dropped:
            await client.send_text(target, GUEST, "Hello")
    assert timed_out.value.maybe_delivered and dropped.value.maybe_delivered
    assert timed_out.value.status is None


@pytest.fixture
def unanswered() -> Iterator[str]:
    """The base URL of a server whose connect never completes: its accept queue is full, so the
    kernel drops further SYNs (as a firewall dropping packets would)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        queued = [socket.socket() for _ in range(3)]
        for sock in queued:
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            for sock in queued:
                sock.close()


async def test_waha_that_never_accepts_the_connection_pauses_the_tenant(unanswered: str) -> None:
    # The worker's session gives up connecting before its total timeout, so the failure is known
    # to be a connect (nothing sent), not a lost answer.
    async with new_waha_session(timeout_seconds=1, max_connections=5, allow_local=True) as http:
        with pytest.raises(SessionUnavailable) as raised:
            await WahaClient(http).send_text(Target(unanswered), GUEST, "Hello")
    assert str(raised.value) == (
        f"WAHA at {unanswered.removeprefix('http://')} unreachable (ConnectionTimeoutError: connect timed out); "
        "sends paused until the session reports WORKING"
    )


@pytest.mark.parametrize(
    ("failure", "kind", "maybe_delivered", "text"),
    [
        (
            aiohttp.ConnectionTimeoutError("Connection timeout to host " + _URL),
            SessionUnavailable,
            False,
            "unreachable",
        ),
        (aiohttp.InvalidUrlClientError(_URL), WahaConfigError, False, "is the base URL right?"),
        (aiohttp.ClientConnectionResetError("Cannot write to closing transport"), WahaTransientError, False, "failed"),
        (aiohttp.UploadAbortedError("The request body was not fully sent"), WahaTransientError, False, "failed"),
        (TimeoutError(), WahaTransientError, True, "did not answer in time"),
        (aiohttp.SocketTimeoutError("Timeout on reading data from socket"), WahaTransientError, True, "in time"),
        (aiohttp.ServerDisconnectedError(), WahaTransientError, True, "dropped the connection"),
        (aiohttp.ClientPayloadError("Response payload is not completed"), WahaTransientError, True, "dropped"),
        (aiohttp.ClientOSError(104, "Can not write request body for " + _URL), WahaTransientError, True, "dropped"),
    ],
)
def test_what_a_failed_exchange_means(
    failure: aiohttp.ClientError | TimeoutError, kind: type[WorkerError], maybe_delivered: bool, text: str
) -> None:
    error = responses.classify_transport(failure, base_url="http://waha-admin:s3cret@waha.example:3000/")
    assert type(error) is kind
    assert getattr(error, "maybe_delivered", False) is maybe_delivered
    assert text in str(error)
    # last_error is shown to hotel staff: no credentials of the base URL, no guest number.
    assert "s3cret" not in str(error) and "4915112345678" not in str(error)
    if kind is not WahaConfigError:
        assert "WAHA at waha.example:3000 " in str(error)


# ------------------------------------------------------------------ permanent


async def test_waha_400_is_a_permanent_rejection(sim: WahaSimulator, http: aiohttp.ClientSession) -> None:
    # The client cannot be made to send a bad request, so take WAHA's (the simulator's) 400 as is.
    async with http.post(
        f"{sim.base_url}/api/sendText", json={"session": "hotel", "chatId": CHAT}, headers={"X-Api-Key": KEY}
    ) as r:
        response = responses.WahaResponse(r.status, r.reason or "", r.headers, await r.read())
    error = responses.classify(response, session="hotel")
    assert isinstance(error, WahaRequestRejected)
    assert not error.retryable and not error.pauses_tenant
    assert str(error) == "WAHA 400: WAHA refused the request: body: 'text' is a required property"
    sim.violations.clear()


def _response(status: int, body: object, headers: dict[str, str] | None = None) -> responses.WahaResponse:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return responses.WahaResponse(status, http_status.HTTPStatus(status).phrase, headers or {}, content)


@pytest.mark.parametrize(
    ("response", "kind", "text"),
    [
        (
            _response(500, {"statusCode": 500, "exception": {"message": "wid error: invalid wid", "name": "Error"}}),
            InvalidNumber,
            "WAHA 500: WhatsApp cannot address this number (wid error: invalid wid)",
        ),
        (
            _response(422, {"statusCode": 422, "message": "WAHA Core support only 'default' session.", "error": "x"}),
            WahaConfigError,
            "WAHA 422: WAHA Core support only 'default' session.; sends paused",
        ),
        (
            _response(500, {"statusCode": 500, "exception": {"message": "2 UNKNOWN: server returned error 463"}}),
            WahaTransientError,
            "WAHA 500: 2 UNKNOWN: server returned error 463 - WhatsApp restricts this number from writing to new "
            "contacts for a while",
        ),
        (_response(413, b"<html>too large</html>"), WahaRequestRejected, "WAHA 413: WAHA refused the request: "),
        (_response(504, b"upstream timed out"), WahaTransientError, "WAHA 504: upstream timed out"),
    ],
)
def test_other_answers_waha_gives(response: responses.WahaResponse, kind: type[WorkerError], text: str) -> None:
    error = responses.classify(response, session="hotel")
    assert type(error) is kind
    assert str(error).startswith(text)


def test_retry_after_as_a_date() -> None:
    now = dt.datetime(2026, 11, 26, 12, 0, 0, tzinfo=dt.UTC)
    dated = _response(429, {}, {"Retry-After": "Thu, 26 Nov 2026 12:00:42 GMT"})
    assert responses.retry_after(dated, now) == 42.0
    assert responses.retry_after(_response(429, {}, {"Retry-After": "soon"}), now) is None
    assert responses.retry_after(_response(429, {}, {"Retry-After": "-5"}), now) == 0.0


def test_a_success_that_is_not_json_means_a_wrong_base_url() -> None:
    error = responses.unexpected(_response(200, b"<html>login</html>"))
    assert isinstance(error, WahaConfigError)
    assert "is the base URL right?" in str(error)


# ------------------------------------------------------------------ sessions and plumbing


async def test_session_state(sim: WahaSimulator, client: WahaClient, target: Target) -> None:
    state = await client.session_state(target)
    assert state is not None and state.working
    assert state.account == f"{sim.session('hotel').phone}@c.us"
    sim.set_status("hotel", "SCAN_QR_CODE")
    state = await client.session_state(target)
    assert state is not None and (state.status, state.working) == ("SCAN_QR_CODE", False)
    assert await client.session_state(Target(sim.base_url, session_name="nobody")) is None
    await sim.stop()
    with pytest.raises(SessionUnavailable):
        await client.session_state(target)


async def test_all_requests_go_through_the_one_shared_http_client(sim: WahaSimulator, target: Target) -> None:
    seen: list[str] = []
    async with aiohttp.ClientSession(trace_configs=[recording(seen)]) as shared:
        client = WahaClient(shared)
        await client.send_text(target, GUEST, "one")
        await client.send_text(target, "+4915199999999", "two")
        await client.session_state(target)
    assert seen == [
        "GET /api/contacts/check-exists",
        "POST /api/sendText",
        "GET /api/contacts/check-exists",
        "POST /api/sendText",
        "GET /api/sessions/hotel",
    ]


async def test_without_an_api_key_no_header_is_sent(http: aiohttp.ClientSession) -> None:
    async with WahaSimulator(ack_delays=None) as open_waha:
        open_waha.add_session("hotel")
        sent = await WahaClient(http).send_text(Target(open_waha.base_url, api_key=None), GUEST, "Hello")
        assert sent.message_id == open_waha.sent("hotel")[0].id
        open_waha.assert_no_violations()
