"""`make test`: one throwaway database, every suite against it, one verdict.

Suites: the SQL lint (plpgsql_check through `supabase db lint`), pgTAP (`pg_prove`), pytest,
`deno test` for the edge functions, the dashboard (npm ci, build, Vitest), ruff and mypy. Each
must pass and must have run tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from devstack import cluster, database, paths, pytest_shards
from devstack.errors import DevstackError


@dataclass
class SuiteResult:
    name: str
    ok: bool
    seconds: float
    detail: str = ""


def _run(cmd: list[str], env: dict[str, str], cwd: str | None = None) -> int:
    print(f"\n$ {' '.join(cmd)}", flush=True)
    return subprocess.run(cmd, env=env, cwd=cwd or str(paths.ROOT), check=False).returncode


def suite_sql_lint(url: str, env: dict[str, str]) -> tuple[bool, str]:
    result = database.lint(url)
    print(result.stdout.strip() or "(no findings)")
    if result.returncode != 0:
        print(result.stderr)
    return result.returncode == 0, "plpgsql_check found errors" if result.returncode else ""


def suite_pgtap(url: str, env: dict[str, str]) -> tuple[bool, str]:
    files = sorted(str(p) for p in paths.PGTAP_DIR.glob("*.sql"))
    if not files:
        return False, "no pgTAP test files in supabase/tests"
    pg_prove = shutil.which("pg_prove")
    if pg_prove is None:
        return False, "pg_prove not found (apt-get install postgresql-15-pgtap)"
    code = _run([pg_prove, "--dbname", url, "--failures", *files], env)
    return code == 0, ""


def suite_pytest(url: str, env: dict[str, str]) -> tuple[bool, str]:
    # Two shards at once by default (devstack/pytest_shards.py); TEST_SHARDS=1 runs one pytest.
    shards = int(env.get("TEST_SHARDS", "2"))
    if shards > 1:
        return pytest_shards.run(url, env, shards)
    code = _run([str(paths.VENV_BIN / "pytest"), "tests"], env)
    if code == 5:
        return False, "pytest collected no tests"
    return code == 0, ""


def suite_deno(url: str, env: dict[str, str]) -> tuple[bool, str]:
    deno = paths.VENV_BIN / "deno"
    functions = [p for p in paths.FUNCTIONS_DIR.iterdir() if p.is_dir() and not p.name.startswith("_")]
    if not functions:
        return True, "no edge functions yet"
    tests = list(paths.FUNCTIONS_DIR.rglob("*_test.ts")) + list(paths.FUNCTIONS_DIR.rglob("*.test.ts"))
    if not tests:
        return False, "no deno tests under supabase/functions"
    code = _run([str(deno), "test", "--allow-all", "--quiet"], env, cwd=str(paths.FUNCTIONS_DIR))
    # The supabase-js driver of the Realtime tests (tests/js): type-checked and linted too.
    js = str(paths.ROOT / "tests" / "js")
    checked = _run([str(deno), "check", "--quiet", "realtime_client.ts"], env, cwd=js) == 0
    linted = _run([str(deno), "lint", "--quiet", "realtime_client.ts"], env, cwd=js) == 0
    return code == 0 and checked and linted, ""


def suite_dashboard(url: str, env: dict[str, str]) -> tuple[bool, str]:
    """The dashboard: npm ci, its type check and production build, and its Vitest tests (the
    end-to-end tests in a browser are in pytest, tests/dashboard)."""
    cwd = str(paths.ROOT / "dashboard")
    npm = shutil.which("npm")
    if npm is None:
        return False, "npm not found"
    if _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], env, cwd=cwd) != 0:
        return False, "npm ci failed"
    # Any project works for a build check; the end-to-end tests build for their own gateway.
    build_env = {
        **env,
        "VITE_SUPABASE_URL": "http://127.0.0.1:54321",
        "VITE_SUPABASE_PUBLISHABLE_KEY": "sb_publishable_build_check",
    }
    if _run([npm, "run", "build"], build_env, cwd=cwd) != 0:
        return False, "the build failed"
    return _run([npm, "test"], env, cwd=cwd) == 0, ""


def suite_ruff(url: str, env: dict[str, str]) -> tuple[bool, str]:
    ruff = str(paths.VENV_BIN / "ruff")
    ok = _run([ruff, "check", "."], env) == 0
    ok = _run([ruff, "format", "--check", "."], env) == 0 and ok
    return ok, ""


def suite_mypy(url: str, env: dict[str, str]) -> tuple[bool, str]:
    return _run([str(paths.VENV_BIN / "mypy")], env) == 0, ""


SUITES: dict[str, Callable[[str, dict[str, str]], tuple[bool, str]]] = {
    "sql-lint": suite_sql_lint,
    "pgtap": suite_pgtap,
    "pytest": suite_pytest,
    "deno": suite_deno,
    "dashboard": suite_dashboard,
    "ruff": suite_ruff,
    "mypy": suite_mypy,
}


def run_suites(url: str, names: list[str]) -> list[SuiteResult]:
    env = dict(os.environ)
    env["TEST_DATABASE_URL"] = url
    env["PATH"] = f"{paths.VENV_BIN}:{env.get('PATH', '')}"
    results = []
    for name in names:
        print(f"\n===== {name} =====", flush=True)
        started = time.monotonic()
        try:
            ok, detail = SUITES[name](url, env)
        except DevstackError as exc:
            ok, detail = False, str(exc)
        results.append(SuiteResult(name, ok, time.monotonic() - started, detail))
    return results


def report(results: list[SuiteResult]) -> int:
    print("\n===== summary =====")
    for r in results:
        status = "ok  " if r.ok else "FAIL"
        print(f"{status} {r.name:<10} {r.seconds:6.1f}s {r.detail}")
    passed = sum(r.ok for r in results)
    failed = len(results) - passed
    print(f"suites: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def main(names: list[str] | None = None) -> int:
    chosen = names or list(SUITES)
    unknown = [n for n in chosen if n not in SUITES]
    if unknown:
        raise DevstackError(f"unknown suite(s) {', '.join(unknown)}; choose from {', '.join(SUITES)}")
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        database.prepare(external)
        database.pause_schedules(external)
        database.allow_local_urls(external)
        return report(run_suites(external, chosen))
    with cluster.throwaway_cluster() as pg:
        print(f"throwaway PostgreSQL at {pg.url}", flush=True)
        database.prepare(pg.url)
        database.pause_schedules(pg.url)
        database.allow_local_urls(pg.url)
        return report(run_suites(pg.url, chosen))
