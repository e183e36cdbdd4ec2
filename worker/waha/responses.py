"""Reading WAHA's answers: the sent message's id from each engine's shape, and errors sorted
into the exceptions of worker/waha/errors.py. Pure functions, no I/O.

Message ids. WAHA's webhooks (message.ack) name a message by its serialised id,
`<fromMe>_<chat id>_<key>`, e.g. `true_4915112345678@c.us_3EB0A1B2C3D4E5F6A7B8C9`, whatever
the engine. sendText's answer differs per engine:
- NOWEB returns Baileys' message: `{"key": {"remoteJid": "…@s.whatsapp.net", "fromMe": true,
  "id": "3EB0…"}, …}` - only the key; the serialised id is built from it as WAHA does.
- WEBJS returns whatsapp-web.js' message: `{"id": {"_serialized": "true_…", …}, …}`.
- GOWS (and the spec's WAMessage) return `{"id": "true_…", …}`.
- Some setups answer an empty 201. The client always sends a pre-generated key (the spec's
  `id` field of sendText), so the serialised id is still known: `true_<chat id>_<that key>`.
So `message_id()` always returns the id the acks will carry (if WAHA honoured our key or told
us its own).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import yarl

from worker.url_guard import UrlRefused
from worker.waha.errors import (
    InvalidNumber,
    SessionUnavailable,
    WahaAuthError,
    WahaConfigError,
    WahaError,
    WahaRateLimited,
    WahaRequestRejected,
    WahaTransientError,
)

_NOT_WORKING = "Session status is not as expected"
_MAX_DETAIL = 200


@dataclass(frozen=True, slots=True)
class WahaResponse:
    """One answer of WAHA, read in full: what these functions need of it, whatever HTTP client
    fetched it."""

    status: int
    reason: str
    # Case-insensitive (aiohttp's CIMultiDictProxy): Retry-After may come in any case.
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not JSON."""
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def serialized_id(chat_id: str, key: str, *, from_me: bool = True) -> str:
    """WAHA's serialised message id."""
    return f"{'true' if from_me else 'false'}_{chat_id}_{key}"


def _chat_id(jid: str) -> str:
    # Baileys names a person `<digits>@s.whatsapp.net`; WAHA shows them as `<digits>@c.us`.
    user, _, server = jid.partition("@")
    return f"{user}@c.us" if server == "s.whatsapp.net" else jid


def message_id(body: bytes, *, chat_id: str, sent_key: str) -> tuple[str, str]:
    """(serialised id, shape) from sendText's 2xx body; shape is noweb, webjs, gows, empty or
    unrecognised (the last two fall back to the key we sent)."""
    fallback = serialized_id(chat_id, sent_key)
    if not body.strip():
        return fallback, "empty"
    try:
        data = json.loads(body)
    except ValueError:
        return fallback, "unrecognised"
    if not isinstance(data, dict) or not data:
        return fallback, "empty" if not data else "unrecognised"
    key = data.get("key")
    if isinstance(key, dict) and isinstance(key.get("id"), str):
        remote = key.get("remoteJid")
        chat = _chat_id(remote) if isinstance(remote, str) else chat_id
        return serialized_id(chat, key["id"], from_me=key.get("fromMe", True) is not False), "noweb"
    ident = data.get("id")
    if isinstance(ident, dict):
        if isinstance(ident.get("_serialized"), str):
            return ident["_serialized"], "webjs"
        if isinstance(ident.get("id"), str):
            remote = ident.get("remote")
            chat = remote if isinstance(remote, str) else chat_id
            return serialized_id(chat, ident["id"], from_me=ident.get("fromMe", True) is not False), "webjs"
    if isinstance(ident, str) and ident:
        if ident.startswith(("true_", "false_")):
            return ident, "gows"
        return serialized_id(chat_id, ident), "gows"
    return fallback, "unrecognised"


def retry_after(response: WahaResponse, now: dt.datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), if any."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def _json(response: WahaResponse) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def detail(response: WahaResponse) -> str:
    """WAHA's own words for an error answer, shortened: NestJS puts them in `message` (a string
    or a list), `error`, or `exception.message` for engine failures."""
    data = _json(response)
    parts: list[str] = []
    if isinstance(data, dict):
        message = data.get("message")
        if isinstance(message, list):
            parts.extend(str(m) for m in message)
        elif isinstance(message, str):
            parts.append(message)
        exception = data.get("exception")
        if isinstance(exception, dict) and isinstance(exception.get("message"), str):
            parts.append(exception["message"])
        if not parts and isinstance(data.get("error"), str):
            parts.append(data["error"])
    elif response.text.strip() and "<html" not in response.text[:200].lower():
        parts.append(response.text.strip())
    text = "; ".join(p.replace("\n", " ") for p in parts) or response.reason or "no details"
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def classify(response: WahaResponse, *, session: str) -> WahaError | None:
    """The exception an answer means, or None when it is a success."""
    status = response.status
    if status < 300:
        return None
    what = f"WAHA {status}"
    data = _json(response)
    if status in (401, 403):
        meaning = "the API key was refused" if status == 401 else "the API key may not use this session"
        return WahaAuthError(
            f"{what}: {meaning} ({detail(response)}); sends paused until the key is fixed", status=status
        )
    if status == 404:
        message = data.get("message") if isinstance(data, dict) else None
        if isinstance(message, str) and ("session" in message.lower()):
            return SessionUnavailable(
                f"{what}: session '{session}' is not running on WAHA; sends paused until it is WORKING",
                status=status,
                session_status="STOPPED",
            )
        return WahaConfigError(f"{what}: {detail(response)} - is the WAHA base URL right?; sends paused", status=status)
    if status == 422:
        if isinstance(data, dict) and (
            _NOT_WORKING in str(data.get("error", "")) or ("status" in data and "expected" in data)
        ):
            current = data.get("status") if isinstance(data.get("status"), str) else None
            return SessionUnavailable(
                f"{what}: session '{session}' is {current or 'not ready'}, not WORKING; "
                "sends paused until it reconnects",
                status=status,
                session_status=current,
            )
        return WahaConfigError(f"{what}: {detail(response)}; sends paused", status=status)
    if status == 429:
        wait = retry_after(response)
        later = f" (retry after {wait:g} s)" if wait is not None else ""
        return WahaRateLimited(f"{what}: too many requests{later}", status=status, retry_after=wait)
    if status >= 500:
        reason = detail(response)
        if "invalid wid" in reason:
            return InvalidNumber(f"{what}: WhatsApp cannot address this number ({reason})", status=status)
        if "463" in reason:
            reason += " - WhatsApp restricts this number from writing to new contacts for a while"
        return WahaTransientError(f"{what}: {reason}", status=status, retry_after=retry_after(response))
    return WahaRequestRejected(f"{what}: WAHA refused the request: {detail(response)}", status=status)


def unexpected(response: WahaResponse) -> WahaError:
    """A success whose body is not the JSON WAHA sends: something else answers at that URL."""
    return WahaConfigError(
        f"WAHA {response.status}: the answer is not WAHA's JSON ({detail(response)}); is the base URL right?",
        status=response.status,
    )


def classify_transport(exc: aiohttp.ClientError | TimeoutError, *, base_url: str) -> WahaError:
    """The exception a failed exchange means. Connecting failed: nothing was sent and WAHA is
    down or unreachable, so the session counts as unavailable. The request went out but no
    answer came: WAHA may have sent the message, so a retry could duplicate it.

    Messages name the exception's type, not its text: aiohttp's texts carry the request URL,
    whose query has the guest's number."""
    where = _host(base_url)
    # ConnectionTimeoutError: the connect timeout (sock_connect) ran out. It also covers a wait
    # for a free pooled connection when a `connect` timeout is set; the worker's session sets
    # none, so such a wait ends in the total timeout below.
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return SessionUnavailable(
            f"WAHA at {where} unreachable (ConnectionTimeoutError: connect timed out); "
            "sends paused until the session reports WORKING"
        )
    if isinstance(exc, aiohttp.ClientConnectorError):  # refused, DNS, TLS, proxy: no connection
        reason = exc.strerror or str(exc) or "no details"
        return SessionUnavailable(
            f"WAHA at {where} unreachable ({type(exc).__name__}: {reason}); "
            "sends paused until the session reports WORKING"
        )
    if isinstance(exc, UrlRefused):
        return WahaConfigError(f"the WAHA base URL is not allowed ({exc.reason}); sends paused")
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return WahaConfigError(
            f"the WAHA base URL is not a usable URL ({type(exc).__name__}); is the base URL right?; sends paused"
        )
    if isinstance(exc, aiohttp.ClientConnectionResetError | aiohttp.UploadAbortedError):
        # The request was not fully written, and WAHA acts on nothing less.
        return WahaTransientError(f"sending the request to WAHA at {where} failed ({type(exc).__name__}); will retry")
    if isinstance(exc, TimeoutError):
        # The total timeout (aiohttp raises a bare TimeoutError) or sock_read (SocketTimeoutError).
        return WahaTransientError(
            f"WAHA at {where} did not answer in time; it may have sent the message; will retry", maybe_delivered=True
        )
    # ServerDisconnectedError, ClientPayloadError, ClientOSError (aiohttp reports a failed
    # body write as one too; which side failed is not told, so assume the worst).
    return WahaTransientError(
        f"WAHA at {where} dropped the connection ({type(exc).__name__}); it may have sent the message; will retry",
        maybe_delivered=True,
    )


def _host(base_url: str) -> str:
    # Only host and port: a base URL may carry credentials, which must not reach last_error.
    try:
        url = yarl.URL(base_url)
    except (TypeError, ValueError):
        return "the configured URL"
    if not url.host:
        return "the configured URL"
    return f"{url.host}:{url.explicit_port}" if url.explicit_port else url.host
