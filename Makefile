# Two commands set up a fresh machine: `make demo` runs the system, `make test` runs the tests.
.PHONY: setup test demo db db-stop db-reset functions lint fmt clean

PY := .venv/bin/python

setup:
	@scripts/setup.sh

test: setup
	$(PY) -m devstack test

# Grows into the whole local system (functions, worker, simulators) as they land.
demo: db

db: setup
	$(PY) -m devstack db

# Every edge function on http://127.0.0.1:54321/functions/v1/<name>, against SUPABASE_DB_URL
# (default: the database `make db` starts). Ctrl-C stops it.
functions: setup
	cd supabase/functions && ../../.venv/bin/deno run --allow-net --allow-env serve.ts

db-stop:
	$(PY) -m devstack db-stop

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
