"""The Phoenix socket serializers Supabase Realtime speaks, chosen by the handshake's `vsn`.

- 1.0.0 (Phoenix's V1 JSONSerializer; the Python `realtime` client): every frame is a JSON object
  {topic, event, payload, ref} (join_ref only from the client, on phx_join).
- 2.0.0 (Realtime's V2Serializer, a superset of Phoenix's V2; supabase-js 2.x): text frames are
  JSON arrays [join_ref, ref, topic, event, payload]; a broadcast from the database goes out as a
  binary "user broadcast" frame: <<4, topic size, event size, metadata size, encoding (1: JSON),
  topic, event, metadata JSON, payload>> (RealtimeWeb.Socket.V2Serializer.fastlane!/1).

Binary frames from clients (pushes, user broadcast pushes with binary payloads) are not decoded
here: the simulator has no feature that takes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

VERSIONS = ("1.0.0", "2.0.0")
_USER_BROADCAST = 4
JSON = dict[str, Any]


class MalformedMessage(Exception):
    """A frame Phoenix's decoder would raise on (the socket goes down with it)."""


@dataclass(frozen=True)
class Incoming:
    topic: str
    event: str
    payload: JSON
    ref: str | None
    join_ref: str | None


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def decode(vsn: str, raw: str | bytes) -> Incoming:
    if isinstance(raw, bytes):
        raise MalformedMessage("binary frames are not served by the simulator")
    try:
        message = json.loads(raw)
    except ValueError as exc:
        raise MalformedMessage(str(exc)) from None
    if vsn == "2.0.0":
        if not isinstance(message, list) or len(message) < 5:
            raise MalformedMessage("expected V2 array")
        join_ref, ref, topic, event, payload = message[:5]
    else:
        if not isinstance(message, dict):
            raise MalformedMessage("expected a JSON object")
        try:
            topic, event, payload, ref = message["topic"], message["event"], message["payload"], message["ref"]
        except KeyError as exc:
            raise MalformedMessage(f"missing {exc}") from None
        join_ref = message.get("join_ref")
    if not isinstance(topic, str) or not isinstance(event, str) or not isinstance(payload, dict):
        raise MalformedMessage("topic and event must be strings, payload an object")
    return Incoming(topic, event, payload, _text(ref), _text(join_ref))


def encode(vsn: str, topic: str, event: str, payload: JSON, ref: str | None, join_ref: str | None) -> str:
    """A push, reply or broadcast as text."""
    if vsn == "2.0.0":
        return json.dumps([join_ref, ref, topic, event, payload])
    # V1 writes exactly topic, event, payload and ref.
    return json.dumps({"topic": topic, "event": event, "payload": payload, "ref": ref})


def encode_user_broadcast(vsn: str, topic: str, event: str, payload_json: str, meta: JSON) -> str | bytes:
    """A broadcast whose payload is JSON text, as Realtime fastlanes a message from the database."""
    if vsn == "2.0.0":
        topic_b, event_b, meta_b = topic.encode(), event.encode(), json.dumps(meta).encode()
        for part in (topic_b, event_b, meta_b):
            if len(part) > 255:
                raise ValueError("topic, event and metadata must each be at most 255 bytes")
        header = bytes([_USER_BROADCAST, len(topic_b), len(event_b), len(meta_b), 1])
        return header + topic_b + event_b + meta_b + payload_json.encode()
    # UserBroadcast.convert_to_json_broadcast: the V1 client gets an ordinary broadcast.
    body = {"event": event, "payload": json.loads(payload_json), "type": "broadcast", "meta": meta}
    return encode(vsn, topic, "broadcast", body, None, None)
