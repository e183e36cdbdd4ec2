"""A WAHA `message` / `message.any` event, read as a message of a guest conversation.

WAHA's payload (WAMessage in its OpenAPI document): `id` (`<fromMe>_<chat>_<key>`), `timestamp`
(seconds), `from` (the chat, or us when fromMe), `to`, `fromMe`, `source` (api | app, fromMe
only), `body` (the text, or a media message's caption), `hasMedia`, `media` {url, mimetype,
filename, error}, `location` {latitude, longitude, name, address} and `_data`, the engine's raw
message (WEBJS: type, size, notifyName; NOWEB: pushName and message.<kind>Message.{fileLength,
ptt}; GOWS: Info.PushName). Only one-to-one chats (`@c.us`, `@s.whatsapp.net`) are guest
conversations: groups (`@g.us`), status broadcasts (`status@broadcast`), channels
(`@newsletter`) and anything else are told apart and left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from worker.errors import PayloadError

_WEBJS_KINDS = {
    "image": "image",
    "video": "video",
    "ptt": "voice",
    "audio": "audio",
    "document": "document",
    "sticker": "sticker",
    "location": "location",
}


@dataclass(frozen=True)
class ChatMessage:
    waha_message_id: str
    chat_id: str
    from_me: bool
    sent_at: dt.datetime | None
    body: str | None
    contact_name: str | None
    media: dict[str, Any] | None


@dataclass(frozen=True)
class NotAGuestChat:
    reason: str


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _chat_kind(chat: str) -> str | None:
    """Why a chat is no guest conversation, or None when it is one."""
    if chat.endswith("@g.us"):
        return "group chat"
    if chat.endswith("@broadcast"):
        return "status broadcast" if chat.startswith("status@") else "broadcast list"
    if chat.endswith("@newsletter"):
        return "channel (newsletter)"
    if chat.endswith("@c.us") or chat.endswith("@s.whatsapp.net"):
        return None
    return f"not a one-to-one chat ({chat.rsplit('@', 1)[-1]})"


def _raw(body: dict[str, Any]) -> dict[str, Any]:
    raw = body.get("_data")
    return raw if isinstance(raw, dict) else {}


def _contact_name(raw: dict[str, Any]) -> str | None:
    info = raw.get("Info")
    return (
        _text(raw.get("notifyName"))
        or _text(raw.get("pushName"))
        or (_text(info.get("PushName")) if isinstance(info, dict) else None)
    )


def _noweb_media(raw: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """NOWEB keeps the media under message.<kind>Message."""
    message = raw.get("message")
    if not isinstance(message, dict):
        return None, {}
    for key, kind in (
        ("imageMessage", "image"),
        ("videoMessage", "video"),
        ("audioMessage", "audio"),
        ("documentMessage", "document"),
        ("documentWithCaptionMessage", "document"),
        ("stickerMessage", "sticker"),
    ):
        value = message.get(key)
        if isinstance(value, dict):
            if kind == "audio" and value.get("ptt") is True:
                kind = "voice"
            return kind, value
    return None, {}


def _size(raw: dict[str, Any], noweb: dict[str, Any]) -> int | None:
    for value in (raw.get("size"), noweb.get("fileLength")):
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return None


def _media_kind(raw: dict[str, Any], noweb_kind: str | None, mimetype: str | None, filename: str | None) -> str:
    webjs = _WEBJS_KINDS.get(str(raw.get("type")))
    if webjs is not None:
        return webjs
    if noweb_kind is not None:
        return noweb_kind
    mime = (mimetype or "").lower()
    if mime.startswith("image/"):
        return "image"
    if mime.startswith("video/"):
        return "video"
    if mime.startswith("audio/"):
        # WhatsApp records voice notes as Ogg Opus; a sent audio file keeps its name.
        return "voice" if "opus" in mime and filename is None else "audio"
    return "document"


def _coordinate(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number


def _media(body: dict[str, Any]) -> dict[str, Any] | None:
    raw = _raw(body)
    location = body.get("location")
    if isinstance(location, dict):
        return {
            "kind": "location",
            "latitude": _coordinate(location.get("latitude")),
            "longitude": _coordinate(location.get("longitude")),
            "location_name": _text(location.get("name")) or _text(location.get("address")),
        }
    if body.get("hasMedia") is not True:
        return None
    media = body.get("media") if isinstance(body.get("media"), dict) else {}
    assert isinstance(media, dict)
    noweb_kind, noweb = _noweb_media(raw)
    mimetype = _text(media.get("mimetype")) or _text(noweb.get("mimetype"))
    filename = _text(media.get("filename")) or _text(noweb.get("fileName"))
    url = _text(media.get("url")) or _text(body.get("mediaUrl"))
    return {
        "kind": _media_kind(raw, noweb_kind, mimetype, filename),
        "mimetype": mimetype,
        "filename": filename,
        "size": _size(raw, noweb),
        # WAHA could not download it (media.error): described, nothing to fetch.
        "url": None if media.get("error") else url,
    }


def parse(body: dict[str, Any]) -> ChatMessage | NotAGuestChat:
    message_id = body.get("id")
    if not isinstance(message_id, str) or not message_id:
        raise PayloadError("a WAHA message needs payload.id (string)")
    from_me = body.get("fromMe") is True
    chat = body.get("to") if from_me else body.get("from")
    if not isinstance(chat, str) or "@" not in chat:
        raise PayloadError(f"a WAHA message needs payload.{'to' if from_me else 'from'} (a chat id)")
    reason = _chat_kind(chat)
    if reason is not None:
        return NotAGuestChat(reason)
    stamp = body.get("timestamp")
    sent_at = None
    if isinstance(stamp, int | float) and not isinstance(stamp, bool) and stamp > 0:
        # Seconds, as the spec says; some engines' raw events carry milliseconds.
        sent_at = dt.datetime.fromtimestamp(stamp / 1000 if stamp > 1e11 else stamp, dt.UTC)
    return ChatMessage(
        waha_message_id=message_id,
        chat_id=chat,
        from_me=from_me,
        sent_at=sent_at,
        body=_text(body.get("body")),
        contact_name=None if from_me else _contact_name(_raw(body)),
        media=_media(body),
    )
