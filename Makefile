# hookstream — `make help` lists the targets.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run test lint format unit integration bench bench-long soak clean reset promtool chromium

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install pinned dependencies

run: $(STAMP) ## run broker (embedded unless KAFKA_BOOTSTRAP_SERVERS), worker, API and ingress
	$(BIN)/hookstream run

lint: $(STAMP) ## ruff and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP) ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

unit: $(STAMP) ## unit tests only (no broker)
	$(BIN)/pytest -q tests/unit

integration: $(STAMP) ## integration tests (real embedded broker, real HTTP)
	$(BIN)/pytest -q tests/integration

test: $(STAMP) promtool chromium ## lint, then every test
	$(MAKE) lint
	$(BIN)/pytest -q

bench: $(STAMP) ## print the benchmark table
	$(BIN)/python -m bench

bench-long: $(STAMP) ## p99 fresh, after BENCH_LONG_EVENTS/2 and BENCH_LONG_EVENTS (default 1 M) events, memory and disk
	$(BIN)/python -m bench --long

soak: $(STAMP) ## 10 minutes of steady load, one endpoint failing half the time; prints losses and RSS
	$(BIN)/python -m bench.soak

promtool: ## install Prometheus's promtool (Debian package prometheus) when missing
	@command -v promtool >/dev/null 2>&1 || { \
	  echo "installing promtool: apt-get install prometheus"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }

chromium: ## install Debian's Chromium for the browser tests (tests/e2e) when missing
	@test -x /usr/bin/chromium || { \
	  echo "installing chromium: apt-get install chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

reset: ## erase the embedded broker's data (webhooks, events, offsets), secret key and admin token
	rm -rf $${HOOKSTREAM_DATA_DIR:-.hookstream/data}

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
