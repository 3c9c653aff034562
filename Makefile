# Tawjih: `make run` to chat, `make test` to check everything. `make help` lists all targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/tawjih.tar.gz
SETUP_STAMP := $(VENV)/.installed
WEB_STAMP := web/node_modules/.installed
CONSOLE_STAMP := console/node_modules/.installed
NLU_TABLES := data/nlu/catalogue.yml
TRAINING_INPUTS := config.yml domain.yml registry/catalogue.yml $(NLU_TABLES) $(shell find data -name '*.yml' 2>/dev/null) $(wildcard language/*.py)

export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: help setup console browser haproxy cluster tables train run shell purge test lint format validate stories eval ablation bench-console bench clean lock

help: ## List every target
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-14s %s\n", $$1, $$2}'

setup: $(SETUP_STAMP) $(WEB_STAMP) $(CONSOLE_STAMP) ## Create .venv with Python 3.10, install the pinned Python and npm dependencies

# scripts/setup.sh makes .venv again if it is not Python 3.10 or its pip does not run (a set-up
# interrupted by Ctrl-C), then installs; the stamp is written only once that has all succeeded.
$(SETUP_STAMP): requirements.lock
	@scripts/setup.sh install $(VENV) requirements.lock
	@touch $@

$(WEB_STAMP): web/package.json web/package-lock.json
	npm ci --prefix web --no-audit --no-fund
	@touch $@

# The staff console's front-end libraries (chart.js), from npm with console/package-lock.json, as web/ does.
console: $(CONSOLE_STAMP) ## Install the staff console's front-end libraries (make setup does it)

$(CONSOLE_STAMP): console/package.json console/package-lock.json
	npm ci --prefix console --no-audit --no-fund
	@touch $@

# The web widget's tests drive a real Chromium: Debian's package (and no browser download).
browser:
	@command -v chromium >/dev/null || (echo "Installing Debian's chromium for the browser tests" && \
	  ((apt-get update -qq && apt-get install -y chromium >/dev/null) || sudo apt-get install -y chromium >/dev/null) || \
	  (echo "Could not install chromium: run 'apt-get install chromium' as root" && exit 1))

tables: $(NLU_TABLES) ## Regenerate the NLU lookup tables and synonyms from registry/catalogue.yml

$(NLU_TABLES): registry/catalogue.yml language/nlu_tables.py | $(SETUP_STAMP)
	$(PY) -m language.nlu_tables
	@touch $@

train: $(MODEL) ## Train the model, only when data, config, domain or NLU components changed

$(MODEL): $(TRAINING_INPUTS) | $(SETUP_STAMP)
	$(RASA) train --fixed-model-name tawjih --out models
	@touch $@

run: setup train ## Set up if needed, train if stale, seed the registry, start every part (restarted if it stops)
	@scripts/run.sh

cluster: setup train haproxy ## Two Rasa instances and two action servers behind HAProxy on port 5005, on this machine's PostgreSQL, Redis and RabbitMQ
	@scripts/run.sh --cluster

# The cluster's load balancer: Debian's package, installed like the browser.
haproxy:
	@command -v haproxy >/dev/null || (echo "Installing Debian's haproxy for make cluster" && \
	  ((apt-get update -qq && apt-get install -y haproxy >/dev/null) || sudo apt-get install -y haproxy >/dev/null) || \
	  (echo "Could not install haproxy: run 'apt-get install haproxy' as root" && exit 1))

shell: setup train ## Chat in the terminal (rasa shell), with the registry and the action server in the background
	@scripts/run.sh --shell

purge: setup ## Delete conversations older than TAWJIH_RETENTION_DAYS now (make run does it every hour)
	TRACKER_STORE_URL="$${TRACKER_STORE_URL:-sqlite:///var/tracker.db}" $(PY) -m privacy purge

validate: setup tables ## Check training data and domain for consistency
	$(RASA) data validate --max-history 5

lint: setup ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: setup ## Reformat the code with ruff
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

stories: setup train ## Test stories through NLU and dialogue: rasa test core --fail-on-prediction-errors
	$(PY) scripts/test_stories.py --model $(MODEL) --stories tests/stories --out results/stories

# Two workers (pytest-xdist): most tests wait on the processes they start, a core is often idle. The load
# tests (marker `alone`) run afterwards, by themselves: beside other tests they would measure the contention.
PYTEST_WORKERS ?= 2

test: setup browser haproxy train lint validate stories ## The whole suite: lint, data validation, test stories, unit, integration and end-to-end tests
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -m "not alone"
	$(PY) -m pytest -m alone

eval: setup ## Train ours and the stock pipeline, score every held-out set: F1, wrong answers and asking back per register, out-of-scope, city accuracy, latency
	$(PY) -m bench.eval_nlu $(EVAL_ARGS)

ablation: setup ## make eval, plus ours without the normaliser, with spaCy vectors, without IntentVote, with a transformer
	$(PY) -m bench.eval_nlu --ablation $(EVAL_ARGS)

# BENCH_CONSOLE_ARGS="--postgres postgresql://postgres@127.0.0.1:5432/test" for PostgreSQL (throwaway schemas).
bench-console: setup ## Staff console on 100,000 events / 5,000 sessions: index build, update, list/filter/transcript p50/p95
	$(PY) -m bench.console $(BENCH_CONSOLE_ARGS)

# BENCH_QUICK=1 for short phases (checks that it works); BENCH_ARGS="--duration 120" and more: python -m bench.turns -h.
bench: setup train ## Tawjih against the stock rasa init moodbot, same load: turn p50/p95, 50 users, saturation, turn 300, memory
	$(PY) -m bench.turns $(BENCH_ARGS)

lock: ## Re-pin requirements.lock from requirements.in (needs the network to PyPI)
	rm -rf /tmp/tawjih-lock && $$(scripts/find-python.sh) -m venv /tmp/tawjih-lock
	/tmp/tawjih-lock/bin/pip install --quiet "pip<25" && /tmp/tawjih-lock/bin/pip install --quiet -r requirements.in
	(echo "# Exact pins of the whole environment (Python 3.10). Generated by \`make lock\` from requirements.in."; \
	  /tmp/tawjih-lock/bin/pip freeze --all | grep -v '^pip==' | sort -f) > requirements.lock

clean: ## Remove the trained models, local databases and caches (keeps .venv)
	rm -rf models var results .pytest_cache .mypy_cache .ruff_cache .rasa
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +
