"""The dashboard's generated `Database` type (dashboard/src/lib/database.types.ts) is what the
migrations give: a migration that changes a table, view or RPC the dashboard can reach must come
with `make types`, so the type check sees the change."""

from __future__ import annotations

import difflib

import psycopg
import pytest

from devstack import typegen


def test_the_committed_database_types_match_the_migrated_database(database_url: str) -> None:
    generated = typegen.generate(database_url)
    committed = typegen.OUTPUT.read_text() if typegen.OUTPUT.exists() else ""
    if generated != committed:
        diff = difflib.unified_diff(
            committed.splitlines(), generated.splitlines(), "committed", "from the migrations", lineterm="", n=1
        )
        shown = "\n".join(list(diff)[:60])
        pytest.fail(f"{typegen.OUTPUT.name} is out of date with the migrations: run make types\n{shown}")


def test_the_generator_writes_the_supabase_shape_and_the_same_bytes_twice(database_url: str) -> None:
    first = typegen.generate(database_url)
    assert typegen.generate(database_url) == first
    with psycopg.connect(database_url) as conn:
        catalog = typegen.read_catalog(conn)
    assert {r.schema for r in catalog.relations.values()} == {"public", "metrics"}
    # A table with its three shapes and its relationships, a view, an RPC with defaults, an enum.
    for expected in (
        "export type Database = {",
        "      message_logs: {\n        Row: {",
        "          id?: never\n",  # identity GENERATED ALWAYS: never written
        '            foreignKeyName: "message_logs_tenant_id_fkey"',
        "    Views: {\n      alerts: {",
        "      tenant_metrics_series: {\n        Args: {\n          p_since: string\n",
        "          p_tenant_id?: string\n",
        'status: Database["public"]["Enums"]["message_status"]',
        '      member_role: "owner" | "admin" | "staff"',
        "export type Tables<",
        "export const Constants = {",
    ):
        assert expected in first, expected
