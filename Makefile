# Two commands set up a fresh machine: `make demo` runs the system, `make test` runs the tests.
.PHONY: setup test demo db db-stop db-reset lint fmt clean

PY := .venv/bin/python

setup:
	@scripts/setup.sh

test: setup
	$(PY) -m devstack test

# Grows into the whole local system (functions, worker, simulators) as they land.
demo: db

db: setup
	$(PY) -m devstack db

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
