"""The worker's one connection pool, created at start-up and passed to every store."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool


async def _configure(conn: AsyncConnection[Any]) -> None:
    # Queue transactions are short; a stuck statement must not hold row locks for long.
    await conn.execute("set statement_timeout = '30s'")
    await conn.execute("set idle_in_transaction_session_timeout = '60s'")
    await conn.commit()


async def open_pool(url: str, *, min_size: int = 1, max_size: int = 10, name: str = "worker") -> AsyncConnectionPool:
    pool = AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        name=name,
        open=False,
        configure=_configure,
        kwargs={"autocommit": True, "row_factory": dict_row, "application_name": name},
    )
    await pool.open(wait=True, timeout=30)
    return pool
