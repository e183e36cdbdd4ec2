# Two commands set up a fresh machine: `make demo` runs the system, `make test` runs the tests.
.PHONY: setup test demo worker db db-stop db-reset functions lint fmt clean

PY := .venv/bin/python

setup:
	@scripts/setup.sh

test: setup
	$(PY) -m devstack test

# Benchmarks against a throwaway PostgreSQL (each starts the functions server, the WAHA
# simulator and workers itself); under 10 minutes on 2 cores. Results: bench/results/latest.md.
.PHONY: bench
bench: setup
	$(PY) -m bench

# The whole local system: database, edge functions, worker, WAHA and PMS simulators, and a
# hotel's day played through them (devstack/demo), with the dashboard on http://127.0.0.1:54333.
# Ctrl-C stops it all. Options go in ARGS: make demo ARGS="--pace 0.3" (make itself would take --pace as its own).
demo: setup
	$(PY) -m devstack.demo $(ARGS)

# The on-call engineer's CLI against the local database (make db / make demo):
# make ops ARGS="status", make ops ARGS="dead-letters --json".
.PHONY: ops
ops: setup
	WORKER_DATABASE_URL=$${WORKER_DATABASE_URL:-postgresql://postgres@127.0.0.1:54322/postgres} \
	WORKER_LOG_FILE=$${WORKER_LOG_FILE:-.local/logs/worker.log} .venv/bin/hotel-worker ops $(ARGS)

# The worker alone, against the local database (`make db`). Local development: tenants' URLs
# may point at the simulators on 127.0.0.1 (never set WORKER_ALLOW_LOCAL_URLS in a deployment).
worker: setup
	WORKER_ALLOW_LOCAL_URLS=$${WORKER_ALLOW_LOCAL_URLS:-true} WORKER_DATABASE_URL=$${WORKER_DATABASE_URL:-postgresql://postgres@127.0.0.1:54322/postgres} $(PY) -m worker

db: setup
	$(PY) -m devstack db

# Every edge function on http://127.0.0.1:54329/functions/v1/<name>, against SUPABASE_DB_URL
# (default: the database `make db` starts); `make gateway` serves them at :54321 as Supabase does,
# and WAHA is told to post its webhooks there. Users' tokens are checked with the Supabase CLI's
# published local secret (the gateway's Auth signs with it) unless SUPABASE_JWKS, SUPABASE_URL or
# AUTH_JWT_SECRET is set. Ctrl-C stops it.
functions: setup
	cd supabase/functions && ALLOW_LOCAL_URLS=$${ALLOW_LOCAL_URLS:-true} PORT=$${PORT:-54329} FUNCTIONS_URL=$${FUNCTIONS_URL:-http://127.0.0.1:54321/functions/v1} \
		../../.venv/bin/deno run --allow-net --allow-env serve.ts --allow-local-jwt-secret

# The local API gateway on http://127.0.0.1:54321 (README.md, "The local API"): Auth and Realtime
# against `make db`'s database, /functions/v1 to `make functions`. Ctrl-C stops it.
.PHONY: gateway
gateway: setup
	$(PY) -m devstack.gateway --port 54321 --realtime --functions-url http://127.0.0.1:54329

# The dashboard's dev server (hot reload) on http://127.0.0.1:5173, against the local API
# (`make db`, `make functions` and `make gateway`, or `make demo`).
.PHONY: dashboard
dashboard: setup
	cd dashboard && VITE_SUPABASE_URL=$${VITE_SUPABASE_URL:-http://127.0.0.1:54321} \
		VITE_SUPABASE_PUBLISHABLE_KEY=$${VITE_SUPABASE_PUBLISHABLE_KEY:-sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH} \
		npx vite

# The dashboard's `Database` type (dashboard/src/lib/database.types.ts) from the migrations, read
# from a throwaway database migrated now (devstack/typegen.py; no Docker). Run it after adding a
# migration; a test fails while the file is stale. ARGS="--database-url URL" reads another one.
.PHONY: types
types: setup
	$(PY) -m devstack.typegen $(ARGS)

db-stop:
	$(PY) -m devstack db-stop

# Pending migrations to DEPLOY_DATABASE_URL, inside a maintenance window only (docs/runbook.md,
# "Maintenance windows"): make deploy, or make deploy ARGS="--force --reason '...'".
.PHONY: deploy
deploy: setup
	$(PY) -m devstack deploy $(ARGS)

db-reset: setup
	$(PY) -m devstack db-reset

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

fmt: setup
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

clean: db-stop
	rm -rf .local .venv node_modules .pytest_cache .mypy_cache .ruff_cache
