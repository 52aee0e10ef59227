# Two commands do everything on a fresh machine with Python 3.11+:
#   make demo   set up, then run one simulated trading day end to end
#   make test   set up, then lint, type-check and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: all setup test lint typecheck pytest demo bench clean

all: test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check icbot tests
	$(BIN)/ruff format --check icbot tests

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q -n 2  # two workers: most tests wait on the simulator's virtual clock, not the CPU

test: lint typecheck pytest

demo: $(STAMP)
	$(BIN)/icbot demo

bench: $(STAMP)
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
