"""The drill engine's faults, run as chaostoolkit experiments.

:class:`ChaosFault` is a :class:`~pfdrill.faults.fault.InjectableFault` whose
``inject`` and ``rollback`` go through chaostoolkit-lib
(:mod:`pfdrill.chaos.runner`): inject runs the steady-state hypothesis and
the injection (:func:`~pfdrill.chaos.experiment.inject_experiment`), rollback
the rollback, a wait for the fabric and the hypothesis again
(:func:`~pfdrill.chaos.experiment.rollback_experiment`). The drill's own
phases (detection, classification, the runbook) happen in between. Both
journals are kept as files and summarised by :meth:`journal`; ``prove``
reads the fault's own proof directly, since the engine polls it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pfdrill.chaos import experiment, runner, target
from pfdrill.chaos.journal import summarize
from pfdrill.errors import PermanentFaultError
from pfdrill.faults.base import Observation
from pfdrill.faults.context import FaultContext
from pfdrill.faults.fault import InjectableFault
from pfdrill.faults.kind import FaultKind
from pfdrill.model.drill import ParamValue
from pfdrill.model.evidence import ChaosJournal


class ChaosFault:
    def __init__(self, kind: FaultKind, ctx: FaultContext, key: str, journal_dir: Path,
                 variables: Mapping[str, Any] | None = None) -> None:
        self.direct = InjectableFault(kind, ctx, key=key)
        self.kind = kind
        self.journal_dir = journal_dir
        # The activities of these in-process runs act on this very context (same client,
        # same metrics reader), not on one rebuilt from the environment.
        self.variables = {**dict(variables or {}), **target.pin(ctx), "pfdrill_key": key}
        self.journals: list[dict[str, Any]] = []
        self.journal_paths: list[Path] = []

    @property
    def name(self) -> str:
        return self.kind.value

    @property
    def key(self) -> str:
        return self.direct.key

    def _run(self, exp: dict[str, Any], phase: str, hypothesis: str) -> dict[str, Any]:
        path = self.journal_dir / f"{self.key}-{phase}.journal.json"
        journal = runner.run(exp, source=f"<{phase} {self.name}>", variables=self.variables,
                             journal_path=path, hypothesis=hypothesis)
        self.journals.append(journal)
        self.journal_paths.append(path)
        return journal

    def validate(self, params: Mapping[str, ParamValue]) -> None:
        self.direct.validate(params)

    def inject(self, params: Mapping[str, ParamValue]) -> None:
        self.direct.validate(params)  # bad input fails here, before chaostoolkit starts
        journal = self._run(experiment.inject_experiment(self.kind, dict(params), self.key),
                            "inject", "before-method-only")
        if not runner.succeeded(journal) or not self._injected():
            why = summarize([journal])
            failed = [a for a in why.activities if a.status != "succeeded"]
            detail = "; ".join(f"{a.name}: {a.output or a.status}" for a in failed) or why.status
            raise PermanentFaultError(f"fault {self.name} was not injected ({detail}); journal "
                                      f"{self.journal_paths[-1]}")

    def _injected(self) -> bool:
        state = self.direct.state()
        return state is not None and state.active

    def prove(self) -> Observation:
        return self.direct.prove()

    def rollback(self) -> None:
        if not self._injected():
            return  # nothing to undo, and no need to run an experiment to say so
        journal = self._run(experiment.rollback_experiment(self.kind, self.key), "rollback",
                            "after-method-only")
        if self._injected():
            # chaostoolkit could not undo it: do it directly, then report why it had to.
            self.direct.rollback()
            raise PermanentFaultError(f"fault {self.name}: the rollback experiment ended "
                                      f"{journal.get('status')}; rolled back directly")

    def root_cause_terms(self) -> Sequence[str]:
        return self.direct.root_cause_terms()

    def journal(self) -> ChaosJournal | None:
        if not self.journals:
            return None
        return dataclasses.replace(summarize(self.journals),
                                   experiment=f"pfdrill {self.name} ({self.key})")


class ChaosCatalog:
    """The drill engine's ``FaultCatalog``: every fault run through chaostoolkit."""

    def __init__(self, ctx: FaultContext, journal_dir: Path, key_prefix: str = "drill",
                 variables: Mapping[str, Any] | None = None) -> None:
        self.ctx = ctx
        self.journal_dir = journal_dir
        self.key_prefix = key_prefix
        self.variables = dict(variables or {})

    def names(self) -> Sequence[str]:
        return [k.value for k in FaultKind]

    def create(self, name: str) -> ChaosFault:
        kind = FaultKind.parse(name)
        return ChaosFault(kind, self.ctx, f"{self.key_prefix}-{kind.value}", self.journal_dir,
                          self.variables)


def catalog_for(*, kubeconfig: str | Path, context: str, namespace: str, state_dir: Path,
                journal_dir: Path, runtime_dir: str | Path | None = None,
                prometheus_url: str | None = None, watcher_url: str | None = None,
                key_prefix: str = "drill") -> ChaosCatalog:
    """The drill engine's catalog for a running stack (what ``pfdrill drill run`` needs)."""
    values = {"pfdrill_kubeconfig": str(kubeconfig), "pfdrill_context": context,
              "pfdrill_namespace": namespace, "pfdrill_state_dir": str(state_dir),
              "pfdrill_runtime_dir": str(runtime_dir or ""), "pfdrill_prometheus_url": prometheus_url or "",
              "pfdrill_watcher_url": watcher_url or ""}
    return ChaosCatalog(target.context({k: v for k, v in values.items() if v}), journal_dir,
                        key_prefix=key_prefix)
