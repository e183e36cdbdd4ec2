"""Database calls of the restore recovery: one method per query in worker/sql/recovery.sql."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from worker.db.store import Store


@dataclass(frozen=True)
class OpenRecovery:
    id: int
    since: dt.datetime
    # Whether this worker runs it (else it only holds its sends).
    is_leader: bool
    syncs_done: bool


@dataclass(frozen=True)
class Candidate:
    """A message due by now and not settled: it may have gone out in the gap."""

    id: int
    tenant_id: str
    to_phone: str
    body: str | None


class RecoveryStore(Store):
    domain = "recovery"

    async def tick(self, worker: str, last_seen: dt.datetime | None) -> tuple[dt.datetime, int | None]:
        """The database's clock now, and the recovery it opened when it found a restore."""
        row = await self._one("tick", {"worker": worker, "last_seen": last_seen})
        assert row is not None
        return row["ticked_at"], row["opened_recovery"]

    async def lead(self, worker: str, lease_seconds: float) -> OpenRecovery | None:
        row = await self._one("lead", {"worker": worker, "lease_seconds": lease_seconds})
        return OpenRecovery(**row) if row else None

    async def syncs(self, recovery_id: int) -> tuple[int, int]:
        row = await self._one("syncs", {"id": recovery_id})
        assert row is not None
        return int(row["pending"]), int(row["failed"])

    async def candidates(self, after: int, limit: int) -> list[Candidate]:
        return [Candidate(**row) for row in await self._rows("candidates", {"after": after, "limit": limit})]

    async def recorded(self, tenant_id: str, waha_ids: list[str]) -> set[str]:
        rows = await self._rows("recorded", {"tenant_id": tenant_id, "waha_ids": waha_ids})
        return {str(row["waha_message_id"]) for row in rows}

    async def settle(self, recovery_id: int, found: list[tuple[int, str, float]]) -> int:
        row = await self._one(
            "settle",
            {
                "id": recovery_id,
                "ids": [f[0] for f in found],
                "waha_ids": [f[1] for f in found],
                "epochs": [f[2] for f in found],
            },
        )
        return int(row["settled"]) if row else 0

    async def mark_unverifiable(self, ids: list[int]) -> int:
        row = await self._one("unverifiable", {"ids": ids})
        return int(row["marked"]) if row else 0

    async def finish(
        self, recovery_id: int, worker: str, *, checked: int, already_sent: int, unverifiable: int
    ) -> bool:
        row = await self._one(
            "finish",
            {
                "id": recovery_id,
                "worker": worker,
                "checked": checked,
                "already_sent": already_sent,
                "unverifiable": unverifiable,
            },
        )
        return bool(row and row["finished"])
