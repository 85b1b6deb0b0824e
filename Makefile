# hf_tokenembed — `make demo` runs the main job on offline defaults, `make test` runs the tests.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
DATA ?= runs/data
MODEL ?= runs/raw-minilm
INDEX ?= runs/index

.PHONY: setup wordnet chromium demo train-all test test-fast lint style bench clean

setup: $(VENV)/.installed

# Idempotent: re-runs only when the packaging files change. torch first, so pip keeps the local CPU build.
$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	$(MAKE) --no-print-directory wordnet
	touch $@

wordnet:
	@if [ -f /usr/share/wordnet/data.noun ]; then \
		echo "WordNet 3.0 found under /usr/share/wordnet"; \
	elif command -v apt-get >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wordnet-base wordnet-sense-index; \
	else \
		echo "No apt-get here: install WordNet with: $(PY) -c 'import nltk; nltk.download(\"wordnet\")'"; \
	fi

# Debian's Chromium, for the browser test of spaces/app.py (playwright drives it; no browser download).
chromium:
	@if command -v chromium >/dev/null 2>&1; then \
		echo "Chromium found: $$(command -v chromium)"; \
	elif command -v apt-get >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; \
	else \
		echo "No apt-get here: install Chromium and set HF_TOKENEMBED_CHROMIUM to its path"; \
	fi

demo: setup
	$(VENV)/bin/hf-tokenembed demo

# The whole chain on the offline defaults: data, stage 1, the reconstruction vocabulary (built by the Selector's
# script), Selector, Placer, bundle (runs/bundle). Prints each stage's and the total wall time.
LAUNCH := $(VENV)/bin/accelerate launch --cpu --num_processes 1
train-all: setup
	@set -e; start=$$(date +%s); stage() { t=$$(date +%s); "$$@"; echo "train-all: $$* ... $$(( $$(date +%s) - t )) s"; }; \
	stage $(VENV)/bin/hf-tokenembed data build --out $(DATA); \
	stage $(LAUNCH) trainers/train_head.py; \
	stage $(LAUNCH) trainers/train_selector.py; \
	stage $(LAUNCH) trainers/train_placer.py; \
	stage $(VENV)/bin/hf-tokenembed bundle runs/token-head runs/selector runs/placer --out runs/bundle; \
	echo "train-all: wall time $$(( $$(date +%s) - start )) s"

test: setup chromium
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

style: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: setup
	cd benchmarks && ../$(PY) bench_encode.py

clean:
	rm -rf $(VENV) runs .pytest_cache *.egg-info
