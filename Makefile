# Fleet: the two commands of the README, and what they stand on.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= grnet
PORT ?= 8000

.PHONY: demo test install lint bench clean

$(BIN)/fleet: pyproject.toml
	bash scripts/bootstrap
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/fleet
	bash scripts/novnc

demo: install
	$(BIN)/fleet demo --profile $(PROFILE) --port $(PORT)

lint: install
	$(BIN)/ruff check fleet tests bench
	$(BIN)/ruff format --check fleet tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint
	PYTEST=$(BIN)/pytest bash scripts/test-suite

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
