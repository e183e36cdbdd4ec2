"""The worker's WAHA client: send a text, check a number, read a session's status.

One `aiohttp.ClientSession` for WAHA is created at start-up and passed in (worker/http.py's
new_waha_session); the client never opens its own. aiohttp directly, not httpx: the send path
is CPU-bound, and httpx on top of aiohttp costs about three times the CPU per message. Every
failure is raised as one of worker/waha/errors.py's exceptions (see the table there).

A send is two requests when number checking is on (the default): GET /api/contacts/check-exists
and POST /api/sendText. The check is what makes "not on WhatsApp" detectable at all - WAHA's
sendText answers 201 for such a number and the message just never arrives - and it gives the
chat id WhatsApp uses for the number, which can differ from the digits (Brazil's ninth digit).
Numbers found on WhatsApp are remembered for `number_ttl` seconds. The two steps are also
public (chat_id(), post_text()) so the sender can check a number while the session's pacing gap
still runs.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp

from worker.waha import responses
from worker.waha.errors import InvalidNumber, SessionUnavailable
from worker.waha.responses import WahaResponse

_PHONE = re.compile(r"\+?[0-9]{7,15}")
_SEPARATORS = re.compile(r"[\s().-]")


class WahaTarget(Protocol):
    """Where one tenant's WhatsApp session lives (internal.waha_connection_v1 gives these)."""

    @property
    def base_url(self) -> str: ...

    @property
    def session_name(self) -> str: ...

    @property
    def api_key(self) -> str | None: ...


@dataclass(frozen=True)
class SentText:
    # WAHA's serialised id (true_<chat id>_<key>): what message.ack webhooks carry, and what
    # goes into message_logs.waha_message_id.
    message_id: str
    chat_id: str
    # noweb | webjs | gows: WAHA said the id; empty | unrecognised: the id is built from the key
    # we sent (correct as long as the engine honoured it).
    shape: str


@dataclass(frozen=True)
class SessionState:
    name: str
    status: str  # STOPPED | STARTING | SCAN_QR_CODE | WORKING | FAILED | PASSKEY_...
    account: str | None  # the WhatsApp account the session is linked to, "<digits>@c.us"

    @property
    def working(self) -> bool:
        return self.status == "WORKING"


def message_key(seed: str) -> str:
    """A WhatsApp message key derived from `seed` (e.g. "<tenant id>:<message_logs id>").

    Sending every attempt of one message with the same key means a late ack of an attempt that
    got through despite a timeout still matches the stored waha_message_id. The shape (3EB0 and
    18 hex digits) is that of the keys WhatsApp Web clients generate."""
    return "3EB0" + hashlib.sha256(seed.encode()).hexdigest()[:18].upper()


def chat_id_for(phone: str) -> str:
    """`+49 151 1234-5678` -> `4915112345678@c.us`; InvalidNumber if it is not a phone number."""
    compact = _SEPARATORS.sub("", phone)
    if not _PHONE.fullmatch(compact):
        raise InvalidNumber(f"'{phone}' is not a phone number in international format")
    return f"{compact.lstrip('+')}@c.us"


class WahaClient:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        *,
        check_numbers: bool = True,
        number_ttl: float = 6 * 3600,
        number_cache_size: int = 50_000,
        timeout: aiohttp.ClientTimeout | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self.check_numbers = check_numbers
        self._number_ttl = number_ttl
        self._number_cache_size = number_cache_size
        # (base url, session, digits) -> (chat id, expires at)
        self._numbers: OrderedDict[tuple[str, str, str], tuple[str, float]] = OrderedDict()
        # None: the session's own timeout applies (taken from it here, as aiohttp reads an
        # explicit timeout=None as "no timeout at all"). It must exceed WAHA's 5 s wait for a
        # session that is not WORKING yet, or a slow start looks like a timeout.
        self._timeout = timeout if timeout is not None else http.timeout
        self._clock = clock

    async def send_text(
        self,
        target: WahaTarget,
        phone: str,
        text: str,
        *,
        key: str | None = None,
        link_preview: bool | None = None,
    ) -> SentText:
        """Sends `text` to `phone` (E.164) through the target's session: chat_id(), then
        post_text(). Raises InvalidNumber before any request when `phone` is not a phone number."""
        chat_id = await self.chat_id(target, phone)
        return await self.post_text(target, chat_id, text, key=key, link_preview=link_preview)

    async def chat_id(self, target: WahaTarget, phone: str) -> str:
        """The chat id to send `phone` messages to: checked with WAHA when number checking is on
        (InvalidNumber when it is not on WhatsApp), else made from the digits."""
        if self.check_numbers:
            return await self.check_number(target, phone)
        return chat_id_for(phone)

    async def post_text(
        self,
        target: WahaTarget,
        chat_id: str,
        text: str,
        *,
        key: str | None = None,
        link_preview: bool | None = None,
    ) -> SentText:
        """POST /api/sendText to `chat_id` (from chat_id()). `key` pre-sets WhatsApp's message key
        (see message_key()); without it a random one is used."""
        sent_key = key or "3EB0" + secrets.token_hex(9).upper()
        body: dict[str, Any] = {"session": target.session_name, "chatId": chat_id, "text": text, "id": sent_key}
        if link_preview is not None:
            body["linkPreview"] = link_preview
        response = await self._request(target, "POST", "/api/sendText", json=body)
        message_id, shape = responses.message_id(response.body, chat_id=chat_id, sent_key=sent_key)
        return SentText(message_id=message_id, chat_id=chat_id, shape=shape)

    async def check_number(self, target: WahaTarget, phone: str) -> str:
        """The chat id WhatsApp uses for `phone`; InvalidNumber when it is not on WhatsApp."""
        digits = chat_id_for(phone).partition("@")[0]
        cache_key = (target.base_url, target.session_name, digits)
        now = self._clock()
        cached = self._numbers.get(cache_key)
        if cached is not None and cached[1] > now:
            self._numbers.move_to_end(cache_key)
            return cached[0]
        params = {"phone": digits, "session": target.session_name}
        response = await self._request(target, "GET", "/api/contacts/check-exists", params=params)
        data = _json_object(response)
        if data.get("numberExists") is not True:
            raise InvalidNumber(f"+{digits} is not on WhatsApp (WAHA check-exists)")
        chat_id = data.get("chatId")
        if not isinstance(chat_id, str) or not chat_id:
            chat_id = f"{digits}@c.us"
        self._numbers[cache_key] = (chat_id, now + self._number_ttl)
        self._numbers.move_to_end(cache_key)
        while len(self._numbers) > self._number_cache_size:
            self._numbers.popitem(last=False)
        return chat_id

    async def session_state(self, target: WahaTarget) -> SessionState | None:
        """The session's status as WAHA sees it, or None when WAHA has no such session."""
        path = f"/api/sessions/{quote(target.session_name, safe='')}"
        try:
            response = await self._request(target, "GET", path)
        except SessionUnavailable as exc:
            if exc.status == 404:
                return None
            raise
        data = _json_object(response)
        me = data.get("me")
        account = me.get("id") if isinstance(me, dict) and isinstance(me.get("id"), str) else None
        return SessionState(
            name=str(data.get("name", target.session_name)), status=str(data["status"]), account=account
        )

    async def _request(
        self,
        target: WahaTarget,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
    ) -> WahaResponse:
        headers = {"Accept": "application/json"}
        if target.api_key:
            headers["X-Api-Key"] = target.api_key
        url = target.base_url.rstrip("/") + path
        try:
            # No redirects (nor did httpx follow any): WAHA sends none, and a 307 would resend a sendText.
            async with self._http.request(
                method, url, json=json, params=params, headers=headers, allow_redirects=False, timeout=self._timeout
            ) as r:
                # Read inside the context, so the connection goes back to the pool at once.
                response = WahaResponse(r.status, r.reason or "", r.headers, await r.read())
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise responses.classify_transport(exc, base_url=target.base_url) from exc
        error = responses.classify(response, session=target.session_name)
        if error is not None:
            raise error
        return response


def _json_object(response: WahaResponse) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise responses.unexpected(response)
    return data
