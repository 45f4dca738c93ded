# Each target makes its own virtual environment and installs what it needs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: demo test check lint bench bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

demo: $(STAMP)
	$(BIN)/duban demo

lint: $(STAMP)
	$(BIN)/ruff check workflow tests bench tools
	$(BIN)/ruff format --check workflow tests bench tools
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

# The edit loop (under 2 minutes): lint, types and the engine's own layers; `make test` runs everything.
FAST := calendar fields definition templates engine suggestion review_opinion notices clocks due_dates \
	beijing_dates provisional_holidays readers notice_edges store
check: lint
	$(BIN)/pytest -q -m "not slow" $(FAST:%=tests/test_%.py)

$(VENV)/.installed-bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	touch $@

bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench

bench-quick: $(VENV)/.installed-bench
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) build dist *.egg-info duban-demo.db*
