.PHONY: setup demo test lint typecheck unit bench fmt
UV ?= $(shell command -v uv 2>/dev/null || echo "$$HOME/.local/bin/uv")
PY := .venv/bin/python

setup:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --user uv
	$(UV) sync --frozen

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

fmt: setup
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

typecheck: setup
	.venv/bin/mypy ingestion_core tasks flows bench tests

test: lint typecheck
	.venv/bin/pytest

unit: setup
	.venv/bin/pytest tests/unit -q
