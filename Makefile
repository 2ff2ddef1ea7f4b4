# Two entry points: `make demo` and `make test`. Both create .venv when it is missing.
# `make bench` also installs the benchmark's peers, each in a place of its own (never .venv).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
BENCH_VENV   := bench/.venv
CRAWLEE_VENV := bench/.venv-crawlee
CRAWLEE_NODE := bench/peers/crawlee_node
WGET2_DIR    := bench/.tools/wget2

.PHONY: demo test bench bench-tools install install-dev clean

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

bench: install bench-tools
	$(BENCH_VENV)/bin/python bench/run.py

# Scrapy, requests (the naive crawler) and matplotlib (the chart); the harness runs here too.
$(BENCH_VENV)/.installed: bench/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install -q -r bench/requirements.txt
	touch $@

$(CRAWLEE_VENV)/.installed: bench/requirements-crawlee.txt
	$(PYTHON) -m venv $(CRAWLEE_VENV)
	$(CRAWLEE_VENV)/bin/python -m pip install -q --upgrade pip
	$(CRAWLEE_VENV)/bin/python -m pip install -q -r bench/requirements-crawlee.txt
	touch $@

# Crawlee for Node with the machine's Node.js, as package-lock.json pins it.
$(CRAWLEE_NODE)/node_modules/.installed: $(CRAWLEE_NODE)/package.json $(CRAWLEE_NODE)/package-lock.json
	cd $(CRAWLEE_NODE) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# GNU wget2 unpacked from Debian's packages; left out (with a note) where they cannot be had.
$(WGET2_DIR)/.installed: bench/install-wget2.sh
	sh bench/install-wget2.sh $(WGET2_DIR)
	if [ -x $(WGET2_DIR)/wget2 ]; then touch $@; fi

bench-tools: $(BENCH_VENV)/.installed $(CRAWLEE_VENV)/.installed \
		$(CRAWLEE_NODE)/node_modules/.installed $(WGET2_DIR)/.installed

clean:
	rm -rf $(VENV) $(VENV)-pywb build dist src/*.egg-info .mypy_cache .ruff_cache
	rm -rf $(BENCH_VENV) $(CRAWLEE_VENV) $(CRAWLEE_NODE)/node_modules bench/.tools
