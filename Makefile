# FlashMM developer entry points. `make test` and `make run` do all set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export GX_ANALYTICS_ENABLED := false
export DAGSTER_HOME ?= $(CURDIR)/var/dagster_home
# `make` targets keep their state in the checkout; a plain `flashmm` uses the user data directory
export FLASHMM_HOME ?= $(CURDIR)/var

.PHONY: install services lint typecheck pytest test run bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# torch first, pinned: a bare spec would pull several GB of CUDA wheels.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

services:
	@scripts/ensure-services.sh

lint: install
	$(BIN)/ruff check flashmm_engine flashmm_dagster tests
	$(BIN)/ruff format --check flashmm_engine flashmm_dagster tests

typecheck: install
	$(BIN)/mypy

pytest: install services
	$(BIN)/pytest

test: lint typecheck pytest

run: install
	$(BIN)/flashmm replay watch tests/fixtures/binance/spot_ethusdt_slice.raw.gz --speed 1

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
