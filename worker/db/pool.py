"""The worker's one connection pool, created at start-up and passed to every store."""

from __future__ import annotations

from typing import TypeAlias

from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

Pool: TypeAlias = AsyncConnectionPool[AsyncConnection[DictRow]]


async def _configure(conn: AsyncConnection[DictRow]) -> None:
    # Queue transactions are short; a stuck statement must not hold row locks for long.
    await conn.execute("set statement_timeout = '30s'")
    await conn.execute("set idle_in_transaction_session_timeout = '60s'")


async def open_pool(
    url: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    name: str = "worker",
    prepare_threshold: int | None = 5,
) -> Pool:
    """prepare_threshold=None for Supabase's transaction pooler, which cannot keep prepared
    statements between transactions."""
    pool: Pool = AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        name=name,
        open=False,
        connection_class=AsyncConnection[DictRow],
        configure=_configure,
        kwargs={
            "autocommit": True,
            "row_factory": dict_row,
            "application_name": name,
            "prepare_threshold": prepare_threshold,
        },
    )
    await pool.open(wait=True, timeout=30)
    return pool
