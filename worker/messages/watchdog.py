"""Lifts pauses that no webhook will lift.

A tenant's sends pause when WAHA says the session is down, refuses the key, or cannot be
reached. A session that comes back sends a session.status webhook, but WAHA that was merely
unreachable comes back silently, with its session WORKING all along. So paused sessions are
asked for their status now and then; WORKING resumes their messages.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from loguru import logger

from worker.db.pool import Pool
from worker.db.queries import load
from worker.waha import WahaClient, WahaError


@dataclass(frozen=True)
class _Target:
    base_url: str
    session_name: str
    api_key: str | None


class SessionWatchdog:
    def __init__(self, pool: Pool, waha: WahaClient, *, min_age_seconds: float = 10.0) -> None:
        self.pool = pool
        self.waha = waha
        self.min_age_seconds = min_age_seconds
        self.sql = load("messages")

    async def check_paused(self) -> int:
        """Asks WAHA about every paused session; returns how many were resumed."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(self.sql["paused_sessions"], {"min_age_seconds": self.min_age_seconds})
            paused = await cur.fetchall()
        results = await asyncio.gather(*(self._check(row) for row in paused))
        return sum(results)

    async def _check(self, row: dict[str, object]) -> int:
        tenant_id = str(row["tenant_id"])
        api_key = row["api_key"]
        target = _Target(str(row["base_url"]), str(row["session_name"]), str(api_key) if api_key else None)
        with logger.contextualize(tenantId=tenant_id):
            try:
                state = await self.waha.session_state(target)
            except WahaError as exc:
                logger.info("WhatsApp session still unavailable: {error}", error=exc)
                return 0
            status = state.status if state is not None else "STOPPED"
            if status not in ("STOPPED", "STARTING", "SCAN_QR_CODE", "WORKING", "FAILED"):
                status = "SCAN_QR_CODE"  # WAHA's passkey states: the phone must act, like a QR scan
            async with self.pool.connection() as conn:
                await conn.execute(
                    self.sql["record_session_status"],
                    {"tenant_id": tenant_id, "session": target.session_name, "status": status},
                )
            if status == "WORKING":
                logger.info("WhatsApp session is WORKING again; sends resume")
                return 1
            return 0
