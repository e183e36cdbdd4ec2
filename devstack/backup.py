"""A self-run database's backup and restore, as docs/runbook.md describes them ("Restoring the
database"): the cluster's roles (pg_dumpall --roles-only) and one custom-format pg_dump of the
database; restored into a fresh cluster with psql and pg_restore. Hosted Supabase takes its own
daily backups (or PITR); this is the same procedure for a database we run ourselves, and what
the restore drill and its benchmark use.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from devstack.cluster import pg_bindir
from devstack.errors import DevstackError


@dataclass(frozen=True)
class Backup:
    roles: Path
    dump: Path


def take(url: str, directory: Path) -> Backup:
    """Writes the roles and a consistent snapshot of the database (pg_dump takes one
    transaction's view: writes going on meanwhile are either wholly in it or not at all)."""
    directory.mkdir(parents=True, exist_ok=True)
    roles = directory / "roles.sql"
    dump = directory / "database.dump"
    _run([str(pg_bindir() / "pg_dumpall"), "--roles-only", "--no-role-passwords", "-f", str(roles), "-d", url])
    _run([str(pg_bindir() / "pg_dump"), "--format=custom", "--file", str(dump), url])
    return Backup(roles=roles, dump=dump)


def restore(backup: Backup, url: str, *, jobs: int = 1) -> None:
    """Into a fresh cluster's database: roles first (the one that already exists, postgres, is
    reported and skipped), then the dump, stopping at the first error."""
    _run([str(pg_bindir() / "psql"), "-q", "-X", "-d", url, "-f", str(backup.roles)])
    _run([str(pg_bindir() / "pg_restore"), "--exit-on-error", f"--jobs={jobs}", "-d", url, str(backup.dump)])


def _run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DevstackError(f"{Path(cmd[0]).name} failed ({result.returncode}):\n{result.stderr[-2000:]}")
