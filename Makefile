# The two commands that matter: `make demo` (set up and run the main job on embedded defaults) and `make test`.
.PHONY: setup demo test lint typecheck pytest unit bench fmt deploy worker e2e sim server clean

UV := python3 -m uv
PY := .venv/bin/python

setup: .venv/.synced

.venv/.synced: pyproject.toml uv.lock
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --compile-bytecode
	@# Bytecode at install time: with PYTHONDONTWRITEBYTECODE=1 (common in containers) Python would otherwise compile
	@# every module from source in every process, ~1.3 CPU-s per run (bench/RESULTS.md, "Start-up and CPU").
	$(PY) -m compileall -q ingestion_core tasks flows deployments
	@touch $@

demo: setup
	$(PY) -m flows.demo

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

fmt: setup
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

typecheck: setup
	.venv/bin/mypy ingestion_core tasks flows deployments bench tests

pytest: setup
	.venv/bin/pytest

test: lint typecheck pytest

unit: setup
	.venv/bin/pytest tests/unit -q

bench: setup
	$(PY) -m bench.pacer
	$(PY) -m bench.upsert
	$(PY) -m bench.flows
	$(PY) -m bench.spot
	$(PY) -m bench.snapshots

# A local Prefect server in the background (SQLite under data/prefect-server), started once: ad-hoc runs that
# export the PREFECT_API_URL it prints skip the ~10 s temporary server each run would start (docs/operations.md).
server: setup
	$(PY) -m deployments.local_server start $(SERVER_ARGS)

sim: setup
	$(PY) -m ingestion_core.sim --port 8765

# Checks everything first (settings, alert targets, PREFECT_API_URL, CCDATA_INGEST_HOME, flow imports), then the
# work pool, the changed deployments (paused schedules stay paused), notification blocks and alert automations.
deploy: setup
	$(PY) -m deployments.deploy $(DEPLOY_ARGS)

# The worker that drains on SIGTERM (docs/operations.md); under systemd: deployments/ccdata-ingest-worker.service.
worker: setup
	$(PY) -m deployments.worker --pool ccdata-ingest $(WORKER_ARGS)

# The end-to-end test alone, with its measurements printed (PostgreSQL-backed Prefect server; part of `make test`).
e2e: setup
	.venv/bin/pytest tests/e2e -s -q

clean:
	rm -rf .venv data .mypy_cache .ruff_cache .pytest_cache .hypothesis
