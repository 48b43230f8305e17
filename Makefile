# pfdrill — two commands do all set-up on a fresh machine:
#   make drill   the weekly drill suite on the embedded kwok cluster, ending in a report
#   make test    the whole test suite (unit, integration on a real kwok cluster, Gherkin)
# Every step is idempotent and skips what is already installed.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APT_PACKAGES := prometheus prometheus-alertmanager procps git psmisc iproute2 curl
STAMP := $(VENV)/.installed
export PFDRILL_CACHE_DIR ?= $(HOME)/.cache/pfdrill

.PHONY: help deps apt venv toolchain drill test test-unit fuzz lint bench cluster-up cluster-down clean

help:
	@echo "make drill   run the weekly drill suite on the embedded kwok cluster (installs everything)"
	@echo "make test    run all tests (installs everything)"
	@echo "make lint    ruff, mypy --strict, import-linter contracts"
	@echo "make fuzz    every parser's hypothesis fuzz tests, long (5000 inputs each; make test runs them short)"
	@echo "make bench   benchmarks (cluster lifecycle, fabric, load, drill)"

deps: apt venv toolchain

apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "==> apt-get install$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "==> apt packages present ($(APT_PACKAGES))"; fi

venv: $(STAMP)

$(STAMP): pyproject.toml
	@echo "==> Python venv and packages ($(VENV))"
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --progress-bar off -q -e ".[dev]"
	@touch $(STAMP)

toolchain: venv
	@echo "==> cluster toolchain (Go-built kube-apiserver, controller-manager, scheduler, kubectl, etcd, kwok, kind)"
	$(BIN)/pfdrill toolchain ensure

drill: deps
	$(BIN)/pfdrill drill run drills/weekly.yaml

test: deps
	$(BIN)/pytest

test-unit: venv
	$(BIN)/pytest -m "not cluster and not servers"

fuzz: venv
	PFDRILL_FUZZ=long $(BIN)/pytest -m fuzz --hypothesis-show-statistics tests

lint: venv
	$(BIN)/ruff check src tests features benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: deps
	$(BIN)/python benchmarks/cluster_lifecycle.py
	$(BIN)/python benchmarks/fabric.py
	$(BIN)/python benchmarks/load.py
	$(BIN)/python benchmarks/drill.py

cluster-up: deps
	$(BIN)/pfdrill cluster up

cluster-down: venv
	$(BIN)/pfdrill cluster down

clean:
	-$(BIN)/pfdrill cluster down
	rm -rf reports .pytest_cache .mypy_cache .ruff_cache
