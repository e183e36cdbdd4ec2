"""Database calls of the sync job runner: one method per query in worker/sql/sync.sql."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from psycopg.types.json import Jsonb

from worker.db.store import Store
from worker.pms.base import CanonicalReservation, PmsConnection

PmsOutcome = Literal["ok", "unreachable", "rejected"]


@dataclass(frozen=True)
class SyncJob:
    id: str
    tenant_id: str
    pms_configuration_id: str
    kind: Literal["full", "incremental", "reservation"]
    trigger: str
    pms_reservation_id: str | None
    request_id: str | None
    attempts: int
    started_at: dt.datetime


@dataclass(frozen=True)
class SyncTarget:
    """A configuration as a run sees it: how to call the PMS, and where the last run stopped."""

    connection: PmsConnection
    is_active: bool
    sync_cursor: dt.datetime | None
    sync_paused_reason: str | None


@dataclass(frozen=True)
class UpsertResult:
    pms_reservation_id: str | None
    reservation_id: str | None
    outcome: str  # created | updated | unchanged | stale | failed
    error: str | None


class SyncStore(Store):
    domain = "sync"

    async def claim_job(self, worker: str, lease: dt.timedelta) -> SyncJob | None:
        row = await self._one("claim_job", {"worker": worker, "lease": lease})
        if row is None:
            return None
        return SyncJob(
            id=str(row["id"]),
            tenant_id=str(row["tenant_id"]),
            pms_configuration_id=str(row["pms_configuration_id"]),
            kind=row["kind"],
            trigger=row["trigger"],
            pms_reservation_id=row["pms_reservation_id"],
            request_id=row["request_id"],
            attempts=int(row["attempts"]),
            started_at=row["started_at"],
        )

    async def heartbeat(self, job_id: str, worker: str, lease: dt.timedelta) -> bool:
        row = await self._one("heartbeat", {"job_id": job_id, "worker": worker, "lease": lease})
        return bool(row and row["held"])

    async def target(self, configuration_id: str) -> SyncTarget | None:
        row = await self._one("connection", {"configuration_id": configuration_id})
        if row is None:
            return None
        connection = PmsConnection(
            pms_configuration_id=configuration_id,
            tenant_id=str(row["tenant_id"]),
            provider=row["provider"],
            api_base_url=row["api_base_url"] or "",
            external_account_id=row["external_account_id"],
            credentials=row["credentials"] or {},
            property_timezones=row["property_timezones"] or {},
        )
        return SyncTarget(
            connection=connection,
            is_active=bool(row["is_active"]),
            sync_cursor=row["sync_cursor"],
            sync_paused_reason=row["sync_paused_reason"],
        )

    async def upsert_reservations(
        self, tenant_id: str, reservations: list[CanonicalReservation], request_id: str | None, job_id: str
    ) -> list[UpsertResult]:
        if not reservations:
            return []
        rows = await self._rows(
            "upsert_reservations",
            {"tenant_id": tenant_id, "reservations": Jsonb(reservations), "request_id": request_id, "job_id": job_id},
        )
        return [
            UpsertResult(
                pms_reservation_id=row["pms_reservation_id"],
                reservation_id=None if row["reservation_id"] is None else str(row["reservation_id"]),
                outcome=row["outcome"],
                error=row["error"],
            )
            for row in rows
        ]

    async def finish(
        self,
        job_id: str,
        worker: str,
        *,
        succeeded: bool,
        counts: Mapping[str, Any],
        error: str | None,
        pms_outcome: PmsOutcome | None,
        cursor: dt.datetime | None,
    ) -> bool:
        row = await self._one(
            "finish",
            {
                "job_id": job_id,
                "worker": worker,
                "succeeded": succeeded,
                "counts": Jsonb(dict(counts)),
                "error": error,
                "pms_outcome": pms_outcome,
                "cursor": cursor,
            },
        )
        return bool(row and row["finished"])

    async def enqueue(
        self,
        configuration_id: str,
        kind: Literal["full", "incremental", "reservation"],
        trigger: Literal["schedule", "manual", "recovery", "webhook", "initial"],
        pms_reservation_id: str | None = None,
        request_id: str | None = None,
    ) -> str:
        row = await self._one(
            "enqueue",
            {
                "configuration_id": configuration_id,
                "kind": kind,
                "trigger": trigger,
                "pms_reservation_id": pms_reservation_id,
                "request_id": request_id,
            },
        )
        assert row is not None
        return str(row["job_id"])

    async def absorb_reservation_jobs(self, job_id: str, worker: str, limit: int) -> list[tuple[str, str, str | None]]:
        """Other due reservation jobs of the running job's configuration, now merged into it:
        (job id, PMS reservation id, request id)."""
        rows = await self._rows("absorb_reservation_jobs", {"job_id": job_id, "worker": worker, "limit": limit})
        return [(str(r["job_id"]), r["pms_reservation_id"], r["request_id"]) for r in rows]

    async def release(self, job_id: str, worker: str) -> bool:
        row = await self._one("release", {"job_id": job_id, "worker": worker})
        return bool(row and row["released"])

    async def schedule(self) -> int:
        row = await self._one("schedule", {})
        return int(row["enqueued"]) if row else 0
