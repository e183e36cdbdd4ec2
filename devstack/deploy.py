"""`python -m devstack deploy`: apply the pending migrations to a database — inside a maintenance
window only (RUNBOOK.md: "Database Migrations: during scheduled window only").

The rule lives in the database (ops.begin_deployment), so every way of deploying is held to it:
outside a window it refuses, naming the next one, unless forced; a forced deployment records
who forced it and why (ops.deployments). A database that predates maintenance windows has no
rule to ask: it is deployed to only when forced, and the deployment is recorded once the
migrations have created the table.

Exit codes: 0 deployed (or nothing pending), 1 refused or failed, 2 usage.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import sys
from typing import Any

import psycopg
from psycopg import errors

from devstack import database, paths
from devstack.errors import DevstackError

_POLICY = "ops.begin_deployment(text[], boolean, text, text, timestamptz)"


def local_migrations() -> list[str]:
    """Versions of supabase/migrations/<version>_<name>.sql, in order."""
    return sorted(p.name.split("_", 1)[0] for p in paths.MIGRATIONS_DIR.glob("*.sql"))


def pending_migrations(conn: psycopg.Connection[Any]) -> list[str]:
    applied: set[str] = set()
    if conn.execute("select to_regclass('supabase_migrations.schema_migrations') is not null").fetchone() == (True,):
        applied = {str(r[0]) for r in conn.execute("select version from supabase_migrations.schema_migrations")}
    return [v for v in local_migrations() if v not in applied]


def _has_policy(conn: psycopg.Connection[Any]) -> bool:
    return conn.execute("select to_regprocedure(%s) is not null", (_POLICY,)).fetchone() == (True,)


def _begin(
    conn: psycopg.Connection[Any],
    pending: list[str],
    force: bool,
    by: str | None,
    reason: str | None,
    now: dt.datetime | None,
) -> tuple[int, int | None]:
    begun = conn.execute(
        "select ops.begin_deployment(%s, %s, %s, %s, coalesce(%s, now()))", (pending, force, by, reason, now)
    ).fetchone()
    assert begun is not None
    row = conn.execute("select id, window_id from ops.deployments where id = %s", (begun[0],)).fetchone()
    assert row is not None
    return int(row[0]), row[1]


def deploy(
    url: str, *, force: bool = False, by: str | None = None, reason: str | None = None, now: dt.datetime | None = None
) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        pending = pending_migrations(conn)
        if not pending:
            print("nothing to deploy: every migration is applied")
            return 0
        print(f"{len(pending)} migration(s) pending: {', '.join(pending)}")
        deployment: tuple[int, int | None] | None = None
        if _has_policy(conn):
            try:
                deployment = _begin(conn, pending, force, by, reason, now)
            except errors.ObjectNotInPrerequisiteState as exc:
                print(f"deploy refused: {exc.diag.message_primary}", file=sys.stderr)
                print("  to deploy anyway: --force --by <who> --reason <why> (recorded)", file=sys.stderr)
                return 1
            except errors.InvalidParameterValue as exc:
                print(f"deploy refused: {exc.diag.message_primary}", file=sys.stderr)
                return 2
        elif not force:
            print(
                "deploy refused: this database has no maintenance windows yet (ops.begin_deployment is missing),"
                " so nothing can say the time is right; --force --by <who> --reason <why> deploys",
                file=sys.stderr,
            )
            return 1
        elif not (by and by.strip() and reason and reason.strip()):
            print("deploy refused: a forced deployment needs --by and --reason", file=sys.stderr)
            return 2

    try:
        database.apply_migrations(url)
    except DevstackError as exc:
        if deployment is not None:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("select ops.finish_deployment(%s, false, %s)", (deployment[0], str(exc)[:2000]))
        print(f"deploy failed: {exc}", file=sys.stderr)
        return 1

    with psycopg.connect(url, autocommit=True) as conn:
        if deployment is None and _has_policy(conn):
            deployment = _begin(conn, pending, True, by, reason, now)  # the rule arrived with this deployment
        if deployment is not None:
            conn.execute("select ops.finish_deployment(%s, true)", (deployment[0],))
    where = (
        f"inside maintenance window {deployment[1]}"
        if deployment and deployment[1] is not None
        else f"outside a maintenance window, forced by {by}: {reason}"
    )
    number = f"deployment {deployment[0]}, " if deployment else ""
    print(f"deployed {len(pending)} migration(s) ({number}{where})")
    return 0


def _who() -> str | None:
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", help="the database to migrate (default: $DEPLOY_DATABASE_URL)")
    parser.add_argument("--force", action="store_true", help="deploy outside a maintenance window (recorded)")
    parser.add_argument("--by", default=_who(), help="who forces it (default: the login name)")
    parser.add_argument("--reason", help="why it cannot wait for the next window (required with --force)")
    parser.add_argument(
        "--now", type=dt.datetime.fromisoformat, help="the time to check the window against (ISO 8601; tests)"
    )


def main(args: argparse.Namespace) -> int:
    url = args.database_url or os.environ.get("DEPLOY_DATABASE_URL")
    if not url:
        print("deploy: pass --database-url or set DEPLOY_DATABASE_URL", file=sys.stderr)
        return 2
    try:
        return deploy(url, force=args.force, by=args.by, reason=args.reason, now=args.now)
    except psycopg.OperationalError as exc:
        print(f"deploy: cannot reach the database: {exc.diag.message_primary or exc}", file=sys.stderr)
        return 1
