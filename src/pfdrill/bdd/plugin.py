"""pytest plugin entry point for pfdrill's Gherkin step library.

Registered as ``pytest11: pfdrill``; importing it must stay cheap and
side-effect free, because pytest loads it in every session of every project
that has pfdrill installed. The steps and fixtures themselves
(:mod:`pfdrill.bdd.steps`) are registered when pytest configures, so their
imports cost nothing until then.

Options: ``--pfdrill-reports DIR`` writes each scenario's drill reports under
``DIR/<run-id>/``; ``--pfdrill-profile drill|production`` picks the timing
profile; the ini value ``pfdrill_runbook`` names the runbook the
``the runbook section "…" is executed`` steps run.

Without pytest-bdd (pfdrill installed without its ``bdd`` extra) nothing is
registered and the session header says so in one line: other projects'
test sessions must not break because pfdrill is installed.
"""

from __future__ import annotations

import importlib
import os

import pytest

from pfdrill import extras
from pfdrill.errors import MissingExtra


def _missing() -> MissingExtra | None:
    try:
        extras.require("pytest_bdd")
    except MissingExtra as exc:
        return exc
    return None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pfdrill", "pfdrill drills (Gherkin step library)")
    group.addoption("--pfdrill-reports", default=None, metavar="DIR",
                    help="write drill reports of Gherkin scenarios to DIR/<run-id>/")
    group.addoption("--pfdrill-profile", default="drill", choices=("drill", "production"),
                    help="timing profile for Gherkin drills (default: drill)")
    group.addoption("--pfdrill-cluster", default=os.environ.get("PFDRILL_TEST_CLUSTER", "pfdrill-test"),
                    metavar="NAME", help="name of the embedded kwok cluster the drill_cluster "
                    "fixture starts (default $PFDRILL_TEST_CLUSTER or pfdrill-test)")
    group.addoption("--pfdrill-keep-cluster", action="store_true", default=False,
                    help="leave the drill cluster running after the session (faster reruns)")
    parser.addini("pfdrill_runbook", "runbook the Gherkin runbook steps execute",
                  default="runbooks/policy-enforcement-incident-response.md")


def pytest_report_header(config: pytest.Config) -> str | None:
    missing = _missing()
    return f"pfdrill: Gherkin step library not loaded: {missing}" if missing else None


def pytest_configure(config: pytest.Config) -> None:
    if _missing() is not None:
        return
    for module, name in (("pfdrill.bdd.steps", "pfdrill-steps"),
                         ("pfdrill.bdd.cluster", "pfdrill-cluster")):
        plugin = importlib.import_module(module)
        if not config.pluginmanager.is_registered(plugin):
            config.pluginmanager.register(plugin, name)
