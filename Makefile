# Two entry points: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test bench install install-dev clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Spindle needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install -q -e .

install-dev: $(BIN)/python $(VENV)-pywb/bin/wayback
	$(BIN)/python -m pip install -q -e '.[dev]'

# pywb replays the crawler's WARCs in the tests; it pins redis<3, which the crawler's shared
# frontier cannot use, so it lives in a virtual environment of its own.
$(VENV)-pywb/bin/wayback:
	$(PYTHON) -m venv $(VENV)-pywb
	$(VENV)-pywb/bin/python -m pip install -q --upgrade pip
	$(VENV)-pywb/bin/python -m pip install -q 'pywb==2.10.0'

demo: install
	$(BIN)/spindle demo

test: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy --strict src
	$(BIN)/pytest

bench: install-dev
	$(BIN)/python -m pip install -q -r bench/requirements.txt
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(VENV)-pywb build dist src/*.egg-info .mypy_cache .ruff_cache
