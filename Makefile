# geolog: two commands on a fresh machine.
#   make demo   create .venv, install geolog, run the demo on the bundled data
#   make test   install test dependencies, run the tests and the notebooks
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: demo test lint format clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP) $@

demo: $(STAMP)
	$(BIN)/python -m geolog.demo

test: $(DEVSTAMP)
	$(BIN)/python -m pytest tests --nbmake notebooks

lint: $(DEVSTAMP)
	$(BIN)/ruff check geolog tests benchmarks notebooks data
	$(BIN)/ruff format --check geolog tests benchmarks notebooks data

format: $(DEVSTAMP)
	$(BIN)/nbstripout --keep-id notebooks/*.ipynb
	$(BIN)/ruff format geolog tests benchmarks notebooks data
	$(BIN)/ruff check --fix geolog tests benchmarks notebooks data

bench: $(DEVSTAMP)
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) out .pytest_cache
