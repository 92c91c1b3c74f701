# Two set-up commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Test workers (pytest-xdist); tests/conftest.py keeps tests that share costly fixtures together.
TEST_WORKERS ?= 2
CONSTRAINTS := constraints.txt

.PHONY: demo test test-fast test-random lint venv venv-dev clean

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e ".[dev]"
	touch $@

venv: $(VENV)/.installed
venv-dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed
	$(VENV)/bin/albert-tf demo

# The whole suite, in file order (`-p no:randomly`), as CI runs it; lint first.
test: lint
	$(PY) -m pytest tests -q -n $(TEST_WORKERS) -p no:randomly --durations=15

# Everyday tier: hermetic (no registry downloads, no venv builds), tiny models, minutes.
test-fast: lint
	ALBERT_TF_HERMETIC=1 $(PY) -m pytest tests -q -n $(TEST_WORKERS) -p no:randomly -m "not slow"

# The whole suite in a random order: `make test-random SEED=1234` (pytest-randomly).
SEED ?= 1
test-random: lint
	$(PY) -m pytest tests -q -n $(TEST_WORKERS) -p randomly -p "no:cacheprovider" \
		--randomly-seed=$(SEED) --durations=15

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV)
