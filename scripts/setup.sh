#!/usr/bin/env bash
# Installs everything the tests and the local system need, idempotently:
#   Python venv (.venv) with the exact versions of requirements.lock (Deno comes with it),
#   the Supabase CLI from npm (package-lock.json), PostgreSQL 15 and its extensions from Debian,
#   the dashboard's npm packages (dashboard/package-lock.json) and Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
pgshare=/usr/share/postgresql/15/extension
[ -x /usr/lib/postgresql/15/bin/initdb ] || need_pkgs+=(postgresql-15)
[ -f "$pgshare/pgtap.control" ] || need_pkgs+=(postgresql-15-pgtap)
[ -f "$pgshare/pg_cron.control" ] || need_pkgs+=(postgresql-15-cron)
[ -f "$pgshare/plpgsql_check.control" ] || need_pkgs+=(postgresql-15-plpgsql-check)
command -v pg_prove >/dev/null || need_pkgs+=(postgresql-15-pgtap)
# The dashboard's end-to-end tests drive Debian's Chromium through Playwright: installed when
# run as root; otherwise those tests say they are skipped (or take $CHROMIUM_PATH).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ]; then
  need_pkgs+=(chromium)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing ${need_pkgs[*]} from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  else
    echo "missing system packages; as root run:" >&2
    echo "  apt-get update && apt-get install -y ${need_pkgs[*]}" >&2
    exit 1
  fi
fi
# pg_net's SQL API emulation goes into the server's extension directory.
if ! cmp -s devstack/platform/pg_net/pg_net.control "$pgshare/pg_net.control" \
   || ! cmp -s devstack/platform/pg_net/pg_net--0.19.5.sql "$pgshare/pg_net--0.19.5.sql"; then
  if [ -w "$pgshare" ]; then
    cp devstack/platform/pg_net/* "$pgshare/"
  else
    echo "as root run: cp $(pwd)/devstack/platform/pg_net/* $pgshare/" >&2
    exit 1
  fi
fi

# Progress on stderr, one line per step: the first run takes about a minute.
step() { echo "setup: $*" >&2; }

if [ ! -x .venv/bin/python ]; then
  step "creating the Python virtualenv (.venv)"
  python3 -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ requirements.lock -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  step "installing Python packages from requirements.lock (first run: about a minute)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements.lock
  .venv/bin/python -m pip install -q --no-deps -e .
  touch "$stamp"
  step "Python packages installed"
fi

if [ ! -x node_modules/.bin/supabase ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "installing the Supabase CLI from npm (package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ ! -d dashboard/node_modules ] || [ dashboard/package-lock.json -nt dashboard/node_modules/.package-lock.json ]; then
  (cd dashboard && npm ci --no-audit --no-fund --loglevel=error)
fi

# The edge functions' npm packages, exactly as deno.lock pins them (--frozen fails on a lock
# that no longer matches deno.json instead of rewriting it).
if [ -f supabase/functions/deno.json ]; then
  [ -d supabase/functions/node_modules ] || step "installing the edge functions' npm packages (deno.lock)"
  (cd supabase/functions && ../../.venv/bin/deno install --frozen --quiet)
fi

# supabase-js for the Realtime client tests (tests/test_realtime_supabase_js.py), pinned the same way.
(cd tests/js && ../../.venv/bin/deno install --frozen --quiet)
