# Two commands do everything on a fresh machine with Python 3.11+:
#   make demo   set up, then run one simulated trading day end to end
#   make test   set up, then lint, type-check and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The tests, soaks and checks start icbot in hundreds of subprocesses. Where the environment sets
# PYTHONDONTWRITEBYTECODE (some CI images and sandboxes do), none of them may cache icbot's compiled modules and each
# compiles them from source again: about 0.1 s of CPU per process, and pytest's rewritten test modules once per
# worker. These targets let Python keep its __pycache__ (ignored by git), as a default install does.
PY_CACHE := env -u PYTHONDONTWRITEBYTECODE

.PHONY: all setup test lint typecheck pytest demo bench report-check whatif-check chromium soak untidy clean

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
	$(PY_CACHE) $(BIN)/pytest -q -n 5 --dist worksteal  # 5 workers on 2 cores: e2e tests mostly wait on the virtual clock; the order: tests/conftest.py

test: lint typecheck pytest

demo: $(STAMP)
	$(BIN)/icbot demo

bench: $(STAMP)
	$(BIN)/python -m tests.bench

# `icbot report`'s real checks (docs/report.md, "Checking the report"): its pages in a real headless Chromium (no
# console error, no network request, every chart drawn, hover/sort/filter working; screenshots in
# build/report-check/), and the report of two simulated days against the broker's executions (~25 s).
report-check: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
		|| command -v google-chrome >/dev/null 2>&1 || $(MAKE) chromium
	$(BIN)/python -m tests.report_browser --out build/report-check
	$(PY_CACHE) ICBOT_REPORT_E2E=1 $(BIN)/pytest -q -n 1 tests/e2e/test_report.py

# What-if replays (docs/whatif.md): a simulated week traded and recorded by the real run-today and check, replayed
# under six variants; the live-rules replay must give the live P/L within the slippage every day (~5 min).
whatif-check: $(STAMP)
	$(PY_CACHE) ICBOT_WHATIF_E2E=1 $(BIN)/pytest -q -s -p no:xdist tests/e2e/test_whatif.py  # in-process: -s shows the table

chromium:  # Debian's chromium package (root, or through sudo)
	if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
	else sudo apt-get update && sudo apt-get install -y chromium; fi

# Randomized simulated days (faults, kills, reruns), judged from the broker's side (docs/simulator.md, "Soak");
# one line per day, a reproduction line per violation, exit 1 on any. `make soak DAYS=50 SEED=101`.
DAYS ?= 20
SEED ?= 1
soak: $(STAMP)
	$(PY_CACHE) $(BIN)/python -m tests.soak --days $(DAYS) --seed $(SEED) $(if $(SEEDS),--seeds $(SEEDS))

# IB's untidy days (docs/simulator.md, "Untidy IB"): `icbot sim --profile untidy` per seed, run-today and checks
# until after the time exit, judged as the soak judges; 20 seeds by default. `make untidy DAYS=5 SEED=40`.
untidy: $(STAMP)
	$(PY_CACHE) $(BIN)/python -m tests.soak --profile untidy --days $(DAYS) --seed $(SEED) $(if $(SEEDS),--seeds $(SEEDS))

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
