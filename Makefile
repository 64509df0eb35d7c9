# Two commands set everything up: `make run` serves, `make test` checks. Both build .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest migrate bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m server serve

migrate: $(STAMP)
	$(BIN)/python -m server migrate

lint: $(STAMP)
	$(BIN)/ruff check server schemas push tests bench deploy/local-cluster
	$(BIN)/ruff format --check server schemas push tests bench deploy/local-cluster

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

# `make bench BENCH=pause` runs one; figures go to bench/results/<name>.json.
bench: $(STAMP)
	$(BIN)/python -m bench $(if $(BENCH),--only $(BENCH))

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
