# Two set-up commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Test workers (pytest-xdist); tests/conftest.py keeps tests that share costly fixtures together.
TEST_WORKERS ?= 2
CONSTRAINTS := constraints.txt

.PHONY: demo test venv venv-dev clean

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

test: $(VENV)/.installed-dev
	$(PY) -m pytest tests -q -n $(TEST_WORKERS) --durations=15

clean:
	rm -rf $(VENV)
