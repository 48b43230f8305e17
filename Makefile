# pfdrill — two commands do all set-up on a fresh machine:
#   make drill   the weekly drill suite on the embedded kwok cluster, ending in a report
#   make test    the whole test suite (unit, integration on a real kwok cluster, Gherkin)
# Every step is idempotent and skips what is already installed.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
APT_PACKAGES := prometheus prometheus-alertmanager procps git psmisc iproute2 curl chromium shellcheck
# What pfdrill runs from those packages: checked instead where there is no apt-get.
APT_COMMANDS := prometheus prometheus-alertmanager promtool amtool pkill git fuser ss curl chromium shellcheck
# The whole tree make and CI install (make constraints regenerates it from the venv).
CONSTRAINTS := deploy/python/constraints.txt
STAMP := $(VENV)/.installed
export PFDRILL_CACHE_DIR ?= $(HOME)/.cache/pfdrill

.PHONY: help deps apt venv toolchain drill test test-unit fuzz lint bench cluster-up cluster-down clean constraints alerts kill-points

help:
	@echo "make drill   run the weekly drill suite on the embedded kwok cluster (installs everything)"
	@echo "make test    run all tests (installs everything)"
	@echo "make lint    ruff, mypy --strict, import-linter contracts"
	@echo "make fuzz    every parser's hypothesis fuzz tests, long (5000 inputs each; make test runs them short)"
	@echo "make bench   benchmarks (cluster lifecycle, fabric, load, drill)"
	@echo "make alerts  regenerate deploy/alerts/{drill,production} from deploy/alerts/source"
	@echo "make constraints  re-pin $(CONSTRAINTS) from the venv"

deps: apt venv toolchain

apt:
	@if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then \
	  missing=""; for c in $(APT_COMMANDS); do command -v $$c >/dev/null 2>&1 || missing="$$missing $$c"; done; \
	  if [ -n "$$missing" ]; then \
	    echo "error: no apt-get here, and$$missing not found: install (Debian names) $(APT_PACKAGES) with this system's package manager" >&2; exit 1; \
	  fi; \
	  echo "==> no apt-get; the commands pfdrill needs are on PATH ($(APT_COMMANDS))"; exit 0; \
	fi; \
	missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "==> apt packages present ($(APT_PACKAGES))"; exit 0; fi; \
	SUDO=""; if [ "$$(id -u)" != 0 ]; then \
	  command -v sudo >/dev/null 2>&1 || { echo "error: not root and no sudo: as root, run apt-get install$$missing" >&2; exit 1; }; \
	  SUDO=sudo; fi; \
	echo "==> apt-get install$$missing"; \
	$$SUDO apt-get update -qq; \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing

venv: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@echo "==> Python venv and packages ($(VENV))"
	@if [ ! -x $(BIN)/python ]; then \
	  ver=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || { \
	    echo "error: no Python at '$(PYTHON)': pfdrill needs Python >= 3.11 (Debian 12: apt-get install python3 python3-venv), or run make PYTHON=/path/to/python3.11" >&2; exit 1; }; \
	  case "$$ver" in 3.1[1-9]|3.[2-9][0-9]|[4-9].*) ;; *) \
	    echo "error: $(PYTHON) is Python $$ver; pfdrill needs Python >= 3.11: install one and run make PYTHON=python3.11" >&2; exit 1;; esac; \
	  $(PYTHON) -m venv $(VENV) || { echo "error: $(PYTHON) -m venv failed: apt-get install python3-venv" >&2; exit 1; }; \
	fi
	$(BIN)/pip install --progress-bar off -q -c $(CONSTRAINTS) -e ".[all,dev]"
	@touch $(STAMP)

# pip list, not pip freeze: a package installed from a file still gets a name==version pin.
constraints: venv
	@{ sed -n '/^#/p' $(CONSTRAINTS); \
	  $(BIN)/pip list --format=freeze --exclude-editable --exclude pip --exclude setuptools --exclude wheel; \
	} > $(CONSTRAINTS).tmp
	@mv $(CONSTRAINTS).tmp $(CONSTRAINTS)
	@echo "==> $(CONSTRAINTS): $$(grep -c '==' $(CONSTRAINTS)) pins"

alerts: venv
	$(BIN)/pfdrill alerts render --out deploy/alerts

toolchain: venv
	@echo "==> cluster toolchain (Go-built kube-apiserver, controller-manager, scheduler, kubectl, etcd, kwok, kind, metrics-server)"
	$(BIN)/pfdrill toolchain ensure

drill: deps
	$(BIN)/pfdrill drill run drills/weekly.yaml

test: deps
	$(BIN)/pytest

test-unit: venv
	$(BIN)/pytest -m "not cluster and not servers"

# All twelve kill points of the safety proof (make test kills at ten of them).
kill-points: deps
	PFDRILL_KILL_POINTS=all $(BIN)/pytest tests/integration/test_kill_points.py

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
	$(BIN)/python benchmarks/dashboard.py

cluster-up: deps
	$(BIN)/pfdrill cluster up

cluster-down: venv
	$(BIN)/pfdrill cluster down

clean:
	-$(BIN)/pfdrill cluster down
	rm -rf reports .pytest_cache .mypy_cache .ruff_cache
