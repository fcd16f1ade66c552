# FlashMM developer entry points. `make test` and `make run` do all set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TORCH_VERSION := 2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH_INDEX_TIMEOUT_S ?= 10
export GX_ANALYTICS_ENABLED := false
# run/start/stop take FLASHMM_HOME and DAGSTER_HOME only when the user gives them (the scripts' defaults:
# var/ for the embedded run, var/full/ for the full stack)
USER_HOMES := FLASHMM_HOME=$(if $(filter environment command line,$(origin FLASHMM_HOME)),$(FLASHMM_HOME)) \
	DAGSTER_HOME=$(if $(filter environment command line,$(origin DAGSTER_HOME)),$(DAGSTER_HOME))
# `make` targets keep their state in the checkout; a plain `flashmm` uses the user data directory
export FLASHMM_HOME ?= $(CURDIR)/var
export DAGSTER_HOME ?= $(FLASHMM_HOME)/dagster_home

.PHONY: install services lint typecheck pytest test run start stop run-full start-full stop-full watch bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# torch first, pinned, CPU build: a bare spec would pull several GB of CUDA wheels. PyTorch's CPU index
	@# first (short timeout); where it cannot be reached, the default index (a local CPU wheel, or PyPI).
	$(BIN)/python -m pip install --quiet --timeout $(TORCH_INDEX_TIMEOUT_S) --retries 0 \
		--index-url $(TORCH_CPU_INDEX) torch==$(TORCH_VERSION) \
		|| $(BIN)/python -m pip install --quiet torch==$(TORCH_VERSION)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# numba compiles the feature kernel once and caches it beside the source
	$(BIN)/python -m flashmm_engine.features.warm_up
	@touch $@

services:
	@scripts/ensure-services.sh
	@scripts/ensure-tools.sh

lint: install
	$(BIN)/ruff check flashmm_engine flashmm_dagster tests
	$(BIN)/ruff format --check flashmm_engine flashmm_dagster tests

typecheck: install
	$(BIN)/mypy

pytest: install services
	$(BIN)/python -m flashmm_engine.features.warm_up
	$(BIN)/pytest

test: lint typecheck pytest

run: install
	@$(USER_HOMES) scripts/run.sh

start: install
	@$(USER_HOMES) scripts/run.sh --detach

stop:
	@$(USER_HOMES) scripts/stop.sh

# the same processes on PostgreSQL, Redis, victoria-metrics (InfluxDB API) and Prometheus
run-full: install
	@$(USER_HOMES) scripts/run.sh --full

start-full: install
	@$(USER_HOMES) scripts/run.sh --full --detach

stop-full:
	@$(USER_HOMES) scripts/stop.sh --full

watch: install
	$(BIN)/flashmm replay watch tests/fixtures/binance/spot_ethusdt_slice.raw.gz --speed 1

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
