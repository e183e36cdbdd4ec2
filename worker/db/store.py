"""The base of every async store: the pool, the domain's named queries, and running them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from psycopg_pool import AsyncConnectionPool

from worker.db.queries import load


class Store:
    """Subclasses name their `worker/sql/<domain>.sql` and add one method per query."""

    domain: ClassVar[str]

    def __init__(self, pool: AsyncConnectionPool[Any]) -> None:
        self.pool = pool
        self.sql = load(self.domain)

    async def _rows(self, query: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(self.sql[query], params or {})
            return [dict(row) for row in await cur.fetchall()]

    async def _one(self, query: str, params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        rows = await self._rows(query, params)
        return rows[0] if rows else None
