"""Database calls of the inbound event queue: one method per query in worker/sql/inbound.sql."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from worker.db.store import Store
from worker.inbound.chat_messages import ChatMessage


@dataclass(frozen=True)
class ClaimedEvent:
    id: int
    tenant_id: str
    source: str
    provider: str
    event_id: str
    event_type: str
    payload: dict[str, Any]
    request_id: str | None
    attempts: int
    max_attempts: int


@dataclass(frozen=True)
class RecordedMessage:
    outcome: str
    conversation_id: str | None
    message_id: int | None
    consent_change: str | None


class InboundStore(Store):
    domain = "inbound"

    async def claim(self, worker: str, limit: int, lease_seconds: float) -> list[ClaimedEvent]:
        rows = await self._rows("claim", {"worker": worker, "limit": limit, "lease_seconds": lease_seconds})
        return [ClaimedEvent(**row) for row in rows]

    async def complete(self, ids: list[int], worker: str, status: str = "succeeded") -> list[int]:
        if not ids:
            return []
        rows = await self._rows("complete", {"ids": ids, "worker": worker, "status": status})
        return [int(r["id"]) for r in rows]

    async def fail(
        self, event_id: int, worker: str, error: str, retryable: bool, base: dt.timedelta, cap: dt.timedelta
    ) -> str | None:
        row = await self._one(
            "fail",
            {
                "id": event_id,
                "worker": worker,
                "error": error,
                "retryable": retryable,
                "base_seconds": base.total_seconds(),
                "max_seconds": cap.total_seconds(),
            },
        )
        return None if row is None else row["status"]

    async def release(self, ids: list[int], worker: str) -> int:
        if not ids:
            return 0
        row = await self._one("release", {"ids": ids, "worker": worker})
        return int(row["released"]) if row else 0

    async def upsert_reservation(
        self, tenant_id: str, reservation: dict[str, Any], request_id: str | None, job_id: str | None = None
    ) -> tuple[str, str]:
        row = await self._one(
            "upsert_reservation",
            {"tenant_id": tenant_id, "reservation": Jsonb(reservation), "request_id": request_id, "job_id": job_id},
        )
        assert row is not None  # the function always returns one row or raises
        return row["reservation_id"], row["outcome"]

    async def pms_configuration_for(self, tenant_id: str, provider: str) -> str | None:
        row = await self._one("pms_configuration_for", {"tenant_id": tenant_id, "provider": provider})
        return None if row is None else row["id"]

    async def enqueue_reservation_sync(
        self, pms_configuration_id: str, pms_reservation_id: str, request_id: str | None
    ) -> str:
        row = await self._one(
            "enqueue_reservation_sync",
            {
                "pms_configuration_id": pms_configuration_id,
                "pms_reservation_id": pms_reservation_id,
                "request_id": request_id,
            },
        )
        assert row is not None
        return str(row["job_id"])

    async def record_message_ack(self, tenant_id: str, waha_message_id: str, ack: int) -> str | None:
        row = await self._one(
            "record_message_ack", {"tenant_id": tenant_id, "waha_message_id": waha_message_id, "ack": ack}
        )
        return None if row is None else row["status"]

    async def set_session_status(self, tenant_id: str, session: str, status: str, reported_at: dt.datetime) -> bool:
        row = await self._one(
            "set_session_status",
            {"tenant_id": tenant_id, "session": session, "status": status, "reported_at": reported_at},
        )
        return bool(row and row["applied"])

    async def record_conversation_message(
        self, tenant_id: str, session: str, message: ChatMessage, *, language: str | None, consent: str | None
    ) -> RecordedMessage:
        row = await self._one(
            "record_conversation_message",
            {
                "tenant_id": tenant_id,
                "session": session,
                "chat_id": message.chat_id,
                "waha_message_id": message.waha_message_id,
                "from_me": message.from_me,
                "sent_at": message.sent_at,
                "body": message.body,
                "contact_name": message.contact_name,
                "media": None if message.media is None else Jsonb(message.media),
                "language": language,
                "consent": consent,
            },
        )
        assert row is not None  # the function always returns one row or raises
        return RecordedMessage(
            outcome=row["outcome"],
            conversation_id=row["conversation_id"],
            message_id=row["message_id"],
            consent_change=row["consent_change"],
        )
