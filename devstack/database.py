"""Turn an empty PostgreSQL database into what a Supabase project would have: the platform
bootstrap, the pg_net SQL emulation, then the project's migrations through the Supabase CLI."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import psycopg

from devstack import paths
from devstack.cluster import pg_bindir
from devstack.errors import DevstackError


def extension_dir() -> Path:
    out = subprocess.run([str(pg_bindir() / "pg_config"), "--sharedir"], capture_output=True, text=True, check=False)
    sharedir = out.stdout.strip() if out.returncode == 0 else "/usr/share/postgresql/15"
    return Path(sharedir) / "extension"


def install_pg_net_emulation() -> None:
    """Put the pg_net emulation into the server's extension directory (idempotent)."""
    target = extension_dir()
    sources = sorted((paths.PLATFORM_DIR / "pg_net").iterdir())
    if all((target / s.name).exists() and (target / s.name).read_bytes() == s.read_bytes() for s in sources):
        return
    try:
        for source in sources:
            shutil.copyfile(source, target / source.name)
    except PermissionError as exc:
        raise DevstackError(
            f"cannot install the pg_net emulation into {target} (run `make setup` as root, or copy "
            f"{paths.PLATFORM_DIR / 'pg_net'}/* there yourself)"
        ) from exc


def required_extensions_present() -> list[str]:
    """Names of the Debian packages whose extensions are missing from the server."""
    target = extension_dir()
    wanted = {
        "pgtap.control": "postgresql-15-pgtap",
        "pg_cron.control": "postgresql-15-cron",
        "plpgsql_check.control": "postgresql-15-plpgsql-check",
    }
    return [pkg for control, pkg in wanted.items() if not (target / control).exists()]


def bootstrap_platform(url: str) -> None:
    sql = (paths.PLATFORM_DIR / "bootstrap.sql").read_text()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.encode())
        # pgTAP lives in extensions, as on Supabase (`create extension pgtap with schema extensions`).
        conn.execute("create extension if not exists pgtap with schema extensions")


def _cli_url(url: str) -> str:
    return url + ("&" if "?" in url else "?") + "sslmode=disable"


def run_supabase_cli(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    if not paths.SUPABASE_CLI.exists():
        raise DevstackError("the Supabase CLI is not installed; run `make setup`")
    cmd = [str(paths.SUPABASE_CLI), *args, "--db-url", _cli_url(url)]
    return subprocess.run(cmd, cwd=paths.ROOT, capture_output=True, text=True, check=False)


def apply_migrations(url: str) -> None:
    result = run_supabase_cli("migration", "up", "--include-all", url=url)
    if result.returncode != 0:
        raise DevstackError(f"supabase migration up failed:\n{result.stdout}\n{result.stderr}")


def lint(url: str) -> subprocess.CompletedProcess[str]:
    return run_supabase_cli(
        "db", "lint", "--schema", "public,private,internal,ops,metrics", "--fail-on", "error", url=url
    )


def apply_seed(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(paths.SEED_FILE.read_text().encode())


def is_empty(url: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute("select not exists (select 1 from public.tenants)").fetchone()
        return bool(row and row[0])


def pause_schedules(url: str) -> None:
    """Tests drive pg_cron's jobs themselves (ops.evaluate_alerts(), schedule_pms_syncs_v1()); a
    job firing every minute in the middle of a test would make it depend on the clock. Through
    cron.alter_job, as on Supabase, where `postgres` may read cron.job but not update it."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select cron.alter_job(j.jobid, active => false) from cron.job j where j.active")


def prepare(url: str, *, seed: bool = False) -> None:
    install_pg_net_emulation()
    bootstrap_platform(url)
    apply_migrations(url)
    if seed:
        apply_seed(url)
