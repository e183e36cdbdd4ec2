"""Slow queries from pg_stat_statements, as on Supabase where it is preloaded.

The shared test cluster does not preload it (the other suites run without it, which the metrics
handle), so this test starts its own cluster that does, migrates it, and runs a slow statement."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from devstack import cluster, database


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="module")
def statements_db() -> Iterator[str]:
    root = Path(tempfile.mkdtemp(prefix="hotelwa-pgss-"))
    os.chmod(root, 0o755)  # noqa: S103 (the postgres user must reach the cluster inside)
    pg = cluster.init_cluster(root)
    options = " ".join(
        [
            f"-p {pg.port}",
            f"-k {pg.sockdir}",
            "-c listen_addresses=127.0.0.1",
            "-c shared_preload_libraries=pg_cron,pg_stat_statements",
            "-c cron.database_name=postgres",
            "-c fsync=off",
        ]
    )
    ctl = str(cluster.pg_bindir() / "pg_ctl")
    log = str(root / "postgres.log")
    started = subprocess.run(
        _as_postgres([ctl, "-D", str(pg.datadir), "-l", log, "-o", options, "-w", "-t", "30", "start"]),
        capture_output=True,
        text=True,
        check=False,
    )
    assert started.returncode == 0, started.stderr
    try:
        database.prepare(pg.url)
        with psycopg.connect(pg.url, autocommit=True) as conn:
            conn.execute("create extension if not exists pg_stat_statements with schema extensions")
            # This test samples by hand; the minute's evaluation would take the samples in between.
            conn.execute("select cron.unschedule('ops-evaluate-alerts')")
        yield pg.url
    finally:
        subprocess.run(_as_postgres([ctl, "-D", str(pg.datadir), "-m", "immediate", "stop"]), check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_a_slow_statement_opens_the_slow_query_alert_and_its_end_resolves_it(statements_db: str) -> None:
    with psycopg.connect(statements_db, autocommit=True) as db:

        def one(sql: str, *params: Any) -> Any:
            row = db.execute(sql, params).fetchone()
            assert row is not None
            return row[0]

        assert one("select statements_available from ops.database_metrics()") is True
        # No sample on the first snapshot: all-time means are not "the last minute".
        db.execute("select ops.take_samples()")
        assert one("select count(*) from ops.samples where name = 'pg.slowest_statement_seconds'") == 0

        with psycopg.connect(statements_db, autocommit=True) as app:
            app.execute("select pg_sleep(1.2)")
            app.execute("select 1")

        db.execute("select ops.take_samples()")
        seconds, query = db.execute(
            "select value, detail ->> 'query' from ops.samples where name = 'pg.slowest_statement_seconds'"
            " order by value desc limit 1"
        ).fetchone() or (None, None)
        assert seconds is not None and float(seconds) >= 1.2
        assert "pg_sleep" in query

        listed = db.execute("select source, seconds, query from ops.slow_queries(1)").fetchall()
        assert any(source == "statements" and "pg_sleep" in q and float(s) >= 1.2 for source, s, q in listed)

        assert one("select alerts_opened from ops.evaluate_alerts(array['slow_query'])") == 1
        assert one("select value from ops.alerts where rule_key = 'slow_query' and status = 'open'") >= 1.2

        # The next minutes see no slow statement; once the slow sample is out of the rule's
        # window the alert resolves.
        db.execute("update ops.samples set taken_at = taken_at - interval '10 minutes'")
        assert one("select alerts_resolved from ops.evaluate_alerts(array['slow_query'])") == 1
        newest = one(
            "select value from ops.samples where name = 'pg.slowest_statement_seconds' order by taken_at desc limit 1"
        )
        assert float(newest) < 1


@pytest.mark.slow
def test_the_service_role_can_ask_whether_statements_are_available(statements_db: str) -> None:
    """What the on-call tools do through the API (service_role), not as the database owner."""
    with psycopg.connect(statements_db, autocommit=True) as db, db.transaction(force_rollback=True):
        db.execute("set local role service_role")
        assert db.execute("select ops.statements_available()").fetchone() == (True,)
        assert db.execute("select statements_available from ops.database_metrics()").fetchone() == (True,)
        db.execute("select * from ops.slow_queries(0)").fetchall()


def test_statements_are_unavailable_when_the_extension_is_not_preloaded(db: psycopg.Connection[Any]) -> None:
    """The shared cluster does not preload pg_stat_statements: created, it still cannot answer."""
    with db.transaction(force_rollback=True):
        db.execute("create extension if not exists pg_stat_statements with schema extensions")
        db.execute("set local role service_role")
        assert db.execute("select ops.statements_available()").fetchone() == (False,)
        assert db.execute("select statements_available from ops.database_metrics()").fetchone() == (False,)
        assert db.execute("select count(*) from ops.slow_queries(0) where source = 'statements'").fetchone() == (0,)
