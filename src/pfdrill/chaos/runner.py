"""Run experiments through chaostoolkit-lib's API and keep the journal.

The same experiments ``chaos run`` runs, with the same semantics, from
Python (the drill engine) or ``python -m pfdrill.chaos.runner SCENARIO
[--var key=value ...] [--journal PATH]``. Before anything runs, the
experiment must pass chaostoolkit's own validation and pfdrill's rules
(:mod:`pfdrill.chaos.scenario`); a bad file is :class:`InvalidInput` naming it.
Rollbacks always run (``runtime.rollbacks.strategy: always``), also when the
method fails or is interrupted midway.

chaostoolkit-lib installs signal handlers while it runs, which Python only
allows in the main thread; elsewhere (a drill run from a worker thread) the
run goes without them — a signal then reaches the caller instead.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from chaoslib.caching import cache_activities, clear_cache
from chaoslib.exceptions import ChaosException
from chaoslib.experiment import ensure_experiment_is_valid
from chaoslib.run import Runner
from chaoslib.types import Strategy

from pfdrill.chaos import scenario
from pfdrill.errors import InvalidInput
from pfdrill.formats import yamldoc

Journal = dict[str, Any]
STRATEGIES = {
    "default": Strategy.DEFAULT,
    "before-method-only": Strategy.BEFORE_METHOD,
    "after-method-only": Strategy.AFTER_METHOD,
}


class _Runner(Runner):  # type: ignore[misc]  # chaoslib is untyped
    """chaoslib's Runner, usable off the main thread (without its signal handlers there)."""

    def run(self, experiment: Any, settings: Any = None, experiment_vars: Any = None,
            journal: Any = None) -> Any:
        if threading.current_thread() is threading.main_thread():
            return super().run(experiment, settings, experiment_vars=experiment_vars, journal=journal)
        self.configure(experiment, settings, experiment_vars)
        return self._run(self.strategy, self.schedule, experiment, journal, self.config,
                         self.secrets, self.settings, self.event_registry)


@contextlib.contextmanager
def _log_to(path: Path | None) -> Iterator[None]:
    """chaostoolkit's log goes to ``path`` (next to the journal), not to our stderr."""
    if path is None:
        yield
        return
    logger = logging.getLogger("chaostoolkit")
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("[%(asctime)s %(levelname)s] %(message)s"))
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        handler.close()


def validate(experiment: Mapping[str, Any], source: str | Path = "<experiment>",
             where: yamldoc.Document | None = None) -> None:
    """pfdrill's rules, then chaostoolkit's; InvalidInput naming ``source``."""
    scenario.check(experiment, source, where)
    try:
        ensure_experiment_is_valid(copy.deepcopy(dict(experiment)))
    except ChaosException as exc:
        raise InvalidInput(f"not a valid chaostoolkit experiment: {exc}", file=source) from None
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        # chaostoolkit's validator assumes the types it validates; scenario.check catches
        # the ones we know of, this the rest.
        raise InvalidInput("not a valid chaostoolkit experiment: a field has the wrong type "
                           f"({type(exc).__name__}: {exc})", file=source) from None


def run(experiment: Mapping[str, Any], *, source: str | Path = "<experiment>",
        variables: Mapping[str, Any] | None = None, journal_path: Path | None = None,
        hypothesis: str = "default", where: yamldoc.Document | None = None) -> Journal:
    """Validate and run ``experiment``; the journal (also written to ``journal_path``)."""
    validate(experiment, source, where)
    exp = copy.deepcopy(dict(experiment))
    strategy = ((exp.get("runtime") or {}).get("rollbacks") or {}).get("strategy", "always")
    settings = {"runtime": {"rollbacks": {"strategy": strategy},
                            "hypothesis": {"strategy": hypothesis}}}
    log_path = journal_path.with_suffix(".log") if journal_path else None
    if journal_path is not None:
        journal_path.parent.mkdir(parents=True, exist_ok=True)
    with _log_to(log_path):
        cache_activities(exp)
        try:
            with _Runner(STRATEGIES[hypothesis]) as runner:
                journal: Journal = runner.run(exp, settings, experiment_vars=(dict(variables or {}), {}))
        finally:
            clear_cache()
    if journal_path is not None:
        journal_path.write_text(json.dumps(journal, indent=2, default=str) + "\n", encoding="utf-8")
    return journal


def run_file(path: Path, *, variables: Mapping[str, Any] | None = None,
             journal_path: Path | None = None) -> Journal:
    experiment, where = scenario.load(path)
    return run(experiment, source=path, variables=variables, journal_path=journal_path, where=where)


def succeeded(journal: Mapping[str, Any]) -> bool:
    """Completed, not deviated, and the steady state held before the method (when checked)."""
    before = (journal.get("steady_states") or {}).get("before")
    held = not isinstance(before, Mapping) or before.get("steady_state_met") is not False
    return journal.get("status") == "completed" and not journal.get("deviated", False) and held


def main(argv: list[str] | None = None) -> int:
    import argparse

    from pfdrill.errors import PfdrillError
    from pfdrill.faults.params import parse_assignments

    parser = argparse.ArgumentParser(prog="python -m pfdrill.chaos.runner",
                                     description="Run a chaostoolkit experiment through chaostoolkit-lib.")
    parser.add_argument("experiment", type=Path)
    parser.add_argument("--var", action="append", default=[], help="configuration key=value")
    parser.add_argument("--journal", type=Path, default=Path("journal.json"))
    args = parser.parse_args(argv)
    try:
        journal = run_file(args.experiment, variables=parse_assignments(args.var, "--var"),
                           journal_path=args.journal)
    except PfdrillError as exc:
        print(f"pfdrill.chaos.runner: error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"{journal.get('status')}{' (deviated)' if journal.get('deviated') else ''}: "
          f"journal {args.journal}")
    return 0 if succeeded(journal) else 1


if __name__ == "__main__":
    sys.exit(main())
