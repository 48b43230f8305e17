"""Without pytest-bdd, pfdrill's plugin registers nothing and says why in the header."""

from __future__ import annotations

import importlib.machinery
import importlib.util

import pytest

pytest_plugins = ["pytester"]


def test_a_session_goes_on_without_the_step_library(pytester: pytest.Pytester,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> importlib.machinery.ModuleSpec | None:
        return None if name.split(".")[0] == "pytest_bdd" else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)  # as if pip never installed it
    pytester.makepyfile(test_no_bdd_plain="def test_one():\n    assert True\n",
                        test_no_bdd_fixture="def test_two(pfdrill_profile):\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([
        "pfdrill: Gherkin step library not loaded: pytest_bdd is not installed: it comes with "
        "pfdrill's 'bdd' extra (pip install 'pfdrill[bdd]')",
        "*fixture 'pfdrill_profile' not found*"])
