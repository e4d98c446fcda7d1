# The two commands that matter: `make demo` (set up and run the main job on embedded defaults) and `make test`.
.PHONY: setup demo test lint typecheck pytest unit bench fmt deploy sim clean

UV := python3 -m uv
PY := .venv/bin/python

setup: .venv/.synced

.venv/.synced: pyproject.toml uv.lock
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen
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

sim: setup
	$(PY) -m ingestion_core.sim --port 8765

deploy: setup
	$(PY) -m deployments.bootstrap $(if $(NOTIFY_BLOCK),--notify-block $(NOTIFY_BLOCK),)
	.venv/bin/prefect --no-prompt deploy --all

clean:
	rm -rf .venv data .mypy_cache .ruff_cache .pytest_cache .hypothesis
