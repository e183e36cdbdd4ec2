"""python -m devstack {test [suite ...] | db | db-stop | db-reset | deploy}"""

from __future__ import annotations

import argparse
import shutil
import sys

from devstack import cluster, database, deploy, paths, testrun
from devstack.errors import DevstackError


def db_up() -> int:
    pg = cluster.local_cluster()
    if not pg.is_running():
        pg.start()
    cluster.wait_until_ready(pg.url)
    database.prepare(pg.url)
    if database.is_empty(pg.url):
        database.apply_seed(pg.url)
        print("seeded the demo tenant (supabase/seed.sql)")
    print(f"local database ready: {pg.url} (cluster in {pg.datadir.parent})")
    print(f"  psql '{pg.url}'")
    return 0


def db_stop() -> int:
    if not (cluster.cluster_dir(paths.LOCAL_DIR) / "data" / "PG_VERSION").exists():
        return 0  # nothing was ever started (and nothing is created just to be stopped)
    pg = cluster.local_cluster()
    if pg.is_running():
        pg.stop()
        print("local database stopped")
    return 0


def db_reset() -> int:
    db_stop()
    shutil.rmtree(cluster.cluster_dir(paths.LOCAL_DIR), ignore_errors=True)
    return db_up()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    test = sub.add_parser("test", help="run every test suite against a throwaway database")
    test.add_argument("suites", nargs="*", help=f"subset of: {', '.join(testrun.SUITES)}")
    sub.add_parser("db", help="start the local database (migrated, seeded on first start)")
    sub.add_parser("db-stop", help="stop the local database")
    sub.add_parser("db-reset", help="delete the local database and start a fresh seeded one")
    deploy.add_arguments(
        sub.add_parser("deploy", help="apply pending migrations, inside a maintenance window only (or --force)")
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "test":
            return testrun.main(args.suites)
        if args.command == "deploy":
            return deploy.main(args)
        return {"db": db_up, "db-stop": db_stop, "db-reset": db_reset}[args.command]()
    except DevstackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
