"""Database calls of the message queue: one method per query in worker/sql/messages.sql."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from worker.db.store import Store


@dataclass(frozen=True)
class ClaimedMessage:
    id: int
    tenant_id: str
    reservation_id: str | None
    request_id: str | None
    job_id: str | None
    attempts: int
    max_attempts: int
    # How long its session's pacing gap still runs: sendText must wait that long (the claim
    # hands a message out up to the look-ahead before the gap ends, so the number check can run).
    send_in_ms: float = 0.0
    # An earlier attempt was cut off mid-send and may have reached WAHA: ask WAHA first.
    send_uncertain: bool = False
    # When the row was made (seconds since the epoch): no attempt of it is older.
    created_epoch: float = 0.0


@dataclass(frozen=True)
class Outgoing:
    """A claimed message that can be sent now, rendered for the guest's current phone."""

    id: int
    to_phone: str
    body: str
    language: str | None


@dataclass(frozen=True)
class AcceptedSend:
    """A message WAHA accepted `accepted_ms_ago` milliseconds ago, to be recorded as sent."""

    message_id: int
    waha_message_id: str
    accepted_ms_ago: float


@dataclass(frozen=True)
class WahaConnection:
    base_url: str
    session_name: str
    api_key: str | None


class MessageStore(Store):
    domain = "messages"

    async def claim(
        self, worker: str, limit: int, lease_seconds: float, ahead_seconds: float = 0.0, grace_seconds: float = 1.5
    ) -> list[ClaimedMessage]:
        rows = await self._rows(
            "claim",
            {
                "worker": worker,
                "limit": limit,
                "lease_seconds": lease_seconds,
                "ahead_seconds": ahead_seconds,
                "grace_seconds": grace_seconds,
            },
        )
        return [ClaimedMessage(**row) for row in rows]

    async def take_back_orphans(self, worker: str, keep: list[int]) -> int:
        """Hands back (in doubt) the claims of `worker` other than `keep`."""
        rows = await self._rows("take_back_orphans", {"worker": worker, "keep": keep})
        return int(rows[0]["taken_back"]) if rows else 0

    async def leased(self, ids: list[int], worker: str) -> set[int]:
        """Of `ids`, those still leased to `worker`."""
        rows = await self._rows("leased", {"ids": ids, "worker": worker})
        return {int(row["id"]) for row in rows}

    async def prepare(self, ids: list[int], worker: str) -> list[Outgoing]:
        rows = await self._rows("prepare", {"ids": ids, "worker": worker})
        return [Outgoing(**row) for row in rows]

    async def mark_sent(self, worker: str, sends: list[AcceptedSend]) -> dict[int, float]:
        """Records sends WAHA accepted; returns, for each one still leased to `worker`, in how
        many seconds its session may send again."""
        rows = await self._rows(
            "mark_sent_many",
            {
                "worker": worker,
                "ids": [s.message_id for s in sends],
                "waha_message_ids": [s.waha_message_id for s in sends],
                "accepted_ms_ago": [s.accepted_ms_ago for s in sends],
            },
        )
        return {int(row["id"]): float(row["session_ready_in_ms"]) / 1000.0 for row in rows}

    async def fail(
        self, message_id: int, worker: str, error: str, retryable: bool, base: dt.timedelta, cap: dt.timedelta
    ) -> str | None:
        rows = await self._rows(
            "fail",
            {
                "id": message_id,
                "worker": worker,
                "error": error,
                "retryable": retryable,
                "base_seconds": base.total_seconds(),
                "max_seconds": cap.total_seconds(),
            },
        )
        return rows[0]["status"] if rows else None

    async def release(self, ids: list[int], worker: str, reason: str | None, delay_seconds: float = 0) -> int:
        if not ids:
            return 0
        rows = await self._rows(
            "release", {"ids": ids, "worker": worker, "reason": reason, "delay_seconds": delay_seconds}
        )
        return int(rows[0]["released"]) if rows else 0

    async def pause_tenant(self, tenant_id: str, reason: str) -> None:
        await self._rows("pause_tenant", {"tenant_id": tenant_id, "reason": reason})

    async def waha_connections(self, tenant_ids: list[str]) -> dict[str, WahaConnection]:
        rows = await self._rows("waha_connections", {"tenant_ids": tenant_ids})
        return {row.pop("tenant_id"): WahaConnection(**row) for row in rows}

    async def next_due(self) -> dt.datetime | None:
        rows = await self._rows("next_due")
        value = rows[0]["next_at"] if rows else None
        return value if isinstance(value, dt.datetime) else None
